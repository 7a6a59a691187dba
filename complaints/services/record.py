"""The tamper-evident record: the chaining job appends each new record row (stage change,
history row, note, message, anonymisation seal) to its case's hash chain, so no write path
has to know about it.

Rows are found by id above each kind's mark. A row whose transaction committed after a
higher id was chained is a straggler: each run looks again a window below the mark for rows
still without a link.
"""

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery

from complaints import chain
from complaints.models import RecordChainMark, RecordLink

BATCH = 5_000
STRAGGLER_WINDOW = 10_000


def content_hashes(kind, ids):
    """{id: content hash} of the rows of `kind` among `ids`: in SQL on PostgreSQL."""
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        return chain.row_hashes(kind, ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT r."{kind.pk_column}", {chain.content_sql(kind, "r")} '  # noqa: S608  # nosec B608  (names from models)
            f'FROM "{kind.table}" r WHERE r."{kind.pk_column}" = ANY(%s)',
            [list(ids)],
        )
        return dict(cursor.fetchall())


def heads(complaint_ids):
    """{complaint id: (seq, chain hash)} of the last link of each case that has one."""
    last = (
        RecordLink.objects.filter(complaint_id=OuterRef("complaint_id"))
        .order_by("-seq")
        .values("seq")[:1]
    )
    return {
        complaint_id: (seq, chain_hash)
        for complaint_id, seq, chain_hash in RecordLink.objects.filter(
            complaint_id__in=complaint_ids, seq=Subquery(last)
        ).values_list("complaint_id", "seq", "chain_hash")
    }


def chain_append(kind, rows):
    """Append `rows` [(id, complaint id)] of `kind`, in order, to their cases' chains."""
    hashes = content_hashes(kind, [pk for pk, _ in rows])
    by_case = defaultdict(list)
    for pk, complaint_id in rows:
        by_case[complaint_id].append(pk)
    tips = heads(list(by_case))
    links = []
    for complaint_id, ids in by_case.items():
        seq, previous = tips.get(complaint_id, (0, ""))
        for pk in ids:
            seq += 1
            content = hashes[pk]
            previous = chain.chain_hash(previous, content)
            links.append(
                RecordLink(
                    complaint_id=complaint_id,
                    seq=seq,
                    kind=kind.name,
                    object_id=pk,
                    content_hash=content,
                    chain_hash=previous,
                )
            )
    RecordLink.objects.bulk_create(links, batch_size=BATCH)
    return len(links)


def record_chain_extend():
    """Chain every record row not yet chained; returns the count per kind."""
    summary = {}
    for kind in chain.KINDS.values():
        chained = 0
        while True:
            with transaction.atomic():
                # One chaining run at a time: two would give the same case the same seq.
                mark, _ = RecordChainMark.objects.select_for_update().get_or_create(kind=kind.name)
                linked = RecordLink.objects.filter(kind=kind.name, object_id=OuterRef("pk"))
                rows = list(
                    kind.rows()
                    .filter(pk__gt=mark.last_id - STRAGGLER_WINDOW)
                    .exclude(Exists(linked))
                    .order_by("pk")
                    .values_list("pk", kind.complaint_column)[:BATCH]
                )
                if not rows:
                    break
                chained += chain_append(kind, rows)
                mark.last_id = max(mark.last_id, rows[-1][0])
                mark.save(update_fields=["last_id"])
            if len(rows) < BATCH:
                break
        summary[kind.name] = chained
    return summary
