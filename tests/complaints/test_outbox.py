"""Sending what the outbox holds exactly once: claims, races, failures and their backoff,
stale claims, and a dead broker that delays an email but never fails the intake."""

import logging
import smtplib
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu import pools as kombu_pools
from kombu.utils.collections import eqhash

from complaints import outbox, services
from complaints.models import (
    Complaint,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    StageChange,
)
from complaints.outbox import messages as emails
from complaints.workflow import Stage
from config.celery import app as celery_app
from tests import factories
from tests.threads import run_together

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
DISCONNECTING = f"{__name__}.DisconnectingBackend"
# Nothing listens here: connecting is refused at once, as with a broker that is down.
DEAD_BROKER = "redis://127.0.0.1:6399/0"
TIMEOUT = 30


class DisconnectingBackend(BaseEmailBackend):
    """A mail server that drops the connection, with the password in its error message."""

    attempted = []  # the Message-ID of every message it was asked to send

    def send_messages(self, email_messages):
        self.attempted.extend(m.extra_headers["Message-ID"] for m in email_messages)
        raise smtplib.SMTPServerDisconnected(
            f"Connection unexpectedly closed after AUTH PLAIN with password "
            f"{django_settings.EMAIL_HOST_PASSWORD}\nSecond line of the SMTP conversation"
        )


@contextmanager
def celery_broker(url):
    """Point the Celery app at another broker; afterwards close the pools made for it and
    give the app back its own (kombu keeps those registered under their URL)."""
    previous = celery_app.conf.broker_url
    celery_app._pool = celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        key = eqhash(celery_app.connection_for_write())
        for group in (kombu_pools.producers, kombu_pools.connections):
            pool = dict.pop(group, key, None)
            if pool is not None:
                pool.force_close_all()
        celery_app._pool = celery_app.amqp._producer_pool = None
        celery_app.conf.broker_url = previous


def acknowledgment_of(complaint):
    return complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)


def reload(message):
    return OutboundMessage.objects.get(pk=message.pk)


# One process ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delivering_the_acknowledgment_sends_it_once_and_acknowledges_the_complaint(csr):
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)

    assert services.message_deliver(message.pk) is True

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["priya@example.com"]
    assert sent.from_email == django_settings.DEFAULT_FROM_EMAIL
    assert sent.subject == f"We have received your complaint ({complaint.reference})"
    assert sent.body == message.body_text
    assert sent.alternatives[0][0] == message.body_html
    assert sent.alternatives[0][1] == "text/html"
    message = reload(message)
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    assert message.last_error == ""

    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledgment_method == "email"
    assert complaint.acknowledged_at == message.sent_at
    change = complaint.stage_changes.get(to_stage=Stage.ACKNOWLEDGED)
    assert change.actor is None
    assert change.at == message.sent_at
    assert change.from_stage == Stage.RECEIVED


@pytest.mark.django_db
def test_an_acknowledgment_sent_but_not_recorded_is_recorded_by_the_next_relay(csr):
    """A worker that dies between the sent mark and the workflow's record of it leaves the
    complaint waiting; the relay records it, at the moment the email went, and sends nothing."""
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)
    assert outbox.deliver(message.pk) is True  # the send and its mark, nothing more
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RECEIVED

    assert services.outbox_relay() == {"sent": 0, "still_pending": 0}

    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledged_at == reload(message).sent_at
    assert len(mail.outbox) == 1
    assert services.outbox_relay() == {"sent": 0, "still_pending": 0}
    assert complaint.stage_changes.filter(to_stage=Stage.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sent_mark_does_not_wait_for_a_lock_held_on_the_complaint(csr):
    """The sent mark commits at once, in its own transaction, while a colleague's save (or a
    sweep's batch) holds the complaint: a worker killed then cannot send the message again."""
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)
    locked, release = threading.Event(), threading.Event()

    def hold_the_complaint():
        with transaction.atomic():
            Complaint.objects.select_for_update().get(pk=complaint.pk)
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_the_complaint, daemon=True)
    holder.start()
    delivering = threading.Thread(
        target=lambda: (outbox.deliver(message.pk), connection.close()), daemon=True
    )
    try:
        assert locked.wait(10)
        delivering.start()
        # Seen committed by this connection while the complaint is still locked; a generous
        # bound, for a mark that takes milliseconds.
        deadline = time.monotonic() + 10
        while reload(message).status != MessageStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reload(message).status == MessageStatus.SENT
        assert holder.is_alive()
    finally:
        release.set()
        holder.join(30)
        delivering.join(30)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_delivering_twice_sends_once(csr):
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)

    assert services.message_deliver(message.pk) is True
    assert services.message_deliver(message.pk) is False
    assert services.outbox_relay() == {"sent": 0, "still_pending": 0}

    assert len(mail.outbox) == 1
    assert reload(message).attempts == 1
    assert StageChange.objects.filter(complaint=complaint, to_stage=Stage.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db
def test_every_attempt_of_a_message_carries_the_same_message_id(csr, settings):
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)
    other = emails.queue_delay_notice(complaint)
    DisconnectingBackend.attempted.clear()
    settings.EMAIL_BACKEND = DISCONNECTING
    assert services.message_deliver(message.pk) is False
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    settings.EMAIL_BACKEND = LOCMEM

    assert services.message_deliver(message.pk) is True
    assert services.message_deliver(other.pk) is True

    [failed_attempt_id] = DisconnectingBackend.attempted
    assert mail.outbox[0].extra_headers["Message-ID"] == failed_attempt_id
    assert mail.outbox[1].extra_headers["Message-ID"] != failed_attempt_id


@pytest.mark.django_db
def test_acknowledgment_is_cancelled_not_sent_when_the_csr_acknowledged_by_phone_meanwhile(csr):
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.complaint_acknowledge(complaint, actor=csr, method="phone")

    assert services.message_deliver(message.pk) is False

    assert mail.outbox == []
    assert reload(message).status == MessageStatus.CANCELLED
    complaint.refresh_from_db()
    assert complaint.acknowledgment_method == "phone"
    assert services.outbox_relay() == {"sent": 0, "still_pending": 0}
    assert mail.outbox == []


@pytest.mark.django_db
def test_failed_send_waits_for_its_backoff_keeps_no_password_then_the_relay_sends_it(csr, settings):
    settings.EMAIL_HOST_PASSWORD = "hunter2"
    settings.EMAIL_BACKEND = DISCONNECTING
    complaint = factories.complaint(csr)
    message = acknowledgment_of(complaint)

    before = timezone.now()
    assert services.message_deliver(message.pk) is False

    message = reload(message)
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 1
    # The first retry comes after about 30 s (with jitter), not at once and not in an hour.
    assert before + timedelta(seconds=20) < message.next_attempt_at
    assert message.next_attempt_at < timezone.now() + timedelta(seconds=40)
    assert message.last_error.startswith("SMTPServerDisconnected: Connection unexpectedly")
    assert "hunter2" not in message.last_error
    assert "***" in message.last_error
    assert "Second line" not in message.last_error
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RECEIVED

    # The mail server is back, but the backoff has not elapsed: the relay leaves it alone.
    settings.EMAIL_BACKEND = LOCMEM
    assert services.outbox_relay() == {"sent": 0, "still_pending": 0}
    assert mail.outbox == []
    assert reload(message).attempts == 1

    # The backoff elapses.
    OutboundMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.outbox_relay() == {"sent": 1, "still_pending": 0}

    assert len(mail.outbox) == 1
    message = reload(message)
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED


@pytest.mark.django_db
def test_failed_send_keeps_the_password_out_of_the_logs(csr, settings, caplog):
    settings.EMAIL_HOST_PASSWORD = "hunter2"
    settings.EMAIL_BACKEND = DISCONNECTING
    message = acknowledgment_of(factories.complaint(csr))

    with caplog.at_level(logging.DEBUG, logger="complaints.outbox"):
        assert services.message_deliver(message.pk) is False

    assert "not sent" in caplog.text
    assert "hunter2" not in caplog.text


@pytest.mark.django_db
def test_relay_given_a_later_time_sends_what_is_due_by_then(csr, settings):
    settings.EMAIL_BACKEND = DISCONNECTING
    message = acknowledgment_of(factories.complaint(csr))
    services.message_deliver(message.pk)
    settings.EMAIL_BACKEND = LOCMEM
    later = reload(message).next_attempt_at + timedelta(seconds=1)

    assert services.outbox_relay(now=later) == {"sent": 1, "still_pending": 0}
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_relay_takes_back_a_stale_sending_claim_but_not_a_fresh_one(csr):
    stale = acknowledgment_of(factories.complaint(csr))
    fresh = acknowledgment_of(factories.complaint(csr, customer_email="sam@example.com"))
    now = timezone.now()
    # A worker claimed each and died (stale) or is still sending (fresh).
    OutboundMessage.objects.filter(pk=stale.pk).update(
        status=MessageStatus.SENDING,
        claimed_at=now - outbox.stale_claim() - timedelta(minutes=1),
        attempts=1,
    )
    OutboundMessage.objects.filter(pk=fresh.pk).update(
        status=MessageStatus.SENDING, claimed_at=now - timedelta(minutes=1), attempts=1
    )

    assert services.outbox_relay() == {"sent": 1, "still_pending": 0}

    assert [m.to for m in mail.outbox] == [["priya@example.com"]]
    stale, fresh = reload(stale), reload(fresh)
    assert (stale.status, stale.attempts) == (MessageStatus.SENT, 2)
    assert (fresh.status, fresh.attempts) == (MessageStatus.SENDING, 1)
    assert services.message_deliver(fresh.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_intake_hands_the_acknowledgment_to_a_worker_only_after_commit(
    csr, django_capture_on_commit_callbacks
):
    # The category and product first: creating them schedules the regulatory catalogue's
    # refresh, which is not what this test counts.
    data = factories.complaint_data()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complaint = services.complaint_create(actor=csr, data=data)

    assert len(callbacks) == 1
    assert acknowledgment_of(complaint).status == MessageStatus.PENDING
    assert mail.outbox == []


# Several connections ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_number", range(3))
def test_relay_and_send_task_racing_for_one_message_send_it_exactly_once(
    csr, settings, round_number
):
    # Held for review, so creating the complaint publishes nothing to a real broker.
    settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW = True
    complaint = factories.complaint(csr, customer_email=f"race{round_number}@example.com")
    message = emails.queue_acknowledgment(complaint)

    relayed, delivered = run_together(
        services.outbox_relay, lambda: services.message_deliver(message.pk)
    )

    assert relayed["sent"] + int(delivered) == 1, (relayed, delivered)
    assert [m.to for m in mail.outbox] == [[f"race{round_number}@example.com"]]
    message = reload(message)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert StageChange.objects.filter(complaint=complaint, to_stage=Stage.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_message_send_it_exactly_once(csr, settings):
    settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW = True
    message = emails.queue_acknowledgment(factories.complaint(csr))

    outcomes = run_together(*[lambda: services.message_deliver(message.pk)] * 4)

    assert sorted(outcomes) == [False, False, False, True]
    assert len(mail.outbox) == 1
    assert reload(message).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_intake_with_the_broker_down_still_logs_the_complaint_and_the_relay_sends_later(
    client, csr, caplog
):
    client.force_login(csr)
    data = {
        "channel": "email",
        "customer_name": "Priya Shah",
        "customer_email": "priya@example.com",
        "customer_phone": "",
        "date_of_complaint": timezone.localdate().isoformat(),
        "category": factories.category().pk,
        "product": factories.product().pk,
        "transaction_reference": "",
        "complexity": "standard",
        "description": "I was charged twice for one purchase.",
        "interaction_details": "Emailed the complaints address.",
    }

    with celery_broker(DEAD_BROKER), caplog.at_level(logging.WARNING, "complaints.outbox"):
        started = time.monotonic()
        response = client.post(reverse("complaints:create"), data)
        elapsed = time.monotonic() - started

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("complaints:detail", args=[complaint.pk])
    # A behaviour check with a generous bound: the request does not hang on the broker.
    assert elapsed < 15, f"the intake took {elapsed:.1f} s with the broker down"
    message = acknowledgment_of(complaint)
    # The send task was attempted after commit and failed; the row waits for the relay.
    assert f"Broker unavailable, message {message.pk} left to the relay" in caplog.text
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
    assert mail.outbox == []

    # The broker is back; beat's relay run picks the message up.
    assert services.outbox_relay() == {"sent": 1, "still_pending": 0}
    assert services.outbox_relay() == {"sent": 0, "still_pending": 0}

    assert [m.to for m in mail.outbox] == [["priya@example.com"]]
    assert reload(message).status == MessageStatus.SENT
    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED
