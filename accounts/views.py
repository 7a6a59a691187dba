"""Sign-in: the password page, the second step, enrolment and recovery codes, single sign-on."""

import logging
from base64 import b32encode
from binascii import unhexlify

import jwt
import requests
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from accounts import mfa
from accounts.decorators import before_enrolment, before_second_factor
from accounts.forms import AuthenticatorConfirmForm, SecondFactorForm
from accounts.middleware import PROVIDER_VERIFIED_SESSION_KEY, session_enrolled

log = logging.getLogger(__name__)

TOTP_KEY_SESSION_KEY = "mfa_totp_key"
NEW_CODES_SESSION_KEY = "mfa_new_recovery_codes"
FAILURES_SESSION_KEY = "mfa_failures"


def single_sign_on_configured():
    return bool(settings.OIDC_RP_CLIENT_ID)


class SignInView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if settings.OIDC_ONLY:
            messages.error(request, f"Sign in with {settings.OIDC_PROVIDER_NAME}.")
            return redirect("login")
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            single_sign_on=single_sign_on_configured(),
            provider_name=settings.OIDC_PROVIDER_NAME,
            passwords=not settings.OIDC_ONLY,
            **kwargs,
        )


@before_second_factor
def second_factor(request):
    """The second step after the password: a code from the app, a recovery code or a passkey."""
    user = request.user
    if user.is_verified() or not session_enrolled(request, refresh=True):
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.second_factor_check(user, form.cleaned_data["code"])
        except mfa.SecondFactorRefused as refused:
            failures = request.session.get(FAILURES_SESSION_KEY, 0) + 1
            if failures >= settings.MFA_FAILURE_LIMIT:
                log.warning(
                    "MFA: user %s (id %s) signed out after %s wrong codes",
                    user.username,
                    user.pk,
                    failures,
                )
                logout(request)
                messages.error(request, "Too many wrong codes: sign in again.")
                return redirect("login")
            request.session[FAILURES_SESSION_KEY] = failures
            form.add_error("code", str(refused))
        else:
            # A new session id once the sign-in is complete, as after the password.
            request.session.cycle_key()
            request.session.pop(FAILURES_SESSION_KEY, None)
            otp_login(request, device)
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/second_factor.html",
        {
            "form": form,
            "next": _next_url(request),
            "codes": mfa.authenticator_app(user) is not None or mfa.recovery_codes_left(user),
            "passkeys": mfa.passkeys(user).exists(),
        },
    )


@before_enrolment
def enrol(request):
    """Set up an authenticator app (a QR code, then one code from it) or a passkey."""
    user = request.user
    if mfa.authenticator_app(user) is not None:
        messages.info(request, "Your authenticator app is already set up.")
        return redirect("mfa")
    key = request.session.setdefault(TOTP_KEY_SESSION_KEY, mfa.totp_key_new())
    form = AuthenticatorConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = mfa.totp_enrol(user, key, form.cleaned_data["code"])
        except mfa.SecondFactorRefused as refused:
            form.add_error("code", str(refused))
        else:
            del request.session[TOTP_KEY_SESSION_KEY]
            session_enrolled(request, refresh=True)
            if not request.user.is_verified():
                otp_login(request, device)
            if not mfa.recovery_codes_left(user):
                request.session[NEW_CODES_SESSION_KEY] = mfa.recovery_codes_issue(user)
            messages.success(request, "Your authenticator app is set up.")
            return redirect("mfa-recovery-codes")
    provisioning = mfa.totp_provisioning(user, key)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "required": mfa.mfa_required(user),
            "qr_code": segno.make(provisioning, error="m").svg_data_uri(scale=5),
            "secret": b32encode(unhexlify(key)).decode(),
            "passkeys_possible": settings.MFA_PASSKEYS,
        },
    )


@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """New recovery codes are shown here once; after that only how many are left."""
    if request.method == "POST":
        request.session[NEW_CODES_SESSION_KEY] = mfa.recovery_codes_issue(request.user)
        return redirect("mfa-recovery-codes")
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": request.session.pop(NEW_CODES_SESSION_KEY, None),
            "left": mfa.recovery_codes_left(request.user),
        },
    )


@require_GET
def two_step(request):
    """The user's own second factors: the app, passkeys, recovery codes."""
    user = request.user
    return render(
        request,
        "accounts/two_step.html",
        {
            "authenticator_app": mfa.authenticator_app(user),
            "passkeys": mfa.passkeys(user),
            "recovery_codes_left": mfa.recovery_codes_left(user),
            "required": mfa.mfa_required(user),
            "passkeys_possible": settings.MFA_PASSKEYS,
            "single_sign_on": request.session.get(PROVIDER_VERIFIED_SESSION_KEY, False),
        },
    )


# Single sign-on -----------------------------------------------------------------------------


@login_not_required
@before_second_factor
@require_GET
def sso_start(request):
    """To the identity provider (mozilla-django-oidc), when one is configured."""
    if not single_sign_on_configured():
        messages.error(request, "Single sign-on is not set up here: sign in with your password.")
        return redirect("login")
    return OIDCAuthenticationRequestView.as_view()(request)


class SingleSignOnCallbackView(OIDCAuthenticationCallbackView):
    """Back from the identity provider: signed in, or back at the sign-in page with a reason."""

    def get(self, request):
        if not single_sign_on_configured():
            return self.login_failure()
        try:
            return super().get(request)
        except jwt.PyJWTError as error:
            # An expired or otherwise unusable ID token (a forged one is SuspiciousOperation).
            log.warning("Single sign-on: the ID token was refused: %s", error)
            return self.login_failure()
        except requests.RequestException as error:
            log.error("Single sign-on: the identity provider could not be reached: %s", error)
            messages.error(
                request,
                f"{settings.OIDC_PROVIDER_NAME} could not be reached. Try again in a moment.",
            )
            return redirect("login")

    def login_failure(self):
        messages.error(
            self.request,
            f"Signing in with {settings.OIDC_PROVIDER_NAME} did not succeed. Your account may "
            "not be in a group that has a role here: ask your administrator.",
        )
        return redirect("login")

    def login_success(self):
        response = super().login_success()
        if settings.OIDC_MFA_BY_PROVIDER:
            self.request.session[PROVIDER_VERIFIED_SESSION_KEY] = True
        return response


sso_callback = login_not_required(before_second_factor(SingleSignOnCallbackView.as_view()))


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)
