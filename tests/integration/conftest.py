"""Real processes for the integration tests: an SMTP server on loopback and a Celery worker
that shares the test database and a broker database of its own."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from django.db import connection
from kombu import pools as kombu_pools
from kombu.utils.collections import eqhash

from config.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parents[2]
# The celery beside the running Python: the project's .venv under make test.
CELERY = Path(sys.executable).parent / "celery"
# A Redis database for these tests' queues only, away from the application's (0).
BROKER_URL = "redis://127.0.0.1:6379/5"
STARTUP_TIMEOUT = 30


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, timeout=20, interval=0.1, describe=lambda: ""):
    """Poll until `condition()` is true; fail with `describe()` if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s. {describe()}")
        time.sleep(interval)


def waiting_on(table):
    """Backends waiting for a lock on the table: [(pid, query)]."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.pid, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND l.relation = %s::regclass
            """,
            [table],
        )
        return cursor.fetchall()


def backend_alive(pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


# SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    content: bytes


@dataclass
class GreylistingHandler:
    """Answers "451 4.3.0 Try again later" to the first `refusals` recipients, then accepts."""

    refusals: int = 0
    refused: list = field(default_factory=list)
    received: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusals > 0:
            self.refusals -= 1
            self.refused.append(address)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: GreylistingHandler


@pytest.fixture
def smtp_server():
    handler = GreylistingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


# Celery -----------------------------------------------------------------------------------


@dataclass
class Worker:
    queue: str
    process: subprocess.Popen
    output: list

    def log(self, last=60):
        return "\n".join(self.output[-last:])


def _test_database_url():
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _forget_queue(queue):
    """Remove what the worker left in the broker database under its queue and host name."""
    client = redis.Redis.from_url(BROKER_URL)
    try:
        for key in client.scan_iter(match="*"):
            name = key.decode(errors="replace")
            if queue in name:
                client.delete(key)
            elif name.startswith("_kombu.binding."):
                for member in client.smembers(key):
                    if queue.encode() in member:
                        client.srem(key, member)
    finally:
        client.close()


@pytest.fixture
def celery_worker(django_db_setup, smtp_server):
    """A real worker (solo pool) on a queue of its own, using the test database and sending
    through `smtp_server`. Stopped, and its queue removed, whatever the test does."""
    queue = f"redress-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": BROKER_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": "",
        "EMAIL_USE_SSL": "",
        "EMAIL_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(  # noqa: S603  (a fixed command line of our own)
        [
            str(CELERY),
            "--app",
            "config",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "-Q",
            queue,
            "--hostname",
            f"{queue}@localhost",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, ready = [], threading.Event()

    def read():
        for line in process.stdout:
            output.append(line.rstrip())
            if " ready." in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    worker = Worker(queue, process, output)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start:\n{worker.log()}")
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        reader.join(timeout=5)
        _forget_queue(queue)


@contextmanager
def _publishing_to(url, queue):
    """Send this process's tasks to `url`, onto `queue`; put everything back afterwards.

    The app's pools are dropped so they are made again for `url`; on the way out the pools
    made for `url` are closed and removed from kombu's registry, and the app's original
    pools (still registered under their own URL) are picked up again.
    """
    previous = celery_app.conf.broker_url, celery_app.conf.task_default_queue
    celery_app._pool = celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    celery_app.conf.task_default_queue = queue
    try:
        yield
    finally:
        key = eqhash(celery_app.connection_for_write())
        for group in (kombu_pools.producers, kombu_pools.connections):
            pool = dict.pop(group, key, None)
            if pool is not None:
                pool.force_close_all()
        celery_app._pool = celery_app.amqp._producer_pool = None
        celery_app.conf.broker_url, celery_app.conf.task_default_queue = previous


@pytest.fixture
def tasks_to_worker(celery_worker):
    """Tasks this test publishes (on commit, or with .delay) go to `celery_worker`."""
    with _publishing_to(BROKER_URL, celery_worker.queue):
        yield celery_worker


# PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def direct_connection(transactional_db):
    """A connection of the test's own straight to the test database, to hold locks while
    other processes work. Closed before the database is flushed after the test, which would
    otherwise wait for its locks forever."""
    db = connection.settings_dict
    link = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        connect_timeout=5,
    )
    yield link
    link.close()
