"""Case data. Every write goes through complaints/services/; these classes hold the shape
and the invariants the database can enforce on its own. One module per part; migrations and
callers name them from here (complaints.models.new_customer_token and the like)."""

from complaints.models.case import (
    MONEY_RESOLUTION_TYPES,
    Attachment,
    Consultation,
    Feedback,
    Note,
    Resolution,
    ResolutionStatus,
    ResolutionType,
    Review,
    attachment_storage_name,
)
from complaints.models.complaint import (
    LONG_TEXT,
    SHORT_TEXT,
    AcknowledgmentMethod,
    Channel,
    Complaint,
    Complexity,
    EscalationLevel,
    ReferenceCounter,
    StageChange,
    new_customer_token,
    next_deadline,
    phone_digits,
)
from complaints.models.correspondence import (
    InboundMessage,
    InboundStatus,
    MailboxState,
    MatchedBy,
    ResponseTemplate,
)
from complaints.models.lists import Category, Holiday, ManagedList, Product, RootCause
from complaints.models.messages import MessageKind, MessageStatus, OutboundMessage
from complaints.models.operations import ApiIdempotencyKey, JobRun

__all__ = [
    "LONG_TEXT",
    "MONEY_RESOLUTION_TYPES",
    "SHORT_TEXT",
    "AcknowledgmentMethod",
    "ApiIdempotencyKey",
    "Attachment",
    "Category",
    "Channel",
    "Complaint",
    "Complexity",
    "Consultation",
    "EscalationLevel",
    "Feedback",
    "Holiday",
    "InboundMessage",
    "InboundStatus",
    "JobRun",
    "MailboxState",
    "ManagedList",
    "MatchedBy",
    "MessageKind",
    "MessageStatus",
    "Note",
    "OutboundMessage",
    "Product",
    "ReferenceCounter",
    "Resolution",
    "ResolutionStatus",
    "ResolutionType",
    "ResponseTemplate",
    "Review",
    "RootCause",
    "StageChange",
    "attachment_storage_name",
    "new_customer_token",
    "next_deadline",
    "phone_digits",
]
