"""/health/: one JSON answer on whether this node and the services behind it are healthy.

Built on django-health-check, which runs the checks side by side, each within its time
budget, and turns a check's exception into a failure instead of a server error. The answer
is 200 when every check passes and 503 when any fails; it names each check with its status
and, when failing, a sentence written here. Library checks' own messages can name a host
(PostgreSQL's connection errors do), so a failing library check shows only its kind of
failure; the log has the whole error. No complaint data leaves: the checks count and date.
"""

import abc
import asyncio
import dataclasses
import smtplib
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.db import connections
from django.http import JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from health_check import Cache, Database
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from kombu.exceptions import OperationalError as BrokerError

from complaints.selectors import probes
from config.celery import app as celery_app

# The job beat starts every minute (CELERY_BEAT_SCHEDULE); its runs are beat's heartbeat.
RELAY_JOB = "relay_outbox"


class Unhealthy(ServiceUnavailable):
    """A failure whose message was written here, fit to show to anyone."""


def _fail_if_late(moment, now, allowed_minutes, message):
    """Unhealthy when more than `allowed_minutes` have passed since `moment`; `message` says
    so, with {minutes} for the whole minutes passed."""
    if moment is not None and now - moment > timedelta(minutes=allowed_minutes):
        raise Unhealthy(message.format(minutes=int((now - moment).total_seconds() // 60)))


def smtp_in_use():
    return issubclass(import_string(settings.EMAIL_BACKEND), SmtpEmailBackend)


@dataclasses.dataclass
class DatabaseRead(HealthCheck):
    """A check that reads rows. It runs on a thread of its own, whose connection it closes:
    nothing else would, since Django closes connections only on the request's thread."""

    def run(self):
        try:
            self.inspect(timezone.now())
        finally:
            connections.close_all()

    @abc.abstractmethod
    def inspect(self, now):
        """Raise Unhealthy when what the rows say is wrong."""


@dataclasses.dataclass
class BeatTick(DatabaseRead):
    def inspect(self, now):
        last = probes.job_last_started(RELAY_JOB)
        if last is None:
            raise Unhealthy("The outbox relay has never run: is beat running?")
        _fail_if_late(
            last.started_at,
            now,
            settings.HEALTH_BEAT_MAX_AGE_MINUTES,
            "The outbox relay, which beat starts every minute, last ran {minutes} minutes ago: "
            "are beat and a worker running?",
        )


@dataclasses.dataclass
class OutboxBacklog(DatabaseRead):
    def inspect(self, now):
        backlog = probes.outbox_backlog()
        if backlog["count"] > settings.HEALTH_OUTBOX_MAX_PENDING:
            raise Unhealthy(
                f"{backlog['count']} messages wait in the outbox "
                f"(more than {settings.HEALTH_OUTBOX_MAX_PENDING})."
            )
        _fail_if_late(
            backlog["earliest_due"],
            now,
            settings.HEALTH_OUTBOX_MAX_AGE_MINUTES,
            "The oldest message due has waited {minutes} minutes: is the mail server or the "
            "relay stuck?",
        )


@dataclasses.dataclass
class ClockLateness(DatabaseRead):
    def inspect(self, now):
        _fail_if_late(
            probes.acknowledgments_unmarked()["earliest_due"],
            now,
            settings.HEALTH_CLOCKS_MAX_LATE_MINUTES,
            "An acknowledgment deadline passed {minutes} minutes ago and is not marked missed: "
            "is the deadline sweep running?",
        )


@dataclasses.dataclass
class CeleryBroker(HealthCheck):
    def run(self):
        try:
            with celery_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)
        except (BrokerError, OSError) as error:
            raise Unhealthy("The Celery broker cannot be reached.") from error


@dataclasses.dataclass
class SmtpServer(HealthCheck):
    """Connects and says goodbye, without signing in: a probe every few seconds must not
    count as failed sign-ins at the mail server."""

    def run(self):
        connect = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
        try:
            with connect(
                settings.EMAIL_HOST,
                settings.EMAIL_PORT,
                timeout=settings.HEALTH_SMTP_TIMEOUT_SECONDS,
            ) as server:
                server.noop()
        except (smtplib.SMTPException, OSError) as error:
            raise Unhealthy("The mail server cannot be reached.") from error


@dataclasses.dataclass
class AttachmentStorage(HealthCheck):
    def run(self):
        root = Path(settings.ATTACHMENT_ROOT)
        try:
            # As an upload would: the folder is made on first use.
            root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=root, prefix=".health-") as probe:
                probe.write(b"ok")
                probe.flush()
        except OSError as error:
            raise Unhealthy("Attachments cannot be written.") from error


def checks():
    """The checks by the name the answer shows, and the ones skipped here, with why."""
    to_run = {
        "database": Database(),
        "cache": Cache(),
        "broker": CeleryBroker(),
        "attachment_storage": AttachmentStorage(),
        "beat": BeatTick(),
        "outbox": OutboxBacklog(),
        "clocks": ClockLateness(),
    }
    skipped = {}
    if smtp_in_use():
        to_run["smtp"] = SmtpServer()
    else:
        skipped["smtp"] = "Emails are not sent over SMTP here."
    return to_run, skipped


def _shown(result):
    if result.error is None:
        return {"status": "ok", "seconds": round(result.time_taken, 3)}
    detail = result.error.message if isinstance(result.error, Unhealthy) else None
    return {
        "status": "failing",
        "detail": detail or f"{result.error.message_type}; the server's log has the error.",
        "seconds": round(result.time_taken, 3),
    }


class HealthView(HealthCheckView):
    async def get(self, request, *args, **kwargs):
        to_run, skipped = checks()
        with ThreadPoolExecutor(max_workers=len(to_run), thread_name_prefix="health") as pool:
            results = await asyncio.gather(*(check.get_result(pool) for check in to_run.values()))
        shown = {name: _shown(result) for name, result in zip(to_run, results, strict=True)}
        shown |= {name: {"status": "skipped", "detail": why} for name, why in skipped.items()}
        healthy = all(result.error is None for result in results)
        return JsonResponse(
            {"status": "ok" if healthy else "failing", "checks": dict(sorted(shown.items()))},
            status=200 if healthy else 503,
        )


health = login_not_required(HealthView.as_view())
