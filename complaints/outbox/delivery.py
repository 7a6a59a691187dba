"""Sending what the outbox holds, exactly once.

A message is claimed with a conditional update before it is sent, so two workers (a send
task and the relay, or a task delivered twice) never both send it. A failed send goes back
to pending with a growing delay; the relay retries it until it goes.

This is infrastructure: it knows message rows and the mail server, not the workflow. What a
delivery means for the case (an acknowledgment email acknowledges the complaint) is the
service's business, called by the task after `deliver` returns.
"""

import hashlib
import logging
import random
from datetime import timedelta
from email.utils import formataddr, parseaddr

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from complaints.models import (
    EXIT_NOTICES,
    InboundMessage,
    InboundStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def stale_claim():
    """How old a claim must be before the relay takes it back from a worker presumed dead.

    Longer than any send can last (OUTBOX_STALE_CLAIM_SECONDS, by default twelve times
    EMAIL_TIMEOUT: an SMTP conversation is about ten exchanges, each bounded by the timeout),
    so a live worker's message is never sent a second time beside it.
    """
    return timedelta(seconds=settings.OUTBOX_STALE_CLAIM_SECONDS)


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
        status=MessageStatus.SENDING, claimed_at__lt=now - stale_claim()
    )
    return (
        OutboundMessage.objects.filter(claimable, pk=message_id).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )


def _still_needed(message):
    """An acknowledgment is pointless once a CSR has acknowledged by phone meanwhile, and
    nothing but the notice of its exit goes to the customer of a case that has left the
    procedure (withdrawn, merged, not a complaint)."""
    if (
        message.to_customer
        and message.complaint_id
        and message.complaint.has_exited
        and message.kind not in EXIT_NOTICES
    ):
        return False
    if message.kind == MessageKind.ACKNOWLEDGMENT and message.complaint_id:
        return message.complaint.acknowledged_at is None
    return True


def message_id_for(idempotency_key):
    """The Message-ID a message goes out with, the same on every attempt, so mail servers can
    drop a duplicate and replies (In-Reply-To, References) name the message they answer."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "redress"
    return f"<{digest}@{domain}>"


def reply_address(reference):
    """complaints+CMP-2026-000027@example.com: the complaint's own address, so a reply finds
    its complaint even when the customer's mail program drops the subject and headers."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    local, _, domain = address.partition("@")
    if not settings.INBOUND_PLUS_ADDRESSING or not domain:
        return ""
    return formataddr((name, f"{local}+{reference}@{domain}"))


def _answering(message):
    """A reply names the customer's latest email, so their mail program shows one thread."""
    latest = (
        InboundMessage.objects.filter(
            complaint_id=message.complaint_id,
            status__in=[InboundStatus.THREADED, InboundStatus.NEW_COMPLAINT],
            received_at__lte=message.created_at,
        )
        .order_by("-received_at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    return {"In-Reply-To": latest, "References": latest} if latest else {}


def _email(message):
    headers = {"Message-ID": message.message_id or message_id_for(message.idempotency_key)}
    if message.to_customer and message.complaint_id:
        reply_to = reply_address(message.complaint.reference)
        if reply_to:
            headers["Reply-To"] = reply_to
    if message.kind == MessageKind.REPLY:
        headers.update(_answering(message))
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers=headers,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments.all():
        email.attach(
            attachment.original_name,
            attachment.path.read_bytes(),
            attachment.content_type.split(";")[0],
        )
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
    # Marked sent in a transaction of its own, straight after the server's 250: waiting here
    # on anything else (the complaint's row lock, say) widens the window in which a killed
    # worker leaves a sent message to be claimed and sent again.
    OutboundMessage.objects.filter(pk=message_id).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def due_message_ids(now=None, limit=500):
    now = now or timezone.now()
    return list(
        OutboundMessage.objects.filter(
            Q(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=MessageStatus.SENDING, claimed_at__lt=now - stale_claim())
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


SEND_MESSAGE_TASK = "complaints.tasks.send_message"
RELAY_TASK = "complaints.tasks.relay_outbox"


def publish_after_commit(task_name, *args, subject=None):
    """Ask a worker to run a task once the transaction that wrote its rows has committed.

    By name, so this module needs neither the tasks nor the services they call. If the broker
    is down the request still succeeds: the rows are pending and the relay (every minute,
    from beat) sends them when things recover.
    """

    def publish():
        try:
            current_app.send_task(task_name, args=args)
        except Exception as error:  # noqa: BLE001  (a dead broker must not fail the request)
            log.warning("Broker unavailable, %s left to the relay: %s", subject or task_name, error)

    transaction.on_commit(publish)


def send_after_commit(message):
    publish_after_commit(SEND_MESSAGE_TASK, message.pk, subject=f"message {message.pk}")
