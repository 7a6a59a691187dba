from datetime import UTC, date, datetime, timedelta

import pytest

from complaints.clocks import (
    BUSINESS_DAYS,
    CALENDAR_DAYS,
    HOURS,
    ClockSpec,
    add_business_days,
    countdown,
    due_at,
    due_date,
)


def test_business_days_skip_weekends():
    friday = date(2026, 11, 20)
    assert add_business_days(friday, 1) == date(2026, 11, 23)
    assert add_business_days(friday, 3) == date(2026, 11, 25)


def test_business_days_skip_holidays():
    assert add_business_days(date(2026, 12, 24), 1, {date(2026, 12, 25)}) == date(2026, 12, 28)


def test_a_saturday_start_counts_from_monday():
    assert add_business_days(date(2026, 11, 21), 1) == date(2026, 11, 23)


def test_due_date_uses_the_local_calendar_day():
    # 23:30 UTC on Sunday is already Monday in Tokyo: the clock starts from Monday there.
    start = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert due_date(ClockSpec(1, BUSINESS_DAYS), start, "Asia/Tokyo") == date(2026, 11, 24)
    assert due_date(ClockSpec(1, BUSINESS_DAYS), start, "Europe/London") == date(2026, 11, 23)
    assert due_date(ClockSpec(30, CALENDAR_DAYS), start, "Europe/London") == date(2026, 12, 22)


def test_hours_clock():
    start = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert due_at(ClockSpec(24, HOURS), start) == start + timedelta(hours=24)


def test_bad_clock_specs_are_refused():
    with pytest.raises(ValueError):
        ClockSpec(3, "fortnights")
    with pytest.raises(ValueError):
        ClockSpec(-1, HOURS)


def test_countdown_texts():
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert countdown(now + timedelta(hours=3, minutes=12), now) == ("due in 3 h 12 min", False)
    assert countdown(now - timedelta(hours=2), now) == ("overdue by 2 h 0 min", True)
    assert countdown(date(2026, 11, 23), now) == ("due today", False)
    assert countdown(date(2026, 11, 20), now) == ("overdue by 3 days", True)
