"""Email from customers, however it arrives (an IMAP mailbox, the drop folder, `manage.py
deliver_eml`): stored once, threaded into its complaint, offered to staff, or logged as a new
complaint. The one way in for an inbound email; docs/correspondence.md says how it decides.

Threading, most certain first:
1. In-Reply-To or References name one of our Message-IDs (or an earlier email of the thread):
   128 random bits no one can guess, so whoever replies, the reply belongs there.
2. The complaint's reply address (complaints+CMP-2026-000027@) or the reference in the
   subject: guessable, so only from the customer's own address; from anyone else the email
   waits for staff, who see the complaint it names.
Unmatched, from a customer with an open complaint: it waits for staff to attach it.
Unmatched otherwise: a new complaint, channel email, acknowledged like any other.

Mail no person wrote (auto-replies, out-of-office, lists, bounces) is stored and never makes
a complaint, an acknowledgment or a notification, so two auto-responders cannot loop.
"""

import hashlib
import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext

from complaints import mailboxes, mime, outbox
from complaints.models import (
    LONG_TEXT,
    Category,
    Channel,
    Complaint,
    Complexity,
    InboundMessage,
    InboundStatus,
    MatchedBy,
    MessageStatus,
    OutboundMessage,
    SignalKind,
)
from complaints.outbox import messages
from complaints.outbox.delivery import message_id_for
from complaints.permissions import Action, require
from complaints.services.attachments import store_attachment
from complaints.services.common import files_removed_on_failure, locked
from complaints.services.intake import complaint_create
from complaints.services.signals import signal_raise
from complaints.uploads import UploadRejected, safe_display_name
from complaints.workflow import OPEN_STAGE_VALUES, Refused

log = logging.getLogger(__name__)
COMMAND_MAILBOX = "file"
# What the customer writes on their own link is stored as if it came to this mailbox.
LINK_MAILBOX = "link"
# As long as a message the customer may add on their link (customer.forms.InformationForm).
LINK_MESSAGE_MAX = 5000


def raw_path(message):
    name = message.raw_name
    return Path(settings.ATTACHMENT_ROOT) / "email" / name[:2] / f"{name}.eml"


def inbound_receive(raw, *, mailbox, too_large=False, now=None):
    """Store one email and act on it; the same message received again returns the first."""
    parsed = mime.parse(raw, digest=hashlib.sha256(raw).hexdigest())
    existing = _stored(mailbox, parsed.message_id)
    if existing is not None:
        return existing
    try:
        with files_removed_on_failure() as written, transaction.atomic():
            return _receive(parsed, raw, mailbox, too_large, written, now or timezone.now())
    except IntegrityError:
        # The same message stored meanwhile by another worker: the unique Message-ID per
        # mailbox made this transaction wait for it, then fail.
        existing = _stored(mailbox, parsed.message_id)
        if existing is None:
            raise
        return existing


def _stored(mailbox, message_id):
    return InboundMessage.objects.filter(mailbox=mailbox, message_id=message_id).order_by().first()


def _receive(parsed, raw, mailbox, too_large, written, now):
    notes = []
    if too_large:
        megabytes = settings.INBOUND_MESSAGE_MAX_BYTES // (1024 * 1024)
        notes = [
            {"name": "", "stored": False, "reason": f"The email is larger than {megabytes} MB."}
        ]
        parsed.attachments = []
    if mime.bare_address(parsed.sender) == mime.bare_address(settings.DEFAULT_FROM_EMAIL):
        parsed.automatic = "Sent from our own address"
    complaint, matched_by = (None, "") if parsed.is_bounce else _thread(parsed)
    if parsed.automatic and not parsed.is_bounce:
        status = InboundStatus.AUTOMATIC
    elif complaint is not None:
        status = InboundStatus.THREADED
    else:
        status = InboundStatus.AWAITING_STAFF
    # The row before anything it causes: a second worker storing the same message waits here
    # on the unique index and then fails, before it has made a complaint or sent anything.
    message = InboundMessage.objects.create(
        mailbox=mailbox,
        message_id=parsed.message_id,
        complaint=complaint,
        status=status,
        matched_by=matched_by,
        sender=parsed.sender,
        sender_name=parsed.sender_name,
        subject=parsed.subject,
        body_text=parsed.text,
        body_html=parsed.html,
        attachment_notes=notes,
        size=len(raw),
        written_at=parsed.written_at,
        received_at=now,
        raw_name=uuid.uuid4().hex,
    )
    _keep_raw(message, raw, written)
    if parsed.is_bounce:
        return _bounced(message, parsed)
    if status == InboundStatus.AUTOMATIC:
        return message
    if complaint is None and _may_open_a_complaint(parsed):
        complaint = _new_complaint(parsed, mailbox, now)
        if complaint is None:
            return message
        _file(message, complaint, MatchedBy.NEW, parsed.attachments, written)
        return message
    if complaint is not None:
        _file(message, complaint, matched_by, parsed.attachments, written)
        _customer_replied(complaint)
    return message


def _may_open_a_complaint(parsed):
    """Only an email that names no complaint, from someone with no open complaint: anything
    else is most likely about a complaint we have, and a person decides which."""
    return (
        bool(parsed.sender)
        and not any(parsed.references())
        and not _open_complaints_of(parsed.sender).exists()
    )


def _keep_raw(message, raw, written):
    path = raw_path(message)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    written.append(path)


def _thread(parsed):
    """The complaint this email belongs to, and how we know; (None, "") if we do not."""
    # Ours first, then an earlier email of the thread (the customer answering themselves).
    for model in (OutboundMessage, InboundMessage) if parsed.answers else ():
        answered = (
            model.objects.filter(message_id__in=parsed.answers, complaint__isnull=False)
            .select_related("complaint")
            .first()
        )
        if answered is not None:
            return answered.complaint, MatchedBy.HEADERS
    by_address, by_subject = parsed.references()
    named = ((by_address, MatchedBy.REPLY_ADDRESS), (by_subject, MatchedBy.SUBJECT))
    for references, matched_by in named:
        for complaint in Complaint.objects.filter(reference__in=references):
            if parsed.sender and complaint.customer_email.lower() == parsed.sender:
                return complaint, matched_by
    return None, ""


def _open_complaints_of(sender):
    return Complaint.objects.filter(customer_email__iexact=sender, stage__in=OPEN_STAGE_VALUES)


def _new_complaint(parsed, mailbox, now):
    written_on = timezone.localdate(min(parsed.written_at or now, now))
    description = parsed.text or parsed.subject or "(The email had no text.)"
    # Staff classify it when they take it from the intake queue.
    category, _ = Category.objects.get_or_create(name=settings.INBOUND_CATEGORY, parent=None)
    data = {
        "category": category,
        "customer_name": parsed.sender_name or parsed.sender.split("@")[0],
        "customer_email": parsed.sender,
        "customer_phone": "",
        "date_of_complaint": min(written_on, timezone.localdate(now)),
        "description": description[:LONG_TEXT],
        "interaction_details": f'Emailed to the complaints mailbox ({mailbox}): "{parsed.subject}"',
        "channel": Channel.EMAIL,
        "complexity": Complexity.STANDARD,
    }
    try:
        with transaction.atomic():
            return complaint_create(actor=None, data=data, received_at=now)
    except (ValidationError, Refused) as problem:
        # An address or name the record refuses: a person decides what to do with it.
        log.info("Email %s not logged as a complaint: %s", parsed.message_id, problem)
        return None


def _file(message, complaint, matched_by, parts, written):
    """Put the message on its complaint with the attachments that pass the upload checks."""
    changed = ["complaint", "matched_by", "status", "attachment_notes"]
    if (message.complaint_id, message.matched_by) == (complaint.pk, matched_by) and not parts:
        return  # stored where it belongs already, with nothing to add
    message.complaint = complaint
    message.matched_by = matched_by
    message.status = (
        InboundStatus.NEW_COMPLAINT if matched_by == MatchedBy.NEW else InboundStatus.THREADED
    )
    notes = list(message.attachment_notes)
    for index, part in enumerate(parts):
        name = safe_display_name(part.name) or "attachment"
        if index >= settings.CUSTOMER_DOCUMENTS_MAX:
            notes.append({"name": name, "stored": False, "reason": "Too many attachments."})
            continue
        try:
            upload = ContentFile(part.data, name=name)
            with transaction.atomic():
                store_attachment(complaint, upload, written, actor=None, by_customer=True)
        except UploadRejected as refusal:
            notes.append({"name": name, "stored": False, "reason": refusal.message})
        else:
            notes.append({"name": name, "stored": True, "reason": ""})
    message.attachment_notes = notes
    message.save(update_fields=changed)


def _bounced(message, parsed):
    """A delivery failure report: the email it reports on is marked undeliverable and the
    complaint's assignee is told, so someone reaches the customer another way."""
    bounced = (
        OutboundMessage.objects.filter(message_id__in=parsed.bounced_ids)
        .select_related("complaint", "complaint__assignee")
        .first()
    )
    message.status = InboundStatus.BOUNCE
    message.bounced_message = bounced
    if bounced is not None:
        message.complaint = bounced.complaint
        OutboundMessage.objects.filter(pk=bounced.pk, status=MessageStatus.SENT).update(
            status=MessageStatus.UNDELIVERABLE, last_error=parsed.bounce_reason
        )
        complaint = bounced.complaint
        if complaint is not None and complaint.assignee_id and bounced.to_customer:
            outbox.send_after_commit(
                messages.queue_staff_notification(
                    complaint,
                    complaint.assignee,
                    f"bounce:{bounced.pk}",
                    headline=f"Our email to {bounced.recipient} could not be delivered",
                    detail=f'"{bounced.subject}": {parsed.bounce_reason}',
                )
            )
    message.save()
    return message


def _customer_replied(complaint, actor=None):
    """The customer wrote to us about `complaint`: the one place that says so.

    The message itself is the timeline's entry ("Email from the customer"); the signal marks
    the case for whoever holds it and the signal digest emails them, once, as for every other
    hand-off. Every threaded reply, whether by mail or attached by staff (the `actor`, who
    is not told of what they did), passes here.
    """
    with transaction.atomic():
        signal_raise(locked(complaint), SignalKind.CUSTOMER_REPLIED, actor=actor)


def inbound_receive_from_link(complaint, *, text, token, now=None):
    """What the customer wrote on their own link, received as their email would be: stored
    on the complaint the link is for, shown in the conversation, and told of through
    _customer_replied. Once per form: `token` (the form's one-time token) names the message,
    so a double click or a retry finds the first one and raises nothing more."""
    # Browsers send a textarea's line breaks as CRLF.
    text = (text or "").replace("\r\n", "\n").strip()
    if not token:
        raise Refused(gettext("This form has expired. Please reload the page and write again."))
    if not text:
        raise Refused(gettext("Please write your message."))
    if len(text) > LINK_MESSAGE_MAX:
        raise Refused(
            gettext("Please keep your message under %(count)s characters.")
            % {"count": f"{LINK_MESSAGE_MAX:,}"}
        )
    if complaint.duplicate_of_id is not None:
        raise Refused(gettext("Please write to us on the complaint we joined this one to."))
    message_id = message_id_for(f"link:{complaint.pk}:{token}")
    existing = _stored(LINK_MAILBOX, message_id)
    if existing is not None:
        return existing
    first_line = text.splitlines()[0]
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                mailbox=LINK_MAILBOX,
                message_id=message_id,
                complaint=complaint,
                status=InboundStatus.THREADED,
                matched_by=MatchedBy.LINK,
                sender=complaint.customer_email,
                sender_name=complaint.customer_name,
                subject=Truncator(first_line).chars(80),
                body_text=text,
                size=len(text.encode()),
                received_at=now or timezone.now(),
            )
            _customer_replied(complaint)
    except IntegrityError:
        # The same form sent twice at once: the second waited on the unique Message-ID.
        existing = _stored(LINK_MAILBOX, message_id)
        if existing is None:
            raise
        return existing
    return message


def inbound_attach(message, complaint, *, actor):
    """A colleague puts an email that matched nothing on the complaint it belongs to."""
    with files_removed_on_failure() as written, transaction.atomic():
        message = InboundMessage.objects.select_for_update().get(pk=message.pk)
        complaint = locked(complaint)
        require(actor, complaint, Action.NOTE)
        if message.status != InboundStatus.AWAITING_STAFF:
            raise Refused("This email has already been dealt with.")
        parts = []
        if message.size <= settings.INBOUND_MESSAGE_MAX_BYTES and raw_path(message).exists():
            parts = mime.parse(raw_path(message).read_bytes(), digest=message.raw_name).attachments
        _file(message, complaint, MatchedBy.STAFF, parts, written)
        message.handled_by = actor
        message.handled_at = timezone.now()
        message.save(update_fields=["handled_by", "handled_at"])
        _customer_replied(complaint, actor=actor)
        return message


@transaction.atomic
def inbound_dismiss(message, *, actor):
    """Nothing to do with a complaint (a newsletter, a stray): kept, out of the list."""
    message = InboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != InboundStatus.AWAITING_STAFF:
        raise Refused("This email has already been dealt with.")
    message.status = InboundStatus.DISMISSED
    message.handled_by = actor
    message.handled_at = timezone.now()
    message.save(update_fields=["status", "handled_by", "handled_at"])
    return message


def _receive_or_keep(raw, *, mailbox, too_large=False):
    """What the mailbox job calls for each message. A message this service cannot read (a
    bug, not the database) is kept for staff rather than blocking the mailbox for ever."""
    try:
        return inbound_receive(raw, mailbox=mailbox, too_large=too_large)
    except DatabaseError:
        raise
    except Exception:
        log.exception("Email in %s could not be read; kept for staff", mailbox)
        with files_removed_on_failure() as written, transaction.atomic():
            message, created = InboundMessage.objects.get_or_create(
                mailbox=mailbox,
                message_id=f"<{hashlib.sha256(raw).hexdigest()}@unreadable>",
                defaults={
                    "status": InboundStatus.AWAITING_STAFF,
                    "subject": "(An email we could not read)",
                    "size": len(raw),
                    "received_at": timezone.now(),
                    "raw_name": uuid.uuid4().hex,
                },
            )
            if created:
                _keep_raw(message, raw, written)
            return message


def mailboxes_poll(now=None):
    """Beat's job: read every configured IMAP mailbox, then the drop folder if there is one."""
    summary = {}
    for config in settings.INBOUND_MAILBOXES:
        summary[config["name"]] = mailboxes.imap_poll(config, _receive_or_keep, now=now)
    if settings.INBOUND_DROP_FOLDER:
        summary[mailboxes.DROP_FOLDER] = mailboxes.drop_folder_poll(
            settings.INBOUND_DROP_FOLDER, _receive_or_keep
        )
    return summary
