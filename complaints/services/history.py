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
CHANGED = "~"


def copied_columns():
    """The complaint's own columns, as the historical table repeats them."""
    return [
        field.column
        for field in Complaint.history.model._meta.concrete_fields
        if not field.name.startswith("history_")
    ]


def history_copy(ids, *, reason, at, user_id=None, table=None):
    """Write a 'changed' history row for each complaint in `ids`, as it stands now.

    `table` is the complaints table to copy from: the import copies from its staging table.
    """
    if not ids:
        return
    historical = Complaint.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in copied_columns())
    history = ", ".join(quote(column) for column in HISTORY_COLUMNS)
    where, among_ids = among("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(historical._meta.db_table)} ({columns}, {history}) "  # noqa: S608  (names from models)  # nosec B608
            f"SELECT {columns}, %s, %s, %s, %s FROM {quote(table or Complaint._meta.db_table)} "
            f"WHERE {where}",
            [at, reason, CHANGED, user_id, *among_ids],
        )
