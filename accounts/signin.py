"""What happens around signing in: the session's lifetime and the client's address."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone


@receiver(user_logged_in, dispatch_uid="redress-session-lifetime")
def _session_ends_at_a_fixed_time(sender, request, user, **kwargs):
    # The idle timeout saves the session as the user works, and each save would push a
    # relative expiry on again; a fixed end keeps SESSION_COOKIE_AGE the longest a session
    # lives, however busy.
    if request is not None and hasattr(request, "session"):
        request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))


def client_address(request):
    """The client's address behind one reverse proxy (BEHIND_PROXY): the last address in
    X-Forwarded-For, which the proxy appended; any before it the client may have made up."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    address = forwarded.rsplit(",", 1)[-1].strip()
    return address or request.META.get("REMOTE_ADDR")
