"""Stage moves: the one stage writer, and the gates each move checks against the workflow's
transition table."""

from django.db import transaction
from django.utils import timezone

from complaints import workflow
from complaints.models import (
    AcknowledgmentMethod,
    MessageStatus,
    ResolutionStatus,
    StageChange,
)
from complaints.permissions import Action, require
from complaints.services.clocks import clocks_on_stage_move
from complaints.services.common import CLOCK_SKEW, attribute, locked, role_of
from complaints.sub_status import SubStatus, sub_status
from complaints.workflow import Refused, Stage

STAGE_TIMESTAMP = {
    Stage.INVESTIGATING: "investigation_started_at",
    Stage.RESOLVED: "resolved_at",
    Stage.FOLLOW_UP: "follow_up_started_at",
    Stage.DOCUMENTED: "documented_at",
    Stage.REVIEWED: "reviewed_at",
}


LIVE_RESOLUTION = (
    ResolutionStatus.AWAITING_APPROVAL,
    ResolutionStatus.PROPOSED,
    ResolutionStatus.ACCEPTED,
)


def case_facts(complaint):
    resolutions = list(complaint.resolutions.all())
    live = [r for r in resolutions if r.status in LIVE_RESOLUTION]
    return workflow.CaseFacts(
        acknowledged=complaint.acknowledged_at is not None,
        has_resolution_proposal=bool(live),
        resolution_pending_approval=any(
            r.status == ResolutionStatus.AWAITING_APPROVAL for r in live
        ),
        resolution_implemented=any(r.status == ResolutionStatus.IMPLEMENTED for r in resolutions),
        has_root_cause=complaint.root_cause_id is not None,
        has_outcome=bool(complaint.outcome),
        has_feedback=complaint.feedback.exists(),
        feedback_waived=bool(complaint.feedback_waived_reason),
        has_investigation_record=complaint.notes.exists() or complaint.consultations.exists(),
        has_review=hasattr(complaint, "review") and complaint.review is not None,
        withdrawal_recorded=bool(complaint.withdrawn_on and complaint.exit_reason.strip()),
        duplicate_of_recorded=complaint.duplicate_of_id is not None,
        exit_reason_recorded=bool(complaint.exit_reason.strip()),
        has_description=bool(complaint.description),
        has_category=complaint.category_id is not None,
    )


def derived_sub_status(complaint, news=SubStatus.NONE):
    """The sub-status the complaint's facts give, with the customer's unread `news`."""
    live = complaint.resolutions.filter(status__in=LIVE_RESOLUTION).values_list("status")
    live = live.order_by("-proposed_at").first()
    return sub_status(
        complaint.stage,
        resolution_status=live[0] if live else None,
        feedback_given=complaint.stage == Stage.FOLLOW_UP and complaint.has_feedback_this_round(),
        news=news,
    )


def sub_status_keep(complaint, *, actor=None, news=SubStatus.NONE):
    """Store the sub-status of a complaint locked by the caller, after a change that moved
    no stage (an approval, the customer's answer, their news read)."""
    value = derived_sub_status(complaint, news)
    if value != complaint.sub_status:
        complaint.sub_status = value
        attribute(complaint, actor, f"Now {value.label}" if value else "Sub-status cleared")
        complaint.save(update_fields=["sub_status", "updated_at"])
    return complaint


def stage_move(complaint, target, *, actor, note="", at=None, role=None, reopen=False, reason=None):
    """Change the stage of a complaint already locked by the caller. The one stage writer.
    `reason` names the change in the history when the note is too long to."""
    at = at or timezone.now()
    source = Stage(complaint.stage)
    transition = workflow.check_transition(
        source, target, role or role_of(actor), case_facts(complaint)
    )
    if transition.needs_reason and not (note or "").strip():
        raise Refused(
            f"Say why the complaint goes back to {transition.target.label}: "
            "a reason is required to reopen it."
        )
    target = Stage(target)
    complaint.stage = target
    fields = ["stage", "updated_at"]
    if target in STAGE_TIMESTAMP:
        setattr(complaint, STAGE_TIMESTAMP[target], at)
        fields.append(STAGE_TIMESTAMP[target])
    if target.value in workflow.CLOSED_STAGE_VALUES:
        complaint.closed_at = at
        fields.append("closed_at")
    if target in workflow.EXIT_STAGES:
        stop_for_exit(complaint)
    if target == Stage.FOLLOW_UP:
        # Each follow-up round asks for feedback afresh, also after a reopening.
        complaint.feedback_requested_at = complaint.feedback_reminded_at = None
        complaint.feedback_waived_reason = ""
        fields += ["feedback_requested_at", "feedback_reminded_at", "feedback_waived_reason"]
    # Reports count reopenings: the customer sent the case back, not a manager's rework.
    reopened = reopen or (target == Stage.INVESTIGATING and source == Stage.FOLLOW_UP)
    if reopened:
        complaint.reopen_count += 1
        fields.append("reopen_count")
    # A response clock that has passed would have the sweep send a delay notice and escalate
    # the moment the customer reopens the case: it gets a fresh one, counted from the
    # reopening as from a new complaint. A clock still ahead stands: it was promised.
    clocks_on_stage_move(complaint, source, target, at=at, fresh_if_passed=reopened, fields=fields)
    if target == Stage.INVESTIGATING and source == Stage.RESOLVED:
        # A proposal still on the table is void once the case goes back to investigation.
        for resolution in complaint.resolutions.filter(status__in=LIVE_RESOLUTION):
            resolution.status = ResolutionStatus.WITHDRAWN
            resolution.save(update_fields=["status"])
    # Someone moved the case on: the customer's news is read, what it waits for is new.
    complaint.sub_status = derived_sub_status(complaint)
    fields.append("sub_status")
    attribute(complaint, actor, reason or (note[:100] if note else f"Moved to {target.label}"))
    complaint.save(update_fields=fields)
    StageChange.objects.create(
        complaint=complaint, from_stage=source, to_stage=target, actor=actor, at=at, note=note
    )
    return complaint


def stop_for_exit(complaint):
    """An exited case owes the customer nothing more: a proposal still on the table is void
    and every email still waiting for them (the acknowledgment, a delay notice, a feedback
    request) is cancelled. Its clocks stop with the move (services/clocks.py)."""
    for resolution in complaint.resolutions.filter(status__in=LIVE_RESOLUTION):
        resolution.status = ResolutionStatus.WITHDRAWN
        resolution.save(update_fields=["status"])
    complaint.messages.filter(to_customer=True, status=MessageStatus.PENDING).update(
        status=MessageStatus.CANCELLED
    )


def expect_stage(complaint, expected_stage):
    """Refuse clearly when someone else moved the complaint since the user loaded the page."""
    if expected_stage and complaint.stage != expected_stage:
        last = complaint.stage_changes.order_by("-at", "-id").select_related("actor").first()
        who = (str(last.actor) if last and last.actor else "the system") if last else "someone"
        raise Refused(
            f"This complaint was moved to {complaint.stage_label} by {who} while you were "
            "looking at it. Nothing was changed; the page now shows its current state."
        )


@transaction.atomic
def complaint_acknowledge(complaint, *, actor, method, at=None, note="", expected_stage=None):
    """Record that the customer was acknowledged (by email, phone, in person...)."""
    complaint = locked(complaint)
    expect_stage(complaint, expected_stage)
    if actor is not None:
        require(actor, complaint, Action.ACKNOWLEDGE)
    if method not in AcknowledgmentMethod.values:
        raise Refused("Choose how the customer was acknowledged.")
    if complaint.acknowledged_at is not None:
        raise Refused("This complaint has already been acknowledged.")
    at = at or timezone.now()
    if at < complaint.received_at:
        raise Refused("The acknowledgment cannot be earlier than the complaint was received.")
    if at > timezone.now() + CLOCK_SKEW:
        raise Refused("The acknowledgment cannot be in the future.")
    complaint.acknowledged_at = at
    complaint.acknowledgment_method = method
    attribute(complaint, actor, "Acknowledged")
    complaint.save(update_fields=["acknowledged_at", "acknowledgment_method", "updated_at"])
    method_label = AcknowledgmentMethod(method).label.lower()
    return stage_move(
        complaint,
        Stage.ACKNOWLEDGED,
        actor=actor,
        at=at,
        note=note or f"Customer acknowledged by {method_label}",
    )


@transaction.atomic
def complaint_transition(complaint, to, *, actor, note="", expected_stage=None, role=None):
    """Move a complaint to another stage, as the transition table allows."""
    complaint = locked(complaint)
    expect_stage(complaint, expected_stage)
    if actor is not None:
        require(actor, complaint, Action.TRANSITION)
    return stage_move(complaint, to, actor=actor, note=note, role=role)
