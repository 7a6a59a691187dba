"""PostgreSQL briefly unreachable: a clear 503 page, nothing half-written.

The application runs in a real server (gunicorn, production settings) whose database
connection goes through a TCP relay on loopback. Cutting the relay closes every open
connection and refuses new ones, which is what the application sees when PostgreSQL is
restarted or the network drops. The relay is cut twice: before the requests arrive, and in
the middle of a public complaint's transaction (the complaint row written, its outbox row
waiting on a lock). Each time the answer is a 503 saying the form was not saved, and the
database holds nothing of it; once the relay is back the same form succeeds, once.
"""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import redis
import requests
from django.core.handlers.exception import convert_exception_to_response
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.utils import OperationalError, ProgrammingError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import ApiTokenScope
from accounts.services import api_token_create
from complaints.models import (
    Attachment,
    Complaint,
    OutboundMessage,
    ReferenceCounter,
    StageChange,
)
from config.middleware import DatabaseUnavailableMiddleware, database_unreachable
from tests import factories
from tests.integration.conftest import backend_alive, free_port, wait_until, waiting_on

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
# The server's cache (public form rate limit) and broker, away from every other test's.
REDIS_URL = "redis://127.0.0.1:6379/8"
MESSAGE = "Redress can't reach its database right now"
NOT_SAVED = "What you sent was not saved."
# Production settings, except that static files need no collected manifest and the
# passwords made by the test suite's fast hasher can be checked.
SETTINGS_MODULE = """\
from config.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""


# The relay --------------------------------------------------------------------------------


class Relay:
    """A TCP relay on loopback to PostgreSQL that can be cut and restored.

    Cut: every relayed connection is shut down at once and the port refuses new ones.
    Restored: the port listens again (the same port, so the server's settings still hold).
    """

    def __init__(self, target):
        self.target = target
        self.port = free_port()
        self.lock = threading.Lock()
        self.open = set()
        self.listener = None
        self.connections = 0
        self.restore()

    def restore(self):
        with self.lock:
            assert self.listener is None
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            listener.settimeout(0.1)
            self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        with self.lock:
            listener, self.listener = self.listener, None
            if listener is not None:
                # Stops listening at once, even while the accepting thread waits on it.
                self._shut(listener)
            for sock in self.open:
                self._shut(sock)
            self.open.clear()

    def _accept(self, listener):
        while True:
            with self.lock:
                if self.listener is not listener:
                    return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self.lock:
                if self.listener is not listener:
                    client.close()
                    return
                client.settimeout(None)
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
                self.open |= {client, upstream}
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                for sock in (source, sink):
                    self._shut(sock)
                    self.open.discard(sock)

    @staticmethod
    def _shut(sock):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@pytest.fixture
def relay():
    database = connection.settings_dict
    running = Relay((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    yield running
    running.cut()


# The server -------------------------------------------------------------------------------


class Server:
    def __init__(self, process, url, log_path):
        self.process, self.url, self.log_path = process, url, log_path

    def log(self):
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture
def server(transactional_db, relay, tmp_path):
    """gunicorn with the test database through `relay`; stopped before the database is
    flushed, and its Redis database emptied."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    (tmp_path / "outage_settings.py").write_text(SETTINGS_MODULE)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "outage_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DEBUG": "0",
        "DATABASE_URL": f"postgres://{credentials}@127.0.0.1:{relay.port}/{database['NAME']}",
        # Persistent connections, as in production: they must recover after the outage.
        "DB_CONN_MAX_AGE": "60",
        "DB_CONNECT_TIMEOUT": "3",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "VAR_DIR": str(tmp_path / "var"),
        # The manager signs in with a password alone, as in the demo (tests/accounts/test_mfa.py
        # covers the second step).
        "MFA_ENFORCED": "0",
        "ATTACHMENT_ROOT": str(tmp_path / "attachments"),
        "PYTHONUNBUFFERED": "1",
    }
    redis.Redis.from_url(REDIS_URL).flushdb()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603  (a fixed command line of our own)
            [
                str(GUNICORN),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log_path)

    def answers():
        assert process.poll() is None, f"gunicorn exited:\n{running.log()}"
        try:
            return requests.get(running.url + "/accounts/login/", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_until(answers, timeout=30, interval=0.2, describe=running.log)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        redis.Redis.from_url(REDIS_URL).flushdb()


# Helpers ----------------------------------------------------------------------------------


def csrf_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)


def multipart(fields):
    """The public form is multipart/form-data (it takes a document), as a browser sends it."""
    return {name: (None, str(value)) for name, value in fields.items()}


def assert_unavailable_page(response, *, sent_something):
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert response.headers["Retry-After"] == "60"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert MESSAGE in response.text
    assert (NOT_SAVED in response.text) is sent_something
    for leak in ("Traceback", "OperationalError", "psycopg", "5432", "connection"):
        assert leak not in response.text, leak


def rows_written():
    """Every row a public complaint writes, counted straight from PostgreSQL."""
    return {
        "complaints": Complaint.objects.count(),
        "complaint history": Complaint.history.count(),
        "stage changes": StageChange.objects.count(),
        "attachments": Attachment.objects.count(),
        "outbox": OutboundMessage.objects.count(),
        "reference counters": ReferenceCounter.objects.count(),
    }


def assert_nothing_written():
    written = rows_written()
    assert set(written.values()) == {0}, written


# The test that counts ---------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_database_outage_answers_503_saves_nothing_and_the_form_succeeds_once_it_is_back(
    server, relay, direct_connection, manager, csr
):
    category = factories.category()
    _, key = api_token_create(user=csr, name="Outage test", scope=ApiTokenScope.WRITE)
    form = {
        "customer_name": "Amara Okafor",
        "customer_email": "amara@example.com",
        "customer_phone": "",
        "category": category.pk,
        "product": "",
        "date_of_complaint": timezone.localdate().isoformat(),
        "transaction_reference": "",
        "description": "My direct debit was taken twice this month.",
        "website": "",
    }

    try:
        # While the database is up: a manager signs in, a customer opens the form.
        staff = requests.Session()
        login = staff.get(server.url + "/accounts/login/", timeout=10)
        signed_in = staff.post(
            server.url + "/accounts/login/",
            data={
                "username": "manager",
                "password": "pw-for-tests-1",
                "csrfmiddlewaretoken": csrf_token(login),
            },
            timeout=10,
        )
        assert signed_in.status_code == 200 and signed_in.url == server.url + "/", signed_in.url
        customer = requests.Session()
        opened = customer.get(server.url + "/complain/", timeout=10)
        assert opened.status_code == 200
        form["csrfmiddlewaretoken"] = csrf_token(opened)

        # 1. The database goes away before the requests arrive.
        relay.cut()
        for path in ("/", "/complaints/"):
            assert_unavailable_page(staff.get(server.url + path, timeout=10), sent_something=False)
        # The public form is drawn from the regulatory catalogue the process already holds
        # (complaints/selectors/regulatory.py), so it still opens; sending it is refused below.
        assert customer.get(server.url + "/complain/", timeout=10).status_code == 200
        # The sign-in page itself needs no database; signing in does.
        visitor = requests.Session()
        login = visitor.get(server.url + "/accounts/login/", timeout=10)
        assert login.status_code == 200
        assert_unavailable_page(
            visitor.post(
                server.url + "/accounts/login/",
                data={
                    "username": "manager",
                    "password": "pw-for-tests-1",
                    "csrfmiddlewaretoken": csrf_token(login),
                },
                timeout=10,
            ),
            sent_something=True,
        )
        submitted = customer.post(
            server.url + "/complain/", files=multipart(form), allow_redirects=False, timeout=10
        )
        assert_unavailable_page(submitted, sent_something=True)
        api = requests.get(
            server.url + "/api/v1/complaints/",
            headers={"Authorization": f"Token {key}"},
            timeout=10,
        )
        assert api.status_code == 503
        assert api.headers["Retry-After"] == "60"
        assert api.headers["Content-Type"] == "application/json"
        [error] = api.json()["errors"]
        assert error["field"] is None
        assert error["message"].startswith(MESSAGE)
        assert_nothing_written()

        # 2. The database goes away in the middle of the complaint's transaction: the
        # complaint, its stage change and history are written, its outbox row waits for a
        # lock the test holds.
        relay.restore()
        direct_connection.execute(f"LOCK TABLE {OutboundMessage._meta.db_table} IN EXCLUSIVE MODE")
        answer = {}
        posting = threading.Thread(
            target=lambda: answer.update(
                response=customer.post(
                    server.url + "/complain/",
                    files=multipart(form),
                    allow_redirects=False,
                    timeout=60,
                )
            ),
            daemon=True,
        )
        posting.start()
        [(pid, query)] = wait_until(
            lambda: waiting_on(OutboundMessage._meta.db_table),
            timeout=30,
            describe=lambda: f"The form never reached the outbox.\n{server.log()}",
        )
        assert query.lstrip().upper().startswith("INSERT"), query
        relay.cut()
        posting.join(30)
        assert not posting.is_alive()
        assert_unavailable_page(answer["response"], sent_something=True)
        direct_connection.rollback()
        # Its server process finds the client gone and rolls the transaction back.
        wait_until(lambda: not backend_alive(pid), timeout=20)
        assert_nothing_written()

        # 3. The database is back: the same form, sent again, is saved once.
        relay.restore()
        saved = customer.post(server.url + "/complain/", files=multipart(form), timeout=30)
        assert saved.status_code == 200
        assert saved.url.startswith(server.url + "/complain/thanks/")
        year = timezone.localdate().year
        # The reference counter's increments in the failed attempts were rolled back too.
        assert f'Your reference is <strong class="text-nowrap">CMP-{year}-000001' in saved.text
        assert staff.get(server.url + "/", timeout=10).status_code == 200
    except BaseException:
        print(server.log())
        raise

    [complaint] = Complaint.objects.all()
    assert complaint.reference == f"CMP-{year}-000001"
    assert (complaint.customer_email, complaint.channel) == ("amara@example.com", "web")
    assert complaint.history.count() == 1
    assert StageChange.objects.filter(complaint=complaint).count() == 1
    assert StageChange.objects.count() == 1
    [message] = OutboundMessage.objects.all()
    assert (message.complaint_id, message.kind) == (complaint.pk, "acknowledgment")
    assert "Database unreachable, answered 503 to POST /complain/" in server.log()
    assert relay.connections >= 2


# The pieces, in process -------------------------------------------------------------------


@pytest.fixture
def refused_connection_error(django_db_blocker):
    """A real Django OperationalError: connecting to a port nothing listens on."""
    settings_dict = {**connection.settings_dict, "PORT": free_port(), "NAME": "redress_nowhere"}
    dead = DatabaseWrapper(settings_dict, alias="nowhere")
    with django_db_blocker.unblock(), pytest.raises(OperationalError) as refused:
        dead.ensure_connection()
    dead.close()
    return refused.value


def test_the_503_page_renders_without_a_database():
    # No django_db mark: pytest-django makes any query here fail the test.
    page = render_to_string("503.html", {"sent_something": True})
    assert MESSAGE in page and NOT_SAVED in page
    assert "<script" not in page and "{%" not in page


def test_only_a_lost_or_refused_database_counts_as_unreachable(refused_connection_error):
    assert database_unreachable(refused_connection_error)
    shutdown = OperationalError("terminating connection due to administrator command")
    shutdown.__cause__ = psycopg.errors.AdminShutdown()
    assert database_unreachable(shutdown)
    # The server answered: a deadlock or a bad query is a bug or contention, not an outage.
    deadlock = OperationalError("deadlock detected")
    deadlock.__cause__ = psycopg.errors.DeadlockDetected()
    assert not database_unreachable(deadlock)
    assert not database_unreachable(ProgrammingError("relation does not exist"))
    assert not database_unreachable(OperationalError("database is locked"))  # SQLite
    assert not database_unreachable(ValueError("not a database error"))


def test_middleware_turns_an_unreachable_database_into_a_503(refused_connection_error):
    def view(request):
        raise refused_connection_error

    # Django wraps every layer this way; the error becomes a 500 below the middleware.
    handler = DatabaseUnavailableMiddleware(convert_exception_to_response(view))
    factory = RequestFactory()
    page = handler(factory.post("/complain/", {"customer_name": "x"}))
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "60"
    assert NOT_SAVED in page.content.decode()
    api = handler(factory.get("/api/v1/complaints/"))
    assert api.status_code == 503
    assert json.loads(api.content)["errors"][0]["message"].startswith(MESSAGE)

    def broken(request):
        raise ValueError("a bug")

    other = DatabaseUnavailableMiddleware(convert_exception_to_response(broken))
    assert other(factory.get("/")).status_code == 500
