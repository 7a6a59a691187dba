"""The figures of a trend report, computed for one period.

Schema (version 1) of TrendReport.metrics; durations are in hours, shares in 0..1:

    received: {total, by_category: [[name, n]], by_product: [[name, n]],
               by_channel: [[label, n]], by_day: [[YYYY-MM-DD, n]]}
    open_at_end: {total, by_stage: [[label, n]]}
    exits: {total, by_stage: [[label, n]]}     closed without a resolution in the period
                                        (withdrawn, duplicate, not a complaint); absent from
                                        reports built before the exits existed
    acknowledgment: {count, median_hours, p90_hours, within_deadline, within_deadline_share}
    resolution: {count, median_hours, p90_hours, within_target, within_target_share}
    escalation: {escalated, rate}       of the complaints received in the period
    reopen: {reopened, rate}            of the complaints received in the period
    resolutions: {by_type: [[label, n]], money_paid: [[currency, amount]]}
    satisfaction: {answers, scored, average_score, resolved_yes, asked, response_rate}
    root_causes: [[name, n]]            of complaints resolved in the period, top 10
    rising_categories: [{category, count, trailing_average, ratio}]
    clocks: [{profile, clock, name, unit, stopped, within, within_share, median, p90}]
                                        per clock definition, the clocks stopped in the
                                        period with a verdict; median and p90 time to stop
                                        in the clock's own unit; absent from reports built
                                        before the clocks existed
    previous: {received, change, change_share}   against the period before

Every query is bounded by the period through an index, so a month costs what a month holds.
"""

import bisect
import itertools
import statistics
from collections import defaultdict
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from complaints.clocks import calendars
from complaints.models import (
    Category,
    Channel,
    ClockDefinition,
    Complaint,
    ComplaintClock,
    Feedback,
    Product,
    Resolution,
    ResolutionStatus,
    ResolutionType,
    RootCause,
    StageChange,
)
from complaints.services.clocks import Closures, calendar_of
from complaints.workflow import EXIT_STAGE_VALUES, OPEN_STAGE_VALUES, STAGE_LABELS, Stage

SCHEMA_VERSION = 1
TRAILING_PERIODS = 8


def local_bounds(start, end, time_zone=None):
    """Local midnights as aware moments: a day across a DST change lasts 23 or 25 hours."""
    zone = ZoneInfo(time_zone or settings.TIME_ZONE)
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end, time.min, tzinfo=zone),
    )


class PercentileSeconds(Aggregate):
    function = "percentile_cont"
    template = (
        "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    )
    output_field = FloatField()

    def __init__(self, expression, fraction, **extra):
        super().__init__(expression, fraction=fraction, **extra)


def _hours(seconds):
    return round(seconds / 3600, 2) if seconds is not None else None


def duration_percentiles(queryset, start_field, end_field):
    """(median, 90th percentile) of end - start, in hours; None for an empty set."""
    delay = F(end_field) - F(start_field)
    if connection.vendor == "postgresql":
        values = queryset.aggregate(
            median=PercentileSeconds(delay, 0.5), p90=PercentileSeconds(delay, 0.9)
        )
        return _hours(values["median"]), _hours(values["p90"])
    seconds = sorted(
        (end - start).total_seconds() for start, end in queryset.values_list(start_field, end_field)
    )
    if not seconds:
        return None, None
    return _hours(statistics.median(seconds)), _hours(_percentile(seconds, 0.9))


def _percentile(ordered, fraction):
    """Linear interpolation, as PostgreSQL's percentile_cont."""
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _share(part, whole):
    return round(part / whole, 4) if whole else None


def _top_level(model):
    """Each item's top-level name: trends group sub-issues under their issue."""
    items = dict(model.objects.values_list("pk", "parent_id"))
    names = dict(model.objects.values_list("pk", "name"))
    return {pk: names[parent or pk] for pk, parent in items.items()}


def _grouped(queryset, field, to_name):
    totals = {}
    for key, n in queryset.values_list(field).annotate(n=Count("id")).values_list(field, "n"):
        name = to_name.get(key, "—") if to_name is not None else key
        totals[name] = totals.get(name, 0) + n
    return sorted(([name, n] for name, n in totals.items()), key=lambda pair: (-pair[1], pair[0]))


class LocalDate(Func):
    """The date a moment falls on in a time zone that may differ row by row (each clock's
    calendar's); TruncDate takes one zone for the whole query."""

    template = "(%(expressions)s)::date"
    arg_joiner = " AT TIME ZONE "
    output_field = DateField()


def clock_compliance(starts_at, ends_at):
    """Compliance per clock definition over [starts_at, ends_at): of the clocks stopped in
    it with a verdict (met or missed; a case that exited, or a clock replaced when the case's
    profile or facts changed, says nothing of a promise kept), how many, how many within
    time and their share, and the median and 90th percentile time from start to stop in the
    clock's own unit (business days on its calendar, hours...), the time paused included.

    On PostgreSQL counted in SQL from the covering index clock_stopped, not clock by clock
    in Python (a month holds tens of thousands): an hours clock's percentiles are
    percentile_cont's; a day-counted clock's time depends only on its two local dates, so
    its clocks are counted per pair of dates and each pair's days worked out once."""
    definitions = ClockDefinition.objects.select_related("calendar", "profile__calendar")
    in_period = ComplaintClock.objects.filter(
        stopped_at__gte=starts_at, stopped_at__lt=ends_at, met__isnull=False
    ).order_by()
    closures = Closures()
    hours, by_dates, clock_by_clock = [], [], []
    for definition in definitions:
        if connection.vendor != "postgresql" or definition.unit == calendars.BUSINESS_HOURS:
            clock_by_clock.append(definition)
        elif definition.unit == calendars.HOURS:
            hours.append(definition)
        else:
            by_dates.append(definition)
    figures = {}
    if hours:
        figures |= _hours_figures(in_period, hours)
    if by_dates:
        figures |= _figures_by_dates(in_period, by_dates, closures)
    if clock_by_clock:
        figures |= _figures_clock_by_clock(in_period, clock_by_clock, closures)
    return [
        {
            "profile": definition.profile.name,
            "clock": definition.code,
            "name": definition.name,
            "unit": definition.get_unit_display().lower(),
            "stopped": stopped,
            "within": within,
            "within_share": _share(within, stopped),
            "median": round(median, 2),
            "p90": round(p90, 2),
        }
        for definition in sorted(figures, key=lambda d: (d.profile.name, d.name, d.pk))
        for stopped, within, median, p90 in [figures[definition]]
    ]


def _hours_figures(in_period, definitions):
    """{definition: (stopped, within, median, p90)} of hours clocks, all in SQL."""
    by_pk = {definition.pk: definition for definition in definitions}
    delay = F("stopped_at") - F("started_at")
    rows = (
        in_period.filter(definition_id__in=by_pk)
        .values_list("definition_id")
        .annotate(
            stopped=Count("stopped_at"),
            within=Count("stopped_at", filter=Q(met=True)),
            median=PercentileSeconds(delay, 0.5),
            p90=PercentileSeconds(delay, 0.9),
        )
    )
    return {
        by_pk[pk]: (stopped, within, median / 3600, p90 / 3600)
        for pk, stopped, within, median, p90 in rows
    }


def _figures_by_dates(in_period, definitions, closures):
    """The same for day-counted clocks, counted per definition and pair of local dates in
    the definition's calendar's time zone (a few thousand pairs for tens of thousands of
    clocks)."""
    by_pk = {definition.pk: definition for definition in definitions}
    zones = defaultdict(list)
    for definition in definitions:
        zones[calendar_of(definition).time_zone].append(definition.pk)
    zone = Case(
        *(When(definition_id__in=pks, then=Value(name)) for name, pks in zones.items()),
        output_field=CharField(),
    )
    rows = (
        in_period.filter(definition_id__in=by_pk)
        .annotate(first=LocalDate("started_at", zone), last=LocalDate("stopped_at", zone))
        .values_list("definition_id", "first", "last")
        .annotate(n=Count("stopped_at"), within=Count("stopped_at", filter=Q(met=True)))
    )
    pairs = defaultdict(list)
    for pk, first, last, n, within in rows:
        pairs[by_pk[pk]].append(((first, last), n, within))
    figures = {}
    for definition, counted in pairs.items():
        calendar = closures.calendar(calendar_of(definition))
        days = calendars.elapsed_days([dates for dates, *_ in counted], definition.unit, calendar)
        figures[definition] = _figures(
            [(taken, n, within) for taken, (_, n, within) in zip(days, counted, strict=True)]
        )
    return figures


def _figures_clock_by_clock(in_period, definitions, closures):
    """The same clock by clock: for business-hours clocks, whose time depends on the
    moments, not the dates (no clock in the catalogue counts in them), and on a database
    without percentile_cont and AT TIME ZONE (the embedded SQLite)."""
    by_pk = {definition.pk: definition for definition in definitions}
    calendar_by_pk = {pk: closures.calendar(calendar_of(d)) for pk, d in by_pk.items()}
    rows = in_period.filter(definition_id__in=by_pk).values_list(
        "definition_id", "started_at", "stopped_at", "met"
    )
    counted = defaultdict(list)
    for pk, started_at, stopped_at, met in rows:
        unit = by_pk[pk].unit
        taken = calendars.elapsed(started_at, stopped_at, unit, calendar_by_pk[pk])
        counted[by_pk[pk]].append((taken, 1, int(met)))
    return {definition: _figures(times) for definition, times in counted.items()}


def _figures(counted):
    """(stopped, within, median, p90) from (time, clocks, of which within time) triples."""
    counted = sorted(counted)
    return (
        sum(n for _, n, _ in counted),
        sum(within for *_, within in counted),
        _percentile_of_counted(counted, 0.5),
        _percentile_of_counted(counted, 0.9),
    )


def _percentile_of_counted(counted, fraction):
    """`_percentile` of sorted (time, count, ...) tuples, as if each time were repeated its
    count of times."""
    ends = list(itertools.accumulate(n for _, n, *_ in counted))

    def at(rank):
        return counted[bisect.bisect_right(ends, rank)][0]

    position = (ends[-1] - 1) * fraction
    low = int(position)
    return at(low) + (at(min(low + 1, ends[-1] - 1)) - at(low)) * (position - low)


def received_count(starts_at, ends_at):
    return Complaint.objects.filter(received_at__gte=starts_at, received_at__lt=ends_at).count()


def open_at(moment):
    """How many complaints were open at a moment, by the stage they were in then."""
    candidates = (
        Complaint.objects.filter(received_at__lt=moment)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=moment))
        .filter(Q(documented_at__isnull=True) | Q(documented_at__gte=moment))
    )
    last_change = (
        StageChange.objects.filter(complaint__in=candidates, at__lt=moment)
        .order_by("complaint_id", "-at", "-id")
        .values_list("complaint_id", "to_stage")
    )
    if connection.vendor == "postgresql":
        stages = [stage for _, stage in last_change.distinct("complaint_id")]
    else:
        seen, stages = set(), []
        for complaint_id, stage in last_change:
            if complaint_id not in seen:
                seen.add(complaint_id)
                stages.append(stage)
    counts = {}
    for stage in stages:
        if stage in OPEN_STAGE_VALUES:
            counts[stage] = counts.get(stage, 0) + 1
    by_stage = [[STAGE_LABELS[Stage(s)], counts.get(s, 0)] for s in OPEN_STAGE_VALUES]
    return {"total": sum(counts.values()), "by_stage": by_stage}


def exits_between(starts_at, ends_at):
    """Cases closed without a resolution in [starts_at, ends_at), by exit. Exits are final,
    so closed_at is the moment of the exit; the partial index complaint_exited holds them."""
    counts = dict(
        Complaint.objects.filter(
            stage__in=EXIT_STAGE_VALUES, closed_at__gte=starts_at, closed_at__lt=ends_at
        )
        .values_list("stage")
        .annotate(n=Count("*"))
        .values_list("stage", "n")
    )
    return {
        "total": sum(counts.values()),
        "by_stage": [[STAGE_LABELS[Stage(s)], counts.get(s, 0)] for s in EXIT_STAGE_VALUES],
    }


def build_metrics(starts_at, ends_at, previous_bounds=(), time_zone=None):
    """All figures for [starts_at, ends_at); previous_bounds are the trailing periods, most
    recent first, for the change and rising-category figures."""
    zone = ZoneInfo(time_zone or settings.TIME_ZONE)
    received = Complaint.objects.filter(received_at__gte=starts_at, received_at__lt=ends_at)
    categories = _top_level(Category)
    products = _top_level(Product)
    channels = dict(Channel.choices)
    total = received.count()

    by_day = [
        [day.isoformat(), n]
        for day, n in received.annotate(day=TruncDate("received_at", tzinfo=zone))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("day")
        .values_list("day", "n")
    ]

    acknowledged = received.filter(acknowledged_at__isnull=False)
    ack_median, ack_p90 = duration_percentiles(acknowledged, "received_at", "acknowledged_at")
    ack_count = acknowledged.count()
    ack_within = acknowledged.filter(acknowledged_at__lte=F("acknowledgment_due_at")).count()

    resolved = Complaint.objects.filter(resolved_at__gte=starts_at, resolved_at__lt=ends_at)
    res_median, res_p90 = duration_percentiles(resolved, "received_at", "resolved_at")
    res_count = resolved.count()
    res_within = resolved.filter(resolution_overdue_at__isnull=True).count()

    escalated = received.filter(escalated_at__isnull=False).count()
    reopened = received.filter(reopen_count__gt=0).count()

    implemented = Resolution.objects.filter(
        status=ResolutionStatus.IMPLEMENTED,
        implemented_at__gte=starts_at,
        implemented_at__lt=ends_at,
    )
    by_type = _grouped(implemented, "type", dict(ResolutionType.choices))
    money = [
        [currency, str(amount)]
        for currency, amount in implemented.filter(amount__isnull=False)
        .values_list("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
        .values_list("currency", "total")
    ]

    feedback = Feedback.objects.filter(submitted_at__gte=starts_at, submitted_at__lt=ends_at)
    answers = feedback.count()
    scored = feedback.filter(score__isnull=False)
    scores = scored.aggregate(total=Sum("score"), n=Count("id"))
    asked = StageChange.objects.filter(
        to_stage=Stage.FOLLOW_UP, at__gte=starts_at, at__lt=ends_at
    ).count()

    root_causes = _grouped(
        resolved.filter(root_cause__isnull=False),
        "root_cause",
        dict(RootCause.objects.values_list("pk", "name")),
    )[:10]

    rising = []
    category_counts = dict(_grouped(received, "category", categories))
    trailing = [
        dict(
            _grouped(
                Complaint.objects.filter(received_at__gte=start, received_at__lt=end),
                "category",
                categories,
            )
        )
        for start, end in previous_bounds[:TRAILING_PERIODS]
    ]
    if trailing:
        for name, count in category_counts.items():
            average = sum(period.get(name, 0) for period in trailing) / len(trailing)
            ratio = count / average if average else None
            if count >= settings.RISING_MIN_COUNT and (
                ratio is None or ratio >= settings.RISING_THRESHOLD
            ):
                rising.append(
                    {
                        "category": name,
                        "count": count,
                        "trailing_average": round(average, 2),
                        "ratio": round(ratio, 2) if ratio is not None else None,
                    }
                )
        rising.sort(key=lambda item: -(item["ratio"] or float("inf")))

    previous = None
    if previous_bounds:
        before = received_count(*previous_bounds[0])
        previous = {
            "received": before,
            "change": total - before,
            "change_share": _share(total - before, before),
        }

    return {
        "received": {
            "total": total,
            "by_category": _grouped(received, "category", categories),
            "by_product": _grouped(received, "product", products),
            "by_channel": _grouped(received, "channel", channels),
            "by_day": by_day,
        },
        "open_at_end": open_at(ends_at),
        "exits": exits_between(starts_at, ends_at),
        "acknowledgment": {
            "count": ack_count,
            "median_hours": ack_median,
            "p90_hours": ack_p90,
            "within_deadline": ack_within,
            "within_deadline_share": _share(ack_within, ack_count),
        },
        "resolution": {
            "count": res_count,
            "median_hours": res_median,
            "p90_hours": res_p90,
            "within_target": res_within,
            "within_target_share": _share(res_within, res_count),
        },
        "escalation": {"escalated": escalated, "rate": _share(escalated, total)},
        "reopen": {"reopened": reopened, "rate": _share(reopened, total)},
        "resolutions": {"by_type": by_type, "money_paid": money},
        "satisfaction": {
            "answers": answers,
            "scored": scores["n"],
            "average_score": round(scores["total"] / scores["n"], 2) if scores["n"] else None,
            "resolved_yes": feedback.filter(resolved=True).count(),
            "asked": asked,
            "response_rate": _share(answers, asked),
        },
        "root_causes": root_causes,
        "rising_categories": rising,
        "previous": previous,
        "clocks": clock_compliance(starts_at, ends_at),
    }
