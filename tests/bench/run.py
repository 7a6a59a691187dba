"""Load complaints into a database of its own, then time the pages and jobs.

The database is recreated on the server of DATABASE_URL: its own name when that contains
"bench" (the Makefile points DATABASE_URL at redress_bench), otherwise "redress_bench", so the
developer's database and the test databases are never touched.
"""

import argparse
import os
import sys
import time
import warnings

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import color_style
from django.db import connection
from django.test.utils import override_settings
from psycopg import sql

from complaints.models import Complaint
from tests.bench import dataset, report, timing
from tests.bench.measurements import MEASUREMENTS

DEFAULT_NAME = "redress_bench"


def say(text):
    # Flushed: the load reports its progress for minutes, often into a pipe.
    print(text, flush=True)


def parse_options(argv):
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Load BENCH_SIZE complaints (default 1,000,000) into redress_bench and time "
        "the pages.",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=int(os.environ.get("BENCH_SIZE") or 1_000_000),
        help="Complaints to load (default: BENCH_SIZE or 1,000,000).",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Measure the database a previous run loaded, without reloading it.",
    )
    parser.add_argument(
        "--only", default="", help="Measure only the rows whose name contains this text."
    )
    parser.add_argument(
        "--skip",
        default="",
        help="Skip the rows whose name contains this text (the CFPB import, on a reused table "
        "other runs measure too).",
    )
    parser.add_argument("--samples", type=int, default=timing.SAMPLES)
    parser.add_argument(
        "--no-explain",
        action="store_true",
        help="Do not print EXPLAIN ANALYZE of the slowest queries of a row over target.",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark; the exit status is 1 when a row failed to run."""
    options = parse_options(argv)
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL.")
    name = use_bench_database()
    if options.reuse:
        due = dataset.rearm_due()
        say(f"Reusing database {name}; {due:,} complaints due again.")
        ctx = dataset.context(Complaint.objects.count(), due)
    else:
        recreate(name)
        call_command("migrate", verbosity=0, interactive=False)
        ctx = dataset.load(options.size, say)
    say(
        f"Search by surname {ctx.surname!r}: {ctx.surname_matches:,} matches; "
        f"by reference {ctx.reference}; complaint page #{ctx.detail_pk}."
    )
    # WhiteNoise warns that collectstatic has not run; the pages need no static files here.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    results = []
    load_average("before")
    # The personas sign in with a password alone, as the demo's do: the pages are timed, not
    # the second step of signing in.
    with override_settings(STORAGES=storages, ALLOWED_HOSTS=["testserver"], MFA_ENFORCED=False):
        for row_name, target_ms, function in MEASUREMENTS:
            if options.only and options.only not in row_name:
                continue
            if options.skip and options.skip in row_name:
                continue
            clock = time.perf_counter()
            try:
                result = timing.measure(ctx, row_name, target_ms, function, samples=options.samples)
            except Exception as error:  # noqa: BLE001  (one broken page must not lose the rest)
                result = timing.Result(row_name, ctx.size, None, None, None, target_ms)
                result.error = f"{type(error).__name__}: {error}"
                print(f"  {row_name}: FAILED, {result.error}", file=sys.stderr, flush=True)
                results.append(result)
                continue
            results.append(result)
            say(
                f"  {row_name}: p95 {result.p95_ms} ms, {result.queries} queries taking "
                f"{result.sql_ms:.0f} ms of one run; {result.samples} samples "
                f"({time.perf_counter() - clock:.1f} s)"
            )
    load_average("after")
    for summary in ctx.notes.get("ack_sweep", [])[:1]:
        say(f"First acknowledgment sweep: {summary}")
    for code, (records, problems) in ctx.notes.get("returns", {}).items():
        say(f"Half-year return, {code} profile: {records:,} records, {problems:,} to fix")
    for name in ("chain", "retention", "verify"):
        for summary in ctx.notes.get(name, [])[:1]:
            say(f"Data protection, {name}: {summary}")
    say("")
    say(report.table(results))
    path = settings.VAR_DIR / "bench" / "results.json"
    report.write_results(results, path)
    say(f"\nWritten to {path}")
    if "load_seconds" in ctx.notes:
        say(f"Load time: {ctx.notes['load_seconds']:.0f} s")
    failed = [r for r in results if r.error]
    missed = [r for r in results if not r.ok and not r.error]
    if missed and not options.no_explain:
        explain(missed)
    if missed:
        say(color_style().WARNING("Over target: " + ", ".join(r.name for r in missed)))
    if failed:
        sys.exit("Failed: " + "; ".join(f"{r.name} ({r.error})" for r in failed))
    return 0


def load_average(when):
    # Other processes on the machine share its two cores: say how busy it was.
    one, five, fifteen = os.getloadavg()
    say(f"Load average {when} measuring: {one:.2f} {five:.2f} {fifteen:.2f}")


def use_bench_database():
    """Point the default connection at the bench database before anything connects."""
    settings_dict = connection.settings_dict
    name = settings_dict["NAME"]
    if "bench" not in name:
        name = DEFAULT_NAME
    connection.close()
    settings_dict["NAME"] = name
    return name


def recreate(name):
    db = connection.settings_dict
    params = {
        key: value
        for key, value in (
            ("host", db["HOST"]),
            ("port", db["PORT"]),
            ("user", db["USER"]),
            ("password", db["PASSWORD"]),
        )
        if value
    }
    say(f"Recreating database {name}.")
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def explain(missed):
    for result in missed:
        say(
            f"\n== {result.name}: {result.queries} queries took {result.sql_ms:.0f} ms of one "
            f"{result.median_ms:.0f} ms run (the rest is Python); the slowest:"
        )
        for query in result.slowest:
            if float(query["time"]) < 0.005:
                continue
            say(f"\n-- {float(query['time']) * 1000:.0f} ms\n{query['sql']}")
            if query["sql"].lstrip().upper().startswith("SELECT"):
                say(report.explain(query["sql"]))
