"""Reads for correspondence: the response templates on offer, a reply's first draft, the
conversation with the customer, and the emails waiting for staff with the complaints they may
belong to."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Case, Q, Value, When
from django.utils import timezone, translation

from complaints import mime
from complaints.languages import day_date
from complaints.links import without_customer_links
from complaints.models import (
    ClockRole,
    Complaint,
    InboundMessage,
    InboundStatus,
    MessageChannel,
    ResolutionStatus,
    ResponseTemplate,
)
from complaints.permissions import visible_complaints
from complaints.placeholders import fill
from complaints.responses import ResponseType
from complaints.selectors.timeline import message_status_text
from complaints.workflow import OPEN_STAGE_VALUES

AWAITING_SHOWN = 100


def response_templates_active(language=None, *, response_type=ResponseType.REPLY, profile=None):
    """The templates of `response_type` (any, when None) for `profile` (those for every
    profile too; any, when None), those written in `language` (the customer's) first, then
    the rest, each by name."""
    templates = ResponseTemplate.objects.filter(active=True)
    if response_type is not None:
        templates = templates.filter(response_type=response_type)
    if profile is not None:
        templates = templates.filter(Q(profile=None) | Q(profile=profile))
    if language is None:
        return templates
    return templates.order_by(
        Case(When(language=language, then=Value(0)), default=Value(1)), "name"
    )


def _resolution_text(complaint):
    resolutions = [
        r
        for r in complaint.resolutions.all()
        if r.status not in (ResolutionStatus.WITHDRAWN, ResolutionStatus.APPROVAL_REFUSED)
    ]
    return resolutions[-1].description if resolutions else ""


def _final_response_due(complaint):
    """The day the running final-response clock falls due; the target date without one."""
    due_at = (
        complaint.clocks.filter(stopped_at__isnull=True, definition__role=ClockRole.FINAL_RESPONSE)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return timezone.localdate(due_at) if due_at else complaint.resolution_target_date


def placeholder_values(complaint, writer):
    """The values, dates written in the active language (the template's)."""
    return {
        "customer_name": complaint.customer_name,
        "reference": complaint.reference,
        "date_of_complaint": day_date(complaint.date_of_complaint),
        "received_date": day_date(complaint.received_at),
        "resolution_target_date": day_date(complaint.resolution_target_date),
        "final_response_date": day_date(_final_response_due(complaint)),
        "resolution": _resolution_text(complaint),
        "staff_name": writer.get_full_name() or writer.get_username(),
        "team_name": settings.COMPLAINTS_TEAM_NAME,
    }


def reply_draft(complaint, template, writer):
    """A template filled in for this complaint: (subject, text), for the writer to edit."""
    with translation.override(template.language):
        values = placeholder_values(complaint, writer)
    return fill(template.subject, values), fill(template.body, values)


def postal_address_last(complaint):
    """Where the complaint's latest letter went: the next letter's first draft."""
    return (
        complaint.messages.filter(channel=MessageChannel.LETTER)
        .order_by("-created_at", "-id")
        .values_list("postal_address", flat=True)
        .first()
        or ""
    )


@dataclass
class ConversationMessage:
    """One message between us and the customer, whichever way it went, as staff may read it:
    HTML sanitised, the customer's own link left out of ours."""

    id: int
    direction: str  # "outbound" (ours) or "inbound" (theirs)
    channel: str
    at: datetime
    subject: str
    body_text: str
    body_html: str
    sender: str
    recipient: str
    status: str
    status_text: str
    sent_by: object = None
    posted_by: object = None
    document_id: int | None = None
    # Ours, written by staff: which response it is, and the template version it came from.
    response_type: str = ""
    template_version_id: int | None = None


def conversation(complaint):
    """Every message to and from the customer on `complaint`, oldest first: our emails and
    letters, and the emails that came in."""
    ours = complaint.messages.filter(to_customer=True).select_related("sent_by", "posted_by")
    entries = [conversation_outbound(message) for message in ours] + [
        _conversation_inbound(message) for message in complaint.inbound_messages.all()
    ]
    return sorted(entries, key=lambda entry: (entry.at, entry.direction, entry.id))


def conversation_outbound(message):
    return ConversationMessage(
        id=message.pk,
        direction="outbound",
        channel=message.channel,
        at=message.sent_at or message.created_at,
        subject=message.subject,
        body_text=without_customer_links(message.body_text),
        body_html="",
        sender=settings.DEFAULT_FROM_EMAIL,
        recipient=message.recipient or message.postal_address,
        status=message.status,
        status_text=message_status_text(message),
        sent_by=message.sent_by,
        posted_by=message.posted_by,
        document_id=message.letter_id,
        response_type=message.response_type,
        template_version_id=message.template_version_id,
    )


def _conversation_inbound(message):
    return ConversationMessage(
        id=message.pk,
        direction="inbound",
        channel=MessageChannel.EMAIL,
        at=message.received_at,
        subject=message.subject,
        body_text=message.body_text,
        body_html=mime.safe_html(message.body_html) if message.body_html else "",
        sender=message.sender,
        recipient="",
        status=message.status,
        status_text=message.get_status_display(),
    )


def inbound_awaiting_staff(user):
    """Emails that matched no complaint, oldest first, each with the open complaints it may
    belong to (its sender's, and any it names) that this user may see."""
    messages = list(
        InboundMessage.objects.filter(status=InboundStatus.AWAITING_STAFF).defer("body_html")[
            :AWAITING_SHOWN
        ]
    )
    senders = {m.sender for m in messages if m.sender}
    named = {ref.upper() for m in messages for ref in mime.REFERENCE.findall(m.subject)}
    # iexact, one per sender, so each is read through the index on UPPER(customer_email).
    from_senders = Q(pk__in=[])
    for sender in senders:
        from_senders |= Q(customer_email__iexact=sender)
    candidates = visible_complaints(
        user,
        Complaint.objects.filter(from_senders, stage__in=OPEN_STAGE_VALUES)
        | Complaint.objects.filter(reference__in=named),
    ).only("pk", "reference", "customer_name", "customer_email", "stage")
    by_sender, by_reference = {}, {}
    for complaint in candidates:
        by_sender.setdefault(complaint.customer_email.lower(), []).append(complaint)
        by_reference[complaint.reference] = complaint
    for message in messages:
        suggested = [
            by_reference[ref.upper()]
            for ref in mime.REFERENCE.findall(message.subject)
            if ref.upper() in by_reference
        ] + by_sender.get(message.sender, [])
        message.suggestions = list(dict.fromkeys(suggested))
    return messages
