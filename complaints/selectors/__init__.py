"""Every read that is more than a get: queues, lists and search scoped to the user, the
timeline, who to tell, and what the sweeps must act on. One module per kind of read; this
package names what callers use."""

from complaints.selectors.correspondence import (
    conversation,
    conversation_outbound,
    inbound_awaiting_staff,
    placeholder_values,
    postal_address_last,
    reply_draft,
    response_templates_active,
)
from complaints.selectors.due import (
    acknowledgments_sent_unrecorded,
    clocks_in_words,
    clocks_missed,
    clocks_to_breach,
    clocks_to_warn,
    follow_ups_to_close,
    follow_ups_to_remind,
    follow_ups_to_request,
)
from complaints.selectors.lists import (
    ACKNOWLEDGMENT_CHOICES,
    ACKNOWLEDGMENT_FILTERS,
    ESCALATION_TARGETS,
    QUEUE_CHOICES,
    ComplaintFilterSet,
    top_level_categories,
)
from complaints.selectors.operations import api_idempotency_record, job_runs_latest
from complaints.selectors.people import (
    csrs_to_notify,
    managers_to_notify,
    people_in_role,
    team_members,
)
from complaints.selectors.queues import (
    FLAGGED,
    SIGN_OFF_ORDER,
    acknowledgment_email_on_its_way,
    complaint_by_token,
    complaint_detail_queryset,
    complaints_assigned_to,
    complaints_awaiting_sign_off,
    complaints_escalated_to_team,
    complaints_escalation_queue,
    complaints_intake_queue,
    consultations_waiting_for,
    open_complaints,
    queue_first_rows,
    team_workload,
)
from complaints.selectors.regulatory import (
    regulatory_catalogue,
    regulatory_catalogue_changed,
)
from complaints.selectors.search import REFERENCE_PATTERN, complaints_search
from complaints.selectors.signals import (
    NEW_ROWS_LIMIT,
    complaints_new_for,
    signal_counts,
    signals_to_notify,
    signals_unseen,
)
from complaints.selectors.timeline import (
    complaint_timeline,
    customer_conversation,
    customer_timeline,
    message_status_text,
)

__all__ = [
    "conversation",
    "conversation_outbound",
    "inbound_awaiting_staff",
    "placeholder_values",
    "postal_address_last",
    "reply_draft",
    "response_templates_active",
    "ACKNOWLEDGMENT_CHOICES",
    "ACKNOWLEDGMENT_FILTERS",
    "NEW_ROWS_LIMIT",
    "ESCALATION_TARGETS",
    "FLAGGED",
    "QUEUE_CHOICES",
    "REFERENCE_PATTERN",
    "SIGN_OFF_ORDER",
    "ComplaintFilterSet",
    "acknowledgment_email_on_its_way",
    "acknowledgments_sent_unrecorded",
    "clocks_in_words",
    "clocks_missed",
    "clocks_to_breach",
    "api_idempotency_record",
    "clocks_to_warn",
    "complaint_by_token",
    "complaint_detail_queryset",
    "complaint_timeline",
    "regulatory_catalogue",
    "regulatory_catalogue_changed",
    "complaints_assigned_to",
    "complaints_awaiting_sign_off",
    "complaints_escalated_to_team",
    "complaints_escalation_queue",
    "complaints_intake_queue",
    "complaints_new_for",
    "complaints_search",
    "consultations_waiting_for",
    "csrs_to_notify",
    "customer_conversation",
    "customer_timeline",
    "follow_ups_to_close",
    "follow_ups_to_remind",
    "follow_ups_to_request",
    "job_runs_latest",
    "managers_to_notify",
    "message_status_text",
    "open_complaints",
    "people_in_role",
    "queue_first_rows",
    "signal_counts",
    "signals_to_notify",
    "signals_unseen",
    "team_members",
    "team_workload",
    "top_level_categories",
]
