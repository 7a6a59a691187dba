"""Subject access: every fact about the person, none about anyone else, recorded on the
cases and in the security log; erasure with two managers, refused while a hold or a
retention minimum applies."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent, SecurityEventKind
from complaints import services
from complaints.models import Anonymisation, Complaint, ErasureRequest, ErasureStatus, Note
from complaints.selectors.subject_access import Subject, subject_complaints
from complaints.services.erasure import erasure_approve, erasure_refuse, erasure_request
from complaints.services.retention import legal_hold_place
from complaints.services.subject_access import subject_access_export
from complaints.workflow import Refused
from tests import factories
from tests.complaints.test_retention import PDF, YEARS, closed_case, policy
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PRIYA = Subject(email="priya@example.com")


@pytest.fixture
def manager2(django_user_model):
    return make_user(django_user_model, "manager2", "manager")


@pytest.fixture
def priya_and_bob(csr, resolver, manager):
    priya = closed_case(csr, resolver, manager, customer_phone="07700 900123")
    services.note_add(
        factories.complaint(csr, customer_name="Priya Shah", customer_email="priya@example.com"),
        actor=csr,
        text="She called again about the second charge.",
    )
    bob = factories.complaint(
        csr,
        customer_name="Bob Jones",
        customer_email="bob@example.com",
        description="Bob's own story about his loan.",
    )
    services.attachment_add(
        bob, actor=csr, upload=SimpleUploadedFile("bob-payslip.pdf", PDF, "application/pdf")
    )
    return priya, bob


def unzip(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    return archive, json.loads(archive.read("data.json"))


def test_the_person_is_found_by_email_phone_name_and_past_details(priya_and_bob, csr):
    priya, bob = priya_and_bob
    assert set(subject_complaints(PRIYA)) == set(
        Complaint.objects.filter(customer_email="priya@example.com")
    )
    assert list(subject_complaints(Subject(phone="+44 7700 900123"))) == []
    assert list(subject_complaints(Subject(phone="07700 900123"))) == [priya]
    assert bob in subject_complaints(Subject(name="bob  jones"))
    # An address changed since is still hers.
    moved = factories.complaint(csr, customer_email="priya@example.com")
    services.complaint_update(moved, actor=csr, changes={"customer_email": "new@example.com"})
    assert moved in subject_complaints(PRIYA)


def test_the_export_holds_every_fact_about_the_person_and_none_about_anyone_else(
    priya_and_bob, manager
):
    priya, bob = priya_and_bob
    ids = list(subject_complaints(PRIYA).values_list("pk", flat=True))
    content, references = subject_access_export(PRIYA, [*ids, bob.pk], actor=manager)
    archive, data = unzip(content)
    assert sorted(references) == sorted(c["reference"] for c in data["complaints"])
    assert bob.reference not in references
    text = json.dumps(data)
    assert "Bob" not in text and "bob@example.com" not in text
    first = next(c for c in data["complaints"] if c["reference"] == priya.reference)
    assert first["customer_email"] == "priya@example.com"
    assert first["customer_phone"] == "07700 900123"
    assert first["description"] == priya.description
    assert first["emails"] and first["emails"][0]["body"]
    assert first["feedback"][0]["comment"] == "Thanks, Priya"
    assert first["stages"][-1]["to"] == "reviewed"
    assert first["history"][0]["values"]["customer_name"] == "Priya Shah"
    assert any("second charge" in n["text"] for c in data["complaints"] for n in c["notes"])
    document = first["documents"][0]
    assert archive.read(document["file"]) == PDF
    assert archive.read("summary.pdf").startswith(b"%PDF")
    names = archive.namelist()
    assert all(n in ("data.json", "summary.pdf") or n.startswith("documents/") for n in names)
    # Recorded on each case's timeline.
    for pk in ids:
        assert Note.objects.filter(complaint_id=pk, text__startswith="Subject access").exists()


def test_only_managers_export(priya_and_bob, csr):
    with pytest.raises(Refused):
        subject_access_export(PRIYA, [priya_and_bob[0].pk], actor=csr)


def test_the_export_page_downloads_the_zip_and_logs_it(client, manager, priya_and_bob):
    priya, _ = priya_and_bob
    client.force_login(manager)
    page = client.get(reverse("complaints:privacy"), {"email": "priya@example.com"})
    assert page.status_code == 200
    assert priya.reference.encode() in page.content
    response = client.post(
        reverse("complaints:privacy-export"),
        {"email": "priya@example.com", "complaints": [priya.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    _, data = unzip(response.content)
    assert [c["reference"] for c in data["complaints"]] == [priya.reference]
    event = SecurityEvent.objects.get(kind=SecurityEventKind.DATA_EXPORTED)
    assert priya.reference in event.detail and event.actor == manager


def test_the_privacy_pages_are_for_managers_only(client, csr):
    client.force_login(csr)
    assert client.get(reverse("complaints:privacy")).status_code == 403
    assert client.post(reverse("complaints:privacy-export"), {}).status_code == 403
    assert client.get(reverse("complaints:privacy-record")).status_code == 403


def test_a_search_without_anything_to_search_for_says_so(client, manager):
    client.force_login(manager)
    page = client.get(reverse("complaints:privacy"), {"email": "", "phone": "12"})
    assert page.status_code == 200
    assert b"at least 6 digits" in page.content
    page = client.get(reverse("complaints:privacy"), {"email": "not an address"})
    assert page.status_code == 200 and b"valid email" in page.content


def test_erasure_needs_a_second_manager(priya_and_bob, manager, manager2):
    priya, _ = priya_and_bob
    request = erasure_request(PRIYA, [priya.pk], actor=manager, reason="Email of 5 Dec")
    with pytest.raises(Refused, match="second manager"):
        erasure_approve(request, actor=manager)
    assert erasure_approve(request, actor=manager2) == 1
    priya.refresh_from_db()
    assert priya.customer_email == "" and priya.customer_name == "Anonymised"
    request.refresh_from_db()
    assert request.status == ErasureStatus.DONE and request.decided_by == manager2
    assert Anonymisation.objects.get(complaint=priya).erasure == request
    with pytest.raises(Refused, match="already decided"):
        erasure_refuse(request, actor=manager2, note="no")


def test_erasure_is_refused_with_the_reason_under_a_legal_hold(priya_and_bob, manager):
    priya, _ = priya_and_bob
    legal_hold_place(priya, actor=manager, reason="Litigation L-42")
    with pytest.raises(Refused, match="legal hold.*L-42"):
        erasure_request(PRIYA, [priya.pk], actor=manager, reason="Asked by phone")
    assert not ErasureRequest.objects.exists()


def test_erasure_is_refused_inside_the_retention_minimum(priya_and_bob, manager, manager2):
    priya, _ = priya_and_bob
    request = erasure_request(PRIYA, [priya.pk], actor=manager, reason="Asked by phone")
    policy(minimum_days=6 * YEARS, anonymise_after_days=7 * YEARS)
    with pytest.raises(Refused, match="must be kept until .*FCA DISP 1.9.1R"):
        erasure_approve(request, actor=manager2)
    priya.refresh_from_db()
    assert priya.customer_name == "Priya Shah"


def test_erasure_of_an_open_case_is_refused(priya_and_bob, manager):
    open_case = subject_complaints(PRIYA).exclude(stage="reviewed").get()
    with pytest.raises(Refused, match="still open"):
        erasure_request(PRIYA, [open_case.pk], actor=manager, reason="Asked")


def test_erasure_through_the_pages(client, manager, manager2, priya_and_bob):
    priya, _ = priya_and_bob
    client.force_login(manager)
    client.post(
        reverse("complaints:privacy-erasure"),
        {"email": "priya@example.com", "complaints": [priya.pk], "reason": "Letter of 1 Dec"},
    )
    erasure = ErasureRequest.objects.get()
    client.force_login(manager2)
    response = client.post(
        reverse("complaints:privacy-erasure-decide", args=[erasure.pk, "approve"]), {"note": ""}
    )
    assert response.status_code == 302
    priya.refresh_from_db()
    assert priya.customer_name == "Anonymised"


def test_the_record_page_verifies(client, manager, priya_and_bob):
    client.force_login(manager)
    page = client.post(reverse("complaints:privacy-record"))
    assert b"The record is intact" in page.content
    Note.objects.filter(complaint=priya_and_bob[0]).update(text="Rewritten")
    page = client.post(reverse("complaints:privacy-record"))
    assert b"break" in page.content and priya_and_bob[0].reference.encode() in page.content


def test_legal_holds_through_the_page(client, manager, priya_and_bob):
    priya, _ = priya_and_bob
    client.force_login(manager)
    client.post(
        reverse("complaints:privacy-hold", args=["place"]),
        {"reference": priya.reference.lower(), "reason": "Ombudsman"},
    )
    assert priya.legal_holds.filter(released_at__isnull=True).exists()
    client.post(
        reverse("complaints:privacy-hold", args=["release"]),
        {"reference": priya.reference, "reason": "Settled"},
    )
    assert not priya.legal_holds.filter(released_at__isnull=True).exists()
    response = client.post(
        reverse("complaints:privacy-hold", args=["place"]), {"reference": "CMP-1", "reason": "x"}
    )
    assert response.status_code == 302
    assert timezone.now() - timedelta(minutes=1) < priya.legal_holds.get().released_at
