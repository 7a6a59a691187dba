"""The sub-status: what an open case waits for within its stage, derived in one pure function,
kept on the complaint by the services and shown wherever the stage is: queues, the list and
its filter, the CSV export and the API."""

import pytest
from django.test import Client

from complaints import services
from complaints.sub_status import SubStatus, sub_status
from complaints.workflow import Stage
from tests import factories
from tests.api.conftest import token_client
from tests.complaints.test_list_search_export import exported

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("stage", "facts", "expected"),
    [
        (Stage.RESOLVED, {"resolution_status": "awaiting_approval"}, "awaiting_approval"),
        (Stage.RESOLVED, {"resolution_status": "proposed"}, "awaiting_customer"),
        (Stage.RESOLVED, {"resolution_status": "accepted"}, "awaiting_implementation"),
        (
            Stage.RESOLVED,
            {"resolution_status": "accepted", "news": SubStatus.CUSTOMER_ACCEPTED},
            "customer_accepted",
        ),
        (Stage.INVESTIGATING, {"news": SubStatus.CUSTOMER_REPLIED}, "customer_replied"),
        (Stage.INVESTIGATING, {}, ""),
        (Stage.FOLLOW_UP, {}, "awaiting_feedback"),
        (Stage.FOLLOW_UP, {"feedback_given": True}, ""),
        # Closed or waiting only for the manager: nothing within the stage.
        (Stage.DOCUMENTED, {"news": SubStatus.CUSTOMER_REPLIED}, ""),
        (Stage.REVIEWED, {}, ""),
    ],
)
def test_the_sub_status_of_each_situation(stage, facts, expected):
    assert sub_status(stage, **facts) == expected


def test_a_case_carries_its_sub_status_through_its_life(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    assert complaint.sub_status == ""
    services.resolution_propose(complaint, actor=csr, type="apology", description="Sorry")
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.AWAITING_CUSTOMER
    services.resolution_record_customer_response(complaint, actor=csr, accepted=True)
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.AWAITING_IMPLEMENTATION
    services.resolution_implement(complaint, actor=csr, notes="Letter sent")
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.AWAITING_FEEDBACK
    services.feedback_record(complaint, actor=csr, score=5, resolved=True)
    complaint.refresh_from_db()
    assert complaint.sub_status == ""


@pytest.fixture
def waiting(csr, resolver, manager):
    """One case awaiting the customer's answer, one awaiting feedback, one with neither."""
    return {
        "customer": factories.complaint_at_stage(
            "resolved", csr=csr, resolver=resolver, manager=manager, customer_name="Ana"
        ),
        "feedback": factories.complaint_at_stage(
            "follow_up", csr=csr, resolver=resolver, manager=manager, customer_name="Bo"
        ),
        "none": factories.complaint_at_stage(
            "investigating", csr=csr, resolver=resolver, manager=manager, customer_name="Cy"
        ),
    }


def test_the_list_filters_by_sub_status_and_shows_it_beside_the_stage(manager, waiting):
    client = Client()
    client.force_login(manager)

    html = client.get("/complaints/", {"sub_status": "awaiting_customer"}).content.decode()

    assert waiting["customer"].reference in html
    assert waiting["feedback"].reference not in html
    assert waiting["none"].reference not in html
    assert "awaiting the customer" in html
    assert 'id="id_sub_status"' in html


def test_the_export_has_the_sub_status_in_words(manager, waiting):
    client = Client()
    client.force_login(manager)

    _, rows = exported(client, sub_status="awaiting_feedback")

    column = rows[0].index("Waiting for")
    assert [(row[0], row[column]) for row in rows[1:]] == [
        (waiting["feedback"].reference, "awaiting feedback")
    ]


def test_the_api_gives_and_filters_the_sub_status(manager, waiting):
    response = token_client(manager).get("/api/v1/complaints/", {"sub_status": "awaiting_feedback"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["reference"], r["sub_status"], r["sub_status_label"]) for r in results] == [
        (waiting["feedback"].reference, "awaiting_feedback", "awaiting feedback")
    ]
    bad = token_client(manager).get("/api/v1/complaints/", {"sub_status": "asleep"})
    assert bad.status_code == 400


def test_the_timeline_does_not_repeat_sub_status_changes(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "resolved", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_record_customer_response(complaint, actor=None, accepted=True)

    client = Client()
    client.force_login(manager)
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()

    assert "Customer accepted the resolution" in html
    assert "Sub status" not in html
