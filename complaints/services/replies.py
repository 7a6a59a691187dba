"""A colleague's reply to the customer, written from the complaint's page (or sent through the
API): stored once per compose form, then sent after commit as an email, or made into a PDF
letter queued for printing until someone marks it posted. A regulated response (a final
response, a holding response...) is refused while it lacks what its profile requires
(services/responses.py), and once sent it moves the clocks it meets."""

import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from complaints import letters, outbox
from complaints.models import LONG_TEXT, MessageChannel, MessageStatus, Note, OutboundMessage
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.responses import ResponseType
from complaints.services.attachments import store_attachment
from complaints.services.clocks import clocks_on_response_sent, reopened_since
from complaints.services.common import attribute, files_removed_on_failure, locked
from complaints.services.responses import (
    enclosures_attach,
    response_enclosures_check,
    template_version,
)
from complaints.workflow import Refused

# The compose form's one-time token: 32 hex digits from uuid4.
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def reply_send(
    complaint,
    *,
    actor,
    subject,
    text,
    token,
    attachments=(),
    channel=MessageChannel.EMAIL,
    postal_address="",
    response_type=ResponseType.REPLY,
    template=None,
):
    """Send `text` to the customer by email, or by post as a letter, as a `response_type`
    written from `template` (None: written from scratch). The same `token` again (a double
    click, a retry after a slow answer) returns the message the first one stored, and sends
    or prints nothing more. A response lacking what its type requires raises
    ResponseIncomplete, listing each element, and nothing is stored."""
    if not TOKEN.match(token or ""):
        raise Refused("This form has expired. Please open it again.")
    subject, text = " ".join((subject or "").split()), (text or "").strip()
    if not subject or not text:
        raise Refused("Write a subject and a message.")
    if len(text) > LONG_TEXT:
        raise Refused(f"The message is longer than {LONG_TEXT:,} characters.")
    if channel not in MessageChannel.values:
        raise Refused("Send the reply by email or by letter.")
    if response_type not in ResponseType.values:
        raise Refused("Choose the type of response from the list.")
    if channel == MessageChannel.LETTER:
        postal_address = "\n".join(letters.address_lines(postal_address))
    with files_removed_on_failure() as written, transaction.atomic():
        # The row lock makes two submissions of one form take turns: the second finds the
        # first's message by its key.
        complaint = locked(complaint)
        require(actor, complaint, Action.NOTE)
        key = f"reply:{complaint.pk}:{token}"
        existing = OutboundMessage.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        chosen = list(attachments)
        if any(attachment.complaint_id != complaint.pk for attachment in chosen):
            raise Refused("Only this complaint's documents can go with the reply.")
        if channel == MessageChannel.EMAIL and not complaint.customer_email:
            raise Refused("There is no email address for this customer: send a letter instead.")
        enclosures = response_enclosures_check(
            complaint, response_type, subject=subject, text=text, template=template
        )
        chosen += enclosures_attach(complaint, enclosures, written, actor=actor)
        response = {"response_type": response_type, "template_version": template_version(template)}
        if channel == MessageChannel.LETTER:
            return _letter(
                complaint, key, actor, subject, text, postal_address, chosen, written, response
            )
        message = messages.queue_reply(
            complaint,
            key=key,
            subject=subject,
            text=text,
            sent_by=actor,
            attachments=chosen,
            **response,
        )
        _response_sent(complaint, response_type, actor, message.created_at)
        outbox.send_after_commit(message)
        return message


def _response_sent(complaint, response_type, actor, at):
    """The clocks a response meets stop when it goes: an email when it is written (the
    outbox delivers it), a letter when someone marks it posted."""
    fields = clocks_on_response_sent(complaint, response_type, at=at)
    if fields:
        attribute(complaint, actor, f"{ResponseType(response_type).label} sent")
        complaint.save(update_fields=[*fields, "updated_at"])


def _letter(complaint, key, actor, subject, text, postal_address, enclosures, written, response):
    html = letters.letter_html(
        complaint,
        subject=subject,
        text=text,
        postal_address=postal_address,
        enclosures=[attachment.original_name for attachment in enclosures],
    )
    name = f"Letter {complaint.reference} {timezone.localdate():%Y-%m-%d}.pdf"
    # Through the upload checks like any document: what staff download is what was checked.
    document = store_attachment(
        complaint, ContentFile(letters.letter_pdf(html), name=name), written, actor=actor
    )
    return messages.queue_letter(
        complaint,
        key=key,
        subject=subject,
        text=text,
        postal_address=postal_address,
        document=document,
        sent_by=actor,
        enclosures=enclosures,
        **response,
    )


def letter_mark_posted(message, *, actor):
    """A colleague printed the letter and put it in the post: once, whoever clicks first."""
    if message.channel != MessageChannel.LETTER or message.complaint_id is None:
        raise Refused("Only a letter is posted.")
    with transaction.atomic():
        # The complaint before the message, in the order sending takes them: posting a
        # response moves the case's clocks.
        complaint = locked(message.complaint)
        message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        require(actor, complaint, Action.NOTE)
        if message.status == MessageStatus.POSTED:
            raise Refused("This letter was already marked as posted.")
        message.status = MessageStatus.POSTED
        message.posted_by = actor
        message.sent_at = timezone.now()
        message.save(update_fields=["status", "posted_by", "sent_at"])
        if not message.response_type:
            return message
        # A response written before a reopening answers the case as it was: posting it
        # late neither marks the reopened case answered nor stops its new clocks.
        if reopened_since(complaint, message.created_at):
            Note.objects.create(
                complaint=complaint,
                author=actor,
                text=f"The {ResponseType(message.response_type).label.lower()} posted today "
                "was written before the case was reopened: it does not answer the reopened "
                "case, whose response clocks keep running.",
            )
        else:
            _response_sent(complaint, message.response_type, actor, message.sent_at)
        return message
