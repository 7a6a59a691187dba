"""Assignment and escalation: one rule for who holds a case and who must look at it, used by
people (one complaint) and by the clock sweeps (a batch at once)."""

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from accounts.roles import Capability, can
from complaints.models import Complaint, EscalationLevel, SignalKind
from complaints.permissions import Action, require
from complaints.services.common import attribute, locked
from complaints.services.signals import signal_raise, signals_follow_holder
from complaints.workflow import Refused

ESCALATION_FIELDS = ("escalation_level", "escalation_reason", "escalated_at", "escalated_by")


def _escalation(level, reason, at, actor):
    """What an escalation records: to whom, why, when and by whom (None: the system)."""
    values = (level, reason, at, actor)
    return dict(zip(ESCALATION_FIELDS, values, strict=True))


@transaction.atomic
def complaint_assign(complaint, *, actor, assignee):
    complaint = locked(complaint)
    action = Action.TAKE if assignee == actor else Action.ASSIGN
    require(actor, complaint, action)
    if assignee is not None and not can(assignee, Capability.LOG_COMPLAINT):
        raise Refused(f"{assignee} is not in the complaints team and cannot be assigned.")
    if complaint.assignee_id == (assignee.pk if assignee else None):
        raise Refused(f"This complaint is already assigned to {assignee or 'nobody'}.")
    previous_assignee_id = complaint.assignee_id
    complaint.assignee = assignee
    attribute(complaint, actor, "Assigned")
    complaint.save(update_fields=["assignee", "updated_at"])
    signals_follow_holder(complaint, previous_assignee_id=previous_assignee_id)
    if assignee is not None:
        signal_raise(complaint, SignalKind.ASSIGNED, for_user=assignee, actor=actor)
    return complaint


@transaction.atomic
def complaint_escalate(complaint, *, actor, level, reason, at=None):
    complaint = locked(complaint)
    if actor is not None:
        require(actor, complaint, Action.ESCALATE)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the complaint is escalated.")
    if level not in (EscalationLevel.TEAM, EscalationLevel.MANAGER):
        raise Refused("Escalate to the resolution team or to the managers.")
    if not complaint.is_open:
        raise Refused("A closed complaint cannot be escalated.")
    if complaint.escalation_level == level:
        to_whom = complaint.get_escalation_level_display().lower()
        raise Refused(f"This complaint is already escalated to {to_whom}.")
    for field, value in _escalation(level, reason, at or timezone.now(), actor).items():
        setattr(complaint, field, value)
    attribute(complaint, actor, "Escalated")
    complaint.save(update_fields=[*ESCALATION_FIELDS, "updated_at"])
    signal_raise(complaint, SignalKind.ESCALATED, actor=actor)
    return complaint


def escalated_to_managers(*, reason, at):
    """The set-based form of complaint_escalate, for the clock sweeps: the values of an UPDATE
    of a batch (the sweep marks and escalates in one statement, so each row is rewritten once).

    Same rule as the single form: an escalation records to whom, why, when and by whom (the
    system, here). Where the single form refuses a complaint already with the managers, the
    batch leaves it as it is: who escalated it, why and when stay on record.
    """
    already = Q(escalation_level=EscalationLevel.MANAGER)

    def unless_already(field, value):
        return Case(
            When(already, then=F(field)),
            default=Value(value),
            output_field=Complaint._meta.get_field(field),
        )

    recorded = _escalation(EscalationLevel.MANAGER, reason, at, actor=None)
    return {
        field: Value(value) if field == "escalation_level" else unless_already(field, value)
        for field, value in recorded.items()
    }
