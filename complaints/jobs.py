"""The periodic jobs, registered in one place, and the record each run leaves for the
operators' page. A job is a plain function; beat starts it through its task (tasks.py), an
operator through the jobs page or `manage.py run_job`."""

import time
from datetime import timedelta

from django.utils import timezone

from complaints import outbox, services
from complaints.clocks import sweeps
from complaints.models import JobRun
from complaints.services.record import record_chain_extend
from complaints.services.retention import retention_apply

JOBS = {
    "enforce_clocks": sweeps.enforce_clocks,
    "enforce_acknowledgment_deadline": sweeps.enforce_acknowledgment_deadline,
    "enforce_resolution_targets": sweeps.enforce_resolution_targets,
    "send_follow_ups": sweeps.send_follow_ups,
    "relay_outbox": services.outbox_relay,
    "chain_record": record_chain_extend,
    "apply_retention": retention_apply,
    "send_signal_digests": services.signals_notify,
    "poll_mailboxes": services.mailboxes_poll,
}


def register(name, job):
    """A job of another app (reports' trend reports), registered from its AppConfig.ready."""
    JOBS[name] = job


def run(job):
    """Run one registered job and keep a record of what it did, for the operators' page."""
    name = next(name for name, registered in JOBS.items() if registered is job)
    started = timezone.now()
    clock = time.perf_counter()
    record = JobRun.objects.create(name=name, started_at=started)
    try:
        summary = job()
    except Exception as error:
        record.error = outbox.safe_error(error)
        raise
    else:
        record.summary = summary
        return summary
    finally:
        record.finished_at = timezone.now()
        record.duration_ms = int((time.perf_counter() - clock) * 1000)
        record.save(update_fields=["finished_at", "duration_ms", "summary", "error"])
        # The relay runs every minute; a month of records is plenty for the operators.
        JobRun.objects.filter(name=name, started_at__lt=started - timedelta(days=30)).delete()
