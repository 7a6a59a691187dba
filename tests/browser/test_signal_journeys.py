"""Hand-offs: when the customer answers through their link, the person who holds the case
sees it first in their queue, marked new, and counted at the top of their home page, until
they open it."""

import pytest
from playwright.sync_api import expect

from complaints import links, services
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, card, no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def resolvers_case(name, *, csr, resolver, manager, propose=True):
    """A case the resolver holds, proposed to the customer (or still in investigation), with
    nothing new on it for them yet."""
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager, customer_name=name
    )
    services.complaint_assign(complaint, actor=manager, assignee=resolver)
    services.signals_seen(complaint, resolver)
    if propose:
        services.resolution_propose(
            complaint, actor=resolver, type="apology", description="We are sorry; it is fixed."
        )
    return complaint


def test_the_customer_accepts_and_the_resolvers_queue_shows_it_first_marked_new(
    new_page, journey, csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    investigating = resolvers_case("Ivo Petrov", propose=False, **people)
    waiting = resolvers_case("Wen Li", **people)
    accepting = resolvers_case("Amara Obi", **people)
    steps = journey("07-hand-off-customer-accepts")

    customer = new_page(PHONE)
    customer.goto(links.customer_link(accepting))
    proposal = card(customer, "Our proposed resolution")
    proposal.get_by_label("I accept this resolution").check()
    proposal.get_by_role("button", name="Send my answer").click()
    expect(customer.get_by_role("status")).to_contain_text("We have your answer")
    steps.step(customer, "customer-accepted")

    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        sign_in(page, steps, resolver)
        news = page.get_by_role("region", name="New for you")
        expect(news).to_contain_text("The customer accepted the resolution: 1")
        mine = card(page, "My complaints")
        rows = mine.locator("tbody tr")
        expect(rows.first).to_contain_text(accepting.reference)
        expect(rows.first).to_contain_text("new")
        expect(rows.first).to_contain_text("customer accepted")
        # Without the mark, it would come last: after the investigation with a deadline
        # and the proposal made before it.
        expect(rows.nth(1)).to_contain_text(investigating.reference)
        expect(rows.nth(2)).to_contain_text(waiting.reference)
        expect(rows.nth(2)).to_contain_text("awaiting the customer")
        if viewport is PHONE:
            no_horizontal_scroll(page, PHONE["width"])
        steps.step(page, f"resolver-home-{viewport['width']}")

    rows.first.get_by_role("link", name=accepting.reference).click()
    expect(page.locator("main h1")).to_have_text(accepting.reference)
    expect(page.locator("main")).to_contain_text("Awaiting implementation")
    steps.step(page, "case-opened")

    page.goto("/")
    expect(page.get_by_role("region", name="New for you")).to_have_count(0)
    mine = card(page, "My complaints")
    expect(mine.locator("tbody tr").first).to_contain_text(investigating.reference)
    expect(mine.locator(".badge", has_text="new")).to_have_count(0)
    steps.step(page, "resolver-home-after-opening")


def test_a_reassigned_case_takes_the_customers_news_to_its_new_holder(
    new_page, journey, csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    complaint = resolvers_case("Noor Haddad", propose=False, **people)
    services.customer_information_add(complaint, text="I found the second receipt.")
    services.complaint_assign(complaint, actor=manager, assignee=csr)
    steps = journey("08-hand-off-reassigned")

    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        sign_in(page, steps, csr)
        news = page.get_by_role("region", name="New for you")
        expect(news).to_contain_text("The customer added information: 1")
        expect(news).to_contain_text("Assigned to you: 1")
        first = card(page, "My complaints").locator("tbody tr").first
        expect(first).to_contain_text(complaint.reference)
        expect(first).to_contain_text("new")
        expect(first).to_contain_text("customer replied")
        if viewport is PHONE:
            no_horizontal_scroll(page, PHONE["width"])
        steps.step(page, f"new-holder-home-{viewport['width']}")

    page = new_page(DESKTOP)
    sign_in(page, steps, resolver)
    expect(page.get_by_role("region", name="New for you")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(complaint.reference)
    steps.step(page, "previous-holder-home")
