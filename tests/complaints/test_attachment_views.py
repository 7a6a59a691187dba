"""Supporting documents through the web: what is refused, where accepted files land, and who
may download them."""

from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Attachment, Complaint
from complaints.uploads import UploadRejected
from tests import factories

pytestmark = pytest.mark.django_db

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
)
MARKUP_REFUSAL = (
    "This file contains web page or script content (HTML, SVG or XML), which we cannot "
    "accept. Please save it as a PDF and upload that instead."
)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def files_under(root):
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attach(client, complaint, name, data, content_type="application/pdf"):
    return client.post(
        reverse("complaints:action", args=[complaint.pk, "attach"]),
        {"file": SimpleUploadedFile(name, data, content_type)},
        follow=True,
    )


def post_raw_file_name(client, complaint, file_name, data):
    """A multipart body written by hand, so the file name goes out exactly as given."""
    boundary = "RedressTestBoundary7MA4YWxk"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        reverse("complaints:action", args=[complaint.pk, "attach"]),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow=True,
    )


def intake_data(**overrides):
    data = {
        "channel": "phone",
        "customer_name": "Priya Shah",
        "customer_email": "",
        "customer_phone": "07700 900123",
        "date_of_complaint": timezone.localdate().isoformat(),
        "category": factories.category().pk,
        "product": factories.product().pk,
        "transaction_reference": "",
        "complexity": "standard",
        "description": "I was charged twice for one purchase.",
        "interaction_details": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def complaint(csr):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    complaint.refresh_from_db()
    return complaint


def assert_refused_and_nothing_changed(response, complaint, message, settings):
    assert response.redirect_chain == [(reverse("complaints:detail", args=[complaint.pk]), 302)]
    assert messages_of(response) == [message]
    assert message in response.content.decode()
    assert not Attachment.objects.exists()
    assert files_under(settings.ATTACHMENT_ROOT) == []
    before = (complaint.history.count(), complaint.updated_at, complaint.stage)
    complaint.refresh_from_db()
    assert (complaint.history.count(), complaint.updated_at, complaint.stage) == before


# Refused uploads through the "attach" action ----------------------------------------------


def test_oversize_attachment_is_refused_with_the_limit_and_leaves_nothing(
    client, csr, complaint, settings
):
    settings.ATTACHMENT_MAX_BYTES = 100
    client.force_login(csr)

    response = attach(client, complaint, "statement.pdf", PDF + b"%" * 200)

    assert_refused_and_nothing_changed(
        response, complaint, "This file is larger than the 100 bytes limit.", settings
    )


def test_attachment_exactly_at_the_limit_is_accepted(client, csr, complaint, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PDF)
    client.force_login(csr)

    response = attach(client, complaint, "statement.pdf", PDF)

    assert messages_of(response) == ["Document attached."]
    assert complaint.attachments.get().size == len(PDF)


def test_html_renamed_pdf_is_refused(client, csr, complaint, settings):
    client.force_login(csr)

    response = attach(client, complaint, "invoice.pdf", HTML, "application/pdf")

    assert_refused_and_nothing_changed(response, complaint, MARKUP_REFUSAL, settings)


def test_svg_is_refused(client, csr, complaint, settings):
    client.force_login(csr)

    response = attach(client, complaint, "diagram.svg", SVG, "image/svg+xml")

    assert_refused_and_nothing_changed(response, complaint, MARKUP_REFUSAL, settings)


def test_pdf_with_html_inside_is_refused(client, csr, complaint, settings):
    client.force_login(csr)

    response = attach(client, complaint, "polyglot.pdf", PDF + HTML)

    assert_refused_and_nothing_changed(response, complaint, MARKUP_REFUSAL, settings)


def test_attach_without_a_file_is_a_form_error(client, csr, complaint, settings):
    client.force_login(csr)

    response = client.post(reverse("complaints:action", args=[complaint.pk, "attach"]), {})

    assert response.status_code == 400
    assert messages_of(response) == ["Please correct the errors below."]
    assert not Attachment.objects.exists()


# Accepted uploads and where they land -----------------------------------------------------


def test_pdf_named_with_a_path_is_stored_under_a_generated_name_inside_the_root(
    client, csr, complaint, settings, tmp_path
):
    client.force_login(csr)
    outside_before = {p for p in tmp_path.parent.rglob("*") if p.is_file()}

    response = post_raw_file_name(client, complaint, "../../x.pdf", PDF)

    assert messages_of(response) == ["Document attached."]
    attachment = complaint.attachments.get()
    assert attachment.original_name == "x.pdf"
    assert (attachment.content_type, attachment.kind) == ("application/pdf", "PDF document")
    assert (attachment.size, attachment.uploaded_by) == (len(PDF), csr)
    assert "x.pdf" not in attachment.stored_name
    assert len(attachment.stored_name) == 32
    root = Path(settings.ATTACHMENT_ROOT).resolve()
    stored = services.attachment_path(attachment).resolve()
    assert stored.is_relative_to(root)
    assert stored.read_bytes() == PDF
    assert files_under(root) == [stored]
    # Nothing new anywhere else in the test's temporary tree, nor next to the code.
    outside_after = {p for p in tmp_path.parent.rglob("*") if p.is_file()}
    assert {p.resolve() for p in outside_after - outside_before} == {stored}
    assert not Path("x.pdf").exists()
    assert not Path("../x.pdf").exists()


@pytest.mark.parametrize("name", ["../../x.pdf", "..\\..\\x.pdf", "/etc/x.pdf", "C:\\x.pdf"])
def test_service_never_uses_the_uploaded_path_on_disk(csr, complaint, settings, tmp_path, name):
    """Below the view (a parser that kept the path, an API caller) the name is still ignored."""

    class RawUpload:  # Django's UploadedFile would strip the path before we saw it
        def __init__(self, name, data):
            self.name, self.data = name, data

        def chunks(self):
            yield self.data

    outside_before = {p for p in tmp_path.parent.rglob("*") if p.is_file()}

    attachment = services.attachment_add(complaint, actor=csr, upload=RawUpload(name, PDF))

    assert attachment.original_name == "x.pdf"
    stored = services.attachment_path(attachment).resolve()
    assert stored.is_relative_to(Path(settings.ATTACHMENT_ROOT).resolve())
    outside_after = {p for p in tmp_path.parent.rglob("*") if p.is_file()}
    assert {p.resolve() for p in outside_after - outside_before} == {stored}


# Uploads on the intake form ---------------------------------------------------------------


def test_intake_with_an_oversize_attachment_creates_nothing(client, csr, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    client.force_login(csr)

    response = client.post(
        reverse("complaints:create"),
        {
            **intake_data(),
            "attachments": SimpleUploadedFile("big.pdf", PDF + b"%" * 200, "application/pdf"),
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == [
        "This file is larger than the 100 bytes limit."
    ]
    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()
    assert files_under(settings.ATTACHMENT_ROOT) == []


def test_intake_with_one_bad_attachment_among_good_ones_leaves_no_file_behind(
    client, csr, settings
):
    client.force_login(csr)

    response = client.post(
        reverse("complaints:create"),
        {
            **intake_data(),
            "attachments": [
                SimpleUploadedFile("receipt.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("invoice.pdf", HTML, "application/pdf"),
            ],
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == [MARKUP_REFUSAL]
    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()
    # The good file had been written before the bad one was read; it is gone again.
    assert files_under(settings.ATTACHMENT_ROOT) == []


def test_intake_refuses_svg(client, csr, settings):
    client.force_login(csr)

    response = client.post(
        reverse("complaints:create"),
        {**intake_data(), "attachments": SimpleUploadedFile("logo.svg", SVG, "image/svg+xml")},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == [MARKUP_REFUSAL]
    assert not Complaint.objects.exists()
    assert files_under(settings.ATTACHMENT_ROOT) == []


def test_intake_stores_several_attachments(client, csr, settings):
    client.force_login(csr)

    client.post(
        reverse("complaints:create"),
        {
            **intake_data(),
            "attachments": [
                SimpleUploadedFile("receipt.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("call notes", b"Customer called at 9am.\n", "text/plain"),
            ],
        },
    )

    complaint = Complaint.objects.get()
    names = sorted(complaint.attachments.values_list("original_name", "content_type"))
    assert names == [
        ("call notes.txt", "text/plain; charset=utf-8"),
        ("receipt.pdf", "application/pdf"),
    ]
    assert len(files_under(settings.ATTACHMENT_ROOT)) == 2


def test_intake_failing_after_the_files_were_written_leaves_no_file_behind(
    csr, settings, monkeypatch
):
    settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW = False

    def broken_email(complaint, **kwargs):
        raise RuntimeError("template error while rendering the acknowledgment")

    monkeypatch.setattr("complaints.outbox.messages.queue_acknowledgment", broken_email)
    data = factories.complaint_data(customer_email="priya@example.com")

    with pytest.raises(RuntimeError):
        services.complaint_create(
            actor=csr,
            data=data,
            uploads=[SimpleUploadedFile("receipt.pdf", PDF, "application/pdf")],
        )

    assert not Complaint.objects.exists()
    assert not Attachment.objects.exists()
    assert files_under(settings.ATTACHMENT_ROOT) == []


# Downloads ------------------------------------------------------------------------------


@pytest.fixture
def stored_pdf(client, csr, complaint):
    client.force_login(csr)
    post_raw_file_name(client, complaint, "../../x.pdf", PDF)
    return complaint.attachments.get()


def download_url(attachment):
    return reverse("complaints:attachment", args=[attachment.pk])


def test_download_is_an_attachment_with_the_detected_type_and_the_same_bytes(client, stored_pdf):
    response = client.get(download_url(stored_pdf))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="x.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    response.close()


def test_download_type_comes_from_detection_not_from_the_browser(client, csr, complaint):
    client.force_login(csr)
    attach(client, complaint, "notes.txt", b"Plain words only.\n", content_type="text/html")
    attachment = complaint.attachments.get()

    response = client.get(download_url(attachment))

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"Plain words only.\n"
    response.close()


def test_download_by_a_csr_who_cannot_see_the_complaint_is_404(client, csr2, stored_pdf):
    client.force_login(csr2)

    assert client.get(download_url(stored_pdf)).status_code == 404


def test_download_by_an_anonymous_visitor_redirects_to_login(stored_pdf):
    from django.test import Client

    response = Client().get(download_url(stored_pdf))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=" in response.url


def test_download_of_a_nonexistent_attachment_is_404(client, csr):
    client.force_login(csr)

    assert client.get(reverse("complaints:attachment", args=[999999])).status_code == 404


def test_download_of_a_file_missing_from_disk_is_404(client, stored_pdf):
    services.attachment_path(stored_pdf).unlink()

    assert client.get(download_url(stored_pdf)).status_code == 404


def test_upload_rejected_is_what_the_service_raises(csr, complaint, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(UploadRejected, match="larger than the 10 bytes limit"):
        services.attachment_add(
            complaint, actor=csr, upload=SimpleUploadedFile("a.pdf", PDF, "application/pdf")
        )
    assert files_under(settings.ATTACHMENT_ROOT) == []
