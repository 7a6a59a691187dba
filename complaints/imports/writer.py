"""Writing checked rows: new complaints with their history, and what a later file changes.

A batch costs a handful of statements, never one per row: the references a batch needs are
reserved at once, each table gets one COPY on PostgreSQL (binary, so the server parses no
text), and the history rows one INSERT ... SELECT. Product and issue names become ids here,
created the first time a file brings them. Complaints are keyed by their external reference,
so a file imported again updates what changed and duplicates nothing; a complaint someone
here has worked on since it was imported keeps what they wrote. An advisory lock lets one
import run at a time.
"""

import operator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from complaints import services
from complaints.imports.report import ImportFailed
from complaints.models import Category, Complaint, Feedback, Product, Resolution, StageChange
from complaints.selectors import regulatory_catalogue_changed
from complaints.services import history
from complaints.sql import among
from complaints.workflow import Stage

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
    "outcome",
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
            # A bulk insert sends no signal: the intake forms must offer the new names.
            regulatory_catalogue_changed()
            self.remember(self.model.objects.filter(name__in={name for _, name in new}))


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
    rows = history.history_copy(
        references,
        reason=CREATED_REASON,
        at=now,
        user_id=user.pk,
        kind=history.CREATED,
        by="external_reference",
        returning=("external_reference", "id"),
    )
    return dict(rows)


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
def references_reserver(*, dry_run):
    """The function the import takes its complaints' references from, by year and count."""
    if dry_run:
        yield _references_for_a_dry_run()
    elif connection.in_atomic_block or connection.vendor != "postgresql":
        # In the import's own transaction, the counter's row locked until it ends:
        # only where nothing else can be helped, a caller's transaction already open
        # (it may hold that lock itself) or the embedded SQLite (one writer at a time).
        yield services.references_reserve
    else:
        with _references_apart() as reserve:
            yield reserve


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


def lock_imports():
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
        created, unchanged, changed, closing, closing_kept = [], [], {}, {}, {}
        for row in rows:
            row.category_id = self.categories.pair_id(*row.issue)
            row.product_id = self.products.pair_id(*row.product)
            held = existing.get(row.external_reference)
            if held is None:
                created.append(row)
            elif self.closes(held, row):
                (closing_kept if held.worked_on else closing)[held.id] = row
            elif held.updatable == row.updatable():
                unchanged.append(row)
            elif held.worked_on:
                self.report.kept += 1
            else:
                changed[held.id] = row
        self.report.unchanged += len(unchanged)
        # Where the file's product and issue stand: not where staff's own choice was kept.
        filed = (*created, *unchanged, *changed.values(), *closing.values())
        self.report.not_stated += sum(row.not_stated for row in filed)
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
