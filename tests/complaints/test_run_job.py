"""`manage.py run_job NAME` and the operators' page that shows what each job last did."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from complaints import jobs
from complaints.clocks import sweeps
from complaints.models import Complaint, JobRun
from tests import factories

pytestmark = pytest.mark.django_db


def overdue_complaint(actor, hours_ago=25):
    received_day = timezone.localdate(timezone.now() - timedelta(hours=hours_ago))
    return factories.complaint(actor, hours_ago=hours_ago, date_of_complaint=received_day)


@pytest.fixture
def manager_with_email(manager):
    manager.email = "manager@staff.example.com"
    manager.save(update_fields=["email"])
    return manager


def test_run_job_runs_the_job_and_prints_its_summary(csr, manager_with_email):
    complaint = overdue_complaint(csr)
    out = StringIO()

    call_command("run_job", "enforce_acknowledgment_deadline", stdout=out)

    [record] = JobRun.objects.filter(name="enforce_acknowledgment_deadline")
    assert record.summary["breached"] == 1
    assert record.summary["notifications"] >= 1
    assert record.finished_at is not None
    assert record.duration_ms is not None
    assert out.getvalue().strip() == (
        f"enforce_acknowledgment_deadline: {json.dumps(record.summary, sort_keys=True)}"
    )
    line = out.getvalue().strip()
    assert json.loads(line.split(": ", 1)[1]) == record.summary
    assert Complaint.objects.get(pk=complaint.pk).escalation_level == "manager"

    # A second run finds nothing to do, and says so.
    out = StringIO()
    call_command("run_job", "enforce_acknowledgment_deadline", stdout=out)
    assert out.getvalue().strip() == (
        'enforce_acknowledgment_deadline: {"breached": 0, "notifications": 0, "warned": 0}'
    )
    assert JobRun.objects.filter(name="enforce_acknowledgment_deadline").count() == 2


def test_run_job_with_an_unknown_name_lists_the_jobs():
    with pytest.raises(CommandError) as refusal:
        call_command("run_job", "enforce_everything", stdout=StringIO())

    message = str(refusal.value)
    assert "enforce_everything" in message
    for name in jobs.JOBS:
        assert name in message
    assert not JobRun.objects.exists()


def test_run_job_without_a_name_is_a_usage_error():
    with pytest.raises(CommandError):
        call_command("run_job", stdout=StringIO())


def test_the_jobs_page_shows_the_last_run_to_a_manager(client, csr, manager_with_email):
    overdue_complaint(csr)
    JobRun.objects.create(
        name="enforce_acknowledgment_deadline",
        started_at=timezone.now() - timedelta(days=2),
        finished_at=timezone.now() - timedelta(days=2),
        duration_ms=4,
        summary={"warned": 7, "breached": 7, "notifications": 7},
    )
    call_command("run_job", "enforce_acknowledgment_deadline", stdout=StringIO())
    latest = JobRun.objects.filter(name="enforce_acknowledgment_deadline").first()
    client.force_login(manager_with_email)

    response = client.get(reverse("complaints:jobs"))

    assert response.status_code == 200
    rows = {name: run for name, run, _every in response.context["rows"]}
    assert set(rows) == set(jobs.JOBS)
    assert rows["enforce_acknowledgment_deadline"] == latest
    assert rows["relay_outbox"] is None
    html = response.content.decode()
    assert "enforce_acknowledgment_deadline" in html
    assert f"{latest.duration_ms} ms" in html
    assert f"breached: {latest.summary['breached']}" in html
    assert "breached: 7" not in html  # the older run is not shown
    assert "never" in html  # the jobs that have not run yet


def test_the_jobs_page_shows_a_failed_run_with_its_error(client, manager):
    JobRun.objects.create(
        name="relay_outbox",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        duration_ms=12,
        error="OperationalError: could not connect to server",
    )
    client.force_login(manager)

    response = client.get(reverse("complaints:jobs"))

    assert response.status_code == 200
    assert "OperationalError: could not connect to server" in response.content.decode()


def test_a_csr_cannot_see_the_jobs_page(client, csr):
    client.force_login(csr)

    assert client.get(reverse("complaints:jobs")).status_code == 403


def test_a_resolver_cannot_see_the_jobs_page(client, resolver):
    client.force_login(resolver)

    assert client.get(reverse("complaints:jobs")).status_code == 403


def test_log_late_complaint_is_escalated_by_the_next_sweep_once(settings, manager_with_email):
    settings.DEBUG = True
    factories.category()
    factories.product()
    out = StringIO()

    call_command("log_late_complaint", "--hours-ago", "25", stdout=out)

    [complaint] = Complaint.objects.all()
    assert out.getvalue().startswith(f"{complaint.reference}: received 25 h ago")
    assert complaint.stage == "received"
    assert complaint.assignee is None
    assert complaint.customer_email == ""
    assert timezone.now() - complaint.received_at >= timedelta(hours=25)
    assert sweeps.enforce_acknowledgment_deadline()["breached"] == 1
    assert sweeps.enforce_acknowledgment_deadline()["breached"] == 0
    complaint.refresh_from_db()
    assert complaint.escalation_level == "manager"
    assert complaint.acknowledgment_breached_at is not None


def test_log_late_complaint_refuses_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=1"):
        call_command("log_late_complaint", stdout=StringIO())
    assert not Complaint.objects.exists()
