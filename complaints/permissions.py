"""Who may see and act on which complaint: role plus assignment, in one place.

`visible_complaints` (a queryset) and `can_see` (one object) state the same rule twice, once
for SQL and once for Python; tests/complaints/test_permissions.py holds them to each other.
"""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.roles import Capability, can, capabilities
from complaints.models import (
    Attachment,
    Complaint,
    Consultation,
    EscalationLevel,
    InboundMessage,
    OutboundMessage,
)
from complaints.workflow import EXIT_STAGES, OPEN_STAGE_VALUES, Refused, Stage


def visible_complaints(user, queryset=None):
    queryset = Complaint.objects.all() if queryset is None else queryset
    caps = capabilities(user)
    if Capability.SEE_ALL_COMPLAINTS in caps:
        return queryset
    rule = Q(pk__in=[])
    if Capability.WORK_INTAKE_QUEUE in caps:
        # The intake queue is open work; a closed case nobody owns is not the CSRs' to read.
        rule |= (
            Q(assignee__isnull=True, stage__in=OPEN_STAGE_VALUES)
            | Q(assignee=user)
            | Q(logged_by=user)
        )
    if Capability.WORK_ESCALATED_TO_TEAM in caps:
        rule |= Q(escalation_level=EscalationLevel.TEAM) | Q(assignee=user)
    return queryset.filter(rule)


def can_see(user, complaint):
    caps = capabilities(user)
    if Capability.SEE_ALL_COMPLAINTS in caps:
        return True
    mine = complaint.assignee_id == user.pk
    if Capability.WORK_INTAKE_QUEUE in caps and (
        (complaint.assignee_id is None and complaint.is_open)
        or mine
        or complaint.logged_by_id == user.pk
    ):
        return True
    return Capability.WORK_ESCALATED_TO_TEAM in caps and (
        complaint.escalation_level == EscalationLevel.TEAM or mine
    )


def complaint_for(user, pk, queryset=None):
    """The complaint if this user may see it; otherwise 404, never a hint that it exists."""
    try:
        return visible_complaints(user, queryset).get(pk=pk)
    except (Complaint.DoesNotExist, ValueError, TypeError):
        raise Http404("No such complaint") from None


class Action:
    TAKE = "take"
    ASSIGN = "assign"
    ESCALATE = "escalate"
    ACKNOWLEDGE = "acknowledge"
    TRANSITION = "transition"
    # Withdrawn, merged as a duplicate, not a complaint: on the case that leaves.
    EXIT = "exit"
    EDIT = "edit"
    NOTE = "note"
    ATTACH = "attach"
    CONSULT = "consult"
    ANSWER_CONSULTATION = "answer_consultation"
    PROPOSE_RESOLUTION = "propose_resolution"
    APPROVE_RESOLUTION = "approve_resolution"
    RECORD_CUSTOMER_RESPONSE = "record_customer_response"
    IMPLEMENT_RESOLUTION = "implement_resolution"
    RECORD_FEEDBACK = "record_feedback"
    REVIEW = "review"
    # Vulnerable customer and hardship flags, set and cleared.
    FLAG = "flag"
    # Pause or resume a clock, or put the case under another regulatory profile.
    MANAGE_CLOCKS = "manage_clocks"


MANAGER_ONLY = {
    Action.APPROVE_RESOLUTION: Capability.APPROVE_RESOLUTION,
    Action.REVIEW: Capability.REVIEW_CASE,
    Action.MANAGE_CLOCKS: Capability.REVIEW_CASE,
}


# Once documented, the case waits only for the manager's review; once reviewed it is
# closed and its record can only grow by notes, as does an exited case's.
ALLOWED_BY_STAGE = {
    Stage.DOCUMENTED: {"note", "review", "edit", "transition", "flag"},
    Stage.REVIEWED: {"note"},
    **dict.fromkeys(EXIT_STAGES, {"note"}),
}


def can_act(user, complaint, action):
    if not can(user, Capability.LOG_COMPLAINT) or not can_see(user, complaint):
        return False
    if complaint.stage in ALLOWED_BY_STAGE and action not in ALLOWED_BY_STAGE[complaint.stage]:
        return False
    if action == Action.TAKE and complaint.assignee_id == user.pk:
        return False
    if can(user, Capability.SEE_ALL_COMPLAINTS):
        return True
    if action in MANAGER_ONLY:
        return can(user, MANAGER_ONLY[action])
    if action == Action.CONSULT:
        return can(user, Capability.CONSULT)
    if action == Action.ASSIGN:
        # Outside managers, only the unassigned intake queue is handed around.
        return complaint.assignee_id is None and can(user, Capability.WORK_INTAKE_QUEUE)
    if action == Action.TAKE:
        return complaint.assignee_id != user.pk and (
            complaint.assignee_id is None
            or complaint.escalation_level == EscalationLevel.TEAM
            and can(user, Capability.WORK_ESCALATED_TO_TEAM)
        )
    if action == Action.PROPOSE_RESOLUTION and complaint.is_escalated:
        # Escalated cases are resolved by those they were escalated to.
        return can(user, Capability.WORK_ESCALATED_TO_TEAM)
    return True


def require(user, complaint, action):
    if not can_act(user, complaint, action):
        raise Refused("You are not allowed to do that on this complaint.")


def consultation_for(user, pk):
    """The consultation, or 404. A consultee may answer a question about a complaint they
    cannot otherwise see."""
    consultation = get_object_or_404(Consultation.objects.select_related("complaint"), pk=pk)
    if consultation.consultee_id != user.pk:
        complaint_for(user, consultation.complaint_id)
    return consultation


def attachment_for(user, pk):
    """The attachment, or the same 404 as a missing one: never a hint whether it exists."""
    attachment = get_object_or_404(Attachment.objects.select_related("complaint"), pk=pk)
    complaint_for(user, attachment.complaint_id)
    return attachment


def message_for(user, pk):
    """An email about a complaint this user may see, or the same 404 as a missing one. Staff
    emails about no complaint (digests, reports) are their recipients' alone."""
    message = get_object_or_404(
        OutboundMessage.objects.select_related("complaint"), pk=pk, complaint__isnull=False
    )
    complaint_for(user, message.complaint_id)
    return message


def can_sort_inbound(user):
    """Emails that matched no complaint are open work, like the intake queue."""
    return can(user, Capability.WORK_INTAKE_QUEUE) or can(user, Capability.SEE_ALL_COMPLAINTS)


def inbound_message_for(user, pk):
    """An email we received, or 404: on a complaint, for those who may see the complaint;
    matched to none, for those who sort such emails."""
    message = get_object_or_404(InboundMessage, pk=pk)
    if message.complaint_id:
        complaint_for(user, message.complaint_id)
    elif not can_sort_inbound(user):
        raise Http404("No such email")
    return message
