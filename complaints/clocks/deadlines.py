"""Deadlines as arithmetic: pure functions, no database.

A clock is a duration counted in hours, business days or calendar days from a start moment,
on a calendar of holidays. The house clocks (acknowledgment and resolution target) use this
simpler form, with the firm's holidays only; the arithmetic itself is calendars.py's.
"""

from dataclasses import dataclass
from datetime import date, datetime

from complaints.clocks import calendars
from complaints.clocks.calendars import BUSINESS_DAYS, CALENDAR_DAYS, HOURS


@dataclass(frozen=True)
class ClockSpec:
    amount: int
    unit: str

    def __post_init__(self):
        if self.unit not in (HOURS, BUSINESS_DAYS, CALENDAR_DAYS):
            raise ValueError(f"unknown clock unit {self.unit!r}")
        if self.amount < 0:
            raise ValueError("a clock cannot run backwards")


def _firm_calendar(holidays, time_zone=calendars.Calendar.time_zone):
    return calendars.Calendar(time_zone=str(time_zone), closures=holidays)


def is_business_day(day, holidays):
    return _firm_calendar(holidays).is_business_day(day)


def add_business_days(start, days, holidays=frozenset()):
    """The date `days` business days after `start` (a start on a closed day counts from the
    next business day, as a complaint logged on Saturday is first worked on Monday)."""
    return calendars.add_business_days(start, days, _firm_calendar(holidays))


def due_date(spec, start, time_zone, holidays=frozenset()):
    """The day a day-counted clock falls due, in the team's local calendar."""
    if spec.unit == HOURS:
        raise ValueError("an hours clock has a due moment, not a due date; use due_at")
    return calendars.due_day(start, spec.amount, spec.unit, _firm_calendar(holidays, time_zone))


def due_at(spec, start):
    if spec.unit != HOURS:
        raise ValueError("only an hours clock has a due moment")
    return calendars.due(start, spec.amount, HOURS, _firm_calendar(frozenset()))


def countdown(deadline, now):
    """'due in 3 h 12 min' or 'overdue by 2 h', for a deadline moment or a due date."""
    if isinstance(deadline, date) and not isinstance(deadline, datetime):
        days = (deadline - now.date()).days
        if days > 1:
            return f"due in {days} days", False
        if days == 1:
            return "due tomorrow", False
        if days == 0:
            return "due today", False
        return f"overdue by {-days} day{'s' if days != -1 else ''}", True
    seconds = int((deadline - now).total_seconds())
    overdue = seconds < 0
    text = duration_text(abs(seconds))
    return (f"overdue by {text}" if overdue else f"due in {text}"), overdue


def duration_text(seconds):
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 7:
        return f"{days} days"
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
