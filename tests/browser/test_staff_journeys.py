"""The staff's days, in a real browser: a CSR logging complaints from the phone and from
email, the resolution team investigating, a manager approving and working the escalations.

Every page of every journey is screenshotted (test-artifacts/screenshots/<journey>/) and
checked with axe-core; a serious or critical finding fails the journey.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from complaints import services
from complaints.clocks import sweeps
from complaints.models import Complaint, Resolution, ResolutionStatus
from complaints.workflow import Stage
from reports.services import report_build
from tests import factories
from tests.browser.conftest import (
    DESKTOP,
    PASSWORD,
    PHONE,
    MailCatcher,
    card,
    published_tasks,
    sign_in,
    unfolded,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def small_pdf():
    """A real, one-page PDF (it opens in a viewer), a few hundred bytes long."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 20 50 Td (Statement) Tj ET\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stage_badge(page):
    return page.locator("main h1 + .badge")


def log_complaint(page, *, channel, name, email="", phone="", description):
    page.get_by_role("link", name="Log a complaint").first.click()
    expect(page.get_by_role("heading", name="Log a complaint")).to_be_visible()
    page.get_by_label("Channel").select_option(label=channel)
    page.get_by_label("Customer name").fill(name)
    page.get_by_label("Customer email").fill(email)
    page.get_by_label("Customer phone").fill(phone)
    page.get_by_label("Category").select_option(label="Billing error")
    page.get_by_label("Product").select_option(label="Credit card")
    page.get_by_label("Transaction reference").fill("TX-20931")
    page.get_by_label("Description of complaint").fill(description)
    page.get_by_label("Details of interaction").fill(f"Customer contacted us by {channel}.")


def test_csr_logs_a_phone_complaint_with_a_document_and_acknowledges_it_by_phone(
    page, journey, csr
):
    factories.category()
    factories.product()
    steps = journey("01-csr-phone-complaint")
    sign_in(page, steps, csr)
    steps.step(page, "my-work")

    log_complaint(
        page,
        channel="Phone",
        name="Grace Okafor",
        phone="020 7946 0018",
        description="My card payment of 42.10 was taken twice on 3 March.",
    )
    page.get_by_label("Supporting documents").set_input_files(
        {"name": "bank-statement.pdf", "mimeType": "application/pdf", "buffer": small_pdf()}
    )
    steps.step(page, "intake-form-filled")
    page.get_by_role("button", name="Log complaint").click()

    complaint = Complaint.objects.get(customer_name="Grace Okafor")
    expect(page.get_by_role("status")).to_contain_text(f"Complaint {complaint.reference} logged.")
    expect(stage_badge(page)).to_have_text("Received")
    documents = card(page, "Documents")
    expect(documents.get_by_role("link", name="bank-statement.pdf")).to_be_visible()
    expect(documents).to_contain_text("PDF document")
    with page.expect_download() as download:
        documents.get_by_role("link", name="bank-statement.pdf").click()
    assert download.value.suggested_filename == "bank-statement.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == small_pdf()
    # A phone complaint without an email address offers no acknowledgment email.
    expect(page.get_by_role("button", name="Send the acknowledgment email")).to_have_count(0)
    steps.step(page, "complaint-logged")

    acknowledge = card(page, "Acknowledge the customer")
    acknowledge.get_by_label("How was the customer acknowledged?").select_option(label="Phone call")
    acknowledge.get_by_label("Note").fill("Called back; confirmed the double charge.")
    acknowledge.get_by_role("button", name="Record acknowledgment").click()

    expect(page.get_by_role("status")).to_contain_text("Acknowledgment recorded.")
    expect(stage_badge(page)).to_have_text("Acknowledged")
    timeline = page.locator("ol.timeline")
    expect(timeline.locator("li", has_text="Acknowledged by phone call")).to_contain_text(
        "Called back; confirmed the double charge."
    )
    expect(timeline).to_contain_text("Attached bank-statement.pdf")
    expect(timeline).to_contain_text("Logged via phone")
    steps.step(page, "acknowledged-by-phone")

    complaint.refresh_from_db()
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledgment_method == "phone"
    assert complaint.attachments.get().content_type == "application/pdf"


def test_csr_logs_an_email_complaint_and_the_acknowledgment_reaches_a_real_mail_server(
    page, journey, csr, mail, settings
):
    # Held for review: the CSR sends it with a button, and the relay (what beat runs every
    # minute) delivers it to the SMTP server on loopback.
    settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW = True
    factories.category()
    factories.product()
    steps = journey("02-csr-email-complaint")
    sign_in(page, steps, csr)

    log_complaint(
        page,
        channel="Email",
        name="Tomasz Nowak",
        email="tomasz.nowak@example.com",
        description="You closed my account without telling me.",
    )
    steps.step(page, "intake-form-filled")
    page.get_by_role("button", name="Log complaint").click()
    complaint = Complaint.objects.get(customer_name="Tomasz Nowak")
    expect(stage_badge(page)).to_have_text("Received")
    steps.step(page, "complaint-logged")

    page.get_by_role("button", name="Send the acknowledgment email").click()
    expect(page.get_by_role("status")).to_contain_text("The acknowledgment email is on its way.")
    expect(page.get_by_role("button", name="Send the acknowledgment email")).to_have_count(0)
    steps.step(page, "acknowledgment-queued")

    # The web request published the send task after its commit; no worker runs here, so the
    # relay (beat's job every minute) sends it, as it does when workers are down.
    assert published_tasks() == ["complaints.tasks.send_message"]
    assert services.outbox_relay() == {"sent": 1, "still_pending": 0}
    assert len(mail.messages) == 1, [m["Subject"] for m in mail.messages]
    [email] = mail.messages
    body = MailCatcher.text_of(email)
    assert email["To"] == "tomasz.nowak@example.com"
    assert complaint.reference in email["Subject"]
    assert "Dear Tomasz Nowak," in body
    assert f"Your reference is {complaint.reference}." in body

    page.reload()
    expect(stage_badge(page)).to_have_text("Acknowledged")
    acknowledged = page.locator("ol.timeline li", has_text="Acknowledged by email")
    expect(acknowledged).to_contain_text(f"sent to {complaint.customer_email}")
    acknowledged.get_by_role("link", name=re.compile("Open the email")).click()
    expect(page.locator(".message-body")).to_contain_text(
        f"Your reference is {complaint.reference}."
    )
    expect(page.locator(".message-body")).to_contain_text("[the customer's own link]")
    steps.step(page, "acknowledgment-email-opened")
    page.go_back()
    steps.step(page, "acknowledged-by-email")


def test_resolver_investigates_consults_notes_and_proposes_a_refund_above_the_threshold(
    page, journey, csr, resolver, settings
):
    settings.RESOLUTION_APPROVAL_THRESHOLD = 500
    factories.root_cause("Duplicate card authorisation")
    complaint = factories.complaint(csr, customer_name="Amara Singh")
    services.complaint_acknowledge(complaint, actor=csr, method="phone")
    services.complaint_escalate(
        complaint, actor=csr, level="team", reason="Needs the card processor's records."
    )
    steps = journey("03-resolver-investigation")
    sign_in(page, steps, resolver)

    queue = card(page, "Escalated to the resolution team")
    expect(queue).to_contain_text("Amara Singh")
    steps.step(page, "my-work")
    queue.get_by_role("link", name=complaint.reference).click()
    steps.step(page, "escalated-complaint")

    page.get_by_role("button", name="Take this complaint").click()
    expect(page.get_by_role("status")).to_contain_text("You took this complaint.")
    page.get_by_role("button", name="Start investigation").click()
    expect(stage_badge(page)).to_have_text("Investigating")
    steps.step(page, "investigating")

    consult = unfolded(page, "Consult another department")
    consult.get_by_label("Department or person").fill("Card payments operations")
    consult.get_by_label("Question").fill("Did the processor authorise the payment twice?")
    consult.get_by_role("button", name="Send question").click()
    expect(page.get_by_role("status")).to_contain_text("Consultation sent.")
    expect(card(page, "Waiting for Card payments operations")).to_be_visible()
    steps.step(page, "consulted")

    note = unfolded(page, "Add a note")
    note.get_by_label("Note").fill("Statement shows two authorisations 4 seconds apart.")
    note.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status")).to_contain_text("Note added.")
    steps.step(page, "note-added")

    # The root cause is what Documented will need: the next step asks for it in place.
    needed = card(page, "Next step: Resolved").locator(".checklist").last
    needed.get_by_label("Root cause").select_option(label="Duplicate card authorisation")
    needed.get_by_role("button", name="Set root cause").click()
    expect(page.get_by_role("status")).to_contain_text("Root cause set.")
    record = card(page, "Complaint")
    expect(record).to_contain_text("Duplicate card authorisation")
    steps.step(page, "root-cause-set")

    propose = card(page, "Propose a resolution")
    propose.get_by_label("Resolution").select_option(label="Refund")
    propose.get_by_label("Amount (if money moves)").fill("750")
    propose.get_by_label("Description").fill(
        "We will refund the duplicate payment and the charges it caused."
    )
    propose.get_by_label("What the customer needs to do").fill("Nothing.")
    propose.get_by_role("button", name="Propose").click()

    expect(page.get_by_role("status")).to_contain_text("Resolution proposed.")
    expect(stage_badge(page)).to_have_text("Resolved")
    resolution = page.locator("section", has=page.locator("#resolution"))
    expect(resolution.get_by_role("heading")).to_have_text("Resolution: Refund · GBP 750.00")
    expect(resolution).to_contain_text("Awaiting manager approval")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Consulted Card payments operations")
    expect(timeline).to_contain_text("Statement shows two authorisations 4 seconds apart.")
    expect(timeline).to_contain_text("a manager approves it before the customer sees it")
    steps.step(page, "refund-awaiting-approval")

    proposed = Resolution.objects.get(complaint=complaint)
    assert proposed.status == ResolutionStatus.AWAITING_APPROVAL
    assert proposed.amount == 750


def test_manager_approves_a_refund_and_works_the_escalation_queue(
    page, journey, csr, resolver, manager
):
    refund = factories.complaint(csr, customer_name="Amara Singh")
    services.complaint_acknowledge(refund, actor=csr, method="phone")
    services.complaint_escalate(refund, actor=csr, level="team", reason="Processor records.")
    services.complaint_assign(refund, actor=resolver, assignee=resolver)
    services.complaint_transition(refund, "investigating", actor=resolver)
    services.note_add(refund, actor=resolver, text="Two authorisations.")
    services.resolution_propose(
        refund, actor=resolver, type="refund", amount=750, description="Refund of 750."
    )
    # Received 25 hours ago and never acknowledged: beat's deadline job escalates it.
    late = factories.complaint(csr, hours_ago=25, customer_name="Olu Bankole")
    summary = sweeps.enforce_acknowledgment_deadline()
    assert summary["breached"] == 1
    steps = journey("04-manager-approval-and-escalations")
    sign_in(page, steps, manager)

    escalations = card(page, "Escalation queue")
    refund_row = escalations.get_by_role("row", name=refund.reference)
    late_row = escalations.get_by_role("row", name=late.reference)
    expect(refund_row).to_contain_text("approval")
    expect(late_row).to_contain_text("ack missed")
    steps.step(page, "my-work")

    refund_row.get_by_role("link", name=refund.reference).click()
    steps.step(page, "refund-awaiting-approval")
    approve = card(page, "Approve the resolution")
    approve.get_by_label("Decision").select_option(label="Approve")
    approve.get_by_label("Note").fill("Approved: the bank's error, refund in full.")
    approve.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Decision recorded.")
    resolution = page.locator("section", has=page.locator("#resolution"))
    expect(resolution).to_contain_text("Proposed to the customer")
    expect(page.locator("ol.timeline")).to_contain_text("Resolution approved")
    steps.step(page, "refund-approved")

    page.get_by_role("link", name="My work").click()
    escalations = card(page, "Escalation queue")
    expect(escalations.get_by_role("row", name=refund.reference)).to_have_count(0)
    escalations.get_by_role("link", name=late.reference).click()
    expect(page.locator("main")).to_contain_text("Escalated to managers")
    # The line under the heading (the clocks panel below has its own overdue countdown).
    expect(page.locator("p > .countdown-overdue")).to_contain_text("Acknowledgment")
    steps.step(page, "breached-complaint")

    page.get_by_role("button", name="Take this complaint").click()
    expect(page.get_by_role("status")).to_contain_text("You took this complaint.")
    steps.step(page, "taken")
    assign = unfolded(page, "Assign")
    assign.get_by_label("Assignee").select_option(label=str(csr))
    assign.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("Assignment saved.")
    expect(page.locator("dl")).to_contain_text(str(csr))
    steps.step(page, "assigned-to-csr")

    late.refresh_from_db()
    assert late.assignee == csr
    assert late.acknowledgment_breached_at is not None
    assert late.received_at < timezone.now() - timedelta(hours=24)

    # The manager reads the trend report of the period these complaints fall in.
    report = report_build("daily", timezone.localdate())
    page.get_by_role("link", name="Reports").click()
    steps.step(page, "reports-list")
    page.get_by_role("link", name="Daily").first.click()
    expect(page.locator("h1")).to_contain_text("Daily report")
    expect(page.locator("main")).to_contain_text("Received")
    expect(page.locator("#chart-by-day")).to_be_visible()
    steps.step(page, "trend-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.startswith(f"daily-{report.start.isoformat()}")


def test_a_documented_case_waits_on_the_managers_sign_off_queue(
    new_page, journey, csr, resolver, manager
):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    documented = factories.complaint_at_stage("documented", customer_name="Ines Duarte", **people)
    factories.complaint_at_stage("reviewed", customer_name="Signed Off", **people)
    steps = journey("05-manager-sign-off-queue")
    for viewport in (DESKTOP, PHONE):
        page = new_page(viewport)
        sign_in(page, steps, manager)
        queue = card(page, "Sign-off queue 1")
        expect(queue.get_by_role("row", name=documented.reference)).to_be_visible()
        expect(queue).not_to_contain_text("Signed Off")
        steps.step(page, f"manager-home-{viewport['width']}")

    queue.get_by_role("link", name="open as list").click()
    expect(page.locator("main")).to_contain_text("waiting for a manager's sign-off")
    expect(page.get_by_role("link", name=documented.reference)).to_be_visible()
    steps.step(page, "sign-off-list")
    page.get_by_role("link", name=documented.reference).click()
    expect(page.locator("main h1 + .badge")).to_contain_text("Documented")


def test_on_a_phone_without_javascript_every_menu_link_and_sign_out_still_work(
    new_page, journey, csr, manager
):
    shots = journey()
    # No journey steps on this page: axe and full-page screenshots need the page's scripts.
    page = new_page(PHONE, javascript=False)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(manager.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    menu = page.get_by_role("navigation", name="Main")
    for name in ("Complaints", "Log a complaint", "Reports", "Jobs", "Change password"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()

    # With JavaScript the menu folds behind its button, as Bootstrap intends.
    page = new_page(PHONE)
    sign_in(page, shots, csr)
    expect(page.locator("#nav")).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(page.locator("#nav").get_by_role("link", name="Complaints")).to_be_visible()


def test_filters_and_pages_replace_the_results_in_place_and_keep_the_address(
    page, journey, csr, manager
):
    for _ in range(26):
        factories.complaint(csr, channel="phone")
    emailed = factories.complaint(csr, channel="email")
    shots = journey()
    sign_in(page, shots, manager)
    page.goto("/complaints/")
    # A full page load would drop this; an in-place swap keeps it.
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Channel").select_option(label="Email")
    expect(page).to_have_url(re.compile(r"channel=email"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text(emailed.reference)
    expect(page.locator("#csv-link")).to_have_attribute("href", re.compile(r"channel=email"))

    page.get_by_label("Channel").select_option(label="Phone")
    expect(page.locator("#results tbody tr")).to_have_count(25)
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    shots.step(page, "second-page-in-place")
    assert page.evaluate("window.stillTheSamePage") is True
