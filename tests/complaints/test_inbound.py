"""Email from customers through the one inbound service: threading by our Message-IDs, the
complaint's reply address and the reference in the subject; new complaints from unknown
senders; what waits for staff; auto-replies, lists and bounces that never act; attachments
through the upload checks; and the same message received twice, stored once."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from complaints import mime, selectors, services
from complaints.models import (
    Attachment,
    Complaint,
    InboundMessage,
    InboundStatus,
    MatchedBy,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Signal,
    SignalKind,
)
from complaints.services import inbound
from complaints.workflow import Stage
from tests import factories
from tests.mail import SAMPLES, sample, with_attachment

pytestmark = pytest.mark.django_db

CUSTOMER = "priya@example.com"


@pytest.fixture
def complaint(csr):
    csr.email = "casey@example.com"
    csr.save()
    complaint = factories.complaint(csr, customer_email=CUSTOMER, channel="email")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    return complaint


def acknowledgment(complaint):
    return OutboundMessage.objects.get(complaint=complaint, kind=MessageKind.ACKNOWLEDGMENT)


def receive(raw, mailbox="test"):
    return services.inbound_receive(raw, mailbox=mailbox)


def from_customer(name):
    """A sample that names no complaint, sent from the customer's address."""
    return sample(name).replace(b"tomasz.nowak@example.net", CUSTOMER.encode())


def notifications(complaint):
    return OutboundMessage.objects.filter(complaint=complaint, kind=MessageKind.STAFF_NOTIFICATION)


def replied_for(complaint):
    """Who the case is marked "customer replied" for, unopened."""
    return list(
        Signal.objects.filter(
            complaint=complaint, kind=SignalKind.CUSTOMER_REPLIED, seen_at__isnull=True
        ).values_list("user__username", flat=True)
    )


# Threading ---------------------------------------------------------------------------------


def test_a_reply_to_our_email_is_threaded_by_its_headers_and_tells_the_assignee(complaint, csr):
    ack = acknowledgment(complaint)
    message = receive(sample("gmail_quoted_reply", sender=CUSTOMER, in_reply_to=ack.message_id))

    assert message.complaint == complaint
    assert message.status == InboundStatus.THREADED
    assert message.matched_by == MatchedBy.HEADERS
    assert message.body_text.startswith("Thank you. The second charge was on 3 December")
    # The assignee is told once, by the signal digest, not also by an email of its own.
    assert replied_for(complaint) == [csr.username]
    assert not notifications(complaint).exists()
    services.signals_notify()
    (told,) = notifications(complaint)
    assert told.recipient == "casey@example.com"
    assert told.subject == f"[Redress] {complaint.reference}: The customer replied"


def test_our_message_id_threads_whoever_replies(complaint):
    """Our Message-IDs cannot be guessed: a reply from the customer's other address (or a
    relative's) naming one belongs to that complaint."""
    ack = acknowledgment(complaint)
    message = receive(
        sample("gmail_quoted_reply", sender="priya.shah@work.example", in_reply_to=ack.message_id)
    )
    assert message.complaint == complaint
    assert message.matched_by == MatchedBy.HEADERS


def test_the_reference_in_an_encoded_word_subject_threads_an_html_only_email(complaint):
    message = receive(
        sample("outlook_html_only", sender=CUSTOMER, reference=complaint.reference.lower())
    )
    assert message.complaint == complaint
    assert message.matched_by == MatchedBy.SUBJECT
    assert message.subject == f"RE: My complaint {complaint.reference.lower()} – still waiting"
    assert "I am still waiting for the refund you promised." in message.body_text
    assert "alert" not in message.body_text and "MsoNormal" not in message.body_text


def test_the_complaints_reply_address_threads_an_email_without_headers_or_reference(complaint):
    message = receive(
        sample("apple_mail_inline_image", sender=CUSTOMER, reference=complaint.reference)
    )
    assert message.complaint == complaint
    assert message.matched_by == MatchedBy.REPLY_ADDRESS
    # 8-bit UTF-8 body and an encoded-word sender name, read as written.
    assert "the €45 charge appears twice. Café receipt" in message.body_text
    assert message.sender_name == "Priya Sháh"


def test_a_reference_from_someone_else_is_not_trusted_and_waits_for_staff(complaint, csr):
    """A reference is guessable: from another address the email waits for staff, who are
    shown the complaint it names."""
    message = receive(
        sample("outlook_html_only", sender="stranger@example.net", reference=complaint.reference)
    )
    assert message.status == InboundStatus.AWAITING_STAFF
    assert message.complaint is None
    assert not replied_for(complaint)
    (waiting,) = selectors.inbound_awaiting_staff(csr)
    assert waiting.suggestions == [complaint]


def test_unmatched_email_from_a_customer_with_an_open_complaint_is_offered_to_staff(
    complaint, csr, manager, client
):
    message = receive(from_customer("new_complaint"))
    assert message.status == InboundStatus.AWAITING_STAFF
    assert Complaint.objects.count() == 1

    client.force_login(manager)
    page = client.get(reverse("complaints:inbound"))
    assert page.status_code == 200
    assert f"Attach to {complaint.reference}" in page.content.decode()
    answer = client.post(
        reverse("complaints:inbound-attach", args=[message.pk]),
        {"reference": complaint.reference},
    )
    assert answer.status_code == 302
    message.refresh_from_db()
    assert message.status == InboundStatus.THREADED
    assert message.matched_by == MatchedBy.STAFF
    assert message.handled_by == manager
    # Its attachment arrives with it, and the assignee hears of it (the colleague who
    # attached it knows already).
    assert complaint.attachments.get().original_name == "bill.pdf"
    assert replied_for(complaint) == [csr.username]


def test_an_email_that_matches_nothing_becomes_a_new_acknowledged_complaint():
    message = receive(sample("new_complaint"))

    complaint = message.complaint
    assert message.status == InboundStatus.NEW_COMPLAINT
    assert complaint.channel == "email"
    assert complaint.stage == Stage.RECEIVED
    assert complaint.customer_name == "Tomasz Nowak"
    assert complaint.customer_email == "tomasz.nowak@example.net"
    assert complaint.description.startswith("My broadband has not worked since 28 November")
    assert complaint.assignee is None  # in the intake queue
    ack = acknowledgment(complaint)
    assert ack.recipient == "tomasz.nowak@example.net"
    assert complaint.attachments.get().content_type == "application/pdf"


def test_the_same_message_received_twice_is_stored_once():
    first = receive(sample("new_complaint"))
    again = receive(sample("new_complaint"))
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1
    assert Complaint.objects.count() == 1
    # The same Message-ID in another mailbox is another copy of it, stored as such.
    assert receive(sample("new_complaint"), mailbox="other").pk != first.pk


# Mail no person wrote ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out_of_office", "mailing_list"])
def test_automatic_mail_never_makes_a_complaint_an_acknowledgment_or_a_notification(
    name, complaint
):
    before = OutboundMessage.objects.count()
    message = receive(
        sample(
            name,
            sender=CUSTOMER,
            reference=complaint.reference,
            in_reply_to=acknowledgment(complaint).message_id,
        )
    )
    assert message.status == InboundStatus.AUTOMATIC
    assert Complaint.objects.count() == 1
    assert OutboundMessage.objects.count() == before


def test_an_out_of_office_from_a_stranger_makes_no_complaint():
    receive(sample("out_of_office", sender="someone@example.org", reference="", in_reply_to=""))
    assert not Complaint.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_an_echo_of_our_own_email_is_not_a_complaint():
    raw = sample("new_complaint").replace(
        b"From: Tomasz Nowak <tomasz.nowak@example.net>", b"From: Redress <complaints@example.com>"
    )
    assert receive(raw).status == InboundStatus.AUTOMATIC
    assert not Complaint.objects.exists()


def test_a_bounce_marks_our_email_undeliverable_and_tells_the_assignee(complaint):
    ack = acknowledgment(complaint)
    OutboundMessage.objects.filter(pk=ack.pk).update(
        status=MessageStatus.SENT, sent_at=ack.created_at
    )
    message = receive(
        sample(
            "bounce_dsn", sender=CUSTOMER, reference=complaint.reference, bounced_id=ack.message_id
        )
    )

    assert message.status == InboundStatus.BOUNCE
    assert message.bounced_message == ack
    ack.refresh_from_db()
    assert ack.status == MessageStatus.UNDELIVERABLE
    assert ack.last_error.startswith("5.1.1")
    (told,) = notifications(complaint)
    assert "could not be delivered" in told.body_text
    assert Complaint.objects.count() == 1
    timeline = selectors.complaint_timeline(complaint)
    assert any("could not be delivered: 5.1.1" in entry.body for entry in timeline)


# Attachments and HTML ---------------------------------------------------------------------


def test_attachments_pass_the_upload_checks(complaint):
    """An inline image is kept; Outlook's winmail.dat is refused with the upload's reason."""
    receive(sample("apple_mail_inline_image", sender=CUSTOMER, reference=complaint.reference))
    message = receive(sample("outlook_html_only", sender=CUSTOMER, reference=complaint.reference))

    assert Attachment.objects.get(complaint=complaint).content_type == "image/png"
    (note,) = message.attachment_notes
    assert note["name"] == "winmail.dat" and not note["stored"]
    assert "could not recognise" in note["reason"]


def test_an_attachment_over_the_cap_is_refused_and_the_email_kept(complaint, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    raw = with_attachment(
        sender=CUSTOMER, subject=f"Statement for {complaint.reference}", size=3 * 1024 * 1024
    )
    message = receive(raw)
    assert message.complaint == complaint
    assert message.body_text == "The full statement is attached."
    (note,) = message.attachment_notes
    assert not note["stored"] and "larger than" in note["reason"]
    assert not complaint.attachments.exists()


def test_the_email_page_shows_the_html_sanitised(complaint, csr, client):
    message = receive(sample("outlook_html_only", sender=CUSTOMER, reference=complaint.reference))
    client.force_login(csr)
    page = client.get(reverse("complaints:inbound-message", args=[message.pk])).content.decode()
    assert "I am still waiting for the refund you promised." in page
    for dangerous in ("alert(", "javascript:", "onload", "tracker.example", "<style"):
        assert dangerous not in page
    assert 'href="https://bank.example/statement"' in page


def test_safe_html_keeps_formatting_and_drops_everything_active():
    cleaned = mime.safe_html(
        '<p onclick="x()">Hi <b>there</b><img src="https://t.example/p.gif">'
        '<a href="javascript:x()">a</a></p><form><input></form><iframe src="/"></iframe>'
        "<svg><script>x()</script></svg>"
    )
    assert cleaned == '<p>Hi <b>there</b><a rel="noopener noreferrer nofollow">a</a></p>'


# Timeline, customer's link, permissions ------------------------------------------------


def test_the_reply_is_on_both_timelines(complaint):
    ack = acknowledgment(complaint)
    receive(sample("gmail_quoted_reply", sender=CUSTOMER, in_reply_to=ack.message_id))
    staff = [e for e in selectors.complaint_timeline(complaint) if e.kind == "customer"]
    assert staff[-1].title == "Email from the customer: Re: We have received your complaint"
    assert "card ending 4821" in staff[-1].body
    customer = [text for _, text in selectors.customer_timeline(complaint)]
    assert "You emailed us: Re: We have received your complaint" in customer


def test_the_list_of_emails_to_sort_is_for_the_intake_team_and_managers(
    client, csr, resolver, manager
):
    message = receive(sample("out_of_office", sender="x@example.org", reference="", in_reply_to=""))
    for user, status in ((csr, 200), (manager, 200), (resolver, 403)):
        client.force_login(user)
        assert client.get(reverse("complaints:inbound")).status_code == status
    client.force_login(resolver)
    page = client.get(reverse("complaints:inbound-message", args=[message.pk]))
    assert page.status_code == 404


def test_attaching_to_a_complaint_the_user_cannot_see_is_a_404(complaint, csr2, client, csr):
    message = receive(from_customer("new_complaint"))
    client.force_login(csr2)  # complaint is assigned to csr
    answer = client.post(
        reverse("complaints:inbound-attach", args=[message.pk]),
        {"reference": complaint.reference},
    )
    assert answer.status_code == 404
    message.refresh_from_db()
    assert message.status == InboundStatus.AWAITING_STAFF


def test_deliver_eml_feeds_the_same_service(complaint, capsys):
    call_command("deliver_eml", str(SAMPLES / "new_complaint.eml"))
    out = capsys.readouterr().out
    message = InboundMessage.objects.get()
    assert message.mailbox == inbound.COMMAND_MAILBOX
    assert f"Logged as a new complaint on {message.complaint.reference}" in out


def test_the_drop_folder_is_read_once_by_the_mailbox_job(tmp_path, settings):
    settings.INBOUND_DROP_FOLDER = str(tmp_path / "inbox")
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "new.eml").write_bytes(sample("new_complaint"))

    assert services.mailboxes_poll() == {"drop": {"stored": 1}}
    assert services.mailboxes_poll() == {"drop": {"stored": 0}}
    assert Complaint.objects.count() == 1
    assert (tmp_path / "inbox" / "done" / "new.eml").exists()


def test_a_message_the_service_cannot_read_is_kept_for_staff(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(inbound, "inbound_receive", broken)
    message = inbound._receive_or_keep(b"whatever", mailbox="test")
    assert message.status == InboundStatus.AWAITING_STAFF
    assert inbound.raw_path(message).read_bytes() == b"whatever"
