"""The complaint list's filters and order, shared by the list page, its CSV export and the
API."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from complaints.models import Category, Feedback
from complaints.permissions import visible_complaints
from complaints.selectors.queues import in_escalation_queue
from complaints.selectors.search import FAR_FUTURE, REFERENCE_PATTERN, complaints_search
from complaints.workflow import OPEN_STAGE_VALUES, Stage

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
        queryset = in_escalation_queue(queryset)
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


def top_level_categories():
    """(id, name) of the issues a list filters by; a sub-issue is found through its issue.
    Plain pairs: a widget renders hundreds of options (the CFPB taxonomy) slowly."""
    return Category.objects.filter(parent=None).values_list("pk", "name")
