"""What docs/operations.md promises of "sent once": a worker killed (SIGKILL) after the mail
server's 250, while it waits on the complaint's row lock to record the acknowledgment, does
not make the relay send the email again. The message was marked sent in a transaction of its
own before the worker touched the complaint; the acknowledgment it never recorded is made
good by the relay's reconciliation."""

import os
import signal
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from complaints import services
from complaints.models import MessageKind, MessageStatus, OutboundMessage
from complaints.outbox import messages as emails
from complaints.tasks import send_message
from complaints.workflow import Stage
from tests import factories
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def waiting_for_row_lock(table):
    """Backends blocked reading `table` under a lock (a row lock is waited for on the
    holder's transaction, so pg_locks names no table; the waiting query does, and its end,
    FOR UPDATE, is cut off by track_activity_query_size)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            [f'SELECT "{table}".%'],
        )
        return cursor.fetchall()


def test_a_worker_killed_after_the_250_with_the_complaint_locked_sends_nothing_twice(
    csr, smtp_server, tasks_to_worker, direct_connection, settings
):
    worker, handler = tasks_to_worker, smtp_server.handler
    settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW = True  # the row is written here, not at intake
    complaint = factories.complaint(csr, customer_email="priya@example.com")
    message = emails.queue_acknowledgment(complaint)

    # A colleague's save (or a sweep's batch) holds the complaint's row.
    with direct_connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM complaints_complaint WHERE id = %s FOR UPDATE", [complaint.pk]
        )
    send_message.delay(message.pk)

    # The server said 250; the worker now waits for the complaint to record the
    # acknowledgment, and the message is already marked sent.
    wait_until(
        lambda: handler.received and waiting_for_row_lock("complaints_complaint"),
        describe=lambda: f"The worker never waited on the complaint.\n{worker.log()}",
    )
    sent = OutboundMessage.objects.get(pk=message.pk)
    assert sent.status == MessageStatus.SENT and sent.sent_at is not None

    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    direct_connection.rollback()

    # Long after the stale-claim delay, the relay runs: nothing to send, one thing to record.
    later = timezone.now() + timedelta(seconds=settings.OUTBOX_STALE_CLAIM_SECONDS + 60)
    assert services.outbox_relay(later) == {"sent": 0, "still_pending": 0}

    assert len(handler.received) == 1
    assert mail.outbox == []
    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledged_at == sent.sent_at
    assert complaint.messages.filter(kind=MessageKind.ACKNOWLEDGMENT).count() == 1
