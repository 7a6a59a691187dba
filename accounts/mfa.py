"""Two-step sign-in: who must have a second factor, enrolment, recovery codes and reset.

The devices are django-otp's: an authenticator app (TOTP), passkeys (django-otp-webauthn) and
one set of single-use recovery codes. A session has passed the second step when django-otp
says so (`request.user.is_verified()`), or when single sign-on vouched for it
(accounts/backends.py).
"""

import logging
from binascii import unhexlify

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from django_otp_webauthn.models import WebAuthnCredential

log = logging.getLogger(__name__)

AUTHENTICATOR_APP = "Authenticator app"
RECOVERY_CODES = "Recovery codes"
# django-otp's default: a code from the step before or after the current one still counts,
# for a phone whose clock is a little off.
TOTP_TOLERANCE = 1


class SecondFactorRefused(Exception):
    """The code was wrong, already used, or tried too soon after wrong ones."""


def mfa_required(user):
    """Whether the user must have a second factor before reaching any page."""
    if not settings.MFA_ENFORCED:
        return False
    return (
        user.is_superuser
        or settings.MFA_REQUIRED_FOR_ALL
        or (bool(user.role) and user.role in settings.MFA_REQUIRED_ROLES)
    )


def authenticator_app(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def passkeys(user):
    return WebAuthnCredential.objects.devices_for_user(user, confirmed=True).order_by("pk")


def mfa_enrolled(user):
    """An authenticator app or a passkey; recovery codes alone are a way back, not a factor."""
    return authenticator_app(user) is not None or passkeys(user).exists()


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_key_new():
    """A secret for a new authenticator app, kept in the session until the user confirms it."""
    return random_hex(20)


def totp_provisioning(user, key):
    """The otpauth:// address the QR code carries, from the same unsaved device model."""
    return TOTPDevice(user=user, key=key, name=AUTHENTICATOR_APP).config_url


def totp_enrol(user, key, code):
    """Keep the authenticator app once it has shown a right code; else SecondFactorRefused."""
    totp = TOTP(unhexlify(key))
    totp.time = timezone.now().timestamp()
    if not _totp_shaped(code) or not totp.verify(int(code), tolerance=TOTP_TOLERANCE):
        raise SecondFactorRefused(
            "That code does not match. Check the clock on your phone and enter the newest code."
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        # last_t: the code just shown cannot be used again to sign in.
        device = TOTPDevice.objects.create(
            user=user, key=key, name=AUTHENTICATOR_APP, confirmed=True, last_t=totp.t()
        )
    log.info("MFA enrolled: authenticator app for user %s (id %s)", user.username, user.pk)
    return device


def recovery_codes_issue(user):
    """A new set of single-use recovery codes, replacing any earlier set; shown to the user once."""
    codes = [StaticToken.random_token() for _ in range(settings.MFA_RECOVERY_CODES)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_CODES, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    log.info("MFA recovery codes issued for user %s (id %s)", user.username, user.pk)
    return codes


def second_factor_check(user, code):
    """The device that accepts the code: six digits are an authenticator app's, anything else
    a recovery code (used up by this check). Raises SecondFactorRefused with a sentence."""
    code = "".join(code.split()).lower()
    if _totp_shaped(code):
        device = authenticator_app(user)
        wrong = "That code is not right, or was already used. Enter the newest code from your app."
    else:
        device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
        wrong = "That recovery code is not right, or was already used."
    if device is None:
        raise SecondFactorRefused(wrong)
    allowed, refusal = device.verify_is_allowed()
    if not allowed:
        raise SecondFactorRefused(
            "Too many wrong codes. Wait until "
            f"{timezone.localtime(refusal['locked_until']):%H:%M:%S} and try again."
        )
    # verify_token locks the device row, so two tries at once cannot both use one code.
    verified = verify_token(user, device.persistent_id, code)
    if verified is None:
        log.warning(
            "MFA code refused for user %s (id %s): %s",
            user.username,
            user.pk,
            device.name,
        )
        raise SecondFactorRefused(wrong)
    return verified


def mfa_reset(user, *, by):
    """Remove every second factor of `user`, so that they enrol again at their next sign-in
    (an administrator's answer to a lost phone). Recorded in the log with who did it."""
    with transaction.atomic():
        removed = sum(
            model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
            for model in (TOTPDevice, WebAuthnCredential)
        )
        StaticDevice.objects.filter(user=user).delete()
    log.warning(
        "MFA reset for user %s (id %s) by %s (id %s): %s second factor(s) and the recovery "
        "codes removed",
        user.username,
        user.pk,
        by.username,
        by.pk,
        removed,
    )
    return removed


def _totp_shaped(code):
    return len(code) == 6 and code.isdigit()
