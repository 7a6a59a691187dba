"""The clock engine: which profile and which clocks apply to a complaint, and when each
falls due and warns. Pure: it reads the rows it is given, never the database; the arithmetic
is calendars.py's, on the calendar each definition runs on (BusinessCalendar.as_calendar)."""

from datetime import timedelta

from complaints.clocks import calendars


def due(start, amount, unit, calendar):
    return calendars.due(start, amount, unit, calendar)


def warn_at(due_at, amount, unit, calendar):
    """`amount` `unit` before the due moment: hours back in time, days back to the end of
    the day that many (business) days before the due day."""
    if amount is None:
        return None
    if unit in (calendars.HOURS, calendars.BUSINESS_HOURS):
        return due_at - timedelta(hours=amount)
    day = calendar.local_date(due_at)
    remaining = amount
    while remaining > 0:
        day -= timedelta(days=1)
        if unit == calendars.CALENDAR_DAYS or calendar.is_business_day(day):
            remaining -= 1
    return calendar.moment_at(day, calendars.END_OF_DAY)


def extend(due_at, paused_at, resumed_at, unit, calendar):
    """The due moment of a clock resumed after a pause: later by the units that passed
    while it stood still."""
    return calendars.extend(due_at, paused_at, resumed_at, unit, calendar)


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


def resolved_early(received_at, resolved_at, business_days, calendar):
    """Whether a complaint resolved at `resolved_at` falls within its profile's early-resolution
    window: "by the close of the third business day following the day on which it is
    received" (FCA DISP 1.5.1R), within five business days of receipt (ASIC RG 271).
    The days are counted as every day clock is (calendars.py): from the day after receipt,
    to the end of the last one, on the profile's calendar with the firm's closures. No
    window (`business_days` None): never early."""
    if business_days is None:
        return False
    return resolved_at <= calendars.due(
        received_at, business_days, calendars.BUSINESS_DAYS, calendar
    )
