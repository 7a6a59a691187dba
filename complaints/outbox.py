"""Sending what the outbox holds, exactly once.

A message is claimed with a conditional update before it is sent, so two workers (a send
task and the relay, or a task delivered twice) never both send it. A failed send goes back
to pending with a growing delay; the relay retries it until it goes.
"""

import hashlib
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from complaints.models import (
    AcknowledgmentMethod,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)
from complaints.workflow import Refused, Stage

log = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-send; the relay takes it back.
STALE_CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts):
    """30 s, 1 min, 2 min, ... capped at an hour, with jitter so retries do not stampede."""
    seconds = min(30 * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311  (retry jitter)  # nosec B311


def safe_error(error):
    """The error's class and first line, never the SMTP conversation or credentials."""
    text = str(error).splitlines()[0] if str(error) else ""
    for secret in (settings.EMAIL_HOST_PASSWORD, settings.EMAIL_HOST_USER):
        if secret:
            text = text.replace(secret, "***")
    return f"{type(error).__name__}: {text}"[:300]


def _claim(message_id, now):
    claimable = Q(status=MessageStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    return (
        OutboundMessage.objects.filter(claimable, pk=message_id).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )


def _still_needed(message):
    """An acknowledgment is pointless once a CSR has acknowledged by phone meanwhile."""
    if message.kind == MessageKind.ACKNOWLEDGMENT and message.complaint_id:
        return message.complaint.acknowledged_at is None
    return True


def _email(message):
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
    domain = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "redress"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        # The same Message-ID on every attempt lets mail servers drop a duplicate.
        headers={"Message-ID": f"<{digest}@{domain}>"},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


def deliver(message_id, now=None):
    """Send one message if it is still to be sent. Returns True when this call sent it."""
    now = now or timezone.now()
    if not _claim(message_id, now):
        return False
    message = OutboundMessage.objects.select_related("complaint").get(pk=message_id)
    if not _still_needed(message):
        OutboundMessage.objects.filter(pk=message_id).update(status=MessageStatus.CANCELLED)
        return False
    try:
        _email(message).send(fail_silently=False)
    except Exception as error:  # noqa: BLE001  (any failure means: try again later)
        OutboundMessage.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
            status=MessageStatus.PENDING,
            next_attempt_at=now + backoff(message.attempts),
            last_error=safe_error(error),
        )
        log.warning(
            "Message %s not sent (attempt %s): %s", message_id, message.attempts, safe_error(error)
        )
        return False
    with transaction.atomic():
        sent_at = timezone.now()
        OutboundMessage.objects.filter(pk=message_id).update(
            status=MessageStatus.SENT, sent_at=sent_at, last_error=""
        )
        _after_sent(message, sent_at)
    return True


def _after_sent(message, sent_at):
    # Imported here: services import this module's caller, emails, at load time.
    from complaints import services

    if message.kind == MessageKind.ACKNOWLEDGMENT and message.complaint_id:
        complaint = message.complaint
        if complaint.stage == Stage.RECEIVED:
            try:
                services.complaint_acknowledge(
                    complaint,
                    actor=None,
                    method=AcknowledgmentMethod.EMAIL,
                    at=sent_at,
                    note="Acknowledgment email delivered to the customer",
                )
            except Refused as refusal:
                log.info("Acknowledgment of %s not recorded: %s", complaint.pk, refusal)


def due_message_ids(now=None, limit=500):
    now = now or timezone.now()
    return list(
        OutboundMessage.objects.filter(
            Q(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=MessageStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def relay(now=None):
    """Send everything due; what fails waits for its backoff. Returns (sent, still_pending)."""
    sent = 0
    ids = due_message_ids(now)
    for message_id in ids:
        sent += deliver(message_id, now)
    return sent, len(ids) - sent


def send_after_commit(message):
    """Ask a worker to send the message once the transaction that wrote it has committed.

    If the broker is down the request still succeeds: the row is pending and the relay
    (every minute, from beat) sends it when things recover.
    """

    def publish():
        from complaints.tasks import send_message

        try:
            send_message.delay(message.pk)
        except Exception as error:  # noqa: BLE001  (a dead broker must not fail the request)
            log.warning("Broker unavailable, message %s left to the relay: %s", message.pk, error)

    transaction.on_commit(publish)
