"""A queue's or list's rows as plain text, computed once per page."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from complaints.clocks import countdown
from complaints.models import EscalationLevel, FlagKind
from complaints.workflow import Stage

# What a row of a queue or list shows; loading whole complaints (their texts, two dozen dates)
# for fifty rows costs more than rendering them.
ROW_FIELDS = (
    "reference",
    "customer_name",
    "channel",
    "stage",
    "sub_status",
    "next_deadline_at",
    "response_due_role",
    "final_response_sent_at",
    "acknowledgment_breached_at",
    "resolution_overdue_at",
    "escalation_level",
    "escalation_reason",
    "vulnerable",
    "hardship",
    "assignee_id",
    "category__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


# A number no real path holds, reversed once per page and replaced per row: reversing a URL
# costs tens of microseconds, twice a row.
PK_MARKER = 987654321


def _url_maker(name, *rest):
    pattern = reverse(name, args=[PK_MARKER, *rest]).replace(str(PK_MARKER), "{}", 1)
    return pattern.format


@dataclass(frozen=True, slots=True)
class Row:
    """What a queue or list row shows, as plain text: the table renders fifty of these per
    page, and each lookup through a model in the template costs more than computing it here."""

    pk: int
    reference: str
    url: str
    take_url: str
    assign_url: str
    due_text: str
    overdue: bool
    deadline: str
    deadline_what: str
    stage: str
    sub_status: str
    # Something on the case is new for the person looking (complaints/services/signals.py).
    new: bool
    customer: str
    category: str
    channel: str
    assignee: str
    assignee_id: int | None
    awaiting_approval: bool
    acknowledgment_missed: bool
    target_missed: bool
    escalation_reason: str | None
    escalated_to: str
    # The case's flags as their tags ("vulnerable", "hardship").
    flags: tuple[str, ...]
    # The clocks it has missed and still owes (the escalation queue names them).
    missed_clocks: str = ""


ESCALATED_TO = {EscalationLevel.TEAM: "to team", EscalationLevel.MANAGER: "to managers"}


def rows_of(complaints, now, new=frozenset(), missed=None):
    detail_url, take_url = _url_maker("complaints:detail"), _url_maker("complaints:action", "take")
    assign_url = _url_maker("complaints:action", "assign")
    rows = []
    for complaint in complaints:
        stage_label = complaint.stage_label
        received = complaint.stage == Stage.RECEIVED
        what = "acknowledgment" if received else complaint.response_due_label.lower()
        if complaint.next_deadline_at is None:
            # No clock runs (a proposal made, a final response sent, a closed case): nothing
            # is due from us.
            due_text, overdue, deadline = "—", False, ""
            if complaint.final_response_sent_at and complaint.is_open:
                sent_on = timezone.localtime(complaint.final_response_sent_at)
                due_text = f"final response sent {sent_on:%-d %b}"
        else:
            text, overdue = countdown(complaint.next_deadline_at, now)
            due_text = f"{what} {text}"
            deadline = timezone.localtime(complaint.next_deadline_at).isoformat()
        rows.append(
            Row(
                pk=complaint.pk,
                reference=complaint.reference,
                url=detail_url(complaint.pk),
                take_url=take_url(complaint.pk),
                assign_url=assign_url(complaint.pk),
                due_text=due_text,
                overdue=overdue,
                deadline=deadline,
                deadline_what=what,
                stage=stage_label,
                sub_status=complaint.sub_status_label,
                new=complaint.pk in new,
                customer=complaint.customer_name,
                category=complaint.category.name,
                channel=complaint.get_channel_display(),
                assignee=str(complaint.assignee) if complaint.assignee_id else "—",
                assignee_id=complaint.assignee_id,
                awaiting_approval=getattr(complaint, "awaiting_approval", False),
                acknowledgment_missed=bool(complaint.acknowledgment_breached_at) and received,
                target_missed=bool(complaint.resolution_overdue_at),
                # A closed case keeps its escalation on record, not as a live tag.
                escalation_reason=(
                    complaint.escalation_reason
                    if complaint.escalation_level and complaint.is_open
                    else None
                ),
                escalated_to=ESCALATED_TO.get(complaint.escalation_level, ""),
                flags=tuple(kind for kind in FlagKind.values if getattr(complaint, kind)),
                missed_clocks=", ".join((missed or {}).get(complaint.pk, ())),
            )
        )
    return rows
