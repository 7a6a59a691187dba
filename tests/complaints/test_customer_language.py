"""The customer's language: recorded on each complaint (public form, staff forms, API), and
followed by their pages and emails whatever their browser says; the public form, before there
is a complaint, follows the browser or the visitor's choice. Staff pages stay English."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from complaints import selectors, services
from complaints.models import Complaint, MessageKind, ResponseTemplate
from complaints.outbox import messages as emails
from tests import factories
from tests.api.conftest import new_complaint, token_client
from tests.complaints.test_customer_link import token_of
from tests.complaints.test_public_form import form_data

pytestmark = pytest.mark.django_db

SPANISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.PUBLIC_FORM_RATE_LIMIT = 10_000


def spanish_complaint(csr, **overrides):
    return factories.complaint(
        csr,
        customer_name="Lucía Gómez",
        customer_email="lucia@example.com",
        preferred_language="es",
        **overrides,
    )


# The public form ---------------------------------------------------------------------------


def test_the_public_form_follows_the_browser_and_offers_the_other_language(client):
    page = client.get(reverse("public-complaint"), **SPANISH_BROWSER).content.decode()

    assert '<html lang="es"' in page
    assert "Presentar una reclamación" in page
    assert "¿En qué idioma quiere que le escribamos?" in page
    # The switch names each language in itself.
    assert 'href="?lang=en"' in page and ">English</a>" in page
    english = client.get(reverse("public-complaint") + "?lang=en", **SPANISH_BROWSER)
    assert "Make a complaint" in english.content.decode()


def test_a_complaint_made_in_spanish_is_answered_in_spanish(client):
    response = client.post(
        reverse("public-complaint") + "?lang=es",
        form_data(preferred_language="es"),
        **ENGLISH_BROWSER,
        follow=True,
    )

    complaint = Complaint.objects.get()
    assert complaint.preferred_language == "es"
    page = response.content.decode()
    assert "Gracias, hemos recibido su reclamación" in page
    assert f'Su referencia es <strong class="text-nowrap">{complaint.reference}</strong>' in page
    acknowledgment = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    assert acknowledgment.subject == f"Hemos recibido su reclamación ({complaint.reference})"
    assert "Estimado/a Priya Shah:" in acknowledgment.body_text
    assert '<html lang="es">' in acknowledgment.body_html


def test_a_form_posted_without_the_language_takes_the_language_it_was_shown_in(client):
    client.post(reverse("public-complaint"), form_data(), **SPANISH_BROWSER)
    assert Complaint.objects.get().preferred_language == "es"


def test_an_unknown_language_is_refused_and_nothing_is_logged(client):
    response = client.post(reverse("public-complaint"), form_data(preferred_language="xx"))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Complaint.objects.exists()


# The customer's link -----------------------------------------------------------------------


def test_the_link_speaks_the_complaints_language_not_the_browsers(client, csr):
    complaint = spanish_complaint(csr)

    page = client.get(
        reverse("customer:status", args=[token_of(complaint)]), **ENGLISH_BROWSER
    ).content.decode()

    assert '<html lang="es"' in page
    assert "Hola, Lucía Gómez." in page
    assert '<h1 class="h3">Hemos recibido su reclamación</h1>' in page
    assert "Esperamos responderle a más tardar el" in page
    assert "Enviar mi mensaje" in page
    # Dates as Spanish writes them.
    with translation.override("es"):
        assert selectors.customer_timeline(complaint)[0][1] == "Hemos recibido su reclamación"
    assert " de 20" in page


def test_a_broken_link_is_explained_in_the_browsers_language(client):
    page = client.get(
        reverse("customer:status", args=["not-a-token"]), **SPANISH_BROWSER
    ).content.decode()
    assert "Este enlace no funciona" in page


def test_messages_after_an_action_are_in_the_complaints_language(client, csr):
    complaint = spanish_complaint(csr)
    response = client.post(
        reverse("customer:reply", args=[token_of(complaint)]),
        {"message": "Gracias.", "submission": "d" * 32},
        follow=True,
        **ENGLISH_BROWSER,
    )
    assert "Gracias. Hemos recibido su mensaje" in response.content.decode()


# Emails ------------------------------------------------------------------------------------


def test_every_customer_email_is_in_the_complaints_language_and_colleagues_stay_english(csr):
    complaint = spanish_complaint(csr)
    complaint.resolution_target_date = datetime.date(2026, 12, 5)

    delay = emails.queue_delay_notice(complaint)
    feedback = emails.queue_feedback_request(complaint, reminder=True)
    reply = emails.queue_reply(complaint, key="r", subject="Hola", text="Texto", sent_by=csr)
    staff = emails.queue_staff_notification(
        complaint, csr, "test", headline="Lucía replied", detail="About the fee"
    )

    assert delay.subject == f"Novedades sobre su reclamación ({complaint.reference})"
    assert "a más tardar el sábado, 5 de diciembre de 2026" in delay.body_text
    assert feedback.subject == f"Recordatorio: ¿qué tal lo hicimos? ({complaint.reference})"
    assert "Atentamente," in reply.body_text and "Ver el avance" in reply.body_html
    assert "Lucía replied" in staff.subject + staff.body_text
    assert '<html lang="es">' not in staff.body_html


def test_an_english_complaint_reads_as_before(csr):
    complaint = factories.complaint(csr, customer_email="priya@example.com")
    complaint.resolution_target_date = datetime.date(2026, 12, 5)
    delay = emails.queue_delay_notice(complaint)
    assert "answer your complaint by Saturday 5 December 2026." in delay.body_text


# Staff: set, change and see it; templates in the customer's language first ----------------


def test_staff_set_and_change_the_language_and_see_it_on_the_english_case_page(client, csr):
    client.force_login(csr)
    complaint = spanish_complaint(csr)

    page = client.get(reverse("complaints:detail", args=[complaint.pk]), **SPANISH_BROWSER)

    text = page.content.decode()
    assert '<dt class="col-sm-3">Language</dt><dd class="col-sm-9">Spanish</dd>' in text
    assert "Skip to main content" in text
    services.complaint_update(complaint, actor=csr, changes={"preferred_language": "en"})
    complaint.refresh_from_db()
    assert complaint.preferred_language == "en"


def test_the_api_takes_and_shows_the_language(csr):
    client = token_client(csr)
    created = client.post(
        "/api/v1/complaints/", new_complaint(preferred_language="es"), format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["preferred_language"] == "es"
    assert Complaint.objects.get().preferred_language == "es"
    refused = client.post(
        "/api/v1/complaints/", new_complaint(preferred_language="fr"), format="json"
    )
    assert refused.status_code == 400
    default = client.post("/api/v1/complaints/", new_complaint(), format="json")
    assert default.json()["preferred_language"] == "en"


def test_templates_in_the_customers_language_come_first_with_dates_in_it(csr):
    complaint = spanish_complaint(csr)
    complaint.resolution_target_date = datetime.date(2026, 12, 5)
    english = ResponseTemplate.objects.create(
        name="A progress update", subject="Update", body="By {{ resolution_target_date }}."
    )
    spanish = ResponseTemplate.objects.create(
        name="Z novedades",
        language="es",
        subject="Novedades",
        body="Antes del {{ resolution_target_date }}.",
    )

    offered = list(selectors.response_templates_active(complaint.preferred_language))

    assert offered == [spanish, english]
    assert selectors.reply_draft(complaint, spanish, csr)[1] == "Antes del 5 de diciembre de 2026."
    assert selectors.reply_draft(complaint, english, csr)[1] == "By 5 December 2026."
