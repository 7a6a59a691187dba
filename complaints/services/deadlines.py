"""What the clock sweep records, set-based: a batch of one definition's clocks marked
(warned, breached) with their complaints' marks and escalation in one statement each, one
history row per complaint and the customers' delay notices, in the sweep's transaction. The
sweep (clocks/sweeps.py) chooses and locks the batch and tells the staff.

System changes have no user in their history row; their reason names the clock that acted.
"""

from django.db.models import Value
from django.db.models.functions import Coalesce

from complaints.models import (
    RESPONSE_ROLES,
    BreachMessage,
    ClockRole,
    Complaint,
    ComplaintClock,
)
from complaints.outbox import messages
from complaints.selectors.responses import late_answer_type
from complaints.services.escalation import escalated_to_managers
from complaints.services.history import history_copy

ACK_BREACH_REASON = "acknowledgment deadline missed"
TARGET_REASON = "resolution target missed"
ACK_BREACHED = "Acknowledgment deadline missed: escalated to managers"
ACK_WARNED = "Acknowledgment due soon: warned"
TARGET_MISSED = "Resolution target missed: escalated to managers"


def complaints_mark(ids, *, reason, at, **marks):
    """Set the same marks on a batch in one UPDATE, and one history row each."""
    if not ids:
        return
    Complaint.objects.filter(pk__in=ids).update(**marks, updated_at=at)
    history_copy(ids, reason=reason, at=at)


def escalation_reason(definition):
    """Why a breach escalates, as the case and the escalation queue show it: the clock."""
    if definition.role == ClockRole.ACKNOWLEDGMENT:
        return ACK_BREACH_REASON
    if definition.role == ClockRole.RESOLUTION_TARGET:
        return TARGET_REASON
    return f"{definition.name} missed"


def _breach_history(definition):
    if definition.role == ClockRole.ACKNOWLEDGMENT and definition.breach_escalates:
        return ACK_BREACHED
    if definition.role == ClockRole.RESOLUTION_TARGET and definition.breach_escalates:
        return TARGET_MISSED
    escalated = ": escalated to managers" if definition.breach_escalates else ""
    return f"{definition.name} missed{escalated}"


def clocks_breach(definition, clocks, *, at):
    """A batch of one definition's clocks passed their due moment: mark them and their
    complaints, escalate if the definition says so, and queue each customer with an email
    address one delay notice if it says so, unless the clock's profile requires a letter only
    a person can write (its owner was told at the warning, and the breach digest tells them
    again). Returns the delay notices queued."""
    ComplaintClock.objects.filter(pk__in=[clock.pk for clock in clocks]).update(
        breached_at=at,
        # Past the deadline a warning is moot; the breach notice says it all.
        warned_at=Coalesce("warned_at", Value(at)),
    )
    complaint_ids = sorted({clock.complaint_id for clock in clocks})
    marks = {}
    if definition.role == ClockRole.ACKNOWLEDGMENT:
        marks["acknowledgment_breached_at"] = at
        marks["acknowledgment_warned_at"] = Coalesce("acknowledgment_warned_at", Value(at))
    elif definition.role in RESPONSE_ROLES:
        marks["resolution_overdue_at"] = Coalesce("resolution_overdue_at", Value(at))
    if definition.breach_escalates:
        marks.update(escalated_to_managers(reason=escalation_reason(definition), at=at))
    if marks:
        complaints_mark(complaint_ids, reason=_breach_history(definition), at=at, **marks)
    if definition.breach_message != BreachMessage.DELAY_NOTICE:
        return 0
    if late_answer_type(definition.profile_id):
        return 0
    notices = 0
    for complaint in Complaint.objects.filter(pk__in=complaint_ids).exclude(customer_email=""):
        messages.queue_delay_notice(complaint)
        notices += 1
    return notices


def clocks_warn(definition, clocks, *, at):
    ComplaintClock.objects.filter(pk__in=[clock.pk for clock in clocks]).update(warned_at=at)
    if definition.role == ClockRole.ACKNOWLEDGMENT:
        complaint_ids = sorted({clock.complaint_id for clock in clocks})
        complaints_mark(complaint_ids, reason=ACK_WARNED, at=at, acknowledgment_warned_at=at)
