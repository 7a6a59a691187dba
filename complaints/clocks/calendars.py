"""Business calendars and the arithmetic of a regulator's clock: pure, no database.

A calendar is a jurisdiction's public holidays (from the `holidays` package: England and
Wales, Scotland, the Australian states, US federal...) plus the firm's own closures, a time
zone and business hours. The FCA's "business day" is a weekday that is not a bank holiday
"in that part of the United Kingdom" (FCA Glossary), so England and Scotland are two
calendars, as New South Wales and Western Australia are.

Four units:
- hours: absolute elapsed time (24 hours across a DST change is 24 real hours).
- business_hours: counted only between `opens` and `closes` local time on business days
  (ASIC RG 271's "one business day" acknowledgment read as a working day's hours).
- business_days / calendar_days: the clock runs to the end of the local due day, counted
  from the day after the start's local date, as the rules count ("15 business days after the
  day on which the complaint was received", DISP 1.6.2AR). A start on a closed day therefore
  falls due with a start on the business day before it.

Every moment returned is an aware datetime in UTC, so that adding a timedelta to it later
cannot do wall-clock arithmetic across a DST change.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

HOURS, BUSINESS_HOURS, BUSINESS_DAYS, CALENDAR_DAYS = (
    "hours",
    "business_hours",
    "business_days",
    "calendar_days",
)
UNITS = (HOURS, BUSINESS_HOURS, BUSINESS_DAYS, CALENDAR_DAYS)
DAY_UNITS = (BUSINESS_DAYS, CALENDAR_DAYS)
END_OF_DAY = time(23, 59, 59, 999999)


@dataclass(frozen=True)
class Calendar:
    country: str = ""
    subdivision: str = ""
    time_zone: str = "Europe/London"
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    closures: frozenset = frozenset()

    def __post_init__(self):
        # Any iterable of dates will do (a queryset's values_list, a set); kept hashable.
        object.__setattr__(self, "closures", frozenset(self.closures))
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from error
        if self.opens >= self.closes:
            raise ValueError("business hours must close after they open")
        if self.subdivision and not self.country:
            raise ValueError("a subdivision needs its country")
        if self.country:
            supported = supported_countries()
            if self.country not in supported:
                raise ValueError(f"no public holidays are known for country {self.country!r}")
            if self.subdivision and self.subdivision not in supported[self.country]:
                raise ValueError(
                    f"{self.country} has no subdivision {self.subdivision!r}; "
                    f"known: {', '.join(supported[self.country])}"
                )

    @property
    def zone(self):
        return ZoneInfo(self.time_zone)

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.closures
            and day not in public_holidays(self, day.year)
        )

    def local_date(self, moment: datetime) -> date:
        return _utc(moment).astimezone(self.zone).date()

    def moment_at(self, day: date, clock_time: time) -> datetime:
        """The moment the local clock shows `clock_time` on `day`, in UTC."""
        return datetime.combine(day, clock_time, tzinfo=self.zone).astimezone(UTC)


@functools.cache
def supported_countries():
    # The package builds this from its registry on every call, about a millisecond; a clock
    # is started on a new calendar each time.
    return holidays.list_supported_countries()


def public_holidays(calendar: Calendar, year: int) -> frozenset[date]:
    """The calendar's public holidays in `year`, substitute days included (Boxing Day on a
    Saturday is observed on the Monday); the firm's closures are not among them."""
    return _public_holidays(calendar.country, calendar.subdivision, year)


@functools.lru_cache(maxsize=512)
def _public_holidays(country, subdivision, year):
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year))


def add_business_days(start: date, days: int, calendar: Calendar) -> date:
    """The date `days` business days after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if calendar.is_business_day(current):
            remaining -= 1
    return current


def due_day(start: datetime, amount: int, unit: str, calendar: Calendar) -> date:
    """The local day a day-counted clock falls due."""
    if unit not in DAY_UNITS:
        raise ValueError(f"a {unit} clock has a due moment, not a due day")
    days = _whole(amount)
    local_day = calendar.local_date(start)
    if unit == BUSINESS_DAYS:
        return add_business_days(local_day, days, calendar)
    return local_day + timedelta(days=days)


def due(start: datetime, amount: int, unit: str, calendar: Calendar) -> datetime:
    _check_unit(unit)
    _check_amount(amount)
    if unit == HOURS:
        return _utc(start) + timedelta(hours=amount)
    if unit == BUSINESS_HOURS:
        return _add_business_time(start, timedelta(hours=amount), calendar)
    return calendar.moment_at(due_day(start, amount, unit, calendar), END_OF_DAY)


def elapsed(start: datetime, end: datetime, unit: str, calendar: Calendar) -> float:
    """How many units passed from `start` to `end` (negative if `end` comes first).

    For the day units this is the whole days the clock counted, so that
    `elapsed(start, end) <= n` exactly when `end <= due(start, n)`: a complaint received on
    Friday and resolved on the next Wednesday took 3 business days, and was resolved "by the
    close of the third business day after receipt" (DISP 1.5)."""
    _check_unit(unit)
    start, end = _utc(start), _utc(end)
    if end < start:
        return -elapsed(end, start, unit, calendar)
    if unit == HOURS:
        return (end - start) / timedelta(hours=1)
    if unit == BUSINESS_HOURS:
        return _business_time(start, end, calendar) / timedelta(hours=1)
    [days] = elapsed_days([(calendar.local_date(start), calendar.local_date(end))], unit, calendar)
    return days


def elapsed_days(pairs, unit: str, calendar: Calendar) -> list[float]:
    """The whole days a day-counted clock counts from each (first, last) pair of local dates:
    the days after `first` up to and including `last`, as `elapsed` counts them.

    Many pairs at once (a month's stopped clocks, grouped by their dates) look each day up
    once: a running count of business days from the earliest date, and each pair the
    difference of its two dates' counts."""
    if unit not in DAY_UNITS:
        raise ValueError(f"a {unit} clock is not counted in days")
    if unit == CALENDAR_DAYS:
        return [float((last - first).days) for first, last in pairs]
    if not pairs:
        return []
    earliest = min(min(pair) for pair in pairs)
    latest = max(max(pair) for pair in pairs)
    counted, running = {}, 0
    for offset in range((latest - earliest).days + 1):
        day = earliest + timedelta(days=offset)
        running += calendar.is_business_day(day)
        counted[day] = running
    return [float(counted[last] - counted[first]) for first, last in pairs]


def extend(
    due_at: datetime, paused_at: datetime, resumed_at: datetime, unit: str, calendar: Calendar
) -> datetime:
    """A paused clock's new due moment: moved on by the units that passed while it was
    paused (a pause over a night or a weekend moves a business-hours clock by nothing)."""
    _check_unit(unit)
    paused_at, resumed_at = _utc(paused_at), _utc(resumed_at)
    if resumed_at < paused_at:
        raise ValueError("a clock cannot resume before it was paused")
    if unit == HOURS:
        return _utc(due_at) + (resumed_at - paused_at)
    if unit == BUSINESS_HOURS:
        return _add_business_time(due_at, _business_time(paused_at, resumed_at, calendar), calendar)
    return due(due_at, int(elapsed(paused_at, resumed_at, unit, calendar)), unit, calendar)


def _business_windows(calendar, first_day):
    """(opens, closes) in UTC of each business day from `first_day` on, for ever."""
    day = first_day
    while True:
        if calendar.is_business_day(day):
            yield calendar.moment_at(day, calendar.opens), calendar.moment_at(day, calendar.closes)
        day += timedelta(days=1)


def _add_business_time(start, duration, calendar):
    start = _utc(start)
    if not duration:
        return start
    remaining = duration
    for opens, closes in _business_windows(calendar, calendar.local_date(start)):
        begin = max(opens, start)
        if begin >= closes:
            continue
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin


def _business_time(start, end, calendar):
    total = timedelta()
    for opens, closes in _business_windows(calendar, calendar.local_date(start)):
        if opens >= end:
            return total
        total += max(timedelta(), min(closes, end) - max(opens, start))


def _check_unit(unit):
    if unit not in UNITS:
        raise ValueError(f"unknown clock unit {unit!r}")


def _check_amount(amount):
    if amount < 0:
        raise ValueError("a clock cannot run backwards")


def _whole(amount):
    _check_amount(amount)
    if amount != int(amount):
        raise ValueError("a clock counted in days needs a whole number of days")
    return int(amount)


def _utc(moment):
    """In UTC: two datetimes in one ZoneInfo subtract as wall clocks, an hour out across a
    DST change."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a clock needs an aware datetime (with its time zone)")
    return moment.astimezone(UTC)
