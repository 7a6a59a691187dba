"""The exits: withdrawn by the customer, merged as a duplicate, not a complaint. Their rules and
roles, the record each keeps, every clock stopped, and a merge that moves every related row
and tells the customer once, however often it is retried or raced."""

from datetime import datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from complaints import outbox, selectors, services
from complaints.clocks import sweeps
from complaints.models import (
    Attachment,
    Complaint,
    Consultation,
    MessageKind,
    MessageStatus,
    Note,
    OutboundMessage,
    ResolutionStatus,
    StageChange,
)
from complaints.outbox import messages
from complaints.workflow import Refused, Stage
from tests import factories, threads

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def reload(row):
    return type(row).objects.get(pk=row.pk)


def at_stage(stage, csr, resolver, manager, **overrides):
    return factories.complaint_at_stage(
        stage, csr=csr, resolver=resolver, manager=manager, **overrides
    )


def customer_messages(kind):
    return OutboundMessage.objects.filter(kind=kind)


# Withdrawn -------------------------------------------------------------------------------


def test_csr_records_a_withdrawal_with_the_customers_words_and_date(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    today = timezone.localdate()

    services.complaint_withdraw(
        complaint,
        actor=csr,
        customer_words="Sorted it out with the shop, thanks.",
        withdrawn_on=today,
        expected_stage="investigating",
    )

    complaint = reload(complaint)
    assert complaint.stage == Stage.WITHDRAWN
    assert complaint.exit_reason == "Sorted it out with the shop, thanks."
    assert complaint.withdrawn_on == today
    assert complaint.closed_at is not None
    assert complaint.next_deadline_at is None
    change = complaint.stage_changes.last()
    assert (change.from_stage, change.to_stage, change.actor) == (
        "investigating",
        "withdrawn",
        csr,
    )
    assert "Sorted it out with the shop" in change.note
    assert complaint.history.filter(history_change_reason="Withdrawn by the customer").exists()
    [confirmation] = customer_messages(MessageKind.WITHDRAWAL_CONFIRMATION)
    assert confirmation.complaint == complaint
    assert confirmation.recipient == "priya@example.com"
    assert complaint.reference in confirmation.subject


@pytest.mark.parametrize(
    ("words", "days_ahead", "message"),
    [
        ("  ", 0, "Write down what the customer said"),
        ("No longer needed", 1, "cannot be in the future"),
        ("No longer needed", -40, "cannot be before the complaint was made"),
    ],
)
def test_a_withdrawal_without_words_or_with_a_wrong_date_is_refused(
    csr, words, days_ahead, message
):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match=message):
        services.complaint_withdraw(
            complaint,
            actor=csr,
            customer_words=words,
            withdrawn_on=timezone.localdate() + timedelta(days=days_ahead),
        )
    assert reload(complaint).stage == Stage.RECEIVED
    assert not customer_messages(MessageKind.WITHDRAWAL_CONFIRMATION).exists()


def test_a_documented_case_can_no_longer_be_withdrawn(csr, resolver, manager):
    complaint = at_stage("documented", csr, resolver, manager)
    with pytest.raises(Refused, match="waits for the manager's sign-off"):
        services.complaint_withdraw(
            complaint, actor=manager, customer_words="Drop it", withdrawn_on=timezone.localdate()
        )


def test_a_withdrawn_case_cannot_be_withdrawn_again(csr):
    complaint = factories.complaint(csr)
    services.complaint_withdraw(
        complaint, actor=csr, customer_words="Drop it", withdrawn_on=timezone.localdate()
    )
    with pytest.raises(Refused, match="is already Withdrawn"):
        services.complaint_withdraw(
            complaint, actor=csr, customer_words="Drop it", withdrawn_on=timezone.localdate()
        )
    assert customer_messages(MessageKind.WITHDRAWAL_CONFIRMATION).count() == 1


def test_a_csr_cannot_close_a_colleagues_case(csr, csr2):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    with pytest.raises(Refused, match="not allowed"):
        services.complaint_not_a_complaint(complaint, actor=csr2, reason="An enquiry")
    assert reload(complaint).stage == Stage.RECEIVED


def test_a_withdrawal_voids_the_proposal_on_the_table(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    services.complaint_withdraw(
        complaint, actor=csr, customer_words="Not worth it", withdrawn_on=timezone.localdate()
    )
    assert list(complaint.resolutions.values_list("status", flat=True)) == [
        ResolutionStatus.WITHDRAWN
    ]


# Not a complaint -------------------------------------------------------------------------


def test_an_enquiry_is_closed_as_not_a_complaint_with_its_reason_and_no_email(csr):
    complaint = factories.complaint(csr, customer_email="")
    services.complaint_not_a_complaint(
        complaint, actor=csr, reason="Asked for our opening hours: an enquiry."
    )
    complaint = reload(complaint)
    assert complaint.stage == Stage.NOT_A_COMPLAINT
    assert complaint.exit_reason == "Asked for our opening hours: an enquiry."
    assert complaint.closed_at is not None
    assert complaint.stage_changes.last().note.startswith("Not a complaint: Asked")
    assert not OutboundMessage.objects.filter(to_customer=True, status="pending").exists()


def test_not_a_complaint_needs_a_reason(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="Say why this is not a complaint"):
        services.complaint_not_a_complaint(complaint, actor=csr, reason="")


def test_a_resolved_case_is_not_dismissed_as_not_a_complaint(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    with pytest.raises(Refused, match="the customer already has our answer"):
        services.complaint_not_a_complaint(complaint, actor=manager, reason="Out of scope")
    assert reload(complaint).stage == Stage.RESOLVED


def test_the_generic_move_cannot_exit_without_the_exits_record(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="the reason it is not a complaint is missing"):
        services.complaint_transition(complaint, "not_a_complaint", actor=csr, note="x")


# Every clock stopped ---------------------------------------------------------------------


def test_a_case_withdrawn_before_acknowledgment_is_never_warned_breached_or_acknowledged(csr):
    complaint = factories.complaint(csr)
    [acknowledgment] = customer_messages(MessageKind.ACKNOWLEDGMENT)
    services.complaint_withdraw(
        complaint, actor=csr, customer_words="Sent by mistake", withdrawn_on=timezone.localdate()
    )

    assert reload(acknowledgment).status == MessageStatus.CANCELLED
    later = complaint.received_at + 30 * timedelta(hours=1)
    assert sweeps.enforce_acknowledgment_deadline(now=later) == {
        "warned": 0,
        "breached": 0,
        "notifications": 0,
    }
    complaint = reload(complaint)
    assert complaint.acknowledgment_breached_at is None
    assert complaint.escalation_level == ""
    assert complaint.acknowledged_at is None


def test_an_exited_case_gets_no_delay_notice_and_no_escalation(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.complaint_not_a_complaint(complaint, actor=csr, reason="Out of scope")
    after_target = timezone.make_aware(
        datetime.combine(complaint.resolution_target_date + 2 * DAY, time(9))
    )
    assert sweeps.enforce_resolution_targets(now=after_target)["overdue"] == 0
    assert not customer_messages(MessageKind.DELAY_NOTICE).exists()
    assert reload(complaint).resolution_overdue_at is None


def test_a_case_withdrawn_in_follow_up_is_never_asked_for_feedback(csr, resolver, manager):
    complaint = at_stage("follow_up", csr, resolver, manager)
    services.complaint_withdraw(
        complaint, actor=csr, customer_words="Happy now", withdrawn_on=timezone.localdate()
    )
    later = complaint.follow_up_started_at + 30 * DAY
    assert sweeps.send_follow_ups(now=later) == {
        "requests": 0,
        "reminders": 0,
        "closed": 0,
        "left_open": 0,
    }
    assert not customer_messages(MessageKind.FEEDBACK_REQUEST).exists()


def test_a_delay_notice_already_queued_is_not_sent_once_the_case_exits(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    notice = messages.queue_delay_notice(reload(complaint))
    services.complaint_withdraw(
        complaint, actor=csr, customer_words="Never mind", withdrawn_on=timezone.localdate()
    )
    assert reload(notice).status == MessageStatus.CANCELLED
    # Even a notice that raced the exit into the relay's hands is dropped at delivery.
    OutboundMessage.objects.filter(pk=notice.pk).update(status=MessageStatus.PENDING)
    assert outbox.deliver(notice.pk) is False
    assert reload(notice).status == MessageStatus.CANCELLED


def test_exited_cases_leave_the_queues_and_open_counts(csr, manager):
    kept = factories.complaint(csr)
    gone = factories.complaint(csr)
    services.complaint_not_a_complaint(gone, actor=csr, reason="Spam")
    assert list(selectors.complaints_intake_queue(csr)) == [kept]
    assert list(selectors.open_complaints(manager)) == [kept]
    assert list(selectors.team_workload(manager)) == [(None, 1, 0)]


# Duplicate of ----------------------------------------------------------------------------


def two_cases_of_one_customer(csr, resolver, manager):
    survivor = at_stage("investigating", csr, resolver, manager)
    duplicate = at_stage("investigating", csr, resolver, manager)
    services.note_add(duplicate, actor=csr, text="Customer called again about the same charge.")
    services.customer_information_add(duplicate, text="Here is my statement.")
    services.attachment_add(
        duplicate,
        actor=csr,
        upload=SimpleUploadedFile("statement.pdf", PDF, "application/pdf"),
    )
    services.consultation_request(
        duplicate, actor=manager, department="Cards", question="Was it charged twice?"
    )
    return survivor, reload(duplicate)


def test_a_merge_moves_every_related_row_and_keeps_a_pointer(csr, resolver, manager):
    survivor, duplicate = two_cases_of_one_customer(csr, resolver, manager)
    notes = set(duplicate.notes.values_list("pk", flat=True))
    documents = set(duplicate.attachments.values_list("pk", flat=True))
    consultations = set(duplicate.consultations.values_list("pk", flat=True))
    emails = set(duplicate.messages.values_list("pk", flat=True))
    assert notes and documents and consultations and emails

    services.complaint_merge(
        duplicate,
        actor=csr,
        into_reference=survivor.reference.lower(),
        reason="Same double charge, phoned twice.",
        expected_stage="investigating",
    )

    duplicate = reload(duplicate)
    assert duplicate.stage == Stage.DUPLICATE
    assert duplicate.duplicate_of == survivor
    assert duplicate.closed_at is not None
    assert not Note.objects.filter(complaint=duplicate).exists()
    assert not Attachment.objects.filter(complaint=duplicate).exists()
    assert not Consultation.objects.filter(complaint=duplicate).exists()
    assert not OutboundMessage.objects.filter(complaint=duplicate).exists()
    assert notes <= set(survivor.notes.values_list("pk", flat=True))
    assert documents <= set(survivor.attachments.values_list("pk", flat=True))
    assert consultations <= set(survivor.consultations.values_list("pk", flat=True))
    assert emails <= set(survivor.messages.values_list("pk", flat=True))
    change = duplicate.stage_changes.last()
    assert change.to_stage == Stage.DUPLICATE
    assert change.note.startswith(
        f"Merged into {survivor.reference}; moved there: 3 notes, 1 document"
    )
    note = Note.objects.get(pk=min(notes))
    assert note.history.first().history_change_reason == (
        f"Moved from {duplicate.reference}, merged as a duplicate"
    )
    [notice] = customer_messages(MessageKind.MERGE_NOTICE)
    assert notice.complaint == survivor
    assert notice.recipient == "priya@example.com"
    assert duplicate.reference in notice.subject and survivor.reference in notice.subject
    assert reload(survivor).stage == Stage.INVESTIGATING


def test_both_timelines_say_what_happened(csr, resolver, manager):
    survivor, duplicate = two_cases_of_one_customer(csr, resolver, manager)
    services.complaint_merge(duplicate, actor=csr, into_reference=survivor.reference)
    titles = [entry.title for entry in selectors.complaint_timeline(reload(survivor))]
    assert f"{duplicate.reference} merged into this complaint" in titles
    titles = [entry.title for entry in selectors.complaint_timeline(reload(duplicate))]
    assert f"Merged into {survivor.reference} as a duplicate" in titles


@pytest.mark.parametrize(
    ("into", "message"),
    [
        ("", "Give the reference"),
        ("self", "cannot be merged into itself"),
        ("CMP-1999-000001", "There is no complaint CMP-1999-000001 that you may see"),
    ],
)
def test_a_merge_needs_another_complaint(csr, into, message):
    duplicate = factories.complaint(csr)
    into = duplicate.reference if into == "self" else into
    with pytest.raises(Refused, match=message):
        services.complaint_merge(duplicate, actor=csr, into_reference=into)
    assert reload(duplicate).stage == Stage.RECEIVED


def test_no_merge_into_a_closed_or_exited_case(csr, resolver, manager):
    closed = at_stage("reviewed", csr, resolver, manager)
    withdrawn = factories.complaint(csr)
    services.complaint_withdraw(
        withdrawn, actor=csr, customer_words="Drop it", withdrawn_on=timezone.localdate()
    )
    duplicate = factories.complaint(csr)
    for survivor, label in ((closed, "Reviewed"), (withdrawn, "Withdrawn")):
        with pytest.raises(Refused, match=rf"is closed \({label}\)"):
            services.complaint_merge(duplicate, actor=manager, into_reference=survivor.reference)
    assert reload(duplicate).stage == Stage.RECEIVED


def test_no_merge_into_a_duplicate_the_chain_names_its_end(csr, manager):
    first, second, third = (factories.complaint(csr) for _ in range(3))
    services.complaint_merge(second, actor=csr, into_reference=first.reference)
    with pytest.raises(Refused, match=f"merge into {first.reference} instead"):
        services.complaint_merge(third, actor=csr, into_reference=second.reference)


def test_merging_a_case_that_absorbed_others_repoints_them(csr, manager):
    first, second, third = (factories.complaint(csr) for _ in range(3))
    services.complaint_merge(third, actor=csr, into_reference=second.reference)
    services.complaint_merge(second, actor=csr, into_reference=first.reference)
    assert reload(third).duplicate_of == first
    assert reload(second).duplicate_of == first


def test_only_one_customers_complaints_are_merged(csr):
    mine = factories.complaint(csr)
    theirs = factories.complaint(csr, customer_email="someone.else@example.com")
    with pytest.raises(Refused, match="from different customers"):
        services.complaint_merge(theirs, actor=csr, into_reference=mine.reference)


def test_the_same_phone_number_written_differently_is_one_customer(csr):
    first = factories.complaint(csr, customer_email="", customer_phone="07700 900123")
    second = factories.complaint(csr, customer_email="", customer_phone="+44 7700 900123")
    services.complaint_merge(second, actor=csr, into_reference=first.reference)
    assert reload(second).duplicate_of == first
    assert not customer_messages(MessageKind.MERGE_NOTICE).exists()


def test_a_merge_needs_access_to_both_cases(csr, csr2):
    theirs = factories.complaint(csr2)
    services.complaint_assign(theirs, actor=csr2, assignee=csr2)
    mine = factories.complaint(csr)
    with pytest.raises(Refused, match=f"no complaint {theirs.reference} that you may see"):
        services.complaint_merge(mine, actor=csr, into_reference=theirs.reference)


def test_a_resolved_case_is_not_merged(csr, resolver, manager):
    survivor = factories.complaint(csr)
    resolved = at_stage("resolved", csr, resolver, manager)
    with pytest.raises(Refused, match="only a complaint still being investigated"):
        services.complaint_merge(resolved, actor=manager, into_reference=survivor.reference)


def test_a_retried_merge_is_refused_and_tells_the_customer_nothing_more(csr):
    survivor, duplicate = factories.complaint(csr), factories.complaint(csr)
    services.complaint_merge(duplicate, actor=csr, into_reference=survivor.reference)
    with pytest.raises(Refused, match=f"already merged into {survivor.reference}"):
        services.complaint_merge(duplicate, actor=csr, into_reference=survivor.reference)
    assert customer_messages(MessageKind.MERGE_NOTICE).count() == 1
    assert StageChange.objects.filter(complaint=duplicate, to_stage="duplicate").count() == 1


def merging(duplicate, survivor, actor):
    """A merge to run in a thread: "merged", or the sentence it was refused with."""

    def call():
        try:
            services.complaint_merge(duplicate, actor=actor, into_reference=survivor.reference)
        except Refused as refusal:
            return refusal.message
        return "merged"

    return call


@pytest.mark.django_db(transaction=True)
def test_two_merges_at_once_merge_once_and_tell_the_customer_once(csr, manager):
    survivor, duplicate = factories.complaint(csr), factories.complaint(csr)
    outcomes = threads.run_together(
        merging(duplicate, survivor, csr),
        merging(duplicate, survivor, manager),
        merging(duplicate, survivor, csr),
    )
    assert outcomes.count("merged") == 1
    assert all("already merged" in o for o in outcomes if o != "merged")
    assert customer_messages(MessageKind.MERGE_NOTICE).count() == 1
    assert StageChange.objects.filter(complaint=duplicate, to_stage="duplicate").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_cases_merged_into_each_other_at_once_end_as_one(csr):
    first, second = factories.complaint(csr), factories.complaint(csr)
    outcomes = threads.run_together(merging(first, second, csr), merging(second, first, csr))
    assert outcomes.count("merged") == 1
    assert any("is itself merged into" in o for o in outcomes)
    stages = sorted(Complaint.objects.values_list("stage", flat=True))
    assert stages == ["duplicate", "received"]
    assert customer_messages(MessageKind.MERGE_NOTICE).count() == 1


def test_without_email_or_phone_the_name_says_whose_it_is(csr):
    first = factories.complaint(csr, customer_email="", customer_name="Priya  Shah")
    other = factories.complaint(csr, customer_email="", customer_name="Sam Jones")
    second = factories.complaint(csr, customer_email="", customer_name="priya shah")
    with pytest.raises(Refused, match="names differ"):
        services.complaint_merge(other, actor=csr, into_reference=first.reference)
    services.complaint_merge(second, actor=csr, into_reference=first.reference)
    assert reload(second).duplicate_of == first


def test_an_escalated_case_awaiting_approval_leaves_the_managers_queue_when_withdrawn(
    csr, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.complaint_escalate(complaint, actor=csr, level="manager", reason="Angry customer")
    services.resolution_propose(
        complaint, actor=manager, type="refund", amount=900, description="We refund it all."
    )
    assert list(selectors.complaints_escalation_queue(manager)) == [complaint]
    services.complaint_withdraw(
        complaint,
        actor=manager,
        customer_words="Paid by my insurer",
        withdrawn_on=timezone.localdate(),
    )
    assert list(selectors.complaints_escalation_queue(manager)) == []
    assert complaint.resolutions.get().status == ResolutionStatus.WITHDRAWN
    history = reload(complaint).history.first()
    assert history.history_change_reason == "Withdrawn by the customer"


def test_the_resolution_team_closes_what_reaches_it_and_nothing_else(csr, resolver, manager):
    escalated = factories.complaint(csr)
    services.complaint_escalate(escalated, actor=csr, level="team", reason="Needs the team")
    not_theirs = factories.complaint(csr)
    with pytest.raises(Refused, match=f"no complaint {not_theirs.reference} that you may see"):
        services.complaint_merge(escalated, actor=resolver, into_reference=not_theirs.reference)
    services.complaint_not_a_complaint(escalated, actor=resolver, reason="An enquiry")
    assert reload(escalated).stage == Stage.NOT_A_COMPLAINT
    assert reload(escalated).stage_changes.last().actor == resolver
