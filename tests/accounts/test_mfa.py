"""Two-step sign-in: the password, then a code from the app, a recovery code or a passkey."""

import logging
from binascii import unhexlify

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.views import TOTP_KEY_SESSION_KEY
from tests.test_public_urls import routes

pytestmark = pytest.mark.django_db

VERIFY = reverse("mfa-verify")
ENROL = reverse("mfa-enrol")


@pytest.fixture(autouse=True)
def _production_default(settings):
    """The production default the demo and the rest of the suite turn off."""
    settings.MFA_ENFORCED = True


def app_code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def authenticator(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def sign_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": "pw-for-tests-1"})


def test_manager_signs_in_with_password_then_the_code_from_the_app(client, manager):
    device = authenticator(manager)
    assert sign_in(client, "manager").status_code == 302
    # Signed in with the password alone: every page asks for the second step first.
    for path in ("/", "/complaints/", "/admin/", reverse("password_change")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(VERIFY)
    asked = client.get(f"{VERIFY}?next=/complaints/")
    assert asked.status_code == 200 and b"One more step" in asked.content

    before = client.session.session_key
    done = client.post(VERIFY, {"code": app_code(device), "next": "/complaints/"})
    assert done.status_code == 302 and done.headers["Location"] == "/complaints/"
    assert client.session.session_key != before
    assert client.get("/complaints/").status_code == 200


def test_a_wrong_code_is_refused_and_counted(client, manager, settings, caplog):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute's wait after a wrong code
    device = authenticator(manager)
    sign_in(client, "manager")
    right = app_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    with caplog.at_level(logging.WARNING, logger="accounts.mfa"):
        refused = client.post(VERIFY, {"code": wrong})
    assert refused.status_code == 200
    assert b"That code is not right" in refused.content
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert "MFA code refused for user manager" in caplog.text
    # Counted: straight after a wrong code even the right one waits its turn.
    throttled = client.post(VERIFY, {"code": right})
    assert b"Too many wrong codes. Wait until" in throttled.content
    assert client.get("/").headers["Location"].startswith(VERIFY)


def test_wrong_codes_up_to_the_limit_sign_the_user_out(client, manager, settings):
    authenticator(manager)
    sign_in(client, "manager")
    for _ in range(settings.MFA_FAILURE_LIMIT - 1):
        assert client.post(VERIFY, {"code": "000000"}).status_code == 200
    last = client.post(VERIFY, {"code": "000000"})
    assert last.status_code == 302 and last.headers["Location"] == reverse("login")
    assert client.get("/").headers["Location"].startswith(reverse("login"))


def test_a_code_that_is_not_a_code_gets_a_sentence(client, manager):
    authenticator(manager)
    sign_in(client, "manager")
    for junk in ("", "x" * 33, "12 34 56 78 90", "١٢٣٤٥٦"):
        response = client.post(VERIFY, {"code": junk})
        assert response.status_code == 200
        assert b'class="invalid-feedback"' in response.content or b"not right" in response.content


def test_manager_without_a_second_factor_enrols_before_any_other_page(client, manager):
    client.force_login(manager)
    for path in ("/", "/complaints/", "/admin/", reverse("mfa"), reverse("password_change")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(ENROL), path

    page = client.get(ENROL)
    assert page.status_code == 200
    assert b"data:image/svg+xml" in page.content  # the QR code
    key = client.session[TOTP_KEY_SESSION_KEY]
    wrong = client.post(ENROL, {"code": "000000"})
    assert b"That code does not match" in wrong.content
    assert not TOTPDevice.objects.filter(user=manager).exists()

    code = f"{totp(unhexlify(key)):06d}"
    confirmed = client.post(ENROL, {"code": code})
    assert confirmed.headers["Location"] == reverse("mfa-recovery-codes")
    assert TOTPDevice.objects.get(user=manager).confirmed

    # The recovery codes, shown once.
    shown = client.get(reverse("mfa-recovery-codes"))
    codes = list(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code.encode() in shown.content for code in codes)
    again = client.get(reverse("mfa-recovery-codes")).content
    assert not any(code.encode() in again for code in codes)
    assert b"10 unused recovery codes" in again

    assert client.get("/").status_code == 200
    # The code used to confirm the app cannot sign anyone in again.
    client.post(reverse("logout"))
    sign_in(client, "manager")
    assert b"not right" in client.post(VERIFY, {"code": code}).content


def test_who_must_enrol_follows_the_settings(client, csr, administrator, settings):
    client.force_login(csr)
    assert client.get("/").status_code == 200  # MFA_REQUIRED_ROLES defaults to managers

    client.force_login(administrator)
    assert client.get("/").headers["Location"].startswith(ENROL)

    settings.MFA_REQUIRED_FOR_ALL = True
    client.force_login(csr)
    assert client.get("/").headers["Location"].startswith(ENROL)

    settings.MFA_REQUIRED_FOR_ALL = False
    settings.MFA_REQUIRED_ROLES = ["csr", "manager"]
    assert client.get("/").headers["Location"].startswith(ENROL)


def test_the_demo_setting_lets_a_manager_in_with_a_password_alone(client, manager, settings):
    settings.MFA_ENFORCED = False
    sign_in(client, "manager")
    assert client.get("/").status_code == 200
    # Whoever has set up a second factor is still asked for it.
    authenticator(manager)
    client.post(reverse("logout"))
    sign_in(client, "manager")
    assert client.get("/").headers["Location"].startswith(VERIFY)


def test_a_recovery_code_signs_in_once(client, manager):
    authenticator(manager)
    first, *_ = mfa.recovery_codes_issue(manager)
    sign_in(client, "manager")
    used = client.post(VERIFY, {"code": f" {first.upper()} "})
    assert used.status_code == 302
    assert client.get("/").status_code == 200
    assert mfa.recovery_codes_left(manager) == 9

    client.post(reverse("logout"))
    sign_in(client, "manager")
    refused = client.post(VERIFY, {"code": first})
    assert b"That recovery code is not right, or was already used" in refused.content
    assert client.get("/").headers["Location"].startswith(VERIFY)


def test_new_recovery_codes_replace_the_old(client, manager):
    device = authenticator(manager)
    old = mfa.recovery_codes_issue(manager)
    sign_in(client, "manager")
    client.post(VERIFY, {"code": app_code(device)})
    assert client.post(reverse("mfa-recovery-codes")).status_code == 302
    shown = client.get(reverse("mfa-recovery-codes")).content
    new = list(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert all(code.encode() in shown for code in new)
    assert not set(old) & set(new)


def test_an_unverified_session_reaches_nothing_but_the_second_step(client, manager):
    """Deny by default: walk every URL, the API and the public pages included."""
    authenticator(manager)
    sign_in(client, "manager")
    open_before_the_step = {
        "login",
        "logout",
        "mfa-verify",
        "oidc_authentication_init",
        "oidc_authentication_callback",
    }
    for url, name in routes():
        if name in open_before_the_step or (name or "").startswith("otp_webauthn:"):
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith(VERIFY), (method, url)


def test_administrator_resets_a_users_two_step_sign_in_and_it_is_recorded(
    client, administrator, manager, caplog
):
    device = authenticator(administrator)
    sign_in(client, "admin")
    client.post(VERIFY, {"code": app_code(device)})
    authenticator(manager)
    mfa.recovery_codes_issue(manager)

    with caplog.at_level(logging.WARNING, logger="accounts.mfa"):
        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "reset_two_step_sign_in", "_selected_action": [manager.pk]},
        )
    assert response.status_code == 302
    assert not mfa.mfa_enrolled(manager)
    assert mfa.recovery_codes_left(manager) == 0
    assert f"MFA reset for user manager (id {manager.pk}) by admin" in caplog.text
    assert mfa.mfa_enrolled(administrator)

    client.post(reverse("logout"))
    sign_in(client, "manager")
    assert client.get("/").headers["Location"].startswith(ENROL)


def test_a_session_whose_factor_was_reset_is_asked_to_enrol_again(client, manager, administrator):
    device = authenticator(manager)
    sign_in(client, "manager")
    client.post(VERIFY, {"code": app_code(device)})
    assert client.get("/").status_code == 200
    mfa.mfa_reset(manager, by=administrator)
    assert client.get("/").headers["Location"].startswith(VERIFY)
    assert client.get(VERIFY).headers["Location"] == "/"
    assert client.get("/").headers["Location"].startswith(ENROL)


def test_the_second_step_page_offers_a_passkey_to_whoever_has_one(client, manager):
    from django_otp_webauthn.models import WebAuthnCredential

    WebAuthnCredential.objects.create(
        user=manager,
        name="Laptop",
        credential_id=b"credential",
        public_key=b"key",
        sign_count=0,
        confirmed=True,
    )
    sign_in(client, "manager")
    page = client.get(VERIFY)
    assert b'id="passkey-verification-button"' in page.content
    assert b'id="otp_webauthn_config"' in page.content
    assert b"<form" in page.content and b'name="code"' not in page.content
