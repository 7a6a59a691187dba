"""A real Celery beat and worker escalate a missed acknowledgment deadline exactly once, even
when the worker is killed (SIGKILL) in the middle of the job.

The test holds an EXCLUSIVE lock on the outbox table, so the first sweep blocks right after it
has marked the complaint breached and before it can write the managers' notification, i.e.
halfway through its transaction. The worker is killed there; its transaction must roll back,
and the sweep a second worker runs on the next beat tick must breach the complaint, notify
the manager and send the email, each exactly once.
"""

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from complaints import services
from complaints.models import (
    Complaint,
    JobRun,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)
from tests import factories
from tests.integration.conftest import backend_alive, waiting_on

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 6
BROKER_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
BREACHED_REASON = "Acknowledgment deadline missed: escalated to managers"
JOB = "enforce_acknowledgment_deadline"
SETTINGS_MODULE = """\
from config.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = {queue!r}
CELERY_BEAT_SCHEDULE = {{
    "enforce_acknowledgment_deadline": {{
        "task": "complaints.tasks.enforce_acknowledgment_deadline",
        "schedule": 2.0,
    }},
    "relay_outbox": {{"task": "complaints.tasks.relay_outbox", "schedule": 2.0}},
}}
"""


def celery_executable():
    beside_python = Path(sys.executable).with_name("celery")
    return str(beside_python if beside_python.exists() else ROOT / ".venv" / "bin" / "celery")


def redis_cli(*args):
    subprocess.run(  # noqa: S603
        ["redis-cli", "-n", str(REDIS_DB), *args],  # noqa: S607
        check=True,
        capture_output=True,
        timeout=10,
    )


def wait_for(condition, timeout, what, processes=None, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for process in processes or ():
            assert process.poll() is None, f"{process.name} exited early while waiting for {what}"
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}")


class Celery:
    """The worker and beat subprocesses, their logs, and their certain end."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.queue = f"itest-{uuid.uuid4().hex[:12]}"
        self.var_dir = tmp_path / "var"
        self.mail_dir = self.var_dir / "mail"
        self.processes = []
        (tmp_path / "itest_settings.py").write_text(SETTINGS_MODULE.format(queue=self.queue))
        database = connection.settings_dict
        credentials = quote(database["USER"] or "", safe="")
        if database["PASSWORD"]:
            credentials += ":" + quote(database["PASSWORD"], safe="")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "itest_settings",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
            "DATABASE_URL": (
                f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:"
                f"{database['PORT'] or 5432}/{database['NAME']}"
            ),
            "CELERY_BROKER_URL": BROKER_URL,
            "REDIS_URL": BROKER_URL,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "VAR_DIR": str(self.var_dir),
            "LOG_LEVEL": "INFO",
        }

    def _start(self, name, *args):
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115  (closed in stop_all)
        process = subprocess.Popen(  # noqa: S603
            [celery_executable(), "--app", "config", *args],
            cwd=self.tmp_path,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.name = name
        process.log = log
        self.processes.append(process)
        return process

    def start_worker(self, name, *, pool="solo", concurrency=1):
        return self._start(
            name,
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "-Q",
            self.queue,
            "--hostname",
            f"{name}-{self.queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        )

    def start_beat(self):
        return self._start(
            "beat",
            "beat",
            "--schedule",
            str(self.tmp_path / "beat-schedule"),
            "--pidfile",
            str(self.tmp_path / "beat.pid"),
            "--loglevel",
            "INFO",
        )

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            process.log.close()

    def logs(self):
        return "\n".join(
            f"----- {p.name} (exit {p.returncode}) -----\n"
            + (self.tmp_path / f"{p.name}.log").read_text(errors="replace")[-4000:]
            for p in self.processes
        )

    def sent_emails(self):
        found = []
        for path in sorted(self.mail_dir.glob("*")):
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    found.append(
                        email.message_from_bytes(chunk.lstrip(), policy=email.policy.default)
                    )
        return found


@pytest.fixture
def celery(transactional_db, tmp_path):
    """Torn down before the database is flushed: no process may still hold a connection."""
    redis_cli("flushdb")
    running = Celery(tmp_path)
    yield running
    running.stop_all()
    redis_cli("flushdb")


def breach_messages(manager):
    return OutboundMessage.objects.filter(
        kind=MessageKind.STAFF_NOTIFICATION,
        recipient=manager.email,
        subject__icontains="acknowledgment deadline",
    )


def test_beat_escalates_a_missed_acknowledgment_once_despite_a_killed_worker(
    celery, direct_connection, csr, manager
):
    started = time.monotonic()
    manager.email = "manager@staff.example.com"
    manager.save(update_fields=["email"])
    received_at = timezone.now() - timedelta(hours=25)
    # No customer email: an acknowledgment email, once delivered, would acknowledge the
    # complaint (late) and there would be no breach to escalate.
    complaint = services.complaint_create(
        actor=csr,
        data=factories.complaint_data(
            customer_email="",
            customer_phone="07700 900123",
            date_of_complaint=timezone.localdate(received_at),
        ),
        received_at=received_at,
    )
    table = OutboundMessage._meta.db_table
    direct_connection.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

    try:
        beat = celery.start_beat()
        first = celery.start_worker("worker1")

        # The first sweep has marked the complaint and now waits to write the notification.
        [(pid, query)] = wait_for(
            lambda: waiting_on(table), 30, "the sweep to block on the outbox", [beat, first]
        )
        assert query.lstrip().upper().startswith("INSERT"), query
        assert JobRun.objects.filter(name=JOB, finished_at__isnull=True).exists()

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL
        direct_connection.rollback()
        # The dead worker's backend finds its client gone and rolls the sweep back.
        wait_for(lambda: not backend_alive(pid), 15, "the killed worker's backend to end")
        complaint.refresh_from_db()
        assert complaint.acknowledgment_breached_at is None
        assert complaint.escalation_level == ""
        assert not OutboundMessage.objects.exists()
        assert not complaint.history.filter(history_change_reason=BREACHED_REASON).exists()

        second = celery.start_worker("worker2")
        wait_for(
            lambda: breach_messages(manager).filter(status=MessageStatus.SENT).exists(),
            30,
            "the escalation to be sent",
            [beat, second],
        )
        # A few more ticks of both jobs change nothing.
        done_so_far = JobRun.objects.filter(name=JOB, finished_at__isnull=False).count()
        wait_for(
            lambda: (
                JobRun.objects.filter(name=JOB, finished_at__isnull=False).count()
                >= done_so_far + 2
            ),
            15,
            "two more sweeps",
            [beat, second],
        )
    except BaseException:
        celery.stop_all()
        print(celery.logs())
        raise

    complaint.refresh_from_db()
    assert complaint.acknowledgment_breached_at is not None
    assert complaint.escalation_level == "manager"
    assert complaint.escalation_reason == "acknowledgment deadline missed"
    assert complaint.history.filter(history_change_reason=BREACHED_REASON).count() == 1

    [message] = breach_messages(manager)
    assert message.complaint_id == complaint.pk
    assert complaint.reference in message.body_text
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert OutboundMessage.objects.count() == 1

    finished = JobRun.objects.filter(name=JOB, finished_at__isnull=False)
    assert sum(run.summary["breached"] for run in finished) == 1
    assert JobRun.objects.filter(name=JOB, finished_at__isnull=True).count() == 1  # the killed
    assert Complaint.objects.get(pk=complaint.pk).stage == "received"

    celery.stop_all()
    sent = celery.sent_emails()
    about_it = [m for m in sent if complaint.reference in m.get_body(("plain",)).get_content()]
    assert len(about_it) == 1, [m["subject"] for m in sent]
    assert len(sent) == 1, [m["subject"] for m in sent]
    assert about_it[0]["to"] == "manager@staff.example.com"
    assert about_it[0]["subject"] == message.subject
    assert time.monotonic() - started < 60
