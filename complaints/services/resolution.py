"""Resolutions: proposal, manager approval over the threshold, the customer's answer and the
implementation."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from complaints import outbox, workflow
from complaints.models import MONEY_RESOLUTION_TYPES, Resolution, ResolutionStatus, SignalKind
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.services.common import CLOCK_SKEW, attribute, locked
from complaints.services.signals import signal_raise, signals_answered
from complaints.services.stages import (
    LIVE_RESOLUTION,
    expect_stage,
    stage_move,
    sub_status_keep,
)
from complaints.workflow import Refused, Stage


def approval_required(amount):
    return amount is not None and Decimal(amount) > settings.RESOLUTION_APPROVAL_THRESHOLD


@transaction.atomic
def resolution_propose(
    complaint,
    *,
    actor,
    type,
    description,
    amount=None,
    currency="",
    customer_action="",
    expected_stage=None,
):
    complaint = locked(complaint)
    expect_stage(complaint, expected_stage)
    require(actor, complaint, Action.PROPOSE_RESOLUTION)
    description = (description or "").strip()
    if not description:
        raise Refused("Describe the resolution in plain words for the customer.")
    if type in MONEY_RESOLUTION_TYPES and amount is None:
        raise Refused("A refund or compensation needs an amount.")
    if amount is not None and amount < 0:
        raise Refused("The amount cannot be negative.")
    if complaint.stage != Stage.INVESTIGATING:
        raise Refused(
            f"A resolution is proposed at the end of the investigation; this complaint is "
            f"{complaint.stage_label}."
        )
    needs_approval = approval_required(amount)
    resolution = Resolution.objects.create(
        complaint=complaint,
        type=type,
        amount=amount,
        currency=(currency or settings.DEFAULT_CURRENCY) if amount is not None else "",
        description=description,
        customer_action=(customer_action or "").strip(),
        status=(
            ResolutionStatus.AWAITING_APPROVAL if needs_approval else ResolutionStatus.PROPOSED
        ),
        proposed_by=actor,
        proposed_at=timezone.now(),
        approval_required=needs_approval,
    )
    complaint.proposed_resolution = description
    attribute(complaint, actor, "Resolution proposed")
    complaint.save(update_fields=["proposed_resolution", "updated_at"])
    note = f"Resolution proposed: {resolution.get_type_display()}"
    if needs_approval:
        note += f" of {resolution.currency} {amount}, awaiting manager approval"
    stage_move(complaint, Stage.RESOLVED, actor=actor, note=note)
    if needs_approval:
        signal_raise(complaint, SignalKind.APPROVAL_REQUESTED, actor=actor)
    else:
        _tell_customer_of_resolution(complaint, resolution)
    return resolution


def _tell_customer_of_resolution(complaint, resolution):
    if complaint.customer_email:
        outbox.send_after_commit(messages.queue_resolution(complaint, resolution))


def _live_resolution(complaint, *statuses):
    resolution = (
        Resolution.objects.select_for_update()
        .filter(complaint=complaint, status__in=statuses or LIVE_RESOLUTION)
        .first()
    )
    if resolution is None:
        raise Refused("There is no resolution waiting for that.")
    return resolution


@transaction.atomic
def resolution_decide_approval(complaint, *, actor, approve, note=""):
    complaint = locked(complaint)
    require(actor, complaint, Action.APPROVE_RESOLUTION)
    resolution = _live_resolution(complaint, ResolutionStatus.AWAITING_APPROVAL)
    signals_answered(complaint, SignalKind.APPROVAL_REQUESTED)
    resolution.approved_by = actor
    resolution.approval_note = (note or "").strip()
    if approve:
        resolution.status = ResolutionStatus.PROPOSED
        resolution.approved_at = timezone.now()
        resolution.save(update_fields=["status", "approved_by", "approved_at", "approval_note"])
        _tell_customer_of_resolution(complaint, resolution)
        sub_status_keep(complaint, actor=actor)
        signal_raise(
            complaint, SignalKind.APPROVAL_GIVEN, for_user=resolution.proposed_by, actor=actor
        )
        return resolution
    if not resolution.approval_note:
        raise Refused("Say why the resolution is not approved, so the team can rework it.")
    resolution.status = ResolutionStatus.APPROVAL_REFUSED
    resolution.save(update_fields=["status", "approved_by", "approval_note"])
    stage_move(
        complaint,
        Stage.INVESTIGATING,
        actor=actor,
        note=f"Resolution not approved: {resolution.approval_note}",
    )
    signal_raise(
        complaint, SignalKind.APPROVAL_REFUSED, for_user=resolution.proposed_by, actor=actor
    )
    return resolution


@transaction.atomic
def resolution_record_customer_response(complaint, *, actor, accepted, comment=""):
    """The customer's answer, through their link (actor None) or told to a CSR."""
    complaint = locked(complaint)
    if actor is not None:
        require(actor, complaint, Action.RECORD_CUSTOMER_RESPONSE)
    resolution = _live_resolution(complaint, ResolutionStatus.PROPOSED)
    resolution.customer_responded_at = timezone.now()
    resolution.customer_comment = (comment or "").strip()
    resolution.status = ResolutionStatus.ACCEPTED if accepted else ResolutionStatus.REJECTED
    resolution.save(update_fields=["status", "customer_responded_at", "customer_comment"])
    if not accepted:
        stage_move(
            complaint,
            Stage.INVESTIGATING,
            actor=actor,
            role=workflow.CUSTOMER if actor is None else None,
            reopen=True,
            note="The customer rejected the proposed resolution"
            + (f": {resolution.customer_comment}" if resolution.customer_comment else ""),
        )
    kind = SignalKind.CUSTOMER_ACCEPTED if accepted else SignalKind.CUSTOMER_DISAGREED
    signal_raise(complaint, kind, actor=actor)
    return resolution


@transaction.atomic
def resolution_implement(complaint, *, actor, notes, at=None):
    complaint = locked(complaint)
    require(actor, complaint, Action.IMPLEMENT_RESOLUTION)
    notes = (notes or "").strip()
    if not notes:
        raise Refused("Say what was done to implement the resolution.")
    at = at or timezone.now()
    if at > timezone.now() + CLOCK_SKEW:
        raise Refused("A resolution cannot be implemented in the future.")
    resolution = _live_resolution(complaint, ResolutionStatus.ACCEPTED)
    resolution.status = ResolutionStatus.IMPLEMENTED
    resolution.implemented_by = actor
    resolution.implemented_at = at
    resolution.implementation_notes = notes
    resolution.save(
        update_fields=["status", "implemented_by", "implemented_at", "implementation_notes"]
    )
    stage_move(complaint, Stage.FOLLOW_UP, actor=actor, note=f"Resolution implemented: {notes}")
    return resolution
