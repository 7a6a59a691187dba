"""SQL fragments shared by the set-based writers (jobs, imports)."""

from django.db import connection
from django.db.models.expressions import RawSQL


def among(column, values):
    """SQL and parameters for `column IN values`: a single array parameter on PostgreSQL, so a
    batch of thousands costs the driver one value to send, not thousands of placeholders; a
    placeholder each on the embedded SQLite, which has no arrays."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def id_array(ids):
    """A PostgreSQL array literal of integer keys, for `= ANY(%s::bigint[])`: the driver quotes
    one string where it would dump a list value by value (a thousand placeholders cost more
    still), often for longer than the statement takes to run."""
    return "{" + ",".join(map(str, ids)) + "}"


def id_batch(ids):
    """The value of an ORM `__in` lookup over a batch of integer keys: `IN (SELECT unnest(...))`
    of one `id_array` on PostgreSQL; the list itself on the embedded SQLite."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [id_array(ids)])
    return ids
