"""A complaint made in Spanish on the public form: its acknowledgment, sent through a real
mail server on loopback, reads Spanish from subject to footer, and its link opens in Spanish."""

from email import message_from_bytes, policy

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, MessageKind
from tests.complaints.test_public_form import form_data

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_spanish_complaints_acknowledgment_reaches_the_mail_server_in_spanish(
    client, settings, smtp_server
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.PUBLIC_FORM_RATE_LIMIT = 10_000

    client.post(
        reverse("public-complaint") + "?lang=es",
        form_data(customer_name="Lucía Gómez", customer_email="lucia@example.com"),
    )
    complaint = Complaint.objects.get()
    # What the relay does after commit, here in the test's own process.
    assert services.message_deliver(complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT).pk)

    (received,) = smtp_server.handler.received
    email = message_from_bytes(received.content, policy=policy.default)
    assert email["Subject"] == f"Hemos recibido su reclamación ({complaint.reference})"
    text = email.get_body(preferencelist=("plain",)).get_content()
    html = email.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Estimado/a Lucía Gómez:")
    assert "Esperamos darle nuestra respuesta a más tardar el" in text
    assert " de 20" in text  # the date, as Spanish writes it
    assert "Atentamente," in text
    assert "Dear" not in text and "Kind regards" not in text
    assert '<html lang="es">' in html
    assert "Ver el avance o añadir información" in html
    link = next(line for line in text.splitlines() if "/c/" in line).strip()
    page = client.get(link.removeprefix(settings.SITE_URL), HTTP_ACCEPT_LANGUAGE="en")
    assert "Hola, Lucía Gómez." in page.content.decode()
