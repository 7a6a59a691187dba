"""One function per message. Each renders three templates (subject, text, HTML) from one
context and puts the result in the outbox; delivery.py sends it after commit.

Callers run inside the transaction of the change that causes the message, so the message
exists if and only if the change does.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator

from complaints.links import customer_link
from complaints.models import MessageChannel, MessageKind, MessageStatus, OutboundMessage
from complaints.outbox.delivery import message_id_for


def one_line(text):
    """Header values never carry a line break: that is how header injection works."""
    return " ".join(str(text).split())


def summary_of(complaint, length=300):
    return Truncator(" ".join(complaint.description.split())).chars(length)


def _context(complaint, **extra):
    return {
        "complaint": complaint,
        "customer_name": one_line(complaint.customer_name),
        "reference": complaint.reference,
        "summary": summary_of(complaint),
        "date_of_complaint": complaint.date_of_complaint,
        "estimated_resolution": complaint.resolution_target_date,
        "link": customer_link(complaint),
        "reply_to": settings.DEFAULT_FROM_EMAIL,
        "team_name": settings.COMPLAINTS_TEAM_NAME,
        **extra,
    }


def _render(template, context, language):
    """Subject, text and HTML of one message, from emails/<template>{_subject.txt,.txt,.html},
    in `language` whatever the request or task that causes it is speaking."""
    with translation.override(language):
        subject = one_line(render_to_string(f"emails/{template}_subject.txt", context))[:200]
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return subject, text, html


def _language_of(complaint, to_customer):
    """The customer reads their own language; colleagues read the staff pages' English."""
    if to_customer and complaint is not None:
        return complaint.preferred_language
    return settings.LANGUAGE_CODE


def _store(
    kind,
    key,
    recipient,
    template,
    context,
    *,
    complaint=None,
    to_customer=True,
    new=False,
    **fields,
):
    """Render and store one message; a second call with the same key returns the first.
    `new` says there can be no first (the complaint is new), which saves the query."""
    existing = None if new else OutboundMessage.objects.filter(idempotency_key=key).first()
    if existing:
        return existing
    subject, text, html = _render(template, context, _language_of(complaint, to_customer))
    return OutboundMessage.objects.create(
        kind=kind,
        complaint=complaint,
        to_customer=to_customer,
        recipient=one_line(recipient),
        subject=subject,
        body_text=text,
        body_html=html,
        idempotency_key=key,
        message_id=message_id_for(key),
        next_attempt_at=timezone.now(),
        **fields,
    )


def _queue(
    kind, complaint, event, context, *, recipient=None, to_customer=True, template=None, new=False
):
    """A message about one complaint, once per complaint and event."""
    return _store(
        kind,
        f"complaint:{complaint.pk}:{event}",
        recipient or complaint.customer_email,
        template or kind,
        context,
        complaint=complaint,
        to_customer=to_customer,
        new=new,
    )


def queue_acknowledgment(complaint, *, new=False):
    """`new`: the complaint was created in this transaction, so it has no message yet."""
    return _queue(
        MessageKind.ACKNOWLEDGMENT, complaint, "acknowledgment", _context(complaint), new=new
    )


def queue_resolution(complaint, resolution):
    context = _context(complaint, resolution=resolution)
    return _queue(MessageKind.RESOLUTION, complaint, f"resolution:{resolution.pk}", context)


def queue_delay_notice(complaint):
    event = f"delay:{complaint.resolution_target_date.isoformat()}"
    return _queue(MessageKind.DELAY_NOTICE, complaint, event, _context(complaint))


def queue_feedback_request(complaint, *, reminder=False):
    # One request and one reminder per follow-up round; a reopened case asks again.
    round_number = complaint.reopen_count
    kind = MessageKind.FEEDBACK_REMINDER if reminder else MessageKind.FEEDBACK_REQUEST
    event = f"{kind}:{round_number}"
    return _queue(
        kind, complaint, event, _context(complaint, reminder=reminder), template="feedback_request"
    )


def queue_withdrawal_confirmation(complaint):
    return _queue(MessageKind.WITHDRAWAL_CONFIRMATION, complaint, "withdrawn", _context(complaint))


def queue_merge_notice(survivor, duplicate):
    """Told once per merge: the key names both cases, so a retried or raced merge finds the
    first message. Kept on the surviving case, which the customer follows from now on."""
    return _queue(
        MessageKind.MERGE_NOTICE,
        survivor,
        f"merged:{duplicate.pk}",
        _context(survivor, duplicate=duplicate),
        recipient=duplicate.customer_email,
    )


def queue_staff_notification(complaint, recipient, event, *, headline, detail):
    context = {
        "complaint": complaint,
        "headline": headline,
        "detail": detail,
        "link": settings.SITE_URL + reverse("complaints:detail", args=[complaint.pk]),
    }
    return _queue(
        MessageKind.STAFF_NOTIFICATION,
        complaint,
        f"{event}:{recipient.pk}",
        context,
        recipient=recipient.email,
        to_customer=False,
        template="staff_notification",
    )


DIGEST_LISTED = 50


def queue_staff_digest(recipients, complaints, *, event, headline, total=None, advice=""):
    """One notification to each colleague about a batch of complaints a job just acted on.

    The digest is rendered once for the batch: its content does not depend on who reads it.
    It lists the first DIGEST_LISTED complaints and counts the rest (`total`, when the caller
    passes only those it lists): a list of a thousand lines helps nobody, and the queue linked
    below it shows them all in deadline order.
    """
    listed = complaints[:DIGEST_LISTED]
    context = {
        "headline": headline,
        "advice": advice,
        "complaints": [
            (c, settings.SITE_URL + reverse("complaints:detail", args=[c.pk])) for c in listed
        ],
        "more": (total or len(complaints)) - len(listed),
        "queue_link": settings.SITE_URL + reverse("home"),
        "site_url": settings.SITE_URL,
    }
    subject, text, html = _render("staff_digest", context, settings.LANGUAGE_CODE)
    keys = {recipient.pk: f"event:{event}:{recipient.pk}" for recipient in recipients}
    existing = set(
        OutboundMessage.objects.filter(idempotency_key__in=keys.values()).values_list(
            "idempotency_key", flat=True
        )
    )
    now = timezone.now()
    return OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                kind=MessageKind.STAFF_NOTIFICATION,
                complaint=complaints[0] if len(complaints) == 1 else None,
                to_customer=False,
                recipient=one_line(recipient.email),
                subject=subject,
                body_text=text,
                body_html=html,
                idempotency_key=keys[recipient.pk],
                message_id=message_id_for(keys[recipient.pk]),
                next_attempt_at=now,
            )
            for recipient in recipients
            if keys[recipient.pk] not in existing
        ]
    )


def queue_staff_message(recipient, *, key, template, context, complaint=None):
    """A message to a colleague, rendered from emails/<template>{_subject.txt,.txt,.html}."""
    return _store(
        MessageKind.STAFF_NOTIFICATION,
        key,
        recipient.email,
        template,
        context,
        complaint=complaint,
        to_customer=False,
    )


def queue_signal_digest(recipient, cases, *, key):
    """What became a colleague's turn since their last digest: [(complaint, [what happened,
    ...]), ...], one line per case. `key` names the batch, so a batch is told of once."""
    listed = cases[:DIGEST_LISTED]
    context = {
        "recipient": recipient,
        "count": len(cases),
        "cases": [
            (c, happened, settings.SITE_URL + reverse("complaints:detail", args=[c.pk]))
            for c, happened in listed
        ],
        "more": len(cases) - len(listed),
        "queue_link": settings.SITE_URL + reverse("home"),
    }
    return _store(
        MessageKind.STAFF_NOTIFICATION,
        key,
        recipient.email,
        "signal_digest",
        context,
        complaint=cases[0][0] if len(cases) == 1 else None,
        to_customer=False,
    )


def queue_reply(
    complaint,
    *,
    key,
    subject,
    text,
    sent_by,
    attachments=(),
    response_type="reply",
    template_version=None,
):
    """A reply a colleague wrote to the customer, as they wrote it (already filled in and
    edited), in the house style. Once per key: the compose form's token, so a double submit
    stores, and sends, one message."""
    context = _context(complaint, subject=one_line(subject), text=text, staff=sent_by)
    message = _store(
        MessageKind.REPLY,
        key,
        complaint.customer_email,
        "reply",
        context,
        complaint=complaint,
        sent_by=sent_by,
        response_type=response_type,
        template_version=template_version,
    )
    if attachments and not message.attachments.exists():
        message.attachments.set(attachments)
    return message


def queue_letter(
    complaint,
    *,
    key,
    subject,
    text,
    postal_address,
    document,
    sent_by,
    enclosures=(),
    response_type="reply",
    template_version=None,
):
    """A reply to go by post: as written, with its PDF (`document`, among the complaint's
    documents), queued for printing. The relay never sends it: it claims pending messages
    only, and a letter leaves the queue when a colleague marks it posted."""
    message = OutboundMessage.objects.create(
        kind=MessageKind.REPLY,
        channel=MessageChannel.LETTER,
        complaint=complaint,
        postal_address=postal_address,
        subject=one_line(subject)[:200],
        body_text=text,
        idempotency_key=key,
        status=MessageStatus.AWAITING_PRINT,
        letter=document,
        sent_by=sent_by,
        response_type=response_type,
        template_version=template_version,
        next_attempt_at=timezone.now(),
    )
    message.attachments.set(enclosures)
    return message
