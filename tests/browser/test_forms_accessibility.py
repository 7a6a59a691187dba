"""Forms a CSR uses all day: completed with the keyboard alone, errors shown and announced
next to their field, and the queue readable on a 1366 x 768 screen."""

import re

import pytest
from playwright.sync_api import expect

from complaints import services
from complaints.models import Complaint
from tests import factories
from tests.browser.conftest import (
    DESKTOP,
    PASSWORD,
    card,
    no_horizontal_scroll,
    sign_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FOCUSED = "document.activeElement"


def focused_id(page):
    return page.evaluate(f"{FOCUSED}.id")


def tab_to(page, element_id, *, limit=8):
    """Press Tab until the element has focus (a date input takes a Tab per segment)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            return
    raise AssertionError(f"#{element_id} never got focus; focus is on #{focused_id(page)}")


def focus_is_visible(page):
    """Bootstrap shows focus with a ring (box-shadow) or an outline; either will do."""
    return page.evaluate(
        f"""() => {{
            const style = getComputedStyle({FOCUSED});
            return style.boxShadow !== 'none' || (style.outlineStyle !== 'none'
                && parseFloat(style.outlineWidth) > 0);
        }}"""
    )


def test_csr_logs_a_complaint_with_the_keyboard_alone(page, journey, csr):
    factories.category()
    factories.product()
    steps = journey("07-keyboard-only-intake")
    page.goto("/accounts/login/")
    steps.step(page, "sign-in", once="sign-in")
    assert focused_id(page) == "id_username"  # the sign-in form starts where typing starts
    page.keyboard.type(csr.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    steps.step(page, "my-work")

    # The first Tab reaches the skip link; then on through the navigation to the form.
    page.keyboard.press("Tab")
    assert page.evaluate(f"{FOCUSED}.textContent.trim()") == "Skip to main content"
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate(f"{FOCUSED}.textContent.trim()") == "Log a complaint":
            break
    else:
        raise AssertionError("'Log a complaint' cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log a complaint")).to_be_visible()
    steps.step(page, "empty-form")

    invisible_focus = []

    def check_focus():
        if not focus_is_visible(page):
            invisible_focus.append(focused_id(page))

    assert focused_id(page) == "id_channel"  # autofocus
    check_focus()
    page.keyboard.press("ArrowDown")  # ---------  ->  Phone
    tab_to(page, "id_customer_name")
    check_focus()
    page.keyboard.type("Keith Moreno")
    tab_to(page, "id_customer_phone")
    page.keyboard.type("0161 496 0734")
    # Past the language, the postal address, the representative, the country and the date
    # (left at today).
    tab_to(page, "id_category", limit=16)
    check_focus()
    page.keyboard.press("ArrowDown")
    tab_to(page, "id_product")
    page.keyboard.press("ArrowDown")
    tab_to(page, "id_transaction_reference")
    page.keyboard.type("TX-77810")
    tab_to(page, "id_complexity")
    page.keyboard.press("ArrowDown")  # Standard  ->  Complex
    tab_to(page, "id_description")
    check_focus()
    page.keyboard.type("The branch refused a cash withdrawal with no explanation.")
    tab_to(page, "id_interaction_details")
    page.keyboard.type("Phoned the helpline from the branch.")
    tab_to(page, "id_attachments")
    check_focus()
    tab_to(page, "submit-id-submit")
    check_focus()
    steps.step(page, "form-filled-with-keyboard")
    page.keyboard.press("Space")

    expect(page.get_by_role("status")).to_contain_text("logged.")
    steps.step(page, "complaint-logged")
    complaint = Complaint.objects.get(customer_name="Keith Moreno")
    assert (complaint.channel, complaint.customer_phone) == ("phone", "0161 496 0734")
    assert (complaint.category.name, complaint.product.name) == ("Billing error", "Credit card")
    assert (complaint.complexity, complaint.transaction_reference) == ("complex", "TX-77810")
    assert complaint.logged_by == csr
    assert invisible_focus == [], f"No visible focus indicator on: {invisible_focus}"


def test_intake_errors_are_shown_and_announced_next_to_their_field(page, journey, csr):
    factories.category()
    factories.product()
    steps = journey("08-intake-errors")
    sign_in(page, steps, csr)
    page.goto("/complaints/new/")
    steps.step(page, "empty-form")
    submit = page.get_by_role("button", name="Log complaint")

    # The browser stops an empty form first (the required fields carry `required`)...
    submit.click()
    expect(page).to_have_url(re.compile(r"/complaints/new/$"))
    assert page.evaluate("document.querySelector('#id_channel').validity.valueMissing")

    # ...and the server says the same when the browser does not check (or is old).
    page.eval_on_selector("main form", "form => { form.noValidate = true; }")
    submit.click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    steps.step(page, "errors")

    for name in ("channel", "customer_name", "category", "description"):
        field = page.locator(f"#id_{name}")
        error = page.locator(f"#div_id_{name} .invalid-feedback")
        expect(error).to_have_text("This field is required.")
        expect(error).to_be_visible()
        invalid = field.get_attribute("aria-invalid") == "true" or "is-invalid" in (
            field.get_attribute("class") or ""
        )
        assert invalid, f"#id_{name} is not marked invalid: {field.evaluate('e => e.outerHTML')}"
        box, error_box = field.bounding_box(), error.bounding_box()
        gap = error_box["y"] - (box["y"] + box["height"])
        assert 0 <= gap <= 24, f"The error of {name} is {gap:.0f} px below its field"
        assert abs(error_box["x"] - box["x"]) <= 2, f"The error of {name} is not under it"
        # Announced: the field's description includes the error, so a screen reader reads
        # it when the field gets focus.
        described_by = (field.get_attribute("aria-describedby") or "").split()
        error_id = error.get_attribute("id")
        assert error_id in described_by, (
            f"#id_{name} is not described by its error #{error_id} "
            f"(aria-describedby={described_by})"
        )

    # The first invalid field is where the keyboard user starts again.
    page.locator("#id_channel").focus()
    page.keyboard.press("ArrowDown")
    assert page.locator("#id_channel").input_value() == "phone"


def test_csr_queue_is_readable_at_1366_by_768(page, journey, csr, csr2):
    factories.category()
    factories.product()
    people = [
        ("Aisha Rahman", "email", 0),
        ("Bartholomew Featherstonehaugh-Llewellyn", "phone", 2),
        ("Chen Wei", "letter", 5),
        ("Dolores Ibarra", "social_media", 10),
        ("Emeka Obi", "in_person", 20),
        ("Fatima Zahra El Amrani", "web", 25),
    ]
    for name, channel, hours_ago in people:
        factories.complaint(
            csr2,
            customer_name=name,
            channel=channel,
            customer_phone="020 7946 0000",
            hours_ago=hours_ago,
        )
    mine = factories.complaint(csr, customer_name="Gustavo Lima")
    services.complaint_assign(mine, actor=csr, assignee=csr)
    services.complaint_escalate(mine, actor=csr, level="team", reason="Needs the card team.")

    steps = journey("09-csr-queue-1366x768")
    sign_in(page, steps, csr)
    assert page.viewport_size == DESKTOP
    intake = card(page, "Intake queue")
    expect(intake.get_by_role("row")).to_have_count(len(people) + 1)
    expect(card(page, "My complaints")).to_contain_text("Gustavo Lima")
    steps.step(page, "queue")
    steps.step(page, "queue-as-seen-at-1366x768", check=False, full_page=False)

    no_horizontal_scroll(page, DESKTOP["width"])
    for table in page.locator(".table-responsive").all():
        widths = table.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1], f"A queue table scrolls sideways: {widths}"
    header = [h.strip() for h in intake.locator("thead th").all_inner_texts()]
    assert header[:7] == [
        "Reference",
        "Next deadline",
        "Stage",
        "Customer",
        "Category",
        "Channel",
        "Assignee",
    ]
    # The most urgent first, with its overdue deadline in words, not only in red.
    first = intake.get_by_role("row").nth(1)
    expect(first).to_contain_text("Fatima Zahra El Amrani")
    expect(first.locator(".countdown-overdue")).to_contain_text("overdue by")
    size = float(first.evaluate("e => getComputedStyle(e.querySelector('td')).fontSize")[:-2])
    assert size >= 14, f"Queue text is {size}px"
