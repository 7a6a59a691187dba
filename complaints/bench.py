"""The scale benchmark behind `make bench`: a realistic table of complaints in a database of its
own, and the server time and query count of the pages and jobs that must stay fast at scale.

`load()` fills the database: staff, managed lists, then `size` complaints written with COPY
(most closed and reviewed, some thousands open across the open stages, escalations,
acknowledgment and resolution-target breaches, the size/100 complaints whose acknowledgment
deadline has passed unnoticed), with their stage changes, history, resolutions, feedback and
consultations, and one complaint walked through the real services for a real timeline. Every
value is what the services would have written: deadlines, next_deadline_at and the phone
digits come from the same functions the models use.

`MEASUREMENTS` is the registry of what is timed: (name, target_ms, callable). A callable takes
the `Context` and does one request or one job run; `once(callable)` marks one that can run
only once (it changes what it measures). Later issues append their rows here.
"""

import bisect
import contextlib
import json
import operator
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg import sql

from accounts.roles import Role
from complaints import clocks, jobs, selectors, services, views
from complaints.imports import import_cfpb
from complaints.models import (
    Category,
    Complaint,
    Consultation,
    Feedback,
    Product,
    ReferenceCounter,
    Resolution,
    RootCause,
    StageChange,
    next_deadline,
    phone_digits,
)
from complaints.workflow import Stage
from reports import services as report_services
from reports.selectors import dashboard

SEED = 20250601
CHUNK = 50_000
# Closed (reviewed) complaints older than this get their stage changes, history, resolution
# and feedback rows only for a sample; everything younger and everything open gets them all.
# The measured reads find these rows by complaint id or by a recent window, so the sample
# changes nothing they do, and it keeps the load within minutes.
FULL_DETAIL_DAYS = 120
DETAIL_SAMPLE = 0.1
BENCH_SURNAME = "Walker"  # a common surname (about 0.16% of customers), not the commonest
TIMELINE_REFERENCE = "BENCH-TIMELINE"

# Lists ------------------------------------------------------------------------------------

CATEGORIES = [
    "Billing error",
    "Fees and charges",
    "Service outage",
    "Staff conduct",
    "Delay in service",
    "Account access",
    "Product fault",
    "Communication",
    "Data protection",
    "Fraud and security",
]
PRODUCTS = [
    "Current account",
    "Credit card",
    "Mortgage",
    "Personal loan",
    "Broadband",
    "Energy supply",
]
ROOT_CAUSES = [
    "Process not followed",
    "System error",
    "Unclear communication",
    "Third-party failure",
    "Policy gap",
    "Training need",
    "No fault found",
]
STAFF = (
    [(f"csr{n:02d}", Role.CSR) for n in range(1, 11)]
    + [(f"resolver{n:02d}", Role.RESOLVER) for n in range(1, 7)]
    + [(f"manager{n:02d}", Role.MANAGER) for n in range(1, 4)]
)
FIRST_NAMES = (  # noqa: SIM905  (a word list reads better as words)
    "Olivia Amelia Isla Ava Mia Grace Sophia Lily Freya Emily Ivy Ella Rosie Evie Florence "
    "Poppy Charlotte Willow Sienna Harper Noah Oliver George Arthur Leo Harry Oscar Archie "
    "Henry Theodore Freddie Jack Charlie Finley Alfie Jacob Isaac Lucas Edward Samuel Priya "
    "Aisha Fatima Mohammed Yusuf Omar Zara Hannah Chloe Megan Ruth Anna Paul Peter Karen "
    "Sandra Diane Gareth Rhys Siobhan"
).split()
# Common surnames first, in falling frequency; the rest of the customers get a long tail.
COMMON_SURNAMES = (  # noqa: SIM905  (a word list reads better as words)
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Roberts Johnson Robinson "
    "Thompson Wright Wood Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
    "Jackson Turner Hill Moore Cooper Ward Morris King Watson Harrison Morgan Baker Young "
    "Allen Mitchell Anderson Lee Martin Bell Parker Price Bennett Griffiths Kelly Simpson "
    "Marshall Collins Phillips Cook Richardson Bailey Carter Murphy Shaw Gray Chapman Ellis "
    "Adams Webb Powell Russell Cox Palmer Stevens Mills Murray Khan Rogers Owen Lloyd "
    "Fisher Hunt Graham Holmes Mason Butler Barnes Knight Ahmed Jenkins Dixon Kaur Barker "
    "Fletcher Harvey Pearson Matthews Reynolds Foster Gibson Hunter Saunders Fox Ali Begum "
    "Singh"
).split()
SURNAME_PREFIXES = (  # noqa: SIM905  (a word list reads better as words)
    "Ash Black Bram Brook Cald Cran Dun Fair Fern Hart Hol Kings Lang Mar Mill Mor Nor Pen "
    "Rad Red Sel Stan Thorn Wad Wel Whit Win Yar Ald Birch"
).split()
SURNAME_MIDDLES = ["", "a", "e", "in", "er", "ing"]
SURNAME_SUFFIXES = (  # noqa: SIM905  (a word list reads better as words)
    "ley ton well wood by ford ham more field wick sall den bury stead croft mere worth "
    "cott hurst gate"
).split()
COMPLAINT_TEXTS = [
    "I was charged twice for the same purchase on {day} and nobody has explained why.",
    "An overdraft fee of £{amount} was applied although I had arranged an overdraft.",
    "My broadband has dropped every evening for {n} days and I work from home.",
    "The adviser at the branch was dismissive and refused to explain the terms.",
    "My application has been waiting for {n} weeks without any update from you.",
    "I cannot log in to online banking since the upgrade on {day}.",
    "The smart meter shows readings {n} times higher than my real usage.",
    "You promised a call back on {day} and it never came.",
    "A direct debit of £{amount} was taken after I cancelled the agreement.",
    "My personal details were sent to the wrong address.",
    "The replacement card arrived broken and the second one never arrived.",
    "I was kept on hold for {n} minutes and then cut off.",
    "The interest charged does not match the rate in my agreement.",
    "An engineer missed the appointment on {day} and I took the day off work.",
    "A payment of £{amount} I made has not reached the account.",
    "Letters keep arriving in a name that is not mine.",
    "The fraud team blocked my card abroad and nobody answered the emergency number.",
    "I was given wrong information about early repayment charges.",
]
RESOLUTION_TEXTS = {
    "refund": "We will refund the amount charged in error.",
    "replacement": "We will send a replacement at no cost.",
    "corrective_action": "We have corrected the account and the records.",
    "service_adjustment": "We have adjusted the service as you asked.",
    "apology": "We are sorry; here is what went wrong and what we changed.",
    "compensation": "We will pay compensation for the inconvenience caused.",
    "no_fault": "We looked carefully and found the charges were correct.",
}
CHANNELS = ["email", "phone", "web", "in_person", "letter", "social_media"]
CHANNEL_WEIGHTS = [30, 25, 20, 10, 8, 7]
ACK_METHODS = ["email", "phone", "letter", "in_person", "social_media"]
ACK_METHOD_WEIGHTS = [50, 30, 5, 10, 5]
COMPLEXITIES = ["simple", "standard", "complex"]
COMPLEXITY_WEIGHTS = [30, 55, 15]
# Days from investigation to proposal, by complexity.
RESOLVE_DAYS = {"simple": (0.3, 3.0), "standard": (2.0, 12.0), "complex": (5.0, 30.0)}

# Stage values as plain strings: what COPY writes.
PATH = [stage.value for stage in Stage]
RECEIVED, ACKNOWLEDGED, INVESTIGATING, RESOLVED, FOLLOW_UP, DOCUMENTED, REVIEWED = PATH
MANAGER = "manager"
SECOND, MINUTE, HOUR, DAY = (
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
)
WARNING = timedelta(hours=settings.ACKNOWLEDGMENT_WARNING_HOURS)


@dataclass
class Context:
    """What the measurements need to know about the loaded data."""

    size: int
    due: int
    personas: dict
    surname: str
    surname_matches: int
    reference: str
    detail_pk: int
    phone_national: str = ""
    clients: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def client(self, persona):
        if persona not in self.clients:
            client = Client()
            client.force_login(self.personas[persona])
            self.clients[persona] = client
        return self.clients[persona]


# Loading ----------------------------------------------------------------------------------


class Table:
    """One table written with binary COPY. Its columns come from the model, so a column added
    later with a default (or blank) is filled with that default instead of breaking the load."""

    def __init__(self, model):
        self.model = model
        self.name = model._meta.db_table
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.pk = model._meta.pk.column
        self.missing = None
        self.next_id = 1

    def take_id(self):
        value = self.next_id
        self.next_id += 1
        return value

    def copy(self, rows):
        if not rows:
            return
        if self.missing is None:
            self.missing = [f for f in self.fields if f.column not in rows[0]]
        values_of = operator.itemgetter(*self.columns)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in self.columns)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attnum > 0 AND NOT attisdropped",
                [self.name],
            )
            types = dict(cursor.fetchall())
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {quote(self.name)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types([types[c] for c in self.columns])
            for values in rows:
                for f in self.missing:
                    values[f.column] = f.get_default()
                copy.write_row(values_of(values))

    def reset_sequence(self):
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), "
                    "(SELECT coalesce(max({}), 0) + 1 FROM {}), false)"
                ).format(sql.Identifier(self.pk), sql.Identifier(self.name)),
                [self.name, self.pk],
            )

    def dangling_references(self):
        """Rows whose foreign keys point nowhere (the load skips the per-row checks)."""
        found = 0
        with connection.cursor() as cursor:
            for f in self.fields:
                if not (f.is_relation and f.db_constraint):
                    continue
                target = f.related_model._meta
                cursor.execute(
                    sql.SQL(
                        "SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "
                        "AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.{target_pk} = t.{column})"
                    ).format(
                        table=sql.Identifier(self.name),
                        column=sql.Identifier(f.column),
                        target=sql.Identifier(target.db_table),
                        target_pk=sql.Identifier(target.pk.column),
                    )
                )
                found += cursor.fetchone()[0]
        return found


def tables():
    return {
        model._meta.model_name: Table(model)
        for model in (
            Complaint,
            StageChange,
            Complaint.history.model,
            Resolution,
            Feedback,
            Consultation,
        )
    }


class Generator:
    """Complaints as the services would have left them, from a fixed seed."""

    def __init__(self, size, now, staff, lists, seed=SEED):
        self.rng = random.Random(seed)  # noqa: S311  (test data from a fixed seed)  # nosec B311
        self.size = size
        self.now = now
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.csrs = [u.pk for u in staff if u.role == Role.CSR]
        self.resolvers = [u.pk for u in staff if u.role == Role.RESOLVER]
        self.managers = [u.pk for u in staff if u.role == Role.MANAGER]
        self.categories, self.products, self.root_causes = lists
        self.tables = tables()
        self.reference_numbers = {}
        self.targets = {
            name: clocks.ClockSpec(*spec) for name, spec in settings.RESOLUTION_TARGETS.items()
        }
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

    def target_date(self, local_day, complexity):
        spec = self.targets[complexity]
        if spec.unit == clocks.BUSINESS_DAYS:
            return clocks.add_business_days(local_day, spec.amount)
        return local_day + timedelta(days=spec.amount)

    def local_midnight(self, day):
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)

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
        year = local.year
        number = self.reference_numbers.get(year, 0) + 1
        self.reference_numbers[year] = number
        target = self.target_date(local.date(), complexity)
        ack_due = received_at + timedelta(hours=settings.ACKNOWLEDGMENT_HOURS)
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
            "reviewed_at": None,
            "closed_at": None,
            "reopen_count": 0,
            "feedback_waived_reason": "",
            "created_at": received_at,
            "updated_at": received_at,
            "assignee_id": rng.choice(self.csrs) if rng.random() < 0.15 else None,
            "category_id": rng.choice(self.categories),
            "escalated_by_id": None,
            "logged_by_id": logged_by,
            "product_id": rng.choice(self.products) if rng.random() < 0.9 else None,
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
        if unacknowledged_until > received_at + WARNING:
            c["acknowledgment_warned_at"] = received_at + WARNING + rng.uniform(0, 300) * SECOND
            events.append(c["acknowledgment_warned_at"])
        if not due_backlog and unacknowledged_until > ack_due:
            breached = min(ack_due + rng.uniform(0, 300) * SECOND, now)
            c["acknowledgment_breached_at"] = breached
            self.escalate(c, MANAGER, jobs.ACK_BREACH_REASON, breached, None)
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
        # The resolution-target job flags what is still unresolved the day after the target.
        flagged_at = max(self.local_midnight(target + DAY) + 5 * MINUTE, received_at)
        unresolved_until = moments[2] if reached >= 3 else now
        if flagged_at <= now and unresolved_until > flagged_at:
            c["resolution_overdue_at"] = flagged_at
            if c["escalation_level"] != MANAGER:
                self.escalate(c, MANAGER, jobs.TARGET_REASON, flagged_at, None)
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
            note = "Resolution implemented"
            changes.append((RESOLVED, FOLLOW_UP, assignee, started, note))
            reason = note
            self.follow_up(c, moments, rows, detailed)
        if reached >= 5:
            documented = moments[4]
            c["documented_at"] = documented
            c["root_cause_id"] = c["root_cause_id"] or rng.choice(self.root_causes)
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


def create_staff():
    User = get_user_model()
    staff = []
    for index, (username, role) in enumerate(STAFF):
        first = FIRST_NAMES[(index * 7) % len(FIRST_NAMES)]
        user = User(
            username=username,
            first_name=first,
            last_name=COMMON_SURNAMES[40 + index],
            email=f"{username}@example.com",
            role=role,
        )
        user.set_unusable_password()
        user.save()
        staff.append(user)
    admin = User(username="admin", email="admin@example.com", is_superuser=True)
    admin.set_unusable_password()
    admin.save()
    return staff


def create_lists():
    return (
        [Category.objects.create(name=name).pk for name in CATEGORIES],
        [Product.objects.create(name=name).pk for name in PRODUCTS],
        [RootCause.objects.create(name=name).pk for name in ROOT_CAUSES],
    )


def load(size, out, seed=SEED):
    """Fill the (empty, migrated) database; return the Context the measurements use."""
    started = time.perf_counter()
    now = timezone.now()
    staff = create_staff()
    generator = Generator(size, now, staff, create_lists(), seed)
    arrivals, due = generator.arrivals()
    out(f"Loading {size:,} complaints ({due:,} with the acknowledgment deadline passed)...")

    def generate(start):
        rows = {name: [] for name in generator.tables}
        for offset, (received_at, due_backlog) in enumerate(arrivals[start : start + CHUNK]):
            complaint = generator.complaint(start + offset + 1, received_at, due_backlog, rows)
            rows["complaint"].append(complaint)
        return rows

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        # The foreign keys are checked once at the end instead of row by row (superusers only).
        with contextlib.suppress(DatabaseError), transaction.atomic():
            cursor.execute("SET session_replication_role TO replica")
    counts = dict.fromkeys(generator.tables, 0)
    # The next chunk is generated while PostgreSQL takes in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(generate, 0)
        for start in range(0, size, CHUNK):
            rows = pending.result()
            if start + CHUNK < size:
                pending = pool.submit(generate, start + CHUNK)
            with transaction.atomic():
                for name, table in generator.tables.items():
                    table.copy(rows[name])
                    counts[name] += len(rows[name])
            done = min(start + CHUNK, size)
            out(f"  {done:>9,} complaints  {time.perf_counter() - started:6.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role TO DEFAULT")
        cursor.execute("SET synchronous_commit TO DEFAULT")
    out("  " + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
    dangling = sum(table.dangling_references() for table in generator.tables.values())
    if dangling:
        raise RuntimeError(f"{dangling} loaded rows refer to rows that do not exist")
    for table in generator.tables.values():
        table.reset_sequence()
    ReferenceCounter.objects.bulk_create(
        ReferenceCounter(year=year, last_number=number)
        for year, number in generator.reference_numbers.items()
    )
    detail = timeline_complaint(staff)
    out(f"  rows written and checked in {time.perf_counter() - started:.0f} s; VACUUM ANALYZE...")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    elapsed = time.perf_counter() - started
    out(f"Loaded in {elapsed:.0f} s.")
    return context(size, due, detail_pk=detail.pk, load_seconds=elapsed)


def rearm_due():
    """Undo what an earlier run's sweep did to the due complaints, so a rerun on the same data
    (--reuse) times the same work. The loader's own breaches are stamped a few minutes after
    the deadline; a sweep's come later."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE complaints_complaint SET acknowledgment_breached_at = NULL, "
            "escalation_level = '', escalation_reason = '', escalated_at = NULL, "
            "escalated_by_id = NULL WHERE stage = 'received' AND escalation_reason = %s "
            "AND acknowledgment_breached_at > acknowledgment_due_at + interval '10 minutes'",
            [jobs.ACK_BREACH_REASON],
        )
        rearmed = cursor.rowcount
        cursor.execute("VACUUM (ANALYZE) complaints_complaint")
    return rearmed


def context(size, due, *, detail_pk=None, load_seconds=None):
    User = get_user_model()
    personas = {
        "csr": User.objects.get(username="csr01"),
        "resolver": User.objects.get(username="resolver01"),
        "manager": User.objects.get(username="manager01"),
    }
    if detail_pk is None:
        detail_pk = Complaint.objects.get(external_reference=TIMELINE_REFERENCE).pk
    reference = (
        Complaint.objects.filter(stage=Stage.REVIEWED, id__gte=size // 2)
        .order_by("id")
        .values_list("reference", flat=True)
        .first()
    )
    matches = selectors.complaints_search(Complaint.objects.all(), BENCH_SURNAME).count()
    # As a customer reads it out: "07700 9..." for the stored "+44 7700 9...".
    phone = (
        Complaint.objects.filter(id__gte=size // 2)
        .exclude(customer_phone="")
        .order_by("id")
        .values_list("customer_phone", flat=True)
        .first()
    ) or "+44 7700 900000"
    ctx = Context(
        size=size,
        due=due,
        personas=personas,
        surname=BENCH_SURNAME,
        surname_matches=matches,
        reference=reference,
        detail_pk=detail_pk,
        phone_national=quote_plus("0" + phone.removeprefix("+44 ")),
    )
    if load_seconds is not None:
        ctx.notes["load_seconds"] = round(load_seconds, 1)
    return ctx


def timeline_complaint(staff):
    """One complaint walked through the real services, so its page shows a real timeline."""
    by_name = {u.username: u for u in staff}
    csr, resolver, colleague = by_name["csr01"], by_name["resolver01"], by_name["resolver02"]
    manager = by_name["manager01"]
    received = timezone.now() - timedelta(days=6)
    complaint = services.complaint_create(
        actor=csr,
        received_at=received,
        data={
            "external_reference": TIMELINE_REFERENCE,
            "customer_name": "Eleanor Walker",
            "customer_email": "eleanor.walker@example.com",
            "customer_phone": "+44 7700 900321",
            "date_of_complaint": timezone.localdate(received),
            "description": COMPLAINT_TEXTS[0].format(day="3 November", amount=45, n=2),
            "interaction_details": "Customer phoned the helpline.",
            "channel": "phone",
            "category": Category.objects.get(name="Billing error"),
            "product": Product.objects.get(name="Credit card"),
            "complexity": "standard",
        },
    )
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.complaint_acknowledge(
        complaint, actor=csr, method="phone", at=received + timedelta(hours=2)
    )
    services.note_add(complaint, actor=csr, text="Customer sent a copy of the statement.")
    services.complaint_escalate(
        complaint, actor=csr, level="team", reason="Needs the billing investigators."
    )
    services.complaint_assign(complaint, actor=resolver, assignee=resolver)
    services.complaint_transition(complaint, "investigating", actor=resolver)
    services.note_add(complaint, actor=resolver, text="The duplicate charge is confirmed.")
    consultation = services.consultation_request(
        complaint,
        actor=resolver,
        department="Billing operations",
        question="Why did the payment run twice on 3 November?",
        consultee=colleague,
    )
    services.consultation_answer(
        consultation, actor=colleague, answer="A batch was re-run after a timeout."
    )
    services.complaint_update(
        complaint,
        actor=resolver,
        changes={"root_cause": RootCause.objects.get(name="System error")},
    )
    services.resolution_propose(
        complaint,
        actor=resolver,
        type="compensation",
        amount=Decimal("750.00"),
        description="We will refund the duplicate charge and pay £705 for the trouble caused.",
    )
    services.resolution_decide_approval(complaint, actor=manager, approve=True, note="Agreed.")
    services.resolution_record_customer_response(complaint, actor=resolver, accepted=True)
    services.resolution_implement(complaint, actor=resolver, notes="Paid to the card account.")
    services.feedback_record(complaint, actor=csr, score=4, resolved=True, comment="Thank you.")
    return complaint


# Measuring --------------------------------------------------------------------------------


def page(path, persona):
    """A GET as `persona`; `path` may name Context fields: "/complaints/{detail_pk}/"."""

    def run(ctx):
        return ctx.client(persona).get(path.format(**vars(ctx)))

    run.__doc__ = f"GET {path} as {persona}"
    return run


def once(function, prepare=None):
    """A measurement that changes what it measures: run once, after `prepare(ctx)` (untimed)
    has warmed up what a long-running process would have warm, instead of a warm-up run."""

    def run(ctx):
        return function(ctx)

    run.runs = (0, 1)
    run.prepare = prepare
    return run


def escalation_queue(ctx):
    """The manager's escalation queue as the home page builds it, without the rest."""
    return views._queue(
        "Escalation queue",
        selectors.complaints_escalation_queue(ctx.personas["manager"]),
        timezone.now(),
    )


def warm_worker(ctx):
    """What a worker that has run jobs before has ready: an open broker connection and the
    compiled digest templates. Without it the one timed sweep pays for Celery's imports."""
    from complaints.tasks import relay_outbox

    with contextlib.suppress(Exception):
        relay_outbox.delay()
    context = {"headline": "", "complaints": [], "site_url": settings.SITE_URL}
    for template in ("staff_digest_subject.txt", "staff_digest.txt", "staff_digest.html"):
        render_to_string(f"emails/{template}", context)


def ack_sweep(ctx):
    summary = jobs.enforce_acknowledgment_deadline(timezone.now())
    ctx.notes.setdefault("ack_sweep", []).append(summary)
    return summary


def monthly_report(ctx):
    """Build (or rebuild) the last closed month's trend report over the whole table."""
    start, _ = report_services.last_closed("monthly", timezone.localdate())
    return report_services.report_build("monthly", start)


monthly_report.runs = (0, 3)

CFPB_FILE = settings.BASE_DIR.parent / "shared" / "data" / "cfpb" / "complaints.csv.gz"
CFPB_ROWS = 98_706


def cfpb_import(ctx):
    """The shared CFPB file into the loaded table; the target is 5,000 rows a second."""
    report = import_cfpb(str(CFPB_FILE))
    ctx.notes.setdefault("cfpb_import", []).append(report.summary())
    return report


# Run in this order. The sweep comes first: it turns the backlog of missed acknowledgments into
# the steady state the pages then show (breached complaints escalated to the managers).
MEASUREMENTS = [
    ("ack sweep: size/100 due", 2000, once(ack_sweep, prepare=warm_worker)),
    ("ack sweep: none due", 50, ack_sweep),
    ("CSR home", 50, page("/", "csr")),
    ("resolver home", 50, page("/", "resolver")),
    ("manager home (with dashboard)", 150, page("/", "manager")),
    ("manager escalation queue", 50, escalation_queue),
    ("dashboard", 150, lambda ctx: dashboard()),
    ("search: surname", 50, page("/complaints/?q={surname}&stage=all", "manager")),
    ("search: reference", 50, page("/complaints/?q={reference}&stage=all", "manager")),
    (
        "search: phone, national format",
        50,
        page("/complaints/?q={phone_national}&stage=all", "manager"),
    ),
    ("complaint page", 30, page("/complaints/{detail_pk}/", "manager")),
    ("monthly trend report", 5000, monthly_report),
    # Last: it adds 98,706 complaints to what the rows above measured.
    ("CFPB import (98,706 rows)", CFPB_ROWS / 5000 * 1000, once(cfpb_import)),
]
WARMUP, SAMPLES = 3, 30
SLOW, FEW = 10, 3  # a warm-up run over SLOW x target (and 1 s) cuts the row to FEW samples


@dataclass
class Result:
    name: str
    size: int
    median_ms: float
    p95_ms: float
    queries: int
    target_ms: float
    sql_ms: float = 0.0
    samples: int = 0
    slowest: list = field(default_factory=list)
    error: str = ""

    @property
    def ok(self):
        return not self.error and self.p95_ms <= self.target_ms

    def as_dict(self):
        keys = ("name", "size", "median_ms", "p95_ms", "queries", "target_ms")
        return {key: getattr(self, key) for key in keys}


def _check(name, value):
    if isinstance(value, HttpResponse) and value.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {value.status_code}, expected 200")


def measure(ctx, name, target_ms, function, *, warmup=WARMUP, samples=SAMPLES):
    """Median and 95th percentile of `samples` timed runs after `warmup` untimed ones.

    Queries are counted (and the slowest kept, for EXPLAIN) on the warm-up runs, so the timed
    runs carry no query-logging overhead; a run-once measurement counts on its only run.
    """
    warmup, samples = getattr(function, "runs", (warmup, samples))
    if getattr(function, "prepare", None):
        function.prepare(ctx)
    queries = []

    def run(count):
        if not count:
            clock = time.perf_counter()
            _check(name, function(ctx))
            return (time.perf_counter() - clock) * 1000
        with CaptureQueriesContext(connection) as captured:
            clock = time.perf_counter()
            _check(name, function(ctx))
            elapsed = (time.perf_counter() - clock) * 1000
        # Copied now: the next request outside the context clears the connection's log.
        queries[:] = captured.captured_queries
        return elapsed

    for _ in range(warmup):
        if run(count=True) > max(SLOW * target_ms, 1000):
            # Far over target (a bad plan, say): a few samples say so; thirty would take
            # minutes. The queries of this run are the ones counted and explained.
            samples = min(samples, FEW)
            break
    times = sorted(run(count=warmup == 0 and index == 0) for index in range(samples))
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    slowest = sorted(queries, key=lambda q: float(q["time"]), reverse=True)
    return Result(
        name=name,
        samples=len(times),
        size=ctx.size,
        median_ms=round(statistics.median(times), 1),
        p95_ms=round(p95, 1),
        queries=len(queries),
        target_ms=target_ms,
        sql_ms=sum(float(q["time"]) for q in queries) * 1000,
        slowest=slowest[:3],
    )


def explain(sql):
    """EXPLAIN ANALYZE of one captured statement, in a transaction that is rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def table(results):
    header = ("name", "size", "median_ms", "p95_ms", "queries", "target_ms", "ok")
    lines = [
        (
            r.name,
            f"{r.size:,}",
            *(
                ("-", "-", "-")
                if r.error
                else (f"{r.median_ms:.1f}", f"{r.p95_ms:.1f}", str(r.queries))
            ),
            f"{r.target_ms:g}",
            "ERROR" if r.error else "yes" if r.ok else "NO",
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return "  ".join(
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def write_results(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
