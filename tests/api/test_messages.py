"""The conversation through the API: listed both ways with delivery status and sanitised HTML,
and a reply sent (by email or letter) through the same service, once per Idempotency-Key."""

import pytest

from accounts.models import ApiTokenScope
from complaints import services
from complaints.models import (
    IdempotencyKey,
    MessageChannel,
    MessageKind,
    OutboundMessage,
    ResponseTemplate,
)
from tests import factories
from tests.api.conftest import error_fields, error_messages

pytestmark = pytest.mark.django_db

KEY = "5b0e6c1a-2f4d-4e8a-9c3b-7d6e5f4a3b2c"


@pytest.fixture
def complaint(csr):
    complaint = factories.complaint(csr, customer_name="Priya Shah")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    return complaint


def url(complaint):
    return f"/api/v1/complaints/{complaint.pk}/messages/"


def replies(complaint):
    return OutboundMessage.objects.filter(complaint=complaint, kind=MessageKind.REPLY)


def customer_email(complaint, message_id, html):
    raw = (
        f"From: Priya <{complaint.customer_email}>\r\nTo: complaints@example.com\r\n"
        f"Message-ID: {message_id}\r\nSubject: Re: {complaint.reference}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"{html}\r\n"
    )
    return services.inbound_receive(raw.encode(), mailbox="test")


def test_the_list_has_both_directions_oldest_first_with_status_and_sanitised_html(
    api, csr, complaint
):
    services.reply_send(complaint, actor=csr, subject="Hello", text="Our answer.", token="a" * 32)
    customer_email(
        complaint, "<theirs@example.org>", '<p onclick="x()">Thanks</p><script>alert(1)</script>'
    )
    answer = api(csr).get(url(complaint))
    assert answer.status_code == 200
    (ours,) = [row for row in answer.json()["results"] if "Hello" in row["subject"]]
    assert ours["direction"] == "outbound" and ours["channel"] == "email"
    assert ours["status"] == "pending" and ours["status_text"].startswith("Not sent yet")
    assert ours["sent_by"]["id"] == csr.pk
    assert "[the customer's own link]" in ours["body_text"]
    theirs = answer.json()["results"][-1]
    assert theirs["direction"] == "inbound" and theirs["status"] == "threaded"
    assert "<script>" not in theirs["body_html"] and "onclick" not in theirs["body_html"]
    assert "Thanks" in theirs["body_html"]
    kinds = [row["direction"] for row in answer.json()["results"]]
    assert kinds.index("inbound") > kinds.index("outbound")


def test_the_list_is_paginated(api, csr, complaint):
    for number in range(3):
        services.reply_send(
            complaint, actor=csr, subject=f"Note {number}", text="x", token=f"{number}" * 32
        )
    first = api(csr).get(url(complaint), {"page_size": 2})
    assert len(first.json()["results"]) == 2 and first.json()["next"]
    second = api(csr).get(url(complaint), {"page_size": 2, "page": 2})
    assert second.json()["next"] is None


def test_a_reply_by_email_is_sent_once_per_idempotency_key(api, csr, complaint):
    client = api(csr)
    body = {"subject": "About your card", "body": "We refunded it."}
    first = client.post(url(complaint), body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = client.post(url(complaint), body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    (reply,) = replies(complaint)
    assert first.json()["id"] == reply.pk and reply.sent_by == csr
    assert IdempotencyKey.objects.get().complaint == complaint

    other = client.post(
        url(complaint), {**body, "body": "Something else."}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert other.status_code == 409
    assert error_fields(other) == ["Idempotency-Key"]
    assert replies(complaint).count() == 1

    assert client.post(url(complaint), body, format="json").status_code == 201
    assert replies(complaint).count() == 2


def test_a_template_fills_what_is_left_out(api, csr, complaint):
    template = ResponseTemplate.objects.create(
        name="Progress", subject="Update on {{ reference }}", body="Dear {{ customer_name }},"
    )
    answer = api(csr).post(url(complaint), {"template": template.pk}, format="json")
    assert answer.status_code == 201
    (reply,) = replies(complaint)
    assert reply.subject.startswith(f"Update on {complaint.reference}")
    assert reply.body_text.startswith("Dear Priya Shah,")


def test_a_letter_through_the_api_is_queued_for_printing(api, csr, complaint):
    answer = api(csr).post(
        url(complaint),
        {
            "subject": "Your complaint",
            "body": "We refunded it.",
            "channel": "letter",
            "postal_address": "12 Acacia Avenue\nSpringfield",
        },
        format="json",
    )
    assert answer.status_code == 201
    data = answer.json()
    assert (data["channel"], data["status"]) == ("letter", "awaiting_print")
    assert data["recipient"] == "12 Acacia Avenue\nSpringfield"
    letter = OutboundMessage.objects.get(pk=data["id"], channel=MessageChannel.LETTER)
    assert data["document"] == letter.letter_id


def test_bad_input_is_400_naming_the_field_and_sends_nothing(api, csr, complaint):
    client = api(csr)
    assert error_fields(client.post(url(complaint), {"subject": "x"}, format="json")) == [None]
    wrong = client.post(
        url(complaint), {"subject": "x", "body": "y", "channel": "pigeon"}, format="json"
    )
    assert error_fields(wrong) == ["channel"]
    no_address = client.post(
        url(complaint), {"subject": "x", "body": "y", "channel": "letter"}, format="json"
    )
    assert no_address.status_code == 409
    assert "postal address" in error_messages(no_address)[0]
    assert not replies(complaint).exists()


def test_others_cannot_see_or_write(api, csr2, resolver, complaint):
    assert api(csr2).get(url(complaint)).status_code == 404
    body = {"subject": "x", "body": "y"}
    assert api(csr2).post(url(complaint), body, format="json").status_code == 404
    assert api().get(url(complaint)).status_code == 401
    assert not replies(complaint).exists()


def test_a_read_only_token_lists_but_cannot_write(api, csr, complaint):
    reader = api(csr, scope=ApiTokenScope.READ)
    assert reader.get(url(complaint)).status_code == 200
    assert (
        reader.post(url(complaint), {"subject": "x", "body": "y"}, format="json").status_code == 403
    )
    assert not replies(complaint).exists()


def test_the_openapi_description_documents_the_messages_and_the_inbound_webhook(api, csr):
    paths = api(csr).get("/api/v1/schema/?format=json").json()["paths"]
    messages = paths["/api/v1/complaints/{id}/messages/"]
    assert {"get", "post"} <= set(messages)
    assert any(p["name"] == "Idempotency-Key" for p in messages["post"]["parameters"])
    webhook = paths["/api/v1/inbound/mailgun/"]["post"]
    assert webhook["security"] == [] and "signature" in webhook["description"]
