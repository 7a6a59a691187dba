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


@pytest.fixture
def manage(tmp_path):
    environment = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'redress.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "VAR_DIR": str(tmp_path / "var"),
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

    return run


def job(manage, name):
    line = manage("run_job", name).strip().splitlines()[-1]
    assert line.startswith(f"{name}: ")
    return json.loads(line.split(": ", 1)[1])


@pytest.mark.integration
def test_the_demo_clock_escalates_a_late_complaint_once_on_sqlite(manage, tmp_path):
    manage("migrate", "--no-input")
    manage("seed_demo", "--cfpb", str(CFPB_SAMPLE))
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
    sent = list((tmp_path / "var" / "mail").glob("*.log"))
    assert any(reference in path.read_text() for path in sent)
