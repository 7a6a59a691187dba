"""Import complaints from CSV files, starting with the CFPB consumer complaint format.

The file is streamed (plain or gzip) and written in batches, all in one transaction: a file
that turns out to be broken half-way (truncated, wrong header) imports nothing. Rows that
are merely bad are collected with their line number and reason while the good rows go in.
Importing the same file again updates what changed and duplicates nothing: complaints are
keyed by their external reference. A complaint someone here has worked on since it was
imported keeps what they wrote: a later file does not overwrite it. One import runs at a time.

Files run to hundreds of thousands of rows, so the hot path is plain: a row is checked and
mapped with string operations and caches on the values that repeat (dates, target dates,
product and issue names), no model is built for a new complaint, and each batch costs a
handful of statements: one COPY per table on PostgreSQL (binary, so the server parses no
text) and one INSERT ... SELECT for the history rows. The file is read and mapped in a thread
of its own one batch ahead, while the database writes the last one. Memory is bounded by the
batch, not the file.
"""

import csv
import functools
import gzip
import io
import operator
import queue
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, models, transaction
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
from complaints.sql import among
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
YES_NO = {"yes": True, "no": False}
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
# What a later file changes when it shows closed a complaint an earlier one left in progress.
CLOSING = (
    "stage",
    "assignee_id",
    "next_deadline_at",
    "resolved_at",
    "reviewed_at",
    "closed_at",
    "resolution_overdue_at",
)
# The history the import writes. Any other change by a person (an edit, an assignment, a
# stage moved) means someone here has worked on the complaint: a later file leaves what
# they wrote alone.
CREATED_REASON = "Imported from CSV"
UPDATED_REASON = "Updated by a CSV import"
CLOSED_REASON = "Closed by a later CSV import"
IMPORT_REASONS = (CREATED_REASON, UPDATED_REASON, CLOSED_REASON)
# Imports take this PostgreSQL advisory lock for their transaction, so that two never write
# the same new complaints at once (the second would fail on the unique external reference).
IMPORT_LOCK = 0x52454452_43535601  # "REDRCSV" and a version, any fixed number would do
ANOTHER_IMPORT = "Another import is running; try again when it has finished. Nothing was imported."


class ImportFailed(Exception):
    """The file as a whole cannot be imported; nothing was written."""


class RowError(Exception):
    pass


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Complaints someone here has worked on since they were imported, whose row in the file
    # differs from them: left as they are.
    kept: int = 0
    rejected: int = 0
    # The first MAX_REPORTED_ERRORS rejected rows, (line, reason); `rejected` counts them all.
    errors: list = field(default_factory=list)
    dry_run: bool = False

    def reject(self, line, reason):
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, reason))

    def listed(self, limit):
        """The first `limit` rejected rows, and how many more were rejected beyond them."""
        errors = self.errors[:limit]
        return errors, self.rejected - len(errors)

    def kept_text(self):
        if not self.kept:
            return ""
        return (
            f"{self.kept} complaint{'s' if self.kept != 1 else ''} worked on here since "
            "imported kept what staff wrote; the file's version was not applied."
        )

    def summary(self):
        return (
            f"read {self.read}, created {self.created}, updated {self.updated}, "
            f"rejected {self.rejected}"
        )


class Taxonomy:
    """Product and issue names to ids, creating what the file brings for the first time."""

    def __init__(self, model):
        self.model = model
        self.ids = {}
        self.remember(model.objects.all())
        # (name, sub-name) as the file spells them -> id: one lookup per row, not two.
        self.pairs = {}

    def remember(self, queryset):
        self.ids.update(
            ((parent_id, name), pk)
            for pk, parent_id, name in queryset.values_list("pk", "parent_id", "name")
        )

    def id_for(self, name, parent_id=None):
        name = name.strip()[:200]
        if not name:
            return parent_id
        key = (parent_id, name)
        if key not in self.ids:
            item, _ = self.model.objects.get_or_create(name=name, parent_id=parent_id)
            self.ids[key] = item.pk
        return self.ids[key]

    def pair_id(self, name, sub_name):
        """The id of `sub_name` under `name`, or of `name` itself when `sub_name` is blank."""
        key = (name, sub_name)
        if key not in self.pairs:
            self.pairs[key] = self.id_for(sub_name, self.id_for(name))
        return self.pairs[key]

    def add_new(self, pairs):
        """Create the names among `pairs` not held yet: a statement or two per level rather
        than a get_or_create each (a first import brings hundreds)."""
        pairs = [pair for pair in set(pairs) if pair not in self.pairs]
        self._create({(None, name.strip()[:200]) for name, _ in pairs})
        self._create({(self.id_for(name), sub_name.strip()[:200]) for name, sub_name in pairs})

    def _create(self, keys):
        new = [
            (parent_id, name)
            for parent_id, name in keys
            if name and (parent_id, name) not in self.ids
        ]
        if new:
            self.model.objects.bulk_create(
                [self.model(parent_id=parent_id, name=name) for parent_id, name in new],
                ignore_conflicts=True,  # named meanwhile by another import: use theirs
            )
            self.remember(self.model.objects.filter(name__in={name for _, name in new}))


class Lines:
    """The lines of a text stream, as csv.reader reads them, noting whether the last one
    ended with a line break: a file that stops in the middle of a row does not."""

    def __init__(self, text):
        self.text = text
        self.complete = True

    def __iter__(self):
        line = ""
        for line in self.text:
            yield line
        self.complete = not line or line[-1] in "\r\n"


def open_text(path_or_file):
    """A text stream over a plain or gzip file, read as it goes."""
    raw = open(path_or_file, "rb") if isinstance(path_or_file, str) else path_or_file  # noqa: SIM115
    start = raw.read(2)
    raw.seek(0)
    if start == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


# A file holds a few thousand distinct dates over a hundred thousand rows: each is worked out
# once. The caches are bounded, so a file of odd dates cannot grow them without limit.
@functools.lru_cache(maxsize=16384)
def _parse_date(value):
    return date.fromisoformat(value.strip())


def _day(value, label):
    try:
        return _parse_date(value)
    except ValueError:
        raise RowError(f"{label} {value!r} is not a date (YYYY-MM-DD)") from None


@functools.lru_cache(maxsize=16384)
def _noon(day, tz):
    return timezone.make_aware(datetime.combine(day, time(12, 0)), tz)


_due_date = functools.lru_cache(maxsize=16384)(clocks.due_date)


@dataclass(slots=True)
class Row:
    """One CFPB row, checked and mapped to what a new complaint would be written as.

    Product and issue stay names, (Product, Sub-product) and (Issue, Sub-issue), until the row
    is written: their ids may need creating, and mapping touches no database.
    """

    complaint_id: str
    external_reference: str
    product: tuple
    issue: tuple
    # The new complaint's columns, less reference, category, product and created/updated.
    complaint: dict
    # Its stage changes, resolution and feedback, less complaint_id.
    stage_changes: tuple
    resolution: dict | None
    feedback: dict | None
    category_id: int | None = None
    product_id: int | None = None

    def value(self, name):
        """The value the file gives for a field of UPDATABLE or CLOSING."""
        if name == "category_id":
            return self.category_id
        if name == "product_id":
            return self.product_id
        return self.complaint[name]

    def updatable(self):
        """The values of UPDATABLE, in that order."""
        complaint = self.complaint
        return (
            complaint["customer_region"],
            complaint["customer_postcode"],
            complaint["business_unit"],
            complaint["description"],
            complaint["interaction_details"],
            self.category_id,
            self.product_id,
            complaint["channel"],
        )


class CfpbMapper:
    """Checks a CFPB row and maps it to Redress's terms. No database: it runs in the reading
    thread, so what it needs is read before (holidays, the import user)."""

    def __init__(self, *, holidays, importer_id, owner_id):
        self.holidays = holidays
        self.importer_id = importer_id
        # Open history is owned by the import, so it does not bury today's intake queue.
        self.owner_id = owner_id
        # The caller's zone, read in the caller's thread: "noon local time" for every row.
        self.tz = timezone.get_current_timezone()
        amount, unit = settings.RESOLUTION_TARGETS[Complexity.STANDARD]
        self.target_clock = clocks.ClockSpec(amount, unit)
        self.team_zone = settings.TIME_ZONE
        self.acknowledgment_hours = timedelta(hours=settings.ACKNOWLEDGMENT_HOURS)
        self.new_day()

    def new_day(self):
        """Read today's date again: an import may run past midnight."""
        self.now = timezone.now()
        self.today = timezone.localdate(self.now, timezone=self.tz)

    def moment(self, day):
        """Noon on the day, local time: CFPB dates carry no time of day. Today's noon may
        not have come yet; nothing is received or answered in the future, so it is now."""
        if day < self.today:
            return _noon(day, self.tz)
        return min(_noon(day, self.tz), self.now)

    def row(self, values):
        if len(values) != len(CFPB_COLUMNS):
            raise RowError(f"has {len(values)} columns, expected {len(CFPB_COLUMNS)} (truncated?)")
        (
            received_text,
            product,
            sub_product,
            issue,
            sub_issue,
            narrative,
            _public_response,
            company,
            state,
            zip_code,
            _tags,
            _consent,
            via_text,
            sent_text,
            response_text,
            timely_text,
            disputed_text,
            complaint_id,
        ) = values
        complaint_id = complaint_id.strip()
        if not complaint_id.isdigit():
            raise RowError(f"Complaint ID {complaint_id!r} is not a number")
        received = _day(received_text, "Date received")
        sent = _day(sent_text, "Date sent to company") if sent_text.strip() else received
        if received > self.today:
            raise RowError(f"Date received {received} is in the future")
        response = response_text.strip()
        outcome = CFPB_RESPONSES.get(response.lower())
        if outcome is None:
            raise RowError(f"unknown company response {response_text!r}")
        via = via_text.strip()
        channel = CFPB_CHANNELS.get(via.lower())
        if channel is None:
            raise RowError(f"unknown channel {via_text!r}")
        if not product.strip() or not issue.strip():
            raise RowError("Product and Issue are required")
        issue_text = issue.strip() + (f": {sub_issue.strip()}" if sub_issue else "")
        narrative = narrative.strip()
        company = company.strip()
        resolution_type, stage = outcome
        timely = YES_NO.get(timely_text.strip().lower())
        disputed = YES_NO.get(disputed_text.strip().lower())

        closed = stage == Stage.REVIEWED
        received_at = self.moment(received)
        # A few rows were sent to the company before they were received; we cannot acknowledge
        # before receipt, so the acknowledgment is taken as the moment of receipt.
        acknowledged_at = max(self.moment(sent), received_at)
        acknowledgment_due_at = received_at + self.acknowledgment_hours
        target_date = _due_date(self.target_clock, received_at, self.team_zone, self.holidays)
        complaint = {
            "external_reference": f"CFPB-{complaint_id}",
            "customer_name": f"CFPB consumer {complaint_id}",
            "customer_region": state.strip()[:60],
            "customer_postcode": zip_code.strip()[:12],
            "business_unit": company[:200],
            "description": narrative or f"(No narrative published.) Issue: {issue_text}",
            "interaction_details": (
                f"Submitted to the CFPB via {via or 'an unknown channel'}"
                f"; sent to {company or 'the company'} on {sent.isoformat()}."
            ),
            "channel": channel,
            "date_of_complaint": received,
            "assignee_id": None if closed else self.owner_id,
            "customer_token": new_customer_token(),
            "complexity": Complexity.STANDARD,
            "stage": stage,
            "received_at": received_at,
            "acknowledgment_due_at": acknowledgment_due_at,
            "acknowledged_at": acknowledged_at,
            "acknowledgment_method": AcknowledgmentMethod.LETTER,
            "resolution_target_date": target_date,
            # What Complaint.save() would keep in step; bulk inserts do not call it.
            "next_deadline_at": next_deadline(stage, acknowledgment_due_at, target_date),
            "investigation_started_at": acknowledged_at,
            "resolved_at": acknowledged_at if closed else None,
            "reviewed_at": acknowledged_at if closed else None,
            "closed_at": acknowledged_at if closed else None,
            # Historical complaints carry their clock marks already, so today's jobs leave
            # them be.
            "acknowledgment_warned_at": acknowledged_at,
            "acknowledgment_breached_at": (
                acknowledged_at if acknowledged_at > acknowledgment_due_at else None
            ),
            "resolution_overdue_at": (
                self.moment(target_date)
                if timely is False or (not closed and target_date < self.today)
                else None
            ),
        }
        return Row(
            complaint_id=complaint_id,
            external_reference=complaint["external_reference"],
            product=(product, sub_product),
            issue=(issue, sub_issue),
            complaint=complaint,
            stage_changes=(
                {
                    "complaint_id": None,
                    "from_stage": "",
                    "to_stage": Stage.RECEIVED,
                    "at": received_at,
                    "note": f"Imported from the CFPB database ({response})",
                },
                {
                    "complaint_id": None,
                    "from_stage": Stage.RECEIVED,
                    "to_stage": Stage.ACKNOWLEDGED,
                    "at": acknowledged_at,
                    "note": "Sent to the company",
                },
                {
                    "complaint_id": None,
                    "from_stage": Stage.ACKNOWLEDGED,
                    "to_stage": stage,
                    "at": acknowledged_at,
                    "note": f"Company response: {response}",
                },
            ),
            resolution=None
            if resolution_type is None
            else {
                "complaint_id": None,
                "type": resolution_type,
                "description": f"Company response: {response}",
                "status": ResolutionStatus.IMPLEMENTED,
                "proposed_by_id": self.importer_id,
                "proposed_at": acknowledged_at,
                "implemented_by_id": self.importer_id,
                "implemented_at": acknowledged_at,
                "implementation_notes": "Imported; the company's response as published",
            },
            feedback=None
            if disputed is None
            else {
                "complaint_id": None,
                "score": None,
                "resolved": not disputed,
                "comment": "Consumer disputed the response" if disputed else "",
                "submitted_at": acknowledged_at,
            },
        )


@dataclass
class Batch:
    read: int  # rows read, bad ones included
    rejects: list  # (line, reason)
    rows: list  # checked rows, each Complaint ID once


def _read_batches(reader, lines, mapper):
    """The file's rows, checked and mapped, a batch per BATCH_SIZE rows read.

    A file whose last row is short and not ended by a line break was cut off in the middle
    of that row: ImportFailed, raised before that row's batch is handed on, so the caller's
    transaction takes back the batches already written.
    """
    rows, rejects, read = {}, [], 0
    last = ()
    try:
        for values in reader:
            if not values:
                continue  # a blank line is not a row
            last = values
            read += 1
            line = reader.line_num
            try:
                row = mapper.row(values)
            except RowError as error:
                rejects.append((line, str(error)))
            else:
                # A repeat within a batch is refused here; one in a later batch finds the
                # first in the database and counts as unchanged, so memory stays bounded by
                # the batch.
                if row.external_reference in rows:
                    rejects.append((line, f"Complaint ID {row.complaint_id} appears twice"))
                else:
                    rows[row.external_reference] = row
            if read == BATCH_SIZE:
                yield Batch(read, rejects, list(rows.values()))
                rows, rejects, read = {}, [], 0
                mapper.new_day()
    except UnicodeDecodeError as error:
        raise _not_utf8(error, reader.line_num) from error
    if not lines.complete and len(last) < len(CFPB_COLUMNS):
        raise ImportFailed(
            f"The file ends in the middle of a row (line {reader.line_num} has "
            f"{len(last)} of {len(CFPB_COLUMNS)} columns and no line break): it looks "
            "truncated. Nothing was imported; export or copy the whole file and try again."
        )
    if read:
        yield Batch(read, rejects, list(rows.values()))


def _not_utf8(error, lines_read):
    """ImportFailed for a file that is not UTF-8, naming the line of the first bad byte.

    The text stream decodes a chunk at a time, once the reader has taken every whole line
    before it: the bad byte is on the next line, or as many later as there are line breaks
    in the chunk before it.
    """
    if error.reason == "unexpected end of data" and error.end == len(error.object):
        return ImportFailed(
            "The file ends in the middle of a character: it looks truncated. "
            "Nothing was imported; export or copy the whole file and try again."
        )
    line = lines_read + 1 + error.object[: error.start].count(b"\n")
    return ImportFailed(
        f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow, "
        "perhaps an accented letter saved as Latin-1 or Windows-1252). "
        'Save it as "CSV UTF-8" and import it again. Nothing was imported.'
    )


_END = object()


@contextmanager
def _read_ahead(items):
    """Iterate over `items` produced in a thread of their own, at most one ahead.

    Reading and mapping rows is Python's work and writing a batch mostly the database's, so
    with the next batch made while the last one is written the two overlap. The thread
    touches no database: the caller's connection and transaction stay the caller's alone.
    An exception in the thread (a damaged file) is raised in the caller.
    """
    handoff = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item, error=None):
        while not stop.is_set():
            try:
                handoff.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def produce():
        try:
            for item in items:
                if not hand(item):
                    return
            hand(_END)
        except BaseException as error:  # raised again in the caller
            hand(None, error)

    def receive():
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item

    thread = threading.Thread(target=produce, name="cfpb-import-reader", daemon=True)
    thread.start()
    try:
        yield receive()
    finally:
        stop.set()
        thread.join()


def _insert(model, rows):
    """Insert new rows given as dicts of column values, all with the same keys: binary COPY on
    PostgreSQL, executemany elsewhere. Columns the rows leave out take the field's default."""
    if not rows:
        return
    given = tuple(rows[0])
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    rest = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in given and not isinstance(f, models.AutoField)
    ]
    fields = [by_name[name] for name in given] + rest
    defaults = tuple(None if f.null else f.get_default() for f in rest)
    pick = operator.itemgetter(*given)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608  (names from the model)  # nosec B608
                [
                    [
                        f.get_db_prep_save(value, connection)
                        for f, value in zip(fields, values, strict=True)
                    ]
                    for values in (pick(row) + defaults for row in rows)
                ],
            )
            return
        with cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"  # noqa: S608  (names from the model, not input)
        ) as copy:
            # Binary COPY needs each column's exact type: "varchar", not "varchar(20)".
            copy.set_types([f.db_type(connection).split("(")[0] for f in fields])
            for row in rows:
                copy.write_row(pick(row) + defaults)


def _insert_history(references, user, now):
    """One history row per new complaint, as django-simple-history would write it, copied by
    the database from the rows just written rather than sent again. Returns the complaints'
    ids by external reference, which the history rows carry too."""
    history = Complaint.history.model
    own = {
        "history_date": now,
        "history_type": "+",
        "history_user_id": user.pk,
        "history_change_reason": CREATED_REASON,
    }
    copied = {f.attname for f in Complaint._meta.concrete_fields}
    fields = [f for f in history._meta.concrete_fields if not isinstance(f, models.AutoField)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(quote(f.column) if f.attname in copied else "%s" for f in fields)
    params = [f.get_db_prep_save(own[f.attname], connection) for f in fields if f.attname in own]
    where, among_references = among("external_reference", references)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({columns}) "  # noqa: S608  (names from the models)  # nosec B608
            f"SELECT {values} FROM {quote(Complaint._meta.db_table)} WHERE {where} "
            "RETURNING external_reference, id",
            params + among_references,
        )
        return dict(cursor.fetchall())


class Held(NamedTuple):
    id: int
    stage: str
    assignee_id: int | None
    updatable: tuple
    # Someone here has worked on it since it was imported (see _existing).
    worked_on: bool


def _existing(references, owner_id):
    """external reference -> Held, for the complaints already held.

    A complaint was worked on here when a person is in its history for anything but an
    import (an edit, an assignment, a stage moved: every service records who and why), or it
    has an assignee other than the import. The history is asked in the same statement, an
    index probe per complaint held: a scalar subquery with LIMIT, which PostgreSQL cannot
    turn into a hash of the whole history table (as it does EXISTS here, every batch).
    """
    quote = connection.ops.quote_name
    history = Complaint.history.model
    where, params = among("complaint.external_reference", references)
    names = ", ".join(
        f"complaint.{quote(Complaint._meta.get_field(name).column)}"
        for name in ("external_reference", "id", "stage", "assignee_id", *UPDATABLE)
    )
    reasons, reason_params = among("history.history_change_reason", IMPORT_REASONS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {names}, ("  # noqa: S608  (names from the models)  # nosec B608
            f"SELECT 1 FROM {quote(history._meta.db_table)} history "
            "WHERE history.id = complaint.id AND history.history_user_id IS NOT NULL "
            f"AND NOT (history.history_change_reason IS NOT NULL AND {reasons}) LIMIT 1"
            f") IS NOT NULL FROM {quote(Complaint._meta.db_table)} complaint WHERE {where}",
            reason_params + params,
        )
        return {
            reference: Held(
                pk,
                stage,
                assignee_id,
                tuple(rest),
                bool(worked_on) or assignee_id not in (None, owner_id),
            )
            for reference, pk, stage, assignee_id, *rest, worked_on in cursor.fetchall()
        }


@contextmanager
def _references_apart():
    """References taken each in a short transaction of their own, committed at once on a
    connection of their own (a thread keeps one), so a CSR logging a complaint of the same
    year waits for a moment, not for the whole import. An import that fails afterwards
    leaves those numbers unused: a gap in the year's sequence, never a repeat."""
    used = False

    def reserve_committed(year, count):
        with transaction.atomic():
            return list(services.references_reserve(year, count))

    def reserve(year, count):
        nonlocal used
        used = True
        return iter(pool.submit(reserve_committed, year, count).result())

    def close():
        connection.close()  # the pool thread's own, looked up there

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfpb-import-references") as pool:
        try:
            yield reserve
        finally:
            if used:
                pool.submit(close).result()


def _references_for_a_dry_run():
    """Stand-ins unique to this import and rolled back with it: a dry run takes no numbers
    from the year's sequence, nor its lock."""
    last = {}

    def reserve(year, count):
        first = last.get(year, 0) + 1
        last[year] = first + count - 1
        return (f"DRY-{year}-{number:06d}" for number in range(first, first + count))

    return reserve


def _lock_imports():
    """Wait for no other import: say at once that one is running. Two at once would both
    insert the complaints new to them, and the second fail on a unique reference."""
    if connection.vendor != "postgresql":
        return  # the embedded SQLite begins every transaction holding its only write lock
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [IMPORT_LOCK])
        if not cursor.fetchone()[0]:
            raise ImportFailed(ANOTHER_IMPORT)


class CfpbWriter:
    """Writes batches of checked rows: new complaints with their history, stage changes,
    resolution and feedback; changed descriptive fields of complaints already held, and the
    closing of those a later file shows closed. What someone here has worked on keeps its
    descriptive fields as they left them."""

    def __init__(self, report, user, owner_id, references_reserve):
        self.report = report
        self.user = user
        self.owner_id = owner_id
        self.references_reserve = references_reserve
        self.products, self.categories = Taxonomy(Product), Taxonomy(Category)

    def write(self, rows):
        self.products.add_new(row.product for row in rows)
        self.categories.add_new(row.issue for row in rows)
        existing = _existing([row.external_reference for row in rows], self.owner_id)
        created, changed, closing, closing_kept = [], {}, {}, {}
        for row in rows:
            row.category_id = self.categories.pair_id(*row.issue)
            row.product_id = self.products.pair_id(*row.product)
            held = existing.get(row.external_reference)
            if held is None:
                created.append(row)
            elif self.closes(held, row):
                (closing_kept if held.worked_on else closing)[held.id] = row
            elif held.updatable == row.updatable():
                self.report.unchanged += 1
            elif held.worked_on:
                self.report.kept += 1
            else:
                changed[held.id] = row
        if created:
            self.create(created)
        if changed:
            self.update(changed, UPDATABLE, UPDATED_REASON)
        if closing:
            self.update(closing, UPDATABLE + CLOSING, CLOSED_REASON)
        if closing_kept:
            # Edited here but still the import's and in progress: the company's closing
            # applies, the description and the rest stay as staff wrote them.
            self.update(closing_kept, CLOSING, CLOSED_REASON)
        if closing or closing_kept:
            self.add_closing_records({**closing, **closing_kept})

    def closes(self, held, row):
        """An earlier file left it in progress and no one here has taken it on since (it is
        still the import's), and this file shows the company's closing response: it ends as
        a first import of this file would have left it. Once a person owns it, its stage is
        theirs to move."""
        return (
            held.stage == Stage.INVESTIGATING
            and held.assignee_id == self.owner_id
            and row.complaint["stage"] == Stage.REVIEWED
        )

    def create(self, rows):
        now = timezone.now()
        years = {}
        for row in rows:
            year = row.complaint["date_of_complaint"].year
            years[year] = years.get(year, 0) + 1
        references = {year: self.references_reserve(year, n) for year, n in years.items()}
        complaints = []
        for row in rows:
            complaint = row.complaint
            complaint["reference"] = next(references[complaint["date_of_complaint"].year])
            complaint["category_id"] = row.category_id
            complaint["product_id"] = row.product_id
            complaint["created_at"] = complaint["updated_at"] = now
            complaints.append(complaint)
        _insert(Complaint, complaints)
        ids = _insert_history([row.external_reference for row in rows], self.user, now)
        changes, resolutions, feedback = [], [], []
        for row in rows:
            complaint_id = ids[row.external_reference]
            for change in row.stage_changes:
                change["complaint_id"] = complaint_id
                changes.append(change)
            if row.resolution:
                row.resolution["complaint_id"] = complaint_id
                resolutions.append(row.resolution)
            if row.feedback:
                row.feedback["complaint_id"] = complaint_id
                feedback.append(row.feedback)
        _insert(StageChange, changes)
        _insert(Resolution, resolutions)
        _insert(Feedback, feedback)
        self.report.created += len(complaints)

    def update(self, rows_by_id, fields, reason):
        """Fields of complaints already held, through the history like any edit."""
        complaints = list(Complaint.objects.filter(pk__in=list(rows_by_id)).order_by())
        for complaint in complaints:
            row = rows_by_id[complaint.pk]
            for name in fields:
                setattr(complaint, name, row.value(name))
        bulk_update_with_history(
            complaints,
            Complaint,
            list(fields),
            batch_size=BATCH_SIZE,
            default_user=self.user,
            default_change_reason=reason,
        )
        self.report.updated += len(complaints)

    def add_closing_records(self, rows_by_id):
        """The closing stage change, dated as the file dates it, and the resolution and
        feedback the file gives where the complaint has none yet."""
        ids = list(rows_by_id)
        resolved = set(
            Resolution.objects.filter(complaint_id__in=ids).values_list("complaint_id", flat=True)
        )
        answered = set(
            Feedback.objects.filter(complaint_id__in=ids).values_list("complaint_id", flat=True)
        )
        changes, resolutions, feedback = [], [], []
        for complaint_id, row in rows_by_id.items():
            closing = row.stage_changes[-1]
            changes.append(
                {
                    **closing,
                    "complaint_id": complaint_id,
                    "from_stage": Stage.INVESTIGATING,
                    "note": f"{closing['note']} (in a later file)",
                }
            )
            if row.resolution and complaint_id not in resolved:
                resolutions.append({**row.resolution, "complaint_id": complaint_id})
            if row.feedback and complaint_id not in answered:
                feedback.append({**row.feedback, "complaint_id": complaint_id})
        _insert(StageChange, changes)
        _insert(Resolution, resolutions)
        _insert(Feedback, feedback)


def import_user():
    """The account imported records are attributed to when no person ran the import."""
    user, _ = get_user_model().objects.get_or_create(
        username="import", defaults={"first_name": "CSV", "last_name": "import", "is_active": False}
    )
    return user


def import_cfpb(source, *, dry_run=False, user=None, progress=None):
    """Import a CFPB CSV (path or binary file object). Raises ImportFailed for a bad file, or
    while another import runs."""
    report = ImportReport(dry_run=dry_run)
    try:
        user = user or import_user()
        with ExitStack() as stack:
            if dry_run:
                reserve = _references_for_a_dry_run()
            elif connection.in_atomic_block or connection.vendor != "postgresql":
                # In the import's own transaction, the counter's row locked until it ends:
                # only where nothing else can be helped, a caller's transaction already open
                # (it may hold that lock itself) or the embedded SQLite (one writer at a time).
                reserve = services.references_reserve
            else:
                reserve = stack.enter_context(_references_apart())
            with transaction.atomic():
                _lock_imports()
                _import(source, report, user, progress, reserve)
                if dry_run:
                    transaction.set_rollback(True)
    except (EOFError, zlib.error, gzip.BadGzipFile, csv.Error, UnicodeDecodeError) as error:
        raise ImportFailed(
            f"The file could not be read to the end ({type(error).__name__}: {error}). "
            "It may be truncated or damaged; nothing was imported."
        ) from error
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


def _import(source, report, user, progress, references_reserve):
    lines = Lines(open_text(source))
    # strict: a file cut inside a quoted narrative is an error, not a short last row.
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as error:
        raise _not_utf8(error, reader.line_num) from error
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
    mapper = CfpbMapper(holidays=clocks.holidays(), importer_id=user.pk, owner_id=import_user().pk)
    writer = CfpbWriter(report, user, mapper.owner_id, references_reserve)
    with _read_ahead(_read_batches(reader, lines, mapper)) as batches:
        for batch in batches:
            report.read += batch.read
            for line, reason in batch.rejects:
                report.reject(line, reason)
            writer.write(batch.rows)
            if progress:
                progress(report)
