"""The read replica router (config/db_router.py): which reads go to the replica, and the pin
that keeps a browser that has just written on the primary. The cluster test
(test_cluster.py) runs it against a real streaming standby behind PgBouncer."""

import runpy

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.signals import request_finished
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from complaints.models import Complaint
from config import db_router
from config.db_router import PIN_COOKIE, ReplicaReadsMiddleware, ReplicaRouter
from reports.models import TrendReport
from tests.test_settings import ROOT

router = ReplicaRouter()
SETTINGS_FILE = ROOT / "config" / "settings.py"
# The router reads settings.DATABASES to learn whether a replica is configured; no query runs
# on the alias the tests add.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}
    settings.REPLICA_PIN_SECONDS = 7


@pytest.fixture
def replica_reads():
    db_router.set_replica_reads(True)
    yield
    db_router.set_replica_reads(False)


def test_without_a_replica_every_read_goes_to_the_primary(replica_reads):
    assert router.db_for_read(Complaint) == "default"
    assert router.db_for_read(TrendReport) == "default"


def test_replica_pages_read_complaints_and_reports_from_the_replica(with_replica, replica_reads):
    assert router.db_for_read(Complaint) == "replica"
    assert router.db_for_read(TrendReport) == "replica"


def test_people_sessions_and_lockouts_are_read_from_the_primary(with_replica, replica_reads):
    assert router.db_for_read(get_user_model()) == "default"
    assert router.db_for_read(Session) == "default"


def test_other_pages_read_from_the_primary(with_replica):
    assert router.db_for_read(Complaint) == "default"


@pytest.mark.django_db
def test_a_read_inside_a_transaction_stays_on_the_primary(with_replica, replica_reads):
    with transaction.atomic():
        assert router.db_for_read(Complaint) == "default"


def test_writes_and_migrations_go_to_the_primary_only(with_replica, replica_reads):
    assert router.db_for_write(Complaint) == "default"
    assert router.allow_migrate("default", "complaints") is True
    assert router.allow_migrate("replica", "complaints") is False


def _through_middleware(request):
    """Run the middleware as Django would: process_view, then the view, then the response.
    Returns the response and whether the view's reads were marked for the replica."""
    seen = {}

    def view(request):
        seen["replica"] = db_router._replica_reads.get()
        return HttpResponse("ok")

    def get_response(request):
        request.resolver_match = resolve(request.path)
        middleware.process_view(request, view, (), {})
        return view(request)

    middleware = ReplicaReadsMiddleware(get_response)
    response = middleware(request)
    return response, seen["replica"]


@pytest.mark.parametrize("path", ["/", "/complaints/export.csv", "/reports/", "/reports/3/"])
def test_dashboard_reports_and_exports_read_from_the_replica(with_replica, path):
    _, replica = _through_middleware(RequestFactory().get(path))
    assert replica is True


@pytest.mark.parametrize("path", ["/complaints/", "/complaints/3/", "/health/"])
def test_case_pages_read_from_the_primary(with_replica, path):
    _, replica = _through_middleware(RequestFactory().get(path))
    assert replica is False


def test_a_browser_that_has_just_written_reads_the_dashboard_from_the_primary(with_replica):
    response, _ = _through_middleware(RequestFactory().post("/complaints/3/note/"))
    pin = response.cookies[PIN_COOKIE]
    assert pin["max-age"] == 7
    assert pin["httponly"]

    factory = RequestFactory()
    factory.cookies[PIN_COOKIE] = pin.value
    _, replica = _through_middleware(factory.get("/"))
    assert replica is False


def test_without_a_replica_nothing_is_pinned(settings):
    response, replica = _through_middleware(RequestFactory().post("/complaints/3/note/"))
    assert PIN_COOKIE not in response.cookies
    _, replica = _through_middleware(RequestFactory().get("/"))
    assert replica is False


@pytest.mark.django_db  # request_finished closes old database connections
def test_an_export_streams_from_the_replica_until_the_response_is_closed(with_replica):
    # StreamingHttpResponse's rows are read after the view returns, while the server sends.
    _through_middleware(RequestFactory().get("/complaints/export.csv"))
    assert db_router._replica_reads.get() is True
    request_finished.send(sender=None)
    assert db_router._replica_reads.get() is False


@pytest.fixture
def databases_with(monkeypatch):
    """DATABASES as config/settings.py makes them from this environment."""

    def databases(**env):
        monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
        monkeypatch.delenv("DB_BEHIND_PGBOUNCER", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))["DATABASES"]

    return databases


def test_the_replica_alias_comes_from_database_replica_url(databases_with):
    databases = databases_with(
        DATABASE_URL="postgres://u@primary.example:6432/redress",
        DATABASE_REPLICA_URL="postgres://u@replica.example:6432/redress",
    )
    assert databases["replica"]["HOST"] == "replica.example"
    assert databases["replica"]["TEST"] == {"MIRROR": "default"}
    assert not databases["default"]["DISABLE_SERVER_SIDE_CURSORS"]


def test_without_database_replica_url_there_is_no_replica(databases_with):
    databases = databases_with(DATABASE_URL="postgres://u@primary.example/redress")
    assert list(databases) == ["default"]


def test_behind_pgbouncer_no_server_side_cursors_are_used(databases_with):
    databases = databases_with(
        DATABASE_URL="postgres://u@pgbouncer.example:6432/redress",
        DATABASE_REPLICA_URL="postgres://u@pgbouncer.example:6432/redress_replica",
        DB_BEHIND_PGBOUNCER="1",
    )
    assert databases["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert databases["replica"]["DISABLE_SERVER_SIDE_CURSORS"] is True
