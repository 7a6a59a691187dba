"""Every read of reports/: the manager dashboard's aggregates, stored trend reports and
procedure reviews.

Every query here reads a bounded window through an index (open complaints, the last 30 days,
the last 12 weeks), so the cost follows recent volume, not the size of the whole table.
"""

import statistics
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, F, FloatField, Min, Q
from django.utils import timezone

from complaints.models import Category, Complaint, Feedback
from complaints.selectors import ACKNOWLEDGMENT_FILTERS
from complaints.workflow import EXIT_STAGE_VALUES, OPEN_STAGE_VALUES, STAGE_LABELS, Stage
from reports.metrics import clock_compliance
from reports.models import ActionStatus, ImprovementAction, ProcedureReview, TrendReport


class Median(Aggregate):
    """PostgreSQL's percentile_cont; other databases compute it in Python instead."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _median_duration(queryset, start_field, end_field):
    """(median of end - start, how many) in one read."""
    delay = F(end_field) - F(start_field)
    if connection.vendor == "postgresql":
        figures = queryset.aggregate(value=Median(delay), count=Count(end_field))
        return figures["value"], figures["count"]
    values = [end - start for start, end in queryset.values_list(start_field, end_field)]
    return (statistics.median(values) if values else None), len(values)


def _received_figures(now, month_ago, weeks=12):
    """The weekly volume of the last twelve local weeks and the last 30 days' acknowledgment
    figures, in one pass over the covering index on received_at.

    A filtered count per week rather than a grouping by truncated date, which would sort
    tens of thousands of rows; the acknowledgment figures ride on the same scan.
    """
    this_week = timezone.localdate(now)
    this_week -= timedelta(days=this_week.weekday())
    starts = [this_week - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    bounds = [_start_of(week) for week in [*starts, starts[-1] + timedelta(weeks=1)]]
    # Counting received_at, which the index holds, not id, which it does not: the count
    # then reads the index alone.
    recent = Q(received_at__gte=month_ago)
    acknowledged_recently = recent & Q(acknowledged_at__isnull=False)
    figures = {
        f"w{i}": Count(
            "received_at", filter=Q(received_at__gte=bounds[i], received_at__lt=bounds[i + 1])
        )
        for i in range(weeks)
    }
    # The list each figure links to filters with the same conditions.
    figures["due"] = Count("received_at", filter=recent & ACKNOWLEDGMENT_FILTERS["due"](now))
    figures["on_time"] = Count(
        "received_at", filter=recent & ACKNOWLEDGMENT_FILTERS["on_time"](now)
    )
    if connection.vendor == "postgresql":
        figures["median_to_acknowledge"] = Median(
            F("acknowledged_at") - F("received_at"), filter=acknowledged_recently
        )
    counts = Complaint.objects.filter(received_at__gte=min(bounds[0], month_ago)).aggregate(
        **figures
    )
    if "median_to_acknowledge" not in counts:
        counts["median_to_acknowledge"], _ = _median_duration(
            Complaint.objects.filter(acknowledged_recently), "received_at", "acknowledged_at"
        )
    counts["weekly_volume"] = [(week.isoformat(), counts[f"w{i}"]) for i, week in enumerate(starts)]
    return counts


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def dashboard(now=None):
    now = now or timezone.now()
    # From a local midnight, so each figure's list (filtered by date) holds exactly its rows.
    window_start = timezone.localdate(now) - timedelta(days=30)
    month_ago = _start_of(window_start)
    open_complaints = Complaint.objects.filter(stage__in=OPEN_STAGE_VALUES)
    by_stage = dict(
        open_complaints.values_list("stage").annotate(n=Count("*")).values_list("stage", "n")
    )
    recent = Complaint.objects.filter(received_at__gte=month_ago)
    acknowledgment = _received_figures(now, month_ago)
    median_to_resolve, resolved_count = _median_duration(
        Complaint.objects.filter(resolved_at__gte=month_ago), "received_at", "resolved_at"
    )
    # Read from the partial index complaint_exited alone: a few rows, never a scan.
    exited = dict(
        Complaint.objects.filter(stage__in=EXIT_STAGE_VALUES, closed_at__gte=month_ago)
        .values_list("stage")
        .annotate(n=Count("*"))
        .values_list("stage", "n")
    )
    categories = dict(Category.objects.values_list("pk", "name"))
    by_category = [
        (categories.get(row["category"], "—"), row["category"], row["n"])
        for row in recent.values("category").annotate(n=Count("*")).order_by("-n")[:10]
    ]
    satisfaction = Feedback.objects.filter(submitted_at__gte=month_ago).aggregate(
        average=Avg("score", output_field=FloatField()),
        answers=Count("id"),
        resolved=Count("id", filter=Q(resolved=True)),
    )
    return {
        "open_by_stage": [
            (stage.value, STAGE_LABELS[stage], by_stage.get(stage.value, 0))
            for stage in Stage
            if stage.value in OPEN_STAGE_VALUES
        ],
        "open_total": sum(by_stage.values()),
        "exited_by_stage": [
            (stage, STAGE_LABELS[Stage(stage)], exited.get(stage, 0)) for stage in EXIT_STAGE_VALUES
        ],
        "exited_total": sum(exited.values()),
        "acknowledged_due": acknowledgment["due"],
        "acknowledged_on_time": acknowledgment["on_time"],
        "acknowledged_late": acknowledgment["due"] - acknowledgment["on_time"],
        "acknowledged_on_time_rate": (
            acknowledgment["on_time"] / acknowledgment["due"] if acknowledgment["due"] else None
        ),
        "median_to_acknowledge": acknowledgment["median_to_acknowledge"],
        "median_to_resolve": median_to_resolve,
        "resolved_count": resolved_count,
        "weekly_volume": acknowledgment["weekly_volume"],
        "by_category": by_category,
        "satisfaction": satisfaction,
        "window_start": window_start,
        "actions_overdue": list(
            ImprovementAction.objects.filter(
                status=ActionStatus.OPEN, due_date__lt=timezone.localdate(now)
            ).select_related("owner")[:10]
        ),
        "review_due": review_due_date(timezone.localdate(now)),
        "clock_compliance": clock_compliance(month_ago, now),
        "today": timezone.localdate(now),
    }


def dashboard_cached(now=None):
    """The dashboard as seen at most DASHBOARD_CACHE_SECONDS ago: every manager's home shows
    it, and its figures move by the hour, not the second."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return dashboard(now)
    try:
        figures = cache.get("dashboard:v4")
        if figures is None:
            figures = dashboard(now)
            cache.set("dashboard:v4", figures, seconds)
        return figures
    except Exception:  # noqa: BLE001  (a cache outage must not take the home page down)
        return dashboard(now)


def trend_reports(period=None):
    """Stored reports, newest first, without their figures (a list shows the periods)."""
    reports = TrendReport.objects.defer("metrics").order_by("-start", "period")
    return reports.filter(period=period) if period else reports


def trend_report(pk):
    return TrendReport.objects.filter(pk=pk).first()


def last_review_held_on():
    return ProcedureReview.objects.order_by("-held_on").values_list("held_on", flat=True).first()


def review_due_date(today=None):
    """When the next procedure review is due: an interval after the last one held or, before
    any, after the install began (its first account), so a fresh install owes none on its
    first day. Accounts, not complaints: an import brings complaints years old."""
    interval = timedelta(days=settings.PROCEDURE_REVIEW_INTERVAL_DAYS)
    last = last_review_held_on()
    if last is not None:
        return last + interval
    began = get_user_model().objects.aggregate(first=Min("date_joined"))["first"]
    return (timezone.localdate(began) if began else today or timezone.localdate()) + interval


def procedure_reviews(limit=50):
    return ProcedureReview.objects.prefetch_related("actions__owner", "reports")[:limit]
