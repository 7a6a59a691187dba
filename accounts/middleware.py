import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

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
