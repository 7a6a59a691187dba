"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools' WebAuthn domain)
stands in for a phone or a security key, so the whole ceremony runs: django-otp-webauthn's
scripts, the browser's WebAuthn API, the server's checks of origin, challenge and signature.
"""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from accounts import mfa
from accounts.models import SecurityEvent, SecurityEventKind
from tests.browser.conftest import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def passkey_site(settings, live_server):
    """Passkeys belong to a host name: the live server as http://localhost:<port>, which
    browsers treat as a secure origin (a bare 127.0.0.1 they refuse)."""
    site = f"http://localhost:{urlsplit(live_server.url).port}"
    settings.SITE_URL = site
    settings.MFA_ENFORCED = True
    settings.MFA_PASSKEYS = True
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [site]
    return site


def with_authenticator(page):
    """A platform authenticator that verifies its user (a fingerprint) without asking."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return page


def password_step(page, site, user):
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_manager_adds_a_passkey_and_signs_in_with_it(new_page, journey, passkey_site, manager):
    steps = journey()
    page = with_authenticator(new_page())

    # Managers must have a second factor: the first sign-in goes to the set-up page.
    password_step(page, passkey_site, manager)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    steps.step(page, "enrol")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recovery codes", timeout=30_000)
    steps.step(page, "recovery-codes")
    assert mfa.passkeys(manager).count() == 1

    # Signed out and back in: the password, then the passkey, then the home page.
    page.context.clear_cookies()
    password_step(page, passkey_site, manager)
    expect(page.get_by_role("heading", level=1)).to_have_text("One more step")
    steps.step(page, "second-step")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello", timeout=30_000)
    steps.step(page, "home-after-passkey")
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SIGNED_IN, actor=manager).exists()
