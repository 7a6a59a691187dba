"""Celery tasks: thin wrappers that load by id or run a job, and retry with backoff."""

from celery import shared_task
from django.db import DatabaseError

from complaints import jobs, services
from complaints.clocks import sweeps

# A database blip retries the job later; jobs are idempotent, so a retry is always safe.
RELIABLE = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**RELIABLE)
def send_message(message_id):
    # A failed send is rescheduled in its row and the relay retries it; no Celery retry.
    services.message_deliver(message_id)


@shared_task(**RELIABLE)
def relay_outbox():
    return jobs.run(services.outbox_relay)


@shared_task(**RELIABLE)
def send_signal_digests():
    return jobs.run(services.signals_notify)


@shared_task(**RELIABLE)
def enforce_clocks():
    return jobs.run(sweeps.enforce_clocks)


# The generic sweep narrowed to the acknowledgment or the response clocks, under the names
# beat and the operators have always used.
@shared_task(**RELIABLE)
def enforce_acknowledgment_deadline():
    return jobs.run(sweeps.enforce_acknowledgment_deadline)


@shared_task(**RELIABLE)
def enforce_resolution_targets():
    return jobs.run(sweeps.enforce_resolution_targets)


@shared_task(**RELIABLE)
def send_follow_ups():
    return jobs.run(sweeps.send_follow_ups)


@shared_task(**RELIABLE)
def chain_record():
    return jobs.run(jobs.JOBS["chain_record"])


@shared_task(**RELIABLE)
def apply_retention():
    return jobs.run(jobs.JOBS["apply_retention"])


@shared_task(**RELIABLE)
def poll_mailboxes():
    return jobs.run(services.mailboxes_poll)
