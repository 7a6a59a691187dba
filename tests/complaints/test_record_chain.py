"""The tamper-evident record: the chain over stage changes, history rows, notes and messages
detects a changed, a deleted, a reordered and an inserted row, in SQL and in Python alike."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from complaints import chain
from complaints.models import Anonymisation, Note, RecordLink, StageChange
from complaints.selectors.record import record_verify
from complaints.services.record import content_hashes, record_chain_extend
from complaints.services.retention import complaints_anonymise
from tests import factories

pytestmark = pytest.mark.django_db

BOTH = pytest.mark.parametrize("in_sql", [True, False], ids=["sql", "python"])


@pytest.fixture
def case(csr, resolver, manager):
    case = factories.complaint_at_stage(
        "reviewed",
        csr=csr,
        resolver=resolver,
        manager=manager,
        channel="email",
        customer_email="ann@example.com",
    )
    record_chain_extend()
    return case


def problems(in_sql):
    return {(b.kind, b.problem) for b in record_verify(in_sql=in_sql).breaks}


def test_every_kind_of_record_row_is_chained_once(case):
    kinds = set(RecordLink.objects.filter(complaint=case).values_list("kind", flat=True))
    assert kinds == {"stage", "history", "note", "message"}
    assert record_chain_extend() == dict.fromkeys(chain.KINDS, 0)
    seqs = list(RecordLink.objects.filter(complaint=case).order_by("seq").values_list("seq"))
    assert seqs == [(n,) for n in range(1, len(seqs) + 1)]


@BOTH
def test_an_intact_record_verifies(case, in_sql):
    result = record_verify(in_sql=in_sql)
    assert result.intact and result.cases == 1 and result.links > 10


def test_python_and_sql_hash_every_kind_alike(case):
    assert connection.vendor == "postgresql"
    complaints_anonymise([case.pk], reason="so that a seal exists")
    for kind in chain.KINDS.values():
        ids = list(kind.rows().values_list("pk", flat=True))
        assert ids, kind.name
        assert content_hashes(kind, ids) == chain.row_hashes(kind, ids), kind.name


@BOTH
def test_an_edited_row_is_detected(case, in_sql):
    note = Note.objects.filter(complaint=case).first()
    Note.objects.filter(pk=note.pk).update(text="Nothing was found.")
    assert problems(in_sql) == {("note", "changed")}


@BOTH
def test_an_edited_history_row_is_detected(case, in_sql):
    row = case.history.order_by("history_id").first()
    type(row).objects.filter(pk=row.pk).update(customer_name="Someone else")
    assert problems(in_sql) == {("history", "changed")}


@BOTH
def test_a_deleted_row_is_detected(case, in_sql):
    StageChange.objects.filter(complaint=case).order_by("id").last().delete()
    assert problems(in_sql) == {("stage", "removed")}


@BOTH
def test_a_reordered_row_is_detected(case, in_sql):
    """Two stage changes swapped in time: each reads as changed, and swapping their links to
    match breaks the chain."""
    first, second = StageChange.objects.filter(complaint=case).order_by("id")[:2]
    StageChange.objects.filter(pk=first.pk).update(at=second.at)
    StageChange.objects.filter(pk=second.pk).update(at=first.at)
    assert problems(in_sql) == {("stage", "changed")}
    StageChange.objects.filter(pk=first.pk).update(at=first.at)
    StageChange.objects.filter(pk=second.pk).update(at=second.at)
    one, two = RecordLink.objects.filter(complaint=case).order_by("seq")[2:4]
    RecordLink.objects.filter(pk=one.pk).update(seq=10_000)
    RecordLink.objects.filter(pk=two.pk).update(seq=one.seq)
    RecordLink.objects.filter(pk=one.pk).update(seq=two.seq)
    assert ("history", "chain") in problems(in_sql) or ("stage", "chain") in problems(in_sql)


@BOTH
def test_a_deleted_link_is_detected(case, in_sql):
    RecordLink.objects.filter(complaint=case, seq=3).delete()
    assert {problem for _, problem in problems(in_sql)} == {"chain", "unchained"}


@BOTH
def test_a_row_written_around_the_record_is_detected(case, in_sql, manager):
    note = Note.objects.create(complaint=case, author=manager, text="Backdated")
    # Rows newer than the chain's mark are simply not chained yet: the next run takes them.
    assert problems(in_sql) == set()
    record_chain_extend()
    RecordLink.objects.filter(kind="note", object_id=note.pk).delete()
    found = problems(in_sql)
    assert ("note", "unchained") in found


@BOTH
def test_a_forged_seal_is_detected(case, in_sql):
    complaints_anonymise([case.pk], reason="retention")
    record_chain_extend()
    assert problems(in_sql) == set()
    seal = Anonymisation.objects.get()
    # Someone edits a scrubbed row and re-hashes its link to match: the signed digest differs.
    note = Note.objects.filter(complaint=case).first()
    Note.objects.filter(pk=note.pk).update(text="Priya Shah lives at 1 High Street")
    new_hash = content_hashes(chain.KINDS["note"], [note.pk])[note.pk]
    RecordLink.objects.filter(kind="note", object_id=note.pk).update(current_hash=new_hash)
    assert problems(in_sql) == {("seal", "seal")}
    Anonymisation.objects.filter(pk=seal.pk).update(record=seal.record[:-2] + "xx")
    assert ("seal", "seal") in problems(in_sql)


def test_the_verify_command_reports_intact_or_the_breaks(case):
    out = StringIO()
    call_command("verify_record", stdout=out)
    assert "intact" in out.getvalue()
    Note.objects.filter(complaint=case).update(text="Rewritten")
    with pytest.raises(CommandError, match="1 break"):
        call_command("verify_record", stdout=out)
    assert case.reference in out.getvalue()
