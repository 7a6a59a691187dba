"""The complaint list's filters, search and order: one FilterSet for the list page, its CSV
export and the API."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field

from complaints.input_limits import LARGEST_ID, id_from, validate_day
from complaints.models import Category, Channel, Complaint, EscalationLevel, Feedback
from complaints.outcomes import OUTCOME_CHOICES
from complaints.permissions import visible_complaints
from complaints.selectors.queues import SIGN_OFF_ORDER, awaiting_sign_off, in_escalation_queue
from complaints.selectors.search import (
    REFERENCE_PATTERN,
    complaints_search,
    searches_words,
)
from complaints.sub_status import SUB_STATUS_CHOICES
from complaints.workflow import EXIT_STAGE_VALUES, OPEN_STAGE_VALUES, STAGE_CHOICES, Stage

NO_OUTCOME = "none"
OUTCOME_FILTERS = [(NO_OUTCOME, "Not recorded"), *OUTCOME_CHOICES[1:]]

# Sorting only by these keys; anything else falls back to the deadline order.
LIST_SORTS = {
    "deadline": ("next_deadline_at", "id"),
    "-received": ("-received_at", "-id"),
    "received": ("received_at", "id"),
    "reference": ("reference",),
    "customer": ("customer_name", "id"),
}


@dataclass
class ListFilters:
    query: str = ""
    stage: str = "open"
    sub_status: str = ""
    category: int | None = None
    channel: str = ""
    outcome: str = ""
    assignee: str = ""
    escalated: str = ""
    overdue: bool = False
    # Resolved within the profile's early-resolution window (true), or not (false); None: any.
    early_resolution: bool | None = None
    received_from: date | None = None
    received_to: date | None = None
    sort: str = "deadline"
    # The lists behind the home page's queue and dashboard figures.
    queue: str = ""
    acknowledgment: str = ""
    resolved_from: date | None = None
    feedback_from: date | None = None
    closed_from: date | None = None


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


def complaints_filtered(queryset, user, filters):
    """`queryset` (the complaints `user` may see) narrowed and ordered by `filters`."""
    now = timezone.now()
    if REFERENCE_PATTERN.match(filters.query.strip()):
        # A reference names one complaint: found whatever its stage or the other filters.
        return complaints_search(queryset, filters.query)
    if filters.queue == "escalations":
        queryset = in_escalation_queue(queryset)
    elif filters.queue == "sign_off":
        queryset = awaiting_sign_off(queryset)
    elif filters.stage == "open":
        queryset = queryset.filter(stage__in=OPEN_STAGE_VALUES)
    elif filters.stage == "exited":
        queryset = queryset.filter(stage__in=EXIT_STAGE_VALUES)
    elif filters.stage in Stage._value2member_map_:
        queryset = queryset.filter(stage=filters.stage)
    if filters.sub_status:
        # Only open cases have one: the partial index complaint_sub_status holds just those.
        queryset = queryset.filter(sub_status=filters.sub_status)
    if filters.acknowledgment in ACKNOWLEDGMENT_FILTERS:
        queryset = queryset.filter(ACKNOWLEDGMENT_FILTERS[filters.acknowledgment](now))
    if filters.resolved_from:
        queryset = queryset.filter(resolved_at__gte=_start_of(filters.resolved_from))
    if filters.closed_from:
        queryset = queryset.filter(closed_at__gte=_start_of(filters.closed_from))
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
    if filters.outcome:
        queryset = queryset.filter(outcome="" if filters.outcome == NO_OUTCOME else filters.outcome)
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
    if filters.early_resolution is not None:
        queryset = queryset.filter(early_resolution_at__isnull=not filters.early_resolution)
    if filters.received_from:
        queryset = queryset.filter(received_at__gte=_start_of(filters.received_from))
    if filters.received_to:
        queryset = queryset.filter(received_at__lt=_start_of(filters.received_to + timedelta(1)))
    unsearched, queryset = queryset, complaints_search(queryset, filters.query)
    sort = filters.sort if filters.sort in LIST_SORTS else "deadline"
    if filters.queue == "sign_off" and sort == "deadline":
        # Documented cases have no deadline: the queue's own order, as on the home page.
        return queryset.order_by(*SIGN_OFF_ORDER)
    if (
        sort in SORTED_MATCHES
        and searches_words(filters.query)
        and _few_matches(unsearched, filters.query)
    ):
        return queryset.order_by(*SORTED_MATCHES[sort])
    return queryset.order_by(*LIST_SORTS[sort])


# The deadline and newest-first orders have an index each, ending in the id: a page of a
# common word is read from it in order and stops at its last row, testing each complaint on
# the way (to_tsvector, about 25 us a row). For a rarer word that walk passes too many rows;
# reading the matches from the search index and sorting them (about 13 us a row, more when
# they are not cached) is cheaper. The two cost the same when matches^2 = 52 x table rows
# (26 rows a page, twice the cost a row): about 23,000 matches at 10,000,000 complaints,
# 7,200 at 1,000,000. PostgreSQL's planner, left to itself, prices to_tsvector too low and
# walks the index for both, so the rare word is sent to the search index by an order the
# order's index cannot serve: the same order, through an expression (docs/performance.md).
WALK_FACTOR = 52
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
SORTED_MATCHES = {
    "deadline": (Coalesce("next_deadline_at", Value(FAR_FUTURE)), "id"),
    "-received": (Coalesce("received_at", Value(FAR_FUTURE)).desc(), "-id"),
}
TABLE_ROWS_SECONDS = 600
MOST_WORDS_ESTIMATED = 3
_table_rows = {"at": 0.0, "rows": 0.0}


def _few_matches(queryset, text):
    """Whether the planner expects few enough matches to sort them (PostgreSQL only): an
    EXPLAIN a word, its planning only, a millisecond or two each.

    Several words match no more complaints than the rarest of them, and often as many: they
    come together ("direct debit"), which the planner, taking them as independent, does not
    know. So the rarest word's estimate decides."""
    if connection.vendor != "postgresql":
        return False
    words = [word for word in text.replace('"', " ").split() if word.isalnum()]
    matches = min(
        (
            json.loads(complaints_search(queryset, word).explain(format="json"))[0]["Plan"][
                "Plan Rows"
            ]
            for word in words[:MOST_WORDS_ESTIMATED]
        ),
        default=0,
    )
    return matches * matches < WALK_FACTOR * _complaint_rows()


def _complaint_rows():
    """The table's size as PostgreSQL last counted it, read again every ten minutes."""
    if time.monotonic() - _table_rows["at"] > TABLE_ROWS_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [Complaint._meta.db_table],
            )
            _table_rows.update(at=time.monotonic(), rows=max(cursor.fetchone()[0], 0.0))
    return _table_rows["rows"]


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def top_level_categories():
    """(id, name) of the issues a list filters by; a sub-issue is found through its issue.
    Plain pairs: a widget renders hundreds of options (the CFPB taxonomy) slowly."""
    return Category.objects.filter(parent=None).values_list("pk", "name")


STAGE_FILTERS = [
    ("open", "Open"),
    ("all", "All stages"),
    ("exited", "Closed without a resolution"),
    *STAGE_CHOICES,
]
ESCALATION_TARGETS = [choice for choice in EscalationLevel.choices if choice[0]]
ASSIGNEE_WORDS = ("none", "me", "not_me")
SORT_CHOICES = [
    ("deadline", "Next deadline"),
    ("-received", "Newest first"),
    ("received", "Oldest first"),
    ("reference", "Reference"),
    ("customer", "Customer"),
]
# In words, as the list page says what it shows.
QUEUE_CHOICES = [
    (
        "escalations",
        "the escalation queue: missed deadlines, escalations to managers and resolutions "
        "waiting for approval",
    ),
    ("sign_off", "waiting for a manager's sign-off: documented cases, oldest first"),
]
ACKNOWLEDGMENT_CHOICES = [
    ("due", "acknowledgment due (acknowledged, or past the deadline)"),
    ("on_time", "acknowledged on time"),
    ("late", "acknowledged late or not at all by the deadline"),
    ("done", "acknowledged"),
]


class AssigneeField(forms.CharField):
    def validate(self, value):
        super().validate(value)
        if value and value not in ASSIGNEE_WORDS and id_from(value) is None:
            raise ValidationError('Give "none", "me", "not_me" or a user id.', code="invalid")


@extend_schema_field(
    {
        "type": "string",
        "pattern": rf"^(none|me|not_me|[1-9][0-9]{{0,{len(str(LARGEST_ID)) - 2}}})$",
        "description": '"none" (unassigned), "me", "not_me", or a user id.',
    }
)
class AssigneeFilter(django_filters.CharFilter):
    field_class = AssigneeField


class YesNoField(forms.Field):
    """A checkbox ("on") on the page, true or false in the API; anything else is an error
    rather than a guess."""

    VALUES = {"on": True, "true": True, "1": True, "yes": True}
    VALUES |= {"off": False, "false": False, "0": False, "no": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if str(value).lower() not in self.VALUES:
            raise ValidationError("Say true or false.", code="invalid")
        return self.VALUES[str(value).lower()]


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


def _select(**kwargs):
    return django_filters.ChoiceFilter(
        widget=forms.Select(attrs={"class": "form-select"}), **kwargs
    )


def _day(**kwargs):
    return django_filters.DateFilter(validators=[validate_day], **kwargs)


def _day_input():
    return forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


class ComplaintFilterSet(django_filters.FilterSet):
    """The list's filters, search and order, each declared once with its validation. A bad
    value is a form error: the list page and its export drop that filter, the API answers
    400 naming it. The filtering itself is `complaints_filtered`, whose filters depend on
    each other (a reference search ignores the rest; the queue replaces the stage).

    The labels describe the parameters in the API's documentation; the list page writes its
    own. (A help_text would point the page's inputs at help elements it does not have.)"""

    q = django_filters.CharFilter(
        max_length=200,
        label="Search: a reference, a name, an email address, a phone number or words.",
    )
    stage = _select(choices=STAGE_FILTERS, empty_label=None, label="Default: open.")
    sub_status = _select(
        choices=SUB_STATUS_CHOICES,
        empty_label="Any",
        label="What an open complaint waits for within its stage.",
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        empty_label="All categories",
        label="An issue's id; its sub-issues are included.",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    channel = _select(choices=Channel.choices, empty_label="All channels")
    outcome = _select(
        choices=OUTCOME_FILTERS, empty_label="Any outcome", label="The recorded outcome."
    )
    assignee = AssigneeFilter()
    escalated = _select(choices=ESCALATION_TARGETS, empty_label="Any")
    overdue = YesNoFilter(label="Only open complaints past their next deadline.")
    early_resolution = YesNoFilter(
        label="Resolved within the profile's early-resolution window (DISP 1.5, RG 271), or not."
    )
    received_from = _day(widget=_day_input(), label="Received on or after this day.")
    received_to = _day(widget=_day_input(), label="Received on or before this day.")
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, label="Default: deadline.")
    # Set by the links from the home page's queue and figures, kept through "Apply".
    queue = django_filters.ChoiceFilter(choices=QUEUE_CHOICES, label="Replaces the stage filter.")
    acknowledgment = django_filters.ChoiceFilter(
        choices=ACKNOWLEDGMENT_CHOICES, label="As the dashboard counts them."
    )
    resolved_from = _day(label="Resolved on or after this day.")
    feedback_from = _day(label="With customer feedback given on or after this day.")
    closed_from = _day(label="Closed (signed off or exited) on or after this day.")

    class Meta:
        model = Complaint
        fields = []  # every filter is declared above

    def __init__(self, data=None, queryset=None, *, request, prefix=None):
        if queryset is None:
            queryset = visible_complaints(request.user)
        super().__init__(data, queryset, request=request, prefix=prefix)

    @cached_property
    def values(self):
        """The valid filters, with the defaults for the missing or bad ones."""
        self.form.is_valid()
        data = self.form.cleaned_data
        category = data.get("category")
        return ListFilters(
            query=data.get("q") or "",
            stage=data.get("stage") or "open",
            sub_status=data.get("sub_status") or "",
            category=category.pk if category else None,
            channel=data.get("channel") or "",
            outcome=data.get("outcome") or "",
            assignee=data.get("assignee") or "",
            escalated=data.get("escalated") or "",
            overdue=bool(data.get("overdue")),
            early_resolution=data.get("early_resolution"),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            sort=data.get("sort") or "deadline",
            queue=data.get("queue") or "",
            acknowledgment=data.get("acknowledgment") or "",
            resolved_from=data.get("resolved_from"),
            feedback_from=data.get("feedback_from"),
            closed_from=data.get("closed_from"),
        )

    def filter_queryset(self, queryset):
        return complaints_filtered(queryset, self.request.user, self.values)
