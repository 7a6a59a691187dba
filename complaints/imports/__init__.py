"""Import complaints from CSV files, starting with the CFPB consumer complaint format.

The file is read as a stream (reader), each row checked and mapped to a complaint (mapper)
and the rows written in batches (writer), all in one transaction: a file that turns out to be
broken half-way (truncated, wrong header) imports nothing. Rows that are merely bad are
collected with their line number and reason while the good rows go in. Importing the same
file again updates what changed and duplicates nothing. One import runs at a time.
"""

from django.db import OperationalError, connection, transaction
from django.db.models import Q

from complaints import clocks
from complaints.imports.mapper import CFPB_COLUMNS, CfpbMapper
from complaints.imports.reader import CfpbFile
from complaints.imports.report import ImportFailed, ImportReport
from complaints.imports.writer import CfpbWriter, import_user, lock_imports, references_reserver
from complaints.models import RegulatoryProfile

__all__ = ["CFPB_COLUMNS", "ImportFailed", "import_cfpb", "import_user"]


def import_cfpb(source, *, dry_run=False, user=None, progress=None):
    """Import a CFPB CSV (path or binary file object). Raises ImportFailed for a bad file, or
    while another import runs."""
    report = ImportReport(dry_run=dry_run)
    try:
        user = user or import_user()
        with references_reserver(dry_run=dry_run) as reserve, transaction.atomic():
            lock_imports()
            _import(source, report, user, progress, reserve)
            if dry_run:
                transaction.set_rollback(True)
    except OperationalError as error:
        # SQLite waited its timeout for another writer, most likely another import: a large
        # one locks even readers out once it writes more than its cache holds.
        if connection.vendor == "sqlite" and "locked" in str(error):
            raise ImportFailed(
                "The database is busy with another import or change; try again when it has "
                "finished. Nothing was imported."
            ) from error
        raise
    return report


def _cfpb_profile_id():
    """The CFPB profile, switched on or not (its rules are what the history ran on); the
    default profile if a manager removed it."""
    profiles = RegulatoryProfile.objects.filter(Q(code="cfpb") | Q(is_default=True))
    return profiles.order_by("is_default").values_list("pk", flat=True).first()


def _import(source, report, user, progress, references_reserve):
    cfpb_file = CfpbFile(source)
    mapper = CfpbMapper(
        holidays=clocks.holidays(),
        importer_id=user.pk,
        owner_id=import_user().pk,
        profile_id=_cfpb_profile_id(),
    )
    writer = CfpbWriter(report, user, mapper.owner_id, references_reserve)
    with cfpb_file.batches(mapper) as batches:
        for batch in batches:
            report.read += batch.read
            for line, reason in batch.rejects:
                report.reject(line, reason)
            writer.write(batch.rows)
            if progress:
                progress(report)
