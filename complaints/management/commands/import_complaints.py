import sys
import time

from django.core.management.base import BaseCommand, CommandError

from complaints.imports import ImportFailed, import_cfpb


class Command(BaseCommand):
    help = "Import complaints from a CSV file (plain or gzip). Safe to run again on the same file."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", default="cfpb", choices=["cfpb"])
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and count; change nothing."
        )
        parser.add_argument("--errors", type=int, default=20, help="How many bad rows to list.")

    def handle(self, *args, path, dry_run, errors, **options):
        started = time.perf_counter()

        def progress(report):
            rate = report.read / max(time.perf_counter() - started, 1e-6)
            if sys.stderr.isatty() or options.get("verbosity", 1) > 1:
                self.stderr.write(f"\r  {report.read:,} rows read ({rate:,.0f}/s)", ending="")

        try:
            report = import_cfpb(path, dry_run=dry_run, progress=progress)
        except ImportFailed as failure:
            raise CommandError(str(failure)) from failure
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        if sys.stderr.isatty():
            self.stderr.write("")
        listed, more = report.listed(errors)
        for line, reason in listed:
            self.stdout.write(f"line {line}: {reason}")
        if more:
            self.stdout.write(
                f"... and {more:,} more rejected row{'s' if more != 1 else ''}"
                + (
                    f" (lines are kept for the first {len(report.errors):,} only)"
                    if len(report.errors) < errors
                    else ""
                )
            )
        if report.kept:
            self.stdout.write(report.kept_text())
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{'Dry run, nothing saved: ' if dry_run else ''}{report.read:,} rows in "
            f"{seconds:.1f} s ({report.read / max(seconds, 1e-6):,.0f} rows/s)"
        )
        self.stdout.write(report.summary())
