import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from accounts.mfa import mfa_enrolled, mfa_required

# When the session last saw a request, in seconds since the epoch.
LAST_ACTIVITY = "last_activity"
# The stamp is rewritten at most once a minute: a session write on every request would cost
# a database write each, and a minute's slack does not matter against a half-hour timeout.
STAMP_EVERY_SECONDS = 60


class IdleSessionTimeoutMiddleware:
    """Signs a user out after SESSION_IDLE_MINUTES without a request.

    Each request renews the time. A request that comes too late finds the user signed out
    and carries on as a visitor: LoginRequiredMiddleware then sends a page to the sign-in
    page, where the message says why, and the API answers 401.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY)
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes "
                    "without activity. Sign in again to carry on.",
                )
            elif last is None or now - last >= STAMP_EVERY_SECONDS:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


# Set by the second-factor page (and enrolment) once this session's answer is known, so that
# a signed-in user costs no device queries on each page.
ENROLLED_SESSION_KEY = "mfa_enrolled"
# Set when single sign-on signed the user in and the identity provider stands for the
# second factor (settings.OIDC_MFA_BY_PROVIDER).
PROVIDER_VERIFIED_SESSION_KEY = "mfa_by_identity_provider"


class SecondFactorMiddleware:
    """After the password, nothing but the second step: a user who has a second factor is
    asked for it, and a user who must have one and has none enrols first (accounts/mfa.py).

    Every view counts, public ones too: the API's views are public to LoginRequiredMiddleware
    because they check a token themselves, yet they also accept this session. An API call
    with a token and no session is not stopped here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if request.session.get(PROVIDER_VERIFIED_SESSION_KEY):
            return None
        stage = getattr(view_func, "second_factor_stage", None)
        # The passkey ceremonies are the second step itself (django-otp-webauthn); they
        # refuse to add a passkey to an account that has a factor this session has not passed.
        if stage == "step" or request.resolver_match.namespace == "otp_webauthn":
            return None
        if session_enrolled(request):
            return _to("mfa-verify", request)
        if mfa_required(user) and stage != "enrolment":
            return _to("mfa-enrol", request)
        return None


def session_enrolled(request, *, refresh=False):
    if refresh or ENROLLED_SESSION_KEY not in request.session:
        request.session[ENROLLED_SESSION_KEY] = mfa_enrolled(request.user)
    return request.session[ENROLLED_SESSION_KEY]


def _to(name, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
