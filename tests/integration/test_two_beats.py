"""Two Celery beats at once, and a beat that was stopped while a deadline passed.

Running two beats by mistake (an old one left behind by a deploy, two hosts configured the
same) doubles every tick, and a worker with several processes runs the doubled sweeps side
by side. The jobs claim their work in the database, so each complaint must still be
escalated once and each person told once. The test holds the outbox table locked until two
sweeps are in flight at once, each holding the complaints it claimed, so the overlap is
certain rather than left to timing. And since the jobs scan the database rather than wait on
a countdown, a complaint whose deadline passed while no beat ran is caught by the first run
after beat starts again.
"""

from datetime import timedelta

import pytest
import redis
from django.db.models import Q
from django.utils import timezone

from accounts.roles import Role
from complaints import services
from complaints.models import Complaint, JobRun, MessageStatus, OutboundMessage
from tests import factories
from tests.conftest import make_user
from tests.integration.conftest import waiting_on
from tests.integration.test_beat_escalation import (
    BREACHED_REASON,
    JOB,
    Celery,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A Redis database of this module's own (the other integration tests use 5 and 6).
BROKER_URL = "redis://127.0.0.1:6379/7"
WARNED_REASON = "Acknowledgment due soon: warned"
MANAGERS = ("manager@staff.example.com", "manager2@staff.example.com")
CSR = "csr@staff.example.com"


class Beats(Celery):
    """test_beat_escalation's worker and beat processes (both jobs every 2 s), on this
    module's Redis database, with any number of beats, each with a schedule file of its own."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path)
        self.env.update(CELERY_BROKER_URL=BROKER_URL, REDIS_URL=BROKER_URL, PYTHONUNBUFFERED="1")

    def start_named_beat(self, name, schedule=None):
        return self._start(
            name,
            "beat",
            "--schedule",
            str(self.tmp_path / f"{schedule or name}-schedule"),
            "--pidfile",
            str(self.tmp_path / f"{name}.pid"),
            "--loglevel",
            "INFO",
        )

    def ticks(self, name):
        """How many times beat `name` has sent the acknowledgment deadline job."""
        log = (self.tmp_path / f"{name}.log").read_text(errors="replace")
        return log.count(f"Sending due task {JOB}")

    def idle(self):
        """Nothing waiting in the queue and nothing taken but unfinished (tasks are
        acknowledged late, so a task being run is still in the broker's unacked set)."""
        client = redis.Redis.from_url(BROKER_URL)
        try:
            return client.llen(self.queue) == 0 and client.hlen("unacked") == 0
        finally:
            client.close()


def flush_broker():
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def beats(transactional_db, tmp_path):
    """Torn down before the database is flushed: no process may still hold a connection."""
    flush_broker()
    running = Beats(tmp_path)
    yield running
    running.stop_all()
    flush_broker()


def logged(csr, received_at, name):
    # No customer email: an acknowledgment email, once delivered, would acknowledge the
    # complaint and there would be no deadline to enforce.
    return services.complaint_create(
        actor=csr,
        data=factories.complaint_data(
            customer_name=name,
            customer_email="",
            customer_phone="07700 900123",
            date_of_complaint=timezone.localdate(received_at),
        ),
        received_at=received_at,
    )


def finished_sweeps():
    return JobRun.objects.filter(name=JOB, finished_at__isnull=False)


def messages_about(complaint, recipient):
    return OutboundMessage.objects.filter(
        recipient=recipient, body_text__contains=complaint.reference
    ).count()


def emails_about(sent, complaint, recipient):
    return sum(
        1
        for email in sent
        if email["to"] == recipient
        and complaint.reference in email.get_body(("plain",)).get_content()
    )


def test_two_beats_at_once_escalate_and_warn_each_complaint_exactly_once(
    beats, direct_connection, csr, manager, django_user_model
):
    manager.email = MANAGERS[0]
    manager.save(update_fields=["email"])
    make_user(django_user_model, "manager2", Role.MANAGER, email=MANAGERS[1])
    csr.email = CSR
    csr.save(update_fields=["email"])
    now = timezone.now()
    overdue = [logged(csr, now - timedelta(hours=25), f"Overdue {n}") for n in range(5)]
    warning_due = [logged(csr, now - timedelta(hours=19), f"Warning {n}") for n in range(3)]
    fresh = logged(csr, now - timedelta(hours=1), "Fresh")
    overdue_ids = [c.pk for c in overdue]
    warning_ids = [c.pk for c in warning_due]

    def all_done():
        return (
            Complaint.objects.filter(
                pk__in=overdue_ids, acknowledgment_breached_at__isnull=False
            ).count()
            == len(overdue)
            and Complaint.objects.filter(
                pk__in=warning_ids, acknowledgment_warned_at__isnull=False
            ).count()
            == len(warning_due)
            and OutboundMessage.objects.exists()
            and not OutboundMessage.objects.exclude(status=MessageStatus.SENT).exists()
        )

    outbox = OutboundMessage._meta.db_table
    direct_connection.execute(f"LOCK TABLE {outbox} IN EXCLUSIVE MODE")

    def sweeps_waiting():
        return {
            pid for pid, query in waiting_on(outbox) if query.lstrip().upper().startswith("INSERT")
        }

    try:
        processes = [
            beats.start_named_beat("beat-a"),
            beats.start_named_beat("beat-b"),
            beats.start_worker("worker", pool="prefork", concurrency=4),
        ]
        # One sweep has claimed the overdue complaints, the other (finding them locked) the
        # ones due a warning; both now wait to write their notifications.
        wait_for(lambda: len(sweeps_waiting()) >= 2, 60, "two sweeps at once", processes)
        direct_connection.rollback()
        wait_for(all_done, 60, "every complaint to be escalated or warned, and told", processes)
        # Both beats keep ticking for a few more cycles; every extra run finds nothing.
        ticks = {name: beats.ticks(name) for name in ("beat-a", "beat-b")}
        runs = finished_sweeps().count()
        wait_for(
            lambda: (
                all(beats.ticks(name) >= count + 3 for name, count in ticks.items())
                and finished_sweeps().count() >= runs + 6
            ),
            40,
            "three more ticks of each beat, run",
            processes,
        )
    except BaseException:
        beats.stop_all()
        print(beats.logs())
        raise
    beats.stop_all()

    # Both beats really ran: every tick was doubled.
    assert beats.ticks("beat-a") >= 4 and beats.ticks("beat-b") >= 4
    sweeps = list(finished_sweeps())
    assert len(sweeps) >= 8
    assert not JobRun.objects.filter(name=JOB, finished_at__isnull=True).exists()
    # The two sweeps that ran at once did all the work between them; no other run did any.
    did_work = [(run.summary["breached"], run.summary["warned"]) for run in sweeps]
    assert sorted(work for work in did_work if work != (0, 0)) == [(0, 3), (5, 0)]

    for complaint in overdue:
        complaint.refresh_from_db()
        assert complaint.acknowledgment_breached_at is not None
        assert complaint.escalation_level == "manager"
        assert complaint.escalation_reason == "acknowledgment deadline missed"
        assert complaint.history.filter(history_change_reason=BREACHED_REASON).count() == 1
        assert complaint.stage == "received"
    for complaint in warning_due:
        complaint.refresh_from_db()
        assert complaint.acknowledgment_breached_at is None
        assert complaint.escalation_level == ""
        assert complaint.history.filter(history_change_reason=WARNED_REASON).count() == 1
    fresh.refresh_from_db()
    assert (fresh.acknowledgment_warned_at, fresh.acknowledgment_breached_at) == (None, None)

    # The outbox: each manager told once about each overdue complaint, the CSR once about
    # each complaint due soon, nobody about anything else; every message sent once.
    for complaint in overdue:
        assert [messages_about(complaint, address) for address in (*MANAGERS, CSR)] == [1, 1, 0]
    for complaint in warning_due:
        assert [messages_about(complaint, address) for address in (*MANAGERS, CSR)] == [0, 0, 1]
    assert not OutboundMessage.objects.filter(body_text__contains=fresh.reference).exists()
    messages = list(OutboundMessage.objects.all())
    assert {(m.status, m.attempts) for m in messages} == {(MessageStatus.SENT, 1)}
    assert not OutboundMessage.objects.filter(~Q(recipient__in=[*MANAGERS, CSR])).exists()

    # And what reached the mail backend: the same, once each.
    sent = beats.sent_emails()
    assert len(sent) == len(messages), [m["subject"] for m in sent]
    for complaint in overdue:
        assert [emails_about(sent, complaint, address) for address in (*MANAGERS, CSR)] == [1, 1, 0]
    for complaint in warning_due:
        assert [emails_about(sent, complaint, address) for address in (*MANAGERS, CSR)] == [0, 0, 1]


def test_a_complaint_that_became_overdue_while_no_beat_ran_is_escalated_by_the_first_run_after(
    beats, csr, manager
):
    manager.email = MANAGERS[0]
    manager.save(update_fields=["email"])
    try:
        worker = beats.start_worker("worker")
        beat = beats.start_named_beat("beat", schedule="beat")
        wait_for(lambda: finished_sweeps().exists(), 45, "a first sweep", [worker, beat])
        beat.terminate()
        beat.wait(10)
        wait_for(beats.idle, 30, "the queue to drain", [worker])

        # No beat runs. A complaint's acknowledgment deadline passes.
        runs_before = finished_sweeps().count()
        complaint = logged(csr, timezone.now() - timedelta(hours=24, seconds=-3), "Unlucky")
        assert complaint.acknowledgment_due_at > timezone.now()
        wait_for(
            lambda: timezone.now() > complaint.acknowledgment_due_at + timedelta(seconds=1),
            10,
            "the deadline to pass",
        )
        assert finished_sweeps().count() == runs_before
        complaint.refresh_from_db()
        assert complaint.acknowledgment_breached_at is None

        # Beat starts again with its schedule file, as after a stop of hours.
        restarted = timezone.now()
        beat = beats.start_named_beat("beat-again", schedule="beat")
        wait_for(
            lambda: finished_sweeps().filter(started_at__gte=restarted).exists(),
            45,
            "the first sweep after the restart",
            [worker, beat],
        )
        wait_for(
            lambda: OutboundMessage.objects.filter(status=MessageStatus.SENT).exists(),
            30,
            "the managers' notification to be sent",
            [worker, beat],
        )
    except BaseException:
        beats.stop_all()
        print(beats.logs())
        raise
    beats.stop_all()

    first = finished_sweeps().filter(started_at__gte=restarted).earliest("started_at")
    assert first.summary["breached"] == 1
    complaint.refresh_from_db()
    assert first.started_at <= complaint.acknowledgment_breached_at <= first.finished_at
    assert complaint.escalation_level == "manager"
    assert complaint.history.filter(history_change_reason=BREACHED_REASON).count() == 1
    [message] = OutboundMessage.objects.all()
    assert (message.recipient, message.status, message.attempts) == (
        MANAGERS[0],
        MessageStatus.SENT,
        1,
    )
    assert complaint.reference in message.body_text
    [sent] = beats.sent_emails()
    assert sent["to"] == MANAGERS[0]
    assert complaint.reference in sent.get_body(("plain",)).get_content()
