"""API tokens: hashed at rest, shown once, expiring, revocable, scoped read or write."""

import hashlib
import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, ApiTokenScope, SecurityEvent, SecurityEventKind
from accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

LIST = "/api/v1/complaints/"


def client_with(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_only_a_hash_of_the_key_is_stored(csr):
    token, key = api_token_create(user=csr, name="CRM")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in str(stored)
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert stored["prefix"] == key[:8]
    assert len(key) >= 40  # 256 random bits


def test_a_new_token_expires_after_api_token_days(csr, settings):
    settings.API_TOKEN_DAYS = 30
    token, _ = api_token_create(user=csr, name="CRM")
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


def test_a_valid_key_reaches_the_api_and_no_key_is_asked_for_with_token(csr):
    _, key = api_token_create(user=csr, name="CRM")
    assert client_with(key).get(LIST).status_code == 200
    anonymous = APIClient().get(LIST)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_refused(csr):
    _, key = api_token_create(
        user=csr, name="CRM", expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client_with(key).get(LIST)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "This token has expired."
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.API_TOKEN_REFUSED).exists()


def test_a_revoked_token_stops_working_at_once(csr, administrator):
    token, key = api_token_create(user=csr, name="CRM")
    client = client_with(key)
    assert client.get(LIST).status_code == 200
    api_token_revoke(token, actor=administrator)
    response = client.get(LIST)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "This token has been revoked."
    event = SecurityEvent.objects.get(kind=SecurityEventKind.API_TOKEN_REVOKED)
    assert event.actor == administrator and "CRM" in event.detail


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_read_token_may_not_write(csr, method):
    from tests import factories

    complaint = factories.complaint(csr)
    _, key = api_token_create(user=csr, name="Reporting", scope=ApiTokenScope.READ)
    client = client_with(key)
    assert client.get(f"{LIST}{complaint.pk}/").status_code == 200
    response = getattr(client, method)(
        f"{LIST}{complaint.pk}/notes/", {"text": "From a read-only token."}, format="json"
    )
    assert response.status_code == 403
    assert "read-only scope" in response.json()["errors"][0]["message"]
    assert not complaint.notes.exists()


def test_a_write_token_may_write(csr):
    from tests import factories

    complaint = factories.complaint(csr)
    _, key = api_token_create(user=csr, name="CRM", scope=ApiTokenScope.WRITE)
    response = client_with(key).post(
        f"{LIST}{complaint.pk}/notes/", {"text": "From the CRM."}, format="json"
    )
    assert response.status_code in (200, 201), response.content


def test_use_is_recorded_once_an_hour(csr):
    token, key = api_token_create(user=csr, name="CRM")
    client = client_with(key)
    for _ in range(3):
        assert client.get(LIST).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    used = SecurityEvent.objects.filter(kind=SecurityEventKind.API_TOKEN_USED)
    assert used.count() == 1 and used.get().actor == csr
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(hours=2))
    client.get(LIST)
    assert used.count() == 2


def test_the_admin_shows_the_key_once(client, administrator, csr):
    client.force_login(administrator)
    expires = timezone.localtime() + timedelta(days=10)
    response = client.post(
        "/admin/accounts/apitoken/add/",
        {
            "user": csr.pk,
            "name": "Intake system",
            "scope": "write",
            "expires_at_0": expires.strftime("%Y-%m-%d"),
            "expires_at_1": expires.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200, response.content[:2000]
    key = response.context["key"]
    assert key.encode() in response.content
    assert "no-store" in response.headers["Cache-Control"]
    token = ApiToken.objects.get(name="Intake system")
    assert token.user == csr and token.scope == "write"
    assert client_with(key).get(LIST).status_code == 200
    # Afterwards only the prefix is ever shown.
    page = client.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    assert key[:8].encode() in page.content and key.encode() not in page.content
    created = SecurityEvent.objects.get(kind=SecurityEventKind.API_TOKEN_CREATED)
    assert created.actor == administrator


def test_the_admin_revokes_and_never_deletes(client, administrator, csr):
    token, key = api_token_create(user=csr, name="CRM")
    client.force_login(administrator)
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked
    assert client_with(key).get(LIST).status_code == 401
    assert client.get(f"/admin/accounts/apitoken/{token.pk}/delete/").status_code == 403


def test_the_command_prints_a_working_key(csr):
    out, err = StringIO(), StringIO()
    call_command(
        "api_token_create", "csr", "--name", "CRM", "--scope", "read", stdout=out, stderr=err
    )
    key = out.getvalue().strip()
    assert client_with(key).get(LIST).status_code == 200
    assert "read only" in err.getvalue()
    assert ApiToken.objects.get().scope == ApiTokenScope.READ


def test_the_command_explains_a_missing_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        call_command("api_token_create", "nobody", "--name", "CRM")


def test_drf_tokens_are_carried_over_hashed_and_their_table_dropped(csr):
    """The 0002 migration's data step, on a table as DRF's authtoken left it."""
    migration = importlib.import_module("accounts.migrations.0002_security_events_and_api_tokens")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, csr.pk])
    with connection.schema_editor() as editor:
        migration.carry_over_drf_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get()
    assert token.user == csr and token.scope == "write" and token.prefix == old_key[:8]
    assert client_with(old_key).get(LIST).status_code == 200
