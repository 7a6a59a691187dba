"""Mailgun's inbound route posts each email to /api/v1/inbound/mailgun/, signed; anymail checks
the signature and the email goes through the same inbound service as the IMAP mailboxes: a
bad signature stores nothing, the same email twice is stored once, and without a signing key
the address does not exist."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from complaints.models import Complaint, InboundMessage, InboundStatus
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound/mailgun/"
SIGNING_KEY = "key-test-0123456789abcdef"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.INBOUND_MAILGUN_SIGNING_KEY = SIGNING_KEY


def signed(fields, key=SIGNING_KEY):
    timestamp, token = str(int(time.time())), uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature.hexdigest()}


def mailgun_post(sender, subject, text, *, message_id, attachments=()):
    """What Mailgun's forward() posts for a received email, "fully parsed"."""
    headers = [
        ["From", f"Priya Shah <{sender}>"],
        ["To", "complaints@example.com"],
        ["Subject", subject],
        ["Message-Id", message_id],
        ["Date", "Sat, 05 Dec 2026 10:00:00 +0000"],
    ]
    fields = {
        "recipient": "complaints@example.com",
        "sender": sender,
        "from": f"Priya Shah <{sender}>",
        "subject": subject,
        "body-plain": text,
        "stripped-text": text,
        "message-headers": json.dumps(headers),
    }
    if attachments:
        fields["attachment-count"] = str(len(attachments))
        for number, (name, data) in enumerate(attachments, start=1):
            fields[f"attachment-{number}"] = SimpleUploadedFile(name, data, "application/pdf")
    return fields


def post(fields):
    # A server-to-server call: no session, no CSRF token.
    return Client(enforce_csrf_checks=True).post(URL, fields)


def test_a_signed_email_about_nothing_we_know_becomes_a_new_complaint():
    fields = mailgun_post(
        "new.customer@example.org",
        "My card was charged twice",
        "Please refund the second charge.",
        message_id="<first@example.org>",
        attachments=[("statement.pdf", PDF)],
    )
    answer = post(signed(fields))
    assert answer.status_code == 200
    message = InboundMessage.objects.get()
    assert (message.mailbox, message.message_id) == ("mailgun", "<first@example.org>")
    assert message.status == InboundStatus.NEW_COMPLAINT
    complaint = message.complaint
    assert complaint.channel == "email" and complaint.customer_email == "new.customer@example.org"
    assert "Please refund the second charge." in complaint.description
    assert [a.original_name for a in complaint.attachments.all()] == ["statement.pdf"]


def test_a_reply_threads_into_its_complaint(csr):
    complaint = factories.complaint(csr)
    fields = mailgun_post(
        complaint.customer_email,
        f"Re: {complaint.reference}",
        "Here is the receipt you asked for.",
        message_id="<reply@example.org>",
    )
    assert post(signed(fields)).status_code == 200
    message = InboundMessage.objects.get()
    assert message.complaint == complaint and message.status == InboundStatus.THREADED


def test_the_same_email_posted_twice_is_stored_once():
    fields = mailgun_post(
        "new.customer@example.org", "Hello", "Once only.", message_id="<twice@example.org>"
    )
    assert post(signed(fields)).status_code == 200
    assert post(signed(fields)).status_code == 200  # Mailgun's retry: a new signature
    assert InboundMessage.objects.count() == 1
    assert Complaint.objects.count() == 1


@pytest.mark.parametrize("key", ["key-of-someone-else", ""])
def test_a_bad_signature_is_refused_and_nothing_is_stored(key):
    fields = mailgun_post("x@example.org", "Hi", "Forged.", message_id="<forged@example.org>")
    forged = signed(fields, key=key or "x")
    if not key:
        del forged["signature"]
    assert post(forged).status_code == 400
    assert not InboundMessage.objects.exists()
    assert not Complaint.objects.exists()


def test_without_a_signing_key_the_address_does_not_exist(settings):
    settings.INBOUND_MAILGUN_SIGNING_KEY = ""
    fields = mailgun_post("x@example.org", "Hi", "Text.", message_id="<off@example.org>")
    assert post(signed(fields)).status_code == 404
    assert not InboundMessage.objects.exists()


def test_automatic_mail_through_the_webhook_opens_no_complaint():
    fields = mailgun_post(
        "someone@example.org", "Automatic reply: Out of office", "Back Monday.", message_id="<o@x>"
    )
    assert post(signed(fields)).status_code == 200
    assert InboundMessage.objects.get().status == InboundStatus.AUTOMATIC
    assert not Complaint.objects.exists()
