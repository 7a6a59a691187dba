"""The trend report pages: list, detail, CSV tables, rebuild, and the procedure reviews."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Complaint, Product, Resolution
from reports import services as reports
from reports.models import ActionStatus, ImprovementAction, Period, ProcedureReview, TrendReport
from reports.views import TABLES
from tests import factories

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
LIST = reverse("reports:list")
REBUILD = reverse("reports:rebuild")
REVIEWS = reverse("reports:reviews")


def local(year, month, day, hour=12, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def make(actor, received, category="Billing", product="Credit card", **fields):
    complaint = services.complaint_create(
        actor=actor,
        data=factories.complaint_data(
            customer_email="",
            date_of_complaint=received.date(),
            category=factories.category(category),
            product=Product.objects.get_or_create(name=product, parent=None)[0],
        ),
        received_at=received,
    )
    Complaint.objects.filter(pk=complaint.pk).update(
        acknowledgment_due_at=received.astimezone(UTC) + 24 * H, **fields
    )
    return complaint


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def csr_client(client, csr):
    client.force_login(csr)
    return client


@pytest.fixture
def march(manager):
    """March 2026: five complaints in a category named like a formula (new: rising), one in
    Billing; one acknowledged after 3 h, resolved after 48 h with a root cause "@risk" and a
    refund of GBP 12.50."""
    m = manager
    first = make(m, local(2026, 3, 2), "=cmd", "+plus")
    for day in (3, 4, 5, 6):
        make(m, local(2026, 3, day), "=cmd")
    services.complaint_acknowledge(first, actor=m, method="phone", at=local(2026, 3, 2, 15))
    services.complaint_transition(first, "investigating", actor=m)
    services.note_add(first, actor=m, text="Checked.")
    services.resolution_propose(
        first, actor=m, type="refund", description="Refunded.", amount=Decimal("12.50")
    )
    services.resolution_record_customer_response(first, actor=m, accepted=True)
    services.resolution_implement(first, actor=m, notes="Paid.")
    Complaint.objects.filter(pk=first.pk).update(
        resolved_at=local(2026, 3, 4),
        follow_up_started_at=local(2026, 3, 5),
        root_cause=factories.root_cause("@risk"),
    )
    Resolution.objects.filter(complaint=first).update(implemented_at=local(2026, 3, 5))
    make(m, local(2026, 3, 20), "Billing")
    return reports.report_build(Period.MONTHLY, date(2026, 3, 1))


@pytest.fixture
def report():
    """An empty month's report."""
    return reports.report_build(Period.MONTHLY, date(2026, 3, 1))


# Access ---------------------------------------------------------------------------------


def test_the_list_is_for_managers(client, manager, csr, report):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

    client.force_login(csr)
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 403
    csv_url = reverse("reports:csv", args=[report.pk, "by-category"])
    assert client.get(csv_url).status_code == 403
    response = client.post(REBUILD, {"period": "monthly", "day": "2026-03-01"})
    assert response.status_code == 403

    client.force_login(manager)
    response = client.get(LIST)
    assert response.status_code == 200
    assert reverse("reports:detail", args=[report.pk]).encode() in response.content
    assert b"Monthly" in response.content


# Detail and CSV -------------------------------------------------------------------------


def test_the_detail_page_shows_the_figures_charts_and_table_links(manager_client, march):
    response = manager_client.get(reverse("reports:detail", args=[march.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Monthly report from 01 Mar 2026" in page
    assert '<div class="fs-3 fw-semibold">6</div>' in page  # received
    assert "median 3.0 h" in page  # acknowledgment
    assert "1 resolved; median 48.0 h" in page
    assert "<td>=cmd</td><td>5</td>" in page
    assert "<td>GBP</td><td>12.50</td>" in page
    assert "<strong>Rising:</strong> =cmd (5 against an average of 0.0)" in page
    assert page.count("<canvas") == 2
    assert 'id="chart-by-day"' in page and 'id="chart-by-category"' in page
    for slug in TABLES:
        assert f'href="{reverse("reports:csv", args=[march.pk, slug])}"' in page
    assert page.count(">CSV</a>") == len(TABLES)


def download(client, report, slug):
    response = client.get(reverse("reports:csv", args=[report.pk, slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="monthly-2026-03-01-{slug}.csv"'
    )
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_each_table_downloads_as_csv(manager_client, march):
    m = march.metrics
    expected = {
        "by-category": [["'=cmd", "5"], ["Billing", "1"]],
        "by-product": [["Credit card", "5"], ["'+plus", "1"]],
        "by-channel": [["Phone", "6"]],
        "by-day": [[f"2026-03-{d:02d}", "1"] for d in (2, 3, 4, 5, 6, 20)],
        "open-by-stage": [[label, str(n)] for label, n in m["open_at_end"]["by_stage"]],
        "exits": [["Withdrawn", "0"], ["Duplicate", "0"], ["Not a complaint", "0"]],
        "resolution-types": [["Refund", "1"]],
        "money-paid": [["GBP", "12.50"]],
        "root-causes": [["'@risk", "1"]],
        "rising": [["'=cmd", "5", "0.0", ""]],
        "clocks": [
            [row["profile"], row["name"], str(row["stopped"]), str(row["within"])]
            + [str(row[key]) for key in ("within_share", "median", "p90")]
            + [row["unit"]]
            for row in m["clocks"]
        ],
    }
    assert set(expected) == set(TABLES)
    assert m["open_at_end"]["total"] == 6
    for slug, rows in expected.items():
        title, headings, _ = TABLES[slug]
        assert download(manager_client, march, slug) == [headings, *rows], slug


def test_an_unknown_table_is_404(manager_client, report):
    response = manager_client.get(reverse("reports:csv", args=[report.pk, "everything"]))
    assert response.status_code == 404
    assert manager_client.get(reverse("reports:detail", args=[report.pk + 1000])).status_code == 404


# Rebuild --------------------------------------------------------------------------------


def test_rebuilding_a_closed_period_builds_then_replaces(manager_client, manager):
    make(manager, local(2026, 3, 10))
    response = manager_client.post(REBUILD, {"period": "monthly", "day": "2026-03-15"})

    report = TrendReport.objects.get()
    assert (report.period, report.start, report.end) == (
        "monthly",
        date(2026, 3, 1),
        date(2026, 4, 1),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert report.metrics["received"]["total"] == 1

    make(manager, local(2026, 3, 11))
    response = manager_client.post(REBUILD, {"period": "monthly", "day": "2026-03-01"}, follow=True)

    rebuilt = TrendReport.objects.get()
    assert rebuilt.pk == report.pk
    assert rebuilt.metrics["received"]["total"] == 2
    assert rebuilt.built_at > report.built_at
    assert "Monthly report from 01 Mar 2026 built in" in response.content.decode()


@pytest.mark.parametrize("period", ["daily", "weekly", "monthly"])
def test_a_period_not_yet_closed_is_refused(manager_client, period):
    today = timezone.localdate()
    response = manager_client.post(
        REBUILD, {"period": period, "day": today.isoformat()}, follow=True
    )

    assert response.redirect_chain == [(LIST, 302)]
    assert "That period has not closed yet" in response.content.decode()
    assert not TrendReport.objects.exists()


def test_yesterday_has_closed(manager_client):
    yesterday = timezone.localdate() - timedelta(days=1)
    response = manager_client.post(REBUILD, {"period": "daily", "day": yesterday.isoformat()})
    report = TrendReport.objects.get()
    assert (report.period, report.start) == ("daily", yesterday)
    assert response["Location"] == reverse("reports:detail", args=[report.pk])


def test_the_build_form_offers_the_last_closed_period_so_submitting_it_as_is_builds(
    manager_client,
):
    form = manager_client.get(LIST).context["form"]
    yesterday = timezone.localdate() - timedelta(days=1)
    assert (form["period"].value(), form["day"].value()) == ("daily", yesterday)

    manager_client.post(REBUILD, {"period": "daily", "day": form["day"].value().isoformat()})
    assert TrendReport.objects.get().start == yesterday


def test_a_rebuild_with_a_bad_form_is_refused(manager_client):
    response = manager_client.post(REBUILD, {"period": "yearly", "day": "2026-03-01"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "Choose a kind of report" in response.content.decode()
    assert not TrendReport.objects.exists()


def test_get_on_rebuild_is_405(manager_client):
    assert manager_client.get(REBUILD).status_code == 405


# Procedure reviews ----------------------------------------------------------------------


def review_form(manager, csr, **extra):
    return {
        "held_on": "2026-04-20",
        "participants": "Ann Manager\nBen Agent",
        "complaints_reviewed": "CMP-2026-000001",
        "findings": "Acknowledgments slip on Mondays.",
        "action-0-description": "Add a second person on Monday mornings",
        "action-0-owner": manager.pk,
        "action-0-due_date": "2026-05-01",
        "action-1-description": "Retrain on phone acknowledgments",
        "action-1-owner": csr.pk,
        "action-1-due_date": "2026-06-01",
        **extra,
    }


def test_a_manager_records_a_review_with_two_actions(manager_client, manager, csr):
    response = manager_client.post(REVIEWS, review_form(manager, csr))

    assert response.status_code == 302
    assert response["Location"] == REVIEWS
    review = ProcedureReview.objects.get()
    assert review.held_on == date(2026, 4, 20)
    assert review.recorded_by == manager
    assert review.findings == "Acknowledgments slip on Mondays."
    actions = list(review.actions.order_by("due_date"))
    assert [(a.description, a.owner, a.due_date, a.status) for a in actions] == [
        ("Add a second person on Monday mornings", manager, date(2026, 5, 1), "open"),
        ("Retrain on phone acknowledgments", csr, date(2026, 6, 1), "open"),
    ]

    page = manager_client.get(REVIEWS).content.decode()
    assert "Review of 20 Apr 2026" in page
    assert "Acknowledgments slip on Mondays." in page
    assert "Add a second person on Monday mornings" in page
    assert "Retrain on phone acknowledgments" in page
    # The next review falls due 90 days after this one, a date already past.
    assert "A review of the complaints procedure is due (since 19 Jul 2026)." in page


def test_a_review_with_an_unfinished_action_is_not_recorded(manager_client, manager, csr):
    data = review_form(manager, csr)
    del data["action-1-due_date"]
    response = manager_client.post(REVIEWS, data)
    assert response.status_code == 200
    assert not ProcedureReview.objects.exists()
    assert not ImprovementAction.objects.exists()


def test_a_review_can_link_the_reports_it_looked_at(manager_client, manager, csr):
    report = reports.report_build(Period.MONTHLY, date(2026, 3, 1))
    response = manager_client.post(REVIEWS, review_form(manager, csr, reports=[report.pk]))
    assert "is not a valid value" not in response.content.decode()
    assert response.status_code == 302
    assert list(ProcedureReview.objects.get().reports.all()) == [report]


@pytest.fixture
def review(manager, csr):
    review = ProcedureReview.objects.create(
        held_on=date(2026, 1, 10), participants="Ann", findings="Fine.", recorded_by=manager
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    overdue = ImprovementAction.objects.create(
        review=review, description="Overdue thing", owner=manager, due_date=yesterday
    )
    done_late = ImprovementAction.objects.create(
        review=review,
        description="Done thing",
        owner=csr,
        due_date=yesterday,
        status=ActionStatus.DONE,
        completed_at=timezone.now(),
    )
    later = ImprovementAction.objects.create(
        review=review,
        description="Later thing",
        owner=csr,
        due_date=timezone.localdate() + timedelta(days=30),
    )
    return overdue, done_late, later


def test_an_action_is_marked_done_then_reopened(manager_client, review):
    _, _, later = review
    url = reverse("reports:action-status", args=[later.pk])

    response = manager_client.post(url, {"status": "done"})
    assert response.status_code == 302
    assert response["Location"] == REVIEWS
    later.refresh_from_db()
    assert later.status == ActionStatus.DONE
    assert later.completed_at is not None
    assert abs(later.completed_at - timezone.now()) < timedelta(minutes=1)

    manager_client.post(url, {"status": "open"})
    later.refresh_from_db()
    assert (later.status, later.completed_at) == (ActionStatus.OPEN, None)

    manager_client.post(url, {"status": "finished"})  # not a status: nothing changes
    later.refresh_from_db()
    assert later.status == ActionStatus.OPEN
    assert manager_client.get(url).status_code == 405


def test_an_overdue_open_action_is_shown_overdue(manager_client, review):
    overdue, done_late, _ = review
    page = manager_client.get(REVIEWS).content.decode()

    assert page.count("countdown-overdue") == 1
    due = overdue.due_date.strftime("%-d %b %Y")
    assert f'<td class="countdown-overdue">{due}</td>' in page
    # The last review was held on 10 Jan 2026, so the next one was due on 10 Apr 2026.
    assert "A review of the complaints procedure is due (since 10 Apr 2026)." in page


def test_a_csr_cannot_see_or_record_reviews(csr_client, manager, csr, review):
    _, _, later = review
    assert csr_client.get(REVIEWS).status_code == 403
    assert csr_client.post(REVIEWS, review_form(manager, csr)).status_code == 403
    url = reverse("reports:action-status", args=[later.pk])
    assert csr_client.post(url, {"status": "done"}).status_code == 403
    assert ProcedureReview.objects.count() == 1
    later.refresh_from_db()
    assert later.status == ActionStatus.OPEN
