"""History rows for set-based writers: one django-simple-history row per complaint, copied in
SQL from the complaint as it now stands.

bulk_update_with_history builds a CASE per field and row, which at thousands of rows costs
seconds; copying the rows in one INSERT ... SELECT costs milliseconds. The copy writes the
historical table's layout itself, so tests/complaints/test_history_copy.py pins it to
simple-history's model: an upgrade that adds or renames a history column fails that test
instead of writing incomplete rows in silence.
"""

from django.db import connection

from complaints.models import Complaint
from complaints.sql import among

# The columns simple-history adds to the copied fields; history_id is the table's own key.
HISTORY_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user_id")
HISTORY_KEY = "history_id"
CREATED, CHANGED = "+", "~"


def copied_columns():
    """The complaint's own columns, as the historical table repeats them."""
    return [
        field.column
        for field in Complaint.history.model._meta.concrete_fields
        if not field.name.startswith("history_")
    ]


def history_copy(keys, *, reason, at, user_id=None, kind=CHANGED, by="id", returning=()):
    """Write a history row for each complaint whose `by` column is among `keys`, as it stands
    now: CHANGED by default, CREATED for the rows an import just wrote. `returning` names
    columns of the new history rows to return (the import learns its new ids this way)."""
    if not keys:
        return []
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in copied_columns())
    history = ", ".join(quote(column) for column in HISTORY_COLUMNS)
    where, among_keys = among(quote(by), keys)
    returned = f" RETURNING {', '.join(quote(c) for c in returning)}" if returning else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Complaint.history.model._meta.db_table)} ({columns}, {history}) "  # noqa: S608  (names from models)  # nosec B608
            f"SELECT {columns}, %s, %s, %s, %s FROM {quote(Complaint._meta.db_table)} "
            f"WHERE {where}{returned}",
            [at, reason, kind, user_id, *among_keys],
        )
        return cursor.fetchall() if returning else []
