"""The complaint's timeline: what changed, by whom, in names people read, in bounded queries."""

import pytest

from complaints import selectors, services
from complaints.clocks import sweeps
from complaints.models import MessageKind, OutboundMessage
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
    assert (assigned.title, assigned.changes) == (f"Assigned to {csr}", ())
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
    services.complaint_update(complaint, actor=csr, changes={"complexity": "complex"})

    shown = {label for entry in field_entries(complaint) for label, _, _ in entry.changes}
    assert shown == {"complexity"}


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
    # One of them the case's clocks, which the page lists above the record.
    with django_assert_max_num_queries(13):
        loaded = queryset.get(pk=complaint.pk)
        entries = selectors.complaint_timeline(loaded)
    assert len([e for e in entries if e.kind == "fields"]) == 15
    assert len([e for e in entries if e.kind == "note"]) == 15


def entries_of(complaint):
    return selectors.complaint_timeline(selectors.complaint_detail_queryset().get(pk=complaint.pk))


def test_an_acknowledgment_by_phone_is_one_entry_that_says_how(csr):
    complaint = factories.complaint(csr, customer_email="", customer_phone="020 7946 0018")
    services.complaint_acknowledge(complaint, actor=csr, method="phone")

    about_it = [e for e in entries_of(complaint) if "cknowledg" in e.title + e.body]
    assert [(e.title, e.body) for e in about_it] == [("Acknowledged by phone call", "")]


def test_an_acknowledgment_email_delivered_is_one_entry_with_the_email_to_open(csr):
    complaint = factories.complaint(csr)
    message = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    services.message_deliver(message.pk)

    entries = entries_of(complaint)
    (acknowledged,) = [e for e in entries if "cknowledg" in e.title]
    assert acknowledged.title == "Acknowledged by email"
    assert acknowledged.message_id == message.pk
    assert acknowledged.body == f"“{message.subject}”, sent to {message.recipient}."
    assert [e for e in entries if e.kind == "message"] == []


def test_system_fields_read_as_sentences_not_as_field_diffs(csr, manager):
    complaint = factories.complaint(csr, hours_ago=25)
    services.complaint_escalate(complaint, actor=csr, level="team", reason="Needs the records.")
    sweeps.enforce_acknowledgment_deadline()
    services.complaint_update(complaint, actor=manager, changes={"complexity": "complex"})

    entries = [e for e in entries_of(complaint) if e.kind == "fields"]
    escalated, breached, edited = entries
    assert (escalated.title, escalated.body, escalated.changes) == (
        "Escalated to resolution team",
        "Needs the records.",
        (),
    )
    assert (breached.title, breached.actor, breached.changes) == (
        "Acknowledgment deadline missed: escalated to managers",
        "System",
        (),
    )
    complaint.refresh_from_db()
    target = complaint.resolution_target_date
    assert edited.changes == (("complexity", "Standard", "Complex"),)
    assert edited.body == f"The resolution target is now {target.day} {target:%b %Y}."


@pytest.mark.parametrize(
    ("status", "attempts", "error", "text"),
    [
        ("sent", 1, "", "Sent to a@example.com."),
        ("pending", 0, "", "Not sent yet to a@example.com."),
        ("pending", 2, "timeout", "Not sent yet to a@example.com: 2 attempts failed (timeout)."),
        ("cancelled", 0, "", "Not sent to a@example.com: no longer needed."),
        ("cancelled", 1, "", "Not sent to a@example.com: no longer needed; 1 attempt failed."),
    ],
)
def test_an_email_says_where_it_is_in_a_sentence(status, attempts, error, text):
    message = OutboundMessage(
        recipient="a@example.com", status=status, attempts=attempts, last_error=error
    )
    assert selectors.message_status_text(message) == text


def test_an_event_that_moves_the_stage_is_one_entry_that_says_where_it_moved(
    csr, resolver, manager
):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager
    )

    entries = entries_of(complaint)
    titles = [(e.title, e.moved_to) for e in entries if e.kind in ("resolution", "stage")]
    assert ("Resolution proposed: Apology or explanation", "Resolved") in titles
    assert ("Resolution implemented", "Follow-up") in titles
    assert not [t for t, _ in titles if t.startswith(("Resolved", "Follow-up"))]
    # The record's copy of the proposal is not a second entry.
    assert not [e for e in entries if e.title == "Resolution proposed" and e.kind == "fields"]
    # A move with no event of its own keeps its entry.
    assert ("Investigating (from Acknowledged)", "") in titles
