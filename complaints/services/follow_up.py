"""Follow-up (feedback requested, reminded, recorded; follow-up ending by itself),
documentation and the manager's review."""

import logging

from django.db import transaction
from django.utils import timezone

from complaints import workflow
from complaints.models import Complaint, Feedback, Review, SignalKind
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.services.common import attribute, locked
from complaints.services.deadlines import complaints_mark
from complaints.services.signals import signal_raise
from complaints.services.stages import stage_move
from complaints.workflow import Refused, Stage

log = logging.getLogger(__name__)
FEEDBACK_REQUESTED = "Feedback request point passed"
FEEDBACK_REMINDED = "Follow-up reminder point passed"


@transaction.atomic
def feedback_record(complaint, *, actor, score, resolved, comment=""):
    complaint = locked(complaint)
    if actor is not None:
        require(actor, complaint, Action.RECORD_FEEDBACK)
    if complaint.stage != Stage.FOLLOW_UP:
        raise Refused("Feedback is collected during follow-up.")
    if score not in range(1, 6):
        raise Refused("The score must be between 1 and 5.")
    if complaint.has_feedback_this_round():
        raise Refused("Feedback on this resolution has already been given. Thank you.")
    feedback = Feedback.objects.create(
        complaint=complaint,
        score=score,
        resolved=resolved,
        comment=(comment or "").strip(),
        submitted_at=timezone.now(),
        recorded_by=actor,
    )
    if not resolved:
        stage_move(
            complaint,
            Stage.INVESTIGATING,
            actor=actor,
            role=workflow.CUSTOMER if actor is None else None,
            note="The customer says the issue is not resolved; the case is reopened",
        )
    signal_raise(complaint, SignalKind.CUSTOMER_FEEDBACK, actor=actor)
    return feedback


@transaction.atomic
def review_sign_off(complaint, *, actor, quality_notes, lessons="", improvement_actions=""):
    complaint = locked(complaint)
    require(actor, complaint, Action.REVIEW)
    quality_notes = (quality_notes or "").strip()
    if not quality_notes:
        raise Refused("Write the quality notes of the review.")
    if complaint.stage != Stage.DOCUMENTED:
        raise Refused("Only a documented complaint can be reviewed and signed off.")
    review = Review.objects.create(
        complaint=complaint,
        reviewer=actor,
        quality_notes=quality_notes,
        lessons=(lessons or "").strip(),
        improvement_actions=(improvement_actions or "").strip(),
        signed_off_at=timezone.now(),
    )
    stage_move(complaint, Stage.REVIEWED, actor=actor, note="Case reviewed and signed off")
    return review


def follow_ups_request(complaints, *, at, reminder=False):
    """The set-based form for the follow-up sweep: mark a batch as asked for feedback (or
    reminded) and email each customer with an address who has not answered this round.
    Marked either way, so a customer who already answered is not scanned again. Returns the
    emails queued."""
    field = "feedback_reminded_at" if reminder else "feedback_requested_at"
    reason = FEEDBACK_REMINDED if reminder else FEEDBACK_REQUESTED
    complaints_mark([complaint.pk for complaint in complaints], reason=reason, at=at, **{field: at})
    queued = 0
    for complaint in complaints:
        if complaint.customer_email and not complaint.has_feedback_this_round():
            messages.queue_feedback_request(complaint, reminder=reminder)
            queued += 1
    return queued


def follow_up_close(pk, *, at):
    """After a request and a reminder with no answer, follow-up ends by itself. True when
    closed, False when the record is incomplete, None when another run or a person holds it
    or moved it on (neither closed nor left open by this run)."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
        if complaint is None or complaint.stage != Stage.FOLLOW_UP:
            return None
        try:
            # A savepoint: if the record is incomplete, nothing of this attempt remains.
            with transaction.atomic():
                if not complaint.has_feedback_this_round():
                    # Say what happened: a customer with no email was never asked by us.
                    complaint.feedback_waived_reason = (
                        "No answer to the feedback request and its reminder"
                        if complaint.customer_email
                        else "No email address to ask for feedback, and none was recorded "
                        "in the follow-up time"
                    )
                    attribute(complaint, None, "Follow-up closed without feedback")
                    complaint.save(update_fields=["feedback_waived_reason", "updated_at"])
                stage_move(
                    complaint,
                    Stage.DOCUMENTED,
                    actor=None,
                    at=at,
                    note="Follow-up ended by itself: "
                    + (complaint.feedback_waived_reason or "feedback received"),
                )
        except Refused as refusal:
            # The record is incomplete (say, no root cause): it stays in follow-up, in the
            # team's queue, until someone completes it.
            log.info("Complaint %s stays in follow-up: %s", pk, refusal.message)
            return False
    return True
