"""Take the README's screenshots: one complaint's life, by each role, against `make run`.

Start `make run` on a fresh clone (its demo data), then, from the repository's root:

    .venv/bin/python docs/screenshots/take.py [http://127.0.0.1:8000]

It logs a complaint as the CSR and takes it to Reviewed through the pages, as the README's
walk-through tells, opening the customer's link from the email in var/mail/ as a customer
would. It drives Debian's Chromium (/usr/bin/chromium) headless, and writes PNGs here; the
ones in the repository were then reduced to 128 colours with Pillow to keep them small.
"""

import os
import re
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
PASSWORD = os.environ.get("DEMO_PASSWORD", "redress-demo")
HERE = Path(__file__).resolve().parent
MAIL = HERE.parent.parent / "var" / "mail"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1200, "height": 760}
PHONE = {"width": 390, "height": 760}


def shot(page, name, down_to=None):
    """The window's view; or, with `down_to` (a locator), the page from its top to the end of
    that part of it, when what the step shows lies below the window."""
    page.wait_for_timeout(1000)  # the charts' animation
    if down_to is None:
        page.screenshot(path=HERE / f"{name}.png")
    else:
        box = down_to.bounding_box()
        width = page.viewport_size["width"]
        end = box["y"] + box["height"] + 16
        page.screenshot(
            path=HERE / f"{name}.png",
            full_page=True,
            clip={"x": 0, "y": 0, "width": width, "height": end},
        )
    print(f"{name}.png")


def signed_in(browser, username):
    page = browser.new_page(viewport=DESKTOP, base_url=BASE_URL)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    return page


def card(page, title):
    return page.locator("section").filter(has=page.get_by_role("heading", name=title, exact=True))


def unfolded(page, title):
    """A folded action on the complaint page ("More actions"), opened."""
    fold = page.locator("section.fold").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )
    fold.locator("summary").click()
    return fold


def badge(page):
    return page.locator("main h1 + .badge")


def reload_until(page, stage):
    """The worker sends the email and records its delivery within seconds."""
    for _ in range(60):
        if badge(page).inner_text() == stage:
            return
        time.sleep(2)
        page.reload()
    raise SystemExit(f"The complaint did not reach {stage}: is the worker running?")


def customer_link(reference, subject):
    """What the README tells a newcomer to do: find the email about the complaint in
    var/mail/ and take the link out of it."""
    for _ in range(60):
        for path in sorted(MAIL.glob("*.log"), reverse=True):
            text = path.read_text()
            if reference in text and subject in text:
                return re.search(r"http://\S+/c/[^\s\"<]+", text).group(0)
        time.sleep(2)
    raise SystemExit(f"No email '{subject}' about {reference} in {MAIL}.")


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )

        # 1. The CSR logs the complaint; the acknowledgment email acknowledges it.
        csr = signed_in(browser, "csr")
        shot(csr, "01-csr-my-work")
        csr.get_by_role("link", name="Log a complaint").first.click()
        csr.get_by_label("Channel").select_option(label="Email")
        csr.get_by_label("Customer name").fill("Emma Lewis")
        csr.get_by_label("Customer email").fill("emma.lewis@example.com")
        csr.get_by_label("Category").select_option(label="Billing error")
        csr.get_by_label("Product").select_option(label="Credit card")
        csr.get_by_label("Description of complaint").fill(
            "My card was charged £45 twice for one train ticket on 28 November."
        )
        csr.get_by_label("Details of interaction").fill("Email to the complaints address.")
        shot(csr, "02-csr-log-a-complaint")
        csr.get_by_role("button", name="Log complaint").click()
        reference = re.search(r"CMP-\d{4}-\d{6}", csr.locator("main h1").inner_text()).group(0)
        reload_until(csr, "Acknowledged")
        escalate = unfolded(csr, "Escalate")
        escalate.get_by_label("Escalate to").select_option(label="Resolution team")
        escalate.get_by_label("Reason").fill("Needs the card processor's records.")
        escalate.get_by_role("button", name="Escalate").click()
        shot(csr, "03-csr-acknowledged-and-escalated")

        # 2. The resolver takes it from the team's queue, investigates and proposes.
        resolver = signed_in(browser, "resolver")
        shot(resolver, "04-resolver-team-queue")
        resolver.goto(csr.url)
        resolver.get_by_role("button", name="Take this complaint").click()
        resolver.get_by_role("button", name="Start investigation").click()
        # The next step lists what Documented will need and takes it in place.
        needed = card(resolver, "Next step: Resolved")
        needed.get_by_label("Note").fill("The statement shows two authorisations 4 seconds apart.")
        needed.get_by_role("button", name="Add note").click()
        needed = card(resolver, "Next step: Resolved")
        needed.get_by_label("Root cause").select_option(label="System error")
        needed.get_by_role("button", name="Set root cause").click()
        propose = card(resolver, "Propose a resolution")
        propose.get_by_label("Resolution").select_option(label="Refund")
        propose.get_by_label("Amount (if money moves)").fill("45")
        propose.get_by_label("Description").fill(
            "We will refund the second charge of £45 within 5 working days."
        )
        propose.get_by_label("What the customer needs to do").fill("Nothing.")
        propose.get_by_role("button", name="Propose").click()
        expect(badge(resolver)).to_have_text("Resolved")
        shot(resolver, "05-resolver-proposed")

        # 3. The customer accepts through the link in the email written to var/mail/.
        customer = browser.new_page(viewport=PHONE)
        link = customer_link(reference, "Our proposed resolution")
        customer.goto(link)
        proposal = card(customer, "Our proposed resolution")
        proposal.get_by_label("I accept this resolution").check()
        shot(customer, "06-customer-accepts")
        proposal.get_by_role("button", name="Send my answer").click()

        # 4. Follow-up: the resolver implements it, the customer says how it went.
        resolver.reload()
        implement = card(resolver, "Implement the resolution")
        implement.get_by_label("What was done").fill("£45 refunded to the card.")
        implement.get_by_role("button", name="Record implementation").click()
        expect(badge(resolver)).to_have_text("Follow-up")
        customer.goto(link)
        feedback = card(customer, "How did we do?")
        feedback.get_by_label("5 (very satisfied)").check()
        feedback.get_by_label("Yes", exact=True).check()
        feedback.get_by_label("Anything you would like to add").fill("Quick and fair.")
        shot(customer, "07-customer-feedback")
        feedback.get_by_role("button", name="Send feedback").click()

        # 5. Documented: the record is complete.
        resolver.reload()
        resolver.get_by_role("button", name="Mark documented").click()
        expect(badge(resolver)).to_have_text("Documented")
        shot(resolver, "08-documented")

        # 6. The manager's day, and the sign-off.
        manager = signed_in(browser, "manager")
        # The sign-off queue, where the documented complaint now waits, is below the window.
        shot(
            manager,
            "09-manager-my-work",
            down_to=manager.locator("section").filter(
                has=manager.get_by_role("heading", name="Sign-off queue")
            ),
        )
        manager.goto(resolver.url)
        review = card(manager, "Review and sign off")
        review.get_by_label("Quality notes").fill("Refunded within a week; clear letters.")
        review.get_by_role("button", name="Sign off").click()
        expect(badge(manager)).to_have_text("Reviewed")
        shot(manager, "10-manager-signed-off")
        # The busiest month of the real CFPB data.
        manager.get_by_role("link", name="Reports").click()
        january = manager.get_by_role("row").filter(has_text="Thu 1 Jan 2015")
        january.get_by_role("link", name="Monthly").click()
        shot(manager, "11-manager-trend-report")
        browser.close()


if __name__ == "__main__":
    main()
