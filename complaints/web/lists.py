"""The complaint list (filters, search, pages) and its CSV export."""

import csv

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.decorators import capability_required
from accounts.models import SecurityEventKind
from accounts.roles import Capability
from accounts.services import security_event_record
from complaints import selectors
from complaints.models import Channel, EscalationLevel
from complaints.outcomes import OUTCOME_LABELS
from complaints.spreadsheets import UTF8_BOM, spreadsheet_safe
from complaints.sub_status import SUB_STATUS_LABELS
from complaints.web.rows import ROW_FIELDS, rows_of
from complaints.workflow import STAGE_LABELS

PAGE_SIZE = 25


def _filtered(request):
    filterset = selectors.ComplaintFilterSet(request.GET, request=request)
    return filterset.form, filterset.values, filterset.qs


@capability_required(Capability.LOG_COMPLAINT)
def complaint_list(request):
    form, filters, queryset = _filtered(request)
    page_number = _page_number(request)
    start = (page_number - 1) * PAGE_SIZE
    # One row more than the page tells whether there is a next page, without counting
    # a million rows.
    complaints = list(
        queryset.select_related("category", "assignee").only(*ROW_FIELDS)[
            start : start + PAGE_SIZE + 1
        ]
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "complaints/list.html",
        {
            "form": form,
            "filters": filters,
            "scope": _scope(filters),
            "why": filters.queue == "escalations",
            "rows": rows_of(
                complaints[:PAGE_SIZE],
                timezone.now(),
                frozenset(selectors.complaints_new_for(request.user)),
            ),
            "page_number": page_number,
            "has_next": len(complaints) > PAGE_SIZE,
            "query_string": query.urlencode(),
            "assignees": selectors.team_members(),
            "categories": selectors.top_level_categories(),
        },
    )


def _scope(filters):
    """The filters a link from the home page set that the form has no control for, in words
    and as the hidden inputs that keep them when the form is applied again."""
    scope = []
    if selectors.REFERENCE_PATTERN.match(filters.query.strip()):
        return scope  # a reference search ignores every other filter
    for name, choices in (
        ("queue", selectors.QUEUE_CHOICES),
        ("acknowledgment", selectors.ACKNOWLEDGMENT_CHOICES),
    ):
        if value := getattr(filters, name):
            scope.append((name, value, dict(choices)[value]))
    for name, words in (
        ("resolved_from", "resolved"),
        ("feedback_from", "feedback given"),
        ("closed_from", "closed"),
    ):
        if day := getattr(filters, name):
            scope.append((name, day.isoformat(), f"{words} since {day:%-d %b %Y}"))
    return scope


def _page_number(request):
    try:
        return max(1, min(int(request.GET.get("page", 1)), 10_000))
    except ValueError:
        return 1


CLOCKS = "clocks"
CSV_COLUMNS = [
    ("Reference", "reference"),
    ("Stage", "stage"),
    ("Waiting for", "sub_status"),
    ("Received", "received_at"),
    ("Customer", "customer_name"),
    ("Email", "customer_email"),
    ("Phone", "customer_phone"),
    ("Channel", "channel"),
    ("Category", "category__name"),
    ("Product", "product__name"),
    ("Assignee", "assignee__username"),
    ("Escalated to", "escalation_level"),
    ("Acknowledgment due", "acknowledgment_due_at"),
    ("Acknowledged", "acknowledged_at"),
    ("Acknowledged late by (hours)", None),
    ("Resolution target", "resolution_target_date"),
    ("Regulatory profile", "profile__code"),
    ("Resolved early", "early_resolution_at"),
    ("Outcome", "outcome"),
    ("Description", "description"),
    # Each clock's due moment and whether it was met, read a chunk of complaints at a time.
    ("Clocks (due, met/missed)", CLOCKS),
]
CHUNK = 2000


# Spreadsheets show what people read on the pages, not the stored codes.
CSV_LABELS = {
    "stage": {stage.value: label for stage, label in STAGE_LABELS.items()},
    "sub_status": SUB_STATUS_LABELS,
    "channel": dict(Channel.choices),
    "outcome": OUTCOME_LABELS,
    "escalation_level": dict(EscalationLevel.choices),
}
# Marks whose moment is on the case page; the spreadsheet says whether they are set.
CSV_YES_NO = {"early_resolution_at"}


def _csv_value(field, value):
    if field in CSV_LABELS:
        return CSV_LABELS[field].get(value, value)
    if field in CSV_YES_NO:
        return "yes" if value is not None else "no"
    return value


class _Echo:
    def write(self, value):
        return value


@capability_required(Capability.LOG_COMPLAINT)
def complaint_export(request):
    _, _, queryset = _filtered(request)
    writer = csv.writer(_Echo())
    fields = [field for _, field in CSV_COLUMNS if field and field != CLOCKS]
    late_at = [field for _, field in CSV_COLUMNS].index(None)
    due_at, acknowledged_at = fields.index("acknowledgment_due_at"), fields.index("acknowledged_at")

    def cells(record):
        values = [_csv_value(field, value) for field, value in zip(fields, record, strict=True)]
        acknowledgment_due, acknowledged = record[due_at], record[acknowledged_at]
        late = ""
        if acknowledged and acknowledgment_due and acknowledged > acknowledgment_due:
            late = f"{(acknowledged - acknowledgment_due).total_seconds() / 3600:.1f}"
        values.insert(late_at, late)
        return [spreadsheet_safe(value) for value in values]

    def rows():
        yield UTF8_BOM + writer.writerow([label for label, _ in CSV_COLUMNS])
        chunk = []
        for record in queryset.values_list("pk", *fields).iterator(chunk_size=CHUNK):
            chunk.append(record)
            if len(chunk) == CHUNK:
                yield from chunk_rows(chunk)
                chunk = []
        yield from chunk_rows(chunk)

    def chunk_rows(chunk):
        clocks = selectors.clocks_in_words([record[0] for record in chunk])
        for pk, *record in chunk:
            yield writer.writerow([*cells(record), spreadsheet_safe(clocks.get(pk, ""))])

    security_event_record(
        SecurityEventKind.DATA_EXPORTED,
        request=request,
        detail=f"Complaint list CSV: ?{request.GET.urlencode()}"[:500],
    )
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="complaints-{stamp}.csv"'
    return response
