"""The exits: a case withdrawn by the customer, merged into another as its duplicate, or found
not to be a complaint at all. Each sets its own record, then moves the stage through the
transition table like any other move (history, StageChange, the role checked); stage_move
then closes the case and stops it: a live proposal is void and whatever still waited to be
emailed to the customer is cancelled. The clocks stop by themselves, since their sweeps read
the open stages only."""

from django.db import transaction
from django.utils import formats, timezone

from complaints import outbox, workflow
from complaints.models import Complaint
from complaints.outbox import messages
from complaints.permissions import Action, can_act, require, visible_complaints
from complaints.services.common import attribute, locked
from complaints.services.stages import expect_stage, stage_move
from complaints.workflow import Refused, Stage


def _may_leave(complaint, target):
    """Refuse in the exit's own words before anything is written."""
    if complaint.stage == target:
        raise Refused(f"{complaint.reference} is already {Stage(target).label}.")
    if not complaint.is_open and complaint.stage != Stage.DOCUMENTED:
        raise Refused(f"{complaint.reference} is closed ({complaint.stage_label}).")
    if workflow.find_transition(complaint.stage, target) is None:
        if target == Stage.WITHDRAWN:
            raise Refused(
                f"{complaint.reference} is {complaint.stage_label}: its record is complete "
                "and waits for the manager's sign-off, so it can no longer be withdrawn."
            )
        raise Refused(
            f"{complaint.reference} is {complaint.stage_label}: only a complaint still being "
            f"investigated can be closed as {Stage(target).label.lower()}; the customer "
            "already has our answer."
        )


def _words(text, missing):
    text = (text or "").strip()
    if not text:
        raise Refused(missing)
    return text


def _owned(complaint, actor):
    """A case nobody owned (the intake queue's) is given to whoever closes it: a closed case
    leaves the queue, and its record stays in the sight of the person who closed it. The
    fields to save."""
    if complaint.assignee_id is None:
        complaint.assignee = actor
        return ["assignee", "updated_at"]
    return ["updated_at"]


def _day(value):
    return formats.date_format(value, "j F Y")


@transaction.atomic
def complaint_withdraw(complaint, *, actor, customer_words, withdrawn_on, expected_stage=None):
    """The customer withdrew the complaint: their words and the day they said it are kept,
    the case closes, and a customer with an email address is sent a confirmation."""
    complaint = locked(complaint)
    expect_stage(complaint, expected_stage)
    # The stage first: "no longer possible" says more than "not allowed".
    _may_leave(complaint, Stage.WITHDRAWN)
    require(actor, complaint, Action.EXIT)
    words = _words(customer_words, "Write down what the customer said when they withdrew.")
    if withdrawn_on is None:
        raise Refused("Give the date the customer withdrew the complaint.")
    if withdrawn_on > timezone.localdate():
        raise Refused("The date the customer withdrew cannot be in the future.")
    earliest = min(complaint.date_of_complaint, timezone.localdate(complaint.received_at))
    if withdrawn_on < earliest:
        raise Refused(
            f"The date the customer withdrew cannot be before the complaint was made "
            f"({_day(earliest)})."
        )
    complaint.exit_reason = words
    complaint.withdrawn_on = withdrawn_on
    attribute(complaint, actor, "Withdrawn by the customer")
    complaint.save(update_fields=["exit_reason", "withdrawn_on", *_owned(complaint, actor)])
    stage_move(
        complaint,
        Stage.WITHDRAWN,
        actor=actor,
        note=f"The customer withdrew the complaint on {_day(withdrawn_on)}: “{words}”",
        reason="Withdrawn by the customer",
    )
    if complaint.customer_email:
        outbox.send_after_commit(messages.queue_withdrawal_confirmation(complaint))
    return complaint


@transaction.atomic
def complaint_not_a_complaint(complaint, *, actor, reason, expected_stage=None):
    """An enquiry or something out of scope: closed with the reason, no email (the reason is
    staff's words; whoever answers the enquiry tells the customer in their own)."""
    complaint = locked(complaint)
    expect_stage(complaint, expected_stage)
    # The stage first: "no longer possible" says more than "not allowed".
    _may_leave(complaint, Stage.NOT_A_COMPLAINT)
    require(actor, complaint, Action.EXIT)
    reason = _words(reason, "Say why this is not a complaint (an enquiry, out of scope, ...).")
    complaint.exit_reason = reason
    attribute(complaint, actor, "Closed: not a complaint")
    complaint.save(update_fields=["exit_reason", *_owned(complaint, actor)])
    stage_move(
        complaint,
        Stage.NOT_A_COMPLAINT,
        actor=actor,
        note=f"Not a complaint: {reason}",
        reason="Closed: not a complaint",
    )
    return complaint


def _phone_key(complaint):
    # The last nine digits: "07700 900123" and "+44 7700 900123" are one number.
    return complaint.customer_phone_digits[-9:]


def _name_key(complaint):
    return " ".join(complaint.customer_name.casefold().split())


def same_customer(first, second):
    """The same email address; else the same phone number; with neither to compare, the
    same name."""
    if first.customer_email and second.customer_email:
        return first.customer_email.lower() == second.customer_email.lower()
    if _phone_key(first) and _phone_key(second):
        return _phone_key(first) == _phone_key(second)
    return _name_key(first) == _name_key(second)


def _counted(count, singular, plural):
    return f"{count} {singular if count == 1 else plural}"


def _survivor_for(actor, duplicate, into_reference):
    reference = (into_reference or "").strip().upper()
    if not reference:
        raise Refused("Give the reference of the complaint this one duplicates.")
    if reference == duplicate.reference:
        raise Refused("A complaint cannot be merged into itself.")
    survivor = visible_complaints(actor).filter(reference=reference).first()
    if survivor is None:
        raise Refused(f"There is no complaint {reference[:20]} that you may see.")
    return survivor


def _lock_pair(duplicate, survivor):
    """Both rows, locked in id order: two merges of the same pair, either way round, queue
    behind each other instead of deadlocking."""
    rows = Complaint.objects.select_for_update().filter(pk__in=[duplicate.pk, survivor.pk])
    by_id = {row.pk: row for row in rows.order_by("pk")}
    return by_id[duplicate.pk], by_id[survivor.pk]


def _may_merge(actor, duplicate, survivor):
    if duplicate.stage == Stage.DUPLICATE:
        held_by = Complaint.objects.get(pk=duplicate.duplicate_of_id).reference
        raise Refused(f"{duplicate.reference} is already merged into {held_by}.")
    _may_leave(duplicate, Stage.DUPLICATE)
    if survivor.stage == Stage.DUPLICATE:
        # One hop only: every duplicate points straight at the case that holds its record.
        held_by = Complaint.objects.get(pk=survivor.duplicate_of_id).reference
        raise Refused(
            f"{survivor.reference} is itself merged into {held_by}: merge into {held_by} instead."
        )
    if not survivor.is_open:
        raise Refused(
            f"{survivor.reference} is closed ({survivor.stage_label}): merge only into a "
            "complaint still open."
        )
    if not can_act(actor, survivor, Action.NOTE):
        raise Refused(f"You are not allowed to add to {survivor.reference}.")
    if not same_customer(duplicate, survivor):
        raise Refused(
            f"{duplicate.reference} and {survivor.reference} are from different customers "
            "(their email addresses, phone numbers or names differ): only one customer's own "
            "complaints can be merged, or each would see the other's documents."
        )


def _move(rows, survivor, actor, reason):
    """One save each, so each row's history says where it came from."""
    for row in list(rows):
        row.complaint = survivor
        attribute(row, actor, reason)
        row.save(update_fields=["complaint"])


def merge_contents(duplicate):
    """What a merge would move, in words: "3 notes, 1 document, 0 consultations and 2
    emails"."""
    return workflow.join_phrases(
        [
            _counted(duplicate.notes.count(), "note", "notes"),
            _counted(duplicate.attachments.count(), "document", "documents"),
            _counted(duplicate.consultations.count(), "consultation", "consultations"),
            _counted(duplicate.messages.count(), "email", "emails"),
        ]
    )


def complaint_merge_check(duplicate, *, actor, into_reference):
    """The case a merge would keep, or the refusal the merge itself would give: the
    confirmation page shows both cases only for a merge that can go ahead."""
    survivor = _survivor_for(actor, duplicate, into_reference)
    _may_merge(actor, duplicate, survivor)
    require(actor, duplicate, Action.EXIT)
    return survivor


@transaction.atomic
def complaint_merge(duplicate, *, actor, into_reference, reason="", expected_stage=None):
    """Merge a duplicate into the complaint it duplicates (the survivor): the duplicate's
    notes, documents, consultations and emails move to the survivor, the duplicate closes
    with a pointer to it, and the customer is told once. Returns the survivor."""
    survivor = _survivor_for(actor, duplicate, into_reference)
    duplicate, survivor = _lock_pair(duplicate, survivor)
    expect_stage(duplicate, expected_stage)
    _may_merge(actor, duplicate, survivor)
    require(actor, duplicate, Action.EXIT)
    reason = (reason or "").strip()
    duplicate.duplicate_of = survivor
    duplicate.exit_reason = reason
    attribute(duplicate, actor, f"Merged into {survivor.reference}")
    duplicate.save(update_fields=["duplicate_of", "exit_reason", *_owned(duplicate, actor)])
    # Moved after the stage change: the exit cancels what still waited to be emailed about
    # the duplicate, and those rows move cancelled.
    stage_move(
        duplicate,
        Stage.DUPLICATE,
        actor=actor,
        note=f"Merged into {survivor.reference}; moved there: {merge_contents(duplicate)}"
        + (f". {reason}" if reason else ""),
        reason=f"Merged into {survivor.reference} as a duplicate",
    )
    why = f"Moved from {duplicate.reference}, merged as a duplicate"
    _move(duplicate.notes.all(), survivor, actor, why)
    _move(duplicate.attachments.all(), survivor, actor, why)
    _move(duplicate.consultations.all(), survivor, actor, why)
    duplicate.messages.update(complaint=survivor)
    # A case merged into this duplicate earlier now points at the survivor too: no chains.
    for earlier in Complaint.objects.select_for_update().filter(duplicate_of=duplicate):
        earlier.duplicate_of = survivor
        attribute(earlier, actor, f"{duplicate.reference} merged into {survivor.reference}")
        earlier.save(update_fields=["duplicate_of", "updated_at"])
    attribute(survivor, actor, f"{duplicate.reference} merged into this complaint")
    survivor.save(update_fields=["updated_at"])
    if duplicate.customer_email:
        outbox.send_after_commit(messages.queue_merge_notice(survivor, duplicate))
    return survivor
