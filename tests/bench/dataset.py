"""Loading the data set: `load()` fills an empty, migrated database and returns the Context.

It writes staff, managed lists, then `size` complaints with COPY (most closed and reviewed,
some thousands open across the open stages, escalations, acknowledgment and resolution-target
breaches, the size/100 complaints whose acknowledgment deadline has passed unnoticed), with
their stage changes, history, resolutions, feedback and consultations, and one complaint
walked through the real services for a real timeline.
"""

import contextlib
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote_plus

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import ApiTokenScope
from accounts.services import api_token_create
from complaints import demo, selectors, services
from complaints.models import (
    Category,
    Complaint,
    Product,
    ReferenceCounter,
    RegulatoryProfile,
    ReturnGrouping,
    RootCause,
)
from complaints.services.deadlines import ACK_BREACH_REASON
from complaints.workflow import Stage
from tests.bench.generator import PROFILE_OF_COUNTRY, SEED, Generator
from tests.bench.lists import (
    CATEGORIES,
    COMMON_SURNAMES,
    COMPLAINT_TEXTS,
    FIRST_NAMES,
    PRODUCTS,
    ROOT_CAUSES,
    STAFF,
)

CHUNK = 50_000
BENCH_SURNAME = "Walker"  # a common surname (about 0.16% of customers), not the commonest
TIMELINE_REFERENCE = "BENCH-TIMELINE"
# The word most complaints contain, and a phrase (websearch syntax: in quotes, in order).
FREQUENT_WORD = Counter(
    word for text in COMPLAINT_TEXTS for word in set(re.findall(r"[a-z]+", text.lower()))
).most_common(1)[0][0]
PHRASE = "direct debit"
# Issue 24's complaint page: a timeline of this many events.
TIMELINE_EVENTS = 50


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
    frequent_word: str = ""
    phrase: str = ""
    intake_category: int = 0
    intake_product: int = 0
    clients: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def client(self, persona):
        """A client signed in as `persona`; "public" is a visitor's."""
        if persona not in self.clients:
            client = Client()
            if persona != "public":
                client.force_login(self.personas[persona])
            self.clients[persona] = client
        return self.clients[persona]

    def api_client(self):
        """A client carrying an API token of the CSR's (write scope)."""
        if "api" not in self.clients:
            _, key = api_token_create(
                user=self.personas["csr"], name="Benchmark", scope=ApiTokenScope.WRITE
            )
            self.clients["api"] = Client(HTTP_AUTHORIZATION=f"Token {key}")
        return self.clients["api"]


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


def prepare_regulators():
    """The regulators' profiles the generator's customers abroad answer to, switched on, and
    the demo's groupings of our lists for the returns (complaints/demo.py): the bench's two
    extra categories stay unmapped, so each return's validation has records to name."""
    RegulatoryProfile.objects.filter(
        code__in=[code for code in PROFILE_OF_COUNTRY.values() if code]
    ).update(active=True)
    sources = {"product": Product, "category": Category, "root_cause": RootCause}
    for scheme, dimension, kind, name, code, label in demo.RETURN_GROUPINGS:
        source = sources[kind].objects.filter(name=name).first()
        if source is not None:
            ReturnGrouping.objects.create(
                scheme=scheme, dimension=dimension, code=code, label=label, **{kind: source}
            )


def load(size, out, seed=SEED):
    """Fill the (empty, migrated) database; return the Context the measurements use."""
    started = time.perf_counter()
    now = timezone.now()
    staff = create_staff()
    lists = create_lists()
    prepare_regulators()
    generator = Generator(size, now, staff, lists, seed)
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
            [ACK_BREACH_REASON],
        )
        rearmed = cursor.rowcount
        cursor.execute(
            "UPDATE complaints_complaintclock SET breached_at = NULL WHERE stopped_at IS NULL "
            "AND breached_at > due_at + interval '10 minutes' AND definition_id IN "
            "(SELECT id FROM complaints_clockdefinition WHERE role = 'acknowledgment')"
        )
        cursor.execute("VACUUM (ANALYZE) complaints_complaint")
        cursor.execute("VACUUM (ANALYZE) complaints_complaintclock")
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
        frequent_word=FREQUENT_WORD,
        phrase=quote_plus(f'"{PHRASE}"'),
        intake_category=Category.objects.get(name="Billing error", parent=None).pk,
        intake_product=Product.objects.get(name="Credit card", parent=None).pk,
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
    # Notes for the rest, as a long case gathers them.
    loaded = selectors.complaint_detail_queryset().get(pk=complaint.pk)
    for number in range(TIMELINE_EVENTS - len(selectors.complaint_timeline(loaded))):
        services.note_add(complaint, actor=resolver, text=f"Called the customer ({number + 1}).")
    return complaint
