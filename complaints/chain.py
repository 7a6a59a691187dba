"""The tamper-evident record: what each kind of record row contributes to its case's hash
chain, and the hashes themselves.

A row's content hash is SHA-256 over its columns, each written as `<length>:<text>` (or `~`
for NULL), moments as microseconds since 1970, so no value can pass for another. It is
computed in Python on any database, and in SQL on PostgreSQL (the same text, built by
`content_sql`), so the verification of a million cases reads no row into Python;
tests/complaints/test_record_chain.py holds the two to each other.

A link's chain hash is SHA-256 of the previous link's chain hash and the row's content hash:
a changed, removed, added or reordered row breaks every link after it.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import models

from complaints.models import Anonymisation, Complaint, Note, OutboundMessage, StageChange

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
NULL = "~"


@dataclass(frozen=True)
class Kind:
    """One kind of record row: its model, the columns hashed and how it names its case."""

    name: str
    model: type
    complaint_column: str
    # Columns that change after the row is written by design (a message's delivery state)
    # are left out; every other column is hashed.
    excluded: tuple = ()

    @property
    def fields(self):
        return [f for f in self.model._meta.concrete_fields if f.column not in self.excluded]

    @property
    def table(self):
        return self.model._meta.db_table

    @property
    def pk_column(self):
        return self.model._meta.pk.column

    def rows(self):
        """The rows of this kind that belong to a case."""
        return self.model.objects.filter(**{f"{self.complaint_column}__isnull": False})


def _history_model():
    return Complaint.history.model


KINDS = {
    kind.name: kind
    for kind in (
        Kind("stage", StageChange, "complaint_id"),
        Kind("history", _history_model(), "id"),
        Kind("note", Note, "complaint_id"),
        Kind(
            "message",
            OutboundMessage,
            "complaint_id",
            excluded=(
                "status",
                "attempts",
                "last_error",
                "next_attempt_at",
                "claimed_at",
                "sent_at",
                "posted_by_id",
                # Added after messages were first chained: hashing them would change the hash
                # of every message chained before (a letter's text and subject are hashed; its
                # PDF is a document with its own SHA-256).
                "channel",
                "postal_address",
                "letter_id",
            ),
        ),
        # The signed record an anonymisation leaves: chained like any other row.
        Kind("seal", Anonymisation, "complaint_id"),
    )
}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def chain_hash(previous, content_hash):
    return sha256((previous or "") + content_hash)


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str((value - EPOCH) // MICROSECOND)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def content_text(kind, values):
    """The hashed text of one row, from its values in `kind.fields` order."""
    parts = [kind.name, ":"]
    for value in values:
        text = _text(value)
        parts.append(NULL if text is None else f"{len(text)}:{text}")
    return "".join(parts)


def content_hash(kind, values):
    return sha256(content_text(kind, values))


def row_hashes(kind, ids):
    """{id: content hash} of the rows of `kind` among `ids`, hashed in Python."""
    columns = [f.attname for f in kind.fields]
    pk = kind.model._meta.pk.attname
    return {
        values[columns.index(pk)]: content_hash(kind, values)
        for values in kind.model.objects.filter(pk__in=ids).values_list(*columns)
    }


def _column_sql(field, alias):
    column = f'{alias}."{field.column}"'
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        text = f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint::text"
    elif internal == "DateField":
        text = f"to_char({column}, 'YYYY-MM-DD')"
    elif isinstance(field, models.BooleanField):
        text = f"CASE WHEN {column} THEN 'true' ELSE 'false' END"
    else:
        text = f"{column}::text"
    return f"COALESCE(length({text})::text || ':' || {text}, '{NULL}')"


def content_sql(kind, alias):
    """PostgreSQL expression for the content hash of the row `alias` of `kind`."""
    parts = " || ".join(_column_sql(field, alias) for field in kind.fields)
    return f"encode(sha256(convert_to('{kind.name}:' || {parts}, 'UTF8')), 'hex')"
