"""The one rule for ids and dates a request carries: out of range is a sentence (a 400 from
the API, a form error on a page, an ignored list filter), never an exception further down
(PostgreSQL's bigint, Python's date arithmetic, `int()` of five thousand digits)."""

from datetime import date

from django.core.exceptions import ValidationError

# PostgreSQL's bigint: every id here is one (DEFAULT_AUTO_FIELD is BigAutoField).
LARGEST_ID = 2**63 - 1
# Wide enough for any complaint, report or review; narrow enough that the periods, targets
# and windows computed from a day (a month on, eight periods back) stay valid dates.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)

ID_MESSAGE = f"Give an id: a whole number from 1 to {LARGEST_ID}."
DAY_MESSAGE = f"Give a date between {EARLIEST_DAY:%-d %b %Y} and {LATEST_DAY:%-d %b %Y}."


def id_from(value):
    """The id `value` names (an int, or a string of ASCII digits), or None if it names none.
    Floats are refused: JSON's 1e400 arrives as infinity, 1.0 as a float."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if type(value) is int and 1 <= value <= LARGEST_ID:
        return value
    return None


def validate_id(value):
    if id_from(value) is None:
        raise ValidationError(ID_MESSAGE, code="invalid_id")


def validate_day(value):
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValidationError(DAY_MESSAGE, code="day_out_of_range")
