"""Every endpoint with every role: what each may do, what each may see, and the refusals."""

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints import services
from complaints.models import Attachment, Complaint, Note, Resolution
from complaints.selectors import ComplaintFilterSet
from tests import factories
from tests.api.conftest import PDF, error_fields, error_messages, new_complaint

pytestmark = pytest.mark.django_db

LIST = "/api/v1/complaints/"
ROLES = ("csr", "resolver", "manager")


def url(complaint, action=""):
    return f"/api/v1/complaints/{complaint.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def people(csr, csr2, resolver, manager):
    return {"csr": csr, "csr2": csr2, "resolver": resolver, "manager": manager}


def seen_by(role, people, stage="received"):
    """A complaint at `stage` that this role may see and work on.

    CSRs work the intake queue and what they logged; the resolution team works what was
    escalated to it; managers see everything.
    """
    csr, manager = people["csr"], people["manager"]
    if stage == "received":
        complaint = factories.complaint(csr)
    else:
        complaint = factories.complaint_at_stage(
            stage, csr=csr, resolver=people["resolver"], manager=manager
        )
    if role == "resolver":
        services.complaint_escalate(
            complaint, actor=manager, level="team", reason="Needs the team."
        )
    complaint.refresh_from_db()
    return complaint


def assigned_to_csr(people):
    """Logged by and assigned to the first CSR: the second CSR must not see it."""
    complaint = factories.complaint(people["csr"])
    services.complaint_assign(complaint, actor=people["csr"], assignee=people["csr"])
    return complaint


def calls(complaint):
    pk = complaint.pk
    base = f"/api/v1/complaints/{pk}/"
    return [
        ("get", LIST, None),
        ("post", LIST, new_complaint()),
        ("get", base, None),
        ("post", base + "notes/", {"text": "Hello"}),
        ("post", base + "attachments/", None),
        ("post", base + "transition/", {"to": "investigating"}),
        ("post", base + "acknowledge/", {"method": "phone"}),
        ("post", base + "assign/", {"assignee": None}),
        ("post", base + "escalate/", {"level": "team", "reason": "x"}),
        ("post", base + "resolution/", {"type": "apology", "description": "Sorry."}),
        ("post", base + "withdraw/", {"customer_words": "x", "withdrawn_on": "2026-01-01"}),
        ("post", base + "merge/", {"into": "CMP-2026-000001"}),
        ("post", base + "not-a-complaint/", {"reason": "x"}),
        ("get", "/api/v1/dashboard/", None),
    ]


# Who gets in ---------------------------------------------------------------------------


def test_anonymous_callers_get_401_everywhere(api, people):
    complaint = factories.complaint(people["csr"])
    client = api()
    for method, path, body in [*calls(complaint), ("get", "/api/v1/schema/?format=json", None)]:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == "Token"
        assert error_fields(response) == [None]
        assert error_messages(response) == ["Authentication credentials were not provided."]
    assert Complaint.objects.count() == 1


def test_a_wrong_token_gets_401(api, csr):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get(LIST)
    assert response.status_code == 401
    assert error_messages(response) == ["Invalid token."]


def test_an_inactive_users_token_stops_working(api, csr):
    client = api(csr)
    csr.is_active = False
    csr.save()
    assert client.get(LIST).status_code == 401


def test_a_user_without_a_role_gets_403_everywhere(api, people, outsider):
    complaint = factories.complaint(people["csr"])
    client = api(outsider)
    for method, path, body in calls(complaint):
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)
        assert error_fields(response) == [None]
    assert Complaint.objects.count() == 1
    assert not Note.objects.exists()


# Create ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_logs_a_complaint(api, people, role):
    response = api(people[role]).post(LIST, new_complaint(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    complaint = Complaint.objects.get()
    assert body["id"] == complaint.pk
    assert body["reference"] == complaint.reference
    assert response.headers["Location"] == f"/api/v1/complaints/{complaint.pk}/"
    assert body["stage"] == "received"
    assert body["logged_by"]["username"] == people[role].username
    assert body["customer_phone"] == "+44 7700 900123"
    assert [entry["title"] for entry in body["timeline"]] == ["Received"]
    assert complaint.logged_by == people[role]
    assert complaint.stage_changes.get().note == "Logged via phone"


def test_the_answer_to_a_new_complaint_is_what_reading_it_gives(api, csr):
    """The 201 body is built from the rows the intake wrote, not read back: it says exactly
    what GET says, flags, clocks, acknowledgment and timeline included."""
    client = api(csr)
    body = new_complaint(
        customer_email="priya@example.com",
        product=factories.product().pk,
        vulnerable_reason="Recently bereaved.",
        hardship_reason="Lost her job.",
    )
    created = client.post(LIST, body, format="json")
    assert created.status_code == 201, created.json()
    answer = created.json()
    assert [flag["kind"] for flag in answer["flags"]] == ["vulnerable", "hardship"]
    assert len(answer["clocks"]) == 2
    assert [entry["kind"] for entry in answer["timeline"]] == ["flag", "flag", "stage", "message"]

    assert client.get(created.headers["Location"]).json() == answer


# The API's token; then the complaint's reference, the complaint, its history row, its clocks,
# its stage change, its acknowledgment and the Idempotency-Key with the answer, one INSERT
# each; and the intake's own SAVEPOINT and RELEASE inside the view's transaction. The
# category, the product and the regulatory rules come from the cached catalogue, the answer
# from the rows just written. Inside the test's transaction the view's own adds a SAVEPOINT
# and its RELEASE (in production its BEGIN and COMMIT).
API_INTAKE = 10
SAVEPOINT = 2


def test_logging_a_complaint_costs_ten_queries(api, csr, django_assert_num_queries):
    client = api(csr)
    body = new_complaint(customer_email="priya@example.com", product=factories.product().pk)
    # The token's first use is recorded; the catalogue is read.
    client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="first")
    with django_assert_num_queries(API_INTAKE + SAVEPOINT):
        response = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="second")
    assert response.status_code == 201


def test_a_social_media_complaint_keeps_the_handle_and_the_post_link(api, csr):
    response = api(csr).post(
        LIST,
        new_complaint(
            channel="social_media",
            customer_phone="",
            social_media_handle="@priya_s",
            social_media_post_url="https://social.example/priya_s/status/42",
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    complaint = Complaint.objects.get()
    assert complaint.channel == "social_media"
    assert complaint.interaction_details == (
        "Called the helpline.\n"
        "Social media handle: @priya_s; post: https://social.example/priya_s/status/42"
    )
    assert response.json()["interaction_details"] == complaint.interaction_details


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer_name": ""}, "customer_name"),
        ({"customer_name": "Priya\r\nBcc: x@example.com"}, "customer_name"),
        ({"channel": "pigeon"}, "channel"),
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"date_of_complaint": "2999-01-01"}, "date_of_complaint"),
        ({"date_of_complaint": "15/01/2024"}, "date_of_complaint"),
        ({"category": 999999}, "category"),
        ({"category": "billing"}, "category"),
        ({"description": ""}, "description"),
        ({"complexity": "hard"}, "complexity"),
        ({"channel": "email", "customer_email": ""}, "customer_email"),
        ({"channel": "phone", "customer_phone": ""}, "customer_phone"),
        (
            {"channel": "social_media", "social_media_post_url": "not a url"},
            "social_media_post_url",
        ),
        ({"channel": "social_media", "social_media_handle": "@a\nb"}, "social_media_handle"),
        ({"social_media_handle": "@priya"}, "social_media_handle"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, csr, overrides, field):
    response = api(csr).post(LIST, new_complaint(**overrides), format="json")
    assert response.status_code == 400
    assert field in error_fields(response), response.json()
    assert all(error["message"] for error in response.json()["errors"])
    assert not Complaint.objects.exists()


def test_text_that_is_not_valid_unicode_is_a_400(api, csr):
    # JSON may carry a lone surrogate; PostgreSQL cannot store it.
    body = json.dumps(new_complaint(description="bad \ud800 text"))
    response = api(csr).post(LIST, body, content_type="application/json")
    assert response.status_code == 400
    assert error_fields(response) == ["description"]


def test_a_customer_we_cannot_reach_is_a_400_about_the_whole_request(api, csr):
    body = new_complaint(channel="letter", customer_phone="", customer_email="")
    response = api(csr).post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"field": None, "message": "Give an email address or a phone number for the customer."}
        ]
    }


def test_every_missing_field_is_named(api, csr):
    response = api(csr).post(LIST, {}, format="json")
    assert response.status_code == 400
    assert set(error_fields(response)) == {
        "channel",
        "customer_name",
        "date_of_complaint",
        "category",
        "description",
    }


def test_a_body_that_is_not_json_is_a_400(api, csr):
    response = api(csr).post(LIST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_fields(response) == [None]
    assert error_messages(response)[0].startswith("JSON parse error")


# List -----------------------------------------------------------------------------------


def test_each_role_lists_what_it_may_see(api, people):
    csr, csr2, resolver, manager = (people[k] for k in ("csr", "csr2", "resolver", "manager"))
    unassigned = factories.complaint(csr2, customer_name="Unassigned")
    mine = assigned_to_csr(people)
    escalated = factories.complaint(manager, customer_name="Escalated")
    services.complaint_assign(escalated, actor=manager, assignee=manager)
    services.complaint_escalate(escalated, actor=manager, level="team", reason="Complex case.")

    def listed(user):
        response = api(user).get(LIST)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert listed(csr) == {unassigned.pk, mine.pk}
    assert listed(csr2) == {unassigned.pk}
    assert listed(resolver) == {escalated.pk}
    assert listed(manager) == {unassigned.pk, mine.pk, escalated.pk}


def test_the_list_takes_the_web_lists_filters_and_search(api, people):
    csr, manager = people["csr"], people["manager"]
    phone = factories.complaint(csr, customer_name="Alice Jones")
    email = factories.complaint(csr, channel="email", customer_name="Bob Smith")
    services.complaint_assign(email, actor=csr, assignee=csr)
    services.complaint_escalate(email, actor=manager, level="manager", reason="Angry.")
    client = api(manager)

    def ids(**query):
        response = client.get(LIST, query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(channel="email") == [email.pk]
    assert ids(assignee="none") == [phone.pk]
    assert ids(assignee=str(csr.pk)) == [email.pk]
    assert ids(escalated="manager") == [email.pk]
    assert ids(q=phone.reference) == [phone.pk]
    assert ids(q="smith") == [email.pk]
    assert ids(stage="investigating") == []
    assert ids(stage="received", sort="customer") == [phone.pk, email.pk]
    assert ids(sort="-received") == [email.pk, phone.pk]
    assert ids(received_from="2000-01-01", received_to="2000-01-31") == []
    assert ids(overdue="true") == []
    assert ids(category=factories.category().pk, sort="reference") == [phone.pk, email.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"stage": "closed"}, "stage"),
        ({"channel": "fax"}, "channel"),
        ({"assignee": "someone"}, "assignee"),
        ({"escalated": "yes"}, "escalated"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"received_from": "yesterday"}, "received_from"),
        ({"sort": "random"}, "sort"),
        ({"category": "999999"}, "category"),
        ({"q": "x" * 201}, "q"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "101"}, "page_size"),
        # The filters the API once lacked, and ids and dates out of range.
        ({"queue": "everything"}, "queue"),
        ({"acknowledgment": "soon"}, "acknowledgment"),
        ({"resolved_from": "last week"}, "resolved_from"),
        ({"feedback_from": "9999-12-31"}, "feedback_from"),
        ({"received_to": "0001-01-01"}, "received_to"),
        ({"assignee": "9" * 30}, "assignee"),
        ({"assignee": "1" * 5000}, "assignee"),
        ({"assignee": "0"}, "assignee"),
        ({"category": "9" * 30}, "category"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(api, csr, query, field):
    response = api(csr).get(LIST, query)
    assert response.status_code == 400
    assert error_fields(response) == [field]
    assert all(message.endswith(".") for message in error_messages(response))


def test_the_list_is_paged_without_counting(api, csr):
    made = [factories.complaint(csr, customer_name=f"Customer {n}") for n in range(5)]
    client = api(csr)
    first = client.get(LIST, {"page_size": 2, "sort": "received"}).json()
    assert [row["id"] for row in first["results"]] == [c.pk for c in made[:2]]
    assert first["page"] == 1 and first["previous"] is None
    link = urlsplit(first["next"])
    assert link.path == LIST
    assert parse_qs(link.query) == {"page": ["2"], "page_size": ["2"], "sort": ["received"]}
    last = client.get(LIST, {"page_size": 2, "sort": "received", "page": 3}).json()
    assert [row["id"] for row in last["results"]] == [made[4].pk]
    assert last["next"] is None
    assert parse_qs(urlsplit(last["previous"]).query)["page"] == ["2"]
    assert client.get(LIST, {"page": 9}).json()["results"] == []


# Retrieve -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_retrieves_a_complaint_it_may_see_with_its_timeline(api, people, role):
    complaint = seen_by(role, people, "investigating")
    response = api(people[role]).get(url(complaint))
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == complaint.reference
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert kinds.count("stage") == 3  # received, acknowledged, investigating
    assert "note" in kinds
    assert "propose_resolution" in body["allowed_actions"]
    # The exits have endpoints of their own (withdraw/, merge/, not-a-complaint/).
    assert body["allowed_transitions"] == ["resolved", "withdrawn", "duplicate", "not_a_complaint"]


def test_a_csr_cannot_retrieve_another_csrs_assigned_complaint(api, people):
    complaint = assigned_to_csr(people)
    response = api(people["csr2"]).get(url(complaint))
    assert response.status_code == 404
    assert error_fields(response) == [None]
    assert api(people["csr"]).get(url(complaint)).status_code == 200


def test_the_resolution_team_sees_only_what_reaches_it(api, people):
    complaint = factories.complaint(people["csr"])
    assert api(people["resolver"]).get(url(complaint)).status_code == 404
    services.complaint_escalate(complaint, actor=people["csr"], level="team", reason="Help.")
    assert api(people["resolver"]).get(url(complaint)).status_code == 200


def test_an_unknown_complaint_is_404(api, manager):
    assert api(manager).get("/api/v1/complaints/987654321/").status_code == 404


# Notes and attachments ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_adds_a_note(api, people, role):
    complaint = seen_by(role, people)
    response = api(people[role]).post(
        url(complaint, "notes"), {"text": "  Called back.  "}, format="json"
    )
    assert response.status_code == 201, response.json()
    note = Note.objects.get()
    assert response.json()["id"] == note.pk
    assert response.json()["author"]["username"] == people[role].username
    assert note.text == "Called back." and note.author == people[role]


def test_a_note_needs_text_and_a_visible_complaint(api, people):
    complaint = assigned_to_csr(people)
    response = api(people["csr"]).post(url(complaint, "notes"), {"text": "   "}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["text"]
    response = api(people["csr2"]).post(url(complaint, "notes"), {"text": "Hi"}, format="json")
    assert response.status_code == 404
    assert not Note.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_attaches_a_document(api, people, role):
    complaint = seen_by(role, people)
    upload = SimpleUploadedFile("statement.pdf", PDF, content_type="application/pdf")
    response = api(people[role]).post(
        url(complaint, "attachments"), {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get()
    assert response.json()["name"] == "statement.pdf"
    assert response.json()["content_type"] == "application/pdf"
    assert attachment.uploaded_by == people[role]
    assert services.attachment_path(attachment).read_bytes() == PDF


def test_a_rejected_upload_is_a_400_on_the_file_with_the_reason(api, csr):
    complaint = factories.complaint(csr)
    client = api(csr)
    page = SimpleUploadedFile("invoice.pdf", b"<html><script>alert(1)</script></html>")
    response = client.post(url(complaint, "attachments"), {"file": page}, format="multipart")
    assert response.status_code == 400
    assert error_fields(response) == ["file"]
    assert "web page or script content" in error_messages(response)[0]
    response = client.post(url(complaint, "attachments"), {}, format="multipart")
    assert response.status_code == 400
    assert error_fields(response) == ["file"]
    response = client.post(url(complaint, "attachments"), {"file": "x"}, format="json")
    assert response.status_code == 415
    assert not Attachment.objects.exists()


# Acknowledge and transitions ------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_acknowledges_then_starts_the_investigation(api, people, role):
    complaint = seen_by(role, people)
    client = api(people[role])
    response = client.post(
        url(complaint, "acknowledge"),
        {"method": "phone", "expected_stage": "received"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "acknowledged"
    assert response.json()["acknowledgment_method"] == "phone"
    response = client.post(
        url(complaint, "transition"),
        {"to": "investigating", "note": "Looking into it.", "expected_stage": "acknowledged"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "investigating"
    change = complaint.stage_changes.order_by("-id").first()
    assert (change.to_stage, change.actor, change.note) == (
        "investigating",
        people[role],
        "Looking into it.",
    )


def test_acknowledging_twice_is_refused_with_the_sentence(api, csr):
    complaint = factories.complaint(csr)
    client = api(csr)
    body = {"method": "email"}
    assert client.post(url(complaint, "acknowledge"), body, format="json").status_code == 200
    response = client.post(url(complaint, "acknowledge"), {"method": "email"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "errors": [{"field": None, "message": "This complaint has already been acknowledged."}]
    }


def test_an_unknown_acknowledgment_method_is_a_400(api, csr):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "acknowledge"), {"method": "pigeon"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["method"]


def test_a_move_the_role_may_not_make_is_409_with_the_sentence(api, people):
    complaint = factories.complaint_at_stage(
        "documented", csr=people["csr"], resolver=people["resolver"], manager=people["manager"]
    )
    response = api(people["csr"]).post(
        url(complaint, "transition"), {"to": "reviewed"}, format="json"
    )
    assert response.status_code == 409
    assert error_messages(response) == ["Cannot move to Reviewed: only a manager may do that."]
    complaint.refresh_from_db()
    assert complaint.stage == "documented"


def test_a_move_whose_gate_is_not_met_is_409_with_what_is_missing(api, people):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=people["csr"], resolver=people["resolver"], manager=people["manager"]
    )
    response = api(people["csr"]).post(
        url(complaint, "transition"), {"to": "documented"}, format="json"
    )
    assert response.status_code == 409
    assert error_messages(response) == [
        "Cannot move to Documented: root cause, the outcome and customer feedback are missing."
    ]


def test_a_move_that_is_not_a_step_is_409(api, csr):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "transition"), {"to": "reviewed"}, format="json")
    assert response.status_code == 409
    assert "not a step of the complaints procedure" in error_messages(response)[0]


def test_a_move_made_meanwhile_by_someone_else_is_409(api, people):
    complaint = factories.complaint_at_stage(
        "acknowledged", csr=people["csr"], resolver=people["resolver"], manager=people["manager"]
    )
    services.complaint_transition(complaint, "investigating", actor=people["manager"])
    response = api(people["csr"]).post(
        url(complaint, "transition"),
        {"to": "investigating", "expected_stage": "acknowledged"},
        format="json",
    )
    assert response.status_code == 409
    assert error_messages(response)[0].startswith(
        "This complaint was moved to Investigating by Manager"
    )


def test_an_unknown_stage_is_a_400(api, csr):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "transition"), {"to": "closed"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["to"]


# Assign, escalate, propose a resolution -------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_takes_a_complaint_it_may_work_on(api, people, role):
    complaint = seen_by(role, people)
    user = people[role]
    response = api(user).post(url(complaint, "assign"), {"assignee": user.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["id"] == user.pk


def test_only_managers_reassign_a_complaint_someone_has(api, people):
    complaint = assigned_to_csr(people)
    body = {"assignee": people["csr2"].pk}
    response = api(people["csr"]).post(url(complaint, "assign"), body, format="json")
    assert response.status_code == 409
    assert error_messages(response) == ["You are not allowed to do that on this complaint."]
    response = api(people["manager"]).post(url(complaint, "assign"), body, format="json")
    assert response.status_code == 200
    assert response.json()["assignee"]["username"] == "csr2"


def test_assigning_to_an_unknown_user_is_a_400(api, csr):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "assign"), {"assignee": 987654}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["assignee"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_escalates(api, people, role):
    complaint = seen_by(role, people)
    response = api(people[role]).post(
        url(complaint, "escalate"),
        {"level": "manager", "reason": "Threatens to go to the press."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["escalation_level"] == "manager"
    assert response.json()["escalation_reason"] == "Threatens to go to the press."


def test_an_escalation_needs_a_reason_and_a_level(api, csr):
    complaint = factories.complaint(csr)
    response = api(csr).post(url(complaint, "escalate"), {"level": "board"}, format="json")
    assert response.status_code == 400
    assert set(error_fields(response)) == {"level", "reason"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_proposes_a_resolution(api, people, role):
    complaint = seen_by(role, people, "investigating")
    response = api(people[role]).post(
        url(complaint, "resolution"),
        {
            "type": "refund",
            "amount": "25.00",
            "description": "We refund the second charge.",
            "expected_stage": "investigating",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["stage"] == "resolved"
    resolution = Resolution.objects.get()
    assert (resolution.type, str(resolution.amount), resolution.proposed_by) == (
        "refund",
        "25.00",
        people[role],
    )


def test_a_refund_without_an_amount_is_refused_with_the_sentence(api, people):
    complaint = seen_by("csr", people, "investigating")
    response = api(people["csr"]).post(
        url(complaint, "resolution"),
        {"type": "refund", "description": "We refund it."},
        format="json",
    )
    assert response.status_code == 409
    assert error_messages(response) == ["A refund or compensation needs an amount."]


def test_a_negative_amount_is_a_400(api, people):
    complaint = seen_by("csr", people, "investigating")
    response = api(people["csr"]).post(
        url(complaint, "resolution"),
        {"type": "refund", "amount": "-1", "description": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert error_fields(response) == ["amount"]


def test_escalated_cases_are_resolved_by_those_they_were_escalated_to(api, people):
    complaint = seen_by("resolver", people, "investigating")
    body = {"type": "apology", "description": "Sorry."}
    response = api(people["csr"]).post(url(complaint, "resolution"), body, format="json")
    assert response.status_code == 409
    assert error_messages(response) == ["You are not allowed to do that on this complaint."]
    response = api(people["resolver"]).post(url(complaint, "resolution"), body, format="json")
    assert response.status_code == 200


# Dashboard ------------------------------------------------------------------------------


def test_managers_read_the_dashboard_figures(api, people):
    factories.complaint(people["csr"])
    response = api(people["manager"]).get("/api/v1/dashboard/")
    assert response.status_code == 200
    body = response.json()
    assert body["open_total"] == 1
    assert {"stage": "received", "label": "Received", "count": 1} in body["open_by_stage"]
    assert len(body["weekly_volume"]) == 12
    assert body["by_category"] == [
        {"category_id": factories.category().pk, "category": "Billing error", "count": 1}
    ]
    assert body["satisfaction"] == {"average_score": None, "answers": 0, "resolved": 0}


@pytest.mark.parametrize("role", ["csr", "resolver"])
def test_only_managers_read_the_dashboard(api, people, role):
    response = api(people[role]).get("/api/v1/dashboard/")
    assert response.status_code == 403
    assert error_messages(response) == ["Only managers may read the reports."]


# One filter set for the page, its export and the API -------------------------------------

PAGE_REFERENCE = re.compile(r'<a href="/complaints/\d+/">(CMP-\d{4}-\d{6})</a>')


def test_the_api_filters_exactly_as_the_list_page_and_its_export(api, client, people):
    csr, manager = people["csr"], people["manager"]
    received = factories.complaint(csr, customer_name="Alice Jones")
    services.complaint_assign(received, actor=csr, assignee=csr)
    escalated = factories.complaint(csr, channel="email", customer_name="Bob Smith")
    services.complaint_escalate(escalated, actor=manager, level="manager", reason="Angry.")
    acknowledged = factories.complaint_at_stage(
        "acknowledged", csr=csr, resolver=people["resolver"], manager=manager
    )
    documented = factories.complaint_at_stage(
        "documented", csr=csr, resolver=people["resolver"], manager=manager
    )
    today = timezone.localdate().isoformat()
    queries = [
        {},
        {"queue": "escalations"},
        {"queue": "escalations", "stage": "documented"},
        {"acknowledgment": "done"},
        {"acknowledgment": "due", "stage": "all"},
        {"resolved_from": today, "stage": "all"},
        {"feedback_from": today, "stage": "all"},
        {"assignee": "not_me"},
        {"assignee": "me"},
        {"assignee": str(csr.pk)},
        {"stage": "all", "sort": "customer"},
        {"q": documented.reference},
        {"q": "smith", "escalated": "manager", "channel": "email"},
        {"overdue": "true"},
        {"received_from": today, "received_to": today, "sort": "-received"},
        {"category": factories.category().pk, "stage": "all", "sort": "reference"},
    ]
    client.force_login(manager)
    seen = set()
    for query in queries:
        response = api(manager).get(LIST, query)
        assert response.status_code == 200, (query, response.json())
        from_api = [row["reference"] for row in response.json()["results"]]
        page = client.get("/complaints/", query)
        assert PAGE_REFERENCE.findall(page.content.decode()) == from_api, query
        export = client.get("/complaints/export.csv", query)
        rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode()[1:])))
        assert [row[0] for row in rows[1:]] == from_api, query
        seen.update(from_api)
    assert seen == {c.reference for c in (received, escalated, acknowledged, documented)}


def test_the_schema_documents_every_filter_of_the_list(api, csr):
    schema = api(csr).get("/api/v1/schema/?format=json").json()
    parameters = schema["paths"][LIST]["get"]["parameters"]
    documented = {p["name"] for p in parameters if p["in"] == "query"}
    assert set(ComplaintFilterSet.base_filters) | {"page", "page_size"} == documented


@pytest.mark.parametrize(
    "action",
    ["notes", "attachments", "transition", "acknowledge", "assign", "escalate", "resolution"],
)
def test_options_on_an_action_describes_it_instead_of_a_500(api, csr, action):
    complaint = factories.complaint(csr)
    response = api(csr).options(url(complaint, action))
    assert response.status_code == 200
    assert "POST" in response.json()["actions"]
