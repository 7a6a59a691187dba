"""A request id per request, in its log records, its response and the Celery tasks it causes.

The task tests publish through the configured broker for real (to a queue of their own, which
no worker reads), take the message back with kombu and run it as a worker runs a message
(celery.worker.request.Request), so the before_task_publish and task_prerun handlers run
where they run in production; one test runs a task in eager mode with the header given.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.worker.request import Request
from django.http import HttpResponse
from django.test import RequestFactory

from config.celery import app as celery_app
from config.logging import RequestIdFilter, RequestIdMiddleware, current_request_id

# Django closes stale connections at each request's start and end.
pytestmark = pytest.mark.django_db
QUEUE = "tests-request-id"
seen = []


@celery_app.task(name="tests.remember_request_id")
def remember_request_id():
    seen.append(current_request_id())
    logging.getLogger("tests.task").warning("inside the task")


@pytest.fixture(autouse=True)
def _forget():
    seen.clear()
    with celery_app.connection_for_write() as connection:
        connection.SimpleQueue(QUEUE).clear()


@pytest.fixture
def records(caplog):
    caplog.handler.addFilter(RequestIdFilter())
    return caplog


def test_a_sane_incoming_id_is_kept_and_echoed(client):
    response = client.get("/health/", HTTP_X_REQUEST_ID="lb-7f3a:01")
    assert response.headers["X-Request-ID"] == "lb-7f3a:01"


@pytest.mark.parametrize(
    "sent", ["", "two words", "forged\nINFO line", "x" * 129, "<script>", "ünïcode"]
)
def test_an_odd_incoming_id_is_replaced_by_a_new_one(client, sent):
    response = client.get("/metrics", HTTP_X_REQUEST_ID=sent, REMOTE_ADDR="203.0.113.9")
    echoed = response.headers["X-Request-ID"]
    assert echoed != sent
    assert len(echoed) == 32 and int(echoed, 16) >= 0


def test_each_request_gets_its_own_id(client):
    first = client.get("/metrics").headers["X-Request-ID"]
    second = client.get("/metrics").headers["X-Request-ID"]
    assert first != second


def test_the_log_line_of_a_failed_request_carries_its_id(client, records):
    # Django logs "Not Found" after every middleware has returned.
    client.get("/metrics", HTTP_X_REQUEST_ID="req-404", REMOTE_ADDR="203.0.113.9")
    not_found = [r for r in records.records if r.name == "django.request"]
    assert [r.request_id for r in not_found] == ["req-404"]
    logging.getLogger("tests").warning("after the request")
    assert records.records[-1].request_id == "-"


def publish_during_request(request_id):
    def view(request):
        remember_request_id.apply_async(queue=QUEUE)
        return HttpResponse()

    response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID=request_id))
    response.close()  # request_finished: the request is over


def run_as_a_worker():
    with celery_app.connection_for_read() as connection:
        queue = connection.SimpleQueue(QUEUE)
        try:
            message = queue.get(timeout=10)
            Request(message, app=celery_app, task=remember_request_id).execute()
            if not message.acknowledged:
                message.ack()
        finally:
            queue.close()
    return message


def test_a_task_published_during_a_request_runs_under_its_id(records):
    publish_during_request("req-to-task")
    assert current_request_id() is None

    message = run_as_a_worker()
    assert message.headers["request_id"] == "req-to-task"
    assert seen == ["req-to-task"]
    inside = [r for r in records.records if r.name == "tests.task"]
    assert [r.request_id for r in inside] == ["req-to-task"]
    # The worker goes on to its next task without it.
    assert current_request_id() is None


def test_a_task_nobody_requested_runs_under_its_own_task_id():
    remember_request_id.apply_async(queue=QUEUE)
    message = run_as_a_worker()
    assert "request_id" not in message.headers
    assert seen == [message.headers["id"]]


def test_eager_task_reads_the_id_from_its_headers():
    remember_request_id.apply(headers={"request_id": "eager-1"})
    assert seen == ["eager-1"]
    assert current_request_id() is None


def test_json_log_lines_when_log_format_is_json():
    environment = {**os.environ, "LOG_FORMAT": "json"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, logging; django.setup(); "
            "logging.getLogger('redress.test').warning('hello %s', 'there')",
        ],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello there"
    assert line["level"] == "WARNING"
    assert line["logger"] == "redress.test"
    assert line["request_id"] == "-"
    assert "time" in line
