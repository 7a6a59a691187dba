"""`make bench`: load complaints into a database of its own, then time the pages and jobs.

The database is recreated on the server of DATABASE_URL: its own name when that contains
"bench" (the Makefile points DATABASE_URL at redress_bench), otherwise "redress_bench", so the
developer's database and the test databases are never touched.
"""

import os
import time
import warnings

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings
from psycopg import sql

from complaints import bench

DEFAULT_NAME = "redress_bench"


class Command(BaseCommand):
    help = "Load BENCH_SIZE complaints (default 1,000,000) into redress_bench and time the pages."

    def add_arguments(self, parser):
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
        parser.add_argument("--samples", type=int, default=bench.SAMPLES)
        parser.add_argument(
            "--no-explain",
            action="store_true",
            help="Do not print EXPLAIN ANALYZE of the slowest queries of a row over target.",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL: set DATABASE_URL.")
        name = self.use_bench_database()
        size = options["size"]
        if options["reuse"]:
            due = bench.rearm_due()
            self.stdout.write(f"Reusing database {name}; {due:,} complaints due again.")
            ctx = bench.context(bench.Complaint.objects.count(), due)
        else:
            self.recreate(name)
            call_command("migrate", verbosity=0, interactive=False)
            ctx = bench.load(size, self.stdout.write)
        self.stdout.write(
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
        self.load_average("before")
        with override_settings(STORAGES=storages, ALLOWED_HOSTS=["testserver"]):
            for row_name, target_ms, function in bench.MEASUREMENTS:
                if options["only"] and options["only"] not in row_name:
                    continue
                clock = time.perf_counter()
                try:
                    result = bench.measure(
                        ctx, row_name, target_ms, function, samples=options["samples"]
                    )
                except Exception as error:  # noqa: BLE001  (one broken page must not lose the rest)
                    result = bench.Result(row_name, ctx.size, None, None, None, target_ms)
                    result.error = f"{type(error).__name__}: {error}"
                    self.stderr.write(f"  {row_name}: FAILED, {result.error}")
                    results.append(result)
                    continue
                results.append(result)
                self.stdout.write(
                    f"  {row_name}: p95 {result.p95_ms} ms, {result.queries} queries taking "
                    f"{result.sql_ms:.0f} ms of one run; {result.samples} samples "
                    f"({time.perf_counter() - clock:.1f} s)"
                )
        self.load_average("after")
        for summary in ctx.notes.get("ack_sweep", [])[:1]:
            self.stdout.write(f"First acknowledgment sweep: {summary}")
        self.stdout.write("")
        self.stdout.write(bench.table(results))
        path = settings.VAR_DIR / "bench" / "results.json"
        bench.write_results(results, path)
        self.stdout.write(f"\nWritten to {path}")
        if "load_seconds" in ctx.notes:
            self.stdout.write(f"Load time: {ctx.notes['load_seconds']:.0f} s")
        failed = [r for r in results if r.error]
        missed = [r for r in results if not r.ok and not r.error]
        if missed and not options["no_explain"]:
            self.explain(missed)
        if missed:
            self.stdout.write(
                self.style.WARNING("Over target: " + ", ".join(r.name for r in missed))
            )
        if failed:
            raise CommandError("Failed: " + "; ".join(f"{r.name} ({r.error})" for r in failed))

    def load_average(self, when):
        # Other processes on the machine share its two cores: say how busy it was.
        one, five, fifteen = os.getloadavg()
        self.stdout.write(f"Load average {when} measuring: {one:.2f} {five:.2f} {fifteen:.2f}")

    def use_bench_database(self):
        """Point the default connection at the bench database before anything connects."""
        settings_dict = connection.settings_dict
        name = settings_dict["NAME"]
        if "bench" not in name:
            name = DEFAULT_NAME
        connection.close()
        settings_dict["NAME"] = name
        return name

    def recreate(self, name):
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
        self.stdout.write(f"Recreating database {name}.")
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def explain(self, missed):
        for result in missed:
            self.stdout.write(
                f"\n== {result.name}: {result.queries} queries took {result.sql_ms:.0f} ms of one "
                f"{result.median_ms:.0f} ms run (the rest is Python); the slowest:"
            )
            for query in result.slowest:
                if float(query["time"]) < 0.005:
                    continue
                self.stdout.write(f"\n-- {float(query['time']) * 1000:.0f} ms\n{query['sql']}")
                if query["sql"].lstrip().upper().startswith("SELECT"):
                    self.stdout.write(bench.explain(query["sql"]))
