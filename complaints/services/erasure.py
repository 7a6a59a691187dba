"""Erasure on request: one manager records the request for a person's cases, a second manager
approves it, and the cases are anonymised as the retention job would (services/retention.py).
Refused, with the reasons, while a case is open, under a legal hold, or inside the minimum a
retention policy keeps it for."""

from django.db import transaction
from django.utils import timezone

from accounts.roles import Capability, can
from complaints.models import ErasureRequest, ErasureStatus, Note
from complaints.selectors.retention import removal_blockers
from complaints.selectors.subject_access import subject_complaints
from complaints.services.retention import complaints_anonymise
from complaints.workflow import Refused


def _require_manager(actor):
    if not can(actor, Capability.PROTECT_PERSONAL_DATA):
        raise Refused("Only a manager may do that.")


def _refuse_if_blocked(complaints):
    reasons = removal_blockers(complaints)
    if reasons:
        raise Refused("The data cannot be erased now: " + " ".join(reasons))


@transaction.atomic
def erasure_request(subject, complaint_ids, *, actor, reason):
    _require_manager(actor)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Record the person's request: when and how they asked.")
    complaints = list(subject_complaints(subject).filter(pk__in=complaint_ids))
    if not complaints:
        raise Refused("Choose at least one of the complaints found for this person.")
    _refuse_if_blocked(complaints)
    request = ErasureRequest.objects.create(
        subject=str(subject)[:300], reason=reason, requested_by=actor, requested_at=timezone.now()
    )
    request.complaints.set(complaints)
    Note.objects.bulk_create(
        Note(
            complaint=complaint,
            author=actor,
            text=f"Erasure requested by the customer (request {request.pk}); waiting for a "
            "second manager's approval.",
        )
        for complaint in complaints
    )
    return request


def _undecided(pk, actor):
    """The request, locked, for a second manager to decide: the two-person rule holds for a
    refusal as for an approval (the database refuses one person deciding their own)."""
    request = ErasureRequest.objects.select_for_update().get(pk=pk)
    if request.status != ErasureStatus.REQUESTED:
        raise Refused(f"Erasure request {request.pk} was already decided.")
    if request.requested_by_id == actor.pk:
        raise Refused("A second manager must decide an erasure: not the one who requested it.")
    return request


@transaction.atomic
def erasure_approve(request, *, actor, note=""):
    """The second manager's approval: the cases are anonymised now."""
    _require_manager(actor)
    request = _undecided(request.pk, actor)
    complaints = list(request.complaints.all())
    _refuse_if_blocked(complaints)
    erased = complaints_anonymise(
        [c.pk for c in complaints],
        reason=f"erasure on request {request.pk}",
        erasure=request,
        actor=actor,
    )
    request.status = ErasureStatus.DONE
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return erased


@transaction.atomic
def erasure_refuse(request, *, actor, note):
    _require_manager(actor)
    note = (note or "").strip()
    if not note:
        raise Refused("Say why the erasure is refused; the person is told.")
    request = _undecided(request.pk, actor)
    request.status = ErasureStatus.REFUSED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    Note.objects.bulk_create(
        Note(complaint=c, author=actor, text=f"Erasure request {request.pk} refused: {note}")
        for c in request.complaints.all()
    )
    return request
