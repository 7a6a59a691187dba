"""A client that retries a create with the same Idempotency-Key gets one complaint, not two."""

import pytest

from complaints.models import Category, Complaint, IdempotencyKey
from tests import factories
from tests.api.conftest import error_fields, error_messages, new_complaint
from tests.threads import run_together

LIST = "/api/v1/complaints/"
KEY = "7d1c0b8e-4a43-4f57-9d5e-1f0a2b3c4d5e"


def post(client, body, key=KEY):
    return client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_same_complaint(api, csr):
    client = api(csr)
    body = new_complaint()
    first = post(client, body)
    again = post(client, dict(reversed(list(body.items()))))  # same body, other key order
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    complaint = Complaint.objects.get()
    assert first.json()["id"] == complaint.pk
    record = IdempotencyKey.objects.get()
    assert (record.user, record.key, record.complaint) == (csr, KEY, complaint)


@pytest.mark.django_db
def test_a_retry_gets_the_first_answer_even_if_the_complaint_moved_since(api, csr):
    client = api(csr)
    first = post(client, new_complaint())
    complaint = Complaint.objects.get()
    client.post(f"{LIST}{complaint.pk}/acknowledge/", {"method": "phone"}, format="json")
    again = post(client, new_complaint())
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["stage"] == "received"


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_409(api, csr):
    client = api(csr)
    assert post(client, new_complaint()).status_code == 201
    response = post(client, new_complaint(customer_name="Someone Else"))
    assert response.status_code == 409
    assert error_fields(response) == ["Idempotency-Key"]
    assert "different request body" in error_messages(response)[0]
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_their_caller(api, csr, csr2):
    assert post(api(csr), new_complaint()).status_code == 201
    assert post(api(csr2), new_complaint()).status_code == 201
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_without_a_key_each_post_is_a_new_complaint(api, csr):
    client = api(csr)
    assert client.post(LIST, new_complaint(), format="json").status_code == 201
    assert client.post(LIST, new_complaint(), format="json").status_code == 201
    assert Complaint.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_refused_create_keeps_no_key(api, csr):
    client = api(csr)
    assert post(client, new_complaint(description="")).status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(client, new_complaint()).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400_naming_the_header(api, csr, key):
    client = api(csr)
    response = client.post(
        LIST, new_complaint(), format="json", HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1")
    )
    assert response.status_code == 400
    assert error_fields(response) == ["Idempotency-Key"]
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_retry_is_stopped_by_the_key_and_leaves_nothing(api, csr):
    """The key is not looked up first (a query for every intake): the retry's own insert of
    it fails on the unique constraint, its rows roll back, and the first answer is replayed.
    Its reference is given back with them: the next complaint takes the next number."""
    client = api(csr)
    first = post(client, new_complaint())
    again = post(client, new_complaint())
    after = client.post(LIST, new_complaint(), format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Complaint.objects.count() == 2
    number = int(first.json()["reference"].rsplit("-", 1)[1])
    assert after.json()["reference"].endswith(f"-{number + 1:06d}")


@pytest.mark.django_db
def test_a_retry_is_answered_even_if_its_category_was_retired_since(api, csr):
    client = api(csr)
    body = new_complaint()
    first = post(client, body)
    Category.objects.filter(pk=body["category"]).update(active=False)
    factories.category("Another")  # the catalogue is read again, without the retired one

    again = post(client, body)

    assert again.status_code == 200
    assert again.json() == first.json()


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_make_one_complaint(api, csr):
    """Two retries racing on their own connections: the unique key lets one through."""
    body = new_complaint()
    clients = [api(csr), api(csr)]
    responses = run_together(lambda: post(clients[0], body), lambda: post(clients[1], body))
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json() == responses[1].json()
    assert Complaint.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
