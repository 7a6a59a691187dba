"""The conversation on the customer's link: every message in and out, as plain text, oldest
first; and the customer's reply written there, received through the same inbound service as
their emails (threaded, the "customer replied" signal, the assignee told), once per form."""

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import reverse

from complaints import selectors, services
from complaints.models import (
    InboundMessage,
    InboundStatus,
    MatchedBy,
    MessageKind,
    OutboundMessage,
    Signal,
    SignalKind,
)
from complaints.services.inbound import LINK_MAILBOX, LINK_MESSAGE_MAX
from complaints.sub_status import SubStatus
from complaints.workflow import Refused
from tests import factories
from tests.complaints.test_customer_link import token_of
from tests.mail import sample

pytestmark = pytest.mark.django_db

CUSTOMER = "priya@example.com"
TOKEN = "a" * 32


@pytest.fixture
def complaint(csr):
    csr.email = "casey@example.com"
    csr.save()
    complaint = factories.complaint(csr, customer_name="Priya Shah", customer_email=CUSTOMER)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.message_deliver(complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT).pk)
    return complaint


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.delete("customer-reply:127.0.0.1")


def reply_url(complaint):
    return reverse("customer:reply", args=[token_of(complaint)])


def status_url(complaint):
    return reverse("customer:status", args=[token_of(complaint)])


def told_the_assignee(complaint):
    """The assignee hears of a reply from the signal digest, as of an emailed reply."""
    services.signals_notify()
    return OutboundMessage.objects.filter(
        complaint=complaint, kind=MessageKind.STAFF_NOTIFICATION, recipient="casey@example.com"
    )


def test_a_reply_on_the_link_is_received_like_an_emailed_reply(client, complaint, csr):
    response = client.post(
        reply_url(complaint),
        {"message": "The second charge is still there.\nSee my statement.", "submission": TOKEN},
    )

    assert response.status_code == 302
    assert response["Location"] == status_url(complaint) + "#conversation"
    (message,) = InboundMessage.objects.filter(complaint=complaint)
    assert (message.mailbox, message.status, message.matched_by) == (
        LINK_MAILBOX,
        InboundStatus.THREADED,
        MatchedBy.LINK,
    )
    assert message.sender == CUSTOMER
    assert message.subject == "The second charge is still there."
    assert message.body_text == "The second charge is still there.\nSee my statement."
    # What an emailed reply raises: the assignee's signal and sub-status, and its digest.
    assert Signal.objects.filter(
        complaint=complaint, user=csr, kind=SignalKind.CUSTOMER_REPLIED
    ).exists()
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.CUSTOMER_REPLIED
    (notification,) = told_the_assignee(complaint)
    assert notification.subject == f"[Redress] {complaint.reference}: The customer replied"
    # Staff read it on the timeline, marked as written on the link.
    entries = [e.title for e in selectors.complaint_timeline(complaint)]
    assert any(t.startswith("Written by the customer on their link") for t in entries)


def test_the_same_form_sent_twice_stores_one_message_and_tells_the_assignee_once(client, complaint):
    form = {"message": "Please call me after 5pm.", "submission": TOKEN}
    first = client.post(reply_url(complaint), form)
    second = client.post(reply_url(complaint), form)

    assert first.status_code == second.status_code == 302
    assert InboundMessage.objects.filter(complaint=complaint).count() == 1
    assert told_the_assignee(complaint).count() == 1
    # A new form (a new token) is a new message.
    client.post(reply_url(complaint), {**form, "submission": "b" * 32})
    assert InboundMessage.objects.filter(complaint=complaint).count() == 2


def test_the_service_returns_the_first_message_for_a_token_it_has_seen(complaint):
    first = services.inbound_receive_from_link(complaint, text="One", token=TOKEN)
    again = services.inbound_receive_from_link(complaint, text="One, edited", token=TOKEN)
    assert again.pk == first.pk
    assert InboundMessage.objects.get().body_text == "One"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"message": "", "submission": TOKEN}, "Please write your message."),
        ({"message": "   \n ", "submission": TOKEN}, "Please write your message."),
        (
            {"message": "x" * (LINK_MESSAGE_MAX + 1), "submission": TOKEN},
            f"Ensure this value has at most {LINK_MESSAGE_MAX} characters",
        ),
        ({"message": "Hello", "submission": "not a token!"}, "This form is damaged"),
    ],
    ids=["empty", "blank", "too-long", "damaged-token"],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, complaint, form, error):
    response = client.post(reply_url(complaint), form)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not InboundMessage.objects.exists()
    assert not told_the_assignee(complaint).exists()


def test_a_form_without_its_token_is_refused_with_a_message(client, complaint):
    response = client.post(reply_url(complaint), {"message": "Hello"}, follow=True)

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This form has expired. Please reload the page and write again."
    ]
    assert not InboundMessage.objects.exists()


def test_replies_beyond_the_hourly_limit_from_one_address_are_refused(client, complaint, settings):
    settings.CUSTOMER_REPLY_RATE_LIMIT = 2
    for number in range(2):
        form = {"message": f"Message {number}", "submission": f"{number}" * 32}
        assert client.post(reply_url(complaint), form).status_code == 302

    response = client.post(reply_url(complaint), {"message": "Third", "submission": "c" * 32})

    assert response.status_code == 429
    assert "several messages from this connection" in response.content.decode()
    assert InboundMessage.objects.count() == 2


def test_a_merged_complaint_takes_no_reply(complaint, csr):
    survivor = factories.complaint(csr, customer_email=CUSTOMER)
    complaint.duplicate_of = survivor
    complaint.save(update_fields=["duplicate_of"])
    with pytest.raises(Refused):
        services.inbound_receive_from_link(complaint, text="Hello", token=TOKEN)
    assert not InboundMessage.objects.exists()


def test_the_conversation_shows_every_message_in_and_out_oldest_first_as_text(client, complaint):
    ack = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    services.inbound_receive(
        sample("gmail_quoted_reply", sender=CUSTOMER, in_reply_to=ack.message_id),
        mailbox="test",
    )
    services.inbound_receive_from_link(
        complaint, text="<script>alert(1)</script> and <b>bold</b>", token=TOKEN
    )

    response = client.get(status_url(complaint))

    conversation = response.context["conversation"]
    assert [m.from_us for m in conversation] == [True, False, False]
    assert conversation[0].subject == f"We have received your complaint ({complaint.reference})"
    assert conversation[1].text.startswith("Thank you. The second charge was on 3 December")
    page = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<script>alert(1)" not in page
    assert page.index("We have received your complaint") < page.index("&lt;script&gt;")


def test_the_conversation_costs_the_same_queries_however_long(
    client, complaint, django_assert_max_num_queries
):
    client.get(status_url(complaint))  # sessions, the first time
    for number in range(3):
        services.inbound_receive_from_link(
            complaint, text=f"Short {number}", token=f"{number}" * 32
        )
    with django_assert_max_num_queries(30) as few:
        client.get(status_url(complaint))
    for number in range(3, 23):
        services.inbound_receive_from_link(
            complaint, text=f"Long {number}", token=f"{number:02}" * 16
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(status_url(complaint))
