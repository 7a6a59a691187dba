"""The periodic jobs that keep the promises to customers: acknowledgment deadline, resolution
targets, follow-up, and the outbox relay.

How they stay exactly-once: each job scans a partial index that holds only complaints it
may still act on, locks a batch with SKIP LOCKED (an overlapping run takes other rows or
none), sets the complaint's mark (warned, breached, overdue, ...) and writes the
notifications in the same transaction. A run that dies mid-batch rolls back and the next run
does the batch again; a batch that committed is never done twice. No countdown or ETA task
is involved, so a beat restart or a lost task loses nothing.
"""

import logging
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from complaints import emails, outbox, selectors, services
from complaints.models import Complaint, EscalationLevel, JobRun
from complaints.sql import among
from complaints.workflow import Refused, Stage

log = logging.getLogger(__name__)
BATCH = 1000
ACK_BREACH_REASON = "acknowledgment deadline missed"
TARGET_REASON = "resolution target missed"
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
    """_lock_batch for a job that writes set-based: the ids alone, since building a thousand
    model instances costs more than the marks cost to write."""
    return list(
        queryset.select_for_update(skip_locked=True, of=("self",))
        .order_by(order, "pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def _listed(ids):
    """The complaints a staff digest lists of a batch, in the batch's order."""
    shown = ids[: emails.DIGEST_LISTED]
    rows = Complaint.objects.only(*DIGEST_FIELDS).in_bulk(shown)
    return [rows[pk] for pk in shown]


def _escalated_to_managers(reason, now):
    """The update that escalates a batch to the managers, set-based, leaving a complaint that
    is already with them as it is: who escalated it, why and when stay on record."""
    already = Q(escalation_level=EscalationLevel.MANAGER)

    def unless_already(field, value):
        return Case(
            When(already, then=F(field)),
            default=Value(value),
            output_field=Complaint._meta.get_field(field),
        )

    return {
        "escalation_level": Value(EscalationLevel.MANAGER),
        "escalation_reason": unless_already("escalation_reason", reason),
        "escalated_at": unless_already("escalated_at", now),
        "escalated_by": unless_already("escalated_by", None),
    }


def _save_marks(complaints, fields, reason):
    """Write the marks set on a batch, set-based: one UPDATE per distinct set of values
    (a batch usually has one or two), then one history row per complaint copied in SQL."""
    if not complaints:
        return
    now = timezone.now()
    groups = {}
    for complaint in complaints:
        values = tuple(getattr(complaint, Complaint._meta.get_field(f).attname) for f in fields)
        groups.setdefault(values, []).append(complaint.pk)
    attnames = [Complaint._meta.get_field(f).attname for f in fields]
    for values, ids in groups.items():
        Complaint.objects.filter(pk__in=ids).update(
            **dict(zip(attnames, values, strict=True)), updated_at=now
        )
    _history_snapshot([c.pk for c in complaints], reason, now)


def _history_snapshot(ids, reason, when):
    """One django-simple-history row per complaint, as it now stands, in one statement.

    bulk_update_with_history builds a CASE per field and row, which at thousands of rows
    costs seconds; copying the rows in SQL costs milliseconds.
    """
    historical = Complaint.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(f.column)
        for f in historical._meta.concrete_fields
        if not f.name.startswith("history_")
    )
    where, among_ids = among("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(historical._meta.db_table)} "  # noqa: S608  (names from models)  # nosec B608
            f"({columns}, history_date, history_change_reason, history_type, history_user_id) "
            f"SELECT {columns}, %s, %s, '~', NULL FROM {quote(Complaint._meta.db_table)} "
            f"WHERE {where}",
            [when, reason, *among_ids],
        )


def _kick_relay():
    def publish():
        from complaints.tasks import relay_outbox

        try:
            relay_outbox.delay()
        except Exception as error:  # noqa: BLE001  (beat's own relay run will catch up)
            log.warning("Could not start the relay now: %s", error)

    transaction.on_commit(publish)


def _digest(recipients, complaints, *, event, headline, now, total=None):
    """One notification per person per batch, listing that batch's complaints (or the first
    of `total`)."""
    if not complaints:
        return 0
    batch_key = f"{event}:{complaints[0].pk}-{complaints[-1].pk}:{now.timestamp():.0f}"
    emails.queue_staff_digest(
        recipients, complaints, event=batch_key, headline=headline, total=total
    )
    return len(recipients)


def enforce_acknowledgment_deadline(now=None):
    now = now or timezone.now()
    warn_after = timedelta(hours=settings.ACKNOWLEDGMENT_WARNING_HOURS)
    summary = {"warned": 0, "breached": 0, "notifications": 0}
    while True:
        with transaction.atomic():
            ids = _lock_ids(
                Complaint.objects.filter(
                    stage=Stage.RECEIVED,
                    acknowledgment_breached_at__isnull=True,
                    acknowledgment_due_at__lte=now,
                ),
                "acknowledgment_due_at",
            )
            if not ids:
                break
            # Set-based and in one statement: each row is rewritten once, with every index.
            Complaint.objects.filter(pk__in=ids).update(
                acknowledgment_breached_at=now,
                # Past the deadline a warning is moot; the breach notice says it all.
                acknowledgment_warned_at=Coalesce("acknowledgment_warned_at", Value(now)),
                updated_at=now,
                **_escalated_to_managers(ACK_BREACH_REASON, now),
            )
            _history_snapshot(ids, "Acknowledgment deadline missed: escalated to managers", now)
            summary["breached"] += len(ids)
            summary["notifications"] += _digest(
                selectors.managers_to_notify(),
                _listed(ids),
                event="ack-breach",
                headline=f"{len(ids)} complaint(s) missed the acknowledgment deadline",
                now=now,
                total=len(ids),
            )
            _kick_relay()
    while True:
        with transaction.atomic():
            batch = _lock_batch(
                Complaint.objects.filter(
                    stage=Stage.RECEIVED,
                    acknowledgment_warned_at__isnull=True,
                    received_at__lte=now - warn_after,
                    acknowledgment_due_at__gt=now,
                ),
                "received_at",
            )
            if not batch:
                break
            by_person = defaultdict(list)
            for complaint in batch:
                complaint.acknowledgment_warned_at = now
                if complaint.assignee_id and complaint.assignee.email:
                    by_person[(complaint.assignee,)].append(complaint)
                else:
                    by_person[tuple(selectors.csrs_to_notify())].append(complaint)
            _save_marks(batch, ["acknowledgment_warned_at"], "Acknowledgment due soon: warned")
            summary["warned"] += len(batch)
            for recipients, complaints in by_person.items():
                summary["notifications"] += _digest(
                    recipients,
                    complaints,
                    event="ack-warning",
                    headline=f"{len(complaints)} complaint(s) to acknowledge soon",
                    now=now,
                )
            _kick_relay()
    return summary


def enforce_resolution_targets(now=None):
    now = now or timezone.now()
    today = timezone.localdate(now)
    summary = {"overdue": 0, "delay_notices": 0, "notifications": 0}
    while True:
        with transaction.atomic():
            batch = _lock_batch(
                Complaint.objects.filter(
                    stage__in=[Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.INVESTIGATING],
                    resolution_overdue_at__isnull=True,
                    resolution_target_date__lt=today,
                ),
                "resolution_target_date",
            )
            if not batch:
                break
            for complaint in batch:
                complaint.resolution_overdue_at = now
                if complaint.escalation_level != EscalationLevel.MANAGER:
                    complaint.escalation_level = EscalationLevel.MANAGER
                    complaint.escalation_reason = TARGET_REASON
                    complaint.escalated_at = now
                    complaint.escalated_by = None
                if complaint.customer_email:
                    emails.queue_delay_notice(complaint)
                    summary["delay_notices"] += 1
            _save_marks(
                batch,
                [
                    "resolution_overdue_at",
                    "escalation_level",
                    "escalation_reason",
                    "escalated_at",
                    "escalated_by",
                ],
                "Resolution target missed: escalated to managers",
            )
            summary["overdue"] += len(batch)
            summary["notifications"] += _digest(
                selectors.managers_to_notify(),
                batch,
                event="target-missed",
                headline=f"{len(batch)} complaint(s) passed their resolution target",
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
    in_follow_up = Complaint.objects.filter(stage=Stage.FOLLOW_UP)
    with transaction.atomic():
        batch = _lock_batch(
            in_follow_up.filter(
                feedback_requested_at__isnull=True, follow_up_started_at__lte=now - request_after
            ),
            "follow_up_started_at",
        )
        for complaint in batch:
            complaint.feedback_requested_at = now
            if complaint.customer_email and not _has_feedback_this_round(complaint):
                emails.queue_feedback_request(complaint)
                summary["requests"] += 1
        _save_marks(batch, ["feedback_requested_at"], "Feedback request point passed")
        _kick_relay()
    with transaction.atomic():
        batch = _lock_batch(
            in_follow_up.filter(
                feedback_reminded_at__isnull=True,
                feedback_requested_at__lte=now - remind_after,
            ),
            "follow_up_started_at",
        )
        for complaint in batch:
            complaint.feedback_reminded_at = now
            # Marked either way, so a customer who already answered is not scanned again.
            if complaint.customer_email and not _has_feedback_this_round(complaint):
                emails.queue_feedback_request(complaint, reminder=True)
                summary["reminders"] += 1
        _save_marks(batch, ["feedback_reminded_at"], "Follow-up reminder point passed")
        _kick_relay()
    # Walked in deadline order, a page at a time past the last one tried: a complaint whose
    # record is incomplete stays due on every run, and a page that began at the start again
    # would fill with those and never reach the complaints behind them.
    due_to_close = in_follow_up.filter(feedback_reminded_at__lte=now - close_after)
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
            closed = _close_follow_up(pk, now)
            if closed is not None:
                summary["closed" if closed else "left_open"] += 1
        last = page[-1]
    return summary


def _has_feedback_this_round(complaint):
    return complaint.feedback.filter(submitted_at__gte=complaint.follow_up_started_at).exists()


def _close_follow_up(pk, now):
    """After a request and a reminder with no answer, follow-up ends by itself. True when
    closed, False when the record is incomplete, None when another run or a person holds it
    or moved it on (neither closed nor left open by this run)."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
        if complaint is None or complaint.stage != Stage.FOLLOW_UP:
            return None
        try:
            # A savepoint: if the record is incomplete, nothing of this attempt remains.
            with transaction.atomic():
                if not _has_feedback_this_round(complaint):
                    # Say what happened: a customer with no email was never asked by us.
                    complaint.feedback_waived_reason = (
                        "No answer to the feedback request and its reminder"
                        if complaint.customer_email
                        else "No email address to ask for feedback, and none was recorded "
                        "in the follow-up time"
                    )
                    complaint._change_reason = "Follow-up closed without feedback"
                    complaint.save(update_fields=["feedback_waived_reason", "updated_at"])
                services._move(
                    complaint,
                    Stage.DOCUMENTED,
                    actor=None,
                    at=now,
                    note="Follow-up ended by itself: "
                    + (complaint.feedback_waived_reason or "feedback received"),
                )
        except Refused as refusal:
            # The record is incomplete (say, no root cause): it stays in follow-up, in the
            # team's queue, until someone completes it.
            log.info("Complaint %s stays in follow-up: %s", pk, refusal.message)
            return False
    return True


def relay_outbox(now=None):
    sent, pending = outbox.relay(now)
    return {"sent": sent, "still_pending": pending}


def build_trend_reports(now=None):
    from reports.services import build_trend_reports as build

    return build(now)


JOBS = {
    "enforce_acknowledgment_deadline": enforce_acknowledgment_deadline,
    "enforce_resolution_targets": enforce_resolution_targets,
    "send_follow_ups": send_follow_ups,
    "relay_outbox": relay_outbox,
    "build_trend_reports": build_trend_reports,
}


def run(name):
    """Run one job and keep a record of what it did, for the operators' page."""
    job = JOBS[name]
    started = timezone.now()
    clock = time.perf_counter()
    record = JobRun.objects.create(name=name, started_at=started)
    try:
        summary = job()
    except Exception as error:
        record.error = outbox.safe_error(error)
        raise
    else:
        record.summary = summary
        return summary
    finally:
        record.finished_at = timezone.now()
        record.duration_ms = int((time.perf_counter() - clock) * 1000)
        record.save(update_fields=["finished_at", "duration_ms", "summary", "error"])
        # The relay runs every minute; a month of records is plenty for the operators.
        JobRun.objects.filter(name=name, started_at__lt=started - timedelta(days=30)).delete()
