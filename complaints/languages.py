"""The customer's language: dates written the way it writes them. Which language a page or an
email uses is the caller's choice (translation.override with the complaint's
preferred_language); these only follow the active one."""

from django.utils.dateformat import format as date_format
from django.utils.translation import pgettext


def day_date(value):
    """A date as the active language writes it: "5 December 2026", "5 de diciembre de 2026"."""
    return date_format(value, pgettext("date format", "j F Y")) if value else ""


def long_date(value):
    """With the weekday: "Saturday 5 December 2026", "sábado, 5 de diciembre de 2026"."""
    return date_format(value, pgettext("date format", "l j F Y")) if value else ""
