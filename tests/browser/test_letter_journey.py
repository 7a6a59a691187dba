"""A CSR answers a customer who has no email address by letter: template, address, preview,
send; the PDF is among the documents and the letter waits on the timeline until it is marked
posted. Screenshots at desktop and phone widths."""

import pytest
from playwright.sync_api import expect

from complaints import services
from complaints.models import MessageChannel, MessageStatus, OutboundMessage, ResponseTemplate
from tests import factories
from tests.browser.conftest import PHONE, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_csr_writes_a_letter_and_marks_it_posted(page, new_page, journey, csr):
    complaint = factories.complaint(csr, customer_name="Grace Okafor", customer_email="")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    ResponseTemplate.objects.create(
        name="Progress update",
        subject="An update on your complaint {{ reference }}",
        body="Dear {{ customer_name }},\n\nWe aim to answer by {{ resolution_target_date }}."
        "\n\n{{ staff_name }}",
    )
    steps = journey("letter-to-the-customer")
    sign_in(page, steps, csr)
    page.goto(f"/complaints/{complaint.pk}/")
    page.get_by_role("link", name="Write to the customer").click()
    expect(page.get_by_role("radio", name="Letter")).to_be_checked()
    page.get_by_role("button", name="Use this template").click()
    address = page.get_by_role("textbox", name="Postal address")
    address.fill("12 Acacia Avenue\nSpringfield\nSP1 2AB")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    steps.step(page, "letter-preview")

    page.get_by_role("button", name="Send to the customer").click()
    expect(page.get_by_role("status")).to_contain_text("Your letter is queued for printing")
    letter = OutboundMessage.objects.get(complaint=complaint, channel=MessageChannel.LETTER)
    expect(page.get_by_role("link", name=letter.letter.original_name)).to_be_visible()
    steps.step(page, "letter-on-the-timeline")

    page.get_by_role("link", name="Open the letter").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the letter (PDF) to print").click()
    assert download.value.suggested_filename.endswith(".pdf")
    # The pointer leaves the link, so the page is checked at rest, not mid-way through the
    # button's hover transition.
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement.blur()")
    page.wait_for_timeout(300)
    steps.step(page, "letter-queued-for-printing")
    page.get_by_role("button", name="Mark printed and posted").click()
    expect(page.get_by_role("status")).to_contain_text("The letter is marked as posted.")
    expect(page.get_by_role("button", name="Mark printed and posted")).to_have_count(0)
    steps.step(page, "letter-posted")
    letter.refresh_from_db()
    assert letter.status == MessageStatus.POSTED and letter.posted_by == csr

    phone = new_page(PHONE)
    sign_in(phone, steps, csr)
    phone.goto(f"/complaints/{complaint.pk}/reply/")
    no_horizontal_scroll(phone, PHONE["width"])
    steps.step(phone, "compose-on-a-phone")
    phone.goto(f"/complaints/messages/{letter.pk}/")
    no_horizontal_scroll(phone, PHONE["width"])
    steps.step(phone, "letter-on-a-phone")
