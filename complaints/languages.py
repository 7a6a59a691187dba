"""The customer's language: dates written the way it writes them. Which language a page or an
email uses is the caller's choice (translation.override with the complaint's
preferred_language); these only follow the active one."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import pgettext


def _written(value, format_string):
    if not value:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, format_string)


def day_date(value):
    """A date (or a moment's local day) as the active language writes it: "5 December 2026",
    "5 de diciembre de 2026"."""
    return _written(value, pgettext("date format", "j F Y"))


def long_date(value):
    """With the weekday: "Saturday 5 December 2026", "sábado, 5 de diciembre de 2026"."""
    return _written(value, pgettext("date format", "l j F Y"))
