"""Each service with each role: allowed, forbidden, and data missing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from complaints import services, workflow
from complaints.models import Complaint, Resolution, ResolutionStatus, StageChange
from complaints.workflow import Refused, Stage
from tests import factories

pytestmark = pytest.mark.django_db


def at_stage(stage, csr, resolver, manager, **overrides):
    return factories.complaint_at_stage(
        stage, csr=csr, resolver=resolver, manager=manager, **overrides
    )


# Intake


def test_create_sets_reference_deadlines_and_first_stage_change(csr):
    complaint = factories.complaint(csr)
    assert complaint.reference.startswith(f"CMP-{timezone.localdate().year}-")
    assert complaint.stage == Stage.RECEIVED
    assert complaint.acknowledgment_due_at == complaint.received_at + timedelta(hours=24)
    assert complaint.resolution_target_date > timezone.localdate()
    change = complaint.stage_changes.get()
    assert (change.from_stage, change.to_stage, change.actor) == ("", "received", csr)
    assert complaint.history.count() == 1


def test_references_count_up(csr):
    first, second = factories.complaint(csr), factories.complaint(csr)
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_create_refuses_a_future_date_of_complaint(csr):
    with pytest.raises(Refused, match="cannot be in the future"):
        factories.complaint(csr, date_of_complaint=timezone.localdate() + timedelta(days=1))
    assert Complaint.objects.count() == 0


def test_user_without_role_cannot_log(outsider):
    with pytest.raises(Refused):
        factories.complaint(outsider)


def test_complexity_sets_the_target(csr, settings):
    simple = factories.complaint(csr, complexity="simple")
    complex_ = factories.complaint(csr, complexity="complex")
    local_day = timezone.localdate(complex_.received_at)
    assert complex_.resolution_target_date == local_day + timedelta(days=30)
    assert simple.resolution_target_date < complex_.resolution_target_date


# Assignment and escalation


def test_csr_takes_from_the_intake_queue_but_cannot_take_a_colleagues(csr, csr2):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr2, assignee=csr2)
    with pytest.raises(Refused):
        services.complaint_assign(complaint, actor=csr, assignee=csr)
    complaint.refresh_from_db()
    assert complaint.assignee == csr2


def test_manager_reassigns_anyone(csr, csr2, manager):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.complaint_assign(complaint, actor=manager, assignee=csr2)
    assert Complaint.objects.get().assignee == csr2


def test_escalation_needs_a_reason_and_shows_to_the_team(csr, resolver):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="why"):
        services.complaint_escalate(complaint, actor=csr, level="team", reason=" ")
    services.complaint_escalate(complaint, actor=csr, level="team", reason="Needs an expert")
    complaint.refresh_from_db()
    assert complaint.escalated_at and complaint.escalated_by == csr
    services.complaint_assign(complaint, actor=resolver, assignee=resolver)
    with pytest.raises(Refused, match="already escalated"):
        services.complaint_escalate(complaint, actor=resolver, level="team", reason="again")


# Stages


def test_acknowledge_records_how_and_when(csr):
    complaint = factories.complaint(csr)
    services.complaint_acknowledge(complaint, actor=csr, method="phone")
    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledgment_method == "phone"
    assert complaint.acknowledged_at is not None
    with pytest.raises(Refused, match="already been acknowledged"):
        services.complaint_acknowledge(complaint, actor=csr, method="phone")


def test_acknowledge_refuses_an_unknown_method_and_changes_nothing(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused):
        services.complaint_acknowledge(complaint, actor=csr, method="pigeon")
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RECEIVED and complaint.acknowledged_at is None


def test_transition_refuses_skipping_stages(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="not a step"):
        services.complaint_transition(complaint, "resolved", actor=csr)
    assert StageChange.objects.count() == 1


def test_csr_cannot_sign_off_a_review(csr, resolver, manager):
    complaint = at_stage("documented", csr, resolver, manager)
    with pytest.raises(Refused):
        services.review_sign_off(complaint, actor=csr, quality_notes="fine")
    with pytest.raises(Refused):
        services.complaint_transition(complaint, "reviewed", actor=csr)
    complaint.refresh_from_db()
    assert complaint.stage == Stage.DOCUMENTED


def test_documented_gate_names_the_missing_parts(csr, resolver, manager):
    complaint = at_stage("follow_up", csr, resolver, manager)
    with pytest.raises(Refused) as refused:
        services.complaint_transition(complaint, "documented", actor=csr)
    assert refused.value.message == (
        "Cannot move to Documented: root cause, the outcome and customer feedback are missing."
    )


def test_full_lifecycle_closes_the_case(csr, resolver, manager):
    complaint = at_stage("reviewed", csr, resolver, manager)
    assert complaint.stage == Stage.REVIEWED and complaint.closed_at is not None
    stages = list(complaint.stage_changes.values_list("to_stage", flat=True))
    assert stages == [s.value for s in Stage if s not in workflow.EXIT_STAGES]


def test_stale_expected_stage_is_refused_and_changes_nothing(csr, resolver, manager):
    complaint = at_stage("acknowledged", csr, resolver, manager)
    services.complaint_transition(complaint, "investigating", actor=csr)
    with pytest.raises(Refused, match="while you were looking"):
        services.complaint_transition(
            complaint, "investigating", actor=csr, expected_stage="acknowledged"
        )
    assert complaint.stage_changes.count() == 3


# Investigation


def test_only_the_team_and_managers_consult(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    with pytest.raises(Refused):
        services.consultation_request(complaint, actor=csr, department="Billing", question="Why?")
    services.complaint_escalate(complaint, actor=csr, level="team", reason="Expert needed")
    consultation = services.consultation_request(
        complaint, actor=resolver, department="Billing", question="Why two charges?"
    )
    services.consultation_answer(consultation, actor=manager, answer="A retry bug.")
    consultation.refresh_from_db()
    assert consultation.answered_at and consultation.answered_by == manager
    with pytest.raises(Refused, match="already been answered"):
        services.consultation_answer(consultation, actor=manager, answer="Again")


def test_empty_note_is_refused(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="empty"):
        services.note_add(complaint, actor=csr, text="  ")


# Resolution


def test_small_refund_goes_straight_to_the_customer(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    resolution = services.resolution_propose(
        complaint, actor=csr, type="refund", amount=Decimal("45"), description="Refund"
    )
    assert resolution.status == ResolutionStatus.PROPOSED and not resolution.approval_required
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RESOLVED and complaint.proposed_resolution == "Refund"


def test_refund_over_the_threshold_waits_for_a_manager(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    resolution = services.resolution_propose(
        complaint, actor=csr, type="refund", amount=Decimal("750"), description="Refund"
    )
    assert resolution.status == ResolutionStatus.AWAITING_APPROVAL
    with pytest.raises(Refused):
        services.resolution_decide_approval(complaint, actor=csr, approve=True)
    with pytest.raises(Refused, match="no resolution waiting"):
        services.resolution_record_customer_response(complaint, actor=csr, accepted=True)
    services.resolution_decide_approval(complaint, actor=manager, approve=True)
    resolution.refresh_from_db()
    assert resolution.status == ResolutionStatus.PROPOSED and resolution.approved_by == manager


def test_refused_approval_sends_the_case_back_without_counting_a_reopen(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.resolution_propose(
        complaint, actor=csr, type="compensation", amount=Decimal("900"), description="Pay"
    )
    with pytest.raises(Refused, match="Say why"):
        services.resolution_decide_approval(complaint, actor=manager, approve=False)
    services.resolution_decide_approval(complaint, actor=manager, approve=False, note="Too much")
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING and complaint.reopen_count == 0


def test_refund_without_amount_is_refused(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    with pytest.raises(Refused, match="needs an amount"):
        services.resolution_propose(complaint, actor=csr, type="refund", description="Refund")
    assert Resolution.objects.count() == 0


def test_customer_rejection_reopens_and_withdraws_nothing_twice(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    services.resolution_record_customer_response(
        complaint, actor=None, accepted=False, comment="No"
    )
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING and complaint.reopen_count == 1
    last = complaint.stage_changes.last()
    assert last.actor is None and "rejected" in last.note


def test_csr_cannot_propose_on_a_case_escalated_to_the_team(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.complaint_escalate(complaint, actor=csr, level="team", reason="Complex")
    with pytest.raises(Refused):
        services.resolution_propose(complaint, actor=csr, type="apology", description="Sorry")
    services.resolution_propose(complaint, actor=resolver, type="apology", description="Sorry")


def test_implementation_moves_to_follow_up(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    with pytest.raises(Refused, match="no resolution waiting"):
        services.resolution_implement(complaint, actor=csr, notes="Done")
    services.resolution_record_customer_response(complaint, actor=csr, accepted=True)
    with pytest.raises(Refused, match="Say what was done"):
        services.resolution_implement(complaint, actor=csr, notes="")
    services.resolution_implement(complaint, actor=csr, notes="Done")
    complaint.refresh_from_db()
    assert complaint.stage == Stage.FOLLOW_UP and complaint.follow_up_started_at


# Follow-up and review


def test_not_resolved_feedback_reopens_the_case(csr, resolver, manager):
    complaint = at_stage("follow_up", csr, resolver, manager)
    with pytest.raises(Refused, match="between 1 and 5"):
        services.feedback_record(complaint, actor=None, score=9, resolved=True)
    services.feedback_record(complaint, actor=None, score=2, resolved=False)
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING and complaint.reopen_count == 1


def test_review_needs_quality_notes(csr, resolver, manager):
    complaint = at_stage("documented", csr, resolver, manager)
    with pytest.raises(Refused, match="quality notes"):
        services.review_sign_off(complaint, actor=manager, quality_notes="")


def test_closed_case_cannot_be_edited(csr, resolver, manager):
    complaint = at_stage("reviewed", csr, resolver, manager)
    with pytest.raises(Refused):
        services.complaint_update(complaint, actor=manager, changes={"customer_name": "X"})


# History and invariants


def test_every_change_leaves_a_history_row_with_its_author(csr, resolver, manager):
    complaint = at_stage("reviewed", csr, resolver, manager)
    records = list(complaint.history.order_by("history_date"))
    assert len(records) >= 10
    assert {r.history_user for r in records} >= {csr, manager}
    assert complaint.resolutions.get().history.count() >= 3
    assert complaint.review.history.count() == 1


def test_database_refuses_a_second_live_resolution(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    with pytest.raises(IntegrityError):
        Resolution.objects.create(
            complaint=complaint,
            type="apology",
            description="dup",
            status=ResolutionStatus.PROPOSED,
            proposed_by=csr,
            proposed_at=timezone.now(),
        )


def test_database_refuses_a_closed_complaint_without_closed_at(csr):
    complaint = factories.complaint(csr)
    with pytest.raises(IntegrityError):
        Complaint.objects.filter(pk=complaint.pk).update(stage="reviewed")
