"""Exited cases in the figures: their own counts in the trend report (and its CSV), on the
dashboard (and in the list each figure links to), and never among the open ones."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, OutboundMessage
from reports import services as reports
from reports.models import Period
from reports.selectors import dashboard
from tests import factories
from tests.reports.test_trend_reports import local, make

pytestmark = pytest.mark.django_db


def withdraw(complaint, actor):
    services.complaint_withdraw(
        complaint, actor=actor, customer_words="No longer", withdrawn_on=timezone.localdate()
    )


def dismiss(complaint, actor):
    services.complaint_not_a_complaint(complaint, actor=actor, reason="An enquiry")


def closed_at(complaint, moment):
    Complaint.objects.filter(pk=complaint.pk).update(closed_at=moment)


def test_the_trend_report_counts_each_exit_of_its_period(manager):
    survivor = make(manager, local(2026, 3, 2))
    withdrawn = make(manager, local(2026, 3, 3))
    merged = make(manager, local(2026, 3, 4))
    dismissed = make(manager, local(2026, 3, 5))
    in_april = make(manager, local(2026, 3, 6))
    withdraw(withdrawn, manager)
    services.complaint_merge(merged, actor=manager, into_reference=survivor.reference)
    dismiss(dismissed, manager)
    withdraw(in_april, manager)
    for complaint, day in ((withdrawn, 10), (merged, 11), (dismissed, 12)):
        closed_at(complaint, local(2026, 3, day))
    closed_at(in_april, local(2026, 4, 2))

    metrics = reports.report_build(Period.MONTHLY, date(2026, 3, 1)).metrics

    assert metrics["exits"] == {
        "total": 3,
        "by_stage": [["Withdrawn", 1], ["Duplicate", 1], ["Not a complaint", 1]],
    }
    # Open at the end of March: the survivor and the case withdrawn in April, nothing else.
    assert metrics["open_at_end"]["total"] == 2
    assert metrics["received"]["total"] == 5


def test_the_report_page_and_its_csv_show_the_exits(client, manager):
    dismissed = make(manager, local(2026, 3, 3))
    dismiss(dismissed, manager)
    closed_at(dismissed, local(2026, 3, 9))
    report = reports.report_build(Period.MONTHLY, date(2026, 3, 1))
    client.force_login(manager)
    page = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "Closed without a resolution" in page
    assert "1 closed without a resolution" in page
    response = client.get(reverse("reports:csv", args=[report.pk, "exits"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Exit", "Complaints"], ["Withdrawn", "0"], ["Duplicate", "0"]] + [
        ["Not a complaint", "1"]
    ]


def test_a_report_built_before_the_exits_still_shows(client, manager):
    report = reports.report_build(Period.MONTHLY, date(2026, 3, 1))
    del report.metrics["exits"]
    report.save(update_fields=["metrics"])
    client.force_login(manager)
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 200
    response = client.get(reverse("reports:csv", args=[report.pk, "exits"]))
    assert response.content.decode().strip() == "Exit,Complaints"


def test_the_dashboard_counts_recent_exits_apart_from_the_open(client, csr, manager):
    kept = factories.complaint(csr)
    recent = [factories.complaint(csr) for _ in range(3)]
    old = factories.complaint(csr)
    withdraw(recent[0], csr)
    withdraw(recent[1], csr)
    services.complaint_merge(recent[2], actor=csr, into_reference=kept.reference)
    dismiss(old, csr)
    closed_at(old, timezone.now() - timedelta(days=40))

    figures = dashboard()

    assert figures["open_total"] == 1
    assert figures["exited_total"] == 3
    assert figures["exited_by_stage"] == [
        ("withdrawn", "Withdrawn", 2),
        ("duplicate", "Duplicate", 1),
        ("not_a_complaint", "Not a complaint", 0),
    ]
    client.force_login(manager)
    home = client.get(reverse("home")).content.decode()
    since = figures["window_start"].isoformat()
    link = f"{reverse('complaints:list')}?stage=exited&closed_from={since}"
    assert link in home
    listed = client.get(f"{reverse('complaints:list')}?stage=exited&closed_from={since}")
    page = listed.content.decode()
    assert all(c.reference in page for c in recent)
    assert old.reference not in page and kept.reference not in page
    assert "closed since" in page


def test_the_emailed_report_and_the_list_csv_name_the_exits(client, manager):
    manager.email = "manager@staff.example.com"
    manager.save(update_fields=["email"])
    dismissed = make(manager, local(2026, 3, 3))
    dismiss(dismissed, manager)
    closed_at(dismissed, local(2026, 3, 9))
    report = reports.report_build(Period.MONTHLY, date(2026, 3, 1))
    reports.report_email_managers(report)
    email = OutboundMessage.objects.get(recipient="manager@staff.example.com")
    expected = "Closed without a resolution: 1 (withdrawn 0, duplicate 0, not a complaint 1)"
    assert expected in email.body_text
    assert "Closed without a resolution" in email.body_html

    client.force_login(manager)
    export = client.get(reverse("complaints:export") + "?stage=exited")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row[:2] for row in rows[1:]] == [[dismissed.reference, "Not a complaint"]]
