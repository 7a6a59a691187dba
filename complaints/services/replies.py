"""A colleague's reply to the customer, written from the complaint's page (or sent through the
API): stored once per compose form, then sent after commit as an email, or made into a PDF
letter queued for printing until someone marks it posted."""

import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from complaints import letters, outbox
from complaints.models import LONG_TEXT, MessageChannel, MessageStatus, OutboundMessage
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.services.attachments import store_attachment
from complaints.services.common import files_removed_on_failure, locked
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
):
    """Send `text` to the customer by email, or by post as a letter. The same `token` again
    (a double click, a retry after a slow answer) returns the message the first one stored,
    and sends or prints nothing more."""
    if not TOKEN.match(token or ""):
        raise Refused("This form has expired. Please open it again.")
    subject, text = " ".join((subject or "").split()), (text or "").strip()
    if not subject or not text:
        raise Refused("Write a subject and a message.")
    if len(text) > LONG_TEXT:
        raise Refused(f"The message is longer than {LONG_TEXT:,} characters.")
    if channel not in MessageChannel.values:
        raise Refused("Send the reply by email or by letter.")
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
        if channel == MessageChannel.LETTER:
            return _letter(complaint, key, actor, subject, text, postal_address, chosen, written)
        if not complaint.customer_email:
            raise Refused("There is no email address for this customer: send a letter instead.")
        message = messages.queue_reply(
            complaint, key=key, subject=subject, text=text, sent_by=actor, attachments=chosen
        )
        outbox.send_after_commit(message)
        return message


def _letter(complaint, key, actor, subject, text, postal_address, enclosures, written):
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
    )


def letter_mark_posted(message, *, actor):
    """A colleague printed the letter and put it in the post: once, whoever clicks first."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if message.channel != MessageChannel.LETTER or message.complaint_id is None:
            raise Refused("Only a letter is posted.")
        require(actor, message.complaint, Action.NOTE)
        if message.status == MessageStatus.POSTED:
            raise Refused("This letter was already marked as posted.")
        message.status = MessageStatus.POSTED
        message.posted_by = actor
        message.sent_at = timezone.now()
        message.save(update_fields=["status", "posted_by", "sent_at"])
        return message
