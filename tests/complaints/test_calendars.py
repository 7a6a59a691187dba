"""The regulators' clocks against worked examples. Every expected moment was counted by hand
from the published calendars (gov.uk bank holidays for England and Wales and for Scotland, the
NSW and WA public holiday lists, the US federal holidays), not by the code under test.

The rules: FCA DISP 1.5 (resolved by the close of the third business day after receipt),
DISP 1.6.2R (eight weeks = 56 days), DISP 1.6.2AR (payment services: 15 business days, 35
with a holding response); ASIC RG 271 (acknowledgment within 24 hours or one business day,
IDR response within 30 calendar days, 21 for hardship); CFPB (15 calendar days, 60 days after
an "In progress" response)."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from complaints.clocks.calendars import (
    BUSINESS_DAYS,
    BUSINESS_HOURS,
    CALENDAR_DAYS,
    HOURS,
    Calendar,
    due,
    elapsed,
    extend,
    public_holidays,
)

LONDON, SYDNEY, PERTH, NEW_YORK = (
    ZoneInfo(key)
    for key in ("Europe/London", "Australia/Sydney", "Australia/Perth", "America/New_York")
)
ENGLAND = Calendar("GB", "ENG", "Europe/London")
SCOTLAND = Calendar("GB", "SCT", "Europe/London")
NEW_SOUTH_WALES = Calendar("AU", "NSW", "Australia/Sydney")
WESTERN_AUSTRALIA = Calendar("AU", "WA", "Australia/Perth")
US_FEDERAL = Calendar("US", "", "America/New_York")
LAST_MICROSECOND = (23, 59, 59, 999999)


def local(zone, *parts):
    return datetime(*parts, tzinfo=zone)


def end_of(day, zone):
    """23:59:59.999999 on `day` in `zone`, the moment a day-counted clock runs out."""
    return datetime(day.year, day.month, day.day, *LAST_MICROSECOND, tzinfo=zone)


# The Friday before a UK bank holiday: England and Scotland differ -------------------------


def test_the_august_bank_holiday_is_the_last_monday_in_england_the_first_in_scotland():
    # Friday 28 August 2026; Monday 31 August is England's late summer bank holiday only.
    received = local(LONDON, 2026, 8, 28, 11, 0)

    # DISP 1.5: by the close of the third business day after receipt.
    assert due(received, 3, BUSINESS_DAYS, ENGLAND) == end_of(date(2026, 9, 3), LONDON)
    assert due(received, 3, BUSINESS_DAYS, SCOTLAND) == end_of(date(2026, 9, 2), LONDON)
    # In British Summer Time the end of the day is 22:59:59.999999 UTC.
    assert due(received, 3, BUSINESS_DAYS, ENGLAND) == datetime(
        2026, 9, 3, 22, 59, 59, 999999, tzinfo=UTC
    )

    # Friday 31 July 2026; Monday 3 August is Scotland's summer bank holiday only.
    received = local(LONDON, 2026, 7, 31, 11, 0)
    assert due(received, 3, BUSINESS_DAYS, ENGLAND) == end_of(date(2026, 8, 5), LONDON)
    assert due(received, 3, BUSINESS_DAYS, SCOTLAND) == end_of(date(2026, 8, 6), LONDON)


def test_st_andrews_day_closes_scotland_only():
    # Friday 27 November 2026; Monday 30 November is St Andrew's Day.
    received = local(LONDON, 2026, 11, 27, 16, 45)

    assert due(received, 1, BUSINESS_DAYS, ENGLAND) == end_of(date(2026, 11, 30), LONDON)
    assert due(received, 1, BUSINESS_DAYS, SCOTLAND) == end_of(date(2026, 12, 1), LONDON)
    assert not SCOTLAND.is_business_day(date(2026, 11, 30))
    assert ENGLAND.is_business_day(date(2026, 11, 30))


# Across Christmas and New Year ------------------------------------------------------------

# Friday 18 December 2026. England and Wales are closed on Friday 25 December, Monday 28
# December (Boxing Day falls on a Saturday) and Friday 1 January 2027; Scotland also on Monday
# 4 January 2027 (its 2 January holiday falls on a Saturday).
BEFORE_CHRISTMAS = local(LONDON, 2026, 12, 18, 14, 0)


def test_eight_weeks_are_56_calendar_days_whatever_the_holidays():
    for calendar in (ENGLAND, SCOTLAND, Calendar()):
        assert due(BEFORE_CHRISTMAS, 56, CALENDAR_DAYS, calendar) == datetime(
            2027, 2, 12, 23, 59, 59, 999999, tzinfo=UTC
        )


def test_payment_services_15_business_days_skip_christmas_boxing_day_and_new_year():
    # England: 21, 22, 23, 24, 29, 30, 31 December, 4, 5, 6, 7, 8, 11, 12, 13 January.
    assert due(BEFORE_CHRISTMAS, 15, BUSINESS_DAYS, ENGLAND) == end_of(date(2027, 1, 13), LONDON)
    # Scotland skips 4 January too.
    assert due(BEFORE_CHRISTMAS, 15, BUSINESS_DAYS, SCOTLAND) == end_of(date(2027, 1, 14), LONDON)


def test_payment_services_35_business_days_after_a_holding_response():
    # Four holiday-free weeks (20 business days) after the 15th.
    assert due(BEFORE_CHRISTMAS, 35, BUSINESS_DAYS, ENGLAND) == end_of(date(2027, 2, 10), LONDON)
    assert due(BEFORE_CHRISTMAS, 35, BUSINESS_DAYS, SCOTLAND) == end_of(date(2027, 2, 11), LONDON)


def test_the_firms_own_closures_count_as_closed_days():
    # The firm also shuts on Christmas Eve and New Year's Eve (both Thursdays): 21, 22, 23,
    # 29, 30 December, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15 January.
    closed = Calendar("GB", "ENG", closures={date(2026, 12, 24), date(2026, 12, 31)})

    assert due(BEFORE_CHRISTMAS, 15, BUSINESS_DAYS, closed) == end_of(date(2027, 1, 15), LONDON)
    assert not closed.is_business_day(date(2026, 12, 24))
    assert date(2026, 12, 24) not in public_holidays(closed, 2026)


def test_the_firms_closures_alone_make_a_calendar():
    closed = Calendar(closures={date(2026, 12, 24)})

    assert due(local(LONDON, 2026, 12, 23, 10, 0), 1, BUSINESS_DAYS, closed) == end_of(
        date(2026, 12, 25), LONDON
    )


def test_a_closure_stops_business_hours():
    closed = Calendar("GB", "ENG", closures={date(2026, 12, 24)})

    # Wednesday 23 December 15:00: 2 hours that day, then 29 December from 09:00.
    assert due(local(LONDON, 2026, 12, 23, 15, 0), 8, BUSINESS_HOURS, closed) == local(
        LONDON, 2026, 12, 29, 15, 0
    )


# Across a DST change ----------------------------------------------------------------------


def test_hours_are_real_hours_across_the_uk_clock_change():
    # British Summer Time begins at 01:00 GMT on Sunday 29 March 2026.
    received = local(LONDON, 2026, 3, 28, 12, 0)
    assert due(received, 24, HOURS, ENGLAND) == local(LONDON, 2026, 3, 29, 13, 0)
    # It ends at 02:00 BST on Sunday 25 October 2026.
    received = local(LONDON, 2026, 10, 24, 12, 0)
    assert due(received, 24, HOURS, ENGLAND) == local(LONDON, 2026, 10, 25, 11, 0)


def test_business_hours_follow_the_local_clock_across_the_uk_clock_change():
    # Friday 27 March 2026 15:00 GMT: 2 hours on Friday, 6 on Monday from 09:00 BST.
    received = local(LONDON, 2026, 3, 27, 15, 0)

    due_at = due(received, 8, BUSINESS_HOURS, ENGLAND)

    assert due_at == local(LONDON, 2026, 3, 30, 15, 0)
    assert due_at == datetime(2026, 3, 30, 14, 0, tzinfo=UTC)


def test_a_business_day_received_in_summer_time_ends_in_winter_time():
    received = local(LONDON, 2026, 10, 23, 16, 0)

    assert due(received, 1, BUSINESS_DAYS, ENGLAND) == datetime(
        2026, 10, 26, 23, 59, 59, 999999, tzinfo=UTC
    )


def test_hours_are_real_hours_when_sydney_leaves_daylight_saving():
    # Daylight saving ends at 03:00 AEDT on Sunday 5 April 2026 (Easter Sunday).
    received = local(SYDNEY, 2026, 4, 4, 10, 0)

    assert due(received, 24, HOURS, NEW_SOUTH_WALES) == local(SYDNEY, 2026, 4, 5, 9, 0)


def test_business_hours_in_sydney_skip_easter_across_the_change():
    # Thursday 2 April 2026 14:00 AEDT: 3 hours on Thursday; Good Friday and Easter Monday are
    # closed; 5 hours on Tuesday 7 April from 09:00 AEST.
    received = local(SYDNEY, 2026, 4, 2, 14, 0)

    assert due(received, 8, BUSINESS_HOURS, NEW_SOUTH_WALES) == datetime(
        2026, 4, 7, 4, 0, tzinfo=UTC
    )
    assert due(received, 1, BUSINESS_DAYS, NEW_SOUTH_WALES) == datetime(
        2026, 4, 7, 13, 59, 59, 999999, tzinfo=UTC
    )


# Western Australia vs New South Wales -----------------------------------------------------


def test_western_australia_day_closes_wa_only():
    # Friday 29 May 2026; Monday 1 June is Western Australia Day.
    assert due(local(PERTH, 2026, 5, 29, 10, 0), 1, BUSINESS_DAYS, WESTERN_AUSTRALIA) == end_of(
        date(2026, 6, 2), PERTH
    )
    assert due(local(SYDNEY, 2026, 5, 29, 10, 0), 1, BUSINESS_DAYS, NEW_SOUTH_WALES) == end_of(
        date(2026, 6, 1), SYDNEY
    )


def test_the_kings_birthday_is_in_june_in_nsw_and_september_in_wa():
    assert not NEW_SOUTH_WALES.is_business_day(date(2026, 6, 8))
    assert WESTERN_AUSTRALIA.is_business_day(date(2026, 6, 8))
    assert not WESTERN_AUSTRALIA.is_business_day(date(2026, 9, 28))
    assert NEW_SOUTH_WALES.is_business_day(date(2026, 9, 28))


def test_labour_day_in_october_in_nsw_in_march_in_wa_with_sydney_entering_daylight_saving():
    # Friday 2 October 2026 15:00 local. Sydney: daylight saving begins on Sunday 4 October
    # and Monday 5 October is Labour Day, so 2 hours on Friday and 6 on Tuesday from 09:00
    # AEDT. Perth keeps no daylight saving and works on Monday.
    in_sydney, in_perth = local(SYDNEY, 2026, 10, 2, 15, 0), local(PERTH, 2026, 10, 2, 15, 0)

    assert due(in_sydney, 8, BUSINESS_HOURS, NEW_SOUTH_WALES) == datetime(
        2026, 10, 6, 4, 0, tzinfo=UTC
    )
    assert due(in_perth, 8, BUSINESS_HOURS, WESTERN_AUSTRALIA) == datetime(
        2026, 10, 5, 7, 0, tzinfo=UTC
    )
    # Monday 2 March 2026 is Labour Day in WA only.
    assert not WESTERN_AUSTRALIA.is_business_day(date(2026, 3, 2))
    assert NEW_SOUTH_WALES.is_business_day(date(2026, 3, 2))


# ASIC's acknowledgment: one business day as business hours or as business days ------------


def test_one_business_day_as_business_hours_or_as_business_days():
    # Monday 9 March 2026 14:00 AEDT.
    received = local(SYDNEY, 2026, 3, 9, 14, 0)

    assert due(received, 8, BUSINESS_HOURS, NEW_SOUTH_WALES) == local(SYDNEY, 2026, 3, 10, 14, 0)
    assert due(received, 1, BUSINESS_DAYS, NEW_SOUTH_WALES) == end_of(date(2026, 3, 10), SYDNEY)
    assert due(received, 24, HOURS, NEW_SOUTH_WALES) == local(SYDNEY, 2026, 3, 10, 14, 0)


def test_out_of_hours_the_business_hours_clock_waits_for_opening():
    # Saturday 7 March 2026: the 8 hours are Monday's working day.
    saturday = local(SYDNEY, 2026, 3, 7, 10, 0)
    assert due(saturday, 8, BUSINESS_HOURS, NEW_SOUTH_WALES) == local(SYDNEY, 2026, 3, 9, 17, 0)
    assert due(saturday, 1, BUSINESS_DAYS, NEW_SOUTH_WALES) == end_of(date(2026, 3, 9), SYDNEY)
    # Monday after closing: Tuesday's working day.
    evening = local(SYDNEY, 2026, 3, 9, 18, 0)
    assert due(evening, 8, BUSINESS_HOURS, NEW_SOUTH_WALES) == local(SYDNEY, 2026, 3, 10, 17, 0)


def test_business_hours_follow_the_calendars_opening_times():
    early = Calendar("AU", "NSW", "Australia/Sydney", opens=time(8, 0), closes=time(18, 30))
    received = local(SYDNEY, 2026, 3, 9, 17, 0)

    # 1.5 hours on Monday, 2.5 on Tuesday from 08:00.
    assert due(received, 4, BUSINESS_HOURS, early) == local(SYDNEY, 2026, 3, 10, 10, 30)


# Calendar days; US federal -----------------------------------------------------------------


# Calendar-day clocks ignore holidays: ASIC's 30 and 21 days from Friday 29 May 2026 in Perth
# (Western Australia Day on 1 June changes nothing); the CFPB's 15 and 60 days from Wednesday 25
# November 2026 10:00 EST, the day before Thanksgiving, and 15 days from Friday 30 October 2026
# 10:00 EDT, across the end of daylight saving on Sunday 1 November.
@pytest.mark.parametrize(
    ("received", "days", "calendar", "expected"),
    [
        (
            local(PERTH, 2026, 5, 29, 10, 0),
            30,
            WESTERN_AUSTRALIA,
            datetime(2026, 6, 28, 15, 59, 59, 999999, tzinfo=UTC),
        ),
        (local(PERTH, 2026, 5, 29, 10, 0), 21, WESTERN_AUSTRALIA, end_of(date(2026, 6, 19), PERTH)),
        (
            local(NEW_YORK, 2026, 11, 25, 10, 0),
            15,
            US_FEDERAL,
            datetime(2026, 12, 11, 4, 59, 59, 999999, tzinfo=UTC),
        ),
        (local(NEW_YORK, 2026, 11, 25, 10, 0), 60, US_FEDERAL, end_of(date(2027, 1, 24), NEW_YORK)),
        (
            local(NEW_YORK, 2026, 10, 30, 10, 0),
            15,
            US_FEDERAL,
            datetime(2026, 11, 15, 4, 59, 59, 999999, tzinfo=UTC),
        ),
    ],
    ids=["asic-30", "asic-21-hardship", "cfpb-15", "cfpb-60", "cfpb-15-across-dst"],
)
def test_calendar_day_clocks(received, days, calendar, expected):
    assert due(received, days, CALENDAR_DAYS, calendar) == expected


def test_us_federal_business_days_skip_thanksgiving_only():
    received = local(NEW_YORK, 2026, 11, 25, 10, 0)

    assert due(received, 1, BUSINESS_DAYS, US_FEDERAL) == end_of(date(2026, 11, 27), NEW_YORK)
    assert not US_FEDERAL.is_business_day(date(2026, 11, 26))
    assert US_FEDERAL.is_business_day(date(2026, 11, 27))


# Pause and resume -------------------------------------------------------------------------


def test_a_pause_moves_a_business_days_clock_by_the_business_days_it_lasted():
    due_at = due(BEFORE_CHRISTMAS, 15, BUSINESS_DAYS, ENGLAND)  # end of 13 January 2027
    # Paused on Monday 4 January, resumed on Thursday 7 January: 5, 6 and 7 January passed.
    paused, resumed = local(LONDON, 2027, 1, 4, 10, 0), local(LONDON, 2027, 1, 7, 10, 0)

    assert elapsed(paused, resumed, BUSINESS_DAYS, ENGLAND) == 3
    assert extend(due_at, paused, resumed, BUSINESS_DAYS, ENGLAND) == end_of(
        date(2027, 1, 18), LONDON
    )


def test_a_pause_within_one_day_moves_a_day_counted_clock_by_nothing():
    due_at = due(BEFORE_CHRISTMAS, 15, BUSINESS_DAYS, ENGLAND)
    paused, resumed = local(LONDON, 2027, 1, 5, 9, 0), local(LONDON, 2027, 1, 5, 17, 0)

    assert extend(due_at, paused, resumed, BUSINESS_DAYS, ENGLAND) == due_at


def test_a_pause_moves_a_calendar_days_clock_by_whole_days():
    due_at = due(BEFORE_CHRISTMAS, 56, CALENDAR_DAYS, ENGLAND)  # end of 12 February 2027
    paused, resumed = local(LONDON, 2027, 1, 4, 12, 0), local(LONDON, 2027, 1, 11, 9, 0)

    assert extend(due_at, paused, resumed, CALENDAR_DAYS, ENGLAND) == end_of(
        date(2027, 2, 19), LONDON
    )


def test_a_pause_moves_an_hours_clock_by_exactly_its_length():
    due_at = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    paused, resumed = local(LONDON, 2026, 3, 28, 22, 0), local(LONDON, 2026, 3, 29, 3, 30)

    # 22:00 GMT to 03:30 BST is 4.5 real hours: the clocks went forward at 01:00 GMT.
    assert elapsed(paused, resumed, HOURS, ENGLAND) == 4.5
    assert extend(due_at, paused, resumed, HOURS, ENGLAND) == datetime(
        2026, 3, 29, 16, 30, tzinfo=UTC
    )


def test_a_pause_moves_a_business_hours_clock_by_the_working_hours_it_lasted():
    due_at = local(LONDON, 2026, 3, 10, 14, 0)

    # Monday 16:00 to Tuesday 10:00: one working hour each side of the night.
    paused, resumed = local(LONDON, 2026, 3, 9, 16, 0), local(LONDON, 2026, 3, 10, 10, 0)
    assert elapsed(paused, resumed, BUSINESS_HOURS, ENGLAND) == 2
    assert extend(due_at, paused, resumed, BUSINESS_HOURS, ENGLAND) == local(
        LONDON, 2026, 3, 10, 16, 0
    )

    # Over the night only: nothing.
    paused, resumed = local(LONDON, 2026, 3, 9, 18, 0), local(LONDON, 2026, 3, 10, 8, 0)
    assert extend(due_at, paused, resumed, BUSINESS_HOURS, ENGLAND) == due_at


def test_a_business_hours_clock_due_at_closing_moves_into_the_next_working_day():
    due_at = local(LONDON, 2026, 3, 10, 17, 0)
    paused, resumed = local(LONDON, 2026, 3, 10, 9, 0), local(LONDON, 2026, 3, 10, 11, 0)

    assert extend(due_at, paused, resumed, BUSINESS_HOURS, ENGLAND) == local(
        LONDON, 2026, 3, 11, 11, 0
    )


def test_a_clock_cannot_resume_before_it_was_paused():
    with pytest.raises(ValueError, match="resume before"):
        extend(
            BEFORE_CHRISTMAS,
            local(LONDON, 2027, 1, 7, 10, 0),
            local(LONDON, 2027, 1, 4, 10, 0),
            BUSINESS_DAYS,
            ENGLAND,
        )


# Early resolution: elapsed agrees with due ------------------------------------------------


def test_resolved_by_the_close_of_the_third_business_day_after_receipt():
    received = local(LONDON, 2026, 8, 28, 11, 0)  # Friday before England's bank holiday
    on_thursday = local(LONDON, 2026, 9, 3, 23, 0)
    on_friday = local(LONDON, 2026, 9, 4, 9, 0)

    assert elapsed(received, on_thursday, BUSINESS_DAYS, ENGLAND) == 3
    assert elapsed(received, on_friday, BUSINESS_DAYS, ENGLAND) == 4
    assert elapsed(received, on_friday, BUSINESS_DAYS, SCOTLAND) == 5
    assert elapsed(received, on_friday, CALENDAR_DAYS, ENGLAND) == 7
    for resolved in (on_thursday, on_friday):
        within = elapsed(received, resolved, BUSINESS_DAYS, ENGLAND) <= 3
        assert within == (resolved <= due(received, 3, BUSINESS_DAYS, ENGLAND))


def test_asic_five_business_days_from_a_saturday():
    # Saturday 7 March 2026; resolved on Friday 13 March, the fifth business day.
    received = local(SYDNEY, 2026, 3, 7, 10, 0)
    resolved = local(SYDNEY, 2026, 3, 13, 16, 0)

    assert elapsed(received, resolved, BUSINESS_DAYS, NEW_SOUTH_WALES) == 5
    assert due(received, 5, BUSINESS_DAYS, NEW_SOUTH_WALES) == end_of(date(2026, 3, 13), SYDNEY)


def test_elapsed_runs_backwards_when_the_end_comes_first():
    start, end = local(SYDNEY, 2026, 3, 9, 9, 0), local(SYDNEY, 2026, 3, 10, 11, 0)

    assert elapsed(start, end, BUSINESS_HOURS, NEW_SOUTH_WALES) == 10
    assert elapsed(end, start, BUSINESS_HOURS, NEW_SOUTH_WALES) == -10


# The holidays cache and bad input ---------------------------------------------------------


def test_public_holidays_are_read_once_per_jurisdiction_and_year():
    assert public_holidays(SCOTLAND, 2026) is public_holidays(
        Calendar("GB", "SCT", closures={date(2026, 1, 5)}), 2026
    )
    assert public_holidays(Calendar(), 2026) == frozenset()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"country": "ZZ"}, "no public holidays"),
        ({"country": "GB", "subdivision": "XX"}, "no subdivision"),
        ({"subdivision": "NSW"}, "needs its country"),
        ({"time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"opens": time(17, 0), "closes": time(9, 0)}, "close after they open"),
    ],
)
def test_a_calendar_that_cannot_be_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        Calendar(**fields)


def test_bad_clocks_are_refused():
    start = local(LONDON, 2026, 3, 9, 9, 0)
    with pytest.raises(ValueError, match="unknown clock unit"):
        due(start, 3, "fortnights", ENGLAND)
    with pytest.raises(ValueError, match="backwards"):
        due(start, -1, HOURS, ENGLAND)
    with pytest.raises(ValueError, match="whole number"):
        due(start, 1.5, BUSINESS_DAYS, ENGLAND)
    with pytest.raises(ValueError, match="aware"):
        due(datetime(2026, 3, 9, 9, 0), 3, HOURS, ENGLAND)
