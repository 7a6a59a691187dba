"""Importing CFPB complaint files: the mapping, idempotence, bad rows and bad files.

The files under tests/data/cfpb/ are real rows cut with the csv module from the shared
/work/shared/data/cfpb/complaints.csv.gz (header kept exactly), chosen by Complaint ID:

- narratives.csv: 10 rows whose narrative holds quotes, commas and line breaks.
- messy.csv: masked and shortened ZIP codes, blank Submitted via / Sub-product / Company /
  Consumer disputed?, sent before received, out of date order, "In progress" and
  "Untimely response", every channel, and the two real rows with a blank Issue (filed
  under "Not stated").
  It also holds the sub-products and sub-issues the CFPB files under two parents.
- unknown_product.csv: a product no other excerpt has, and a multi-line row whose company
  response was edited to "Closed with a gift card" (rejected).
- truncated.csv.gz: narratives.csv gzipped, cut to 60% of its bytes.
- wrong_header.csv: three rows under a header whose "Sub-issue" reads "Subissue".
- truncated_quote.csv: three rows, then a fourth cut off inside its quoted narrative.
- truncated_row.csv: narratives.csv cut inside its last row's ZIP code, with no line break.
- windows_1252.csv: narratives.csv and two real rows with characters beyond ASCII (a
  company "S.à r.l.", a narrative with a curly apostrophe), saved as Windows-1252 the way
  Excel saves plain "CSV".

The last class imports the whole shared file (about half a minute); it is marked integration.
"""

import csv
import gzip
import io
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import Coalesce, ExtractYear
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.roles import Role
from complaints import services
from complaints.clocks import sweeps
from complaints.imports import CFPB_COLUMNS, ImportFailed, import_cfpb
from complaints.imports.report import MAX_REPORTED_ERRORS
from complaints.imports.writer import CfpbWriter
from complaints.models import (
    Category,
    Channel,
    Complaint,
    Feedback,
    OutboundMessage,
    Product,
    ReferenceCounter,
    Resolution,
    ResolutionStatus,
    ResolutionType,
    StageChange,
)
from complaints.web.forms import ComplaintEditForm
from complaints.workflow import Stage
from tests import factories
from tests.conftest import make_user

DATA = Path(__file__).resolve().parent.parent / "data" / "cfpb"
NARRATIVES = DATA / "narratives.csv"
MESSY = DATA / "messy.csv"
UNKNOWN_PRODUCT = DATA / "unknown_product.csv"
TRUNCATED_GZ = DATA / "truncated.csv.gz"
WRONG_HEADER = DATA / "wrong_header.csv"
TRUNCATED_QUOTE = DATA / "truncated_quote.csv"
TRUNCATED_ROW = DATA / "truncated_row.csv"
WINDOWS_1252 = DATA / "windows_1252.csv"
SHARED = Path("/work/shared/data/cfpb/complaints.csv.gz")

# Rows of messy.csv with a blank Issue, by (line, Complaint ID): both real, both kept under
# "Not stated".
MESSY_NOT_STATED = {7: "1083571", 9: "1235087"}
KNOWN_ID = "1961378"  # narratives.csv: every field filled, narrative with quotes and breaks


def records(path):
    """(first line, last line, row as a dict) for each record of a plain CSV file."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        out, end = [], reader.line_num
        for values in reader:
            out.append((end + 1, reader.line_num, dict(zip(CFPB_COLUMNS, values, strict=False))))
            end = reader.line_num
        return out


def row_of(path, complaint_id):
    return next(r for _, _, r in records(path) if r["Complaint ID"] == complaint_id)


def noon(day):
    return timezone.make_aware(datetime.combine(day, clock_time(12, 0)))


def cfpb(complaint_id):
    return Complaint.objects.select_related("product__parent", "category__parent").get(
        external_reference=f"CFPB-{complaint_id}"
    )


def counts():
    """Everything an import writes, to show that nothing was (or was again) written."""
    return {
        "complaints": Complaint.objects.count(),
        "history": Complaint.history.count(),
        "stage_changes": StageChange.objects.count(),
        "resolutions": Resolution.objects.count(),
        "feedback": Feedback.objects.count(),
        "products": Product.objects.count(),
        "categories": Category.objects.count(),
        "reference_counters": ReferenceCounter.objects.count(),
    }


NOTHING = dict.fromkeys(
    [
        "complaints",
        "history",
        "stage_changes",
        "resolutions",
        "feedback",
        "products",
        "categories",
        "reference_counters",
    ],
    0,
)


# --- The mapping ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_known_row_is_mapped_field_by_field():
    source = row_of(NARRATIVES, KNOWN_ID)
    narrative = source["Consumer complaint narrative"]
    assert '"' in narrative and "," in narrative and "\n" in narrative

    report = import_cfpb(str(NARRATIVES))

    assert (report.read, report.created, report.rejected) == (10, 10, 0)
    complaint = cfpb(KNOWN_ID)
    received = date(2016, 6, 9)
    assert complaint.external_reference == "CFPB-1961378"
    assert complaint.reference.startswith("CMP-2016-")
    assert complaint.date_of_complaint == received
    assert timezone.localtime(complaint.received_at).date() == received
    assert complaint.received_at == noon(received)
    assert (complaint.product.name, complaint.product.parent.name) == (
        "Federal student loan",
        "Debt collection",
    )
    assert complaint.product.parent.parent is None
    assert (complaint.category.name, complaint.category.parent.name) == (
        "Attempted to collect wrong amount",
        "False statements or representation",
    )
    assert complaint.category.parent.parent is None
    assert complaint.description == narrative
    assert complaint.business_unit == "Account Control Technology, Inc."
    assert (complaint.customer_region, complaint.customer_postcode) == ("CO", "802XX")
    assert complaint.channel == Channel.WEB
    assert complaint.customer_name == "CFPB consumer 1961378"
    # Sent to the company the day it was received.
    assert complaint.acknowledged_at == complaint.received_at
    # "Closed with explanation": closed, with an implemented apology or explanation.
    assert complaint.stage == Stage.REVIEWED
    assert complaint.closed_at == complaint.acknowledged_at
    assert complaint.reviewed_at is not None and complaint.resolved_at is not None
    resolution = complaint.resolutions.get()
    assert resolution.type == ResolutionType.APOLOGY
    assert resolution.status == ResolutionStatus.IMPLEMENTED
    # Timely response? Yes.
    assert complaint.resolution_overdue_at is None
    # Consumer disputed? Yes: the customer said it was not resolved, without a score.
    feedback = complaint.feedback.get()
    assert (feedback.resolved, feedback.score) == (False, None)
    assert complaint.escalation_level == ""


@pytest.mark.django_db
def test_every_narrative_is_kept_exactly():
    import_cfpb(str(NARRATIVES))

    for _, _, row in records(NARRATIVES):
        assert cfpb(row["Complaint ID"]).description == row["Consumer complaint narrative"]


@pytest.mark.django_db
def test_stage_changes_carry_the_original_dates_and_history_has_one_row_each():
    import_cfpb(str(MESSY))

    complaint = cfpb("7199963")  # received 2023-07-03, sent to the company 2023-07-19
    changes = list(complaint.stage_changes.values_list("from_stage", "to_stage", "at"))
    assert changes == [
        ("", Stage.RECEIVED, noon(date(2023, 7, 3))),
        (Stage.RECEIVED, Stage.ACKNOWLEDGED, noon(date(2023, 7, 19))),
        (Stage.ACKNOWLEDGED, Stage.REVIEWED, noon(date(2023, 7, 19))),
    ]
    assert complaint.acknowledged_at == noon(date(2023, 7, 19))
    # Acknowledged 16 days after receipt: on record as late.
    assert complaint.acknowledgment_breached_at == complaint.acknowledged_at
    in_progress = cfpb("7356011")
    assert list(in_progress.stage_changes.values_list("to_stage", flat=True)) == [
        Stage.RECEIVED,
        Stage.ACKNOWLEDGED,
        Stage.INVESTIGATING,
    ]
    for complaint in Complaint.objects.all():
        assert complaint.stage_changes.count() == 3
        assert complaint.history.count() == 1
    history = Complaint.history.first()
    assert history.history_type == "+"
    assert history.history_change_reason == "Imported from CSV"
    assert history.history_user.username == "import"


@pytest.mark.django_db
def test_messy_rows_are_mapped_and_a_blank_issue_is_filed_under_not_stated():
    report = import_cfpb(str(MESSY))

    assert (report.read, report.created, report.updated, report.rejected) == (23, 23, 0, 0)
    assert report.not_stated == 2
    assert report.errors == []
    for line, complaint_id in MESSY_NOT_STATED.items():
        row = next(r for first, _, r in records(MESSY) if first == line)
        assert row["Complaint ID"] == complaint_id
        assert row["Issue"] == row["Sub-issue"] == ""
        category = cfpb(complaint_id).category
        assert (category.name, category.parent) == ("Not stated", None)
    assert Complaint.objects.count() == 23

    # ZIP codes are kept as given: masked, or with a lost leading zero.
    assert cfpb("7199963").customer_postcode == "XXXXX"
    assert cfpb("73410").customer_postcode == "488XX"
    assert cfpb("1262209").customer_postcode == "3062"
    # Channels.
    channels = {
        "1177839": Channel.WEB,  # blank
        "5198434": Channel.WEB,  # Web Referral
        "4269": Channel.LETTER,  # Referral
        "73410": Channel.LETTER,  # Postal mail
        "215434": Channel.LETTER,  # Fax
        "8743": Channel.PHONE,
        "216353": Channel.EMAIL,
    }
    assert {cid: cfpb(cid).channel for cid in channels} == channels
    # Blank Sub-product: the product is the top-level Product itself.
    credit_card = cfpb("4269").product
    assert (credit_card.name, credit_card.parent) == ("Credit card", None)
    assert cfpb("8743").product == credit_card
    # Blank Company, Submitted via and Sub-product.
    blank = cfpb("1177839")
    assert blank.business_unit == ""
    assert blank.category.parent.name == "Unable to get credit report/credit score"
    # Sent to the company the day before it was received: acknowledged on receipt.
    for complaint_id, received in (("411966", date(2013, 5, 21)), ("599431", date(2013, 11, 15))):
        complaint = cfpb(complaint_id)
        assert complaint.acknowledged_at == complaint.received_at == noon(received)
        changes = list(complaint.stage_changes.values_list("at", flat=True))
        assert changes == [noon(received)] * 3
    # Out of date order: each row keeps its own date and takes a reference of its year.
    for _, _, row in records(MESSY):
        complaint = cfpb(row["Complaint ID"])
        received = date.fromisoformat(row["Date received"])
        assert complaint.date_of_complaint == received
        assert timezone.localtime(complaint.received_at).date() == received
        assert complaint.reference.startswith(f"CMP-{received.year}-")


@pytest.mark.django_db
def test_company_responses_map_to_stage_resolution_and_overdue_mark():
    import_cfpb(str(MESSY))

    # In progress (Timely response? blank): still being investigated, no resolution yet;
    # its target passed long ago, so it is already marked overdue.
    in_progress = cfpb("7356011")
    assert in_progress.stage == Stage.INVESTIGATING
    assert in_progress.closed_at is None and in_progress.resolved_at is None
    assert not in_progress.resolutions.exists()
    assert in_progress.resolution_overdue_at is not None
    assert in_progress.next_deadline_at is not None
    # Untimely response (Timely response? No).
    untimely = cfpb("4269")
    assert untimely.stage == Stage.INVESTIGATING
    assert untimely.closed_at is None
    assert not untimely.resolutions.exists()
    assert untimely.resolution_overdue_at is not None
    # Closed, but not in time: reviewed, and marked overdue.
    late = cfpb("4470275")
    assert late.stage == Stage.REVIEWED and late.closed_at is not None
    assert late.resolution_overdue_at is not None
    assert late.resolutions.get().type == ResolutionType.APOLOGY
    # Closed in time: no overdue mark.
    assert cfpb("73410").resolution_overdue_at is None
    types = {
        "2430": ResolutionType.NO_FAULT,  # Closed without relief
        "411966": ResolutionType.CORRECTIVE_ACTION,  # Closed with non-monetary relief
        "2489176": ResolutionType.COMPENSATION,  # Closed with monetary relief
        "216353": ResolutionType.APOLOGY,  # Closed with explanation
    }
    assert {cid: cfpb(cid).resolutions.get().type for cid in types} == types
    for complaint_id in types:
        complaint = cfpb(complaint_id)
        assert complaint.stage == Stage.REVIEWED
        assert complaint.closed_at == complaint.acknowledged_at


def a_zone_where_it_is_morning():
    """A fixed-offset zone where it is now about 6 in the morning: today's noon is ahead."""
    offset = (6 - timezone.now().hour + 12) % 24 - 12  # hours east of UTC, -12 to 11
    return ZoneInfo(f"Etc/GMT{-offset:+d}")  # the Etc zones count hours west


@pytest.mark.django_db
def test_a_row_received_today_is_not_dated_in_the_future(tmp_path):
    header, *rows = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    with timezone.override(a_zone_where_it_is_morning()):
        today = timezone.localdate()
        rows[0][0] = rows[0][13] = today.isoformat()  # received and sent to the company
        before = timezone.now()

        import_cfpb(str(rewrite(tmp_path / "today.csv", [header, rows[0]])))

    complaint = cfpb(rows[0][-1])
    assert before <= complaint.received_at <= timezone.now()
    assert complaint.acknowledged_at == complaint.received_at
    assert complaint.closed_at <= timezone.now()
    assert [change.at for change in complaint.stage_changes.all()] == [complaint.received_at] * 3


@pytest.mark.django_db
def test_consumer_disputed_becomes_feedback_without_a_score():
    import_cfpb(str(MESSY))

    disputed = cfpb("216353").feedback.get()  # Yes
    assert (disputed.resolved, disputed.score) == (False, None)
    assert disputed.submitted_at == cfpb("216353").acknowledged_at
    accepted = cfpb("73410").feedback.get()  # No
    assert (accepted.resolved, accepted.score) == (True, None)
    assert not cfpb("7356011").feedback.exists()  # blank
    assert not cfpb("7199963").feedback.exists()  # N/A


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("complaint_id", "attribute", "name", "parent"),
    [
        # Filed by the CFPB under "Checking or savings account"; the file names "Checking
        # account" under "Bank account or service" first.
        ("2471582", "product", "Checking account", "Checking or savings account"),
        # Sub-product "Credit card" of "Debt collection"; "Credit card" is also a Product.
        ("516781", "product", "Credit card", "Debt collection"),
        # Sub-issue "Debt was paid" of "Attempts to collect debt not owed"; the file has it
        # first under "Cont'd attempts collect debt not owed".
        ("2489176", "category", "Debt was paid", "Attempts to collect debt not owed"),
        # Product "Credit reporting" (blank Sub-product); the file's first row has a
        # Sub-product "Credit reporting" under a longer product name.
        ("1177839", "product", "Credit reporting", None),
    ],
)
def test_sub_items_named_alike_keep_their_own_parent(complaint_id, attribute, name, parent):
    import_cfpb(str(MESSY))

    item = getattr(cfpb(complaint_id), attribute)
    assert item.name == name
    assert (item.parent.name if item.parent else None) == parent


@pytest.mark.django_db
def test_unknown_product_is_added_to_the_taxonomy_and_unknown_response_is_rejected():
    import_cfpb(str(NARRATIVES))
    assert not Product.objects.filter(name="Debt or credit management").exists()

    report = import_cfpb(str(UNKNOWN_PRODUCT))

    assert (report.read, report.created, report.rejected) == (3, 2, 1)
    top = Product.objects.get(name="Debt or credit management")
    assert top.parent is None
    sub = Product.objects.get(name="Credit repair services")
    assert sub.parent == top
    assert cfpb("7518556").product == sub
    assert cfpb("7518556").category.name == "Didn't provide services promised"
    [(line, reason)] = report.errors
    assert reason == "unknown company response 'Closed with a gift card'"
    # The rejected row spans several lines (its narrative has line breaks): the line
    # reported is one of them.
    first, last, row = next(
        r for r in records(UNKNOWN_PRODUCT) if r[2]["Complaint ID"] == "3116550"
    )
    assert last > first
    assert first <= line <= last
    assert row["Company response to consumer"] == "Closed with a gift card"
    assert not Complaint.objects.filter(external_reference="CFPB-3116550").exists()


def not_stated(tmp_path):
    """narratives.csv with blanks the CFPB publishes: a row without Product or Sub-product, a
    row without Issue or Sub-issue, and a row without Product whose Sub-product is kept.
    Returns the file and the three rows."""
    header, *rows = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    no_product, no_issue, sub_product_only = rows[:3]
    no_product[1] = no_product[2] = ""
    no_issue[3] = no_issue[4] = ""
    sub_product_only[1] = ""
    assert sub_product_only[2]
    path = rewrite(tmp_path / "not_stated.csv", [header, *rows])
    return path, no_product, no_issue, sub_product_only


@pytest.mark.django_db
def test_a_blank_product_or_issue_is_filed_under_not_stated_and_counted(tmp_path):
    path, no_product, no_issue, sub_product_only = not_stated(tmp_path)

    report = import_cfpb(str(path))

    assert (report.read, report.created, report.rejected, report.not_stated) == (10, 10, 0, 3)
    assert report.summary() == (
        'read 10, created 10, updated 0, rejected 0, filed under "Not stated": 3'
    )
    product = cfpb(no_product[-1]).product
    assert (product.name, product.parent, product.active) == ("Not stated", None, True)
    assert cfpb(no_product[-1]).category.name == no_product[4]  # its issue as the file has it
    category = cfpb(no_issue[-1]).category
    assert (category.name, category.parent, category.active) == ("Not stated", None, True)
    assert cfpb(no_issue[-1]).product.name == no_issue[2]
    sub = cfpb(sub_product_only[-1]).product
    assert (sub.name, sub.parent) == (sub_product_only[2], product)


@pytest.mark.django_db
def test_a_file_with_rows_not_stated_imported_again_creates_nothing_new(tmp_path):
    path, *_ = not_stated(tmp_path)
    import_cfpb(str(path))
    before = counts()

    again = import_cfpb(str(path))

    assert (again.created, again.updated, again.unchanged, again.not_stated) == (0, 0, 10, 3)
    assert counts() == before
    assert Product.objects.filter(name="Not stated").count() == 1
    assert Category.objects.filter(name="Not stated").count() == 1


# --- Importing again ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_importing_the_same_file_again_changes_and_duplicates_nothing():
    import_cfpb(str(NARRATIVES))
    import_cfpb(str(MESSY))
    before = counts()

    again = import_cfpb(str(NARRATIVES))
    messy_again = import_cfpb(str(MESSY))

    assert (again.read, again.created, again.updated, again.unchanged) == (10, 0, 0, 10)
    assert (messy_again.created, messy_again.updated, messy_again.unchanged) == (0, 0, 23)
    assert messy_again.rejected == 0
    assert counts() == before
    assert before["complaints"] == 33 and before["stage_changes"] == 99


@pytest.mark.django_db
def test_a_changed_row_is_updated_once(tmp_path):
    import_cfpb(str(NARRATIVES))
    before = counts()
    rows = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    target = next(r for r in rows if r[-1] == "3127398")
    target[5] = target[5] + '\n\nUpdate: the company called me back, "finally", today.'
    changed = tmp_path / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)

    report = import_cfpb(str(changed))

    assert (report.read, report.created, report.updated, report.unchanged) == (10, 0, 1, 9)
    complaint = cfpb("3127398")
    assert complaint.description == target[5]
    assert complaint.history.count() == 2
    assert complaint.history.first().history_change_reason == "Updated by a CSV import"
    assert counts() == {**before, "history": before["history"] + 1}
    assert import_cfpb(str(changed)).updated == 0


def rewrite(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.mark.django_db
def test_a_row_moved_to_a_new_sub_issue_is_updated_under_it(tmp_path):
    import_cfpb(str(NARRATIVES))
    rows = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    target = next(r for r in rows if r[-1] == KNOWN_ID)
    target[4] = "A sub-issue no file has used"

    report = import_cfpb(str(rewrite(tmp_path / "moved.csv", rows)))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 9)
    category = cfpb(KNOWN_ID).category
    assert (category.name, category.parent.name) == (
        "A sub-issue no file has used",
        "False statements or representation",
    )


@pytest.mark.django_db
def test_a_repeated_complaint_id_is_refused_in_its_batch_and_unchanged_in_a_later_one(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("complaints.imports.reader.BATCH_SIZE", 4)
    header, *rows = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    # Rows 1-4 are the first batch (the repeat of row 1 among them), rows 5-8 the second
    # (the repeat of row 2 among them), and so on.
    repeated = rewrite(tmp_path / "repeated.csv", [header, *rows[:3], rows[0], *rows[3:6], rows[1]])
    first_repeat = records(repeated)[3]

    report = import_cfpb(str(repeated))

    assert (report.read, report.created, report.unchanged, report.rejected) == (8, 6, 1, 1)
    [(line, reason)] = report.errors
    assert reason == f"Complaint ID {rows[0][-1]} appears twice"
    assert first_repeat[0] <= line <= first_repeat[1]
    assert first_repeat[2]["Complaint ID"] == rows[0][-1]
    assert Complaint.objects.count() == 6


IN_PROGRESS_ID = "7356011"  # messy.csv: "In progress", no consumer dispute recorded
CLOSING_FIELDS = (
    "stage",
    "assignee_id",
    "next_deadline_at",
    "resolved_at",
    "reviewed_at",
    "closed_at",
    "resolution_overdue_at",
    "acknowledged_at",
    "escalation_level",
)


def closed_later(tmp_path, response="Closed with monetary relief", disputed="No"):
    """messy.csv as a later export shows it: the in-progress complaint closed."""
    rows = list(csv.reader(MESSY.open(encoding="utf-8", newline="")))
    target = next(r for r in rows if r[-1] == IN_PROGRESS_ID)
    assert target[14] == "In progress"
    target[14], target[16] = response, disputed
    return rewrite(tmp_path / "closed.csv", rows)


def closing_state(complaint_id):
    complaint = cfpb(complaint_id)
    return (
        {name: getattr(complaint, name) for name in CLOSING_FIELDS},
        [(r.type, r.status, r.implemented_at) for r in complaint.resolutions.all()],
        [(f.resolved, f.submitted_at) for f in complaint.feedback.all()],
        [(c.from_stage, c.to_stage, c.at) for c in complaint.stage_changes.order_by("at", "id")],
    )


@pytest.mark.django_db
def test_a_later_file_closes_an_in_progress_complaint_as_a_first_import_of_it_would(tmp_path):
    later = closed_later(tmp_path)
    with transaction.atomic():
        import_cfpb(str(later))
        fields, resolutions, feedback, _ = closing_state(IN_PROGRESS_ID)
        transaction.set_rollback(True)
    import_cfpb(str(MESSY))
    before = counts()
    assert cfpb(IN_PROGRESS_ID).stage == Stage.INVESTIGATING

    report = import_cfpb(str(later))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 22)
    closed_fields, closed_resolutions, closed_feedback, changes = closing_state(IN_PROGRESS_ID)
    assert closed_fields == fields
    assert fields["stage"] == Stage.REVIEWED and fields["assignee_id"] is None
    assert fields["next_deadline_at"] is None
    assert (
        closed_resolutions
        == resolutions
        == [(ResolutionType.COMPENSATION, ResolutionStatus.IMPLEMENTED, fields["resolved_at"])]
    )
    assert closed_feedback == feedback == [(True, fields["resolved_at"])]
    # Its history as first imported, then the closing, dated as the file dates it.
    assert changes[-1] == (Stage.INVESTIGATING, Stage.REVIEWED, fields["closed_at"])
    assert [c[1] for c in changes] == [
        Stage.RECEIVED,
        Stage.ACKNOWLEDGED,
        Stage.INVESTIGATING,
        Stage.REVIEWED,
    ]
    complaint = cfpb(IN_PROGRESS_ID)
    assert complaint.history.first().history_change_reason == "Closed by a later CSV import"
    assert counts() == {
        **before,
        "history": before["history"] + 1,
        "stage_changes": before["stage_changes"] + 1,
        "resolutions": before["resolutions"] + 1,
        "feedback": before["feedback"] + 1,
    }
    # The later file again: nothing more to do.
    assert import_cfpb(str(later)).updated == 0
    assert counts()["stage_changes"] == before["stage_changes"] + 1


@pytest.mark.django_db
def test_a_later_file_leaves_the_stage_of_a_complaint_someone_here_took_on(tmp_path, csr, manager):
    """Once a person owns it, moving it is a workflow decision the import does not take."""
    import_cfpb(str(MESSY))
    services.complaint_assign(cfpb(IN_PROGRESS_ID), actor=manager, assignee=csr)
    before = counts()

    report = import_cfpb(str(closed_later(tmp_path)))

    assert (report.created, report.updated) == (0, 0)
    complaint = cfpb(IN_PROGRESS_ID)
    assert (complaint.stage, complaint.assignee) == (Stage.INVESTIGATING, csr)
    assert not complaint.resolutions.exists()
    assert counts() == before


def republished(tmp_path, complaint_id, **changes):
    """messy.csv as a later export gives it, the row of `complaint_id` changed by column."""
    rows = list(csv.reader(MESSY.open(encoding="utf-8", newline="")))
    target = next(r for r in rows if r[-1] == complaint_id)
    for column, value in changes.items():
        target[CFPB_COLUMNS.index(column)] = value
    return rewrite(tmp_path / "republished.csv", rows)


STAFF_WROTE = "Customer phoned: the escrow shortfall was our error. Refund agreed on the call."


@pytest.mark.django_db
def test_a_later_file_keeps_what_staff_wrote_on_a_complaint_edited_here(tmp_path, manager):
    import_cfpb(str(MESSY))
    services.complaint_update(
        cfpb(IN_PROGRESS_ID), actor=manager, changes={"description": STAFF_WROTE}
    )
    edited = cfpb(IN_PROGRESS_ID)
    history = Complaint.history.count()
    later = republished(
        tmp_path,
        IN_PROGRESS_ID,
        **{"Consumer complaint narrative": "A narrative published later.", "State": "ZZ"},
    )

    report = import_cfpb(str(later))

    assert (report.created, report.updated, report.unchanged, report.kept) == (0, 0, 22, 1)
    assert report.summary() == (
        'read 23, created 0, updated 0, rejected 0, filed under "Not stated": 2'
    )
    complaint = cfpb(IN_PROGRESS_ID)
    assert complaint.description == STAFF_WROTE
    assert complaint.customer_region == edited.customer_region != "ZZ"
    assert complaint.updated_at == edited.updated_at
    assert Complaint.history.count() == history


@pytest.mark.django_db
def test_a_later_file_keeps_the_fields_of_a_complaint_someone_here_took_on(tmp_path, csr, manager):
    import_cfpb(str(MESSY))
    services.complaint_assign(cfpb(IN_PROGRESS_ID), actor=manager, assignee=csr)
    description = cfpb(IN_PROGRESS_ID).description

    report = import_cfpb(
        str(republished(tmp_path, IN_PROGRESS_ID, **{"Company": "A company renamed later"}))
    )

    assert (report.updated, report.kept) == (0, 1)
    complaint = cfpb(IN_PROGRESS_ID)
    assert complaint.business_unit != "A company renamed later"
    assert complaint.description == description


@pytest.mark.django_db
def test_a_later_file_closes_a_complaint_edited_here_but_keeps_what_staff_wrote(tmp_path, manager):
    """Edited but not taken on: still the import's, so the company's closing applies."""
    import_cfpb(str(MESSY))
    services.complaint_update(
        cfpb(IN_PROGRESS_ID), actor=manager, changes={"description": STAFF_WROTE}
    )
    rows = list(csv.reader(closed_later(tmp_path).open(encoding="utf-8", newline="")))
    next(r for r in rows if r[-1] == IN_PROGRESS_ID)[5] = "A narrative published later."

    report = import_cfpb(str(rewrite(tmp_path / "closed_edited.csv", rows)))

    assert (report.updated, report.kept) == (1, 0)
    complaint = cfpb(IN_PROGRESS_ID)
    assert (complaint.stage, complaint.description) == (Stage.REVIEWED, STAFF_WROTE)
    assert complaint.history.first().history_change_reason == "Closed by a later CSV import"


@pytest.mark.django_db
def test_an_import_run_by_a_manager_is_not_mistaken_for_an_edit(tmp_path, manager):
    """The upload page records the manager in the history of what it imports and updates."""
    import_cfpb(str(MESSY), user=manager)
    later = republished(tmp_path, IN_PROGRESS_ID, **{"Company": "Renamed once"})
    assert import_cfpb(str(later), user=manager).updated == 1

    report = import_cfpb(
        str(republished(tmp_path, IN_PROGRESS_ID, **{"Company": "Renamed twice"})), user=manager
    )

    assert (report.updated, report.kept) == (1, 0)
    assert cfpb(IN_PROGRESS_ID).business_unit == "Renamed twice"


@pytest.mark.django_db
def test_staff_correct_a_not_stated_issue_on_the_edit_form_and_a_later_import_keeps_it(
    tmp_path, client, manager
):
    later = republished(tmp_path, IN_PROGRESS_ID, **{"Issue": "", "Sub-issue": ""})
    import_cfpb(str(later))
    complaint = cfpb(IN_PROGRESS_ID)
    assert complaint.category.name == "Not stated" and complaint.is_open
    correct = Category.objects.get(name="Incorrect information on credit report", parent=None)
    client.force_login(manager)
    page = client.get(reverse("complaints:edit", args=[complaint.pk])).content.decode()
    assert f'<option value="{complaint.category_id}" selected>Not stated</option>' in page
    form = ComplaintEditForm(instance=complaint)
    data = {name: form.initial[name] or "" for name in form.Meta.fields}

    response = client.post(
        reverse("complaints:edit", args=[complaint.pk]), {**data, "category": correct.pk}
    )

    assert response.status_code == 302
    assert cfpb(IN_PROGRESS_ID).category == correct
    report = import_cfpb(str(later))
    # messy.csv's own two rows without an issue are still filed under it; this one not.
    assert (report.updated, report.kept, report.not_stated) == (0, 1, 2)
    assert cfpb(IN_PROGRESS_ID).category == correct


@pytest.mark.django_db
def test_command_says_how_many_complaints_kept_what_staff_wrote(tmp_path, manager):
    import_cfpb(str(MESSY))
    services.complaint_update(
        cfpb(IN_PROGRESS_ID), actor=manager, changes={"description": STAFF_WROTE}
    )
    later = republished(tmp_path, IN_PROGRESS_ID, **{"Consumer complaint narrative": "Later."})
    out = StringIO()

    call_command("import_complaints", str(later), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[-1] == 'read 23, created 0, updated 0, rejected 0, filed under "Not stated": 2'
    assert (
        "1 complaint worked on here since imported kept what staff wrote; "
        "the file's version was not applied."
    ) in lines


@pytest.mark.django_db
def test_a_later_file_still_in_progress_changes_nothing(tmp_path):
    import_cfpb(str(MESSY))
    before = counts()

    report = import_cfpb(str(closed_later(tmp_path, response="Untimely response", disputed="")))

    assert report.updated == 0
    assert cfpb(IN_PROGRESS_ID).stage == Stage.INVESTIGATING
    assert counts() == before


# --- Bad files -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_header_fails_with_a_clear_message_and_imports_nothing():
    with pytest.raises(ImportFailed) as failure:
        import_cfpb(str(WRONG_HEADER))

    message = str(failure.value)
    assert "not a CFPB complaints file" in message
    assert "missing: Sub-issue" in message
    assert "Nothing was imported" in message
    assert Complaint.objects.count() == 0
    assert counts() == NOTHING


@pytest.mark.django_db
def test_truncated_gzip_fails_and_leaves_nothing_half_imported(monkeypatch):
    # Small batches, so several are written before the damage is reached.
    monkeypatch.setattr("complaints.imports.reader.BATCH_SIZE", 2)
    written = []

    with pytest.raises(ImportFailed) as failure:
        import_cfpb(str(TRUNCATED_GZ), progress=lambda report: written.append(report.created))

    assert written and written[-1] > 0  # batches did go in before the end was found
    assert "truncated or damaged" in str(failure.value)
    assert "nothing was imported" in str(failure.value)
    assert counts() == NOTHING


@pytest.mark.django_db
def test_a_failure_while_writing_stops_the_reading_thread_and_keeps_nothing(monkeypatch):
    # The file is read a batch ahead in a thread of its own; a database error in the
    # caller must not leave that thread behind, nor any row written.
    monkeypatch.setattr("complaints.imports.reader.BATCH_SIZE", 2)
    create = CfpbWriter.create
    batches = []

    def failing_create(writer, rows):
        batches.append(len(rows))
        if len(batches) == 3:
            raise RuntimeError("the database went away")
        create(writer, rows)

    monkeypatch.setattr(CfpbWriter, "create", failing_create)

    with pytest.raises(RuntimeError, match="went away"):
        import_cfpb(str(MESSY))

    assert len(batches) == 3
    assert counts() == NOTHING
    assert not [t for t in threading.enumerate() if t.name == "cfpb-import-reader"]


@pytest.mark.django_db
def test_a_batch_costs_the_same_statements_for_twice_the_rows(tmp_path):
    # Statements grow with batches (and the years a batch spans), never with rows: no query
    # per row or per new product. COPY is not counted; it is one per table and batch.
    with CaptureQueriesContext(connection) as first:
        import_cfpb(str(MESSY))
    # Dozens of new products and categories, each model read once and written a level at a
    # time (top level, then the sub-items under it).
    assert Product.objects.count() + Category.objects.count() > 40
    for table in ("complaints_product", "complaints_category"):
        assert sum(table in query["sql"] for query in first) <= 5
    header, *rows = list(csv.reader(MESSY.open(encoding="utf-8", newline="")))

    def renumbered(name, *prefixes):
        return rewrite(
            tmp_path / name,
            [header, *([*row[:-1], prefix + row[-1]] for prefix in prefixes for row in rows)],
        )

    statements = []
    for path in (renumbered("once.csv", "1"), renumbered("twice.csv", "2", "3")):
        with CaptureQueriesContext(connection) as queries:
            report = import_cfpb(str(path))
        statements.append(len(queries))
        assert report.created == report.read - report.rejected

    assert report.created == 46
    assert statements[0] == statements[1]


@pytest.mark.django_db
def test_a_file_cut_inside_a_quoted_narrative_imports_nothing():
    # The file ends inside a quoted narrative: it is damaged, so nothing of it goes in,
    # the same as a truncated gzip.
    with pytest.raises(ImportFailed) as failure:
        import_cfpb(str(TRUNCATED_QUOTE))

    assert "nothing was imported" in str(failure.value)
    assert counts() == NOTHING


@pytest.mark.django_db
def test_a_plain_file_cut_in_the_middle_of_a_row_imports_nothing(monkeypatch):
    # Small batches, so several are written before the cut is reached.
    monkeypatch.setattr("complaints.imports.reader.BATCH_SIZE", 2)
    written = []

    with pytest.raises(ImportFailed) as failure:
        import_cfpb(str(TRUNCATED_ROW), progress=lambda report: written.append(report.created))

    assert written and written[-1] > 0
    message = str(failure.value)
    assert "ends in the middle of a row (line 54 has 10 of 18 columns" in message
    assert "truncated" in message and "Nothing was imported" in message
    assert counts() == NOTHING


@pytest.mark.django_db
def test_a_last_row_complete_but_without_a_line_break_is_imported(tmp_path):
    unended = tmp_path / "unended.csv"
    unended.write_bytes(NARRATIVES.read_bytes().rstrip(b"\n"))

    report = import_cfpb(str(unended))

    assert (report.read, report.created, report.rejected) == (10, 10, 0)


@pytest.mark.django_db
def test_a_file_cut_in_the_middle_of_a_character_is_called_truncated(tmp_path):
    cut = tmp_path / "cut.csv"
    cut.write_bytes(NARRATIVES.read_bytes() + "Caf\u00e9".encode()[:-1])

    with pytest.raises(ImportFailed, match="middle of a character: it looks truncated"):
        import_cfpb(str(cut))

    assert counts() == NOTHING


@pytest.mark.django_db
def test_a_windows_1252_file_is_refused_as_not_utf8_naming_the_line(tmp_path, monkeypatch):
    monkeypatch.setattr("complaints.imports.reader.BATCH_SIZE", 2)
    # The first byte UTF-8 does not allow, "à", is in the row after narratives.csv's 54 lines,
    # past the first chunk the text stream decodes.
    assert WINDOWS_1252.read_bytes().index("à".encode("cp1252")) > 8192

    with pytest.raises(ImportFailed) as failure:
        import_cfpb(str(WINDOWS_1252))

    message = str(failure.value)
    assert message.startswith("The file is not UTF-8 text (line 55 ")
    assert 'Save it as "CSV UTF-8"' in message and "Nothing was imported" in message
    assert counts() == NOTHING

    # The same row first, so the header's read decodes it: line 2.
    header, *rows = WINDOWS_1252.read_bytes().split(b"\n")
    short = tmp_path / "short.csv"
    short.write_bytes(b"\n".join([header, rows[-3], b""]))
    with pytest.raises(ImportFailed, match=r"^The file is not UTF-8 text \(line 2 "):
        import_cfpb(str(short))


@pytest.mark.django_db
def test_a_trailing_blank_line_is_not_a_rejected_row(tmp_path):
    padded = tmp_path / "padded.csv"
    padded.write_bytes(NARRATIVES.read_bytes() + b"\n")

    report = import_cfpb(str(padded))

    assert (report.read, report.created, report.rejected) == (10, 10, 0)


@pytest.mark.django_db
def test_dry_run_reports_counts_but_saves_nothing():
    report = import_cfpb(str(MESSY), dry_run=True)

    assert report.dry_run
    assert (report.read, report.created, report.rejected) == (23, 23, 0)
    assert counts() == NOTHING


@pytest.mark.django_db
def test_binary_file_objects_are_accepted_plain_or_gzip():
    plain = import_cfpb(io.BytesIO(NARRATIVES.read_bytes()))
    assert (plain.read, plain.created) == (10, 10)

    packed = import_cfpb(io.BytesIO(gzip.compress(MESSY.read_bytes())))
    assert (packed.read, packed.created, packed.rejected) == (23, 23, 0)
    assert Complaint.objects.count() == 33


# --- Today's jobs leave history alone ------------------------------------------------------


@pytest.mark.django_db
def test_imported_complaints_are_not_escalated_by_todays_jobs(django_user_model):
    # A manager and a CSR with addresses, so any breach would write notifications.
    make_user(django_user_model, "boss", Role.MANAGER, email="boss@example.com")
    make_user(django_user_model, "desk", Role.CSR, email="desk@example.com")
    import_cfpb(str(NARRATIVES))
    import_cfpb(str(MESSY))
    assert Complaint.objects.filter(stage=Stage.INVESTIGATING).count() == 4
    before = dict(Complaint.objects.values_list("pk", "escalation_level"))
    history = Complaint.history.count()

    ack = sweeps.enforce_acknowledgment_deadline()
    targets = sweeps.enforce_resolution_targets()

    assert ack == {"warned": 0, "breached": 0, "notifications": 0}
    assert targets == {"overdue": 0, "delay_notices": 0, "notifications": 0}
    assert dict(Complaint.objects.values_list("pk", "escalation_level")) == before
    assert set(before.values()) == {""}
    assert OutboundMessage.objects.count() == 0
    assert Complaint.history.count() == history


# --- The command -----------------------------------------------------------------------------


GIFT_CARD_IDS = ("1177839", "8743")  # messy.csv: single-line rows, on lines 8 and 10


def messy_with_gift_cards(tmp_path):
    """messy.csv with the company response of the GIFT_CARD_IDS rows edited to one Redress
    does not know."""
    rows = list(csv.reader(MESSY.open(encoding="utf-8", newline="")))
    for row in rows:
        if row[-1] in GIFT_CARD_IDS:
            row[14] = "Closed with a gift card"
    path = rewrite(tmp_path / "gift_cards.csv", rows)
    lines = [
        (first, last) for first, last, row in records(path) if row["Complaint ID"] in GIFT_CARD_IDS
    ]
    assert lines == [(8, 8), (10, 10)]
    return path


GIFT_CARD = "unknown company response 'Closed with a gift card'"


@pytest.mark.django_db
def test_command_prints_the_rejected_rows_and_ends_with_the_summary(tmp_path):
    out, err = StringIO(), StringIO()

    call_command("import_complaints", str(messy_with_gift_cards(tmp_path)), stdout=out, stderr=err)

    output = out.getvalue()
    lines = output.splitlines()
    assert lines[-1] == 'read 23, created 21, updated 0, rejected 2, filed under "Not stated": 2'
    assert lines[:2] == [f"line 8: {GIFT_CARD}", f"line 10: {GIFT_CARD}"]
    assert "\r" not in output and "rows read" not in output
    assert Complaint.objects.count() == 21


def many_rejected(tmp_path, count):
    """A file of `count` rows, each with a company response Redress does not know."""
    header, row, *_ = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    row[14] = "Closed with a gift card"
    rows = [[*row[:-1], str(900000000 + n)] for n in range(count)]
    return rewrite(tmp_path / "rejected.csv", [header, *rows])


@pytest.mark.django_db
def test_rejected_rows_beyond_those_listed_are_counted_not_dropped(tmp_path):
    out = StringIO()

    call_command(
        "import_complaints", str(many_rejected(tmp_path, 1005)), "--errors", "2000", stdout=out
    )

    lines = out.getvalue().splitlines()
    assert lines[-1] == "read 1005, created 0, updated 0, rejected 1005"
    assert sum(line.startswith("line ") for line in lines) == MAX_REPORTED_ERRORS
    assert "... and 5 more rejected rows (lines are kept for the first 1,000 only)" in lines

    out = StringIO()
    call_command("import_complaints", str(many_rejected(tmp_path, 1005)), stdout=out)
    assert "... and 985 more rejected rows" in out.getvalue().splitlines()


@pytest.mark.django_db
def test_command_dry_run_saves_nothing():
    out = StringIO()

    call_command("import_complaints", str(NARRATIVES), "--dry-run", stdout=out)

    assert out.getvalue().splitlines()[-1] == "read 10, created 10, updated 0, rejected 0"
    assert "Dry run, nothing saved" in out.getvalue()
    assert counts() == NOTHING


@pytest.mark.django_db
def test_command_refuses_a_bad_or_missing_file(tmp_path):
    with pytest.raises(CommandError, match="missing: Sub-issue"):
        call_command("import_complaints", str(WRONG_HEADER), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_complaints", str(tmp_path / "nope.csv"), stdout=StringIO())
    assert counts() == NOTHING


# --- The upload page -----------------------------------------------------------------------


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/csv")


@pytest.mark.django_db
def test_manager_uploads_a_file_and_sees_the_report(client, manager):
    client.force_login(manager)

    response = client.post(reverse("complaints:import"), {"file": upload(NARRATIVES)})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Import report" in page
    assert "Read 10, created 10, updated 0, unchanged 0, rejected 0." in page
    assert "Imported: read 10, created 10, updated 0, rejected 0." in page
    assert Complaint.objects.count() == 10
    assert {h.history_user for h in Complaint.history.all()} == {manager}


@pytest.mark.django_db
def test_upload_report_lists_rejected_rows(client, manager, tmp_path):
    client.force_login(manager)

    response = client.post(
        reverse("complaints:import"), {"file": upload(messy_with_gift_cards(tmp_path))}
    )

    page = response.content.decode()
    assert "Read 23, created 21, updated 0, unchanged 0, rejected 2." in page
    assert f"<td>8</td><td>{escape(GIFT_CARD)}</td>" in page
    assert f"<td>10</td><td>{escape(GIFT_CARD)}</td>" in page
    assert (
        escape('Imported: read 23, created 21, updated 0, rejected 2, filed under "Not stated": 2.')
        in page
    )


@pytest.mark.django_db
def test_upload_of_a_bad_file_shows_the_reason_on_the_form(client, manager):
    client.force_login(manager)

    response = client.post(reverse("complaints:import"), {"file": upload(WRONG_HEADER)})

    assert response.status_code == 200
    assert "missing: Sub-issue" in response.content.decode()
    assert counts() == NOTHING


@pytest.mark.django_db
def test_upload_report_counts_the_rejected_rows_it_does_not_list(client, manager, tmp_path):
    client.force_login(manager)

    response = client.post(
        reverse("complaints:import"), {"file": upload(many_rejected(tmp_path, 1005))}
    )

    page = response.content.decode()
    assert "rejected 1005." in page
    assert page.count("Closed with a gift card") == 200
    assert "… and 805 more rejected rows not listed here." in page


@pytest.mark.django_db
def test_csr_may_not_import(client, csr):
    client.force_login(csr)

    assert client.get(reverse("complaints:import")).status_code == 403
    response = client.post(reverse("complaints:import"), {"file": upload(NARRATIVES)})
    assert response.status_code == 403
    assert counts() == NOTHING


@pytest.mark.django_db
def test_dry_run_checkbox_saves_nothing(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("complaints:import"), {"file": upload(NARRATIVES), "dry_run": "on"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Check report" in page
    assert "Read 10, created 10, updated 0, unchanged 0, rejected 0." in page
    assert "Checked, nothing saved: read 10, created 10" in page
    assert counts() == NOTHING


# --- Alongside other work: intake, another import ---------------------------------------------
# Real connections, one per thread, so these tests commit (transaction=True) and clean up after.

TIMEOUT = 20


@contextmanager
def import_held_open(path, **options):
    """An import of `path` in a thread of its own, held open (its transaction too) after its
    first batch until the block ends. Yields a dict that gets its report or error."""
    inside, release, outcome = threading.Event(), threading.Event(), {}

    def hold(report):
        inside.set()
        release.wait(TIMEOUT)

    def run():
        try:
            outcome["report"] = import_cfpb(str(path), progress=hold, **options)
        except BaseException as error:  # checked by the test, in its own thread
            outcome["error"] = error
        finally:
            inside.set()
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert inside.wait(TIMEOUT)
        assert "error" not in outcome, outcome
        yield outcome
    finally:
        release.set()
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the import is stuck"


def dated_this_year(tmp_path):
    """narratives.csv received and answered this year, so it takes this year's references."""
    header, *rows = list(csv.reader(NARRATIVES.open(encoding="utf-8", newline="")))
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    for row in rows:
        row[0] = row[13] = day
    return rewrite(tmp_path / "this_year.csv", [header, *rows])


@pytest.mark.django_db(transaction=True)
def test_a_csr_logs_a_complaint_while_an_import_of_the_same_year_runs(tmp_path, csr):
    data = factories.complaint_data()  # categories made here, before the threads start
    year = timezone.localdate().year
    logged = {}

    def log():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
            logged["complaint"] = services.complaint_create(actor=csr, data=dict(data))
        except BaseException as error:
            logged["error"] = error
        finally:
            connection.close()

    with import_held_open(dated_this_year(tmp_path)) as outcome:
        intake = threading.Thread(target=log, daemon=True)
        intake.start()
        intake.join(TIMEOUT)

    assert "error" not in logged, logged["error"]
    assert outcome["report"].created == 10
    references = list(Complaint.objects.values_list("reference", flat=True))
    assert len(set(references)) == 11
    assert all(reference.startswith(f"CMP-{year}-") for reference in references)
    # The import took its numbers first, in a transaction of their own.
    assert logged["complaint"].reference == f"CMP-{year}-000011"


@pytest.mark.django_db(transaction=True)
def test_an_import_that_fails_leaves_a_gap_in_the_references_not_a_repeat(
    tmp_path, csr, monkeypatch
):
    monkeypatch.setattr("complaints.imports.reader.BATCH_SIZE", 4)
    broken = dated_this_year(tmp_path)
    broken.write_bytes(broken.read_bytes() + b"2020-01-01,Mortgage")  # cut in its third batch
    with pytest.raises(ImportFailed, match="middle of a row"):
        import_cfpb(str(broken))

    complaint = factories.complaint(csr)

    assert Complaint.objects.count() == 1
    assert complaint.reference == f"CMP-{timezone.localdate().year}-000009"


@pytest.fixture
def new_complaints_of_known_products(tmp_path):
    """messy.csv imported, and a copy of it under new Complaint IDs: importing the copy
    creates complaints and nothing in the taxonomy, so two imports of it at once meet first
    on the complaints themselves (the references, the unique external reference)."""
    import_cfpb(str(MESSY))
    header, *rows = list(csv.reader(MESSY.open(encoding="utf-8", newline="")))
    return rewrite(tmp_path / "renumbered.csv", [header, *([*r[:-1], "9" + r[-1]] for r in rows)])


@pytest.mark.django_db(transaction=True)
def test_a_second_import_while_one_runs_is_refused_and_nothing_is_duplicated(
    new_complaints_of_known_products,
):
    new = new_complaints_of_known_products
    with import_held_open(new) as first:
        with pytest.raises(ImportFailed) as failure:
            import_cfpb(str(new))
        assert str(failure.value) == (
            "Another import is running; try again when it has finished. Nothing was imported."
        )
        with pytest.raises(ImportFailed, match="Another import is running"):
            import_cfpb(str(new), dry_run=True)

    assert first["report"].created == 23
    assert Complaint.objects.count() == 46
    again = import_cfpb(str(new))
    assert (again.created, again.unchanged) == (0, 23)


@pytest.mark.django_db(transaction=True)
def test_upload_while_another_import_runs_says_so_on_the_form(
    client, manager, new_complaints_of_known_products
):
    new = new_complaints_of_known_products
    client.force_login(manager)

    with import_held_open(new):
        response = client.post(reverse("complaints:import"), {"file": upload(new)})

    assert response.status_code == 200
    assert "Another import is running; try again when it has finished." in (
        response.content.decode()
    )
    assert Complaint.objects.count() == 46


@pytest.mark.django_db(transaction=True)
def test_command_while_another_import_runs_fails_clearly(new_complaints_of_known_products):
    new = new_complaints_of_known_products
    with import_held_open(new), pytest.raises(CommandError, match="Another import is running"):
        call_command("import_complaints", str(new), stdout=StringIO())

    assert Complaint.objects.count() == 46


# --- The whole shared file (about half a minute) -------------------------------------------


def independent_counts():
    """What the shared file should give, counted with the csv module alone."""
    with gzip.open(SHARED, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        assert tuple(header) == CFPB_COLUMNS
        read, blank = 0, 0
        products, years = Counter(), Counter()
        for values in reader:
            read += 1
            row = dict(zip(header, values, strict=True))
            if not row["Product"].strip() or not row["Issue"].strip():
                blank += 1
            products[row["Product"].strip() or "Not stated"] += 1
            years[int(row["Date received"][:4])] += 1
    return read, blank, products, years


@pytest.fixture(scope="class")
def whole_file(django_db_setup, django_db_blocker):
    """The shared file imported once for the class, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        started = time.perf_counter()
        report = import_cfpb(str(SHARED))
        seconds = time.perf_counter() - started
        # Check the deferred foreign keys of all the rows written now, once: each test's
        # teardown checks them again otherwise, inside a savepoint it then rolls back.
        connection.check_constraints()
        yield report, seconds, independent_counts()
        transaction.set_rollback(True)


@pytest.mark.integration
@pytest.mark.django_db
@pytest.mark.skipif(not SHARED.exists(), reason="the shared CFPB file is not here")
class TestWholeSharedFile:
    """SLOW (about half a minute): imports all 98,706 rows of the shared file once."""

    def test_totals(self, whole_file):
        report, seconds, (read, blank, _, _) = whole_file
        print(f"whole file imported in {seconds:.1f} s")
        assert read == 98706
        assert report.read == read
        assert report.not_stated == blank == 2
        assert report.rejected == 0 and report.errors == []
        assert report.created == report.read - report.rejected
        assert (report.updated, report.unchanged) == (0, 0)
        assert Complaint.objects.count() == report.created
        assert StageChange.objects.count() == 3 * report.created
        assert Complaint.history.count() == report.created

    def test_counts_by_year(self, whole_file):
        _, _, (_, _, _, years) = whole_file
        by_year = dict(
            Complaint.objects.annotate(year=ExtractYear("received_at"))
            .values_list("year")
            .annotate(n=Count("id"))
            .values_list("year", "n")
        )
        assert by_year == dict(years)

    def test_counts_by_product(self, whole_file):
        _, _, (_, _, products, _) = whole_file
        by_product = dict(
            Complaint.objects.annotate(top=Coalesce("product__parent__name", "product__name"))
            .values_list("top")
            .annotate(n=Count("id"))
            .values_list("top", "n")
        )
        assert by_product == dict(products)

    def test_a_monthly_trend_report_matches_a_count_made_from_the_file(self, whole_file):
        """The reports issue's check: a month's report against the CSV, counted apart."""
        from reports.services import report_build

        month = "2015-03"
        with gzip.open(SHARED, "rt", encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row["Date received"].startswith(month)]
        metrics = report_build("monthly", date(2015, 3, 1)).metrics
        assert metrics["received"]["total"] == len(rows) > 0
        assert dict(metrics["received"]["by_product"]) == dict(
            Counter(row["Product"] for row in rows)
        )
        assert dict(metrics["received"]["by_day"]) == dict(
            Counter(row["Date received"] for row in rows)
        )
