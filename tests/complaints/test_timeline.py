"""The complaint's timeline: what changed, by whom, in names people read, in bounded queries."""

import pytest

from complaints import selectors, services
from tests import factories

pytestmark = pytest.mark.django_db


def field_entries(complaint):
    return [e for e in selectors.complaint_timeline(complaint) if e.kind == "fields"]


def test_an_edit_shows_each_changed_field_with_names_not_ids(csr, manager):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.complaint_update(
        complaint,
        actor=manager,
        changes={
            "category": factories.category("Service failure"),
            "root_cause": factories.root_cause("Staff error"),
            "description": "Charged twice, refunded once.",
        },
    )

    assigned, edited = field_entries(complaint)
    assert assigned.changes == (("assignee", "—", str(csr)),)
    assert assigned.actor == str(csr)
    assert edited.actor == str(manager)
    assert set(edited.changes) == {
        ("category", "Billing error", "Service failure"),
        ("root cause", "—", "Staff error"),
        (
            "description of complaint",
            "I was charged twice for one purchase.",
            "Charged twice, refunded once.",
        ),
    }


def test_bookkeeping_fields_never_show(csr):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)

    (entry,) = field_entries(complaint)
    shown = {label for label, _, _ in entry.changes}
    assert not shown & {"updated at", "created at", "stage", "next deadline at"}


def test_the_timeline_costs_the_same_queries_however_long_the_history(
    csr, manager, django_assert_max_num_queries
):
    complaint = factories.complaint(csr)
    for number in range(15):
        services.complaint_update(
            complaint, actor=manager, changes={"description": f"Version {number}"}
        )
        services.note_add(complaint, actor=csr, text=f"Note {number}")

    queryset = selectors.complaint_detail_queryset()
    with django_assert_max_num_queries(12):
        loaded = queryset.get(pk=complaint.pk)
        entries = selectors.complaint_timeline(loaded)
    assert len([e for e in entries if e.kind == "fields"]) == 15
    assert len([e for e in entries if e.kind == "note"]) == 15
