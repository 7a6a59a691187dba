"""The embedded default `make run` falls back to (SQLite, no Redis): the suite runs on
PostgreSQL, so raw SQL written for it (arrays, COPY) could break the first look unseen. This
drives the demo's commands on a SQLite file of its own, in processes of their own, as
`make run` does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CFPB_SAMPLE = Path(__file__).parent / "data" / "cfpb_sample.csv"
JOBS = (
    "enforce_acknowledgment_deadline",
    "enforce_resolution_targets",
    "send_follow_ups",
    "relay_outbox",
    "build_trend_reports",
)


@pytest.fixture(scope="module")
def var(tmp_path_factory):
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(scope="module")
def manage(var):
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{var / 'redress.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "VAR_DIR": str(var / "var"),
        # As `make run` sets: the demo users sign in with a password alone.
        "MFA_ENFORCED": "0",
    }

    def run(*arguments):
        done = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run("migrate", "--no-input")
    run("seed_demo", "--demo", "--cfpb", str(CFPB_SAMPLE))
    return run


def job(manage, name):
    line = manage("run_job", name).strip().splitlines()[-1]
    assert line.startswith(f"{name}: ")
    return json.loads(line.split(": ", 1)[1])


@pytest.mark.integration
def test_the_demo_clock_escalates_a_late_complaint_once_on_sqlite(manage, var):
    reference = manage("log_late_complaint", "--hours-ago", "25").split(":")[0]
    assert reference.startswith("CMP-")

    first = job(manage, "enforce_acknowledgment_deadline")
    again = job(manage, "enforce_acknowledgment_deadline")

    assert (first["breached"], again["breached"]) == (1, 0)
    assert first["notifications"] >= 1
    for name in JOBS[1:]:
        job(manage, name)
    assert "read 20, created 0, updated 0, rejected 0" in manage(
        "import_complaints", str(CFPB_SAMPLE)
    )
    sent = list((var / "var" / "mail").glob("*.log"))
    assert any(reference in path.read_text() for path in sent)


# Each demo user's pages, signed in, through the test client in a process on the SQLite file.
CRAWL = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from complaints.models import Complaint
from reports.models import TrendReport

complaint = Complaint.objects.order_by("id").first()
report = TrendReport.objects.order_by("id").first()
paths = [
    "/", "/complaints/", "/complaints/?stage=all&sort=customer", "/complaints/?overdue=1",
    "/complaints/?q=refund", "/complaints/?q=priya.shah@example.com",
    "/complaints/?q=%2B44+7700+900123", f"/complaints/?q={complaint.reference}",
    "/complaints/export.csv?stage=all", f"/complaints/{complaint.pk}/",
    f"/complaints/{complaint.pk}/edit/", "/complaints/new/", "/complaints/jobs/",
    "/complaints/import/", "/reports/", f"/reports/{report.pk}/", "/reports/reviews/",
]
statuses = {}
for username in ("csr", "csr2", "resolver", "manager"):
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=username))
    statuses[username] = {path: client.get(path).status_code for path in paths}
print(json.dumps(statuses))
"""


@pytest.mark.integration
def test_every_demo_users_pages_answer_on_sqlite(manage):
    statuses = json.loads(manage("shell", "-c", CRAWL).strip().splitlines()[-1])

    assert set(statuses) == {"csr", "csr2", "resolver", "manager"}
    for username, by_path in statuses.items():
        errors = {path: status for path, status in by_path.items() if status >= 500}
        assert not errors, (username, errors)
        assert by_path["/"] == by_path["/complaints/?q=refund"] == 200
    assert set(statuses["manager"].values()) == {200}
