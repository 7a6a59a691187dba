"""The clock engine: which profile and which clocks apply to a complaint, and when each
falls due and warns. Pure: it reads the rows it is given, never the database.

All the calendar arithmetic goes through `due()` and `extend()`, the one place that knows
how a unit is counted on a BusinessCalendar."""

from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as public_holidays

from complaints.clocks import deadlines

HOURS, BUSINESS_HOURS, BUSINESS_DAYS, CALENDAR_DAYS = (
    "hours",
    "business_hours",
    "business_days",
    "calendar_days",
)


def closed_days(calendar, closures, years):
    """The days a calendar does not count: its country's public holidays and the closures."""
    if not calendar.country:
        return frozenset(closures)
    return frozenset(closures) | _public_holidays(
        calendar.country, calendar.subdivision, tuple(years)
    )


@lru_cache(maxsize=256)
def _public_holidays(country, subdivision, years):
    return frozenset(
        public_holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    )


def _end_of_day(day, zone):
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) - timedelta(
        microseconds=1
    )


def due(start, amount, unit, calendar, closures=frozenset()):
    """When a clock of `amount` `unit` started at `start` falls due on `calendar`: an hours
    clock at the moment, a day clock at the end of its local due day."""
    if unit in (HOURS, BUSINESS_HOURS):
        return start + timedelta(hours=amount)
    zone = ZoneInfo(calendar.time_zone)
    year = start.astimezone(zone).year
    spec = deadlines.ClockSpec(amount, unit)
    closed = closed_days(calendar, closures, range(year, year + 2 + amount // 200))
    return _end_of_day(deadlines.due_date(spec, start, calendar.time_zone, closed), zone)


def warn_at(due_at, amount, unit, calendar, closures=frozenset()):
    """`amount` `unit` before the due moment (a business-day warning counts back over
    business days)."""
    if amount is None:
        return None
    if unit in (HOURS, BUSINESS_HOURS):
        return due_at - timedelta(hours=amount)
    if unit == CALENDAR_DAYS:
        return due_at - timedelta(days=amount)
    zone = ZoneInfo(calendar.time_zone)
    day = due_at.astimezone(zone).date()
    closed = closed_days(calendar, closures, range(day.year - 1, day.year + 1))
    remaining = amount
    while remaining > 0:
        day -= timedelta(days=1)
        if deadlines.is_business_day(day, closed):
            remaining -= 1
    return _end_of_day(day, zone)


def extend(due_at, paused_at, resumed_at, unit, calendar, closures=frozenset()):
    """The due moment of a clock resumed after a pause: later by the time it stood still."""
    return due_at + (resumed_at - paused_at)


def applies(definition, facts):
    """Whether a definition's conditions hold for a complaint's facts (a dict: product_id,
    channel, complexity, vulnerable, hardship). `definition.product_ids` is its product
    condition, read by the caller (empty: any)."""
    if not definition.active:
        return False
    if definition.product_ids and facts["product_id"] not in definition.product_ids:
        return False
    if definition.channels and facts["channel"] not in definition.channels:
        return False
    if definition.complexities and facts["complexity"] not in definition.complexities:
        return False
    for flag in ("vulnerable", "hardship"):
        wanted = getattr(definition, flag)
        if wanted != "any" and (wanted == "yes") != bool(facts[flag]):
            return False
    return True


def choose_profile(profiles, *, product_id, country):
    """The profile of a complaint: of the active profiles whose country and products fit,
    the one with the highest priority (the more specific on a tie); the default if none
    fits. `profile.product_ids` is each profile's product condition (empty: any)."""
    fitting = [
        profile
        for profile in profiles
        if profile.active
        and not profile.is_default
        and (not profile.country or profile.country == country)
        and (not profile.product_ids or product_id in profile.product_ids)
    ]
    if fitting:
        return max(
            fitting,
            key=lambda p: (p.priority, bool(p.product_ids), bool(p.country), -p.pk),
        )
    return next(profile for profile in profiles if profile.is_default)
