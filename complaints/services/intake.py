"""Intake: a new complaint from any channel, its reference, and the acknowledgment email."""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.roles import Capability, can
from complaints import outbox
from complaints.models import Complaint, IdempotencyKey, ReferenceCounter, StageChange
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.selectors.regulatory import regulatory_catalogue
from complaints.services.attachments import store_attachment
from complaints.services.clocks import clocks_for_intake, clocks_save_new
from complaints.services.common import (
    CLOCK_SKEW,
    attribute,
    files_removed_on_failure,
    locked,
    representative_check,
)
from complaints.services.flags import intake_flags, intake_flags_record
from complaints.workflow import Refused, Stage

# Checked by the forms and serializers that chose them, and by the database's foreign keys:
# validating them again would cost a query each.
FOREIGN_KEYS = ("category", "product", "root_cause", "assignee", "logged_by", "escalated_by")


def complaint_create(
    *,
    actor,
    data,
    received_at=None,
    uploads=(),
    assign_to_actor=False,
    submission=None,
    flags=None,
    catalogue=None,
):
    """Log a new complaint from any channel. `data` holds the Appendix A fields and the rest.

    `actor` is None when the customer logs it themselves (public form, API on their behalf).
    `submission` is the (user, key) of a form's one-time token: a second submission of the
    same form raises AlreadySubmitted naming the complaint the first one made.
    `flags` ({"vulnerable": why, "hardship": why}) flags the case as it is logged.
    `catalogue` is the regulatory catalogue (selectors.regulatory_catalogue) the caller's form
    checked the category and product against, so that both read one version; read here if
    not given.

    One INSERT per row (complaint, history, clocks, stage change, acknowledgment, submission
    key) and no check the database makes itself: the constraints are the database's, the
    foreign keys were chosen from the database (or the cached catalogue) by the caller's form
    or serializer.
    """
    try:
        # Files written here are removed if anything fails, the commit included.
        with files_removed_on_failure() as written, transaction.atomic():
            complaint = _create(
                actor,
                data,
                received_at,
                uploads,
                assign_to_actor,
                written,
                flags or {},
                catalogue or regulatory_catalogue(),
            )
            if submission is not None:
                user, key = submission
                IdempotencyKey.objects.create(user=user, key=key, complaint=complaint)
    except IntegrityError:
        # The key's unique constraint: the same form was sent before (its transaction may have
        # committed while this one waited on the key), and this one's rows are rolled back.
        if submission is not None and (earlier := _submitted(*submission)) is not None:
            raise AlreadySubmitted(earlier) from None
        raise
    return complaint


def _create(actor, data, received_at, uploads, assign_to_actor, written, flags, catalogue):
    if actor is not None and not can(actor, Capability.LOG_COMPLAINT):
        raise Refused("You are not allowed to log complaints.")
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + CLOCK_SKEW:
        raise Refused("A complaint cannot be received in the future.")
    if data["date_of_complaint"] > timezone.localdate(received_at):
        raise Refused("The date of the complaint cannot be in the future.")
    representative_check(data.get("represented", False), data.get("representative_name", ""))
    flags = intake_flags(flags)
    # The counter's row stays locked until the intake commits, a few inserts later; nothing
    # else waits on it (the request's validation is done).
    reference = next(references_reserve(timezone.localdate(received_at).year, 1))
    complaint = Complaint(
        **{key: value for key, value in data.items() if key != "assignee"},
        reference=reference,
        received_at=received_at,
        logged_by=actor,
        assignee=actor if assign_to_actor and actor is not None else None,
        stage=Stage.RECEIVED,
        **dict.fromkeys(flags, True),
    )
    clocks = clocks_for_intake(complaint, received_at, catalogue)
    complaint.clean_fields(exclude=["reference", "profile", *FOREIGN_KEYS])
    attribute(complaint, actor, "Logged")
    # Its history row written here rather than by simple-history's post_save, which would
    # write the same row and keep nothing of it: the row is among those the intake keeps.
    complaint.save_without_historical_record()
    history = Complaint.history.bulk_history_create([complaint])
    clocks_save_new(complaint, clocks)
    stage_change = StageChange.objects.create(
        complaint=complaint,
        from_stage="",
        to_stage=Stage.RECEIVED,
        actor=actor,
        at=received_at,
        note=f"Logged via {complaint.get_channel_display().lower()}",
    )
    flag_rows = intake_flags_record(complaint, flags, actor=actor, at=received_at)
    attachments = [
        store_attachment(complaint, upload, written, actor=actor, by_customer=actor is None)
        for upload in uploads
    ]
    sent = []
    if complaint.customer_email and not settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW:
        sent.append(messages.queue_acknowledgment(complaint, new=True))
        outbox.send_after_commit(sent[0])
    complaint.logged = Logged(history, [stage_change], clocks, flag_rows, attachments, sent)
    return complaint


@dataclass(frozen=True)
class Logged:
    """The rows an intake wrote beside the complaint, kept on it as `complaint.logged`: the
    API answers with the new complaint as it reads any other, built from these rather than
    read back (selectors.complaint_detail_of_logged)."""

    history: list
    stage_changes: list
    clocks: list
    flags: list
    attachments: list
    messages: list


class AlreadySubmitted(Refused):
    """This form was sent before and made `complaint`; nothing new was logged."""

    def __init__(self, complaint):
        self.complaint = complaint
        super().__init__(f"This form was already sent: it logged complaint {complaint.reference}.")


def _submitted(user, key):
    record = IdempotencyKey.objects.filter(user=user, key=key).select_related("complaint").first()
    return record.complaint if record else None


def complaint_create_once(*, submission, **kwargs):
    """complaint_create for a form that carries a one-time token: the new complaint (and
    True), or the one an earlier submission of the same form made (and False).

    No look for the token first: that would cost every intake a query to spare the rare
    second submission its rolled-back work. The key's insert finds the first one.
    """
    try:
        return complaint_create(submission=submission, **kwargs), True
    except AlreadySubmitted as error:
        return error.complaint, False


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


def references_reserve(year, count):
    """Take `count` consecutive references for `year` (many for an import) in one statement;
    the counter's row stays locked until the caller's transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(f"{RESERVE_SQL} RETURNING last_number", [year, count, count])
        last = cursor.fetchone()[0]
    return _references(year, last, count)


def _references(year, last, count):
    return (f"CMP-{year}-{number:06d}" for number in range(last - count + 1, last + 1))


_COUNTER = ReferenceCounter._meta.db_table
# The model's own table name, no input.
RESERVE_SQL = (
    f'INSERT INTO "{_COUNTER}" (year, last_number) VALUES (%s, %s) '  # noqa: S608  # nosec B608
    f'ON CONFLICT (year) DO UPDATE SET last_number = "{_COUNTER}".last_number + %s'
)


def api_idempotency_record(*, user, key, request_hash, complaint, response):
    """Keep the answer to an API intake under the caller's Idempotency-Key, so a retry gets
    the same complaint back. Called inside the intake's transaction: a concurrent retry with
    the same key fails on the unique key and replays the winner's answer."""
    return IdempotencyKey.objects.create(
        user=user, key=key, request_hash=request_hash, complaint=complaint, response=response
    )
