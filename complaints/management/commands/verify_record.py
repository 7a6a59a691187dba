import time

from django.core.management.base import BaseCommand, CommandError

from complaints.models import Complaint
from complaints.selectors.record import record_verify
from complaints.services.record import record_chain_extend

SHOWN = 50


class Command(BaseCommand):
    help = (
        "Verify the tamper-evident record of every case (or of the given references) and "
        "list any break; exits non-zero when one is found."
    )

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="Only these cases (CMP-2026-000001).")
        parser.add_argument(
            "--no-chain",
            action="store_true",
            help="Do not chain the rows written since the last chaining run first.",
        )

    def handle(self, *args, references, no_chain, **options):
        if not no_chain:
            record_chain_extend()
        ids = None
        if references:
            found = dict(
                Complaint.objects.filter(reference__in=references).values_list("reference", "pk")
            )
            missing = sorted(set(references) - set(found))
            if missing:
                raise CommandError(f"No such complaint: {', '.join(missing)}.")
            ids = list(found.values())
        clock = time.perf_counter()
        result = record_verify(ids)
        took = time.perf_counter() - clock
        summary = f"{result.cases:,} cases, {result.links:,} links checked in {took:.1f} s"
        if result.intact:
            self.stdout.write(self.style.SUCCESS(f"The record is intact: {summary}."))
            return
        references = result.references()
        for item in result.breaks[:SHOWN]:
            self.stdout.write(
                f"{references.get(item.complaint_id, item.complaint_id)} link {item.seq} "
                f"({item.kind} {item.object_id}): {item.explanation}"
            )
        if len(result.breaks) > SHOWN:
            self.stdout.write(f"... and {len(result.breaks) - SHOWN} more.")
        count = len(result.breaks)
        raise CommandError(f"{count} break{'s' if count != 1 else ''} in the record ({summary}).")
