"""What is timed: MEASUREMENTS, the rows of the table as (name, target_ms, callable).

A callable takes the `Context` and does one request or one job run; `once(callable)` marks one
that can run only once (it changes what it measures). Later issues append their rows here.
"""

import contextlib
import secrets
import shutil
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from complaints import mailboxes, selectors, services, tasks
from complaints.clocks import sweeps
from complaints.imports import import_cfpb
from complaints.models import Category, Complaint, Product, RegulatoryProfile
from complaints.services import inbound
from complaints.web import home
from complaints.workflow import OPEN_STAGE_VALUES
from reports import returns
from reports import services as report_services
from reports.selectors import dashboard
from tests.bench import dataset, privacy
from tests.bench.timing import once

# What a CSR types into the intake form, and a customer into the public one.
INTAKE_FORM = {
    "channel": "phone",
    "customer_name": "Priya Shah",
    "customer_email": "priya.shah@example.com",
    "customer_phone": "07700 900123",
    "transaction_reference": "TX-4471",
    "complexity": "standard",
    "description": "I was charged twice for one purchase and nobody has explained why.",
    "interaction_details": "Phoned the helpline on Monday morning.",
}


def _intake_form(ctx, **extra):
    # A fresh one-time token each time: every request logs a new complaint.
    return {
        **INTAKE_FORM,
        "date_of_complaint": timezone.localdate().isoformat(),
        "category": ctx.intake_category,
        "product": ctx.intake_product,
        "submission": secrets.token_urlsafe(24),
        **extra,
    }


def _logged(response):
    if response.status_code != 302:
        raise RuntimeError(f"intake answered {response.status_code}, expected a redirect")


def intake_staff_form(ctx):
    """A CSR logs a phone complaint with the staff form (history, stage change, outbox)."""
    client = ctx.client("csr")
    _logged(client.post("/complaints/new/", _intake_form(ctx)))
    # A browser follows the redirect, which shows "logged" and empties the messages cookie.
    client.cookies.pop("messages", None)


def intake_public_form(ctx):
    """A customer sends the public form (each from an address of its own: the rate limit
    counts per address)."""
    client = ctx.client("public")
    address = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    data = _intake_form(ctx, website="")
    data.pop("channel")
    data.pop("complexity")
    data.pop("interaction_details")
    _logged(client.post("/complain/", data, REMOTE_ADDR=address))


def intake_api(ctx):
    """An integrating system logs a complaint through the API with an Idempotency-Key."""
    data = _intake_form(ctx)
    data.pop("submission")
    response = ctx.api_client().post(
        "/api/v1/complaints/",
        data,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=secrets.token_urlsafe(24),
    )
    if response.status_code != 201:
        raise RuntimeError(f"API intake answered {response.status_code}: {response.content[:300]}")


CONVERSATION_MESSAGES = 200


def conversation_complaint(ctx):
    """A complaint with a 200-message conversation, made through the services as people
    would: a CSR's replies by email and the customer's answers on their link, in turn."""
    if "conversation_pk" in ctx.notes:
        return
    csr = ctx.personas["csr"]
    complaint = services.complaint_create(
        actor=csr,
        data={
            **INTAKE_FORM,
            "date_of_complaint": timezone.localdate(),
            "category": Category.objects.get(pk=ctx.intake_category),
            "product": Product.objects.get(pk=ctx.intake_product),
        },
    )
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    for turn in range(CONVERSATION_MESSAGES // 2):
        services.reply_send(
            complaint,
            actor=csr,
            subject=f"Your complaint: question {turn + 1}",
            text=f"Could you tell us more about the charge on day {turn + 1}?",
            token=secrets.token_hex(16),
        )
        services.inbound_receive_from_link(
            complaint,
            text=f"It was a card payment, the {turn + 1}th of the month.",
            token=secrets.token_hex(16),
        )
    ctx.notes["conversation_pk"] = complaint.pk


def conversation_page(ctx):
    """The complaint page of a case whose conversation holds 200 messages."""
    return ctx.client("manager").get(f"/complaints/{ctx.notes['conversation_pk']}/")


conversation_page.prepare = conversation_complaint


def page(path, persona):
    """A GET as `persona`; `path` may name Context fields: "/complaints/{detail_pk}/"."""

    def run(ctx):
        return ctx.client(persona).get(path.format(**vars(ctx)))

    run.__doc__ = f"GET {path} as {persona}"
    return run


def escalation_queue(ctx):
    """The manager's escalation queue as the home page builds it, without the rest."""
    return home.queue_section(
        "Escalation queue",
        selectors.complaints_escalation_queue(ctx.personas["manager"]),
        timezone.now(),
    )


def warm_worker(ctx):
    """What a worker that has run jobs before has ready: an open broker connection and the
    compiled digest templates. Without it the one timed sweep pays for Celery's imports."""
    with contextlib.suppress(Exception):
        tasks.relay_outbox.delay()
    context = {"headline": "", "complaints": [], "site_url": settings.SITE_URL}
    for template in ("staff_digest_subject.txt", "staff_digest.txt", "staff_digest.html"):
        render_to_string(f"emails/{template}", context)
    # A digest links its complaints: the first reverse() in a process imports every view
    # (0.5 to 1 s, most of it the subject-access PDF's fpdf), once per worker, not per sweep.
    reverse("home")


def ack_sweep(ctx):
    summary = sweeps.enforce_acknowledgment_deadline(timezone.now())
    ctx.notes.setdefault("ack_sweep", []).append(summary)
    return summary


def clock_sweep(ctx):
    """The generic sweep over every clock row (about two per complaint here)."""
    summary = sweeps.enforce_clocks(timezone.now())
    ctx.notes.setdefault("clock_sweep", []).append(summary)
    return summary


def due_again(ctx):
    """The acknowledgment sweep before took the due backlog; the generic sweep gets it back."""
    ctx.notes["clocks_due_again"] = dataset.rearm_due()
    warm_worker(ctx)


def monthly_report(ctx):
    """Build (or rebuild) the last closed month's trend report over the whole table."""
    start, _ = report_services.last_closed("monthly", timezone.localdate())
    return report_services.report_build("monthly", start)


monthly_report.runs = (0, 3)


def half_year_return(code):
    """A profile's return for the last half-year that has ended, its validation included,
    as the Returns page produces it: the house profile's FCA return (outstanding, opened,
    closed by band, upheld, redress, by grouping), ASIC's IDR report (a row per complaint) or
    the CFPB export (a row per complaint received). The generator puts seven cases in ten
    under the house rules, two under ASIC and one under the CFPB."""

    def run(ctx):
        profile = RegulatoryProfile.objects.select_related("calendar").get(code=code)
        first, last = returns.last_half_year(timezone.localdate())
        contents = returns.return_contents(profile, returns.period_of(profile, first, last))
        ctx.notes.setdefault("returns", {})[code] = (contents.records, len(contents.problems))
        return contents

    run.__doc__ = f"The {code} profile's return for the last half-year"
    run.runs = (0, 3)
    return run


CFPB_FILE = settings.BASE_DIR.parent / "shared" / "data" / "cfpb" / "complaints.csv.gz"
CFPB_ROWS = 98_706


def cfpb_import(ctx):
    """The shared CFPB file into the loaded table; the target is 5,000 rows a second."""
    report = import_cfpb(str(CFPB_FILE))
    ctx.notes.setdefault("cfpb_import", []).append(report.summary())
    return report


INBOUND_MESSAGES = 1000


def write_inbound_mail(ctx):
    """1,000 emails in a drop folder: four in five customers' replies naming their open
    complaint in the subject (each found among the million), one in five new complaints."""
    folder = Path(tempfile.mkdtemp(prefix="redress-bench-inbox-"))
    open_complaints = list(
        Complaint.objects.filter(stage__in=OPEN_STAGE_VALUES)
        .exclude(customer_email="")
        .order_by("-id")
        .values_list("reference", "customer_email")[: INBOUND_MESSAGES * 4 // 5]
    )
    for index in range(INBOUND_MESSAGES):
        message = EmailMessage()
        if index < len(open_complaints):
            reference, email = open_complaints[index]
            message["From"], message["Subject"] = email, f"Re: your complaint {reference}"
        else:
            message["From"], message["Subject"] = f"new{index}@example.net", "A new complaint"
        message["To"] = "complaints@example.com"
        message["Message-ID"] = f"<bench-{index}-{time.time_ns()}@example.net>"
        message.set_content(f"Message {index}: the charge is still on my statement.\n" * 5)
        (folder / f"{index:05}.eml").write_bytes(message.as_bytes())
    ctx.notes["inbound_folder"] = str(folder)


def inbound_mail(ctx):
    """The mailbox job's work for 1,000 emails, through the one inbound service: as many runs
    as it takes (each takes mailboxes.BATCH)."""
    stored = 0
    while run := mailboxes.drop_folder_poll(ctx.notes["inbound_folder"], inbound._receive_or_keep)[
        "stored"
    ]:
        stored += run
    summary = {"stored": stored}
    ctx.notes.setdefault("inbound", []).append(summary)
    shutil.rmtree(ctx.notes["inbound_folder"], ignore_errors=True)
    return summary


# Run in this order. The sweep comes first: it turns the backlog of missed acknowledgments into
# the steady state the pages then show (breached complaints escalated to the managers).
MEASUREMENTS = [
    ("ack sweep: size/100 due", 2000, once(ack_sweep, prepare=warm_worker)),
    ("ack sweep: none due", 50, ack_sweep),
    ("clock sweep: size/100 due", 2000, once(clock_sweep, prepare=due_again)),
    ("clock sweep: none due", 50, clock_sweep),
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
    (
        "search: most frequent word",
        50,
        page("/complaints/?q={frequent_word}&stage=all", "manager"),
    ),
    (
        "search: two-word phrase",
        50,
        page("/complaints/?q={phrase}&stage=all", "manager"),
    ),
    (
        "search: common word, newest first",
        50,
        page("/complaints/?q=overdraft&stage=all&sort=-received", "manager"),
    ),
    ("complaint page (50 events)", 15, page("/complaints/{detail_pk}/", "manager")),
    # Targets of issue 24: a median of 10 ms or less, a p95 under 16 ms.
    ("intake: staff form", 16, intake_staff_form),
    ("intake: public form", 16, intake_public_form),
    ("intake: API", 16, intake_api),
    ("complaint page", 30, page("/complaints/{detail_pk}/", "manager")),
    ("complaint page (200 messages)", 50, conversation_page),
    ("inbound: 1,000 emails threaded or logged", 30_000, once(inbound_mail, write_inbound_mail)),
    ("monthly trend report", 5000, monthly_report),
    # Issue 21: each regulator's half-year return, validation report included.
    ("FCA return: half-year", 10_000, half_year_return("house")),
    ("ASIC IDR report: half-year", 10_000, half_year_return("asic")),
    ("CFPB export: half-year", 10_000, half_year_return("cfpb")),
    # Data protection (docs/data-protection.md). The first chaining of a table nobody chained
    # is a one-off on upgrade; anonymising a tenth of the cases runs with intake timed beside
    # it (its p95 is printed after the table); verification reads every link and seal.
    ("record: chain every case (first run)", 300_000, once(privacy.chain_every_case)),
    (
        "retention: anonymise size/10 closed cases",
        60_000,
        once(privacy.anonymise_a_tenth, prepare=privacy.retention_policy_for_a_tenth),
    ),
    (
        "record: verify every case",
        120_000,
        once(privacy.verify_every_case, prepare=privacy.chain_seals),
    ),
    # Last: it adds 98,706 complaints to what the rows above measured.
    ("CFPB import (98,706 rows)", CFPB_ROWS / 5000 * 1000, once(cfpb_import)),
]
