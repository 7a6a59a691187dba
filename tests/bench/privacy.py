"""The data-protection rows: chaining and verifying the record of every case, and the
retention job anonymising a tenth of the table while intake goes on beside it."""

import statistics
import threading
import time
from unittest import mock

from django.db import connection
from django.utils import timezone

from complaints import services
from complaints.models import Category, Complaint, RetentionPolicy
from complaints.selectors.record import record_verify
from complaints.services import retention
from complaints.services.record import record_chain_extend
from complaints.services.retention import complaints_anonymise, retention_apply
from complaints.workflow import Stage


def chain_every_case(ctx):
    """The chaining job's first run over a table nobody chained yet (a one-off on upgrade)."""
    summary = record_chain_extend()
    ctx.notes.setdefault("chain", []).append(summary)
    return summary


def retention_policy_for_a_tenth(ctx):
    """A policy whose anonymisation date falls after the oldest tenth of the closed cases."""
    closed = Complaint.objects.filter(stage=Stage.REVIEWED).order_by("closed_at")
    boundary = closed.values_list("closed_at", flat=True)[ctx.size // 10]
    days = (timezone.now() - boundary).days + 1
    RetentionPolicy.objects.update_or_create(
        product=None,
        active=True,
        defaults={
            "name": "Bench: closed cases",
            "minimum_days": days,
            "anonymise_after_days": days,
            "source": "bench",
        },
    )


class Intake(threading.Thread):
    """Logs complaints one after another on its own connection, timing each, until stopped:
    what the CSRs feel while the retention job runs."""

    def __init__(self, actor):
        super().__init__(daemon=True)
        self.actor = actor
        self.times = []
        self.stopping = threading.Event()

    def run(self):
        category = Category.objects.first()
        try:
            while not self.stopping.is_set():
                clock = time.perf_counter()
                services.complaint_create(
                    actor=self.actor,
                    data={
                        "customer_name": "Intake During Retention",
                        "customer_email": "",
                        "date_of_complaint": timezone.localdate(),
                        "description": "Logged while the retention job runs.",
                        "channel": "phone",
                        "category": category,
                        "complexity": "standard",
                    },
                )
                self.times.append((time.perf_counter() - clock) * 1000)
                time.sleep(0.05)
        finally:
            connection.close()

    def p95(self):
        if len(self.times) < 2:
            return self.times[0] if self.times else None
        return round(statistics.quantiles(self.times, n=20, method="inclusive")[18], 1)


class BatchTimes:
    """Times each batch's transaction: how long its cases' rows stay locked."""

    def __init__(self):
        self.times = []

    def __call__(self, *args, **kwargs):
        clock = time.perf_counter()
        try:
            return complaints_anonymise(*args, **kwargs)
        finally:
            self.times.append((time.perf_counter() - clock) * 1000)


def anonymise_a_tenth(ctx):
    intake = Intake(ctx.personas["csr"])
    batches = BatchTimes()
    intake.start()
    try:
        with mock.patch.object(retention, "complaints_anonymise", batches):
            summary = retention_apply()
    finally:
        intake.stopping.set()
        intake.join(timeout=30)
    ctx.notes.setdefault("retention", []).append(
        {
            **summary,
            "intake_p95_ms": intake.p95(),
            "intake_median_ms": round(statistics.median(intake.times), 1) if intake.times else None,
            "intake_samples": len(intake.times),
            "batches": len(batches.times),
            "batch_ms_median": round(statistics.median(batches.times)) if batches.times else None,
            "batch_ms_max": round(max(batches.times)) if batches.times else None,
        }
    )
    return summary


def chain_seals(ctx):
    """The anonymisations' seals join their chains before the verification reads them."""
    record_chain_extend()


def verify_every_case(ctx):
    result = record_verify()
    ctx.notes.setdefault("verify", []).append(
        {"cases": result.cases, "links": result.links, "breaks": len(result.breaks)}
    )
    if not result.intact:
        raise RuntimeError(f"{len(result.breaks)} breaks in the record: {result.breaks[:3]}")
    return result
