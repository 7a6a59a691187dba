"""The house clocks' deadlines for one complaint: the arithmetic of deadlines.py with the
settings' durations and the firm's holidays."""

from django.conf import settings

from complaints.clocks import deadlines
from complaints.models import Holiday


def holidays():
    return frozenset(Holiday.objects.values_list("date", flat=True))


def acknowledgment_due(received_at):
    return deadlines.due_at(
        deadlines.ClockSpec(settings.ACKNOWLEDGMENT_HOURS, deadlines.HOURS), received_at
    )


def resolution_target(received_at, complexity, holiday_dates=None):
    """`holiday_dates`: the holidays if the caller read them already (intake reads them with
    its reference, in one round trip)."""
    amount, unit = settings.RESOLUTION_TARGETS[complexity]
    if holiday_dates is None:
        holiday_dates = holidays()
    return deadlines.due_date(
        deadlines.ClockSpec(amount, unit), received_at, settings.TIME_ZONE, holiday_dates
    )
