"""Import complaints from CSV files, starting with the CFPB consumer complaint format.

The file is streamed (plain or gzip) and written in batches, all in one transaction: a file
that turns out to be broken half-way (truncated, wrong header) imports nothing. Rows that
are merely bad are collected with their line number and reason while the good rows go in.
Importing the same file again updates what changed and duplicates nothing: complaints are
keyed by their external reference.
"""

import csv
import functools
import gzip
import io
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from complaints import clocks, services
from complaints.models import (
    AcknowledgmentMethod,
    Category,
    Channel,
    Complaint,
    Complexity,
    Feedback,
    Product,
    Resolution,
    ResolutionStatus,
    ResolutionType,
    StageChange,
    new_customer_token,
    next_deadline,
)
from complaints.workflow import Stage

BATCH_SIZE = 2000
MAX_REPORTED_ERRORS = 1000

CFPB_COLUMNS = (
    "Date received",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Company public response",
    "Company",
    "State",
    "ZIP code",
    "Tags",
    "Consumer consent provided?",
    "Submitted via",
    "Date sent to company",
    "Company response to consumer",
    "Timely response?",
    "Consumer disputed?",
    "Complaint ID",
)
CFPB_CHANNELS = {
    "web": Channel.WEB,
    "web referral": Channel.WEB,
    "": Channel.WEB,
    "phone": Channel.PHONE,
    "email": Channel.EMAIL,
    "postal mail": Channel.LETTER,
    "fax": Channel.LETTER,
    "referral": Channel.LETTER,
}
# Company response -> (resolution type or None, stage).
CFPB_RESPONSES = {
    "closed with explanation": (ResolutionType.APOLOGY, Stage.REVIEWED),
    "closed with monetary relief": (ResolutionType.COMPENSATION, Stage.REVIEWED),
    "closed with non-monetary relief": (ResolutionType.CORRECTIVE_ACTION, Stage.REVIEWED),
    "closed with relief": (ResolutionType.CORRECTIVE_ACTION, Stage.REVIEWED),
    "closed without relief": (ResolutionType.NO_FAULT, Stage.REVIEWED),
    "closed": (ResolutionType.NO_FAULT, Stage.REVIEWED),
    "in progress": (None, Stage.INVESTIGATING),
    "untimely response": (None, Stage.INVESTIGATING),
}
# What an import may change on a complaint it already holds.
UPDATABLE = (
    "customer_region",
    "customer_postcode",
    "business_unit",
    "description",
    "interaction_details",
    "category_id",
    "product_id",
    "channel",
)


class ImportFailed(Exception):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)
    dry_run: bool = False

    def reject(self, line, reason):
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, reason))

    def summary(self):
        return (
            f"read {self.read}, created {self.created}, updated {self.updated}, "
            f"rejected {self.rejected}"
        )


class Taxonomy:
    """Product and issue names to ids, creating what the file brings for the first time."""

    def __init__(self, model):
        self.model = model
        self.ids = {(c.parent_id, c.name): c.pk for c in model.objects.all()}

    def id_for(self, name, parent_id=None):
        name = name.strip()[:200]
        if not name:
            return parent_id
        key = (parent_id, name)
        if key not in self.ids:
            item, _ = self.model.objects.get_or_create(name=name, parent_id=parent_id)
            self.ids[key] = item.pk
        return self.ids[key]


def open_text(path_or_file):
    """A text stream over a plain or gzip file, read as it goes."""
    raw = open(path_or_file, "rb") if isinstance(path_or_file, str) else path_or_file  # noqa: SIM115
    start = raw.read(2)
    raw.seek(0)
    if start == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _day(value, line, label):
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RowError(f"{label} {value!r} is not a date (YYYY-MM-DD)") from None


class RowError(Exception):
    pass


@functools.lru_cache(maxsize=1)
def _today_cached(hour_stamp):
    return timezone.localdate()


def _today():
    return _today_cached(int(datetime.now().timestamp() // 3600))


@functools.lru_cache(maxsize=8192)
def _moment(day):
    """Noon on the day, local time: CFPB dates carry no time of day."""
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


@dataclass
class Row:
    """One CFPB row, checked and mapped to Redress's terms."""

    line: int
    external_reference: str
    received_at: datetime
    acknowledged_at: datetime
    fields: dict
    resolution_type: str | None
    stage: str
    timely: bool | None
    disputed: bool | None
    response: str


def parse_cfpb_row(line, values, products, categories):
    if len(values) != len(CFPB_COLUMNS):
        raise RowError(f"has {len(values)} columns, expected {len(CFPB_COLUMNS)} (truncated?)")
    row = dict(zip(CFPB_COLUMNS, values, strict=True))
    complaint_id = row["Complaint ID"].strip()
    if not complaint_id.isdigit():
        raise RowError(f"Complaint ID {complaint_id!r} is not a number")
    received = _day(row["Date received"], line, "Date received")
    sent = (
        _day(row["Date sent to company"], line, "Date sent to company")
        if row["Date sent to company"].strip()
        else received
    )
    if received > _today():
        raise RowError(f"Date received {received} is in the future")
    response = row["Company response to consumer"].strip().lower()
    if response not in CFPB_RESPONSES:
        raise RowError(f"unknown company response {row['Company response to consumer']!r}")
    via = row["Submitted via"].strip().lower()
    if via not in CFPB_CHANNELS:
        raise RowError(f"unknown channel {row['Submitted via']!r}")
    if not row["Product"].strip() or not row["Issue"].strip():
        raise RowError("Product and Issue are required")
    product_id = products.id_for(row["Sub-product"], products.id_for(row["Product"]))
    category_id = categories.id_for(row["Sub-issue"], categories.id_for(row["Issue"]))
    issue = row["Issue"].strip() + (f": {row['Sub-issue'].strip()}" if row["Sub-issue"] else "")
    narrative = row["Consumer complaint narrative"].strip()
    resolution_type, stage = CFPB_RESPONSES[response]
    received_at = _moment(received)
    # A few rows were sent to the company before they were received; we cannot acknowledge
    # before receipt, so the acknowledgment is taken as the moment of receipt.
    acknowledged_at = max(_moment(sent), received_at)
    company = row["Company"].strip()
    return Row(
        line=line,
        external_reference=f"CFPB-{complaint_id}",
        received_at=received_at,
        acknowledged_at=acknowledged_at,
        fields={
            "customer_name": f"CFPB consumer {complaint_id}",
            "customer_region": row["State"].strip()[:60],
            "customer_postcode": row["ZIP code"].strip()[:12],
            "business_unit": company[:200],
            "description": narrative or f"(No narrative published.) Issue: {issue}",
            "interaction_details": (
                f"Submitted to the CFPB via {row['Submitted via'].strip() or 'an unknown channel'}"
                f"; sent to {company or 'the company'} on {sent.isoformat()}."
            ),
            "category_id": category_id,
            "product_id": product_id,
            "channel": CFPB_CHANNELS[via],
            "date_of_complaint": received,
        },
        resolution_type=resolution_type,
        stage=stage,
        timely={"yes": True, "no": False}.get(row["Timely response?"].strip().lower()),
        disputed={"yes": True, "no": False}.get(row["Consumer disputed?"].strip().lower()),
        response=row["Company response to consumer"].strip(),
    )


def _new_complaint(row, reference, target_date, now, importer_id):
    """The database row of a new complaint, as a dict: the import's hot path makes no models."""
    closed = row.stage == Stage.REVIEWED
    acknowledgment_due_at = row.received_at + timedelta(hours=settings.ACKNOWLEDGMENT_HOURS)
    return {
        **row.fields,
        "reference": reference,
        "external_reference": row.external_reference,
        # Open history is owned by the import, so it does not bury today's intake queue.
        "assignee_id": None if closed else importer_id,
        "customer_token": new_customer_token(),
        "complexity": Complexity.STANDARD,
        "stage": row.stage,
        "received_at": row.received_at,
        "acknowledgment_due_at": acknowledgment_due_at,
        "acknowledged_at": row.acknowledged_at,
        "acknowledgment_method": AcknowledgmentMethod.LETTER,
        "resolution_target_date": target_date,
        # What Complaint.save() would keep in step; bulk inserts do not call it.
        "next_deadline_at": next_deadline(row.stage, acknowledgment_due_at, target_date),
        "investigation_started_at": row.acknowledged_at,
        "resolved_at": row.acknowledged_at if closed else None,
        "reviewed_at": row.acknowledged_at if closed else None,
        "closed_at": row.acknowledged_at if closed else None,
        "created_at": now,
        "updated_at": now,
        # Historical complaints carry their clock marks already, so today's jobs leave them be.
        "acknowledgment_warned_at": row.acknowledged_at,
        "acknowledgment_breached_at": (
            row.acknowledged_at if row.acknowledged_at > acknowledgment_due_at else None
        ),
        "resolution_overdue_at": (
            _moment(target_date)
            if row.timely is False or (not closed and target_date < _today())
            else None
        ),
    }


def _related_rows(complaint_id, row, importer_id):
    note = f"Imported from the CFPB database ({row.response})"
    changes = [
        {
            "complaint_id": complaint_id,
            "from_stage": "",
            "to_stage": Stage.RECEIVED,
            "at": row.received_at,
            "note": note,
        },
        {
            "complaint_id": complaint_id,
            "from_stage": Stage.RECEIVED,
            "to_stage": Stage.ACKNOWLEDGED,
            "at": row.acknowledged_at,
            "note": "Sent to the company",
        },
        {
            "complaint_id": complaint_id,
            "from_stage": Stage.ACKNOWLEDGED,
            "to_stage": row.stage,
            "at": row.acknowledged_at,
            "note": f"Company response: {row.response}",
        },
    ]
    resolutions, feedback = [], []
    if row.resolution_type:
        resolutions.append(
            {
                "complaint_id": complaint_id,
                "type": row.resolution_type,
                "description": f"Company response: {row.response}",
                "status": ResolutionStatus.IMPLEMENTED,
                "proposed_by_id": importer_id,
                "proposed_at": row.acknowledged_at,
                "implemented_by_id": importer_id,
                "implemented_at": row.acknowledged_at,
                "implementation_notes": "Imported; the company's response as published",
            }
        )
    if row.disputed is not None:
        feedback.append(
            {
                "complaint_id": complaint_id,
                "score": None,
                "resolved": not row.disputed,
                "comment": "Consumer disputed the response" if row.disputed else "",
                "submitted_at": row.acknowledged_at,
            }
        )
    return changes, resolutions, feedback


COPY_TYPES = {
    "DateTimeField": "timestamptz",
    "DateField": "date",
    "BooleanField": "bool",
    "BigIntegerField": "int8",
    "BigAutoField": "int8",
    "IntegerField": "int4",
    "PositiveIntegerField": "int4",
    "PositiveSmallIntegerField": "int2",
    "ForeignKey": "int8",
    "DecimalField": "numeric",
    "JSONField": "jsonb",
}


def _insert(model, rows):
    """Insert new rows given as dicts of column values: COPY on PostgreSQL, bulk_create
    elsewhere. Columns a row leaves out take the field's default."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]
    defaults = {f.attname: None if f.null else f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    names = [f.attname for f in fields]
    if connection.vendor != "postgresql":
        placeholders = ", ".join(["%s"] * len(fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608  (names from the model)  # nosec B608
                [
                    [
                        f.get_db_prep_save(
                            row[f.attname] if f.attname in row else defaults[f.attname], connection
                        )
                        for f in fields
                    ]
                    for row in rows
                ],
            )
        return
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN"  # noqa: S608  (names from the model, not input)
        ) as copy,
    ):
        # Declaring the column types spares psycopg choosing a dumper for every value.
        copy.set_types([COPY_TYPES.get(f.get_internal_type(), "text") for f in fields])
        for row in rows:
            copy.write_row([row[name] if name in row else defaults[name] for name in names])


def _insert_history(complaints, user, now):
    """One history row per imported complaint, as django-simple-history would write it."""
    _insert(
        Complaint.history.model,
        [
            {
                **{k: v for k, v in complaint.items() if k != "customer_token"},
                "history_date": now,
                "history_type": "+",
                "history_user_id": user.pk,
                "history_change_reason": "Imported from CSV",
            }
            for complaint in complaints
        ],
    )


def _write_batch(rows, report, importer_user):
    existing = {
        c.external_reference: c
        for c in Complaint.objects.filter(
            external_reference__in=[r.external_reference for r in rows]
        ).order_by()
    }
    holidays = services.holidays()
    now = timezone.now()
    owner = import_user()
    to_create, to_update, created_rows = [], [], []
    for row in rows:
        current = existing.get(row.external_reference)
        if current is None:
            created_rows.append(row)
            continue
        changed = [name for name in UPDATABLE if getattr(current, name) != row.fields[name]]
        if changed:
            for name in changed:
                setattr(current, name, row.fields[name])
            to_update.append(current)
        else:
            report.unchanged += 1
    numbers = {}
    for row in created_rows:
        year = row.fields["date_of_complaint"].year
        numbers[year] = numbers.get(year, 0) + 1
    references = {year: services.references_reserve(year, count) for year, count in numbers.items()}
    amount, unit = settings.RESOLUTION_TARGETS[Complexity.STANDARD]
    spec = clocks.ClockSpec(amount, unit)
    targets = {}
    for row in created_rows:
        day = row.fields["date_of_complaint"]
        reference = next(references[day.year])
        if day not in targets:
            targets[day] = clocks.due_date(spec, row.received_at, settings.TIME_ZONE, holidays)
        to_create.append(_new_complaint(row, reference, targets[day], now, owner.pk))
    if to_create:
        _insert(Complaint, to_create)
        ids = dict(
            Complaint.objects.filter(
                external_reference__in=[c["external_reference"] for c in to_create]
            )
            .order_by()
            .values_list("external_reference", "pk")
        )
        for complaint in to_create:
            complaint["id"] = ids[complaint["external_reference"]]
        _insert_history(to_create, importer_user, now)
        changes, resolutions, feedback = [], [], []
        for complaint, row in zip(to_create, created_rows, strict=True):
            c, r, f = _related_rows(complaint["id"], row, importer_user.pk)
            changes += c
            resolutions += r
            feedback += f
        _insert(StageChange, changes)
        _insert(Resolution, resolutions)
        _insert(Feedback, feedback)
    if to_update:
        bulk_update_with_history(
            to_update,
            Complaint,
            [name for name in UPDATABLE],
            batch_size=BATCH_SIZE,
            default_user=importer_user,
            default_change_reason="Updated by a CSV import",
        )
    report.created += len(to_create)
    report.updated += len(to_update)


def import_user():
    """The account imported records are attributed to when no person ran the import."""
    user, _ = get_user_model().objects.get_or_create(
        username="import", defaults={"first_name": "CSV", "last_name": "import", "is_active": False}
    )
    return user


def import_cfpb(source, *, dry_run=False, user=None, progress=None):
    """Import a CFPB CSV (path or binary file object). Raises ImportFailed for a bad file."""
    report = ImportReport(dry_run=dry_run)
    user = user or import_user()
    try:
        with transaction.atomic():
            _import(source, report, user, progress)
            if dry_run:
                transaction.set_rollback(True)
    except (EOFError, zlib.error, gzip.BadGzipFile, csv.Error, UnicodeDecodeError) as error:
        raise ImportFailed(
            f"The file could not be read to the end ({type(error).__name__}: {error}). "
            "It may be truncated or damaged; nothing was imported."
        ) from error
    return report


def _import(source, report, user, progress):
    text = open_text(source)
    # strict: a file cut inside a quoted narrative is an error, not a short last row.
    reader = csv.reader(text, strict=True)
    header = next(reader, None)
    if header is None:
        raise ImportFailed("The file is empty; nothing was imported.")
    header = [name.strip() for name in header]
    if tuple(header) != CFPB_COLUMNS:
        missing = [c for c in CFPB_COLUMNS if c not in header]
        raise ImportFailed(
            "This is not a CFPB complaints file: the header does not match"
            + (f" (missing: {', '.join(missing)})" if missing else " (columns out of order)")
            + ". Nothing was imported."
        )
    products, categories = Taxonomy(Product), Taxonomy(Category)
    batch = {}
    for values in reader:
        if not values:
            continue  # a blank line is not a row
        report.read += 1
        line = reader.line_num
        try:
            row = parse_cfpb_row(line, values, products, categories)
        except RowError as error:
            report.reject(line, str(error))
            continue
        # A repeat within a batch is refused here; one in a later batch finds the first in
        # the database and counts as unchanged, so memory stays bounded by the batch.
        if row.external_reference in batch:
            report.reject(line, f"Complaint ID {row.external_reference[5:]} appears twice")
            continue
        batch[row.external_reference] = row
        if len(batch) >= BATCH_SIZE:
            _write_batch(list(batch.values()), report, user)
            batch = {}
            if progress:
                progress(report)
    if batch:
        _write_batch(list(batch.values()), report, user)
    if progress:
        progress(report)
