"""Each token has its own request budget; past it the API answers 429 and when to retry."""

import pytest

from tests.api.conftest import error_fields, error_messages

pytestmark = pytest.mark.django_db

LIST = "/api/v1/complaints/"


@pytest.fixture
def tiny_rate(settings):
    # The _own_cache fixture (conftest) has already given this test an empty cache.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min"},
    }


def test_a_token_past_its_rate_gets_429_with_retry_after(api, csr, manager, tiny_rate):
    client = api(csr)
    assert [client.get(LIST).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(LIST)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert error_fields(response) == [None]
    assert error_messages(response)[0].startswith("Request was throttled.")
    # Writes count too, and another token has its own budget.
    assert client.post(LIST, {}, format="json").status_code == 429
    assert api(manager).get(LIST).status_code == 200
