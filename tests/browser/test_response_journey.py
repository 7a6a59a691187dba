"""A CSR sends an FCA final response: chooses the type, sees what it must have, starts from
the approved template, takes the ombudsman's paragraph out and is refused with the list of
what is missing, the text kept; puts it back and sends it. The case then says the final
response was sent. Screenshots under test-artifacts/screenshots/fca-final-response/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from complaints import services
from complaints.models import OutboundMessage, RegulatoryProfile, ResponseEnclosure
from complaints.responses import catalogue
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_csr_is_told_what_an_fca_final_response_lacks_then_sends_it(page, journey, csr, manager):
    fca = RegulatoryProfile.objects.get(code="fca")
    fca.active = True
    fca.save(update_fields=["active"])
    complaint = factories.complaint(csr, customer_name="Grace Okafor")
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    assert complaint.profile == fca  # a customer in the firm's country, the UK
    services.complaint_outcome_record(complaint, actor=csr, outcome="not_upheld")
    services.response_enclosure_upload(
        ResponseEnclosure(profile=fca, code="fos-leaflet", name="FOS leaflet"),
        SimpleUploadedFile("fos-leaflet.pdf", PDF),
        actor=manager,
    )
    steps = journey("fca-final-response")
    sign_in(page, steps, csr)
    page.goto(f"/complaints/{complaint.pk}/")
    page.get_by_role("link", name="Write to the customer").click()

    page.get_by_label("Type of response").select_option("final_response")
    page.get_by_role("button", name="Choose this type").click()
    required = page.locator("#reply-required")
    expect(required).to_contain_text("the Financial Ombudsman Service's name and contact details")
    page.get_by_label("Start from a template").select_option(label="FCA: final response")
    page.get_by_role("button", name="Use this template").click()
    message = page.get_by_role("textbox", name="Message")
    written = message.input_value()
    message.fill(written.replace(catalogue.FOS_ADDRESS["en"], ""))
    page.get_by_role("button", name="Send the final response to the customer").click()

    refusal = page.locator("#reply-missing")
    expect(refusal).to_contain_text("This final response was not sent")
    expect(refusal).to_contain_text("the Financial Ombudsman Service's name and contact details")
    expect(message).not_to_have_value(written)  # kept as the CSR left it
    steps.step(page, "refused-with-what-is-missing")
    assert not OutboundMessage.objects.filter(complaint=complaint, kind="reply").exists()

    message.fill(written)
    page.get_by_role("button", name="Send the final response to the customer").click()
    expect(page.get_by_role("status")).to_contain_text("Your reply is on its way")
    expect(page.locator("main")).to_contain_text("Final response sent on")
    steps.step(page, "final-response-sent")
    sent = OutboundMessage.objects.get(complaint=complaint, kind="reply")
    assert sent.response_type == "final_response"
    assert [a.original_name for a in sent.attachments.all()] == ["fos-leaflet.pdf"]
