"""Complaint rows as the services would have written them, generated from a fixed seed.

Every value is what the services would have written: deadlines, next_deadline_at and the
phone digits come from the same functions the models use.
"""

import bisect
import random
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.roles import Role
from complaints import services
from complaints.clocks import engine
from complaints.models import (
    RESPONSE_ROLES,
    ClockRole,
    RegulatoryProfile,
    next_deadline,
    phone_digits,
)
from complaints.outcomes import OUTCOMES
from complaints.services.deadlines import ACK_BREACH_REASON, TARGET_REASON
from complaints.workflow import OPEN_STAGE_VALUES, PROCEDURE
from tests.bench.lists import (
    ACK_METHOD_WEIGHTS,
    ACK_METHODS,
    CHANNEL_WEIGHTS,
    CHANNELS,
    COMMON_SURNAMES,
    COMPLAINT_TEXTS,
    COMPLEXITIES,
    COMPLEXITY_WEIGHTS,
    FIRST_NAMES,
    RESOLUTION_TEXTS,
    RESOLVE_DAYS,
    SURNAME_MIDDLES,
    SURNAME_PREFIXES,
    SURNAME_SUFFIXES,
)
from tests.bench.tables import tables

SEED = 20250601
# Closed (reviewed) complaints older than this get their stage changes, history, resolution
# and feedback rows only for a sample; everything younger and everything open gets them all.
# The measured reads find these rows by complaint id or by a recent window, so the sample
# changes nothing they do, and it keeps the load within minutes.
FULL_DETAIL_DAYS = 120
DETAIL_SAMPLE = 0.1

# Where the customers live, which chooses their regulator as intake would (the ASIC and CFPB
# profiles are switched on for the bench and fit by country): most complaints stay under the
# house rules, a share answers to ASIC and to the CFPB, so each regulator's half-year return
# has real rows to read. The due backlog stays at home: the acknowledgment row counts it.
COUNTRIES = ("GB", "AU", "US")
COUNTRY_WEIGHTS = (70, 20, 10)
PROFILE_OF_COUNTRY = {"GB": None, "AU": "asic", "US": "cfpb"}
# The complaint moment at which each clock stop event happened (ClockEvent values).
STOP_MOMENTS = {
    "acknowledged": "acknowledged_at",
    "resolution_proposed": "resolved_at",
    "resolved": "follow_up_started_at",
    "closed": "closed_at",
}
# The procedure's stage values as plain strings: what COPY writes (no bench case takes an exit).
PATH = [stage.value for stage in PROCEDURE]
RECEIVED, ACKNOWLEDGED, INVESTIGATING, RESOLVED, FOLLOW_UP, DOCUMENTED, REVIEWED = PATH
MANAGER = "manager"
SECOND, MINUTE, HOUR, DAY = (
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
)


class ProfileRules:
    """A regulatory profile as intake applies it: the clocks a complaint starts with, on the
    profile's calendar (the bench loads no closures), and the outcomes its return reports."""

    def __init__(self, profile):
        self.pk = profile.pk
        self.calendar = profile.calendar.as_calendar()
        self.outcomes = [code for code, _ in OUTCOMES[profile.returns_scheme]]
        self.early_days = profile.early_resolution_business_days
        self.definitions = list(profile.definitions.filter(start_event="received", active=True))
        for definition in self.definitions:
            definition.product_ids = set()

    def clocks(self, received_at, facts):
        """(definition, due, warn_at) of each clock the complaint starts with."""
        started = []
        for definition in self.definitions:
            if engine.applies(definition, facts):
                due = engine.due(received_at, definition.amount, definition.unit, self.calendar)
                warn_at = engine.warn_at(
                    due, definition.warning_amount, definition.warning_unit, self.calendar
                )
                started.append((definition, due, warn_at))
        return started


class Generator:
    """Complaints as the services would have left them, from a fixed seed."""

    def __init__(self, size, now, staff, lists, seed=SEED):
        self.rng = random.Random(seed)  # test data from a fixed seed
        self.size = size
        self.now = now
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.csrs = [u.pk for u in staff if u.role == Role.CSR]
        self.resolvers = [u.pk for u in staff if u.role == Role.RESOLVER]
        self.managers = [u.pk for u in staff if u.role == Role.MANAGER]
        self.categories, self.products, self.root_causes = lists
        self.tables = tables()
        profiles = RegulatoryProfile.objects.select_related("calendar")
        house = profiles.get(is_default=True)
        self.rules = {
            country: ProfileRules(profiles.get(code=code) if code else house)
            for country, code in PROFILE_OF_COUNTRY.items()
        }
        self.reference_numbers = {}
        weights = [0.012 / (rank**0.75) for rank in range(1, len(COMMON_SURNAMES) + 1)]
        self.common_share = sum(weights)
        self.common_cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.common_cumulative.append(total)

    # Arrivals: the base volume grows gently over five years; the due backlog comes on top.
    def arrivals(self):
        rng, now = self.rng, self.now
        due = max(1, self.size // 100)
        span = 5 * 365 * 86400
        moments = []
        for _ in range(self.size - due):
            # Density rising linearly from 0.6 to 1.4 over the span (inverse transform).
            u = rng.random()
            t = (-0.6 + (0.36 + 1.6 * u) ** 0.5) / 0.8
            moments.append((now - timedelta(seconds=span * (1 - t)), False))
        for _ in range(due):
            moments.append((now - timedelta(hours=rng.uniform(25, 48)), True))
        moments.sort(key=lambda item: item[0])
        return moments, due

    def surname(self):
        rng = self.rng
        u = rng.random()
        if u < self.common_share:
            return COMMON_SURNAMES[bisect.bisect_left(self.common_cumulative, u)]
        return (
            rng.choice(SURNAME_PREFIXES)
            + rng.choice(SURNAME_MIDDLES)
            + rng.choice(SURNAME_SUFFIXES)
        )

    def description(self):
        rng = self.rng
        text = rng.choice(COMPLAINT_TEXTS).format(
            day=f"{rng.randint(1, 28)} {rng.choice(['March', 'June', 'October', 'January'])}",
            amount=rng.randint(5, 400),
            n=rng.randint(2, 12),
        )
        if rng.random() < 0.4:
            text += " " + rng.choice(COMPLAINT_TEXTS).format(day="Monday", amount=30, n=3)
        return text

    def passed(self, moment, running_until):
        """When the sweep (every few minutes) marked a moment that passed while its clock
        ran; None if it had not passed."""
        if moment is None or moment > self.now or running_until <= moment:
            return None
        return min(moment + self.rng.uniform(0, 300) * SECOND, self.now)

    def signal(self, pk, user, stage, at, rows):
        """Every case handed to someone was signalled to them and long since opened; an open
        one is now and then still unopened, so the home pages count and mark real numbers
        among a million opened ones."""
        unseen = stage in OPEN_STAGE_VALUES and self.rng.random() < 0.03
        rows["signal"].append(
            {
                "id": self.tables["signal"].take_id(),
                "complaint_id": pk,
                "user_id": user,
                "kind": "assigned",
                "raised_at": at,
                "seen_at": None if unseen else at,
                "notified_at": at,
            }
        )

    def complaint(self, pk, received_at, due_backlog, rows):
        """One complaint row; its child rows are appended to `rows` (lists by table)."""
        rng, now = self.rng, self.now
        local = received_at.astimezone(self.tz)
        first, last = rng.choice(FIRST_NAMES), self.surname()
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        logged_by = None if channel == "web" else rng.choice(self.csrs)
        complexity = rng.choices(COMPLEXITIES, COMPLEXITY_WEIGHTS)[0]
        phone = f"+44 7700 9{rng.randint(0, 99999):05d}" if rng.random() < 0.6 else ""
        email = f"{first}.{last}{rng.randint(1, 99)}@example.com".lower()
        country = "GB" if due_backlog else rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        rules = self.rules[country]
        year = local.year
        number = self.reference_numbers.get(year, 0) + 1
        self.reference_numbers[year] = number
        category = rng.choice(self.categories)
        product = rng.choice(self.products) if rng.random() < 0.9 else None
        facts = {
            "product_id": product,
            "channel": channel,
            "complexity": complexity,
            "vulnerable": False,
            "hardship": False,
        }
        clocks = rules.clocks(received_at, facts)
        acknowledgment = min(
            (clock for clock in clocks if clock[0].role == ClockRole.ACKNOWLEDGMENT),
            key=lambda clock: clock[1],
        )
        _, ack_due, ack_warn_at = acknowledgment
        response = min(
            (clock for clock in clocks if clock[0].role in RESPONSE_ROLES),
            key=lambda clock: clock[1],
        )
        target_due = response[1]
        target = target_due.astimezone(self.tz).date()
        c = {
            "id": pk,
            "reference": f"CMP-{year}-{number:06d}",
            "customer_token": f"{rng.getrandbits(124):031x}{pk:012x}",
            "external_reference": None,
            "customer_name": f"{first} {last}",
            "customer_email": email if rng.random() < 0.75 or channel == "email" else "",
            "customer_phone": phone,
            "customer_phone_digits": phone_digits(phone),
            "date_of_complaint": local.date() - timedelta(days=rng.choice([0, 0, 0, 0, 1, 3])),
            "description": self.description(),
            "interaction_details": f"Customer contacted us by {channel.replace('_', ' ')}.",
            "proposed_resolution": "",
            "follow_up_actions": "",
            "channel": channel,
            "transaction_reference": (
                f"TXN{rng.randint(10**7, 10**8 - 1)}" if rng.random() < 0.5 else ""
            ),
            "complexity": complexity,
            "profile_id": rules.pk,
            "customer_country": country,
            "stage": RECEIVED,
            "escalation_level": "",
            "escalation_reason": "",
            "escalated_at": None,
            "received_at": received_at,
            "acknowledgment_due_at": ack_due,
            "acknowledged_at": None,
            "acknowledgment_method": "",
            "resolution_target_date": target,
            "next_deadline_at": ack_due,
            "acknowledgment_warned_at": None,
            "acknowledgment_breached_at": None,
            "resolution_overdue_at": None,
            "feedback_requested_at": None,
            "feedback_reminded_at": None,
            "investigation_started_at": None,
            "resolved_at": None,
            "follow_up_started_at": None,
            "documented_at": None,
            "outcome": "",
            "early_resolution_at": None,
            "reviewed_at": None,
            "closed_at": None,
            "reopen_count": 0,
            "feedback_waived_reason": "",
            "created_at": received_at,
            "updated_at": received_at,
            "assignee_id": rng.choice(self.csrs) if rng.random() < 0.15 else None,
            "category_id": category,
            "escalated_by_id": None,
            "logged_by_id": logged_by,
            "product_id": product,
            "root_cause_id": None,
        }
        initial = dict(c)
        # The milestones (acknowledged, investigating, ... reviewed) reached by now.
        moments = []
        if not due_backlog:
            ack = rng.uniform(24.5, 72) if rng.random() < 0.04 else rng.uniform(0.2, 20)
            low, high = RESOLVE_DAYS[complexity]
            at = received_at
            for gap in (
                ack * HOUR,
                rng.uniform(1, 72) * HOUR,
                rng.uniform(low, high) * DAY,
                rng.uniform(0.2, 5) * DAY,
                rng.uniform(3, 12) * DAY,
                rng.uniform(0.1, 10) * DAY,
            ):
                at = at + gap
                if at > now:
                    break
                moments.append(at)
        reached = len(moments)
        stage = PATH[reached]
        c["stage"] = stage
        detailed = (
            stage != REVIEWED
            or received_at > now - FULL_DETAIL_DAYS * DAY
            or rng.random() < DETAIL_SAMPLE
        )
        events = [received_at]
        reason = "Logged"
        changes = [("", RECEIVED, logged_by, received_at, f"Logged via {channel}")]
        assignee = c["assignee_id"]

        unacknowledged_until = moments[0] if moments else now
        c["acknowledgment_warned_at"] = self.passed(ack_warn_at, unacknowledged_until)
        if c["acknowledgment_warned_at"]:
            events.append(c["acknowledgment_warned_at"])
        if not due_backlog and unacknowledged_until > ack_due:
            breached = min(ack_due + rng.uniform(0, 300) * SECOND, now)
            c["acknowledgment_breached_at"] = breached
            self.escalate(c, MANAGER, ACK_BREACH_REASON, breached, None)
        if reached >= 1:
            acknowledged = moments[0]
            if assignee is None and rng.random() < 0.7:
                assignee = rng.choice(self.csrs)
            method = rng.choices(ACK_METHODS, ACK_METHOD_WEIGHTS)[0]
            c["acknowledged_at"], c["acknowledgment_method"] = acknowledged, method
            actor = assignee or logged_by or rng.choice(self.csrs)
            note = f"Customer acknowledged by {method.replace('_', ' ')}"
            changes.append((RECEIVED, ACKNOWLEDGED, actor, acknowledged, note))
            reason = "Acknowledged"
        if reached >= 2:
            started = moments[1]
            if assignee is None or rng.random() < 0.5:
                assignee = rng.choice(self.resolvers)
            escalation = rng.random()
            if escalation < 0.08 and not c["escalation_level"]:
                self.escalate(c, "team", "Needs an investigator.", started, assignee)
                if rng.random() < 0.8:
                    assignee = rng.choice(self.resolvers)
            elif escalation < 0.095 and c["escalation_level"] != MANAGER:
                text = "The customer says they will go to the ombudsman."
                self.escalate(c, MANAGER, text, started, assignee)
            c["investigation_started_at"] = started
            changes.append((ACKNOWLEDGED, INVESTIGATING, assignee, started, ""))
            reason = "Moved to Investigating"
        # The sweep flags what is still unresolved once the first response clock has passed.
        flagged_at = max(target_due + 5 * MINUTE, received_at)
        unresolved_until = moments[2] if reached >= 3 else now
        if flagged_at <= now and unresolved_until > flagged_at:
            c["resolution_overdue_at"] = flagged_at
            if c["escalation_level"] != MANAGER:
                self.escalate(c, MANAGER, TARGET_REASON, flagged_at, None)
        if reached >= 3:
            proposed = moments[2]
            c["resolved_at"] = proposed
            c["proposed_resolution"] = self.resolution(c, moments, assignee, rows, detailed)
            changes.append((INVESTIGATING, RESOLVED, assignee, proposed, "Resolution proposed"))
            reason = "Resolution proposed"
            if rng.random() < 0.6:
                c["root_cause_id"] = rng.choice(self.root_causes)
        if reached >= 4:
            started = moments[3]
            c["follow_up_started_at"] = started
            if rules.early_days is not None and engine.resolved_early(
                received_at, started, rules.early_days, rules.calendar
            ):
                c["early_resolution_at"] = started
            note = "Resolution implemented"
            changes.append((RESOLVED, FOLLOW_UP, assignee, started, note))
            reason = note
            self.follow_up(c, moments, rows, detailed)
        if reached >= 5:
            documented = moments[4]
            c["documented_at"] = documented
            c["root_cause_id"] = c["root_cause_id"] or rng.choice(self.root_causes)
            c["outcome"] = rng.choice(rules.outcomes)
            if rng.random() < 0.5:
                c["follow_up_actions"] = "Check the account again in three months."
            by_system = rng.random() < 0.5
            note = "Follow-up ended by itself" if by_system else "Mark documented"
            actor = None if by_system else assignee
            changes.append((FOLLOW_UP, DOCUMENTED, actor, documented, note))
            reason = note
        if reached >= 6:
            reviewed = moments[5]
            c["reviewed_at"] = c["closed_at"] = reviewed
            note = "Case reviewed and signed off"
            changes.append((DOCUMENTED, REVIEWED, rng.choice(self.managers), reviewed, note))
            reason = note
        if stage == INVESTIGATING and rng.random() < 0.06:
            self.consultation(c, assignee, rows)
        c["assignee_id"] = assignee
        c["next_deadline_at"] = next_deadline(stage, ack_due, target)
        if assignee is not None:
            self.signal(pk, assignee, stage, moments[0] if moments else received_at, rows)
        events.extend(moments)
        for key in (
            "escalated_at",
            "acknowledgment_breached_at",
            "resolution_overdue_at",
            "feedback_requested_at",
            "feedback_reminded_at",
        ):
            if c[key]:
                events.append(c[key])
        c["updated_at"] = max(events)
        self.clock_rows(pk, c, clocks, response, rows)
        if detailed:
            stage_changes = self.tables["stagechange"]
            for source, to, actor, at, note in changes:
                rows["stagechange"].append(
                    {
                        "id": stage_changes.take_id(),
                        "complaint_id": pk,
                        "from_stage": source,
                        "to_stage": to,
                        "actor_id": actor,
                        "at": at,
                        "note": note,
                    }
                )
            self.history(initial, received_at, "Logged", "+", logged_by, rows)
            if c["updated_at"] > received_at:
                self.history(c, c["updated_at"], reason, "~", changes[-1][2], rows)
        return c

    def clock_rows(self, pk, c, clocks, response, rows):
        """The complaint's clock rows, as the clock services would have left them: each
        stopped by the first of its stop events that happened, warned and breached when those
        moments passed while it ran. The acknowledgment clock and the first response clock
        carry the complaint's own marks (escalated with them)."""
        table = self.tables["complaintclock"]
        for definition, due, warn_at in clocks:
            happened = sorted(
                (c[STOP_MOMENTS[event]], event)
                for event in definition.stop_events
                if event in STOP_MOMENTS and c[STOP_MOMENTS[event]] is not None
            )
            stopped, stop_event = happened[0] if happened else (None, "")
            running_until = stopped or self.now
            if definition.role == ClockRole.ACKNOWLEDGMENT:
                warned = c["acknowledgment_warned_at"]
                breached = c["acknowledgment_breached_at"]
            else:
                warned = self.passed(warn_at, running_until)
                if definition is response[0]:
                    breached = c["resolution_overdue_at"]
                else:
                    breached = self.passed(due, running_until)
            rows["complaintclock"].append(
                {
                    "id": table.take_id(),
                    "complaint_id": pk,
                    "definition_id": definition.pk,
                    "started_at": c["received_at"],
                    "due_at": due,
                    "warn_at": warn_at,
                    "warned_at": warned,
                    "breached_at": breached,
                    "stopped_at": stopped,
                    "stop_event": stop_event,
                    "met": stopped <= due if stopped else None,
                    "paused_at": None,
                    "pause_reason": "",
                }
            )

    def escalate(self, c, level, reason, at, by):
        c["escalation_level"], c["escalation_reason"] = level, reason
        c["escalated_at"], c["escalated_by_id"] = at, by

    def resolution(self, c, moments, assignee, rows, detailed):
        rng, now = self.rng, self.now
        kind = rng.choice(list(RESOLUTION_TEXTS))
        amount = None
        if kind in ("refund", "compensation") or rng.random() < 0.1:
            amount = Decimal(rng.choice([25, 45, 80, 120, 250, 400, 650, 900, 1500]))
        needs_approval = services.approval_required(amount)
        proposed = moments[2]
        approved_by = approved_at = responded = implemented_by = implemented_at = None
        notes = ""
        if len(moments) >= 4:
            status, follow_up = "implemented", moments[3]
            if needs_approval:
                approved_by = rng.choice(self.managers)
                approved_at = proposed + (follow_up - proposed) * 0.3
            responded = proposed + (follow_up - proposed) * 0.6
            implemented_by, implemented_at = assignee, follow_up
            notes = "Done as proposed."
        elif needs_approval and rng.random() < 0.6:
            status = "awaiting_approval"
        else:
            if needs_approval:
                approved_by = rng.choice(self.managers)
                approved_at = proposed + (now - proposed) * 0.3
            status = "proposed"
            if rng.random() < 0.25:
                status, responded = "accepted", proposed + (now - proposed) * 0.6
        description = RESOLUTION_TEXTS[kind]
        if not detailed:
            return description
        rows["resolution"].append(
            {
                "id": self.tables["resolution"].take_id(),
                "complaint_id": c["id"],
                "type": kind,
                "amount": amount,
                "currency": settings.DEFAULT_CURRENCY if amount is not None else "",
                "description": description,
                "customer_action": "",
                "status": status,
                "proposed_by_id": assignee,
                "proposed_at": proposed,
                "approval_required": needs_approval,
                "approved_by_id": approved_by,
                "approved_at": approved_at,
                "approval_note": "",
                "customer_responded_at": responded,
                "customer_comment": "",
                "implemented_by_id": implemented_by,
                "implemented_at": implemented_at,
                "implementation_notes": notes,
            }
        )
        return description

    def follow_up(self, c, moments, rows, detailed):
        rng, now = self.rng, self.now
        started = moments[3]
        ends = moments[4] if len(moments) >= 5 else now
        requested = started + timedelta(days=settings.FEEDBACK_REQUEST_DELAY_DAYS)
        if requested <= ends:
            c["feedback_requested_at"] = requested
            reminded = requested + timedelta(days=settings.FEEDBACK_REMINDER_DAYS)
            if reminded <= ends:
                c["feedback_reminded_at"] = reminded
        submitted = started + rng.uniform(0.3, 2.9) * DAY
        if rng.random() < 0.45 and submitted <= ends:
            if not detailed:
                return
            rows["feedback"].append(
                {
                    "id": self.tables["feedback"].take_id(),
                    "complaint_id": c["id"],
                    "score": rng.choices([1, 2, 3, 4, 5], [5, 8, 15, 40, 32])[0],
                    "resolved": rng.random() < 0.85,
                    "comment": "",
                    "submitted_at": submitted,
                    "recorded_by_id": None if rng.random() < 0.6 else rng.choice(self.csrs),
                }
            )
        elif len(moments) >= 5:
            c["feedback_waived_reason"] = "No answer to the feedback request and its reminder"

    def consultation(self, c, assignee, rows):
        rng, now = self.rng, self.now
        asked = c["investigation_started_at"] + (now - c["investigation_started_at"]) * 0.4
        consultee = rng.choice(self.resolvers)
        answered = rng.random() < 0.5
        rows["consultation"].append(
            {
                "id": self.tables["consultation"].take_id(),
                "complaint_id": c["id"],
                "asked_by_id": assignee or rng.choice(self.resolvers),
                "department": rng.choice(["Billing operations", "Network team", "Legal"]),
                "consultee_id": consultee,
                "question": "Can you confirm what happened on the account that day?",
                "answer": "Yes: the system applied the fee by mistake." if answered else "",
                "answered_by_id": consultee if answered else None,
                "asked_at": asked,
                "answered_at": asked + (now - asked) * 0.5 if answered else None,
            }
        )

    def history(self, c, at, reason, kind, user, rows):
        rows["historicalcomplaint"].append(
            {
                **c,
                "history_id": self.tables["historicalcomplaint"].take_id(),
                "history_date": at,
                "history_change_reason": reason,
                "history_type": kind,
                "history_user_id": user,
            }
        )
