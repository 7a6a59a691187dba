"""The Celery app's reliability settings, and a web request never hangs on a dead broker."""

import importlib
import time

from complaints import jobs
from config.celery import app


def test_celery_is_json_only_with_late_acks_and_prefetch_one():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit
    assert conf.task_publish_retry_policy["max_retries"] <= 3


def test_beat_schedule_holds_the_clock_jobs():
    schedule = app.conf.beat_schedule
    assert schedule["enforce_acknowledgment_deadline"]["schedule"] == 300
    assert schedule["enforce_resolution_targets"]["schedule"] == 900
    assert schedule["send_follow_ups"]["schedule"] == 3600
    assert schedule["relay_outbox"]["schedule"] == 60


def test_every_job_the_operators_can_run_is_on_the_beat_schedule(monkeypatch):
    """Each name `run_job` and the jobs page know is scheduled, and its task runs that job."""
    schedule = app.conf.beat_schedule
    assert schedule["build_trend_reports"]["task"] == "reports.tasks.build_trend_reports"
    assert schedule["build_trend_reports"]["schedule"] == 3600
    ran = []
    monkeypatch.setattr(jobs, "run", ran.append)
    for name in jobs.JOBS:
        assert name in schedule, f"{name} is not on the beat schedule"
        task_name = schedule[name]["task"]
        importlib.import_module(task_name.rpartition(".")[0])
        app.tasks[task_name].run()
    assert ran == list(jobs.JOBS.values())


def test_publishing_to_a_dead_broker_fails_fast():
    """Nothing listens on this port: publishing must give up within seconds."""
    from complaints.tasks import relay_outbox

    dead = "redis://127.0.0.1:6399/0"
    started = time.monotonic()
    with app.connection_for_write(dead) as connection:
        try:
            relay_outbox.apply_async(connection=connection, retry=True)
        except Exception:  # noqa: BLE001, S110  (any failure is the expected outcome)
            pass
        else:
            raise AssertionError("publishing to a dead broker succeeded")
    assert time.monotonic() - started < 10
