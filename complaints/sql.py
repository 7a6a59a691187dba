"""SQL fragments shared by the set-based writers (jobs, imports)."""

from django.db import connection
from django.db.models import BooleanField
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


def ids_among(column, ids):
    """A condition for filter(): the integer `column` of the queried table holds one of `ids`.
    On PostgreSQL `= ANY` of one `id_array`, which the planner estimates as well as an IN list
    (an `IN (SELECT unnest(...))` hides the count, and it hash-joins whole tables instead of
    reading an index); an IN list on the embedded SQLite."""
    quoted = connection.ops.quote_name(column)
    ids = list(ids)
    if connection.vendor == "postgresql":
        sql, params = f"{quoted} = ANY(%s::bigint[])", [id_array(ids)]
    else:
        sql, params = f"{quoted} IN ({', '.join(['%s'] * len(ids))})", ids
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611  # nosec B611  (a column name from models; the keys are parameters)
