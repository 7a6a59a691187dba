"""Clocks: deadline arithmetic (deadlines.py, pure), the house clocks' deadlines for a
complaint (targets.py) and the periodic sweeps that enforce them (sweeps.py, which sits above
the services it calls and so is imported by name, never from here)."""

from complaints.clocks.deadlines import (
    BUSINESS_DAYS,
    CALENDAR_DAYS,
    HOURS,
    ClockSpec,
    add_business_days,
    countdown,
    due_at,
    due_date,
    duration_text,
    is_business_day,
)
from complaints.clocks.targets import acknowledgment_due, holidays, resolution_target

__all__ = [
    "BUSINESS_DAYS",
    "CALENDAR_DAYS",
    "HOURS",
    "ClockSpec",
    "acknowledgment_due",
    "add_business_days",
    "countdown",
    "due_at",
    "due_date",
    "duration_text",
    "holidays",
    "is_business_day",
    "resolution_target",
]
