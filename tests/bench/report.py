"""Reporting: the printed table, the JSON file and the plans of the rows over target."""

import json

from django.db import connection, transaction


def explain(sql):
    """EXPLAIN ANALYZE of one captured statement, in a transaction that is rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def table(results):
    header = ("name", "size", "median_ms", "p95_ms", "queries", "target_ms", "ok")
    lines = [
        (
            r.name,
            f"{r.size:,}",
            *(
                ("-", "-", "-")
                if r.error
                else (f"{r.median_ms:.1f}", f"{r.p95_ms:.1f}", str(r.queries))
            ),
            f"{r.target_ms:g}",
            "ERROR" if r.error else "yes" if r.ok else "NO",
        )
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return "  ".join(
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def write_results(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
