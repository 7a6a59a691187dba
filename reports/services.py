"""Every write of reports/: building, storing and sending trend reports; procedure reviews and
their improvement actions."""

import calendar
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Capability, can
from complaints import outbox
from complaints.outbox import messages
from complaints.selectors import managers_to_notify
from complaints.workflow import Refused
from reports import returns, selectors
from reports.metrics import SCHEMA_VERSION, build_metrics, local_bounds
from reports.models import ActionStatus, ImprovementAction, Period, ReturnRun, TrendReport

REVIEW_IN_THE_FUTURE = "A review cannot be held in the future: give the day it was held."


def period_containing(period, day):
    """(first day, first day after) of the period that holds `day`."""
    if period == Period.DAILY:
        return day, day + timedelta(days=1)
    if period == Period.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


def period_before(period, start):
    return period_containing(period, start - timedelta(days=1))


def last_closed(period, today):
    return period_before(period, period_containing(period, today)[0])


def report_build(period, start):
    """Build (or rebuild, replacing) the report of the period starting on `start`."""
    start, end = period_containing(period, start)
    starts_at, ends_at = local_bounds(start, end)
    previous, cursor = [], start
    for _ in range(8):
        cursor, cursor_end = period_before(period, cursor)
        previous.append(local_bounds(cursor, cursor_end))
    clock = time.perf_counter()
    metrics = build_metrics(starts_at, ends_at, previous)
    report, _ = TrendReport.objects.update_or_create(
        period=period,
        start=start,
        defaults={
            "end": end,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "time_zone": settings.TIME_ZONE,
            "built_at": timezone.now(),
            "build_ms": int((time.perf_counter() - clock) * 1000),
            "schema_version": SCHEMA_VERSION,
            "metrics": metrics,
        },
    )
    return report


def report_email_managers(report):
    """The weekly and monthly reports go to managers, once per report period."""
    context = {
        "report": report,
        "m": report.metrics,
        "link": settings.SITE_URL + reverse("reports:detail", args=[report.pk]),
    }
    for manager in managers_to_notify():
        message = messages.queue_staff_message(
            manager,
            key=f"report:{report.period}:{report.start.isoformat()}:{manager.pk}",
            template="trend_report",
            context=context,
        )
        outbox.send_after_commit(message)


def build_trend_reports(now=None):
    """Beat's job: build each kind of report for the last closed period, once."""
    today = timezone.localdate(now or timezone.now())
    built = []
    for period in (Period.DAILY, Period.WEEKLY, Period.MONTHLY):
        start, _ = last_closed(period, today)
        if TrendReport.objects.filter(period=period, start=start).exists():
            continue
        with transaction.atomic():
            report = report_build(period, start)
            if period != Period.DAILY:
                report_email_managers(report)
        built.append(f"{period} {start.isoformat()}")
    return {"built": built, "review_due": review_reminder(today)}


def review_reminder(today):
    """Tell managers once when a procedure review falls due."""
    due = selectors.review_due_date(today)
    if due > today:
        return False
    # Keyed by the review it follows, so the reminder is sent once, not once a day.
    last = selectors.last_review_held_on()
    since = last.isoformat() if last else "never"
    for manager in managers_to_notify():
        outbox.send_after_commit(
            messages.queue_staff_message(
                manager,
                key=f"review-due:{since}:{manager.pk}",
                template="review_due",
                context={
                    "due": due,
                    "link": settings.SITE_URL + reverse("reports:reviews"),
                },
            )
        )
    return True


@transaction.atomic
def procedure_review_record(form, actions, *, actor):
    """A periodic review of the procedure (seed section 7) with its improvement actions.
    `form` is the bound, valid review form; `actions` the cleaned data of each action."""
    review = form.save(commit=False)
    if review.held_on > timezone.localdate():
        # The reviews page, the dashboard and the hourly job count from the latest review.
        raise ValidationError({"held_on": REVIEW_IN_THE_FUTURE})
    review.recorded_by = actor
    review.save()
    form.save_m2m()
    for action in actions:
        ImprovementAction.objects.create(review=review, **action)
    return review


def improvement_action_status_set(action, status):
    action.status = status
    action.completed_at = timezone.now() if status == ActionStatus.DONE else None
    action.save(update_fields=["status", "completed_at"])
    return action


# How many records lacking a field a run keeps to list; the CSV and the page's count hold all.
PROBLEMS_KEPT = 500


def return_produce(profile, first_day, last_day, *, actor):
    """Produce the profile's return for the local days first_day..last_day and keep the
    record of it: when, by whom, its figures and what its records lacked then."""
    if not can(actor, Capability.VIEW_REPORTS):
        raise Refused("Only managers produce the regulators' returns.")
    if last_day < first_day:
        raise Refused("The period ends before it starts.")
    if first_day > timezone.localdate():
        raise Refused("That period has not started yet.")
    started = time.monotonic()
    contents = returns.return_contents(profile, returns.period_of(profile, first_day, last_day))
    figures = {
        **contents.figures,
        "problems": [
            {"reference": p.reference, "url": p.url, "missing": p.missing}
            for p in contents.problems[:PROBLEMS_KEPT]
        ],
    }
    return ReturnRun.objects.create(
        kind=profile.returns_scheme,
        profile=profile,
        first_day=first_day,
        last_day=last_day,
        produced_at=timezone.now(),
        produced_by=actor,
        figures=figures,
        records=contents.records,
        problems=len(contents.problems),
        build_ms=round((time.monotonic() - started) * 1000),
    )
