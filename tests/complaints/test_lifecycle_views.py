"""A complaint's whole life driven through the web views by the three roles, and the refusals
a person sees when the rules or the permissions say no."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import (
    Attachment,
    Complaint,
    Consultation,
    Feedback,
    Note,
    Resolution,
    ResolutionStatus,
    Review,
    StageChange,
)
from complaints.workflow import Stage
from tests import factories

pytestmark = pytest.mark.django_db

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def messages_of(response):
    """The messages shown on the page the user ends up on (posts follow their redirect)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def action_url(complaint, action):
    return reverse("complaints:action", args=[complaint.pk, action])


def detail_url(complaint):
    return reverse("complaints:detail", args=[complaint.pk])


def post_action(client, complaint, action, data=None):
    return client.post(action_url(complaint, action), data or {}, follow=True)


def assert_done(response, complaint, message, stage):
    """The view redirected back to the complaint, which shows a success message, at `stage`."""
    assert response.redirect_chain == [(detail_url(complaint), 302)], messages_of(response)
    assert response.status_code == 200
    assert messages_of(response) == [message]
    assert message.replace("'", "&#x27;") in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.stage == stage
    return complaint


def intake_data(**overrides):
    data = {
        "channel": "phone",
        "customer_name": "Priya Shah",
        "customer_email": "",
        "customer_phone": "07700 900123",
        "date_of_complaint": timezone.localdate().isoformat(),
        "category": factories.category().pk,
        "product": factories.product().pk,
        "transaction_reference": "TX-4471",
        "complexity": "standard",
        "description": "I was charged twice for one purchase.",
        "interaction_details": "Phoned the helpline on Monday morning.",
    }
    data.update(overrides)
    return data


def edit_data(complaint, **overrides):
    """Every field of the edit form, as the browser posts it back."""
    data = {
        "customer_name": complaint.customer_name,
        "customer_email": complaint.customer_email,
        "customer_phone": complaint.customer_phone,
        "date_of_complaint": complaint.date_of_complaint.isoformat(),
        "category": complaint.category_id,
        "product": complaint.product_id or "",
        "transaction_reference": complaint.transaction_reference,
        "complexity": complaint.complexity,
        "root_cause": complaint.root_cause_id or "",
        "description": complaint.description,
        "interaction_details": complaint.interaction_details,
        "follow_up_actions": complaint.follow_up_actions,
    }
    data.update(overrides)
    return data


# The full lifecycle ---------------------------------------------------------------------


def test_full_lifecycle_through_the_views_by_csr_resolver_and_manager(
    client, csr, resolver, manager
):
    cause = factories.root_cause("Duplicate card authorisation")

    # The CSR logs a phone complaint with a PDF attached.
    client.force_login(csr)
    response = client.post(
        reverse("complaints:create"),
        {
            **intake_data(),
            "attachments": SimpleUploadedFile("receipt.pdf", PDF, "application/pdf"),
        },
        follow=True,
    )
    complaint = Complaint.objects.get()
    assert_done(response, complaint, f"Complaint {complaint.reference} logged.", Stage.RECEIVED)
    assert complaint.reference == f"CMP-{timezone.localdate().year}-000001"
    assert (complaint.channel, complaint.logged_by, complaint.assignee) == ("phone", csr, None)
    attachment = complaint.attachments.get()
    assert (attachment.original_name, attachment.content_type) == ("receipt.pdf", "application/pdf")
    assert services.attachment_path(attachment).read_bytes() == PDF
    history_counts = [complaint.history.count()]

    response = post_action(client, complaint, "take")
    assert_done(response, complaint, "You took this complaint.", Stage.RECEIVED)
    assert complaint.assignee == csr

    response = post_action(
        client,
        complaint,
        "acknowledge",
        {"expected_stage": "received", "method": "phone", "note": ""},
    )
    assert_done(response, complaint, "Acknowledgment recorded.", Stage.ACKNOWLEDGED)
    assert complaint.acknowledgment_method == "phone"
    assert complaint.acknowledged_at is not None
    history_counts.append(complaint.history.count())

    response = post_action(
        client,
        complaint,
        "escalate",
        {"level": "team", "reason": "Needs the card-payments specialists."},
    )
    assert_done(response, complaint, "Complaint escalated.", Stage.ACKNOWLEDGED)
    assert (complaint.escalation_level, complaint.escalated_by) == ("team", csr)
    assert complaint.escalation_reason == "Needs the card-payments specialists."
    history_counts.append(complaint.history.count())

    # The resolution team takes over and investigates.
    client.force_login(resolver)
    response = post_action(client, complaint, "take")
    assert_done(response, complaint, "You took this complaint.", Stage.ACKNOWLEDGED)
    assert complaint.assignee == resolver

    response = post_action(
        client,
        complaint,
        "transition",
        {"expected_stage": "acknowledged", "to": "investigating", "note": ""},
    )
    assert_done(response, complaint, "Stage changed.", Stage.INVESTIGATING)
    assert complaint.investigation_started_at is not None
    history_counts.append(complaint.history.count())

    response = post_action(
        client,
        complaint,
        "consult",
        {
            "department": "Payments team",
            "consultee": "",
            "question": "Did the card network send the authorisation twice?",
        },
    )
    assert_done(response, complaint, "Consultation sent.", Stage.INVESTIGATING)
    consultation = complaint.consultations.get()
    assert (consultation.department, consultation.asked_by) == ("Payments team", resolver)

    response = post_action(
        client, complaint, "note", {"text": "Statement shows two identical charges of 750.00."}
    )
    assert_done(response, complaint, "Note added.", Stage.INVESTIGATING)
    assert complaint.notes.get().author == resolver

    response = client.post(
        reverse("complaints:edit", args=[complaint.pk]),
        edit_data(complaint, root_cause=cause.pk),
        follow=True,
    )
    assert_done(response, complaint, "Changes saved.", Stage.INVESTIGATING)
    assert complaint.root_cause == cause
    history_counts.append(complaint.history.count())

    response = post_action(
        client,
        complaint,
        "propose",
        {
            "expected_stage": "investigating",
            "type": "refund",
            "amount": "750.00",
            "description": "We will refund the duplicate charge of 750.00.",
            "customer_action": "",
        },
    )
    assert_done(response, complaint, "Resolution proposed.", Stage.RESOLVED)
    resolution = complaint.resolutions.get()
    assert resolution.status == ResolutionStatus.AWAITING_APPROVAL
    assert (resolution.amount, resolution.approval_required) == (Decimal("750.00"), True)
    history_counts.append(complaint.history.count())

    # The refund is over the threshold: a manager approves it.
    client.force_login(manager)
    response = post_action(client, complaint, "approve", {"decision": "approve", "note": "Fine."})
    assert_done(response, complaint, "Decision recorded.", Stage.RESOLVED)
    resolution.refresh_from_db()
    assert (resolution.status, resolution.approved_by) == (ResolutionStatus.PROPOSED, manager)
    assert resolution.approved_at is not None

    # The CSR tells the customer, records the acceptance and carries it out.
    client.force_login(csr)
    response = post_action(
        client, complaint, "customer_response", {"decision": "accept", "comment": "Thanks."}
    )
    assert_done(response, complaint, "Customer's answer recorded.", Stage.RESOLVED)
    resolution.refresh_from_db()
    assert resolution.status == ResolutionStatus.ACCEPTED

    response = post_action(client, complaint, "implement", {"notes": "Refund of 750.00 issued."})
    assert_done(
        response,
        complaint,
        "Implementation recorded; the complaint is in follow-up.",
        Stage.FOLLOW_UP,
    )
    resolution.refresh_from_db()
    assert (resolution.status, resolution.implemented_by) == (ResolutionStatus.IMPLEMENTED, csr)
    history_counts.append(complaint.history.count())

    response = post_action(
        client, complaint, "feedback", {"score": "5", "resolved": "yes", "comment": "Quick."}
    )
    assert_done(response, complaint, "Feedback recorded.", Stage.FOLLOW_UP)
    feedback = complaint.feedback.get()
    assert (feedback.score, feedback.resolved, feedback.recorded_by) == (5, True, csr)

    response = post_action(client, complaint, "outcome", {"outcome": "partly_upheld"})
    assert_done(response, complaint, "Outcome recorded.", Stage.FOLLOW_UP)

    response = post_action(
        client,
        complaint,
        "transition",
        {"expected_stage": "follow_up", "to": "documented", "note": ""},
    )
    assert_done(response, complaint, "Stage changed.", Stage.DOCUMENTED)
    history_counts.append(complaint.history.count())

    # The manager reviews and signs off.
    client.force_login(manager)
    response = post_action(
        client,
        complaint,
        "review",
        {"quality_notes": "Handled well and on time.", "lessons": "", "improvement_actions": ""},
    )
    assert_done(response, complaint, "Case reviewed and signed off.", Stage.REVIEWED)
    history_counts.append(complaint.history.count())

    # The record at the end.
    assert complaint.closed_at is not None
    assert complaint.reviewed_at == complaint.closed_at
    assert complaint.review.reviewer == manager
    moves = [
        (c.from_stage, c.to_stage, c.actor)
        for c in StageChange.objects.filter(complaint=complaint).order_by("at", "id")
    ]
    assert moves == [
        ("", "received", csr),
        ("received", "acknowledged", csr),
        ("acknowledged", "investigating", resolver),
        ("investigating", "resolved", resolver),
        ("resolved", "follow_up", csr),
        ("follow_up", "documented", csr),
        ("documented", "reviewed", manager),
    ]
    # Every change of the record left a history row, attributed to whoever made it.
    assert history_counts == sorted(set(history_counts)), history_counts
    records = list(complaint.history.order_by("history_date", "history_id"))
    stages_in_history = [r.stage for r in records]
    stages_in_history = [
        stage
        for index, stage in enumerate(stages_in_history)
        if index == 0 or stage != stages_in_history[index - 1]
    ]
    assert stages_in_history == [
        "received",
        "acknowledged",
        "investigating",
        "resolved",
        "follow_up",
        "documented",
        "reviewed",
    ]
    for record in records:
        assert record.history_user in (csr, resolver, manager)
    reasons = {r.history_change_reason for r in records}
    assert {"Logged", "Assigned", "Escalated", "Record updated", "Resolution proposed"} <= reasons
    root_cause_record = next(r for r in records if r.history_change_reason == "Record updated")
    assert (root_cause_record.root_cause_id, root_cause_record.history_user) == (cause.pk, resolver)
    resolution_history = list(Resolution.history.filter(id=resolution.pk).order_by("history_id"))
    assert [r.status for r in resolution_history] == [
        ResolutionStatus.AWAITING_APPROVAL,
        ResolutionStatus.PROPOSED,
        ResolutionStatus.ACCEPTED,
        ResolutionStatus.IMPLEMENTED,
    ]
    for model in (Note, Consultation, Feedback, Review, Attachment):
        assert model.history.filter(complaint_id=complaint.pk).count() == 1, model

    # The timeline on the detail page tells the whole story, oldest first.
    response = client.get(detail_url(complaint))
    assert response.status_code == 200
    page = response.content.decode()
    events = [
        "Attached receipt.pdf",
        "Acknowledged by phone call",
        "Investigating (from Acknowledged)",
        "Consulted Payments team",
        "Statement shows two identical charges of 750.00.",
        "Resolution proposed: Refund GBP 750.00",
        "moved to Resolved",
        "Resolution approved",
        "Customer accepted the resolution",
        "Resolution implemented",
        "moved to Follow-up",
        "Feedback: 5/5, resolved",
        "Documented (from Follow-up)",
        "Reviewed (from Documented)",
    ]
    for event in events:
        assert event in page, event
    assert "Did the card network send the authorisation twice?" in page
    assert "Logged via phone" in page
    timeline = page[page.index('id="timeline-title"') :]
    positions = [timeline.index(event) for event in events]
    assert positions == sorted(positions), list(zip(events, positions, strict=True))


# Refusals -------------------------------------------------------------------------------


def at_stage(stage, csr, resolver, manager, **overrides):
    return factories.complaint_at_stage(
        stage, csr=csr, resolver=resolver, manager=manager, **overrides
    )


def test_gate_refusal_through_the_view_names_what_is_missing_and_changes_nothing(
    client, csr, resolver, manager
):
    complaint = at_stage("follow_up", csr, resolver, manager)
    changes, history = complaint.stage_changes.count(), complaint.history.count()
    client.force_login(csr)

    response = post_action(
        client,
        complaint,
        "transition",
        {"expected_stage": "follow_up", "to": "documented", "note": ""},
    )

    assert response.redirect_chain == [(detail_url(complaint), 302)]
    [message] = messages_of(response)
    assert message.startswith("Cannot move to Documented:")
    assert "root cause" in message
    assert "customer feedback" in message
    assert message == (
        "Cannot move to Documented: root cause, the outcome and customer feedback are missing."
    )
    complaint.refresh_from_db()
    assert complaint.stage == Stage.FOLLOW_UP
    assert complaint.documented_at is None
    assert complaint.stage_changes.count() == changes
    assert complaint.history.count() == history
    # The refusal is shown to the user on the page the redirect leads to.
    assert message in response.content.decode()


def test_stale_expected_stage_is_refused_clearly_and_changes_nothing(
    client, csr, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    changes, history = complaint.stage_changes.count(), complaint.history.count()
    client.force_login(csr)

    # The page was loaded while the complaint was still acknowledged.
    response = post_action(
        client,
        complaint,
        "transition",
        {"expected_stage": "acknowledged", "to": "investigating", "note": ""},
    )
    [message] = messages_of(response)
    assert message == (
        "This complaint was moved to Investigating by Csr while you were looking at it. "
        "Nothing was changed; the page now shows its current state."
    )
    response = post_action(
        client,
        complaint,
        "propose",
        {
            "expected_stage": "acknowledged",
            "type": "apology",
            "amount": "",
            "description": "We are sorry.",
            "customer_action": "",
        },
    )
    [message] = messages_of(response)
    assert message.startswith("This complaint was moved to Investigating by Csr")

    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING
    assert complaint.stage_changes.count() == changes
    assert complaint.history.count() == history
    assert not complaint.resolutions.exists()


def test_missing_expected_stage_is_a_form_error_not_a_move(client, csr, resolver, manager):
    complaint = at_stage("acknowledged", csr, resolver, manager)
    client.force_login(csr)

    response = post_action(client, complaint, "transition", {"to": "investigating"})

    assert response.status_code == 400
    assert messages_of(response) == ["Please correct the errors below."]
    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED


@pytest.mark.parametrize("action", ["take", "transition", "note", "attach", "approve"])
def test_get_on_an_action_url_is_method_not_allowed(client, csr, action):
    complaint = factories.complaint(csr)
    client.force_login(csr)

    response = client.get(action_url(complaint, action))

    assert response.status_code == 405
    assert complaint.history.count() == 1


def test_unknown_action_is_404(client, csr):
    complaint = factories.complaint(csr)
    client.force_login(csr)
    assert post_action(client, complaint, "delete").status_code == 404


def test_csr_cannot_open_act_on_or_edit_another_csrs_complaint(client, csr, csr2):
    complaint = factories.complaint(csr2)
    services.complaint_assign(complaint, actor=csr2, assignee=csr2)
    history = complaint.history.count()
    client.force_login(csr)

    assert client.get(detail_url(complaint)).status_code == 404
    assert post_action(client, complaint, "note", {"text": "Snooping."}).status_code == 404
    response = post_action(
        client, complaint, "acknowledge", {"expected_stage": "received", "method": "phone"}
    )
    assert response.status_code == 404
    assert client.get(reverse("complaints:edit", args=[complaint.pk])).status_code == 404
    edit = client.post(
        reverse("complaints:edit", args=[complaint.pk]),
        edit_data(complaint, customer_name="Someone Else"),
    )
    assert edit.status_code == 404

    complaint.refresh_from_db()
    assert complaint.stage == Stage.RECEIVED
    assert complaint.customer_name == "Priya Shah"
    assert complaint.history.count() == history
    assert not complaint.notes.exists()
    # The owner still sees it.
    client.force_login(csr2)
    assert client.get(detail_url(complaint)).status_code == 200


def test_resolver_cannot_see_an_unescalated_complaint_assigned_to_a_csr(client, csr, resolver):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    client.force_login(resolver)

    assert client.get(detail_url(complaint)).status_code == 404
    assert post_action(client, complaint, "take").status_code == 404
    complaint.refresh_from_db()
    assert complaint.assignee == csr

    services.complaint_escalate(complaint, actor=csr, level="team", reason="Specialist needed.")
    assert client.get(detail_url(complaint)).status_code == 200


def test_csr_cannot_approve_a_resolution(client, csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    resolution = services.resolution_propose(
        complaint,
        actor=csr,
        type="refund",
        amount=Decimal("750.00"),
        description="We will refund the charge.",
    )
    assert resolution.status == ResolutionStatus.AWAITING_APPROVAL
    client.force_login(csr)

    assert 'id="action-approve"' not in client.get(detail_url(complaint)).content.decode()
    response = post_action(client, complaint, "approve", {"decision": "approve", "note": ""})

    assert messages_of(response) == ["You are not allowed to do that on this complaint."]
    resolution.refresh_from_db()
    assert resolution.status == ResolutionStatus.AWAITING_APPROVAL
    assert (resolution.approved_by, resolution.approved_at) == (None, None)
    assert resolution.history.count() == 1
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RESOLVED


def test_intake_refuses_a_date_of_complaint_in_the_future(client, csr):
    client.force_login(csr)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = client.post(
        reverse("complaints:create"), intake_data(date_of_complaint=tomorrow.isoformat())
    )

    assert response.status_code == 400
    assert response.context["form"].errors["date_of_complaint"] == [
        "The date of the complaint cannot be in the future."
    ]
    assert "The date of the complaint cannot be in the future." in response.content.decode()
    assert not Complaint.objects.exists()
    assert not StageChange.objects.exists()


def test_intake_by_email_refuses_a_missing_email_address(client, csr):
    client.force_login(csr)

    response = client.post(
        reverse("complaints:create"),
        intake_data(channel="email", customer_email="", customer_phone="07700 900123"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["customer_email"] == [
        "An email complaint needs the customer's address."
    ]
    assert not Complaint.objects.exists()


def test_intake_without_any_contact_details_is_refused(client, csr):
    client.force_login(csr)

    response = client.post(
        reverse("complaints:create"),
        intake_data(channel="letter", customer_email="", customer_phone=""),
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Give an email address or a phone number for the customer."
    ]
    assert not Complaint.objects.exists()


# Consultations answered by a colleague ----------------------------------------------------


def consulted_complaint(csr, resolver, consultee):
    """Escalated to the team, taken by the resolver, who asks `consultee` a question."""
    complaint = factories.complaint(csr, customer_name="Zelda Secretname")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.complaint_acknowledge(complaint, actor=csr, method="phone")
    services.complaint_escalate(complaint, actor=csr, level="team", reason="Specialist needed.")
    services.complaint_assign(complaint, actor=resolver, assignee=resolver)
    services.complaint_transition(complaint, "investigating", actor=resolver)
    consultation = services.consultation_request(
        complaint,
        actor=resolver,
        department="Card disputes",
        question="Was the second charge reversed?",
        consultee=consultee,
    )
    return complaint, consultation


def test_consultee_who_cannot_see_the_complaint_can_still_answer(client, csr, csr2, resolver):
    complaint, consultation = consulted_complaint(csr, resolver, consultee=csr2)
    client.force_login(csr2)
    assert client.get(detail_url(complaint)).status_code == 404

    client.post(
        reverse("complaints:consultation-answer", args=[consultation.pk]),
        {"answer": "Yes, reversed on Tuesday."},
    )

    consultation.refresh_from_db()
    assert (consultation.answer, consultation.answered_by) == ("Yes, reversed on Tuesday.", csr2)


def test_other_colleague_cannot_answer_someone_elses_consultation(client, csr, csr2, resolver):
    complaint, consultation = consulted_complaint(csr, resolver, consultee=resolver)
    client.force_login(csr2)

    response = client.post(
        reverse("complaints:consultation-answer", args=[consultation.pk]),
        {"answer": "Let me in."},
    )

    assert response.status_code == 404
    consultation.refresh_from_db()
    assert consultation.answered_at is None


def test_invalid_answer_by_a_consultee_who_cannot_see_the_complaint_reveals_nothing(
    client, csr, csr2, resolver
):
    complaint, consultation = consulted_complaint(csr, resolver, consultee=csr2)
    client.force_login(csr2)

    response = client.post(
        reverse("complaints:consultation-answer", args=[consultation.pk]), {"answer": ""}
    )

    page = response.content.decode()
    assert "Zelda Secretname" not in page
    assert complaint.description not in page
    assert "Specialist needed." not in page


def test_consultee_who_cannot_see_the_complaint_is_not_sent_to_a_404_after_answering(
    client, csr, csr2, resolver
):
    complaint, consultation = consulted_complaint(csr, resolver, consultee=csr2)
    client.force_login(csr2)

    response = client.post(
        reverse("complaints:consultation-answer", args=[consultation.pk]),
        {"answer": "Yes, reversed on Tuesday."},
        follow=True,
    )

    assert response.status_code == 200
    assert messages_of(response) == ["Answer recorded. Thank you."]
