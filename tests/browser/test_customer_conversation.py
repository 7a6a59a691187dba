"""A Spanish-speaking customer on a phone (375 x 812): the staff member's reply reaches them
by email in Spanish, they open their link, read the conversation and answer there; a double
submission stores one message, and the assignee sees "customer replied"."""

import pytest
from playwright.sync_api import expect

from complaints import services
from complaints.models import InboundMessage, MatchedBy, SignalKind
from complaints.sub_status import SubStatus
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, MailCatcher, no_horizontal_scroll

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_customer_reads_the_conversation_and_replies_on_their_link_once(
    new_page, journey, csr, mail, live_server
):
    complaint = factories.complaint(
        csr,
        customer_name="Lucía Gómez",
        customer_email="lucia@example.com",
        preferred_language="es",
    )
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    services.reply_send(
        complaint,
        actor=csr,
        subject="Su cargo duplicado",
        text="Hola Lucía:\nHemos encontrado el segundo cargo. ¿Puede confirmarnos la fecha?",
        token="e" * 32,
    )
    services.outbox_relay()
    reply = next(m for m in mail.messages if "Su cargo duplicado" in m["Subject"])
    assert "Atentamente," in MailCatcher.text_of(reply)
    link = mail.link_in(reply, live_server.url)

    steps = journey("07-customer-conversation-on-a-phone")
    page = new_page(PHONE)
    page.goto(link)
    # The relay sent the acknowledgment too, which acknowledged the complaint.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Le hemos confirmado que tenemos su reclamación"
    )
    conversation = page.locator("#conversation")
    expect(conversation).to_contain_text("Hemos encontrado el segundo cargo.")
    expect(conversation).to_contain_text("Le escribimos")
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "conversation")

    conversation.get_by_label("Su mensaje").fill("Fue el 3 de diciembre.\nGracias.")
    steps.step(page, "reply-written")
    # A double click: the same form (the same one-time token) posted twice at once.
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("#conversation form");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            return answers.map(answer => answer.status);
        }"""
    )
    assert statuses == [200, 200]  # each followed its redirect back to the page
    conversation.get_by_role("button", name="Enviar mi mensaje").click()
    expect(page.get_by_role("status")).to_contain_text("Gracias. Hemos recibido su mensaje")
    expect(page.locator("#conversation li")).to_have_count(3)
    expect(page.locator("#conversation li").last).to_contain_text("Fue el 3 de diciembre.")
    expect(page.locator("#conversation li").last).to_contain_text("Usted escribió")
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "reply-sent")

    # Empty: a clear message, nothing stored.
    page.locator("#conversation").get_by_role("button", name="Enviar mi mensaje").click()
    expect(page.locator("#conversation")).to_contain_text("Escriba su mensaje, por favor.")
    no_horizontal_scroll(page, PHONE["width"])
    steps.step(page, "empty-reply-refused")

    (message,) = InboundMessage.objects.filter(complaint=complaint)
    assert message.matched_by == MatchedBy.LINK
    assert message.body_text == "Fue el 3 de diciembre.\nGracias."
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.CUSTOMER_REPLIED
    assert complaint.signals.filter(user=csr, kind=SignalKind.CUSTOMER_REPLIED).count() == 1


def test_visitor_switches_the_public_form_to_spanish_and_is_answered_in_spanish(
    new_page, journey, mail
):
    factories.category()
    steps = journey("08-public-form-in-spanish")
    for viewport in (PHONE, DESKTOP):
        page = new_page(viewport)
        page.goto("/complain/")
        page.get_by_role("link", name="Español").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Presentar una reclamación")
        expect(page.get_by_label("¿En qué idioma quiere que le escribamos?")).to_have_value("es")
        no_horizontal_scroll(page, viewport["width"])
        steps.step(page, f"form-{viewport['width']}")

    page.get_by_label("Su nombre").fill("Lucía Gómez")
    page.get_by_label("Su correo electrónico").fill("lucia@example.com")
    page.get_by_label("¿De qué se trata?").select_option(label="Billing error")
    page.get_by_label("¿Qué ocurrió?").fill("Me cobraron dos veces la misma compra.")
    page.get_by_role("button", name="Enviar mi reclamación").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Gracias, hemos recibido su reclamación"
    )
    steps.step(page, "thanks")
    services.outbox_relay()
    (acknowledgment,) = mail.messages
    assert acknowledgment["Subject"].startswith("Hemos recibido su reclamación")
