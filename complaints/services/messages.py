"""Delivering the outbox and what a delivery means for the case.

The outbox (complaints/outbox/) sends a message and marks it sent in a transaction of its own;
the consequence for the workflow comes after, here, and is idempotent: an acknowledgment email
delivered acknowledges its complaint once, and a consequence lost to a crash between the two
is made good by the next relay.
"""

import logging

from complaints import outbox, selectors
from complaints.models import AcknowledgmentMethod, MessageKind, OutboundMessage
from complaints.services.stages import complaint_acknowledge
from complaints.workflow import Refused, Stage

log = logging.getLogger(__name__)
DELIVERED_NOTE = "Acknowledgment email delivered to the customer"
# Per relay run: a backlog of unrecorded acknowledgments exists only after crashes.
RECONCILE_LIMIT = 100


def message_deliver(message_id, now=None):
    """Send one message if it is still to be sent, then record what its delivery means.
    Returns True when this call sent it."""
    if not outbox.deliver(message_id, now):
        return False
    message = OutboundMessage.objects.select_related("complaint").get(pk=message_id)
    message_delivered(message)
    return True


def message_delivered(message):
    """An acknowledgment email that reached the customer acknowledges the complaint, at the
    moment it was sent, unless someone acknowledged it meanwhile."""
    if message.kind != MessageKind.ACKNOWLEDGMENT or message.complaint_id is None:
        return
    complaint = message.complaint
    if complaint.stage != Stage.RECEIVED:
        return
    try:
        complaint_acknowledge(
            complaint,
            actor=None,
            method=AcknowledgmentMethod.EMAIL,
            at=message.sent_at,
            note=DELIVERED_NOTE,
        )
    except Refused as refusal:
        log.info("Acknowledgment of %s not recorded: %s", complaint.pk, refusal)


def outbox_relay(now=None):
    """Beat's relay: send everything due (what fails waits for its backoff), then record the
    acknowledgments a crash left unrecorded after their email went."""
    sent = 0
    ids = outbox.due_message_ids(now)
    for message_id in ids:
        sent += message_deliver(message_id, now)
    for message in selectors.acknowledgments_sent_unrecorded(RECONCILE_LIMIT):
        message_delivered(message)
    return {"sent": sent, "still_pending": len(ids) - sent}
