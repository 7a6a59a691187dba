"""Reads that are more than a get: lists scoped to the user, and the complaint's timeline."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import Role
from complaints.models import (
    Category,
    Complaint,
    Consultation,
    EscalationLevel,
    Feedback,
    OutboundMessage,
    Product,
    Resolution,
    ResolutionStatus,
    RootCause,
    phone_digits,
)
from complaints.permissions import visible_complaints
from complaints.workflow import OPEN_STAGE_VALUES, STAGE_LABELS, Stage

# Sorting only by these keys; anything else falls back to the deadline order.
LIST_SORTS = {
    "deadline": ("next_deadline_at", "id"),
    "-received": ("-received_at", "-id"),
    "received": ("received_at", "id"),
    "reference": ("reference",),
    "customer": ("customer_name", "id"),
}
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
PHONE_CHARACTERS = "0123456789 +()-./"
MIN_PHONE_DIGITS = 6
# Must match the expression of the index in migrations/0009_phone_suffix_index.py exactly.
PHONE_SUFFIX_SQL = "reverse(complaints_complaint.customer_phone_digits)"
REFERENCE_PATTERN = re.compile(r"^CMP-\d{4}-\d{6}$", re.IGNORECASE)
# Must match the expression of the index in migrations/0002_search_index.py exactly.
DOCUMENT_SQL = (
    "to_tsvector('simple'::regconfig, coalesce(complaints_complaint.customer_name, '') "
    "|| ' ' || coalesce(complaints_complaint.description, ''))"
)


def complaints_search(queryset, text):
    """Each kind of query goes to the one index that answers it."""
    text = " ".join((text or "").split())
    if not text:
        return queryset
    if REFERENCE_PATTERN.match(text):
        return queryset.filter(reference=text.upper())
    if "@" in text:
        return queryset.filter(customer_email__iexact=text)
    digits = phone_digits(text)
    if len(digits) >= MIN_PHONE_DIGITS and not text.strip(PHONE_CHARACTERS):
        # A national trunk "0" or an international "00" is not in the number as stored with
        # its country code. Dropping leading zeros keeps what is left a suffix of the number
        # in every form, which is what they all share.
        number_end = digits.lstrip("0") or digits
        if connection.vendor == "postgresql":
            return queryset.extra(  # noqa: S610  (the index's expression, parameterised)  # nosec B610
                where=[f"{PHONE_SUFFIX_SQL} LIKE %s"], params=[number_end[::-1] + "%"]
            )
        return queryset.filter(customer_phone_digits__endswith=number_end)
    if connection.vendor == "postgresql":
        return queryset.extra(  # noqa: S610  (a parameterised clause the ORM cannot express)  # nosec B610
            where=[f"{DOCUMENT_SQL} @@ websearch_to_tsquery('simple', %s)"], params=[text]
        )
    return queryset.filter(Q(customer_name__icontains=text) | Q(description__icontains=text))


@dataclass
class ListFilters:
    query: str = ""
    stage: str = "open"
    category: int | None = None
    channel: str = ""
    assignee: str = ""
    escalated: str = ""
    overdue: bool = False
    received_from: date | None = None
    received_to: date | None = None
    sort: str = "deadline"
    # The lists behind the home page's queue and dashboard figures.
    queue: str = ""
    acknowledgment: str = ""
    resolved_from: date | None = None
    feedback_from: date | None = None


# The acknowledgment filter, matching the dashboard's figures for complaints received in its
# window: "due" counts those acknowledged or past their deadline, "on_time" those acknowledged
# by it, "late" the rest of "due".
ACKNOWLEDGMENT_FILTERS = {
    "due": lambda now: Q(acknowledged_at__isnull=False) | Q(acknowledgment_due_at__lt=now),
    "on_time": lambda now: Q(acknowledged_at__lte=F("acknowledgment_due_at")),
    "late": lambda now: (
        Q(acknowledged_at__gt=F("acknowledgment_due_at"))
        | Q(acknowledged_at__isnull=True, acknowledgment_due_at__lt=now)
    ),
    "done": lambda now: Q(acknowledged_at__isnull=False),
}


def complaints_filtered(user, filters, now=None):
    now = now or timezone.now()
    queryset = visible_complaints(user)
    if REFERENCE_PATTERN.match(filters.query.strip()):
        # A reference names one complaint: found whatever its stage or the other filters.
        return complaints_search(queryset, filters.query)
    if filters.queue == "escalations":
        queryset = _in_escalation_queue(queryset)
    elif filters.stage == "open":
        queryset = queryset.filter(stage__in=OPEN_STAGE_VALUES)
    elif filters.stage in Stage._value2member_map_:
        queryset = queryset.filter(stage=filters.stage)
    if filters.acknowledgment in ACKNOWLEDGMENT_FILTERS:
        queryset = queryset.filter(ACKNOWLEDGMENT_FILTERS[filters.acknowledgment](now))
    if filters.resolved_from:
        queryset = queryset.filter(resolved_at__gte=_start_of(filters.resolved_from))
    if filters.feedback_from:
        queryset = queryset.filter(
            Exists(
                Feedback.objects.filter(
                    complaint=OuterRef("pk"), submitted_at__gte=_start_of(filters.feedback_from)
                )
            )
        )
    if filters.category:
        # An issue includes its sub-issues.
        queryset = queryset.filter(
            Q(category_id=filters.category) | Q(category__parent_id=filters.category)
        )
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee == "me":
        queryset = queryset.filter(assignee=user)
    elif filters.assignee == "not_me":
        queryset = queryset.exclude(assignee=user)
    elif filters.assignee.isascii() and filters.assignee.isdigit():
        queryset = queryset.filter(assignee_id=int(filters.assignee))
    if filters.escalated in ("team", "manager"):
        queryset = queryset.filter(escalation_level=filters.escalated)
    if filters.overdue:
        queryset = queryset.filter(stage__in=OPEN_STAGE_VALUES, next_deadline_at__lt=now)
    if filters.received_from:
        queryset = queryset.filter(received_at__gte=_start_of(filters.received_from))
    if filters.received_to and filters.received_to < date.max:
        queryset = queryset.filter(received_at__lt=_start_of(filters.received_to + timedelta(1)))
    queryset = complaints_search(queryset, filters.query)
    sort = filters.sort if filters.sort in LIST_SORTS else "deadline"
    if filters.query and sort == "deadline":
        # Closed complaints have no deadline; ordering a text search by the raw column lets
        # the planner walk the deadline index through all of them. This order is the same
        # and sends it to the full-text index instead.
        return queryset.order_by(Coalesce("next_deadline_at", Value(FAR_FUTURE)), "id")
    return queryset.order_by(*LIST_SORTS[sort])


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def open_complaints(user):
    return visible_complaints(user).filter(stage__in=OPEN_STAGE_VALUES)


def complaints_intake_queue(user):
    return open_complaints(user).filter(assignee__isnull=True)


def complaints_assigned_to(user):
    return open_complaints(user).filter(assignee=user)


def complaints_escalated_to_team(user):
    """Escalated cases the team has yet to pick up; the user's own are in "My complaints"."""
    return (
        open_complaints(user).filter(escalation_level=EscalationLevel.TEAM).exclude(assignee=user)
    )


def complaints_escalation_queue(user):
    return _in_escalation_queue(visible_complaints(user))


def _in_escalation_queue(queryset):
    """What managers must look at: missed deadlines, escalations, approvals waiting.

    A missed resolution target shows here through its escalation to managers, which the
    clock job makes; imported history carries the mark without the escalation.
    """
    awaiting = Resolution.objects.filter(
        complaint=OuterRef("pk"), status=ResolutionStatus.AWAITING_APPROVAL
    )
    return (
        queryset.filter(stage__in=OPEN_STAGE_VALUES)
        .filter(
            Q(escalation_level=EscalationLevel.MANAGER)
            | Q(acknowledgment_breached_at__isnull=False, stage=Stage.RECEIVED)
            | Exists(awaiting)
        )
        .annotate(awaiting_approval=Exists(awaiting))
    )


def consultations_waiting_for(user):
    return Consultation.objects.filter(consultee=user, answered_at__isnull=True).select_related(
        "complaint"
    )


def team_workload(user, now=None):
    """Open and overdue complaints per person, for managers."""
    now = now or timezone.now()
    rows = (
        open_complaints(user)
        .values("assignee")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(next_deadline_at__lt=now)),
        )
        .order_by("-overdue", "-open")
    )
    people = {
        u.pk: u for u in get_user_model().objects.filter(pk__in=[r["assignee"] for r in rows])
    }
    return [(people.get(r["assignee"]), r["open"], r["overdue"]) for r in rows]


def complaint_detail_queryset():
    """The complaint with everything its page and timeline show, each relation read once."""
    return Complaint.objects.select_related(
        "category", "product", "root_cause", "assignee"
    ).prefetch_related(
        "stage_changes",
        "notes",
        Prefetch("consultations", queryset=Consultation.objects.select_related("consultee")),
        "resolutions",
        "feedback",
        "attachments",
        # The timeline shows each message's subject and status, not its bodies.
        Prefetch("messages", queryset=OutboundMessage.objects.defer("body_text", "body_html")),
    )


def managers_to_notify():
    """Active managers and administrators with an email address."""
    return [
        user
        for user in get_user_model().objects.filter(is_active=True).exclude(email="")
        if user.is_superuser or user.role == Role.MANAGER
    ]


def csrs_to_notify():
    return list(get_user_model().objects.filter(is_active=True, role=Role.CSR).exclude(email=""))


def team_members():
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(role="")
        .order_by("first_name", "username")
    )


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    actor: str = ""
    body: str = ""
    changes: tuple = ()

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
    for message in complaint.messages.all():
        status = message.get_status_display().lower()
        if message.status != "sent" and message.attempts:
            status += f" (tried {message.attempts} times: {message.last_error})"
        entries.append(
            TimelineEntry(
                message.sent_at or message.created_at,
                "message",
                f"Email: {message.subject}",
                f"to {message.recipient}",
                status,
            )
        )
    entries.sort(key=lambda entry: entry.at)
    return entries
