"""Each role's home and the complaint page at a laptop's and a phone's width, and one case
carried from follow-up to sign-off on the page's own next steps.

Screenshots land in test-artifacts/screenshots/<journey>/; axe-core checks every page.
"""

import pytest
from playwright.sync_api import expect

from complaints import services
from complaints.workflow import Stage
from tests import factories
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    card,
    fold,
    no_horizontal_scroll,
    sign_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def top_of(page, selector):
    return page.locator(selector).first.bounding_box()["y"]


def assert_row_fits(page, complaint, width):
    """The queue row shows the complaint's reference, customer, stage and the action, each
    inside the screen's width."""
    row = page.get_by_role("row", name=complaint.reference).first
    shown = [
        row.get_by_role("link", name=complaint.reference),
        row.get_by_text(complaint.customer_name),
        row.get_by_text(complaint.stage_label, exact=True),
        row.get_by_role("button", name=f"Take {complaint.reference}"),
    ]
    for element in shown:
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, element


def test_each_roles_home_and_their_case_at_laptop_and_phone_width(
    new_page, journey, csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    factories.root_cause("Duplicate card authorisation")
    intake = factories.complaint(
        csr, customer_name="Grace Okafor", customer_email="", customer_phone="020 7946 0018"
    )
    follow_up = factories.complaint_at_stage("follow_up", customer_name="Tomasz Nowak", **people)
    escalated = factories.complaint_at_stage("investigating", customer_name="Amara Singh", **people)
    services.complaint_escalate(escalated, actor=csr, level="team", reason="Processor records.")
    documented = factories.complaint_at_stage("documented", customer_name="Ines Duarte", **people)
    cases = {"csr": follow_up, "resolver": escalated, "manager": documented}
    steps = journey("06-homes-and-case-pages")

    for role, user in people.items():
        for viewport in (DESKTOP, PHONE):
            width = viewport["width"]
            page = new_page(viewport)
            sign_in(page, steps, user)
            if role == "csr":
                assert_row_fits(page, intake, width)
            steps.step(page, f"{role}-home-{width}")
            no_horizontal_scroll(page, width)

            page.goto(f"/complaints/{cases[role].pk}/")
            expect(page.locator("nav[aria-label='Stages of the complaint']")).to_be_visible()
            steps.step(page, f"{role}-case-{width}")
            no_horizontal_scroll(page, width)
            # The next step before the timeline, wherever the screen puts them.
            if width == PHONE["width"]:
                assert top_of(page, "#next-step") < top_of(page, "#record")
                assert top_of(page, "#next-step") < top_of(page, "#timeline-title")


def test_a_case_goes_from_follow_up_to_sign_off_on_its_next_steps(
    new_page, journey, csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    factories.root_cause("Duplicate card authorisation")
    complaint = factories.complaint_at_stage("follow_up", customer_name="Tomasz Nowak", **people)
    steps = journey("07-follow-up-to-sign-off")
    page = new_page(PHONE)
    sign_in(page, steps, csr)
    page.goto(f"/complaints/{complaint.pk}/")

    next_step = card(page, "Next step: Documented")
    mark = next_step.get_by_role("button", name="Mark documented")
    expect(mark).to_be_disabled()
    expect(next_step).to_contain_text("Needs root cause, the outcome and customer feedback first.")
    steps.step(page, "follow-up-needs-three-things")

    # A folded action opens from the keyboard.
    note = fold(page, "Add a note")
    expect(note.get_by_label("Note")).to_be_hidden()
    note.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(note.get_by_label("Note")).to_be_visible()

    next_step.get_by_label("Root cause").select_option(label="Duplicate card authorisation")
    next_step.get_by_role("button", name="Set root cause").click()
    expect(page.get_by_role("status")).to_contain_text("Root cause set.")
    next_step = card(page, "Next step: Documented")
    next_step.get_by_label("Outcome (House rules)").select_option(label="Partly upheld")
    next_step.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status")).to_contain_text("Outcome recorded.")
    next_step = card(page, "Next step: Documented")
    next_step.get_by_label("Satisfaction (1 to 5)").select_option("4")
    next_step.get_by_label("Is the issue resolved?").select_option(label="Yes")
    next_step.get_by_role("button", name="Record feedback").click()
    expect(page.get_by_role("status")).to_contain_text("Feedback recorded.")
    steps.step(page, "ready-to-document")

    card(page, "Next step: Documented").get_by_role("button", name="Mark documented").click()
    expect(page.locator("main h1 + .badge")).to_have_text("Documented")
    expect(card(page, "Next step: Reviewed")).to_contain_text(
        "Waiting for a manager's review and sign-off."
    )
    steps.step(page, "documented")

    page = new_page(DESKTOP)
    sign_in(page, steps, manager)
    page.goto(f"/complaints/{complaint.pk}/")
    review = card(page, "Next step: Reviewed")
    review.get_by_label("Quality notes").fill("Refund handled on the day; well explained.")
    review.get_by_label("Lessons").fill("Check the processor's log first.")
    review.get_by_role("button", name="Sign off").click()
    expect(page.locator("main h1 + .badge")).to_have_text("Reviewed")
    expect(card(page, "Manager's review")).to_contain_text("Check the processor's log first.")
    steps.step(page, "signed-off-with-the-review")
    complaint.refresh_from_db()
    assert complaint.stage == Stage.REVIEWED
