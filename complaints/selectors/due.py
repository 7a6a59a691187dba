"""What the clock sweeps must act on. Each filter is the condition of a partial index
(migrations), so a sweep with nothing due reads a handful of index pages."""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from complaints.models import (
    ClockRole,
    Complaint,
    ComplaintClock,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)
from complaints.workflow import Stage

# The condition both sweep indexes share (ComplaintClock.Meta.indexes).
UNBREACHED_AND_TICKING = {
    "stopped_at__isnull": True,
    "breached_at__isnull": True,
    "paused_at__isnull": True,
}


def clocks_to_breach(now, definition_ids):
    """Running clocks past their due moment, not yet breached (index clock_to_breach)."""
    return ComplaintClock.objects.filter(
        **UNBREACHED_AND_TICKING, due_at__lte=now, definition_id__in=definition_ids
    )


def clocks_to_warn(now, definition_ids):
    """Running clocks past their warning point and still before due (index clock_to_warn):
    one first swept after its due moment is breached instead."""
    return ComplaintClock.objects.filter(
        **UNBREACHED_AND_TICKING,
        warned_at__isnull=True,
        warn_at__isnull=False,
        warn_at__lte=now,
        due_at__gt=now,
        definition_id__in=definition_ids,
    )


def clocks_missed(complaint_ids):
    """{complaint id: [names of the running clocks it has missed]}, for a page of the
    escalation queue: those whose breach escalates (a missed early-resolution window is no
    one's alarm). The acknowledgment and the resolution target have tags of their own."""
    missed = {}
    for complaint_id, name in (
        ComplaintClock.objects.filter(
            complaint_id__in=complaint_ids,
            stopped_at__isnull=True,
            breached_at__isnull=False,
            definition__breach_escalates=True,
        )
        .exclude(definition__role__in=[ClockRole.ACKNOWLEDGMENT, ClockRole.RESOLUTION_TARGET])
        .order_by("breached_at", "pk")
        .values_list("complaint_id", "definition__name")
    ):
        missed.setdefault(complaint_id, []).append(name)
    return missed


def clocks_in_words(complaint_ids):
    """{complaint id: "Acknowledgment deadline due 2026-12-05 14:02 met; ..."}, for exports."""
    described = {}
    clocks = (
        ComplaintClock.objects.filter(complaint_id__in=complaint_ids)
        .order_by("started_at", "due_at", "pk")
        .values_list("complaint_id", "definition__name", "due_at", "met", "breached_at")
    )
    for complaint_id, name, due_at, met, breached_at in clocks:
        if met is None:
            outcome = "missed" if breached_at else "running"
        else:
            outcome = "met" if met else "missed"
        due = timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")
        described.setdefault(complaint_id, []).append(f"{name} due {due} {outcome}")
    return {complaint_id: "; ".join(parts) for complaint_id, parts in described.items()}


def follow_ups_to_request(started_before):
    return Complaint.objects.filter(
        stage=Stage.FOLLOW_UP,
        feedback_requested_at__isnull=True,
        follow_up_started_at__lte=started_before,
    )


def follow_ups_to_remind(requested_before):
    return Complaint.objects.filter(
        stage=Stage.FOLLOW_UP,
        feedback_reminded_at__isnull=True,
        feedback_requested_at__lte=requested_before,
    )


def follow_ups_to_close(reminded_before):
    return Complaint.objects.filter(
        stage=Stage.FOLLOW_UP, feedback_reminded_at__lte=reminded_before
    )


def acknowledgments_sent_unrecorded(limit):
    """Acknowledgment emails sent whose complaint still waits for its acknowledgment: a worker
    died between marking the message sent and recording what that means.

    Found from the complaints awaiting acknowledgment (few, through their partial index),
    each probed for a sent acknowledgment, never by scanning the messages (one per complaint
    ever received)."""
    sent = OutboundMessage.objects.filter(
        kind=MessageKind.ACKNOWLEDGMENT, status=MessageStatus.SENT
    )
    ids = list(
        Complaint.objects.filter(stage=Stage.RECEIVED, acknowledged_at__isnull=True)
        .filter(Exists(sent.filter(complaint=OuterRef("pk"))))
        .values_list("pk", flat=True)[:limit]
    )
    return sent.filter(complaint_id__in=ids).select_related("complaint").order_by("sent_at")
