"""Signals: every event that hands work to someone marks the case for that person until they
open it ("new" in their queue, counted at the top of their home page), and tells them by
email in a digest at most every few minutes.

`signal_raise` is called by the service that makes the event, inside its transaction, with
the complaint locked: the mark exists if and only if the event does. The digest job
(`signals_notify`) claims what no email has told of yet with SKIP LOCKED and marks it in the
transaction that writes the emails to the outbox, so each signal is told of exactly once.

A mark belongs to whoever holds the case: when it changes hands, the customer's unread news
moves with it (`signals_follow_holder`); a mark raised for a group (the intake queue's CSRs,
the managers) is read for the group by the first of them to open the case.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from accounts.roles import Role
from complaints import outbox, selectors
from complaints.models import EscalationLevel, Signal, SignalKind
from complaints.outbox import messages
from complaints.services.common import locked
from complaints.services.stages import sub_status_keep
from complaints.sub_status import NEWS, SubStatus

# What the customer's word makes of the case until its owner reads it.
CUSTOMER_NEWS = {
    SignalKind.CUSTOMER_REPLIED: SubStatus.CUSTOMER_REPLIED,
    SignalKind.CUSTOMER_ADDED_INFORMATION: SubStatus.CUSTOMER_REPLIED,
    SignalKind.CUSTOMER_DISAGREED: SubStatus.CUSTOMER_REPLIED,
    SignalKind.CUSTOMER_FEEDBACK: SubStatus.CUSTOMER_REPLIED,
    SignalKind.CUSTOMER_ACCEPTED: SubStatus.CUSTOMER_ACCEPTED,
}
DIGEST_BATCH = 1000


def signal_owners(complaint, kind):
    """Whose turn it is: a request for approval goes to the managers, an escalation to those
    it names; anything else to the case's assignee, or, while nobody holds it, to those whose
    queue shows it (the team it is escalated to, else the CSRs' intake queue)."""
    if kind == SignalKind.APPROVAL_REQUESTED:
        return selectors.people_in_role(Role.MANAGER)
    if kind != SignalKind.ESCALATED and complaint.assignee_id is not None:
        return [complaint.assignee]
    if complaint.escalation_level == EscalationLevel.MANAGER:
        return selectors.people_in_role(Role.MANAGER)
    if complaint.escalation_level == EscalationLevel.TEAM:
        return selectors.people_in_role(Role.RESOLVER)
    return selectors.people_in_role(Role.CSR)


def signal_raise(complaint, kind, *, for_user=None, actor=None):
    """Mark `complaint` as new for `for_user` (by default, whoever's turn `kind` makes it),
    never for the `actor` who caused it. Customer events also set the case's sub-status
    (customer replied, customer accepted) until its owner opens it. Returns the signals."""
    kind = SignalKind(kind)
    people = [for_user] if for_user is not None else signal_owners(complaint, kind)
    at = timezone.now()
    signals = Signal.objects.bulk_create(
        Signal(complaint=complaint, user=person, kind=kind, raised_at=at)
        for person in {person.pk: person for person in people}.values()
        if person.is_active and (actor is None or person.pk != actor.pk)
    )
    if kind in CUSTOMER_NEWS:
        # News for nobody (its only owner is the colleague who recorded it) is read already.
        news = CUSTOMER_NEWS[kind] if signals else SubStatus.NONE
        sub_status_keep(complaint, actor=actor, news=news)
    return signals


def signals_seen(complaint, user):
    """`user` opened the case: nothing on it is new for them any more, nor for the rest of a
    group a signal was raised for (the CSRs of the intake queue, the managers): one of them
    has read it. Returns how many signals that cleared (none, and one read of an index, on
    most visits)."""
    raised = set(
        Signal.objects.filter(complaint=complaint, user=user, seen_at__isnull=True).values_list(
            "kind", "raised_at"
        )
    )
    if not raised:
        return 0
    # One raise writes its whole group's signals with the same kind and moment.
    same_raise = Q()
    for kind, raised_at in raised:
        same_raise |= Q(kind=kind, raised_at=raised_at)
    with transaction.atomic():
        cleared = _clear(Signal.objects.filter(same_raise, complaint=complaint))
        if {kind for kind, _ in raised} & CUSTOMER_NEWS.keys() and complaint.sub_status in NEWS:
            complaint.sub_status = sub_status_keep(locked(complaint), actor=user).sub_status
    return cleared


def signals_answered(complaint, kind):
    """What `kind` asked for is done (an approval decided): it is no longer new for anyone."""
    return _clear(Signal.objects.filter(complaint=complaint, kind=kind))


def signals_follow_holder(complaint, *, previous_assignee_id):
    """The case changed hands (called with it locked and its new assignee set): the customer's
    unopened news goes with it to whoever holds it now (its assignee, or the queue it is back
    in), to be told in their next digest, and leaves those who no longer hold it; "Assigned to
    you" no longer holds for the previous assignee."""
    holders = {
        person.pk: person
        for person in signal_owners(complaint, SignalKind.CUSTOMER_REPLIED)
        if person.is_active
    }
    unseen = Signal.objects.filter(complaint=complaint, seen_at__isnull=True)
    news = unseen.filter(kind__in=CUSTOMER_NEWS)
    first_raised = dict(news.order_by().values_list("kind").annotate(Min("raised_at")))
    held = set(news.filter(user_id__in=holders).values_list("user_id", "kind"))
    _clear(news.exclude(user_id__in=holders))
    if previous_assignee_id is not None:
        _clear(unseen.filter(kind=SignalKind.ASSIGNED, user_id=previous_assignee_id))
    return Signal.objects.bulk_create(
        Signal(complaint=complaint, user=person, kind=kind, raised_at=raised_at)
        for kind, raised_at in first_raised.items()
        for pk, person in holders.items()
        if (pk, kind) not in held
    )


def _clear(signals):
    return signals.filter(seen_at__isnull=True).update(seen_at=timezone.now())


def signals_notify(now=None):
    """The digest job: one email per person for what was raised for them since the last
    run and is still unopened, listing each case once with what happened."""
    now = now or timezone.now()
    summary = {"signals": 0, "emails": 0}
    while True:
        with transaction.atomic():
            batch = list(
                selectors.signals_to_notify().select_for_update(skip_locked=True, of=("self",))[
                    :DIGEST_BATCH
                ]
            )
            if not batch:
                break
            Signal.objects.filter(pk__in=[signal.pk for signal in batch]).update(notified_at=now)
            by_person = defaultdict(list)
            for signal in batch:
                # Opened before the digest went: the person already knows.
                if signal.seen_at is None and signal.user.email and signal.user.is_active:
                    by_person[signal.user].append(signal)
            for person, signals in by_person.items():
                messages.queue_signal_digest(
                    person,
                    _cases(signals),
                    key=f"signals:{person.pk}:{signals[0].pk}-{signals[-1].pk}",
                )
            summary["signals"] += len(batch)
            summary["emails"] += len(by_person)
            outbox.publish_after_commit(outbox.RELAY_TASK)
    return summary


def _cases(signals):
    """[(complaint, [what happened, ...]), ...]: each case once, its events in order."""
    cases = {}
    for signal in signals:
        happened = cases.setdefault(signal.complaint_id, (signal.complaint, []))[1]
        label = signal.get_kind_display()
        if label not in happened:
            happened.append(label)
    return list(cases.values())
