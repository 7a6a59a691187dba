"""Sessions end after SESSION_IDLE_MINUTES without a request, and at the latest
SESSION_COOKIE_AGE after sign-in."""

import time
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import LAST_ACTIVITY

pytestmark = pytest.mark.django_db


def last_seen(client, seconds_ago):
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - seconds_ago
    session.save()


def test_an_idle_session_ends_on_the_sign_in_page_with_a_message(client, csr, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(csr)
    assert client.get("/").status_code == 200
    last_seen(client, 31 * 60)
    response = client.get("/complaints/", follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login") + "?next=/complaints/")
    assert "signed out after 30 minutes without activity" in response.content.decode()
    assert client.get("/").status_code == 302  # still signed out


def test_activity_renews_the_session(client, csr, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(csr)
    last_seen(client, 29 * 60)
    assert client.get("/").status_code == 200
    assert client.session[LAST_ACTIVITY] >= int(time.time()) - 5
    assert client.get("/complaints/").status_code == 200


def test_the_timeout_is_a_setting(client, csr, settings):
    settings.SESSION_IDLE_MINUTES = 5
    client.force_login(csr)
    last_seen(client, 6 * 60)
    response = client.get("/")
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [
        "You were signed out after 5 minutes without activity. Sign in again to carry on."
    ]


def test_an_idle_api_session_is_refused_not_redirected(client, csr, settings):
    client.force_login(csr)
    last_seen(client, (settings.SESSION_IDLE_MINUTES + 1) * 60)
    assert client.get("/api/v1/complaints/").status_code in (401, 403)


def test_a_busy_session_still_ends_at_its_fixed_lifetime(client, csr, settings):
    client.post(reverse("login"), {"username": "csr", "password": "pw-for-tests-1"})
    last_seen(client, 120)  # the activity stamp is rewritten: the session is saved again
    assert client.get("/").status_code == 200
    # An hour on, a fixed end is an hour nearer; an expiry renewed by each save would not be.
    an_hour_on = timezone.now() + timedelta(hours=1)
    left = client.session.get_expiry_age(modification=an_hour_on)
    assert left <= settings.SESSION_COOKIE_AGE - 3600
