"""Reads of the dashboard, the reports and the exports go to a PostgreSQL read replica.

With DATABASE_REPLICA_URL set, settings.py adds a `replica` alias; without it every query
goes to `default`, as before. The replica is a streaming standby, so it runs behind the
primary by a little (docs/scaling.md measures how much). Two rules keep that invisible:

- Only some pages read from it, and only their complaint and report rows: the heavy,
  read-only pages (REPLICA_VIEWS). People, sessions, tokens and sign-in lockouts are
  always read from the primary, where a change (a deactivated user, a signed-out session)
  takes effect at once.
- Whoever has just written reads from the primary: every POST (or other unsafe method)
  answers with a short-lived cookie, and while a browser sends it, its pages read from the
  primary. A manager who closes a complaint and opens the dashboard sees it closed.

A view cannot choose its database here by model alone: the same Complaint rows that the
dashboard may read a second late must be read fresh, under a row lock, by every service
that changes them. So the choice is made per request, by the page asked for.
"""

import contextvars

from django.conf import settings
from django.core.signals import request_finished
from django.db import DEFAULT_DB_ALIAS, connections
from django.dispatch import receiver

REPLICA = "replica"
# The pages whose complaint and report reads may come from the replica.
REPLICA_VIEWS = frozenset(
    {
        "home",  # each role's queues; the managers' dashboard
        "complaints:export",
        "reports:list",
        "reports:detail",
        "reports:csv",
    }
)
# The apps whose rows those pages read in bulk.
REPLICA_APPS = frozenset({"complaints", "reports"})
PIN_COOKIE = "redress_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Set by ReplicaReadsMiddleware for the request being served. A CSV export streams after
# the view has returned, so the mark lasts until the response is closed (request_finished).
_replica_reads = contextvars.ContextVar("replica_reads", default=False)


def replica_configured():
    return REPLICA in settings.DATABASES


def set_replica_reads(allowed):
    _replica_reads.set(allowed)


@receiver(request_finished)
def _replica_reads_end(**kwargs):
    _replica_reads.set(False)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _replica_reads.get()
            and model._meta.app_label in REPLICA_APPS
            and replica_configured()
            # Inside a transaction a read must see the transaction's own writes.
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: an object read from either may refer to one
        # read from the other.
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}

    def allow_migrate(self, db, app_label, **hints):
        # The standby replays the primary's schema; it cannot be migrated itself.
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Marks the request whose reads may go to the replica, and pins a browser that has just
    written to the primary for REPLICA_PIN_SECONDS (longer than the replica's lag)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        set_replica_reads(False)
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and replica_configured():
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        set_replica_reads(
            request.method in SAFE_METHODS
            and request.resolver_match.view_name in REPLICA_VIEWS
            and PIN_COOKIE not in request.COOKIES
            and replica_configured()
        )
