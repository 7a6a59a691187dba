"""Letters: a reply composed like an email, made into a PDF on the firm's letterhead (WeasyPrint,
read back with pypdf), kept with the complaint's documents, queued for printing, never sent by
the relay, stored once per form, and marked posted once, by whom the timeline says."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from complaints import outbox, services
from complaints.models import Attachment, MessageChannel, MessageStatus, OutboundMessage
from complaints.selectors import complaint_timeline, customer_timeline
from complaints.workflow import Refused
from tests import factories

pytestmark = pytest.mark.django_db

ADDRESS = "12 Acacia Avenue\nSpringfield\nSP1 2AB"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def complaint(csr):
    complaint = factories.complaint(csr, customer_name="Priya Shah", customer_email="")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    return complaint


@pytest.fixture(autouse=True)
def _letterhead(settings):
    settings.FIRM_NAME = "Acme Savings Bank"
    settings.FIRM_ADDRESS = ["1 Market Square", "Shelbyville", "SH1 1AA"]


def letters(complaint):
    return OutboundMessage.objects.filter(complaint=complaint, channel=MessageChannel.LETTER)


def pdf_text(attachment):
    reader = PdfReader(io.BytesIO(attachment.path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def send_letter(complaint, actor, **overrides):
    arguments = {
        "subject": "Your complaint",
        "text": "Dear Priya,\n\nWe have refunded the second charge.\n\nAnn",
        "token": uuid.uuid4().hex,
        "channel": MessageChannel.LETTER,
        "postal_address": ADDRESS,
        **overrides,
    }
    return services.reply_send(complaint, actor=actor, **arguments)


def test_a_letter_is_a_pdf_on_the_letterhead_kept_with_the_documents(csr, complaint):
    letter = send_letter(complaint, csr)

    assert letter.status == MessageStatus.AWAITING_PRINT
    assert letter.sent_by == csr and letter.recipient == ""
    document = letter.letter
    assert document.complaint == complaint and document.uploaded_by == csr
    assert document.content_type == "application/pdf"
    assert document.original_name.startswith(f"Letter {complaint.reference}")
    text = pdf_text(document)
    for expected in (
        "Acme Savings Bank",
        "1 Market Square",
        "SH1 1AA",
        "Priya Shah",
        "12 Acacia Avenue",
        "SP1 2AB",
        f"Our reference: {complaint.reference}",
        "Your complaint",
        "We have refunded the second charge.",
        "Kind regards",
        f"{complaint.reference} · page 1 of 1",
    ):
        assert expected in text


def test_a_letter_to_a_customer_who_reads_spanish_is_printed_in_spanish(csr, complaint):
    complaint.preferred_language = "es"
    complaint.save(update_fields=["preferred_language"])
    letter = send_letter(
        complaint, csr, subject="Su reclamación", text="Le hemos devuelto el segundo cargo."
    )

    text = pdf_text(letter.letter)
    for expected in (
        f"Nuestra referencia: {complaint.reference}",
        "Le hemos devuelto el segundo cargo.",
        "Atentamente,",
        f"{complaint.reference} · página 1 de 1",
        f"Indique la referencia {complaint.reference}",
    ):
        assert expected in text
    assert "Kind regards" not in text and "Our reference" not in text


def test_the_relay_never_emails_a_letter(csr, complaint, mailoutbox):
    letter = send_letter(complaint, csr)
    assert letter.pk not in outbox.due_message_ids()
    assert not outbox.deliver(letter.pk)
    assert mailoutbox == []
    letter.refresh_from_db()
    assert letter.status == MessageStatus.AWAITING_PRINT


def test_what_staff_type_is_printed_as_text(csr, complaint):
    letter = send_letter(
        complaint,
        csr,
        text='<b>bold</b> <img src="file:///etc/passwd"> <link rel=stylesheet href="http://x">',
    )
    text = pdf_text(letter.letter)
    assert "<b>bold</b>" in text
    assert '<img src="file:///etc/passwd">' in text


def test_the_chosen_documents_are_listed_as_enclosures(csr, complaint):
    statement = services.attachment_add(
        complaint, actor=csr, upload=SimpleUploadedFile("statement.pdf", PDF)
    )
    letter = send_letter(complaint, csr, attachments=[statement])
    assert list(letter.attachments.all()) == [statement]
    assert "Enclosed: statement.pdf" in pdf_text(letter.letter)


def test_the_same_form_twice_makes_one_letter_and_one_pdf(client, csr, complaint):
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])
    form = {
        "channel": "letter",
        "postal_address": ADDRESS,
        "subject": "About your card",
        "text": "Dear Priya,\nWe refunded it.",
        "token": uuid.uuid4().hex,
        "send": "1",
    }
    first = client.post(url, form)
    again = client.post(url, form)
    assert first.status_code == again.status_code == 302
    (letter,) = letters(complaint)
    assert Attachment.objects.filter(complaint=complaint).count() == 1
    assert letter.postal_address == ADDRESS


def test_a_letter_without_an_address_is_refused_and_nothing_is_stored(client, csr, complaint):
    with pytest.raises(Refused, match="postal address"):
        send_letter(complaint, csr, postal_address="  \n ")
    client.force_login(csr)
    answer = client.post(
        reverse("complaints:reply", args=[complaint.pk]),
        {"channel": "letter", "subject": "x", "text": "y", "token": "a" * 32, "send": "1"},
    )
    assert answer.status_code == 400
    assert "Write the customer&#x27;s postal address." in answer.content.decode()
    assert not letters(complaint).exists()
    assert not Attachment.objects.filter(complaint=complaint).exists()


def test_a_customer_without_email_is_offered_a_letter_only(client, csr, complaint):
    client.force_login(csr)
    html = client.get(reverse("complaints:reply", args=[complaint.pk])).content.decode()
    assert 'value="letter"' in html and 'value="email"' not in html
    with pytest.raises(Refused, match="no email address"):
        send_letter(complaint, csr, channel=MessageChannel.EMAIL)


def test_the_next_letter_starts_from_the_last_address(client, csr, complaint):
    send_letter(complaint, csr)
    client.force_login(csr)
    html = client.get(reverse("complaints:reply", args=[complaint.pk])).content.decode()
    assert "12 Acacia Avenue\nSpringfield\nSP1 2AB</textarea>" in html


def test_marking_it_posted_happens_once_and_the_timeline_says_by_whom(client, csr, complaint):
    letter = send_letter(complaint, csr)
    (entry,) = [e for e in complaint_timeline(complaint) if e.title.startswith("Letter")]
    assert entry.title == "Letter to the customer: Your complaint"
    assert entry.letter and entry.actor.startswith(str(csr))
    assert "Queued for printing, to post to: 12 Acacia Avenue, Springfield, SP1 2AB" in entry.body

    client.force_login(csr)
    page = client.get(reverse("complaints:message", args=[letter.pk])).content.decode()
    assert reverse("complaints:attachment", args=[letter.letter_id]) in page
    assert "Mark printed and posted" in page
    url = reverse("complaints:letter-posted", args=[letter.pk])
    assert client.post(url).status_code == 302
    again = client.post(url, follow=True)
    assert "already marked as posted" in again.content.decode()

    letter.refresh_from_db()
    assert letter.status == MessageStatus.POSTED
    assert letter.posted_by == csr and letter.sent_at is not None
    (entry,) = [e for e in complaint_timeline(complaint) if e.title.startswith("Letter")]
    assert f"Printed and posted by {csr.get_full_name() or csr.username} on" in entry.body
    told = [text for _, text in customer_timeline(complaint)]
    assert "We wrote to you by post: Your complaint" in told


def test_who_may_not_write_on_the_complaint_may_not_mark_its_letter_posted(
    client, csr2, csr, complaint
):
    letter = send_letter(complaint, csr)
    client.force_login(csr2)  # the complaint is csr's
    assert client.post(reverse("complaints:letter-posted", args=[letter.pk])).status_code == 404
    with pytest.raises(Refused):
        services.letter_mark_posted(letter, actor=csr2)
    letter.refresh_from_db()
    assert letter.status == MessageStatus.AWAITING_PRINT


def test_an_email_cannot_be_marked_posted(csr):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    email = services.reply_send(complaint, actor=csr, subject="Hi", text="x", token="f" * 32)
    with pytest.raises(Refused, match="Only a letter"):
        services.letter_mark_posted(email, actor=csr)
