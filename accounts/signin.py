"""What happens around signing in: the session's lifetime, the client's address, and the
security log's record of sign-ins, failures, lockouts and sign-outs."""

import ipaddress
from datetime import timedelta

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import SecurityEventKind
from accounts.services import security_event_record


@receiver(user_logged_in, dispatch_uid="redress-session-lifetime")
def _session_ends_at_a_fixed_time(sender, request, user, **kwargs):
    # The idle timeout saves the session as the user works, and each save would push a
    # relative expiry on again; a fixed end keeps SESSION_COOKIE_AGE the longest a session
    # lives, however busy.
    if request is not None and hasattr(request, "session"):
        request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))


@receiver(user_logged_in, dispatch_uid="redress-record-sign-in")
def _record_sign_in(sender, request, user, **kwargs):
    security_event_record(SecurityEventKind.SIGNED_IN, request=request, actor=user)


@receiver(user_logged_out, dispatch_uid="redress-record-sign-out")
def _record_sign_out(sender, request, user, **kwargs):
    if user is not None:
        security_event_record(SecurityEventKind.SIGNED_OUT, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="redress-record-sign-in-failure")
def _record_sign_in_failure(sender, credentials, request=None, **kwargs):
    security_event_record(
        SecurityEventKind.SIGN_IN_FAILED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
    )


@receiver(user_locked_out, dispatch_uid="redress-record-lockout")
def _record_lockout(sender, request, username, ip_address, **kwargs):
    security_event_record(
        SecurityEventKind.LOCKED_OUT,
        request=request,
        username=str(username or "")[:150],
        detail=f"{settings.AXES_FAILURE_LIMIT} failed sign-ins; paused for "
        f"{settings.AXES_COOLOFF_TIME}",
    )


def attempted_username(request, credentials=None):
    """The name a sign-in attempt gave, as django-axes counts and records it: cut to the
    longest a username can be, which names the same accounts. Whole, a 50,000-character name
    overflowed axes's column, its record of the failure was lost and the sign-in was a
    server error."""
    if credentials:
        name = credentials.get("username")
    else:
        name = getattr(request, "data", request.POST).get("username")
    if name is None:
        return None
    return str(name)[: get_user_model()._meta.get_field("username").max_length]


def client_address(request):
    """The client's address behind one reverse proxy (BEHIND_PROXY): the last address in
    X-Forwarded-For, which the proxy appended; any before it the client may have made up."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    try:
        return str(ipaddress.ip_address(forwarded.rsplit(",", 1)[-1].strip()))
    except ValueError:
        return request.META.get("REMOTE_ADDR")
