import logging
import sys

import psycopg
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control


class SecurityHeadersMiddleware:
    """A Content Security Policy that allows no inline script, on every response.

    Views that need a stricter policy (attachment downloads) set their own header first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response Django makes.

    Signed-in pages, the API, CSV exports, attachment downloads and the customer's link pages
    all carry personal data, which neither a shared computer's browser cache nor a proxy may
    keep (its Back button included). Static files never reach this middleware: WhiteNoise,
    above it, answers them with its own long-lived caching headers. Directives a view set
    itself (never_cache's, say) are kept beside no-store.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response


# PostgreSQL unreachable -------------------------------------------------------------------

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 60
# SQLSTATEs that mean "no database to talk to": the connection exception class (08), the
# server shutting down or starting up (57P01-57P03), and no connection slot free (53300).
# Errors the server reports about a statement (a deadlock, a lock or statement timeout) are
# not an outage and stay ordinary server errors.
UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def database_unreachable(error):
    """Whether `error` says PostgreSQL could not be reached or the connection was lost."""
    if isinstance(error, InterfaceError | psycopg.InterfaceError):
        return True  # "connection already closed"
    if not isinstance(error, OperationalError | psycopg.OperationalError):
        return False
    cause = error if isinstance(error, psycopg.Error) else error.__cause__
    if not isinstance(cause, psycopg.Error):
        return False  # SQLite's "database is locked" or "no such table" is not an outage
    # Refused, timed out or cut mid-query: psycopg reports those with no SQLSTATE at all.
    return cause.sqlstate is None or cause.sqlstate.startswith(UNREACHABLE_SQLSTATES)


def _remember_database_error(sender, request=None, **kwargs):
    # Sent by Django while it turns an uncaught exception into a 500, wherever it was raised:
    # a view, a template, or a middleware below ours (the session, the signed-in user).
    error = sys.exc_info()[1]
    if request is not None and database_unreachable(error):
        request.database_unreachable = error


class DatabaseUnavailableMiddleware:
    """Answer 503 with a short page (JSON under /api/) when PostgreSQL cannot be reached.

    Django turns every exception into a response in the layer where it is raised, so an
    outer middleware never sees it; Django's got_request_exception signal marks the request
    instead, and the 500 that comes back is replaced here. The page is rendered without a
    request, so no context processor touches the database. Every write is one transaction,
    so a request cut off here has written nothing half-way.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(
            _remember_database_error, dispatch_uid="redress-database-unreachable"
        )

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, "database_unreachable", None)
        if error is None:
            return response
        log.warning(
            "Database unreachable, answered 503 to %s %s: %r", request.method, request.path, error
        )
        return database_unavailable_response(request)


def database_unavailable_response(request):
    sent_something = request.method not in ("GET", "HEAD", "OPTIONS")
    if request.path.startswith("/api/"):
        message = "Redress can't reach its database right now. " + (
            "The request was not carried out; send it again in a minute."
            if sent_something
            else "Try again in a minute."
        )
        response = JsonResponse({"errors": [{"field": None, "message": message}]}, status=503)
    else:
        response = HttpResponse(
            render_to_string("503.html", {"sent_something": sent_something}), status=503
        )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response
