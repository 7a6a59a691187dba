"""Reading trend reports through the API: managers only, the stored figures as built."""

from datetime import date

import pytest

from reports.services import report_build
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(csr):
    factories.complaint(csr)
    return report_build("monthly", date(2026, 10, 1))


def test_a_manager_lists_and_reads_the_reports(api, manager, report):
    listed = api(manager).get("/api/v1/reports/", {"period": "monthly"})
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [report.pk]
    detail = api(manager).get(f"/api/v1/reports/{report.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["period"] == "monthly" and body["start"] == "2026-10-01"
    assert body["metrics"] == report.metrics


@pytest.mark.parametrize("persona", ["csr", "resolver", "outsider"])
def test_others_may_not_read_reports(api, report, persona, request):
    user = request.getfixturevalue(persona)
    assert api(user).get("/api/v1/reports/").status_code == 403
    assert api(user).get(f"/api/v1/reports/{report.pk}/").status_code == 403


def test_anonymous_callers_are_told_to_authenticate(api, report):
    assert api().get("/api/v1/reports/").status_code == 401


def test_bad_period_and_unknown_report_are_clear_errors(api, manager, report):
    bad = api(manager).get("/api/v1/reports/", {"period": "yearly"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "period"
    assert api(manager).get(f"/api/v1/reports/{report.pk + 1}/").status_code == 404
