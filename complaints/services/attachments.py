"""Documents on a case, from staff and from the customer's link: checked by content, stored
under generated names, removed again if the change that brought them fails."""

import os

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from complaints.models import Attachment, Note, SignalKind
from complaints.permissions import Action, require
from complaints.services.common import files_removed_on_failure, locked
from complaints.services.signals import signal_raise
from complaints.uploads import check_upload
from complaints.workflow import Refused


def attachment_path(attachment):
    return attachment.path


def store_attachment(complaint, upload, written, *, actor, by_customer=False):
    checked = check_upload(upload.name, upload.chunks(), settings.ATTACHMENT_MAX_BYTES)
    attachment = Attachment(
        complaint=complaint,
        original_name=checked.display_name,
        kind=checked.kind,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        uploaded_by_customer=by_customer,
        uploaded_at=timezone.now(),
    )
    path = attachment_path(attachment)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    os.replace(partial, path)
    written.append(path)
    attachment.save()
    return attachment


def attachment_add(complaint, *, actor, upload, by_customer=False):
    with files_removed_on_failure() as written, transaction.atomic():
        complaint = locked(complaint)
        if actor is not None:
            require(actor, complaint, Action.ATTACH)
        return store_attachment(complaint, upload, written, actor=actor, by_customer=by_customer)


def customer_information_add(complaint, *, text, uploads=()):
    """What the customer adds through their own link: a note from them, and documents."""
    with files_removed_on_failure() as written, transaction.atomic():
        complaint = locked(complaint)
        text = (text or "").strip()
        if not text and not uploads:
            raise Refused("Write a message or choose a document to send.")
        if not complaint.is_open:
            raise Refused("This complaint is closed. Please contact us if you need to reopen it.")
        _within_customer_allowance(complaint, uploads)
        note = None
        if text:
            note = Note.objects.create(complaint=complaint, from_customer=True, text=text)
        for upload in uploads:
            store_attachment(complaint, upload, written, actor=None, by_customer=True)
        signal_raise(complaint, SignalKind.CUSTOMER_ADDED_INFORMATION)
        return note


def _within_customer_allowance(complaint, uploads):
    """Anyone holding a link can upload, so what one complaint takes from the customer is
    capped in number and size; the complaint's row lock makes two uploads at once count."""
    if not uploads:
        return
    held = complaint.attachments.filter(uploaded_by_customer=True).aggregate(
        count=Count("pk"), size=Sum("size")
    )
    count = held["count"] + len(uploads)
    size = (held["size"] or 0) + sum(upload.size for upload in uploads)
    if count > settings.CUSTOMER_DOCUMENTS_MAX:
        raise Refused(
            f"You have sent us the most documents we can take online "
            f"({settings.CUSTOMER_DOCUMENTS_MAX}). Please reply to our email if you need to "
            "send more."
        )
    if size > settings.CUSTOMER_DOCUMENTS_MAX_BYTES:
        megabytes = settings.CUSTOMER_DOCUMENTS_MAX_BYTES // (1024 * 1024)
        raise Refused(
            f"Your documents would come to more than the {megabytes} MB we can take online for "
            "one complaint. Please reply to our email if you need to send more."
        )
