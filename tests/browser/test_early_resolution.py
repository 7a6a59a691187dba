"""A case resolved early: the badge on its clocks panel and the list's filter, at a laptop's
and a phone's width.

Screenshots land in test-artifacts/screenshots/<journey>/; axe-core checks every page.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, sign_in
from tests.complaints.test_regulatory_clocks import profile

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_case_resolved_early_shows_its_badge_and_is_found_by_the_filter(
    new_page, journey, csr, resolver, manager, live_server
):
    profile("fca", active=True)
    early = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager, hours_ago=2
    )
    late = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager, hours_ago=24 * 30
    )
    steps = journey("early-resolution")

    for viewport in (DESKTOP, PHONE):
        width = viewport["width"]
        page = new_page(viewport)
        sign_in(page, steps, manager)
        page.goto(live_server.url + reverse("complaints:detail", args=[early.pk]))
        badge = page.locator("section[aria-labelledby=clocks] .early-resolution")
        expect(badge).to_have_text("Resolved early")
        badge.scroll_into_view_if_needed()
        steps.step(page, f"case-{width}")
        no_horizontal_scroll(page, width)

        page.goto(live_server.url + reverse("complaints:list"))
        page.get_by_label("Resolved early").check()
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("link", name=early.reference)).to_be_visible()
        expect(page.get_by_role("link", name=late.reference)).to_have_count(0)
        steps.step(page, f"list-{width}")
        no_horizontal_scroll(page, width)
