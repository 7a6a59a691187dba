"""Intake: a new complaint from any channel, its reference, and the acknowledgment email."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.roles import Capability, can
from complaints import outbox
from complaints.clocks import acknowledgment_due, resolution_target
from complaints.models import ApiIdempotencyKey, Complaint, ReferenceCounter, StageChange
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.services.attachments import store_attachment
from complaints.services.common import (
    CLOCK_SKEW,
    attribute,
    files_removed_on_failure,
    locked,
)
from complaints.workflow import Refused, Stage


def complaint_create(*, actor, data, received_at=None, uploads=(), assign_to_actor=False):
    """Log a new complaint from any channel. `data` holds the Appendix A fields and the rest.

    `actor` is None when the customer logs it themselves (public form, API on their behalf).
    """
    # Files written here are removed if anything fails, the commit included.
    with files_removed_on_failure() as written, transaction.atomic():
        if actor is not None and not can(actor, Capability.LOG_COMPLAINT):
            raise Refused("You are not allowed to log complaints.")
        received_at = received_at or timezone.now()
        if received_at > timezone.now() + CLOCK_SKEW:
            raise Refused("A complaint cannot be received in the future.")
        if data["date_of_complaint"] > timezone.localdate(received_at):
            raise Refused("The date of the complaint cannot be in the future.")
        complaint = Complaint(
            **{key: value for key, value in data.items() if key != "assignee"},
            reference=_next_reference(timezone.localdate(received_at).year),
            received_at=received_at,
            acknowledgment_due_at=acknowledgment_due(received_at),
            resolution_target_date=resolution_target(received_at, data["complexity"]),
            logged_by=actor,
            assignee=actor if assign_to_actor and actor is not None else None,
            stage=Stage.RECEIVED,
        )
        complaint.full_clean(exclude=["reference", "category", "product", "root_cause"])
        attribute(complaint, actor, "Logged")
        complaint.save()
        StageChange.objects.create(
            complaint=complaint,
            from_stage="",
            to_stage=Stage.RECEIVED,
            actor=actor,
            at=received_at,
            note=f"Logged via {complaint.get_channel_display().lower()}",
        )
        for upload in uploads:
            store_attachment(complaint, upload, written, actor=actor, by_customer=actor is None)
        if complaint.customer_email and not settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW:
            outbox.send_after_commit(messages.queue_acknowledgment(complaint))
        return complaint


@transaction.atomic
def acknowledgment_email_send(complaint, *, actor):
    """Send the acknowledgment email a CSR held back for review; it is sent at most once."""
    complaint = locked(complaint)
    require(actor, complaint, Action.ACKNOWLEDGE)
    if not complaint.customer_email:
        raise Refused("There is no email address to send the acknowledgment to.")
    if complaint.acknowledged_at is not None:
        raise Refused("This complaint has already been acknowledged.")
    if complaint.messages.filter(kind="acknowledgment").exists():
        raise Refused("The acknowledgment email is already on its way.")
    message = messages.queue_acknowledgment(complaint)
    outbox.send_after_commit(message)
    return message


def _next_reference(year):
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"CMP-{year}-{counter.last_number:06d}"


def references_reserve(year, count):
    """Take `count` consecutive references for `year` at once (bulk imports)."""
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return (f"CMP-{year}-{number:06d}" for number in range(first, first + count))


def api_idempotency_record(*, user, key, request_hash, complaint, response):
    """Keep the answer to an API intake under the caller's Idempotency-Key, so a retry gets
    the same complaint back. Called inside the intake's transaction: a concurrent retry with
    the same key fails on the unique key and replays the winner's answer."""
    return ApiIdempotencyKey.objects.create(
        user=user, key=key, request_hash=request_hash, complaint=complaint, response=response
    )
