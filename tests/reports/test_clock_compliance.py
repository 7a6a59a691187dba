"""Compliance per clock in the trend reports and on the dashboard: for each clock
definition, of the clocks stopped in the period with a verdict, the share within time and
the median and 90th percentile time to stop in the clock's own unit, worked by hand."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.clocks import calendars
from complaints.models import (
    BusinessCalendar,
    ClockDefinition,
    ComplaintClock,
    Holiday,
    RegulatoryProfile,
)
from reports import services as reports
from reports.metrics import _percentile, _percentile_of_counted, clock_compliance, local_bounds
from reports.models import Period
from tests import factories
from tests.complaints.test_queues import client_for

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
NOVEMBER = local_bounds(date(2026, 11, 1), date(2026, 12, 1))


@pytest.fixture
def definitions():
    """A regulator's two clocks on a calendar with no public holidays: 24 hours to
    acknowledge, 3 business days to respond. Inactive, so no new complaint gets it."""
    calendar = BusinessCalendar.objects.create(code="plain", name="Weekdays only", country="")
    profile = RegulatoryProfile.objects.create(
        code="worked", name="Worked example", calendar=calendar, active=False
    )

    def definition(code, name, amount, unit):
        return ClockDefinition.objects.create(
            profile=profile,
            code=code,
            name=name,
            start_event="received",
            stop_events=["acknowledged"],
            amount=amount,
            unit=unit,
        )

    return {
        "hours": definition("ack", "Acknowledgment", 24, "hours"),
        "days": definition("response", "Response", 3, "business_days"),
    }


def stopped(complaint, definition, started_at, duration, met, *, due=None):
    return ComplaintClock.objects.create(
        complaint=complaint,
        definition=definition,
        started_at=started_at,
        due_at=due or started_at + 24 * H,
        stopped_at=started_at + duration if duration is not None else None,
        stop_event="acknowledged" if met is not None else "exited",
        met=met,
    )


def test_compliance_per_clock_with_worked_figures(csr, definitions):
    complaint = factories.complaint(csr)  # its own house clocks run on: never counted
    hours, days = definitions["hours"], definitions["days"]
    start = datetime(2026, 11, 10, 9, tzinfo=UTC)
    # Stopped after 2, 10, 20 and 30 hours; the last missed its 24 hours.
    for taken in (2, 10, 20, 30):
        stopped(complaint, hours, start, taken * H, taken <= 24)
    # Not in November's figures: stopped after it, stopped before it, a case that exited
    # (no verdict), a clock still running.
    stopped(complaint, hours, datetime(2026, 12, 1, 0, 30, tzinfo=UTC), 2 * H, True)
    stopped(complaint, hours, datetime(2026, 10, 30, 9, tzinfo=UTC), 2 * H, True)
    stopped(complaint, hours, start, 5 * H, None)
    stopped(complaint, hours, start, None, None)
    # Business days on the plain calendar, the firm closed on Tuesday 17 November:
    # Friday 13 10:00 to Wednesday 18 15:00 counts Monday and Wednesday, 2 days (met);
    # Friday 20 to Monday 30 counts 23-27 and 30 November, 6 days (missed).
    Holiday.objects.create(date=date(2026, 11, 17), name="Firm closed")
    friday = datetime(2026, 11, 13, 10, tzinfo=UTC)
    stopped(complaint, days, friday, timedelta(days=5, hours=5), True)
    stopped(complaint, days, friday + timedelta(days=7), timedelta(days=10, hours=2), False)

    with CaptureQueriesContext(connection) as queries:
        figures = clock_compliance(*NOVEMBER)

    assert figures == [
        {
            "profile": "Worked example",
            "clock": "ack",
            "name": "Acknowledgment",
            "unit": "hours",
            "stopped": 4,
            "within": 3,
            "within_share": 0.75,
            # (10 + 20) / 2; 90th: 20 + 0.7 x (30 - 20), as percentile_cont interpolates.
            "median": 15.0,
            "p90": 27.0,
        },
        {
            "profile": "Worked example",
            "clock": "response",
            "name": "Response",
            "unit": "business days",
            "stopped": 2,
            "within": 1,
            "within_share": 0.5,
            # (2 + 6) / 2; 90th: 2 + 0.9 x (6 - 2).
            "median": 4.0,
            "p90": 5.6,
        },
    ]
    # Counted per definition (the hours clocks' percentiles with them), then the day-counted
    # clocks per pair of local dates: never read clock by clock.
    clock_table = ComplaintClock._meta.db_table
    assert sum(clock_table in query["sql"] for query in queries.captured_queries) == 2


def test_figures_counted_per_pair_of_dates_are_those_worked_clock_by_clock(csr):
    """Four hundred clocks in every unit, on calendars in two time zones (New South Wales
    with its public holidays, and London with a firm's closure), their figures worked out
    clock by clock with the calendar arithmetic."""
    sydney = BusinessCalendar.objects.create(
        code="nsw",
        name="New South Wales",
        country="AU",
        subdivision="NSW",
        time_zone="Australia/Sydney",
    )
    london = BusinessCalendar.objects.create(
        code="ldn", name="London", country="GB", subdivision="ENG"
    )
    Holiday.objects.create(date=date(2026, 11, 17), name="Firm closed", calendar=london)
    profile = RegulatoryProfile.objects.create(
        code="mixed", name="Mixed units", calendar=london, active=False
    )
    made = [
        ClockDefinition.objects.create(
            profile=profile,
            code=f"{unit}-{calendar.code}",
            name=f"{unit} on {calendar.name}",
            start_event="received",
            stop_events=["acknowledged"],
            amount=5,
            unit=unit,
            calendar=calendar,
        )
        for unit in calendars.UNITS
        for calendar in (sydney, london)
    ]
    complaint = factories.complaint(csr)
    chance = random.Random(24)
    expected = {}
    for definition in made:
        calendar = definition.calendar.as_calendar(
            Holiday.objects.filter(calendar=definition.calendar).values_list("date", flat=True)
        )
        times = []
        for _ in range(50):
            start = datetime(2026, 10, 20, tzinfo=UTC) + timedelta(minutes=chance.randrange(60_000))
            end = start + timedelta(minutes=chance.randrange(30, 30_000))
            met = chance.random() < 0.7
            stopped(complaint, definition, start, end - start, met)
            if NOVEMBER[0] <= end < NOVEMBER[1]:
                times.append((calendars.elapsed(start, end, definition.unit, calendar), met))
        taken = sorted(time for time, _ in times)
        expected[definition.code] = (
            len(times),
            sum(met for _, met in times),
            round(_percentile(taken, 0.5), 2),
            round(_percentile(taken, 0.9), 2),
        )

    figures = {
        row["clock"]: (row["stopped"], row["within"], row["median"], row["p90"])
        for row in clock_compliance(*NOVEMBER)
        if row["profile"] == "Mixed units"
    }

    assert figures == expected


@pytest.mark.parametrize(
    "times", [[3.0], [1.0, 2.0], [2.0, 2.0, 2.0, 7.5], [0.0, 1.0, 1.0, 4.0, 9.0, 9.0, 9.0, 12.5]]
)
@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.9, 1.0])
def test_a_percentile_of_counted_times_is_that_of_the_times_repeated(times, fraction):
    counted = [(time, times.count(time)) for time in sorted(set(times))]

    assert _percentile_of_counted(counted, fraction) == pytest.approx(_percentile(times, fraction))


def test_a_period_with_no_clock_stopped_has_no_figures(csr, definitions):
    assert clock_compliance(*NOVEMBER) == []


def test_the_trend_report_keeps_and_shows_compliance_per_clock(csr, manager, definitions):
    complaint = factories.complaint(csr)
    stopped(complaint, definitions["hours"], datetime(2026, 11, 3, 9, tzinfo=UTC), 30 * H, False)

    report = reports.report_build(Period.MONTHLY, date(2026, 11, 1))

    [figures] = report.metrics["clocks"]
    assert (figures["stopped"], figures["within"], figures["median"]) == (1, 0, 30.0)
    client = client_for(manager)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "Compliance per clock" in page
    csv = client.get(reverse("reports:csv", args=[report.pk, "clocks"])).content.decode()
    assert csv.splitlines()[1] == "Worked example,Acknowledgment,1,0,0.0,30.0,30.0,hours"


def test_the_dashboard_shows_compliance_per_clock_over_30_days(csr, manager, definitions):
    complaint = factories.complaint(csr)
    yesterday = timezone.now() - 30 * H
    stopped(complaint, definitions["hours"], yesterday, 5 * H, True)
    stopped(complaint, definitions["hours"], yesterday, 29 * H, False)

    page = client_for(manager).get("/").content.decode()

    assert "Compliance per clock (stopped in 30 days)" in page
    assert "50%<div" in page
    assert "17.0 hours" in page


def test_the_clocks_of_a_period_are_read_from_the_covering_index(csr, definitions):
    """5,000 stopped clocks over seven months: a week's are counted from clock_stopped alone,
    per definition and per pair of dates."""
    clock = ComplaintClock.objects.filter(complaint=factories.complaint(csr)).first()
    table = ComplaintClock._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (complaint_id, definition_id, started_at, due_at, "  # noqa: S608  (the model's table)
            "stopped_at, stop_event, met, pause_reason) "
            "SELECT complaint_id, d.id, now() - n * interval '1 hour', now(), "
            "now() - n * interval '1 hour' + interval '3 hours', 'acknowledged', "
            f"mod(n, 4) <> 0, '' FROM {table}, generate_series(1, 5000) n, "
            "(VALUES (%s), (%s)) d (id) WHERE complaints_complaintclock.id = %s",
            [definitions["hours"].pk, definitions["days"].pk, clock.pk],
        )
        cursor.execute(f"ANALYZE {table}")
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        clock_compliance(now - timedelta(days=7), now)
    reads = [query["sql"] for query in queries.captured_queries if table in query["sql"]]

    assert len(reads) == 2
    for sql in reads:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Index Only Scan using clock_stopped" in plan, plan
