"""What the clock sweeps record, set-based: a batch of complaints marked (warned, breached,
overdue) and escalated in one statement, with one history row each and the customers' delay
notices, in the sweep's transaction. The sweeps (clocks/sweeps.py) choose and lock the batch
and tell the staff.

System changes have no user in their history row; their reason names what acted.
"""

from django.db.models import Value
from django.db.models.functions import Coalesce

from complaints.models import Complaint
from complaints.outbox import messages
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


def acknowledgments_breach(ids, *, at):
    """The acknowledgment deadline passed: mark, and escalate to the managers."""
    complaints_mark(
        ids,
        reason=ACK_BREACHED,
        at=at,
        acknowledgment_breached_at=at,
        # Past the deadline a warning is moot; the breach notice says it all.
        acknowledgment_warned_at=Coalesce("acknowledgment_warned_at", Value(at)),
        **escalated_to_managers(reason=ACK_BREACH_REASON, at=at),
    )


def acknowledgments_warn(ids, *, at):
    complaints_mark(ids, reason=ACK_WARNED, at=at, acknowledgment_warned_at=at)


def resolution_targets_miss(complaints, *, at):
    """The resolution target passed: mark, escalate to the managers and tell each customer
    with an email address of the delay, once per target. Returns the delay notices queued."""
    complaints_mark(
        [complaint.pk for complaint in complaints],
        reason=TARGET_MISSED,
        at=at,
        resolution_overdue_at=at,
        **escalated_to_managers(reason=TARGET_REASON, at=at),
    )
    notices = 0
    for complaint in complaints:
        if complaint.customer_email:
            messages.queue_delay_notice(complaint)
            notices += 1
    return notices
