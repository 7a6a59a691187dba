"""Celery tasks: thin wrappers that load by id and call a service."""

from celery import shared_task

from complaints import outbox


@shared_task(acks_late=True, ignore_result=True)
def send_message(message_id):
    # No Celery retry here: a failed send is rescheduled in the row and the relay retries it.
    outbox.deliver(message_id)


@shared_task(acks_late=True, ignore_result=True)
def relay_outbox():
    sent, pending = outbox.relay()
    return {"sent": sent, "pending": pending}
