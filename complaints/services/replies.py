"""A colleague's reply to the customer, written from the complaint's page: stored in the
outbox once per compose form, and sent after commit like every other email."""

import re

from django.db import transaction

from complaints import outbox
from complaints.models import LONG_TEXT
from complaints.outbox import messages
from complaints.permissions import Action, require
from complaints.services.common import locked
from complaints.workflow import Refused

# The compose form's one-time token: 32 hex digits from uuid4.
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def reply_send(complaint, *, actor, subject, text, attachments=(), token):
    """Send `text` to the customer by email. The same `token` again (a double click, a retry
    after a slow answer) returns the message the first one stored, and sends nothing more."""
    if not TOKEN.match(token or ""):
        raise Refused("This form has expired. Please open it again.")
    subject, text = " ".join((subject or "").split()), (text or "").strip()
    if not subject or not text:
        raise Refused("Write a subject and a message.")
    if len(text) > LONG_TEXT:
        raise Refused(f"The message is longer than {LONG_TEXT:,} characters.")
    with transaction.atomic():
        # The row lock makes two submissions of one form take turns: the second finds the
        # first's message by its key.
        complaint = locked(complaint)
        require(actor, complaint, Action.NOTE)
        if not complaint.customer_email:
            raise Refused("There is no email address for this customer.")
        chosen = list(attachments)
        if any(attachment.complaint_id != complaint.pk for attachment in chosen):
            raise Refused("Only this complaint's documents can go with the reply.")
        message = messages.queue_reply(
            complaint,
            key=f"reply:{complaint.pk}:{token}",
            subject=subject,
            text=text,
            sent_by=actor,
            attachments=chosen,
        )
        outbox.send_after_commit(message)
        return message
