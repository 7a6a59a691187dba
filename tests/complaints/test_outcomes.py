"""The outcome of a complaint: recorded in its profile's regulator's terms, required before
Documented, shown and filtered everywhere."""

import csv
import io

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, RegulatoryProfile
from complaints.outcomes import OUTCOMES, Scheme, cfpb_outcome
from complaints.workflow import Refused, Stage
from tests import factories


def under(profile_code, complaint, manager):
    RegulatoryProfile.objects.filter(code=profile_code).update(active=True)
    profile = RegulatoryProfile.objects.get(code=profile_code)
    services.complaint_profile_change(
        complaint, actor=manager, profile=profile, reason="Customer lives there."
    )
    complaint.refresh_from_db()
    return complaint


@pytest.fixture
def investigating(csr, resolver, manager):
    return factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )


@pytest.mark.django_db
def test_the_catalogue_profiles_follow_their_regulators_scheme():
    schemes = dict(RegulatoryProfile.objects.values_list("code", "returns_scheme"))
    assert schemes == {
        "house": "fca",
        "fca": "fca",
        "fca-payments": "fca",
        "asic": "asic",
        "asic-super": "asic",
        "cfpb": "cfpb",
    }


def test_the_house_records_the_fca_style_outcomes(csr, investigating):
    for code, _ in OUTCOMES[Scheme.FCA]:
        services.complaint_outcome_record(investigating, actor=csr, outcome=code)
        investigating.refresh_from_db()
        assert investigating.outcome == code
    record = investigating.history.first()
    assert (record.history_user, record.history_change_reason) == (
        csr,
        "Outcome recorded: Not upheld",
    )


def test_an_outcome_of_another_regulator_is_refused_and_changes_nothing(
    csr, manager, investigating
):
    complaint = under("asic", investigating, manager)
    with pytest.raises(Refused) as refused:
        services.complaint_outcome_record(complaint, actor=csr, outcome="upheld")
    assert refused.value.message.startswith("Under ASIC (RG 271) the outcome is one of: Apology")
    complaint.refresh_from_db()
    assert complaint.outcome == ""
    services.complaint_outcome_record(complaint, actor=csr, outcome="asic_monetary")
    assert Complaint.objects.get(pk=complaint.pk).outcome == "asic_monetary"


def test_a_reviewed_complaint_keeps_its_outcome(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "reviewed", csr=csr, resolver=resolver, manager=manager
    )
    with pytest.raises(Refused):
        services.complaint_outcome_record(complaint, actor=manager, outcome="not_upheld")
    assert Complaint.objects.get(pk=complaint.pk).outcome == "upheld"


def test_someone_who_may_not_edit_the_case_cannot_record_its_outcome(csr2, investigating, client):
    with pytest.raises(Refused):
        services.complaint_outcome_record(investigating, actor=csr2, outcome="upheld")
    client.force_login(csr2)
    url = reverse("complaints:action", args=[investigating.pk, "outcome"])
    assert client.post(url, {"outcome": "upheld"}).status_code == 404
    assert Complaint.objects.get(pk=investigating.pk).outcome == ""


def test_the_documented_gate_names_the_outcome_until_it_is_recorded(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager
    )
    services.complaint_update(complaint, actor=csr, changes={"root_cause": factories.root_cause()})
    services.feedback_record(complaint, actor=csr, score=4, resolved=True)
    with pytest.raises(Refused, match="Cannot move to Documented: the outcome is missing."):
        services.complaint_transition(complaint, Stage.DOCUMENTED, actor=csr)
    services.complaint_outcome_record(complaint, actor=csr, outcome="not_upheld")
    services.complaint_transition(complaint, Stage.DOCUMENTED, actor=csr)
    assert Complaint.objects.get(pk=complaint.pk).stage == Stage.DOCUMENTED


def test_the_case_page_offers_the_profiles_outcomes_inline_and_records_one(
    client, csr, manager, investigating
):
    complaint = under("cfpb", investigating, manager)
    client.force_login(csr)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "Closed with monetary relief" in page
    assert "Partly upheld" not in page
    url = reverse("complaints:action", args=[complaint.pk, "outcome"])

    refused = client.post(url, {"outcome": "upheld"})
    assert refused.status_code == 400
    assert Complaint.objects.get(pk=complaint.pk).outcome == ""

    response = client.post(url, {"outcome": "closed_with_explanation"}, follow=True)
    assert "Outcome recorded." in response.content.decode()
    assert "Closed with explanation" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).outcome == "closed_with_explanation"


def test_the_list_filters_and_exports_the_outcome(client, csr, resolver, manager):
    done = factories.complaint_at_stage("documented", csr=csr, resolver=resolver, manager=manager)
    factories.complaint(csr)
    client.force_login(manager)
    listed = client.get(reverse("complaints:list"), {"stage": "all", "outcome": "upheld"})
    assert [c.pk for c in listed.context["rows"]] == [done.pk]
    none = client.get(reverse("complaints:list"), {"stage": "all", "outcome": "none"})
    assert done.pk not in [c.pk for c in none.context["rows"]]

    export = client.get(reverse("complaints:export"), {"stage": "all", "outcome": "upheld"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [(row["Reference"], row["Outcome"]) for row in rows] == [(done.reference, "Upheld")]


def test_the_api_records_and_shows_the_outcome(csr, investigating):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(csr)
    url = reverse("api:outcome", args=[investigating.pk])
    wrong = api.post(url, {"outcome": "asic_apology"}, format="json")
    assert wrong.status_code == 409
    assert "Upheld, Partly upheld and Not upheld" in wrong.json()["errors"][0]["message"]
    answer = api.post(url, {"outcome": "partly_upheld"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "partly_upheld"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Closed with explanation", "closed_with_explanation"),
        ("Closed with monetary relief", "closed_with_monetary_relief"),
        ("closed with non-monetary relief", "closed_with_non_monetary_relief"),
        ("In progress", "in_progress"),
        ("Untimely response", "untimely_response"),
        ("Closed", "closed"),
        ("Something else", None),
    ],
)
def test_the_cfpb_company_responses_are_outcomes(text, code):
    assert cfpb_outcome(text) == code
