"""/health/: each check against the real service, the 200/503 answer, and nothing leaked.

The checks run on threads of their own (django-health-check runs them side by side), which
see only committed rows: hence transactional_db.
"""

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from django.utils import timezone

from complaints.clocks import sweeps
from complaints.models import JobRun
from tests import factories
from tests.complaints.test_outbox import DEAD_BROKER, celery_broker
from tests.integration.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def _healthy(settings):
    """What a healthy deployment shows: beat ran the relay a moment ago; no SMTP to reach."""
    settings.EMAIL_BACKEND = LOCMEM
    relay_ran(minutes_ago=0)


def relay_ran(*, minutes_ago):
    started = timezone.now() - timedelta(minutes=minutes_ago)
    JobRun.objects.create(name="relay_outbox", started_at=started, finished_at=started)


def health(client):
    response = client.get("/health/")
    return response, response.json()


def failing(body):
    return {name for name, check in body["checks"].items() if check["status"] == "failing"}


def test_everything_healthy_answers_200_to_an_anonymous_caller(client):
    response, body = health(client)
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "cache",
        "broker",
        "smtp",
        "attachment_storage",
        "beat",
        "outbox",
        "clocks",
    }
    assert body["checks"]["smtp"]["status"] == "skipped"
    assert failing(body) == set()
    assert "no-cache" in response.headers["Cache-Control"]


def test_load_balancer_probing_plain_http_is_not_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response, _ = health(client)
    assert response.status_code == 200


def test_beat_unhealthy_when_the_relay_last_ran_longer_ago_than_the_setting(client, settings):
    JobRun.objects.all().delete()
    relay_ran(minutes_ago=7)
    settings.HEALTH_BEAT_MAX_AGE_MINUTES = 5
    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"beat"}
    assert "7 minutes ago" in body["checks"]["beat"]["detail"]
    settings.HEALTH_BEAT_MAX_AGE_MINUTES = 10
    assert health(client)[0].status_code == 200


def test_beat_unhealthy_when_the_relay_never_ran(client):
    JobRun.objects.all().delete()
    response, body = health(client)
    assert response.status_code == 503
    assert "never run" in body["checks"]["beat"]["detail"]


def test_outbox_unhealthy_over_the_backlog_count(client, settings):
    settings.HEALTH_OUTBOX_MAX_PENDING = 2
    for number in range(2):
        factories.outbox_message(f"test:{number}")
    assert health(client)[0].status_code == 200
    factories.outbox_message("test:3")
    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"outbox"}
    assert "3 messages" in body["checks"]["outbox"]["detail"]


def test_outbox_unhealthy_when_a_due_message_waits_too_long(client, settings):
    settings.HEALTH_OUTBOX_MAX_AGE_MINUTES = 15
    factories.outbox_message("test:1", due_minutes_ago=10)
    assert health(client)[0].status_code == 200
    factories.outbox_message("test:2", due_minutes_ago=20)
    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"outbox"}


def test_clocks_unhealthy_while_a_missed_deadline_stays_unmarked(client, csr, settings):
    settings.HEALTH_CLOCKS_MAX_LATE_MINUTES = 15
    # Received 25 hours ago: its 24-hour acknowledgment deadline passed an hour ago.
    complaint = factories.complaint(csr, hours_ago=25, customer_email="")
    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"clocks"}
    assert "60 minutes ago" in body["checks"]["clocks"]["detail"]
    # No complaint data, only counts and ages.
    assert complaint.reference not in response.content.decode()
    assert complaint.customer_name not in response.content.decode()

    sweeps.enforce_acknowledgment_deadline()
    assert health(client)[0].status_code == 200


def test_smtp_checked_by_connecting_when_the_backend_is_smtp(client, settings):
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_SSL = settings.EMAIL_USE_TLS = False
    settings.EMAIL_PORT = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        response, body = health(client)
        assert response.status_code == 200
        assert body["checks"]["smtp"]["status"] == "ok"
    finally:
        controller.stop()

    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"smtp"}
    assert str(settings.EMAIL_PORT) not in response.content.decode()


def test_broker_unreachable(client, monkeypatch):
    # Celery prefers this variable to its configuration.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with celery_broker(DEAD_BROKER):
        response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"broker"}
    assert "6399" not in response.content.decode()


def test_attachment_storage_not_writable(client, settings, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the attachments' parent folder should be")
    settings.ATTACHMENT_ROOT = not_a_folder / "attachments"
    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"attachment_storage"}
    assert str(tmp_path) not in response.content.decode()


def test_attachment_storage_probe_leaves_no_file(client, settings):
    assert health(client)[0].status_code == 200
    assert list(settings.ATTACHMENT_ROOT.iterdir()) == []


def test_a_library_check_failing_shows_its_kind_of_failure_not_its_message(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:cache-secret@127.0.0.1:6399/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    response, body = health(client)
    assert response.status_code == 503
    assert failing(body) == {"cache"}
    text = response.content.decode()
    for secret in ("cache-secret", "6399", "127.0.0.1", "Connection"):
        assert secret not in text
    assert "server's log" in body["checks"]["cache"]["detail"]
