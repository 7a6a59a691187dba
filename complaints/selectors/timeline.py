"""The complaint's timeline: stage changes, field history, notes, consultations, messages and
documents in one list, for staff; and the customer's plain-words version of it."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from complaints.models import (
    Category,
    Complaint,
    InboundStatus,
    MessageKind,
    MessageStatus,
    Product,
    ResolutionStatus,
    RootCause,
)
from complaints.workflow import STAGE_LABELS, Stage


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    actor: str = ""
    body: str = ""
    changes: tuple = ()
    link: str = ""

    # The page shows each moment twice and states it once for machines; formatting here
    # costs a fraction of three date filters per entry.
    @property
    def local_iso(self):
        return timezone.localtime(self.at).isoformat()

    @property
    def local_text(self):
        local = timezone.localtime(self.at)
        return f"{local.day} {local:%b %Y %H:%M}"


HIDDEN_HISTORY_FIELDS = {"updated_at", "created_at", "stage", "reopen_count"} | {
    "investigation_started_at",
    "resolved_at",
    "follow_up_started_at",
    "documented_at",
    "reviewed_at",
    "closed_at",
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
        return timezone.localtime(value).strftime("%d %b %Y %H:%M")
    return str(value)


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


def _names(ids_by_kind):
    """Display names for just the ids the timeline shows, one query per kind that has any."""
    names = {}
    for kind, ids in ids_by_kind.items():
        ids = ids - {None, ""}
        if not ids:
            names[kind] = {}
        elif kind == "user":
            names[kind] = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=ids)}
        else:
            names[kind] = dict(kind.objects.filter(pk__in=ids).values_list("pk", "name"))
    return names


def complaint_timeline(complaint):
    """Everything that happened to a complaint, oldest first, in a few fixed queries.

    The complaint's related rows come prefetched from complaint_detail_queryset() when the
    caller used it; names are fetched for the people and categories that appear, not for all.
    """
    stage_changes = list(complaint.stage_changes.all())
    records = list(complaint.history.order_by("history_date", "history_id"))
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
        )
    )
    for _, changed in deltas:
        for c in changed:
            if c.field in NAMED_FIELDS:
                ids[NAMED_FIELDS[c.field]].update((c.old, c.new))
    names = _names(ids)

    def who(user_id, default=""):
        return names["user"].get(user_id, default)

    entries = []
    for change in stage_changes:
        entries.append(
            TimelineEntry(
                change.at,
                "stage",
                f"{STAGE_LABELS[Stage(change.to_stage)]}"
                + (
                    f" (from {STAGE_LABELS[Stage(change.from_stage)]})" if change.from_stage else ""
                ),
                who(change.actor_id, "System"),
                change.note,
            )
        )
    for record, changed in deltas:
        entries.append(
            TimelineEntry(
                record.history_date,
                "fields",
                record.history_change_reason or "Record changed",
                who(record.history_user_id, "System"),
                changes=tuple(
                    (
                        Complaint._meta.get_field(c.field).verbose_name,
                        _display(c.field, c.old, names),
                        _display(c.field, c.new, names),
                    )
                    for c in changed
                ),
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
        entries.append(
            TimelineEntry(
                resolution.proposed_at,
                "resolution",
                f"Resolution proposed: {resolution.get_type_display()}{amount}",
                who(resolution.proposed_by_id),
                resolution.description,
            )
        )
        if resolution.approved_by_id:
            entries.append(
                TimelineEntry(
                    resolution.approved_at or resolution.proposed_at,
                    "resolution",
                    "Resolution approved" if resolution.approved_at else "Approval refused",
                    who(resolution.approved_by_id),
                    resolution.approval_note,
                )
            )
        if resolution.customer_responded_at:
            entries.append(
                TimelineEntry(
                    resolution.customer_responded_at,
                    "customer",
                    "Customer "
                    + ("accepted" if resolution.status != "rejected" else "rejected")
                    + " the resolution",
                    "Customer",
                    resolution.customer_comment,
                )
            )
        if resolution.implemented_at:
            entries.append(
                TimelineEntry(
                    resolution.implemented_at,
                    "resolution",
                    "Resolution implemented",
                    who(resolution.implemented_by_id),
                    resolution.implementation_notes,
                )
            )
    for feedback in feedback_given:
        entries.append(
            TimelineEntry(
                feedback.submitted_at,
                "customer",
                "Feedback: "
                + (f"{feedback.score}/5, " if feedback.score else "")
                + ("resolved" if feedback.resolved else "not resolved"),
                who(feedback.recorded_by_id, "Customer"),
                feedback.comment,
            )
        )
    for attachment in attachments:
        entries.append(
            TimelineEntry(
                attachment.uploaded_at,
                "attachment",
                f"Attached {attachment.original_name}",
                "Customer" if attachment.uploaded_by_customer else who(attachment.uploaded_by_id),
            )
        )
    for message in sent:
        entries.append(_outbound_entry(message, who))
    for message in complaint.inbound_messages.all():
        entries.append(_inbound_entry(message))
    entries.sort(key=lambda entry: entry.at)
    return entries


def _outbound_entry(message, who):
    status = message.get_status_display().lower()
    if message.status == MessageStatus.UNDELIVERABLE:
        status += f": {message.last_error}"
    elif message.status != MessageStatus.SENT and message.attempts:
        status += f" (tried {message.attempts} times: {message.last_error})"
    if message.kind == MessageKind.REPLY:
        return TimelineEntry(
            message.sent_at or message.created_at,
            "message",
            f"Reply to the customer: {message.subject}",
            f"{who(message.sent_by_id)} to {message.recipient}",
            f"{message.body_text}\n\n({status})",
        )
    return TimelineEntry(
        message.sent_at or message.created_at,
        "message",
        f"Email: {message.subject}",
        f"to {message.recipient}",
        status,
    )


INBOUND_TITLES = {
    InboundStatus.AUTOMATIC: "Automatic email (not acted on)",
    InboundStatus.BOUNCE: "Delivery failure report",
    InboundStatus.NEW_COMPLAINT: "Email that opened this complaint",
}


def _inbound_entry(message):
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
    Stage.RECEIVED: "We received your complaint",
    Stage.ACKNOWLEDGED: "We confirmed we have your complaint",
    Stage.INVESTIGATING: "We are looking into what happened",
    Stage.RESOLVED: "We have proposed a resolution",
    Stage.FOLLOW_UP: "We have put the resolution in place",
    Stage.DOCUMENTED: "Your complaint is resolved",
    Stage.REVIEWED: "Your complaint is closed",
}


def customer_timeline(complaint):
    """What the customer's link shows: what happened, in their words, newest first."""
    entries = [
        (change.at, CUSTOMER_STAGE_TEXT[Stage(change.to_stage)])
        for change in complaint.stage_changes.all()
    ]
    entries += [
        (message.sent_at, f"We emailed you: {message.subject}")
        for message in complaint.messages.filter(to_customer=True, status=MessageStatus.SENT)
    ]
    entries += [
        (message.received_at, f"You emailed us: {message.subject}")
        for message in complaint.inbound_messages.filter(
            status__in=[InboundStatus.THREADED, InboundStatus.NEW_COMPLAINT]
        )
    ]
    entries += [
        (note.created_at, "You sent us more information")
        for note in complaint.notes.filter(from_customer=True)
    ]
    entries += [
        (attachment.uploaded_at, f"You sent us a document: {attachment.original_name}")
        for attachment in complaint.attachments.filter(uploaded_by_customer=True)
    ]
    entries += [
        (
            resolution.customer_responded_at,
            "You accepted our proposal"
            if resolution.status != ResolutionStatus.REJECTED
            else "You told us you disagree with our proposal",
        )
        for resolution in complaint.resolutions.filter(customer_responded_at__isnull=False)
    ]
    entries += [
        (feedback.submitted_at, "You sent us your feedback. Thank you.")
        for feedback in complaint.feedback.all()
    ]
    return sorted(entries, key=lambda entry: entry[0], reverse=True)
