"""The exits through the API: the same services as the page, the same sentences as 409s."""

import pytest
from django.utils import timezone

from complaints.models import MessageKind, OutboundMessage
from tests import factories
from tests.api.conftest import error_fields, error_messages

pytestmark = pytest.mark.django_db


def url(complaint, action):
    return f"/api/v1/complaints/{complaint.pk}/{action}/"


def test_a_withdrawal_answers_the_closed_complaint(api, csr):
    complaint = factories.complaint(csr)
    today = timezone.localdate().isoformat()
    response = api(csr).post(
        url(complaint, "withdraw"),
        {"customer_words": "Sorted, thanks", "withdrawn_on": today, "expected_stage": "received"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["stage"], body["stage_label"]) == ("withdrawn", "Withdrawn")
    assert (body["withdrawn_on"], body["exit_reason"]) == (today, "Sorted, thanks")
    assert body["closed_at"] is not None
    assert body["allowed_transitions"] == []
    assert "exit" not in body["allowed_actions"]
    assert body["timeline"][-1]["kind"] in {"exit", "message"}
    assert any(entry["title"] == "Withdrawn by the customer" for entry in body["timeline"])


def test_a_withdrawal_without_a_date_is_a_400_naming_it(api, csr):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "withdraw"), {"customer_words": "x"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["withdrawn_on"]


def test_a_merge_answers_the_duplicate_with_its_pointer_and_tells_the_customer_once(api, csr):
    survivor, duplicate = factories.complaint(csr), factories.complaint(csr)
    client = api(csr)
    response = client.post(url(duplicate, "merge"), {"into": survivor.reference}, format="json")
    assert response.status_code == 200
    assert response.json()["stage_label"] == "Duplicate"
    assert response.json()["duplicate_of"] == survivor.reference

    again = client.post(url(duplicate, "merge"), {"into": survivor.reference}, format="json")
    assert again.status_code == 409
    assert error_messages(again) == [
        f"{duplicate.reference} is already merged into {survivor.reference}."
    ]
    assert OutboundMessage.objects.filter(kind=MessageKind.MERGE_NOTICE).count() == 1


def test_a_merge_into_an_unseen_complaint_is_409_without_a_hint(api, csr, csr2):
    theirs = factories.complaint(csr2)
    factories.complaint(csr2)
    from complaints import services

    services.complaint_assign(theirs, actor=csr2, assignee=csr2)
    mine = factories.complaint(csr)
    response = api(csr).post(url(mine, "merge"), {"into": theirs.reference}, format="json")
    assert response.status_code == 409
    assert error_messages(response) == [
        f"There is no complaint {theirs.reference} that you may see."
    ]


def test_not_a_complaint_needs_a_reason_and_a_stage_before_resolution(api, csr, resolver, manager):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "not-a-complaint"), {"reason": ""}, format="json")
    assert response.status_code == 400
    resolved = factories.complaint_at_stage("resolved", csr=csr, resolver=resolver, manager=manager)
    response = api(manager).post(url(resolved, "not-a-complaint"), {"reason": "x"}, format="json")
    assert response.status_code == 409
    response = api(csr).post(
        url(complaint, "not-a-complaint"), {"reason": "An enquiry"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "not_a_complaint"
