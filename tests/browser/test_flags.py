"""A flagged case on the home page and its own page at a laptop's and a phone's width: the
badge on the queue row, the case first in its queue, the Support needs card; and the
flag set and cleared from the case page.

Screenshots land in test-artifacts/screenshots/<journey>/; axe-core checks every page.
"""

import pytest
from playwright.sync_api import expect

from complaints import services
from complaints.models import CaseFlag
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, sign_in, unfolded

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_flagged_case_on_the_queue_and_its_page_at_laptop_and_phone_width(new_page, journey, csr):
    factories.complaint(csr, hours_ago=5, customer_name="Grace Okafor")
    flagged = factories.complaint(csr, hours_ago=1, customer_name="Chloe Bennett")
    services.flag_set(
        flagged,
        "vulnerable",
        actor=csr,
        reason="Lives alone; her telecare alarm runs over the broadband. Call, do not write.",
    )
    services.flag_set(flagged, "hardship", actor=csr, reason="Behind on two bills.")
    steps = journey("flags-queue-and-case")

    for viewport in (DESKTOP, PHONE):
        width = viewport["width"]
        page = new_page(viewport)
        sign_in(page, steps, csr)
        first_row = page.locator("section", has_text="Intake queue").locator("tbody tr").first
        expect(first_row).to_contain_text(flagged.reference)
        expect(first_row.get_by_text("vulnerable", exact=True)).to_be_visible()
        steps.step(page, f"home-{width}")
        no_horizontal_scroll(page, width)

        page.goto(f"/complaints/{flagged.pk}/")
        expect(page.get_by_role("heading", name="Support needs (staff only)")).to_be_visible()
        steps.step(page, f"case-{width}")
        no_horizontal_scroll(page, width)


def test_a_flag_set_and_cleared_from_the_case_page(page, journey, csr):
    complaint = factories.complaint(csr, assignee=None)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    steps = journey("flags-set-and-clear")
    sign_in(page, steps, csr)
    page.goto(f"/complaints/{complaint.pk}/")

    flag_fold = unfolded(page, "Flag a vulnerable customer or hardship")
    flag_fold.get_by_label("Flag").select_option("hardship")
    flag_fold.get_by_label("Why").fill("Lost their job in March.")
    steps.step(page, "flag-form")
    flag_fold.get_by_role("button", name="Set flag").click()
    expect(page.get_by_text("Flag set.")).to_be_visible()
    steps.step(page, "flagged")

    page.get_by_text("Clear this flag").click()
    page.get_by_label("Why is it cleared?").fill("Back in work.")
    page.get_by_role("button", name="Clear flag").click()
    expect(page.get_by_text("Flag cleared.")).to_be_visible()
    steps.step(page, "cleared")
    assert CaseFlag.objects.get().clear_reason == "Back in work."
