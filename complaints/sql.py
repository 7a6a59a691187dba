"""SQL fragments shared by the set-based writers (jobs, imports)."""

from django.db import connection


def among(column, values):
    """SQL and parameters for `column IN values`: a single array parameter on PostgreSQL, so a
    batch of thousands costs the driver one value to send, not thousands of placeholders; a
    placeholder each on the embedded SQLite, which has no arrays."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values
