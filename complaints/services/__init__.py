"""Every write of case data, from the web, the API, the customer's link, the jobs and the
import alike. Each function locks what it changes, checks the rules, changes it and records
what happened (a StageChange, a history row, the messages it causes) in one transaction.

One module per part of the case's life; this package names what callers use.
"""

from complaints.services.attachments import (
    attachment_add,
    attachment_path,
    customer_information_add,
)
from complaints.services.clocks import clock_pause, clock_resume, complaint_profile_change
from complaints.services.deadlines import (
    clocks_breach,
    clocks_warn,
)
from complaints.services.escalation import complaint_assign, complaint_escalate
from complaints.services.exits import (
    complaint_merge,
    complaint_merge_check,
    complaint_not_a_complaint,
    complaint_withdraw,
    merge_contents,
)
from complaints.services.flags import flag_clear, flag_set
from complaints.services.follow_up import (
    feedback_record,
    follow_up_close,
    follow_ups_request,
    review_sign_off,
)
from complaints.services.inbound import (
    inbound_attach,
    inbound_dismiss,
    inbound_receive,
    inbound_receive_from_link,
    mailboxes_poll,
)
from complaints.services.intake import (
    AlreadySubmitted,
    acknowledgment_email_send,
    api_idempotency_record,
    complaint_create,
    complaint_create_once,
    references_reserve,
)
from complaints.services.messages import message_deliver, outbox_relay
from complaints.services.outcomes import complaint_outcome_record
from complaints.services.records import (
    EditConflict,
    complaint_update,
    complaint_version,
    consultation_answer,
    consultation_request,
    note_add,
)
from complaints.services.replies import letter_mark_posted, reply_send
from complaints.services.resolution import (
    approval_required,
    resolution_decide_approval,
    resolution_implement,
    resolution_propose,
    resolution_record_customer_response,
)
from complaints.services.responses import (
    response_enclosure_upload,
    response_template_approve,
    response_template_save,
)
from complaints.services.signals import (
    signal_raise,
    signals_notify,
    signals_seen,
)
from complaints.services.stages import (
    LIVE_RESOLUTION,
    case_facts,
    complaint_acknowledge,
    complaint_transition,
)

__all__ = [
    "complaint_outcome_record",
    "complaint_profile_change",
    "LIVE_RESOLUTION",
    "EditConflict",
    "acknowledgment_email_send",
    "clock_pause",
    "clock_resume",
    "clocks_breach",
    "clocks_warn",
    "AlreadySubmitted",
    "api_idempotency_record",
    "approval_required",
    "attachment_add",
    "attachment_path",
    "case_facts",
    "complaint_acknowledge",
    "complaint_assign",
    "complaint_create",
    "complaint_escalate",
    "complaint_merge",
    "complaint_merge_check",
    "complaint_not_a_complaint",
    "complaint_transition",
    "complaint_create_once",
    "complaint_update",
    "complaint_withdraw",
    "complaint_version",
    "consultation_answer",
    "consultation_request",
    "customer_information_add",
    "feedback_record",
    "flag_clear",
    "flag_set",
    "follow_up_close",
    "follow_ups_request",
    "merge_contents",
    "letter_mark_posted",
    "inbound_attach",
    "inbound_dismiss",
    "inbound_receive",
    "inbound_receive_from_link",
    "mailboxes_poll",
    "message_deliver",
    "note_add",
    "outbox_relay",
    "references_reserve",
    "reply_send",
    "response_enclosure_upload",
    "response_template_approve",
    "response_template_save",
    "resolution_decide_approval",
    "resolution_implement",
    "resolution_propose",
    "resolution_record_customer_response",
    "review_sign_off",
    "signal_raise",
    "signals_notify",
    "signals_seen",
]
