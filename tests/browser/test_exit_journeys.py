"""The exits in a real browser: a CSR merges a complaint the customer sent twice into the one
already under investigation, confirming on a page that shows both; the customer is emailed
once and each of their links says what happened.

Screenshots under test-artifacts/screenshots/<journey>/, axe-core on every page.
"""

import pytest
from playwright.sync_api import expect

from complaints import links, services
from complaints.models import Complaint
from complaints.workflow import Stage
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, card, no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_csr_merges_a_complaint_sent_twice_and_the_customer_is_told_once(
    new_page, journey, mail, live_server, csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    survivor = factories.complaint_at_stage("investigating", customer_name="Ines Duarte", **people)
    duplicate = factories.complaint(
        csr, customer_name="Ines Duarte", description="Charged twice again, see my statement."
    )
    services.complaint_assign(duplicate, actor=csr, assignee=csr)
    services.note_add(duplicate, actor=csr, text="She called back about the same charge.")
    services.outbox_relay()  # the duplicate's acknowledgment goes, as on any day
    mail.messages.clear()
    steps = journey("exits-merge-two-cases")

    page = new_page(DESKTOP)
    sign_in(page, steps, csr)
    page.goto(f"/complaints/{duplicate.pk}/")
    exits = card(page, "Close without a resolution")
    expect(exits).to_be_visible()
    # Folded: the forms are hidden until their summary is opened, by keyboard here.
    reference_box = page.get_by_label("Reference of the complaint it duplicates")
    expect(reference_box).to_be_hidden()
    steps.step(page, "duplicate-case-page")
    summary = exits.get_by_text("It duplicates another complaint")
    summary.focus()
    page.keyboard.press("Enter")
    expect(reference_box).to_be_visible()
    reference_box.fill(survivor.reference)
    exits.get_by_label("Note (optional)").fill("Same double charge, she wrote twice.")
    steps.step(page, "merge-form-open")
    exits.get_by_role("button", name="Check the merge").click()

    heading = f"Merge {duplicate.reference} into {survivor.reference}?"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("main")).to_contain_text("closes as duplicate")
    expect(page.locator("main")).to_contain_text("stays open")
    expect(page.locator("main")).to_contain_text("1 note")
    assert Complaint.objects.get(pk=duplicate.pk).stage == Stage.ACKNOWLEDGED
    steps.step(page, "merge-confirmation")
    merge = f"Merge {duplicate.reference} into {survivor.reference}"
    page.get_by_role("button", name=merge).click()

    expect(page.locator("main")).to_contain_text("Merged; the complaint is closed as a duplicate.")
    expect(page.locator("main h1 + .badge")).to_have_text("Duplicate")
    expect(page.locator("main")).to_contain_text(f"Duplicate of {survivor.reference}")
    expect(card(page, "Close without a resolution")).to_have_count(0)
    steps.step(page, "duplicate-closed")

    page.locator("main .alert").get_by_role("link", name=survivor.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(survivor.reference)
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(f"{duplicate.reference} merged into this complaint")
    expect(timeline).to_contain_text("She called back about the same charge.")
    expect(page.locator("main")).to_contain_text("Merged into this complaint as duplicates:")
    steps.step(page, "survivor-with-the-moved-record")

    phone = new_page(PHONE)
    sign_in(phone, steps, csr)
    phone.goto(f"/complaints/{survivor.pk}/")
    no_horizontal_scroll(phone, PHONE["width"])
    steps.step(phone, "survivor-at-375")

    # The relay sends what the merge queued: one email about it, whatever runs twice.
    services.outbox_relay()
    services.outbox_relay()
    notices = [m for m in mail.messages if "are now one" in m["Subject"]]
    assert len(notices) == 1
    assert notices[0]["To"] == "priya@example.com"

    customer = new_page(PHONE)
    customer.goto(mail.link_in(notices[0], live_server.url))
    expect(customer.locator("main")).to_contain_text(survivor.reference)
    steps.step(customer, "customer-follows-the-survivor")
    customer.goto(links.customer_link(Complaint.objects.get(pk=duplicate.pk)))
    expect(customer.locator("main")).to_contain_text("so we have joined them")
    steps.step(customer, "customer-duplicate-link")
    customer.get_by_role("link", name=f"Follow your complaint {survivor.reference}").click()
    expect(customer.locator("main")).to_contain_text(survivor.reference)
