"""The set-based writers' history rows (complaints/services/history.py) are written in SQL, in
simple-history's own table layout. These tests pin that layout: an upgrade of simple-history
that adds, drops or renames a history column fails here, not in silence in production."""

import pytest
from django.utils import timezone

from complaints.models import Complaint
from complaints.services import history
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_copy_writes_every_column_of_simple_historys_table():
    table_columns = {f.column for f in Complaint.history.model._meta.concrete_fields}

    written = set(history.copied_columns()) | set(history.HISTORY_COLUMNS)

    assert table_columns == written | {history.HISTORY_KEY}


def test_every_copied_column_is_read_from_the_complaint_and_the_token_is_not_kept():
    complaint_columns = {f.column for f in Complaint._meta.concrete_fields}

    assert set(history.copied_columns()) <= complaint_columns
    # The customer's link token stays out of the history (HistoricalRecords excluded_fields).
    assert "customer_token" not in history.copied_columns()


def test_a_copied_row_equals_the_row_simple_history_writes_for_the_same_state(csr):
    complaint = factories.complaint(csr)
    complaint.description = "Changed through the model, as a person's edit is."
    complaint._change_reason = "Record updated"
    complaint._history_user = csr
    complaint.save()
    by_simple_history = complaint.history.latest("history_id")

    history.history_copy(
        [complaint.pk], reason="Record updated", at=by_simple_history.history_date, user_id=csr.pk
    )

    copied = complaint.history.latest("history_id")
    assert copied.history_id != by_simple_history.history_id
    for field in Complaint.history.model._meta.concrete_fields:
        if field.attname != "history_id":
            assert getattr(copied, field.attname) == getattr(by_simple_history, field.attname), (
                field.attname
            )


def test_a_created_row_by_reference_returns_the_ids(csr):
    complaint = factories.complaint(csr)
    Complaint.objects.filter(pk=complaint.pk).update(external_reference="cfpb:1")
    now = timezone.now()

    rows = history.history_copy(
        ["cfpb:1"],
        reason="Imported from CSV",
        at=now,
        kind=history.CREATED,
        by="external_reference",
        returning=("external_reference", "id"),
    )

    assert rows == [("cfpb:1", complaint.pk)]
    assert complaint.history.latest("history_id").history_type == "+"


def test_nothing_to_copy_writes_nothing():
    assert history.history_copy([], reason="x", at=timezone.now()) == []
