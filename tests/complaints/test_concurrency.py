"""Two people acting on the same thing at the same moment, on real PostgreSQL connections.

Each thread has its own database connection (Django gives every thread one), so the row
locks in complaints/services/ are what keeps the record consistent.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Resolution, ResolutionStatus, StageChange
from complaints.workflow import Refused, Stage
from tests import factories, threads

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls):
    """Start every call at the same instant; one ("ok", result) or ("refused", message) per
    call, in the order given. Any other exception fails the test."""

    def outcome(call):
        try:
            return ("ok", call())
        except Refused as refusal:
            return ("refused", refusal.message)

    return threads.run_together(*(lambda call=call: outcome(call) for call in calls))


def acknowledged_complaint(csr):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.complaint_acknowledge(complaint, actor=csr, method="phone")
    complaint.refresh_from_db()
    return complaint


def test_two_people_moving_the_same_complaint_at_once_one_wins_the_other_is_told(csr, manager):
    complaint = acknowledged_complaint(csr)
    # Both loaded the page while the complaint was acknowledged.
    mine = Complaint.objects.get(pk=complaint.pk)
    theirs = Complaint.objects.get(pk=complaint.pk)

    outcomes = run_together(
        lambda: services.complaint_transition(
            mine, "investigating", actor=csr, expected_stage="acknowledged"
        ),
        lambda: services.complaint_transition(
            theirs, "investigating", actor=manager, expected_stage="acknowledged"
        ),
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    winner = csr if outcomes[0][0] == "ok" else manager
    [refusal] = [value for kind, value in outcomes if kind == "refused"]
    assert refusal == (
        f"This complaint was moved to Investigating by {winner} while you were looking at it. "
        "Nothing was changed; the page now shows its current state."
    )
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING
    moves = StageChange.objects.filter(
        complaint=complaint, from_stage="acknowledged", to_stage="investigating"
    )
    assert moves.count() == 1
    assert moves.get().actor == winner
    assert complaint.history.filter(stage="investigating").count() == 1


def test_two_people_proposing_resolutions_at_once_make_one_resolution(csr, manager):
    complaint = acknowledged_complaint(csr)
    services.complaint_transition(complaint, "investigating", actor=csr)
    services.note_add(complaint, actor=csr, text="Looked at the statement.")
    mine = Complaint.objects.get(pk=complaint.pk)
    theirs = Complaint.objects.get(pk=complaint.pk)

    outcomes = run_together(
        lambda: services.resolution_propose(
            mine, actor=csr, type="apology", description="We are sorry; we have fixed it."
        ),
        lambda: services.resolution_propose(
            theirs,
            actor=manager,
            type="refund",
            amount=Decimal("20.00"),
            description="We refund the extra charge.",
        ),
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    [refusal] = [value for kind, value in outcomes if kind == "refused"]
    assert refusal == (
        "A resolution is proposed at the end of the investigation; this complaint is Resolved."
    )
    [winner] = [value for kind, value in outcomes if kind == "ok"]
    resolution = Resolution.objects.get(complaint=complaint)
    assert resolution.pk == winner.pk
    assert resolution.status == ResolutionStatus.PROPOSED
    complaint.refresh_from_db()
    assert complaint.stage == Stage.RESOLVED
    assert complaint.proposed_resolution == resolution.description
    assert StageChange.objects.filter(complaint=complaint, to_stage="resolved").count() == 1


def test_two_people_proposing_from_the_same_page_get_the_moved_message(csr, manager):
    complaint = acknowledged_complaint(csr)
    services.complaint_transition(complaint, "investigating", actor=csr)

    outcomes = run_together(
        *(
            (
                lambda actor=actor: services.resolution_propose(
                    Complaint.objects.get(pk=complaint.pk),
                    actor=actor,
                    type="apology",
                    description="We are sorry.",
                    expected_stage="investigating",
                )
            )
            for actor in (csr, manager)
        )
    )

    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    [refusal] = [value for kind, value in outcomes if kind == "refused"]
    assert refusal.startswith("This complaint was moved to Resolved by ")
    assert Resolution.objects.filter(complaint=complaint).count() == 1


def test_two_complaints_logged_at_once_get_distinct_consecutive_references(csr, csr2):
    year = timezone.localdate().year
    data = factories.complaint_data()  # categories made here, before the threads start

    outcomes = run_together(
        lambda: services.complaint_create(actor=csr, data=dict(data)),
        lambda: services.complaint_create(actor=csr2, data=dict(data)),
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    references = sorted(complaint.reference for _, complaint in outcomes)
    assert references == [f"CMP-{year}-000001", f"CMP-{year}-000002"]
    assert Complaint.objects.count() == 2
    assert StageChange.objects.filter(to_stage="received").count() == 2


def test_many_complaints_logged_at_once_never_share_a_reference(csr):
    year = timezone.localdate().year
    factories.complaint(csr)  # the year's counter row exists already
    data = factories.complaint_data()

    outcomes = run_together(
        *(lambda: services.complaint_create(actor=csr, data=dict(data)) for _ in range(6))
    )

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    references = sorted(complaint.reference for _, complaint in outcomes)
    assert references == [f"CMP-{year}-{n:06d}" for n in range(2, 8)]
