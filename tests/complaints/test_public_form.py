"""The public complaint form: what a customer's submission creates, what the server refuses
whatever the browser did, the honeypot, and the per-address rate limit (on the real Redis
cache)."""

import secrets
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from complaints.input_limits import DAY_MESSAGE
from complaints.models import Category, Complaint, MessageKind, OutboundMessage, StageChange
from tests import factories

pytestmark = pytest.mark.django_db

FORM = reverse("public-complaint")
# In the language the complaint was made in (English here), whatever the browser says.
THANKS = reverse("public-complaint-thanks") + "?lang=en"


@pytest.fixture
def address(client):
    """A client address of this test alone: the Redis database is shared with other runs,
    so the rate-limit counter must not be one they also count on."""
    value = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    key = f"public-complaint:{value}"
    cache.delete(key)
    client.defaults["REMOTE_ADDR"] = value
    yield value
    cache.delete(key)


def form_data(**overrides):
    data = {
        "customer_name": "Priya Shah",
        "customer_email": "priya@example.com",
        "customer_phone": "",
        "category": factories.category().pk,
        "product": factories.product().pk,
        "date_of_complaint": timezone.localdate().isoformat(),
        "transaction_reference": "TX-4471",
        "description": "I was charged twice for one purchase.",
        "website": "",
    }
    data.update(overrides)
    return data


def assert_nothing_created():
    assert not Complaint.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_submission_logs_a_web_complaint_shows_its_reference_and_queues_one_acknowledgment(
    client, address
):
    response = client.post(FORM, form_data(), follow=True)

    assert response.redirect_chain == [(THANKS, 302)]
    complaint = Complaint.objects.get()
    assert complaint.channel == "web"
    assert complaint.logged_by is None
    assert complaint.customer_name == "Priya Shah"
    assert complaint.customer_email == "priya@example.com"
    assert complaint.description == "I was charged twice for one purchase."
    assert complaint.stage == "received"
    page = response.content.decode()
    assert f'Your reference is <strong class="text-nowrap">{complaint.reference}</strong>' in page
    [message] = OutboundMessage.objects.all()
    assert message.complaint == complaint
    assert message.kind == MessageKind.ACKNOWLEDGMENT
    assert message.recipient == "priya@example.com"
    change = StageChange.objects.get(complaint=complaint)
    assert change.actor is None
    assert change.note == "Logged via web"

    # The reference is shown once; reloading the thanks page does not show it again.
    again = client.get(THANKS).content.decode()
    assert complaint.reference not in again


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        pytest.param(
            {"customer_email": ""}, "customer_email", "This field is required.", id="email"
        ),
        pytest.param(
            {"date_of_complaint": (timezone.localdate() + timedelta(days=1)).isoformat()},
            "date_of_complaint",
            "The date cannot be in the future.",
            id="future-date",
        ),
        pytest.param(
            {"date_of_complaint": "0001-01-01"},
            "date_of_complaint",
            DAY_MESSAGE,
            id="day-out-of-range",
        ),
        pytest.param(
            {"customer_name": "Priya\r\nBcc: victim@example.com"},
            "customer_name",
            "Please keep this on one line.",
            id="crlf-name",
        ),
        pytest.param(
            {"customer_name": "Priya\nShah"},
            "customer_name",
            "Please keep this on one line.",
            id="lf-name",
        ),
    ],
)
def test_server_side_validation_shows_the_field_error_and_creates_nothing(
    client, address, overrides, field, error
):
    response = client.post(FORM, form_data(**overrides))

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [error]}
    assert error in response.content.decode()
    assert_nothing_created()


def test_filled_honeypot_gets_the_thanks_page_but_nothing_is_created(client, address):
    response = client.post(FORM, form_data(website="http://cheap-pills.example"), follow=True)

    assert response.redirect_chain == [(THANKS, 302)]
    assert "Thank you, we have your complaint" in response.content.decode()
    assert "Your reference is" not in response.content.decode()
    assert_nothing_created()


def test_more_submissions_than_the_limit_from_one_address_are_refused(client, address, settings):
    settings.PUBLIC_FORM_RATE_LIMIT = 2

    accepted = [client.post(FORM, form_data(description=f"Complaint number {n}.")) for n in (1, 2)]
    refused = [client.post(FORM, form_data(description=f"Complaint number {n}.")) for n in (3, 4)]

    assert [r.status_code for r in accepted] == [302, 302]
    assert [r.status_code for r in refused] == [429, 429]
    assert "We have received several complaints from this connection" in (
        refused[0].content.decode()
    )
    assert sorted(Complaint.objects.values_list("description", flat=True)) == [
        "Complaint number 1.",
        "Complaint number 2.",
    ]
    assert OutboundMessage.objects.count() == 2

    # Another address is not held back by this one.
    other = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    try:
        response = client.post(FORM, form_data(description="From elsewhere."), REMOTE_ADDR=other)
        assert response.status_code == 302
    finally:
        cache.delete(f"public-complaint:{other}")
    assert Complaint.objects.count() == 3


def test_the_form_is_public_and_lists_only_top_level_categories(client, address):
    top = factories.category("Card payments")
    Category.objects.create(name="Hidden sub-issue", parent=top)

    response = client.get(FORM)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Card payments" in page
    assert "Hidden sub-issue" not in page


def test_the_reference_travels_in_a_signed_cookie_not_the_session(client, address):
    """After the complaint is committed nothing else touches the database: a database lost
    at that moment must not turn a saved complaint into a "not saved" page."""
    response = client.post(FORM, form_data())

    assert response.status_code == 302
    assert not Session.objects.exists()
    reference = Complaint.objects.get().reference
    assert response.cookies["complaint_reference"].value.startswith(f"{reference}:")
    assert response.cookies["complaint_reference"]["httponly"]


def test_a_forged_reference_cookie_shows_no_reference(client):
    client.cookies["complaint_reference"] = "CMP-2026-000042"

    page = client.get(THANKS).content.decode()

    assert "CMP-2026-000042" not in page
