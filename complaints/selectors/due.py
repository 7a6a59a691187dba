"""What the clock sweeps must act on. Each filter is the condition of a partial index
(migrations), so a sweep with nothing due reads a handful of index pages."""

from django.db.models import Exists, OuterRef

from complaints.models import (
    RESOLUTION_CLOCK_STAGES,
    Complaint,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)
from complaints.workflow import Stage


def acknowledgments_to_breach(now):
    return Complaint.objects.filter(
        stage=Stage.RECEIVED,
        acknowledgment_breached_at__isnull=True,
        acknowledgment_due_at__lte=now,
    )


def acknowledgments_to_warn(now, warn_after):
    return Complaint.objects.filter(
        stage=Stage.RECEIVED,
        acknowledgment_warned_at__isnull=True,
        received_at__lte=now - warn_after,
        acknowledgment_due_at__gt=now,
    )


def resolution_targets_missed(today):
    return Complaint.objects.filter(
        stage__in=RESOLUTION_CLOCK_STAGES,
        resolution_overdue_at__isnull=True,
        resolution_target_date__lt=today,
    )


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
