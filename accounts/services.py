"""Every write in accounts: the security event log and API tokens."""

import ipaddress
import secrets
from datetime import timedelta

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import (
    ApiToken,
    ApiTokenScope,
    SecurityEvent,
    SecurityEventKind,
    api_token_hash,
)

# A token's use is logged once an hour at most (and its last_used_at kept to the hour):
# integrations call many times a minute, and the log is for people to read.
TOKEN_USE_RECORD_INTERVAL = timedelta(hours=1)


def request_address(request):
    """The address the request came from, as the sign-in lockout counts it (None if unknown)."""
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(get_client_ip_address(request) or ""))
    except ValueError:
        return None


def security_event_record(kind, *, request=None, actor=None, username="", detail=""):
    """Append one event to the security log.

    `request` gives the address and, when no actor is named, the signed-in user. Other code
    calls this for data leaving the system, for example
    `security_event_record(SecurityEventKind.DATA_EXPORTED, request=request,
    detail="Complaint list CSV: 120 complaints")`.
    """
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    return SecurityEvent.objects.create(
        kind=SecurityEventKind(kind),
        actor=actor,
        username=username or (actor.get_username() if actor else ""),
        address=request_address(request),
        detail=detail[:500],
    )


def api_token_create(*, user, name, scope=ApiTokenScope.READ, expires_at=None, actor=None):
    """A new token for `user`; returns (token, key). The key is not stored: show it once."""
    token = ApiToken(user=user, name=name, scope=ApiTokenScope(scope), expires_at=expires_at)
    return token, api_token_issue(token, actor=actor)


def api_token_issue(token, *, actor=None):
    """Give the unsaved `token` its key and save it; returns the key, which is not stored."""
    key = secrets.token_urlsafe(32)
    token.prefix = key[:8]
    token.key_hash = api_token_hash(key)
    if token.expires_at is None:
        token.expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    token.save()
    security_event_record(
        SecurityEventKind.API_TOKEN_CREATED,
        actor=actor,
        username=actor.get_username() if actor else token.user.get_username(),
        detail=f"{token} for {token.user.get_username()}, {token.get_scope_display().lower()}, "
        f"expires {token.expires_at:%Y-%m-%d}",
    )
    return key


def api_token_revoke(token, *, actor=None):
    """Stop the token working at once; it stays listed, revoked, for the record."""
    if ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()):
        token.refresh_from_db(fields=["revoked_at"])
        security_event_record(
            SecurityEventKind.API_TOKEN_REVOKED,
            actor=actor,
            detail=f"{token} of {token.user.get_username()}",
        )


def api_token_use(token, request):
    """Note that the token was used, once an hour at most (two requests at once note it once)."""
    now = timezone.now()
    stale = now - TOKEN_USE_RECORD_INTERVAL
    if token.last_used_at is not None and token.last_used_at >= stale:
        return  # noted within the hour, as the row just read says: no UPDATE to find out
    claimed = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at=None) | Q(last_used_at__lt=stale))
        .update(last_used_at=now)
    )
    if claimed:
        security_event_record(
            SecurityEventKind.API_TOKEN_USED,
            request=request,
            actor=token.user,
            detail=f"{token}: {request.method} {request.path}",
        )
