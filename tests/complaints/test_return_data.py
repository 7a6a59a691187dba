"""What the returns need on the record: the postal address, a representative, ASIC's
demographics where given; kept by the same ways in as the rest, and scrubbed and exported
like every other personal detail."""

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Complaint
from complaints.selectors.subject_access import subject_case_data
from complaints.services.retention import complaints_anonymise
from complaints.workflow import Refused
from tests import factories

ADDRESS = "12 Harbour Row\nBristol BS1 4QA"


def test_intake_keeps_the_address_and_the_representative(csr):
    complaint = factories.complaint(
        csr, customer_address=ADDRESS, represented=True, representative_name="Ali & Co Solicitors"
    )
    complaint.refresh_from_db()
    assert (complaint.customer_address, complaint.represented, complaint.representative_name) == (
        ADDRESS,
        True,
        "Ali & Co Solicitors",
    )


def test_a_named_representative_without_the_mark_is_refused_and_changes_nothing(csr):
    with pytest.raises(Refused, match="tick the box or remove the name"):
        factories.complaint(csr, representative_name="Someone")
    assert not Complaint.objects.exists()
    complaint = factories.complaint(csr)
    with pytest.raises(Refused, match="tick the box"):
        services.complaint_update(complaint, actor=csr, changes={"representative_name": "X"})
    assert Complaint.objects.get(pk=complaint.pk).representative_name == ""


def test_the_staff_forms_take_the_address_representative_and_demographics(client, csr):
    client.force_login(csr)
    data = {
        "channel": "phone",
        "customer_name": "Priya Shah",
        "customer_phone": "+44 7700 900123",
        "customer_address": ADDRESS,
        "represented": "on",
        "representative_name": "Her son, Ravi",
        "date_of_complaint": "2024-01-15",
        "category": factories.category().pk,
        "complexity": "standard",
        "description": "Charged twice.",
        "submission": "",
    }
    response = client.post(reverse("complaints:create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    complaint = Complaint.objects.get()
    assert complaint.representative_name == "Her son, Ravi"

    edit = {
        **{k: v for k, v in data.items() if k not in ("channel", "submission")},
        "complainant_gender": "female",
        "complainant_age_band": "35_44",
    }
    response = client.post(reverse("complaints:edit", args=[complaint.pk]), edit)
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.complainant_gender, complaint.complainant_age_band) == ("female", "35_44")
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "Harbour Row" in page and "Her son, Ravi" in page and "35 to 44" in page

    unticked = {**edit, "represented": ""}
    response = client.post(reverse("complaints:edit", args=[complaint.pk]), unticked)
    assert response.status_code == 200
    assert "Tick this when a representative acts" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).represented


def test_the_public_form_takes_a_postal_address(client):
    from complaints.customer.forms import PublicComplaintForm

    assert "customer_address" in PublicComplaintForm.base_fields


def test_the_api_logs_and_shows_them(csr):
    from tests.api.conftest import new_complaint, token_client

    client = token_client(csr)
    body = new_complaint(
        customer_address=ADDRESS,
        represented=True,
        representative_name="Claims Co",
        complainant_age_band="65_74",
    )
    response = client.post(reverse("api:complaints"), body, format="json")
    assert response.status_code == 201, response.json()
    detail = response.json()
    assert detail["customer_address"] == ADDRESS
    assert (detail["represented"], detail["representative_name"]) == (True, "Claims Co")
    assert detail["complainant_age_band"] == "65_74"
    wrong = client.post(
        reverse("api:complaints"), new_complaint(representative_name="Claims Co"), format="json"
    )
    assert wrong.status_code == 400


def test_anonymisation_scrubs_them_and_subject_access_exports_them(csr):
    complaint = factories.complaint(
        csr, customer_address=ADDRESS, represented=True, representative_name="Claims Co"
    )
    services.complaint_update(
        complaint,
        actor=csr,
        changes={"complainant_gender": "male", "complainant_age_band": "18_24"},
    )
    exported = subject_case_data(Complaint.objects.get(pk=complaint.pk))
    assert exported["customer_address"] == ADDRESS
    assert exported["representative_name"] == "Claims Co"
    assert (exported["complainant_gender"], exported["complainant_age_band"]) == ("male", "18_24")

    complaints_anonymise([complaint.pk], reason="Test")
    complaint.refresh_from_db()
    assert complaint.customer_address == complaint.representative_name == ""
    assert complaint.complainant_gender == complaint.complainant_age_band == ""
    assert not complaint.history.exclude(customer_address="").exists()
    assert not complaint.history.exclude(representative_name="").exists()
    assert not complaint.history.exclude(complainant_age_band="").exists()
