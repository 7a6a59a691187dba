"""Verifying the tamper-evident record (complaints/chain.py): every chained row recomputed
against its link, every link against the one before it, every row of the record that should
have been chained, and every anonymisation's signed seal.

On PostgreSQL the comparisons run in SQL and return only the breaks; elsewhere (the embedded
SQLite of a first look) the same checks run in Python.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core import signing
from django.db import connection
from django.db.models import Exists, OuterRef

from complaints import chain
from complaints.models import Anonymisation, Complaint, RecordChainMark, RecordLink

SEAL_SALT = "redress.anonymisation"
CHUNK = 20_000

PROBLEMS = {
    "removed": "the row was deleted",
    "changed": "the row was changed after it was recorded",
    "chain": "the chain is broken here (a link was removed, reordered or rewritten)",
    "unchained": "the row is not in the record (written around it)",
    "seal": "the anonymisation seal does not match (forged or the scrubbed rows changed)",
}


@dataclass(frozen=True)
class Break:
    complaint_id: int
    seq: int
    kind: str
    object_id: int
    problem: str

    @property
    def explanation(self):
        return PROBLEMS[self.problem]


@dataclass
class Verification:
    cases: int = 0
    links: int = 0
    breaks: list = field(default_factory=list)

    @property
    def intact(self):
        return not self.breaks

    def references(self):
        """{complaint id: reference} of the cases with a break, for people to read."""
        ids = {b.complaint_id for b in self.breaks}
        return dict(Complaint.objects.filter(pk__in=ids).values_list("pk", "reference"))


def seal_payload(record):
    """The signed content of an anonymisation record, or None if the signature fails."""
    try:
        return signing.loads(record, salt=SEAL_SALT)
    except signing.BadSignature:
        return None


def record_verify(complaint_ids=None, *, in_sql=None):
    """Check the record of the given cases (all when None) and return what is broken."""
    in_sql = connection.vendor == "postgresql" if in_sql is None else in_sql
    links = RecordLink.objects.all()
    if complaint_ids is not None:
        links = links.filter(complaint_id__in=complaint_ids)
    result = Verification(
        cases=links.values("complaint_id").distinct().count(), links=links.count()
    )
    found = _sql_breaks(complaint_ids) if in_sql else _python_breaks(complaint_ids)
    found += _unchained(complaint_ids)
    found += _seal_breaks(complaint_ids)
    result.breaks = sorted(set(found), key=lambda b: (b.complaint_id, b.seq, b.kind))
    return result


def _scope(complaint_ids, column="l.complaint_id"):
    if complaint_ids is None:
        return "", []
    return f" AND {column} = ANY(%s)", [list(complaint_ids)]


def _query(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sql_breaks(complaint_ids):
    where, params = _scope(complaint_ids)
    link_table = RecordLink._meta.db_table
    found = []
    for kind in chain.KINDS.values():
        pk = f'r."{kind.pk_column}"'
        rows = _query(
            f"SELECT l.complaint_id, l.seq, l.kind, l.object_id, "  # noqa: S608  # nosec B608  (names from models)
            f"CASE WHEN {pk} IS NULL THEN 'removed' ELSE 'changed' END "
            f'FROM "{link_table}" l LEFT JOIN "{kind.table}" r ON {pk} = l.object_id '
            f"WHERE l.kind = %s{where} AND ({pk} IS NULL OR {chain.content_sql(kind, 'r')} "
            "<> COALESCE(NULLIF(l.current_hash, ''), l.content_hash))",
            [kind.name, *params],
        )
        found += [Break(*row) for row in rows]
    where, params = _scope(complaint_ids, "complaint_id")
    rows = _query(
        "SELECT complaint_id, seq, kind, object_id, 'chain' FROM ("  # noqa: S608  # nosec B608
        "SELECT complaint_id, seq, kind, object_id, content_hash, chain_hash, "
        "LAG(chain_hash) OVER w AS previous, LAG(seq) OVER w AS previous_seq "
        f'FROM "{link_table}" WHERE TRUE{where} '
        "WINDOW w AS (PARTITION BY complaint_id ORDER BY seq)) t "
        "WHERE seq <> COALESCE(previous_seq, 0) + 1 OR chain_hash <> "
        "encode(sha256(convert_to(COALESCE(previous, '') || content_hash, 'UTF8')), 'hex')",
        params,
    )
    return found + [Break(*row) for row in rows]


def _python_breaks(complaint_ids):
    links = RecordLink.objects.order_by("complaint_id", "seq")
    if complaint_ids is not None:
        links = links.filter(complaint_id__in=complaint_ids)
    found = []
    previous = (None, 0, "")
    batch = []

    def check(batch):
        ids = defaultdict(list)
        for link in batch:
            ids[link.kind].append(link.object_id)
        hashes = {
            name: chain.row_hashes(chain.KINDS[name], kind_ids) for name, kind_ids in ids.items()
        }
        for link in batch:
            current = hashes[link.kind].get(link.object_id)
            if current is None:
                found.append(_break(link, "removed"))
            elif current != (link.current_hash or link.content_hash):
                found.append(_break(link, "changed"))

    for link in links.iterator(chunk_size=CHUNK):
        complaint_id, seq, tip = previous
        if link.complaint_id != complaint_id:
            seq, tip = 0, ""
        if link.seq != seq + 1 or link.chain_hash != chain.chain_hash(tip, link.content_hash):
            found.append(_break(link, "chain"))
        previous = (link.complaint_id, link.seq, link.chain_hash)
        batch.append(link)
        if len(batch) >= CHUNK:
            check(batch)
            batch = []
    check(batch)
    return found


def _break(link, problem):
    return Break(link.complaint_id, link.seq, link.kind, link.object_id, problem)


def _unchained(complaint_ids):
    """Rows at or below the chaining mark that no link holds: written around the record."""
    marks = dict(RecordChainMark.objects.values_list("kind", "last_id"))
    found = []
    for kind in chain.KINDS.values():
        linked = RecordLink.objects.filter(kind=kind.name, object_id=OuterRef("pk"))
        rows = kind.rows().filter(pk__lte=marks.get(kind.name, 0))
        if complaint_ids is not None:
            rows = rows.filter(**{f"{kind.complaint_column}__in": complaint_ids})
        rows = rows.exclude(Exists(linked)).values_list(kind.complaint_column, "pk")
        found += [Break(case, 0, kind.name, pk, "unchained") for case, pk in rows]
    return found


def sealed_digest(hashes):
    """The digest a seal signs: the case's first links' current hashes, in order."""
    return chain.sha256("".join(hashes))


def _seal_breaks(complaint_ids):
    seals = Anonymisation.objects.all()
    if complaint_ids is not None:
        seals = seals.filter(complaint_id__in=complaint_ids)
    found = []
    for start in range(0, seals.count(), CHUNK):
        chunk = list(
            seals.order_by("complaint_id").values_list(
                "pk", "complaint_id", "record", "sealed_links"
            )[start : start + CHUNK]
        )
        hashes = defaultdict(list)
        for complaint_id, current, content in (
            RecordLink.objects.filter(complaint_id__in=[c for _, c, _, _ in chunk])
            .order_by("complaint_id", "seq")
            .values_list("complaint_id", "current_hash", "content_hash")
        ):
            hashes[complaint_id].append(current or content)
        for pk, complaint_id, record, sealed in chunk:
            payload = seal_payload(record)
            if (
                payload is None
                or payload.get("links") != sealed
                or payload.get("complaint") != complaint_id
                or payload.get("digest") != sealed_digest(hashes[complaint_id][:sealed])
            ):
                found.append(Break(complaint_id, 0, "seal", pk, "seal"))
    return found
