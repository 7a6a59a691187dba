"""What is new for whom: the signals a person has yet to open, and those no digest has told
of yet. Every read here goes through one of Signal's partial indexes."""

from django.db.models import Count

from complaints.models import Signal

# A queue raises at most this many of its rows as new; beyond it they keep their place in
# deadline order (the count at the top of the page still says how many there are).
NEW_ROWS_LIMIT = 50


def signals_unseen(user):
    return Signal.objects.filter(user=user, seen_at__isnull=True)


def signal_counts(user):
    """{kind: cases} of what is new for `user`, each case counted once per kind."""
    rows = (
        signals_unseen(user)
        .order_by()
        .values("kind")
        .annotate(cases=Count("complaint_id", distinct=True))
    )
    return {row["kind"]: row["cases"] for row in rows}


def complaints_new_for(user, limit=NEW_ROWS_LIMIT):
    """The ids of the cases with something new for `user`, the latest first."""
    ids = signals_unseen(user).order_by("-complaint_id").values_list("complaint_id", flat=True)
    return list(ids.distinct()[:limit])


def signals_to_notify():
    """The oldest signals no digest has told of yet, for the digest job to lock."""
    return (
        Signal.objects.filter(notified_at__isnull=True)
        .select_related("complaint", "user")
        .order_by("raised_at", "id")
    )
