"""What each email says, and that it says it safely: user content escaped in HTML, no line
break ever reaching a header, and one outbox row per event however often it is queued."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from complaints import links, services
from complaints.models import MessageKind, MessageStatus, OutboundMessage
from complaints.outbox import messages as emails
from tests import factories

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def long_date(day):
    """How the emails write a date with its weekday: "Thursday 5 March 2026"."""
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def short_date(day):
    return f"{day.day} {day:%B} {day.year}"


def only_message(complaint, kind):
    rows = list(OutboundMessage.objects.filter(complaint=complaint, kind=kind))
    assert len(rows) == 1, rows
    return rows[0]


def token_of(link):
    """The customer token a link carries, checked against the link's signature."""
    path = urlsplit(link).path
    assert path.startswith("/c/") and path.endswith("/"), link
    return signing.TimestampSigner(salt=links.CUSTOMER_LINK_SALT).unsign(path[3:-1])


def link_in(message):
    """The customer's link, found in both bodies; it opens this message's complaint."""
    pattern = re.escape(settings.SITE_URL) + r"/c/[^/\s\"<>]+/"
    text_links = re.findall(pattern, message.body_text)
    html_links = re.findall(pattern, message.body_html)
    assert text_links and html_links, message.kind
    for link in text_links + html_links:
        assert token_of(link) == message.complaint.customer_token
    return text_links[0]


# Acknowledgment ---------------------------------------------------------------------------


def test_acknowledgment_names_the_customer_reference_summary_dates_and_link(csr, client):
    complained_on = timezone.localdate() - timedelta(days=3)
    description = (
        "I was charged twice for one purchase.\n\nThe second charge appeared on my statement "
        "a day later.   " + "Detail. " * 60 + "THE-VERY-END-OF-THE-DESCRIPTION"
    )
    complaint = factories.complaint(
        csr,
        customer_name="Priya Shah",
        date_of_complaint=complained_on,
        description=description,
    )
    message = only_message(complaint, MessageKind.ACKNOWLEDGMENT)

    assert message.recipient == "priya@example.com"
    assert message.to_customer is True
    assert message.status == MessageStatus.PENDING
    assert message.subject == f"We have received your complaint ({complaint.reference})"
    link = link_in(message)
    for body in (message.body_text, message.body_html):
        assert "Dear Priya Shah," in body
        assert complaint.reference in body
        # The summary is the description on one line, cut short.
        assert "I was charged twice for one purchase. The second charge appeared" in body
        assert "THE-VERY-END-OF-THE-DESCRIPTION" not in body
        assert "…" in body
        assert short_date(complained_on) in body
        assert long_date(complaint.resolution_target_date) in body
    assert f'href="{settings.SITE_URL}/c/' in message.body_html

    # The link in the email opens this complaint's own page.
    response = client.get(urlsplit(link).path)
    assert response.status_code == 200
    assert complaint.reference in response.content.decode()


def test_acknowledgment_is_not_queued_when_held_for_review_and_is_queued_by_the_csr(csr, settings):
    settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW = True
    complaint = factories.complaint(csr)
    assert not complaint.messages.exists()

    services.complaint_assign(complaint, actor=csr, assignee=csr)
    message = services.acknowledgment_email_send(complaint, actor=csr)

    assert message.kind == MessageKind.ACKNOWLEDGMENT
    assert list(complaint.messages.all()) == [message]


def test_no_acknowledgment_without_an_email_address(csr):
    complaint = factories.complaint(csr, customer_email="", customer_phone="07700 900123")
    assert not complaint.messages.exists()


# Resolution -------------------------------------------------------------------------------


def test_resolution_message_says_what_we_propose_the_amount_what_to_do_and_how_to_answer(
    csr, resolver, manager
):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    resolution = services.resolution_propose(
        complaint,
        actor=csr,
        type="refund",
        amount=Decimal("120.50"),
        description="We will refund the duplicate charge to your card.",
        customer_action="Please confirm the last four digits of the card you used.",
    )
    message = only_message(complaint, MessageKind.RESOLUTION)

    assert message.idempotency_key == f"complaint:{complaint.pk}:resolution:{resolution.pk}"
    assert message.subject == (f"Our proposed resolution to your complaint ({complaint.reference})")
    link_in(message)
    for body in (message.body_text, message.body_html):
        assert "We will refund the duplicate charge to your card." in body
        assert "GBP 120.50" in body
        assert "Please confirm the last four digits of the card you used." in body
        assert "whether you accept this, or if you disagree" in body
        assert "If you disagree, we will look at your complaint again." in body


def test_resolution_needing_approval_is_sent_only_once_a_manager_approves(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_propose(
        complaint,
        actor=csr,
        type="compensation",
        amount=Decimal("750.00"),
        description="Compensation for the overdraft fees.",
    )
    assert not complaint.messages.filter(kind=MessageKind.RESOLUTION).exists()

    services.resolution_decide_approval(complaint, actor=manager, approve=True)

    message = only_message(complaint, MessageKind.RESOLUTION)
    assert "Compensation for the overdraft fees." in message.body_text
    assert "GBP 750.00" in message.body_text


# Delay notice, feedback request and reminder, staff notification ---------------------------


def test_delay_notice_apologises_and_names_the_date_we_missed(csr):
    complaint = factories.complaint(csr)
    message = emails.queue_delay_notice(complaint)

    assert message.kind == MessageKind.DELAY_NOTICE
    assert message.subject == f"An update on your complaint ({complaint.reference})"
    assert message.idempotency_key == (
        f"complaint:{complaint.pk}:delay:{complaint.resolution_target_date.isoformat()}"
    )
    link_in(message)
    for body in (message.body_text, message.body_html):
        assert "Dear Priya Shah," in body
        assert long_date(complaint.resolution_target_date) in body
        assert "we need a little more time" in body


def test_feedback_request_and_reminder_are_two_messages_with_their_own_wording(
    csr, resolver, manager
):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager
    )
    request = emails.queue_feedback_request(complaint)
    reminder = emails.queue_feedback_request(complaint, reminder=True)

    assert request.pk != reminder.pk
    assert request.idempotency_key != reminder.idempotency_key
    assert (request.kind, reminder.kind) == (
        MessageKind.FEEDBACK_REQUEST,
        MessageKind.FEEDBACK_REMINDER,
    )
    assert request.subject == f"How did we do? ({complaint.reference})"
    assert reminder.subject == f"A reminder: how did we do? ({complaint.reference})"
    assert "We recently put right the issue you complained about." in request.body_text
    assert "A few days ago we asked" not in request.body_text
    assert "A few days ago we asked how we handled your complaint." in reminder.body_text
    assert "A few days ago we asked how we handled your complaint." in reminder.body_html
    for message in (request, reminder):
        assert "a score from 1 to 5" in message.body_text
        link_in(message)

    # Asking again in the same round returns the same two rows.
    assert emails.queue_feedback_request(complaint).pk == request.pk
    assert emails.queue_feedback_request(complaint, reminder=True).pk == reminder.pk
    assert (
        complaint.messages.filter(
            kind__in=[MessageKind.FEEDBACK_REQUEST, MessageKind.FEEDBACK_REMINDER]
        ).count()
        == 2
    )


def test_staff_notification_goes_to_the_colleague_with_a_link_to_the_case(csr, manager):
    manager.email = "manager@example.com"
    manager.save()
    complaint = factories.complaint(csr)

    message = emails.queue_staff_notification(
        complaint,
        manager,
        "escalated",
        headline="Complaint escalated to managers",
        detail="The customer has contacted the ombudsman.",
    )

    assert message.kind == MessageKind.STAFF_NOTIFICATION
    assert message.to_customer is False
    assert message.recipient == "manager@example.com"
    assert message.idempotency_key == f"complaint:{complaint.pk}:escalated:{manager.pk}"
    assert message.subject == f"[{complaint.reference}] Complaint escalated to managers"
    staff_link = settings.SITE_URL + reverse("complaints:detail", args=[complaint.pk])
    for body in (message.body_text, message.body_html):
        assert "Complaint escalated to managers" in body
        assert "The customer has contacted the ombudsman." in body
        assert "Priya Shah" in body
        assert staff_link in body
        # Staff get the case page, not the customer's secret link.
        assert f"{settings.SITE_URL}/c/" not in body


def test_staff_notification_subject_is_plain_text_not_html_entities(csr, manager):
    manager.email = "manager@example.com"
    manager.save()
    complaint = factories.complaint(csr, customer_name="Siobhan O'Brien")

    message = emails.queue_staff_notification(
        complaint,
        manager,
        "escalated",
        headline="O'Brien & Co escalated to managers",
        detail="",
    )

    assert message.subject == f"[{complaint.reference}] O'Brien & Co escalated to managers"


# Safety -----------------------------------------------------------------------------------


def test_html_bodies_escape_what_the_customer_and_staff_wrote(csr, resolver, manager):
    manager.email = "manager@example.com"
    manager.save()
    complaint = factories.complaint_at_stage(
        "investigating",
        csr=csr,
        resolver=resolver,
        manager=manager,
        customer_name=f"Eve {SCRIPT}",
        description=f"My complaint {SCRIPT} is serious.",
    )
    services.resolution_propose(
        complaint,
        actor=csr,
        type="apology",
        description=f"We apologise {SCRIPT}.",
        customer_action=f"Nothing {SCRIPT}.",
    )
    emails.queue_delay_notice(complaint)
    emails.queue_staff_notification(
        complaint, manager, "escalated", headline=f"Escalated {SCRIPT}", detail=SCRIPT
    )

    messages = list(complaint.messages.all())
    assert {m.kind for m in messages} == {
        MessageKind.ACKNOWLEDGMENT,
        MessageKind.RESOLUTION,
        MessageKind.DELAY_NOTICE,
        MessageKind.STAFF_NOTIFICATION,
    }
    for message in messages:
        assert "<script" not in message.body_html.lower(), message.kind
        assert ESCAPED_SCRIPT in message.body_html, message.kind
    acknowledgment = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    assert f"Dear Eve {ESCAPED_SCRIPT}," in acknowledgment.body_html
    assert f"My complaint {ESCAPED_SCRIPT} is serious." in acknowledgment.body_html
    # The plain-text part is not HTML, so it carries the text as the customer wrote it.
    assert f"Dear Eve {SCRIPT}," in acknowledgment.body_text


def test_subjects_never_carry_a_line_break_even_when_the_data_does(csr, resolver, manager):
    manager.email = "manager@example.com"
    manager.save()
    injected = "Priya Shah\r\nBcc: victim@example.com"
    # Straight into the service, past the forms that refuse line breaks.
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager, customer_name=injected
    )
    services.resolution_propose(complaint, actor=csr, type="apology", description="Sorry.")
    emails.queue_delay_notice(complaint)
    emails.queue_staff_notification(
        complaint,
        manager,
        "escalated",
        headline="Escalated:\r\nBcc: victim@example.com",
        detail=injected,
    )

    messages = list(complaint.messages.all())
    assert len(messages) == 4
    for message in messages:
        assert "\r" not in message.subject and "\n" not in message.subject, message.kind
    acknowledgment = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    assert "Dear Priya Shah Bcc: victim@example.com," in acknowledgment.body_text
    staff = complaint.messages.get(kind=MessageKind.STAFF_NOTIFICATION)
    assert staff.subject == f"[{complaint.reference}] Escalated: Bcc: victim@example.com"

    # Sent, the message goes to its one recipient and nobody else.
    assert services.message_deliver(staff.pk) is True
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.recipients() == ["manager@example.com"]
    headers = sent.message()
    assert headers["To"] == "manager@example.com"
    assert headers["Bcc"] is None


def test_queueing_the_same_event_twice_returns_the_same_row(csr, resolver, manager):
    manager.email = "manager@example.com"
    manager.save()
    complaint = factories.complaint_at_stage(
        "resolved", csr=csr, resolver=resolver, manager=manager
    )
    resolution = complaint.resolutions.get()

    pairs = [
        (emails.queue_acknowledgment(complaint), emails.queue_acknowledgment(complaint)),
        (
            emails.queue_resolution(complaint, resolution),
            emails.queue_resolution(complaint, resolution),
        ),
        (emails.queue_delay_notice(complaint), emails.queue_delay_notice(complaint)),
        (
            emails.queue_staff_notification(complaint, manager, "x", headline="A", detail="B"),
            emails.queue_staff_notification(complaint, manager, "x", headline="A", detail="B"),
        ),
    ]

    for first, second in pairs:
        assert first.pk == second.pk, first.kind
        assert OutboundMessage.objects.filter(idempotency_key=first.idempotency_key).count() == 1
    # The acknowledgment queued at intake is that same row.
    assert complaint.messages.filter(kind=MessageKind.ACKNOWLEDGMENT).count() == 1
    assert complaint.messages.count() == 4


def test_customer_link_carries_the_random_token_signed_never_the_id_or_reference(csr):
    complaint = factories.complaint(csr)
    link = links.customer_link(complaint)

    path = urlsplit(link).path
    assert path.startswith("/c/") and path.endswith("/")
    signed = path[len("/c/") : -1]
    assert (
        signing.TimestampSigner(salt=links.CUSTOMER_LINK_SALT).unsign(signed)
        == complaint.customer_token
    )
    assert complaint.reference not in link
    assert str(complaint.pk) not in signed.split(":")
    assert f"/{complaint.pk}/" not in path
    assert len(complaint.customer_token) >= 40


def test_delay_notice_for_a_new_target_date_is_a_new_message(csr):
    complaint = factories.complaint(csr)
    first = emails.queue_delay_notice(complaint)
    complaint.resolution_target_date = complaint.resolution_target_date + timedelta(days=7)
    complaint.save(update_fields=["resolution_target_date"])

    second = emails.queue_delay_notice(complaint)

    assert second.pk != first.pk
    assert long_date(complaint.resolution_target_date) in second.body_text
