"""The periodic sweeps that keep the promises to customers: the acknowledgment deadline, the
resolution targets and follow-up.

How they stay exactly-once: each sweep scans a partial index that holds only complaints it
may still act on, locks a batch with SKIP LOCKED (an overlapping run takes other rows or
none) and has the services mark the batch (warned, breached, overdue, ...) and write the
notifications in the same transaction. A run that dies mid-batch rolls back and the next run
does the batch again; a batch that committed is never done twice. No countdown or ETA task
is involved, so a beat restart or a lost task loses nothing. The sweeps write nothing
themselves: every change goes through a service.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from complaints import outbox, selectors, services
from complaints.models import Complaint
from complaints.outbox import messages

BATCH = 1000
# What the staff digest shows of each complaint.
DIGEST_FIELDS = ("pk", "reference", "customer_name", "stage")


def _lock_batch(queryset, order):
    """Lock the next batch no other run holds. `order` is the key of the partial index the
    scan reads: ordering by id instead lets the planner walk the primary key through the
    whole table when its estimate of the rows due is stale."""
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .select_related("assignee")
        .order_by(order, "pk")[:BATCH]
    )


def _lock_ids(queryset, order):
    """_lock_batch for a sweep whose service writes set-based: the ids alone, since building a
    thousand model instances costs more than the marks cost to write."""
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .order_by(order, "pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def _listed(ids):
    """The complaints a staff digest lists of a batch, in the batch's order."""
    shown = ids[: messages.DIGEST_LISTED]
    rows = Complaint.objects.only(*DIGEST_FIELDS).in_bulk(shown)
    return [rows[pk] for pk in shown]


def _kick_relay():
    outbox.publish_after_commit(outbox.RELAY_TASK)


def _counted(count, singular, plural):
    return ngettext(singular, plural, count) % {"count": count}


def _digest(recipients, complaints, *, event, headline, now, total=None):
    """One notification per person per batch, listing that batch's complaints (or the first
    of `total`)."""
    if not complaints:
        return 0
    batch_key = f"{event}:{complaints[0].pk}-{complaints[-1].pk}:{now.timestamp():.0f}"
    messages.queue_staff_digest(
        recipients, complaints, event=batch_key, headline=headline, total=total
    )
    return len(recipients)


def enforce_acknowledgment_deadline(now=None):
    now = now or timezone.now()
    warn_after = timedelta(hours=settings.ACKNOWLEDGMENT_WARNING_HOURS)
    summary = {"warned": 0, "breached": 0, "notifications": 0}
    while True:
        with transaction.atomic():
            ids = _lock_ids(selectors.acknowledgments_to_breach(now), "acknowledgment_due_at")
            if not ids:
                break
            services.acknowledgments_breach(ids, at=now)
            summary["breached"] += len(ids)
            summary["notifications"] += _digest(
                selectors.managers_to_notify(),
                _listed(ids),
                event="ack-breach",
                headline=_counted(
                    len(ids),
                    "%(count)d complaint missed the acknowledgment deadline",
                    "%(count)d complaints missed the acknowledgment deadline",
                ),
                now=now,
                total=len(ids),
            )
            _kick_relay()
    while True:
        with transaction.atomic():
            batch = _lock_batch(selectors.acknowledgments_to_warn(now, warn_after), "received_at")
            if not batch:
                break
            by_person = defaultdict(list)
            for complaint in batch:
                if complaint.assignee_id and complaint.assignee.email:
                    by_person[(complaint.assignee,)].append(complaint)
                else:
                    by_person[tuple(selectors.csrs_to_notify())].append(complaint)
            services.acknowledgments_warn([complaint.pk for complaint in batch], at=now)
            summary["warned"] += len(batch)
            for recipients, complaints in by_person.items():
                summary["notifications"] += _digest(
                    recipients,
                    complaints,
                    event="ack-warning",
                    headline=_counted(
                        len(complaints),
                        "%(count)d complaint to acknowledge soon",
                        "%(count)d complaints to acknowledge soon",
                    ),
                    now=now,
                )
            _kick_relay()
    return summary


def enforce_resolution_targets(now=None):
    now = now or timezone.now()
    summary = {"overdue": 0, "delay_notices": 0, "notifications": 0}
    while True:
        with transaction.atomic():
            batch = _lock_batch(
                selectors.resolution_targets_missed(timezone.localdate(now)),
                "resolution_target_date",
            )
            if not batch:
                break
            summary["delay_notices"] += services.resolution_targets_miss(batch, at=now)
            summary["overdue"] += len(batch)
            summary["notifications"] += _digest(
                selectors.managers_to_notify(),
                batch,
                event="target-missed",
                headline=_counted(
                    len(batch),
                    "%(count)d complaint passed its resolution target",
                    "%(count)d complaints passed their resolution target",
                ),
                now=now,
            )
            _kick_relay()
    return summary


def send_follow_ups(now=None):
    now = now or timezone.now()
    request_after = timedelta(days=settings.FEEDBACK_REQUEST_DELAY_DAYS)
    remind_after = timedelta(days=settings.FEEDBACK_REMINDER_DAYS)
    close_after = timedelta(days=settings.FOLLOW_UP_CLOSE_DAYS)
    summary = {"requests": 0, "reminders": 0, "closed": 0, "left_open": 0}
    with transaction.atomic():
        batch = _lock_batch(
            selectors.follow_ups_to_request(now - request_after), "follow_up_started_at"
        )
        summary["requests"] += services.follow_ups_request(batch, at=now)
        _kick_relay()
    with transaction.atomic():
        batch = _lock_batch(
            selectors.follow_ups_to_remind(now - remind_after), "follow_up_started_at"
        )
        summary["reminders"] += services.follow_ups_request(batch, at=now, reminder=True)
        _kick_relay()
    # Walked in deadline order, a page at a time past the last one tried: a complaint whose
    # record is incomplete stays due on every run, and a page that began at the start again
    # would fill with those and never reach the complaints behind them.
    due_to_close = selectors.follow_ups_to_close(now - close_after)
    last = None
    while True:
        page = due_to_close
        if last is not None:
            page = page.filter(
                Q(feedback_reminded_at__gt=last[0])
                | Q(feedback_reminded_at=last[0], pk__gt=last[1])
            )
        page = list(
            page.order_by("feedback_reminded_at", "pk").values_list("feedback_reminded_at", "pk")[
                :BATCH
            ]
        )
        if not page:
            break
        for _reminded_at, pk in page:
            closed = services.follow_up_close(pk, at=now)
            if closed is not None:
                summary["closed" if closed else "left_open"] += 1
        last = page[-1]
    return summary
