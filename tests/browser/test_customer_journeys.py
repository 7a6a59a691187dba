"""Customers, who have no account, on a phone (375 x 812): the public complaint form, and
the link in their email where they answer a proposal and give feedback once."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from complaints import services
from complaints.models import Complaint, Feedback, MessageKind, ResolutionStatus
from complaints.workflow import Stage
from tests import factories
from tests.browser.conftest import PHONE, MailCatcher, card, no_horizontal_scroll

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_customer_makes_a_complaint_on_a_phone(new_page, journey):
    factories.category()
    factories.product()
    steps = journey("06-public-complaint-on-a-phone")
    page = new_page(PHONE)

    page.goto("/complain/")
    expect(page.get_by_role("heading", name="Make a complaint")).to_be_visible()
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "form")

    page.get_by_label("Your name").fill("Lena Fischer")
    page.get_by_label("Your email address").fill("lena.fischer@example.com")
    page.get_by_label("Phone (optional)").fill("07700 900123")
    page.get_by_label("What is it about?").select_option(label="Billing error")
    page.get_by_label("Which product or service?").select_option(label="Credit card")
    page.get_by_label("What happened?").fill(
        "I was charged a late fee although I paid on time. Please refund it."
    )
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "form-filled")
    page.get_by_role("button", name="Send my complaint").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your complaint")
    complaint = Complaint.objects.get(customer_email="lena.fischer@example.com")
    expect(page.locator("main")).to_contain_text(f"Your reference is {complaint.reference}.")
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "thanks")
    # Counted by the rate limit in the test's own cache, not in the shared Redis.
    assert cache.get("public-complaint:127.0.0.1") == 1
    assert complaint.channel == "web"
    assert complaint.stage == Stage.RECEIVED
    assert complaint.logged_by is None


def test_customer_accepts_the_resolution_from_the_email_link_and_gives_feedback_once(
    new_page, journey, csr, mail, live_server
):
    complaint = factories.complaint(
        csr, customer_name="Priya Shah", customer_email="priya@example.com"
    )
    services.complaint_acknowledge(complaint, actor=csr, method="phone")
    services.complaint_transition(complaint, "investigating", actor=csr)
    services.note_add(complaint, actor=csr, text="The second charge was a processing error.")
    services.resolution_propose(
        complaint,
        actor=csr,
        type="refund",
        amount=42,
        description="We will refund the second charge of 42.00 within 5 working days.",
        customer_action="Nothing; the refund is automatic.",
    )
    # What beat's relay does: the acknowledgment (not needed any more: the customer was
    # acknowledged by phone) is cancelled, the proposal goes out by email.
    assert services.outbox_relay() == {"sent": 1, "still_pending": 1}
    [email] = mail.messages
    assert complaint.messages.get(kind=MessageKind.RESOLUTION).recipient == email["To"]
    assert "Dear Priya Shah," in MailCatcher.text_of(email)
    link = mail.link_in(email, live_server.url)

    steps = journey("05-customer-link-on-a-phone")
    page = new_page(PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("We have proposed a resolution")
    proposal = card(page, "Our proposed resolution")
    expect(proposal).to_contain_text("GBP 42.00")
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "proposal")

    proposal.get_by_label("I accept this resolution").check()
    proposal.get_by_label("Anything you would like us to know").fill("Thank you.")
    steps.step(page, "proposal-accepted-in-form")
    proposal.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("status")).to_contain_text("We have your answer")
    expect(card(page, "Our proposed resolution")).to_have_count(0)
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "answer-sent")
    assert complaint.resolutions.get().status == ResolutionStatus.ACCEPTED

    # The team implements it; the customer comes back through the same link.
    services.resolution_implement(complaint, actor=csr, notes="Refunded 42.00 to the card.")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("We have put the resolution in place")
    feedback = card(page, "How did we do?")
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "feedback-form")
    feedback.get_by_label("4", exact=True).check()
    feedback.get_by_label("Yes", exact=True).check()
    feedback.get_by_label("Anything you would like to add").fill("Quick and fair.")
    feedback.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for your feedback.")
    expect(card(page, "How did we do?")).to_have_count(0)
    steps.step(page, "feedback-sent")

    # A second visit: the feedback is in, the form does not come back.
    second = new_page(PHONE)
    second.goto(link)
    expect(second.get_by_role("heading", level=1)).to_have_text(
        "We have put the resolution in place"
    )
    expect(second.get_by_role("heading", name="How did we do?")).to_have_count(0)
    expect(second.locator("form[action$='/feedback/']")).to_have_count(0)
    no_horizontal_scroll(second, PHONE["width"])
    steps.step(second, "second-visit")

    [given] = Feedback.objects.filter(complaint=complaint)
    assert (given.score, given.resolved, given.recorded_by) == (4, True, None)
    complaint.refresh_from_db()
    assert complaint.stage == Stage.FOLLOW_UP
