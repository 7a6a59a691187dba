"""The complaint's clocks as rows (docs/clocks.md): started at intake and by stage events,
stopped by stage events, restarted on a reopening, recomputed when the facts that choose
them change, paused and resumed with a reason, and moved to another profile with one.

The complaint's deadline columns (acknowledgment_due_at, resolution_target_date and so
next_deadline_at, resolution_overdue_at) are kept as the projection of its running clocks,
so the queues sort on their indexes as before. Every function here runs inside the caller's
transaction with the complaint locked; the sweep locks the complaint before its clocks too,
so the two never wait on each other in opposite orders.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from complaints.clocks import engine
from complaints.models import (
    RESPONSE_ROLES,
    ClockDefinition,
    ClockEvent,
    ClockPause,
    ClockRole,
    ComplaintClock,
    Holiday,
    MessageChannel,
    OutboundMessage,
    StageChange,
)
from complaints.permissions import Action, require
from complaints.responses import FINAL_TYPES, ResponseType
from complaints.services.common import attribute, locked
from complaints.workflow import EXIT_STAGES, Refused, Stage

# Stops that say nothing of whether the promise was kept: the case left, or the clock no
# longer applies to it.
PROFILE_CHANGED, CONDITIONS_CHANGED = "profile_changed", "conditions_changed"
NO_VERDICT = {ClockEvent.EXITED, PROFILE_CHANGED, CONDITIONS_CHANGED}
# A case that exits or closes runs no clock, whatever the definition's stop events say.
STOPS_EVERY_CLOCK = {ClockEvent.EXITED, ClockEvent.CLOSED}
STAGE_EVENTS = {
    Stage.ACKNOWLEDGED: (ClockEvent.ACKNOWLEDGED,),
    Stage.INVESTIGATING: (ClockEvent.INVESTIGATING,),
    Stage.RESOLVED: (ClockEvent.RESOLUTION_PROPOSED,),
    Stage.FOLLOW_UP: (ClockEvent.RESOLVED, ClockEvent.FOLLOW_UP),
    Stage.DOCUMENTED: (ClockEvent.DOCUMENTED,),
    Stage.REVIEWED: (ClockEvent.CLOSED,),
    **dict.fromkeys(EXIT_STAGES, (ClockEvent.EXITED,)),
}
# What sending a response does to the clocks (the seeded definitions stop on these).
RESPONSE_EVENTS = {
    ResponseType.HOLDING_RESPONSE: (ClockEvent.HOLDING_RESPONSE_SENT,),
    ResponseType.FINAL_RESPONSE: (ClockEvent.FINAL_RESPONSE_SENT,),
    ResponseType.SUMMARY_RESOLUTION: (ClockEvent.FINAL_RESPONSE_SENT,),
    ResponseType.CFPB_COMPANY_RESPONSE: (ClockEvent.FINAL_RESPONSE_SENT,),
}
# The complaint's fields a clock's conditions read: a change recomputes its clocks.
CLOCK_FACTS = {"product", "channel", "complexity", "vulnerable", "hardship"}
REOPENED_FROM = (Stage.RESOLVED, Stage.FOLLOW_UP, Stage.DOCUMENTED)


def stage_events(source, target):
    if target == Stage.INVESTIGATING and source in REOPENED_FROM:
        return (ClockEvent.REOPENED,)
    return STAGE_EVENTS.get(Stage(target), ())


# Reading the rules -------------------------------------------------------------------------


def facts_of(complaint):
    return {
        "product_id": complaint.product_id,
        "channel": complaint.channel,
        "complexity": complaint.complexity,
        "vulnerable": complaint.vulnerable,
        "hardship": complaint.hardship,
    }


def definitions_of(profile):
    definitions = list(
        ClockDefinition.objects.filter(profile=profile)
        .select_related("calendar", "profile__calendar")
        .prefetch_related("products")
    )
    for definition in definitions:
        definition.product_ids = {product.pk for product in definition.products.all()}
    return definitions


def calendar_of(definition):
    return definition.calendar or definition.profile.calendar


class Closures:
    """The firm's closures, read once per change and shared by its clocks' arithmetic."""

    def __init__(self, pairs=None):
        if pairs is None:
            pairs = Holiday.objects.values_list("date", "calendar_id")
        self.pairs = list(pairs)

    def calendar(self, business_calendar):
        closed = (day for day, owner in self.pairs if owner in (None, business_calendar.pk))
        return business_calendar.as_calendar(closed)


def new_clock(complaint, definition, start, closures, **marks):
    calendar = closures.calendar(calendar_of(definition))
    due_at = engine.due(start, definition.amount, definition.unit, calendar)
    warn_at = None
    if definition.warning_amount is not None:
        warn_at = engine.warn_at(
            due_at, definition.warning_amount, definition.warning_unit, calendar
        )
    return ComplaintClock(
        complaint=complaint,
        definition=definition,
        started_at=start,
        due_at=due_at,
        warn_at=warn_at,
        **marks,
    )


# The projection ----------------------------------------------------------------------------


def project(complaint, running, fields=None):
    """Set the complaint's deadline columns from its running clocks; name the changed
    columns in `fields`."""
    fields = fields if fields is not None else []

    def put(name, value):
        if getattr(complaint, name) != value:
            setattr(complaint, name, value)
            fields.append(name)

    acknowledgments = [c for c in running if c.definition.role == ClockRole.ACKNOWLEDGMENT]
    if acknowledgments:
        put("acknowledgment_due_at", min(c.due_at for c in acknowledgments))
    responses = [c for c in running if c.definition.role in RESPONSE_ROLES]
    if responses:
        first = min(responses, key=lambda c: (c.due_at, c.pk or 0))
        put("resolution_target_date", timezone.localdate(first.due_at))
        put("resolution_overdue_at", first.breached_at)
    put("response_due_role", first.definition.role if responses else "")
    return fields


def running_clocks(complaint):
    return list(
        ComplaintClock.objects.filter(complaint=complaint, stopped_at__isnull=True).select_related(
            "definition"
        )
    )


# Intake ------------------------------------------------------------------------------------


def clocks_for_intake(complaint, at, catalogue):
    """The profile and the clocks a new complaint starts with (unsaved: the intake saves the
    complaint, then them), its deadline columns set from them. The rules come from the
    regulatory catalogue (selectors/regulatory.py), not the database."""
    complaint.customer_country = complaint.customer_country or settings.FIRM_COUNTRY
    complaint.profile = catalogue.profile_for(
        product_id=complaint.product_id, country=complaint.customer_country
    )
    closures = Closures(catalogue.closures)
    facts = facts_of(complaint)
    clocks = [
        new_clock(complaint, definition, at, closures)
        for definition in catalogue.definitions_of(complaint.profile)
        if definition.start_event == ClockEvent.RECEIVED and engine.applies(definition, facts)
    ]
    if not any(c.definition.role == ClockRole.ACKNOWLEDGMENT for c in clocks):
        # The columns are never empty: a profile without an acknowledgment clock keeps the
        # firm's own, shown but not enforced.
        complaint.acknowledgment_due_at = at + timedelta(hours=settings.ACKNOWLEDGMENT_HOURS)
    if not any(c.definition.role in RESPONSE_ROLES for c in clocks):
        # Likewise a profile without a response clock: the longest house target, shown only.
        complaint.resolution_target_date = timezone.localdate(
            at + timedelta(days=settings.RESOLUTION_TARGETS["complex"][0])
        )
    project(complaint, clocks)
    return clocks


def clocks_save_new(complaint, clocks):
    for clock in clocks:
        clock.complaint = complaint
    ComplaintClock.objects.bulk_create(clocks)


# Stage events ------------------------------------------------------------------------------


def _stop(clock, event, at, verdict=None):
    """Stop a running clock; `verdict` (met or not) when a rule other than its due moment
    decides it (early resolution)."""
    clock.stopped_at = at
    clock.stop_event = event
    if verdict is not None:
        clock.met = verdict
    else:
        clock.met = None if event in NO_VERDICT else at <= clock.due_at
    if clock.paused_at is not None:
        ClockPause.objects.filter(clock=clock, resumed_at__isnull=True).update(resumed_at=at)
        clock.paused_at = None
    clock.save(update_fields=["stopped_at", "stop_event", "met", "paused_at"])


def clocks_on_stage_move(complaint, source, target, *, at, fresh_if_passed, fields):
    """What a stage move does to the clocks: stop those it meets, restart the response
    clocks on a reopening, start those it begins. `fresh_if_passed`: a reopening by the
    customer gives a passed response clock a fresh start from now (one still ahead stands:
    it was promised)."""
    events = stage_events(source, target)
    if not events:
        return
    running = running_clocks(complaint)
    definitions = None
    for event in events:
        early = None
        if event == ClockEvent.RESOLVED:
            early = resolved_early(complaint, at)
            _mark_early_resolution(complaint, at if early else None, fields)
        elif event == ClockEvent.REOPENED:
            _mark_early_resolution(complaint, None, fields)
            # Reopened, the complaint is owed a response again.
            if complaint.final_response_sent_at is not None:
                complaint.final_response_sent_at = None
                fields.append("final_response_sent_at")
        for clock in [c for c in running if c.stopped_at is None]:
            if event in STOPS_EVERY_CLOCK or event in clock.definition.stop_events:
                verdict = early if clock.definition.role == ClockRole.EARLY_RESOLUTION else None
                _stop(clock, event, at, verdict)
        running = [c for c in running if c.stopped_at is None]
        if definitions is None:
            definitions = definitions_of(complaint.profile)
        started = _start(complaint, definitions, running, event, at, fresh_if_passed)
        running += started
    project(complaint, running, fields)


def reopened_since(complaint, moment):
    """Whether the case was reopened after `moment`."""
    return StageChange.objects.filter(
        complaint=complaint,
        from_stage__in=REOPENED_FROM,
        to_stage=Stage.INVESTIGATING,
        at__gt=moment,
    ).exists()


def clocks_on_response_sent(complaint, response_type, *, at):
    """A response went to the customer: stop the clocks it meets and start those it
    begins. One that answers the complaint marks it answered, so no response is due from us
    until a reopening. Returns the complaint's changed fields, for the caller's save."""
    fields = []
    if response_type in FINAL_TYPES and complaint.final_response_sent_at is None:
        complaint.final_response_sent_at = at
        fields.append("final_response_sent_at")
    events = RESPONSE_EVENTS.get(response_type, ())
    if not events:
        return fields
    running = running_clocks(complaint)
    definitions = definitions_of(complaint.profile)
    for event in events:
        for clock in running:
            if clock.stopped_at is None and event in clock.definition.stop_events:
                _stop(clock, event, at)
        running = [c for c in running if c.stopped_at is None]
        running += _start(complaint, definitions, running, event, at, fresh_if_passed=False)
    project(complaint, running, fields)
    return fields


# Early resolution (DISP 1.5, RG 271) ---------------------------------------------------------


def resolved_early(complaint, resolved_at, closures=None):
    """Whether the complaint, resolved at `resolved_at`, is an early resolution under its
    profile; None when the profile has no early-resolution window. The one rule, read by
    the mark and by the verdict of the profile's early-resolution clock alike."""
    profile = complaint.profile
    if profile.early_resolution_business_days is None:
        return None
    calendar = (closures or Closures()).calendar(profile.calendar)
    return engine.resolved_early(
        complaint.received_at, resolved_at, profile.early_resolution_business_days, calendar
    )


def _mark_early_resolution(complaint, at, fields):
    """Set (a moment) or clear (None) the mark; the caller's save writes it, and the
    history row it makes is the timeline's "Resolved early" entry."""
    if complaint.early_resolution_at != at:
        complaint.early_resolution_at = at
        fields.append("early_resolution_at")


def _start(complaint, definitions, running, event, at, fresh_if_passed):
    facts = facts_of(complaint)
    closures = None
    ticking = {c.definition_id for c in running}
    new = []
    for definition in definitions:
        if definition.pk in ticking or not engine.applies(definition, facts):
            continue
        if definition.start_event == event:
            closures = closures or Closures()
            new.append(new_clock(complaint, definition, at, closures))
        elif event == ClockEvent.REOPENED and definition.role in RESPONSE_ROLES:
            last = complaint.clocks.filter(definition=definition).order_by("-pk").first()
            if last is None or last.stop_event in NO_VERDICT:
                continue
            if fresh_if_passed and last.due_at < at:
                closures = closures or Closures()
                new.append(new_clock(complaint, definition, at, closures))
            else:
                # The promise stands, and so do its marks: nothing is sent twice.
                new.append(
                    ComplaintClock(
                        complaint=complaint,
                        definition=definition,
                        started_at=last.started_at,
                        due_at=last.due_at,
                        warn_at=last.warn_at,
                        warned_at=last.warned_at,
                        breached_at=last.breached_at,
                    )
                )
    ComplaintClock.objects.bulk_create(new)
    return new


# Changes of facts and of profile -----------------------------------------------------------


def clocks_recompute(complaint, *, at, fields):
    """The facts that choose the clocks changed (complexity, channel, product, a flag):
    running clocks that no longer apply stop, and the clocks that apply now take their
    place, counted from the same start. A replacement already past keeps the breach of the
    clock it replaces, so nothing is escalated or sent again."""
    definitions = definitions_of(complaint.profile)
    by_pk = {d.pk: d for d in definitions}
    facts = facts_of(complaint)
    running = running_clocks(complaint)
    replaced = []
    for clock in running:
        definition = by_pk.get(clock.definition_id)
        if definition is None or not engine.applies(definition, facts):
            _stop(clock, CONDITIONS_CHANGED, at)
            replaced.append(clock)
    running = [c for c in running if c.stopped_at is None]
    ticking = {c.definition_id for c in running}
    closures = Closures()
    new = []
    for old in replaced:
        for definition in definitions:
            if (
                definition.pk in ticking
                or definition.role != old.definition.role
                or definition.start_event != old.definition.start_event
                or not engine.applies(definition, facts)
            ):
                continue
            clock = new_clock(complaint, definition, old.started_at, closures)
            if clock.due_at <= at and old.breached_at:
                clock.breached_at, clock.warned_at = old.breached_at, old.warned_at
            new.append(clock)
            ticking.add(definition.pk)
    ComplaintClock.objects.bulk_create(new)
    project(complaint, running + new, fields)


def _history_events(complaint):
    """Each clock event the case has seen, in order, from its stage changes and the
    responses sent (an email when written, a letter when posted)."""
    events = [(ClockEvent.RECEIVED, complaint.received_at)]
    for change in StageChange.objects.filter(complaint=complaint).order_by("at", "pk"):
        if change.from_stage:
            events += [(e, change.at) for e in stage_events(change.from_stage, change.to_stage)]
    reopenings = [at for event, at in events if event == ClockEvent.REOPENED]
    responses = OutboundMessage.objects.filter(
        complaint=complaint, response_type__in=list(RESPONSE_EVENTS)
    ).values_list("response_type", "channel", "created_at", "sent_at")
    for response_type, channel, created_at, sent_at in responses:
        at = sent_at if channel == MessageChannel.LETTER else created_at
        # A letter written before a reopening answers the case as it was, not as reopened.
        if at is not None and not any(created_at < r < at for r in reopenings):
            events += [(e, at) for e in RESPONSE_EVENTS[response_type]]
    # Stable: a stage change and a response at the same moment keep their order above.
    return sorted(events, key=lambda pair: pair[1])


def _standing_resolution(history):
    """The moment of the case's resolution, unless a reopening undid it since."""
    resolved_at = None
    for event, moment in history:
        if event == ClockEvent.RESOLVED:
            resolved_at = moment
        elif event == ClockEvent.REOPENED:
            resolved_at = None
    return resolved_at


@transaction.atomic
def complaint_profile_change(complaint, *, actor, profile, reason, at=None):
    """Put a case under another profile: its running clocks stop ("profile_changed") and
    the new profile's clocks are replayed from the case's own history, each from its
    original start; the old rows stay on record."""
    complaint = locked(complaint)
    require(actor, complaint, Action.MANAGE_CLOCKS)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the case changes profile.")
    if not profile.active:
        raise Refused(f"The profile {profile} is switched off.")
    if profile.pk == complaint.profile_id:
        raise Refused(f"This complaint already follows {profile}.")
    at = at or timezone.now()
    for clock in running_clocks(complaint):
        _stop(clock, PROFILE_CHANGED, at)
    complaint.profile = profile
    facts = facts_of(complaint)
    closures = Closures()
    history = _history_events(complaint)
    new = []
    for definition in definitions_of(profile):
        if not engine.applies(definition, facts):
            continue
        starts = [moment for event, moment in history if event == definition.start_event]
        if not starts:
            continue
        clock = new_clock(complaint, definition, starts[-1], closures)
        stops = [
            (event, moment)
            for event, moment in history
            if moment >= starts[-1]
            and (event in definition.stop_events or event in STOPS_EVERY_CLOCK)
        ]
        if stops:
            clock.stop_event, clock.stopped_at = stops[0]
            clock.met = None if clock.stop_event in NO_VERDICT else clock.stopped_at <= clock.due_at
            if (
                definition.role == ClockRole.EARLY_RESOLUTION
                and clock.stop_event == ClockEvent.RESOLVED
                and (early := resolved_early(complaint, clock.stopped_at, closures)) is not None
            ):
                clock.met = early
        new.append(clock)
    ComplaintClock.objects.bulk_create(new)
    fields = ["profile", "updated_at"]
    resolved_at = _standing_resolution(history)
    early = resolved_at is not None and resolved_early(complaint, resolved_at, closures)
    _mark_early_resolution(complaint, resolved_at if early else None, fields)
    project(complaint, [c for c in new if c.stopped_at is None], fields)
    attribute(complaint, actor, f"Profile changed to {profile}: {reason}"[:100])
    complaint.save(update_fields=fields)
    return complaint


# Pauses ------------------------------------------------------------------------------------


def _clock_of(complaint, clock_id):
    clock = (
        ComplaintClock.objects.filter(complaint=complaint, pk=clock_id)
        .select_related("definition__profile__calendar", "definition__calendar")
        .first()
    )
    if clock is None or clock.stopped_at is not None:
        raise Refused("That clock is not running on this complaint.")
    return clock


@transaction.atomic
def clock_pause(complaint, clock_id, *, actor, reason, at=None):
    complaint = locked(complaint)
    require(actor, complaint, Action.MANAGE_CLOCKS)
    clock = _clock_of(complaint, clock_id)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the clock is paused.")
    if clock.paused_at is not None:
        raise Refused("That clock is already paused.")
    clock.paused_at = at or timezone.now()
    clock.pause_reason = reason[:200]
    clock.save(update_fields=["paused_at", "pause_reason"])
    ClockPause.objects.create(
        clock=clock, paused_at=clock.paused_at, paused_by=actor, reason=reason[:200]
    )
    return clock


@transaction.atomic
def clock_resume(complaint, clock_id, *, actor, at=None):
    """Resume a paused clock: it falls due later by the time it stood still."""
    complaint = locked(complaint)
    require(actor, complaint, Action.MANAGE_CLOCKS)
    clock = _clock_of(complaint, clock_id)
    if clock.paused_at is None:
        raise Refused("That clock is not paused.")
    at = at or timezone.now()
    calendar = Closures().calendar(calendar_of(clock.definition))
    new_due = engine.extend(clock.due_at, clock.paused_at, at, clock.definition.unit, calendar)
    if clock.warn_at is not None:
        clock.warn_at += new_due - clock.due_at
    clock.due_at = new_due
    ClockPause.objects.filter(clock=clock, resumed_at__isnull=True).update(
        resumed_at=at, resumed_by=actor
    )
    clock.paused_at = None
    clock.pause_reason = ""
    clock.save(update_fields=["due_at", "warn_at", "paused_at", "pause_reason"])
    fields = project(complaint, running_clocks(complaint), ["updated_at"])
    attribute(complaint, actor, f"{clock.definition.name} resumed")
    complaint.save(update_fields=fields)
    return clock
