"""The OpenAPI description: served to token callers, documented for people, and true.

Schemathesis generates requests from the schema (valid ones and invalid ones) for every
operation and checks that none is answered 5xx and every answer matches the schema.
"""

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import ApiTokenScope
from accounts.services import api_token_create
from complaints import services
from complaints.models import Complaint
from tests import factories

SCHEMA = "/api/v1/schema/?format=json"


@pytest.mark.django_db
def test_token_callers_get_the_openapi_schema(api, csr):
    response = api(csr).get(SCHEMA)
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/complaints/{id}/transition/" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


@pytest.mark.django_db
def test_the_documentation_page_is_for_signed_in_people_and_loads_nothing_remote(client, csr):
    page = "/api/v1/docs/"
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")
    client.force_login(csr)
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()
    assert 'src="http' not in html and 'href="http' not in html
    # No inline script: the Content-Security-Policy allows scripts from this server only.
    assert html.count("<script") == html.count("<script src=") == 3
    script = client.get(page, {"script": ""})
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["options", "post", "put", "delete"])
def test_the_documentation_page_refuses_other_methods_without_a_server_error(client, csr, method):
    """Found by the black-box probe: OPTIONS answered 500 (the page's only renderer is a
    template, with nothing to show for DRF's metadata)."""
    client.force_login(csr)
    response = getattr(client, method)("/api/v1/docs/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_the_documentation_assets_are_served_from_this_server():
    for asset in (
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
    ):
        assert finders.find(asset), asset


# Schemathesis ---------------------------------------------------------------------------


@pytest.fixture
def api_schema(db, settings, csr, resolver, manager):
    """The live schema, loaded through the WSGI application with a manager's token."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/min"},
    }
    # Something to find: complaints at several stages for the generated ids to land on.
    factories.complaint(csr)
    factories.complaint_at_stage("investigating", csr=csr, resolver=resolver, manager=manager)
    escalated = factories.complaint(csr)
    services.complaint_escalate(escalated, actor=manager, level="team", reason="Help.")
    _, key = api_token_create(user=manager, name="Schema tests", scope=ApiTokenScope.WRITE)
    headers = {"Authorization": f"Token {key}"}
    # A real WSGI handler closes the database connection around each request, which would
    # end the test's transaction; Django's own test client disconnects the same signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application(), headers=headers)
        schema.headers = headers
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_answers_without_5xx_and_as_documented(api_schema):
    """Ten valid and ten invalid requests per operation, each checked against the schema.

    (Driven by hand rather than by schemathesis' pytest plugin, whose per-operation
    reporting does not work with the pytest in use here.)
    """
    failures, answered = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                exercise(api_schema, operation, mode, answered)
            except Unsatisfiable:
                # Nothing to make invalid (an operation without parameters or body).
                assert mode is GenerationMode.NEGATIVE, operation.label
            except Exception as error:  # noqa: BLE001  (every operation is reported at the end)
                failures.append(f"{operation.label} ({mode.value}):\n{error}")
    assert not failures, "\n\n".join(failures)
    assert len(answered) > 100
    assert {200, 201, 400, 404, 409} <= set(answered)


def exercise(api_schema, operation, mode, answered):
    ids = sorted(Complaint.objects.values_list("pk", flat=True))
    category, product = factories.category().pk, factories.product().pk
    positive = mode is GenerationMode.POSITIVE

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        pk = (case.path_parameters or {}).get("id")
        # Most random ids match nothing; send two in three to complaints that exist.
        if isinstance(pk, int) and pk % 3:
            case.path_parameters["id"] = ids[pk % len(ids)]
        # Likewise the category of a new complaint, and its (optional) product.
        if positive and isinstance(case.body, dict):
            if "category" in case.body:
                case.body["category"] = category
            if case.body.get("product") is not None:
                case.body["product"] = product
        response = case.call(headers=api_schema.headers)
        answered.append(response.status_code)
        case.validate_response(
            response,
            checks=[not_a_server_error, response_schema_conformance],
            headers=api_schema.headers,
        )

    call()
