"""The complaint's timeline: stage changes, field history, notes, consultations, messages and
documents in one list, for staff; and the customer's plain-words version of it."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from complaints.models import (
    AcknowledgmentMethod,
    Category,
    Complaint,
    EscalationLevel,
    InboundStatus,
    MatchedBy,
    MessageKind,
    MessageStatus,
    Product,
    ResolutionStatus,
    RootCause,
)
from complaints.responses import ResponseType
from complaints.workflow import EXIT_STAGES, STAGE_LABELS, Stage


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    actor: str = ""
    body: str = ""
    changes: tuple = ()
    # The email this entry is about, which staff may open in full.
    message_id: int | None = None
    # The message is a letter, whose page prints it and marks it posted.
    letter: bool = False
    # The stage the event moved the complaint to, when it moved it.
    moved_to: str = ""
    link: str = ""


def moment_text(at):
    """The one way the staff pages write a moment: 5 Dec 2026 14:02, local time."""
    local = timezone.localtime(at)
    return f"{local.day} {local:%b %Y %H:%M}"


def day_text(day):
    return f"{day.day} {day:%b %Y}"


# The sub-status follows from events the timeline already tells (the customer's answer, an
# approval), so its changes would only repeat them.
HIDDEN_HISTORY_FIELDS = {"updated_at", "created_at", "stage", "sub_status", "reopen_count"} | {
    "investigation_started_at",
    "resolved_at",
    "follow_up_started_at",
    "documented_at",
    "reviewed_at",
    "closed_at",
    # The exits' record: their own timeline entry says it in a sentence.
    "exit_reason",
    "withdrawn_on",
    "duplicate_of",
    # Flags: their own entries say who set or cleared them and why.
    "vulnerable",
    "hardship",
}


# The complaint's foreign keys whose ids the timeline shows as names.
NAMED_FIELDS = {
    "assignee": "user",
    "logged_by": "user",
    "escalated_by": "user",
    "category": Category,
    "product": Product,
    "root_cause": RootCause,
}


def _display(field_name, value, names):
    if value in (None, ""):
        return "—"
    if field_name in NAMED_FIELDS:
        return names[NAMED_FIELDS[field_name]].get(value, f"#{value}")
    choices = Complaint._meta.get_field(field_name).flatchoices
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, date):
        return day_text(value)
    return str(value)


# Fields the system sets, which the timeline states in a sentence or leaves to the entry's
# title (the reason its writer recorded), never as a diff of raw values.
SYSTEM_FIELDS = {
    "id",
    "reference",
    "external_reference",
    "customer_phone_digits",
    "logged_by",
    "received_at",
    "acknowledgment_due_at",
    "next_deadline_at",
    "acknowledged_at",
    "acknowledgment_method",
    "escalation_reason",
    "escalated_at",
    "escalated_by",
    # Its own entry says it (EARLY_RESOLUTION_TITLES).
    "early_resolution_at",
}
EARLY_RESOLUTION_TITLES = {
    True: "Resolved early: the lighter communication DISP 1.5 / RG 271 allows applies",
    False: "No longer resolved early: the case was reopened",
}
# Marks a clock sweep sets; a history row that sets one is worth an entry, titled by the
# sweep's reason ("Acknowledgment due soon: warned").
MARK_FIELDS = {
    "acknowledgment_warned_at",
    "acknowledgment_breached_at",
    "resolution_overdue_at",
    "feedback_requested_at",
    "feedback_reminded_at",
}


# An event and the stage move it makes are written in one transaction, moments apart.
SAME_EVENT_SECONDS = 5
ANYONE = object()


class FieldChange(NamedTuple):
    field: str
    old: object
    new: object


@cache
def _shown_fields():
    history_columns = {f.attname for f in Complaint.history.model._meta.concrete_fields}
    return [
        field
        for field in Complaint._meta.concrete_fields
        if field.attname in history_columns and field.name not in HIDDEN_HISTORY_FIELDS
    ]


def _changes(previous, record):
    """The shown fields that differ between two history records. simple-history's
    diff_against builds two whole dicts per pair, which on a long timeline costs more than
    the rest of the complaint page."""
    return [
        FieldChange(field.name, old, new)
        for field in _shown_fields()
        if (old := getattr(previous, field.attname)) != (new := getattr(record, field.attname))
    ]


def _names(ids_by_kind, at_hand):
    """Display names for just the ids the timeline shows: those of the rows at hand (`at_hand`,
    kind -> {id: row}), then one query per kind that has any left."""
    names = {}
    for kind, ids in ids_by_kind.items():
        ids = ids - {None, ""}
        names[kind] = {pk: str(row) for pk, row in at_hand.get(kind, {}).items() if pk in ids}
        ids -= names[kind].keys()
        if ids and kind == "user":
            users = get_user_model().objects.filter(pk__in=ids)
            names[kind].update((user.pk, str(user)) for user in users)
        elif ids:
            names[kind].update(kind.objects.filter(pk__in=ids).values_list("pk", "name"))
    return names


def _at_hand(rows, *fields):
    """The rows these rows carry already (selected with them, or set by the service that
    wrote them) through `fields`, by id."""
    found = {}
    for row in rows:
        for name in fields:
            field = row._meta.get_field(name)
            if field.is_cached(row) and (related := field.get_cached_value(row)) is not None:
                found[related.pk] = related
    return found


def _history(complaint):
    """The complaint's history rows, oldest first. Not a relation, so never prefetched: a
    complaint just logged carries its one row beside its prefetched relations
    (complaint_detail_of_logged); any other reads them."""
    cache = getattr(complaint, "_prefetched_objects_cache", {})
    if "history" in cache:
        return cache["history"]
    return list(complaint.history.order_by("history_date", "history_id"))


def _merged_in(complaint):
    """The stage changes that merged other cases into this one, oldest first."""
    return sorted(
        (
            change
            for duplicate in complaint.duplicates.all()
            for change in duplicate.stage_changes.all()
            if change.to_stage == Stage.DUPLICATE
        ),
        key=lambda change: (change.at, change.pk),
    )


EXIT_TITLES = {
    Stage.WITHDRAWN: lambda complaint: "Withdrawn by the customer",
    Stage.NOT_A_COMPLAINT: lambda complaint: "Closed: not a complaint",
    Stage.DUPLICATE: lambda complaint: (
        f"Merged into {complaint.duplicate_of.reference} as a duplicate"
    ),
}


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def message_status_text(message):
    """Where an email or a letter is, in a sentence."""
    if message.status == MessageStatus.AWAITING_PRINT:
        return "Queued for printing, to post to: " + ", ".join(message.postal_address.splitlines())
    if message.status == MessageStatus.POSTED:
        posted_by = message.posted_by
        by = f" by {posted_by.get_full_name() or posted_by.get_username()}" if posted_by else ""
        return f"Printed and posted{by} on {moment_text(message.sent_at)}."
    failed = ""
    if message.attempts and message.status != MessageStatus.SENT:
        failed = f"{_plural(message.attempts, 'attempt')} failed" + (
            f" ({message.last_error})" if message.last_error else ""
        )
    if message.status == MessageStatus.SENT:
        return f"Sent to {message.recipient}."
    if message.status == MessageStatus.UNDELIVERABLE:
        return f"Sent to {message.recipient}, but could not be delivered: {message.last_error}"
    if message.status == MessageStatus.CANCELLED:
        return f"Not sent to {message.recipient}: no longer needed" + (
            f"; {failed}." if failed else "."
        )
    return f"Not sent yet to {message.recipient}" + (f": {failed}." if failed else ".")


def _stage_entry(complaint, change, actor, acknowledgment_email):
    target = Stage(change.to_stage)
    title = STAGE_LABELS[target]
    if change.from_stage and target != Stage.ACKNOWLEDGED:
        title += f" (from {STAGE_LABELS[Stage(change.from_stage)]})"
    if target in EXIT_STAGES:
        return TimelineEntry(change.at, "exit", EXIT_TITLES[target](complaint), actor, change.note)
    body, message_id = change.note, None
    if target == Stage.ACKNOWLEDGED and complaint.acknowledgment_method:
        # One entry for the acknowledgment: how, when (the entry's time) and the email itself.
        method = AcknowledgmentMethod(complaint.acknowledgment_method).label.lower()
        title = f"Acknowledged by {method}"
        if acknowledgment_email and complaint.acknowledgment_method == "email":
            body = f"“{acknowledgment_email.subject}”, sent to {acknowledgment_email.recipient}."
            message_id = acknowledgment_email.pk
        elif body == f"Customer acknowledged by {method}":
            body = ""
    return TimelineEntry(change.at, "stage", title, actor, body, message_id=message_id)


def _fields_entry(record, changed, names, actor):
    """One history row: the fields people edit as before → after, what the system sets in
    plain sentences. None when the row only repeats what another entry says."""
    diffs, said, marked = [], [], False
    by_person = record.history_user_id is not None
    for change in changed:
        name, new = change.field, change.new
        if name == "assignee":
            said.append((f"Assigned to {_display(name, new, names)}" if new else "Unassigned", ""))
        elif name == "escalation_level" and not new:
            said.append(("No longer escalated", ""))
        elif name == "escalation_level" and by_person:
            # The system's escalations are titled by their reason already.
            to_whom = EscalationLevel(new).label.lower()
            said.append((f"Escalated to {to_whom}", record.escalation_reason))
        elif name == "resolution_target_date":
            said.append(("", f"The resolution target is now {_display(name, new, names)}."))
        elif name == "feedback_waived_reason" and new:
            said.append(("", f"{new}."))
        elif name in MARK_FIELDS:
            marked = marked or new is not None
        elif name not in SYSTEM_FIELDS | {"escalation_level", "feedback_waived_reason"}:
            diffs.append(
                (
                    Complaint._meta.get_field(name).verbose_name,
                    _display(name, change.old, names),
                    _display(name, new, names),
                )
            )
    if not (diffs or said or marked):
        return None
    headlines = [headline for headline, _ in said if headline]
    title = record.history_change_reason or "Record changed"
    if by_person and len(headlines) == 1 and not diffs:
        title = headlines[0]
        lines = [detail for _, detail in said if detail]
    else:
        lines = [f"{h}." if h else "" for h, _ in said] + [d for _, d in said if d]
        lines = [line for line in lines if line]
    return TimelineEntry(
        record.history_date, "fields", title, actor, "\n".join(lines), changes=tuple(diffs)
    )


def complaint_timeline(complaint, people=()):
    """Everything that happened to a complaint, oldest first, in a few fixed queries.

    The complaint's related rows come prefetched from complaint_detail_queryset() when the
    caller used it; names are fetched for the people and categories that appear, not for all,
    and not for `people` (users the caller has read already).
    """
    stage_changes = list(complaint.stage_changes.all())
    records = _history(complaint)
    deltas = []
    for previous, record in zip(records, records[1:], strict=False):
        changed = _changes(previous, record)
        if changed:
            deltas.append((record, changed))
    notes = list(complaint.notes.all())
    consultations = list(complaint.consultations.all())
    resolutions = list(complaint.resolutions.all())
    feedback_given = list(complaint.feedback.all())
    attachments = list(complaint.attachments.all())
    sent = list(complaint.messages.all())
    flags = list(complaint.flags.all())

    ids = {"user": set(), Category: set(), Product: set(), RootCause: set()}
    ids["user"].update(
        *(
            [row.actor_id for row in stage_changes],
            [record.history_user_id for record, _ in deltas],
            [note.author_id for note in notes],
            [c.asked_by_id for c in consultations],
            [c.answered_by_id for c in consultations],
            [r.proposed_by_id for r in resolutions],
            [r.approved_by_id for r in resolutions],
            [r.implemented_by_id for r in resolutions],
            [f.recorded_by_id for f in feedback_given],
            [a.uploaded_by_id for a in attachments],
            [m.sent_by_id for m in sent],
            [flag.set_by_id for flag in flags],
            [flag.cleared_by_id for flag in flags],
        )
    )
    for _, changed in deltas:
        for c in changed:
            if c.field in NAMED_FIELDS:
                ids[NAMED_FIELDS[c.field]].update((c.old, c.new))

    def who(user_id, default=""):
        return names["user"].get(user_id, default)

    merged_in = _merged_in(complaint)
    ids["user"].update(change.actor_id for change in merged_in)
    # The page selects the complaint's own category, product and root cause, which are most
    # often those its history names; the intake sets the people of its first rows.
    at_hand = {
        "user": {user.pk: user for user in people}
        | _at_hand(stage_changes, "actor")
        | _at_hand(flags, "set_by", "cleared_by"),
        Category: _at_hand([complaint], "category"),
        Product: _at_hand([complaint], "product"),
        RootCause: _at_hand([complaint], "root_cause"),
    }
    names = _names(ids, at_hand)

    acknowledgment_email = next(
        (
            m
            for m in complaint.messages.all()
            if m.kind == MessageKind.ACKNOWLEDGMENT and m.status == MessageStatus.SENT
        ),
        None,
    )
    entries = []
    # Events that move the stage as they happen, and the stage they move it to.
    movers = []
    proposals = {r.description for r in resolutions}
    for change in merged_in:
        entries.append(
            TimelineEntry(
                change.at,
                "exit",
                f"{change.complaint.reference} merged into this complaint",
                who(change.actor_id, "System"),
                change.note,
            )
        )
    for record, changed in deltas:
        # The proposal's own entry says what the service copied into the record.
        changed = [
            c for c in changed if not (c.field == "proposed_resolution" and c.new in proposals)
        ]
        entry = _fields_entry(record, changed, names, who(record.history_user_id, "System"))
        if entry is not None:
            entries.append(entry)
        for change in changed:
            if change.field == "early_resolution_at":
                entries.append(
                    TimelineEntry(
                        record.history_date,
                        "fields",
                        EARLY_RESOLUTION_TITLES[change.new is not None],
                        who(record.history_user_id, "System"),
                    )
                )
    for note in notes:
        entries.append(
            TimelineEntry(
                note.created_at,
                "customer" if note.from_customer else "note",
                "Information from the customer" if note.from_customer else "Note",
                "Customer" if note.from_customer else who(note.author_id),
                note.text,
            )
        )
    for consultation in consultations:
        entries.append(
            TimelineEntry(
                consultation.asked_at,
                "consultation",
                f"Consulted {consultation.department}",
                who(consultation.asked_by_id),
                consultation.question,
            )
        )
        if consultation.answered_at:
            entries.append(
                TimelineEntry(
                    consultation.answered_at,
                    "consultation",
                    f"{consultation.department} answered",
                    who(consultation.answered_by_id, ""),
                    consultation.answer,
                )
            )
    for resolution in resolutions:
        amount = f" {resolution.currency} {resolution.amount}" if resolution.amount else ""
        approval = (
            "\nAbove the approval threshold: a manager approves it before the customer sees it."
        )
        proposed = TimelineEntry(
            resolution.proposed_at,
            "resolution",
            f"Resolution proposed: {resolution.get_type_display()}{amount}",
            who(resolution.proposed_by_id),
            resolution.description + (approval if resolution.approval_required else ""),
        )
        entries.append(proposed)
        movers.append((proposed, Stage.RESOLVED, resolution.proposed_by_id))
        if resolution.approved_by_id:
            decided = TimelineEntry(
                resolution.approved_at or resolution.proposed_at,
                "resolution",
                "Resolution approved" if resolution.approved_at else "Approval refused",
                who(resolution.approved_by_id),
                resolution.approval_note,
            )
            entries.append(decided)
            if not resolution.approved_at:
                movers.append((decided, Stage.INVESTIGATING, resolution.approved_by_id))
        if resolution.customer_responded_at:
            answered = TimelineEntry(
                resolution.customer_responded_at,
                "customer",
                "Customer "
                + ("accepted" if resolution.status != "rejected" else "rejected")
                + " the resolution",
                "Customer",
                resolution.customer_comment,
            )
            entries.append(answered)
            if resolution.status == ResolutionStatus.REJECTED:
                # Recorded by the customer through their link, or by staff for them.
                movers.append((answered, Stage.INVESTIGATING, ANYONE))
        if resolution.implemented_at:
            implemented = TimelineEntry(
                resolution.implemented_at,
                "resolution",
                "Resolution implemented",
                who(resolution.implemented_by_id),
                resolution.implementation_notes,
            )
            entries.append(implemented)
            movers.append((implemented, Stage.FOLLOW_UP, resolution.implemented_by_id))
    for feedback in feedback_given:
        given = TimelineEntry(
            feedback.submitted_at,
            "customer",
            "Feedback: "
            + (f"{feedback.score}/5, " if feedback.score else "")
            + ("resolved" if feedback.resolved else "not resolved"),
            who(feedback.recorded_by_id, "Customer"),
            feedback.comment,
        )
        entries.append(given)
        if not feedback.resolved:
            movers.append((given, Stage.INVESTIGATING, feedback.recorded_by_id))
    for attachment in attachments:
        entries.append(
            TimelineEntry(
                attachment.uploaded_at,
                "attachment",
                f"Attached {attachment.original_name}",
                "Customer" if attachment.uploaded_by_customer else who(attachment.uploaded_by_id),
            )
        )
    for flag in flags:
        what = flag.get_kind_display().lower()
        # Set by nobody: the customer asked for extra support on the public form.
        entries.append(
            TimelineEntry(
                flag.set_at,
                "flag",
                f"Flagged: {what}",
                who(flag.set_by_id, "Customer"),
                flag.reason,
            )
        )
        if flag.cleared_at:
            entries.append(
                TimelineEntry(
                    flag.cleared_at,
                    "flag",
                    f"Flag cleared: {what}",
                    who(flag.cleared_by_id),
                    flag.clear_reason,
                )
            )
    for message in sent:
        if message == acknowledgment_email and complaint.acknowledgment_method == "email":
            continue  # the acknowledgment's own entry names it
        entries.append(_outbound_entry(message, who))
    for message in complaint.inbound_messages.all():
        entries.append(_inbound_entry(message))
    for change in stage_changes:
        # A move made by an event of its own (a proposal, an implementation, the customer's
        # answer) is part of that event's entry, not a second one.
        mover = next(
            (
                entry
                for entry, target, actor_id in movers
                if target == change.to_stage
                and actor_id in (change.actor_id, ANYONE)
                and not entry.moved_to
                and 0 <= (change.at - entry.at).total_seconds() < SAME_EVENT_SECONDS
            ),
            None,
        )
        if mover is not None:
            mover.moved_to = STAGE_LABELS[Stage(change.to_stage)]
        else:
            entries.append(
                _stage_entry(
                    complaint, change, who(change.actor_id, "System"), acknowledgment_email
                )
            )
    entries.sort(key=lambda entry: entry.at)
    return entries


def _outbound_entry(message, who):
    status = message_status_text(message)
    if message.kind == MessageKind.REPLY:
        how = "Letter" if message.is_letter else "Reply"
        if message.response_type and message.response_type != ResponseType.REPLY:
            how = ResponseType(message.response_type).label
            how += " by letter" if message.is_letter else ""
        return TimelineEntry(
            message.sent_at or message.created_at,
            "message",
            f"{how} to the customer: {message.subject}",
            who(message.sent_by_id),
            f"{message.body_text}\n\n{status}",
            message_id=message.pk,
            letter=message.is_letter,
        )
    return TimelineEntry(
        message.sent_at or message.created_at,
        "message",
        f"Email: {message.subject}",
        "System",
        status,
        message_id=message.pk,
    )


INBOUND_TITLES = {
    InboundStatus.AUTOMATIC: "Automatic email (not acted on)",
    InboundStatus.BOUNCE: "Delivery failure report",
    InboundStatus.NEW_COMPLAINT: "Email that opened this complaint",
}


def _inbound_entry(message):
    if message.matched_by == MatchedBy.LINK:
        title = "Written by the customer on their link"
    else:
        title = INBOUND_TITLES.get(message.status, "Email from the customer")
    notes = [
        f"Attachment {note['name']}: "
        + ("added to the documents" if note["stored"] else note["reason"])
        for note in message.attachment_notes
    ]
    from_customer = message.status in (InboundStatus.THREADED, InboundStatus.NEW_COMPLAINT)
    return TimelineEntry(
        message.received_at,
        "customer" if from_customer else "message",
        f"{title}: {message.subject}" if message.subject else title,
        message.sender_name or message.sender,
        "\n\n".join([message.body_text, *notes]).strip(),
        link=reverse("complaints:inbound-message", args=[message.pk]),
    )


CUSTOMER_STAGE_TEXT = {
    Stage.RECEIVED: gettext_lazy("We received your complaint"),
    Stage.ACKNOWLEDGED: gettext_lazy("We confirmed we have your complaint"),
    Stage.INVESTIGATING: gettext_lazy("We are looking into what happened"),
    Stage.RESOLVED: gettext_lazy("We have proposed a resolution"),
    Stage.FOLLOW_UP: gettext_lazy("We have put the resolution in place"),
    Stage.DOCUMENTED: gettext_lazy("Your complaint is resolved"),
    Stage.REVIEWED: gettext_lazy("Your complaint is closed"),
    Stage.WITHDRAWN: gettext_lazy("You withdrew your complaint"),
    Stage.DUPLICATE: gettext_lazy("We joined this complaint to your other one"),
    Stage.NOT_A_COMPLAINT: gettext_lazy("We are not handling this as a complaint"),
}

CUSTOMER_WRITES = [InboundStatus.THREADED, InboundStatus.NEW_COMPLAINT]


@dataclass
class ConversationMessage:
    at: datetime
    from_us: bool
    subject: str
    text: str


def customer_conversation(complaint):
    """Every message between us and the customer on this complaint, oldest first, as plain
    text (never the HTML an email came with): what we sent them and what they sent us,
    by email or on their link. Two queries however long the conversation."""
    # complaint_id too: the related manager sets each row's complaint from it.
    ours = complaint.messages.filter(to_customer=True, status=MessageStatus.SENT).only(
        "complaint_id", "sent_at", "subject", "body_text"
    )
    theirs = complaint.inbound_messages.filter(status__in=CUSTOMER_WRITES).only(
        "complaint_id", "received_at", "subject", "body_text", "matched_by"
    )
    conversation = [
        ConversationMessage(message.sent_at, True, message.subject, message.body_text)
        for message in ours
    ] + [
        ConversationMessage(
            message.received_at,
            False,
            "" if message.matched_by == MatchedBy.LINK else message.subject,
            message.body_text,
        )
        for message in theirs
    ]
    return sorted(conversation, key=lambda message: message.at)


def customer_timeline(complaint):
    """What the customer's link shows: what happened, in their words, newest first."""
    entries = [
        (change.at, str(CUSTOMER_STAGE_TEXT[Stage(change.to_stage)]))
        for change in complaint.stage_changes.all()
    ]
    entries += [
        (message.sent_at, gettext("We emailed you: %(subject)s") % {"subject": message.subject})
        for message in complaint.messages.filter(to_customer=True, status=MessageStatus.SENT)
    ]
    entries += [
        (
            message.sent_at,
            gettext("We wrote to you by post: %(subject)s") % {"subject": message.subject},
        )
        for message in complaint.messages.filter(to_customer=True, status=MessageStatus.POSTED)
    ]
    entries += [
        (
            message.received_at,
            gettext("You wrote to us")
            if message.matched_by == MatchedBy.LINK
            else gettext("You emailed us: %(subject)s") % {"subject": message.subject},
        )
        for message in complaint.inbound_messages.filter(status__in=CUSTOMER_WRITES)
    ]
    entries += [
        (note.created_at, gettext("You sent us more information"))
        for note in complaint.notes.filter(from_customer=True)
    ]
    entries += [
        (
            attachment.uploaded_at,
            gettext("You sent us a document: %(name)s") % {"name": attachment.original_name},
        )
        for attachment in complaint.attachments.filter(uploaded_by_customer=True)
    ]
    entries += [
        (
            resolution.customer_responded_at,
            gettext("You accepted our proposal")
            if resolution.status != ResolutionStatus.REJECTED
            else gettext("You told us you disagree with our proposal"),
        )
        for resolution in complaint.resolutions.filter(customer_responded_at__isnull=False)
    ]
    entries += [
        (feedback.submitted_at, gettext("You sent us your feedback. Thank you."))
        for feedback in complaint.feedback.all()
    ]
    return sorted(entries, key=lambda entry: entry[0], reverse=True)
