"""What is timed: MEASUREMENTS, the rows of the table as (name, target_ms, callable).

A callable takes the `Context` and does one request or one job run; `once(callable)` marks one
that can run only once (it changes what it measures). Later issues append their rows here.
"""

import contextlib
import shutil
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from complaints import mailboxes, selectors, tasks
from complaints.clocks import sweeps
from complaints.imports import import_cfpb
from complaints.models import Complaint
from complaints.services import inbound
from complaints.web import home
from complaints.workflow import OPEN_STAGE_VALUES
from reports import services as report_services
from reports.selectors import dashboard
from tests.bench.timing import once


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


def ack_sweep(ctx):
    summary = sweeps.enforce_acknowledgment_deadline(timezone.now())
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
    ("inbound: 1,000 emails threaded or logged", 30_000, once(inbound_mail, write_inbound_mail)),
    ("monthly trend report", 5000, monthly_report),
    # Last: it adds 98,706 complaints to what the rows above measured.
    ("CFPB import (98,706 rows)", CFPB_ROWS / 5000 * 1000, once(cfpb_import)),
]
