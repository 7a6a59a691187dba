"""The periodic sweeps that keep the promises to customers: every clock of every profile
(enforce_clocks, the generic sweep over the clock rows) and follow-up.

How they stay exactly-once: each sweep scans a partial index that holds only the rows it
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
from complaints.models import (
    RESPONSE_ROLES,
    BreachMessage,
    ClockDefinition,
    ClockRole,
    Complaint,
)
from complaints.outbox import messages
from complaints.responses import ResponseType

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


def _listed(ids):
    """The complaints a staff digest lists of a batch, in the batch's order."""
    shown = ids[: messages.DIGEST_LISTED]
    rows = Complaint.objects.only(*DIGEST_FIELDS).in_bulk(shown)
    return [rows[pk] for pk in shown]


def _kick_relay():
    outbox.publish_after_commit(outbox.RELAY_TASK)


def _counted(count, singular, plural):
    return ngettext(singular, plural, count) % {"count": count}


def _digest(recipients, complaints, *, event, headline, now, total=None, advice=""):
    """One notification per person per batch, listing that batch's complaints (or the first
    of `total`)."""
    if not complaints:
        return 0
    batch_key = f"{event}:{complaints[0].pk}-{complaints[-1].pk}:{now.timestamp():.0f}"
    messages.queue_staff_digest(
        recipients, complaints, event=batch_key, headline=headline, total=total, advice=advice
    )
    return len(recipients)


def _claim(queryset, order):
    """Claim the next batch of clocks no other run holds, each with its complaint: one
    statement locks both rows (SKIP LOCKED) or neither, so the marks that follow never wait
    on a person acting on the same case, and a clock another run marked meanwhile is left
    out (the lock checks the scan's condition again). Only what the marks need is read: the
    clock, its complaint and its definition. Returns the claimed clocks, or None when nothing
    is due."""
    claimed = list(
        queryset.select_related("complaint")
        .select_for_update(skip_locked=True, of=("self", "complaint"))
        .only("complaint_id", "definition_id", "complaint__id")
        .order_by(order, "pk")[:BATCH]
    )
    return claimed or None


def _by_definition(clocks):
    groups = defaultdict(list)
    for clock in clocks:
        groups[clock.definition_id].append(clock)
    return groups.items()


def _recipients(notify, complaint_ids):
    """Who hears of a batch of complaints: [(people, complaints)], one digest each."""
    if notify == "none":
        return []
    if notify in ("managers", "csrs"):
        people = selectors.managers_to_notify() if notify == "managers" else None
        people = people if people is not None else selectors.csrs_to_notify()
        return [(people, _listed(complaint_ids), len(complaint_ids))]
    # The assignee, or every CSR for the unassigned (and those whose assignee has no email).
    by_person = defaultdict(list)
    complaints = Complaint.objects.select_related("assignee").only(*DIGEST_FIELDS, "assignee")
    for complaint in complaints.in_bulk(complaint_ids).values():
        if complaint.assignee_id and complaint.assignee.email:
            by_person[(complaint.assignee,)].append(complaint)
        else:
            by_person[tuple(selectors.csrs_to_notify())].append(complaint)
    return [
        (list(people), sorted(listed, key=lambda c: c.pk), None)
        for people, listed in by_person.items()
    ]


def _tell(notify, complaint_ids, *, event, headline, now, advice=""):
    return sum(
        _digest(
            people,
            complaints,
            event=event,
            headline=headline,
            now=now,
            total=total,
            advice=advice,
        )
        for people, complaints, total in _recipients(notify, complaint_ids)
    )


def _breach_headline(definition, count):
    if definition.role == ClockRole.ACKNOWLEDGMENT:
        return _counted(
            count,
            "%(count)d complaint missed the acknowledgment deadline",
            "%(count)d complaints missed the acknowledgment deadline",
        )
    if definition.role == ClockRole.RESOLUTION_TARGET:
        return _counted(
            count,
            "%(count)d complaint passed its resolution target",
            "%(count)d complaints passed their resolution target",
        )
    return (
        _counted(
            count, "%(count)d complaint missed a deadline", "%(count)d complaints missed a deadline"
        )
        + f": {definition.name}"
    )


def _warning_headline(definition, count):
    if definition.role == ClockRole.ACKNOWLEDGMENT:
        return _counted(
            count,
            "%(count)d complaint to acknowledge soon",
            "%(count)d complaints to acknowledge soon",
        )
    return (
        _counted(count, "%(count)d complaint due soon", "%(count)d complaints due soon")
        + f": {definition.name}"
    )


def _letter_due(response_type):
    name = ResponseType(response_type).label.lower()
    return (
        f"If you cannot answer in time, send the customer the {name} before the deadline, "
        f"with your reasons: Write to the customer, response type {name}. It is not sent "
        f"automatically under this profile, because only you can give the reasons it needs."
    )


def _letter_overdue(response_type):
    name = ResponseType(response_type).label.lower()
    return (
        f"No automatic delay notice went to the customer under this profile: send the {name} "
        f"now, with your reasons: Write to the customer, response type {name}."
    )


def _in_batches(queryset, order, definitions, act):
    """Claim batches of the clocks `queryset` scans until none is left, each in its own
    transaction; `act(definition, clocks, complaint_ids)` does one definition's share."""
    while True:
        with transaction.atomic():
            clocks = _claim(queryset, order)
            if not clocks:
                return
            for definition_id, group in _by_definition(clocks):
                complaint_ids = sorted({clock.complaint_id for clock in group})
                act(definitions[definition_id], group, complaint_ids)
            _kick_relay()


def enforce_clocks(now=None, *, roles=None):
    """Every running clock past its due moment is breached and every one past its warning
    point warned, once, with its definition's actions (docs/clocks.md). `roles` narrows the
    sweep to some kinds of clock (the older jobs' names)."""
    now = now or timezone.now()
    definitions = ClockDefinition.objects.select_related("profile").in_bulk()
    scope = [pk for pk, d in definitions.items() if roles is None or d.role in roles]
    summary = {"warned": 0, "breached": 0, "delay_notices": 0, "notifications": 0}

    letters = {}

    def letter_to_write(definition):
        """The late-answer letter a person writes for this clock's profile, read once a run
        and only for clocks that have something due."""
        if definition.breach_message != BreachMessage.DELAY_NOTICE:
            return None
        if definition.profile_id not in letters:
            letters[definition.profile_id] = selectors.late_answer_type(definition.profile_id)
        return letters[definition.profile_id]

    def breach(definition, clocks, complaint_ids):
        summary["delay_notices"] += services.clocks_breach(definition, clocks, at=now)
        summary["breached"] += len(clocks)
        letter = letter_to_write(definition)
        summary["notifications"] += _tell(
            definition.breach_notify,
            complaint_ids,
            event=f"clock-breach-{definition.pk}",
            headline=_breach_headline(definition, len(complaint_ids)),
            advice=_letter_overdue(letter) if letter else "",
            now=now,
        )

    def warn(definition, clocks, complaint_ids):
        services.clocks_warn(definition, clocks, at=now)
        summary["warned"] += len(clocks)
        letter = letter_to_write(definition)
        summary["notifications"] += _tell(
            definition.warning_notify,
            complaint_ids,
            event=f"clock-warning-{definition.pk}",
            headline=_warning_headline(definition, len(complaint_ids)),
            advice=_letter_due(letter) if letter else "",
            now=now,
        )

    # Breaches first: a clock first swept after its due moment is breached, not warned.
    _in_batches(selectors.clocks_to_breach(now, scope), "due_at", definitions, breach)
    _in_batches(selectors.clocks_to_warn(now, scope), "warn_at", definitions, warn)
    return summary


def enforce_acknowledgment_deadline(now=None):
    """The generic sweep over the acknowledgment clocks, under the job's older name."""
    summary = enforce_clocks(now, roles=[ClockRole.ACKNOWLEDGMENT])
    return {key: summary[key] for key in ("warned", "breached", "notifications")}


def enforce_resolution_targets(now=None):
    """The generic sweep over the response clocks, under the job's older name."""
    summary = enforce_clocks(now, roles=RESPONSE_ROLES)
    return {
        "overdue": summary["breached"],
        "delay_notices": summary["delay_notices"],
        "notifications": summary["notifications"],
    }


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
