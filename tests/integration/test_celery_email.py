"""An acknowledgment through the real pieces: the intake commits, a Celery worker picks the
send task up from Redis, a mail server on loopback greylists the first attempt, and the
relay delivers it once."""

from email import message_from_bytes, policy

import pytest
from django.db import transaction
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, MessageKind, MessageStatus, OutboundMessage
from complaints.outbox import messages as emails
from complaints.tasks import relay_outbox, send_message
from complaints.workflow import Stage
from tests import factories
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def parsed(received):
    message = message_from_bytes(received.content, policy=policy.default)
    return message, message.get_body(preferencelist=("plain",)).get_content()


def row(message):
    return OutboundMessage.objects.get(pk=message.pk)


def test_greylisted_acknowledgment_is_retried_by_the_relay_and_delivered_exactly_once(
    csr, smtp_server, tasks_to_worker
):
    worker, handler = tasks_to_worker, smtp_server.handler
    handler.refusals = 1

    with transaction.atomic():
        complaint = services.complaint_create(
            actor=csr, data=factories.complaint_data(customer_email="priya@example.com")
        )
    message = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)

    # The worker's first attempt meets "451 Try again later": the row waits for the relay.
    wait_until(
        lambda: row(message).last_error,
        describe=lambda: f"No failed attempt recorded.\n{worker.log()}",
    )
    first = row(message)
    assert (first.status, first.attempts) == (MessageStatus.PENDING, 1)
    assert first.last_error.startswith("SMTPRecipientsRefused")
    assert "451" in first.last_error
    assert first.next_attempt_at > timezone.now()
    assert handler.refused == ["priya@example.com"]
    assert handler.received == []
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RECEIVED

    # The backoff is over; beat's relay task runs on the worker.
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    relay_outbox.delay()
    wait_until(
        lambda: row(message).status == MessageStatus.SENT,
        describe=lambda: f"Not sent: {row(message).last_error}\n{worker.log()}",
    )

    assert len(handler.received) == 1
    [received] = handler.received
    assert received.rcpt_tos == ["priya@example.com"]
    email, body = parsed(received)
    assert email["To"] == "priya@example.com"
    assert email["Subject"] == f"We have received your complaint ({complaint.reference})"
    assert f"Your reference is {complaint.reference}." in body
    assert "Dear Priya Shah," in body
    sent = row(message)
    assert (sent.attempts, sent.last_error) == (2, "")
    # The row is marked sent straight after the server's 250, in a transaction of its own;
    # the worker records the acknowledgment on the case just after (delivery.py).
    wait_until(
        lambda: Complaint.objects.get(pk=complaint.pk).stage == Stage.ACKNOWLEDGED,
        describe=lambda: f"Sent but never acknowledged.\n{worker.log()}",
    )
    complaint.refresh_from_db()
    assert complaint.acknowledgment_method == "email"
    assert complaint.acknowledged_at == sent.sent_at


def test_send_task_delivered_again_does_not_send_the_email_again(csr, smtp_server, tasks_to_worker):
    worker, handler = tasks_to_worker, smtp_server.handler
    complaint = factories.complaint(csr)  # commits, and the worker sends the acknowledgment
    acknowledgment = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    wait_until(
        lambda: row(acknowledgment).status == MessageStatus.SENT,
        describe=lambda: f"Not sent.\n{worker.log()}",
    )

    # The broker redelivers the task twice (a lost ack, a worker restart) ...
    send_message.delay(acknowledgment.pk)
    send_message.delay(acknowledgment.pk)
    # ... then another message; the solo worker takes them in order.
    marker = emails.queue_delay_notice(complaint)
    send_message.delay(marker.pk)
    wait_until(
        lambda: len(handler.received) >= 2,
        describe=lambda: f"Received {len(handler.received)}.\n{worker.log()}",
    )

    subjects = [parsed(received)[0]["Subject"] for received in handler.received]
    assert subjects == [
        f"We have received your complaint ({complaint.reference})",
        f"An update on your complaint ({complaint.reference})",
    ]
    assert row(acknowledgment).attempts == 1
