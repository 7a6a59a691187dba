"""Staff write to the customer from the complaint: a response template filled in safely,
edited, previewed, sent once however often the form is submitted, with the complaint's
documents, and on the timeline with who sent it."""

import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints import outbox, services
from complaints.models import MessageKind, OutboundMessage, ResponseTemplate
from complaints.placeholders import fill, unknown_placeholders
from complaints.selectors import complaint_timeline
from complaints.workflow import Refused
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def complaint(csr):
    complaint = factories.complaint(csr, customer_name="Priya <b>Shah</b>")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    return complaint


@pytest.fixture
def template():
    return ResponseTemplate.objects.create(
        name="Progress",
        subject="Update on {{ reference }}",
        body="Dear {{customer_name}},\nWe aim to answer by {{ resolution_target_date }}.\n"
        "{{ complaint.customer_token }} {{ settings.SECRET_KEY }}\n{{ staff_name }}",
    )


def replies(complaint):
    return OutboundMessage.objects.filter(complaint=complaint, kind=MessageKind.REPLY)


def test_placeholders_are_substituted_and_nothing_else_is_evaluated():
    text = "{{ customer_name }} {{reference}} {{ complaint.customer_token }} {% load x %}"
    assert fill(text, {"customer_name": "Ann", "reference": "CMP-1"}) == (
        "Ann CMP-1 {{ complaint.customer_token }} {% load x %}"
    )
    assert unknown_placeholders(text) == []  # "complaint.customer_token" is not a name at all
    assert unknown_placeholders("{{ secret_key }} {{ reference }}") == ["secret_key"]


def test_a_template_with_an_unknown_placeholder_is_refused_in_the_admin():
    template = ResponseTemplate(name="Bad", subject="Hi {{ password }}", body="x")
    with pytest.raises(ValidationError, match="Unknown placeholder: password"):
        template.full_clean()


def test_compose_fills_the_template_in_and_shows_it_escaped(client, csr, complaint, template):
    client.force_login(csr)
    page = client.get(reverse("complaints:reply", args=[complaint.pk]), {"template": template.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'value="Update on {complaint.reference}"' in html
    assert "Dear Priya &lt;b&gt;Shah&lt;/b&gt;," in html
    target = complaint.resolution_target_date
    assert f"We aim to answer by {target:%-d %B %Y}." in html
    assert "{{ complaint.customer_token }}" in html and complaint.customer_token not in html


def test_preview_then_send_stores_one_message_and_a_double_submit_sends_nothing_more(
    client, csr, complaint
):
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])
    form = {
        "subject": "About your card",
        "text": "Dear Priya,\nWe refunded it.",
        "token": uuid.uuid4().hex,
    }

    preview = client.post(url, {**form, "preview": "1"})
    assert preview.status_code == 200
    assert "Preview: About your card" in preview.content.decode()
    assert not replies(complaint).exists()

    first = client.post(url, {**form, "send": "1"})
    again = client.post(url, {**form, "send": "1"})
    assert first.status_code == again.status_code == 302
    (reply,) = replies(complaint)
    assert reply.sent_by == csr
    assert reply.subject == f"About your card ({complaint.reference})"
    assert reply.body_text.startswith("Dear Priya,\nWe refunded it.")
    assert reply.recipient == complaint.customer_email

    # A new form (a new token) is a new message.
    client.post(url, {**form, "token": uuid.uuid4().hex, "send": "1"})
    assert replies(complaint).count() == 2


def test_a_reply_goes_out_with_the_chosen_documents_and_our_reply_address(
    csr, complaint, mailoutbox, settings
):
    document = services.attachment_add(
        complaint, actor=csr, upload=SimpleUploadedFile("statement.pdf", PDF)
    )
    reply = services.reply_send(
        complaint,
        actor=csr,
        subject="Your statement",
        text="Attached.",
        attachments=[document],
        token=uuid.uuid4().hex,
    )
    assert outbox.deliver(reply.pk)
    (email,) = mailoutbox
    assert email.attachments[0][0] == "statement.pdf"
    assert email.attachments[0][1] == PDF
    assert email.extra_headers["Message-ID"] == reply.message_id
    assert email.extra_headers["Reply-To"].endswith(
        f"complaints+{complaint.reference}@example.com>"
    )


def test_only_the_complaints_own_documents_can_go_with_it(csr, complaint):
    other = factories.complaint(csr)
    foreign = services.attachment_add(other, actor=csr, upload=SimpleUploadedFile("other.pdf", PDF))
    with pytest.raises(Refused):
        services.reply_send(
            complaint, actor=csr, subject="x", text="y", attachments=[foreign], token="a" * 32
        )
    assert not replies(complaint).exists()


def test_the_timeline_shows_the_reply_and_who_sent_it(csr, complaint):
    services.reply_send(complaint, actor=csr, subject="Hello", text="Our answer.", token="b" * 32)
    (entry,) = [e for e in complaint_timeline(complaint) if e.title.startswith("Reply")]
    assert entry.title == f"Reply to the customer: Hello ({complaint.reference})"
    assert entry.actor.startswith(str(csr))
    assert "Our answer." in entry.body


def test_who_may_not_add_a_note_may_not_write_to_the_customer(client, csr2, complaint):
    client.force_login(csr2)  # the complaint is csr's
    url = reverse("complaints:reply", args=[complaint.pk])
    assert client.get(url).status_code == 404
    answer = client.post(url, {"subject": "x", "text": "y", "token": "c" * 32, "send": "1"})
    assert answer.status_code == 404
    assert not replies(complaint).exists()


def test_a_tampered_token_is_refused_with_a_message(client, csr, complaint):
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])
    answer = client.post(url, {"subject": "x", "text": "y", "token": "nope", "send": "1"})
    assert answer.status_code == 400
    assert "This form has expired" in answer.content.decode()
    assert not replies(complaint).exists()


def test_the_case_page_links_to_the_compose_page(client, csr, complaint):
    client.force_login(csr)
    html = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert re.search(rf'href="{reverse("complaints:reply", args=[complaint.pk])}"', html)


def test_what_staff_type_is_text_in_the_html_email(csr, complaint):
    reply = services.reply_send(
        complaint,
        actor=csr,
        subject="Hi\r\nBcc: all@example.com",
        text="<script>alert(1)</script>\nSecond line",
        token="d" * 32,
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line" in reply.body_html
    assert "<script>" not in reply.body_html
    assert "\n" not in reply.subject and "\r" not in reply.subject


def test_a_reply_names_the_customers_latest_email_so_it_threads_for_them(
    csr, complaint, mailoutbox
):
    raw = (
        b"From: Priya <priya@example.com>\r\nTo: complaints@example.com\r\n"
        b"Message-ID: <their-email@example.org>\r\n"
        b"Subject: Re: " + complaint.reference.encode() + b"\r\n\r\nStill waiting.\r\n"
    )
    assert services.inbound_receive(raw, mailbox="test").complaint == complaint
    reply = services.reply_send(complaint, actor=csr, subject="Sorry", text="Soon.", token="e" * 32)
    assert outbox.deliver(reply.pk)
    headers = mailoutbox[-1].extra_headers
    assert headers["In-Reply-To"] == headers["References"] == "<their-email@example.org>"
