"""The tables the load writes with binary COPY, bypassing the ORM's row-by-row inserts."""

import operator

from django.db import connection
from psycopg import sql

from complaints.models import (
    Complaint,
    ComplaintClock,
    Consultation,
    Feedback,
    Resolution,
    Signal,
    StageChange,
)


class Table:
    """One table written with binary COPY. Its columns come from the model, so a column added
    later with a default (or blank) is filled with that default instead of breaking the load."""

    def __init__(self, model):
        self.model = model
        self.name = model._meta.db_table
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.pk = model._meta.pk.column
        self.missing = None
        self.next_id = 1

    def take_id(self):
        value = self.next_id
        self.next_id += 1
        return value

    def copy(self, rows):
        if not rows:
            return
        if self.missing is None:
            self.missing = [f for f in self.fields if f.column not in rows[0]]
        values_of = operator.itemgetter(*self.columns)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in self.columns)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
                "AND attnum > 0 AND NOT attisdropped",
                [self.name],
            )
            types = dict(cursor.fetchall())
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {quote(self.name)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types([types[c] for c in self.columns])
            for values in rows:
                for f in self.missing:
                    values[f.column] = f.get_default()
                copy.write_row(values_of(values))

    def reset_sequence(self):
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), "
                    "(SELECT coalesce(max({}), 0) + 1 FROM {}), false)"
                ).format(sql.Identifier(self.pk), sql.Identifier(self.name)),
                [self.name, self.pk],
            )

    def dangling_references(self):
        """Rows whose foreign keys point nowhere (the load skips the per-row checks)."""
        found = 0
        with connection.cursor() as cursor:
            for f in self.fields:
                if not (f.is_relation and f.db_constraint):
                    continue
                target = f.related_model._meta
                cursor.execute(
                    sql.SQL(
                        "SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "
                        "AND NOT EXISTS (SELECT 1 FROM {target} r WHERE r.{target_pk} = t.{column})"
                    ).format(
                        table=sql.Identifier(self.name),
                        column=sql.Identifier(f.column),
                        target=sql.Identifier(target.db_table),
                        target_pk=sql.Identifier(target.pk.column),
                    )
                )
                found += cursor.fetchone()[0]
        return found


def tables():
    return {
        model._meta.model_name: Table(model)
        for model in (
            Complaint,
            StageChange,
            Complaint.history.model,
            Resolution,
            Feedback,
            Consultation,
            Signal,
            ComplaintClock,
        )
    }
