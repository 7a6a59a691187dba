"""Early resolution (docs/clocks.md): a complaint resolved within its profile's window (FCA
DISP 1.5: by the close of the third business day after the day of receipt; ASIC RG 271:
five business days) is marked at its resolution, with a history row and a timeline entry,
and unmarked when it is reopened; the early-resolution clock's verdict is the same rule's."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints import services
from complaints.clocks.calendars import Calendar
from complaints.clocks.engine import resolved_early
from complaints.models import ClockDefinition, Complaint, ComplaintClock, RegulatoryProfile
from complaints.selectors.timeline import EARLY_RESOLUTION_TITLES, complaint_timeline
from reports.metrics import clock_compliance
from tests import factories
from tests.api.conftest import token_client
from tests.complaints.test_list_search_export import LIST, client_for, exported, listed
from tests.complaints.test_regulatory_clocks import clocks_of, profile

LONDON = ZoneInfo("Europe/London")
PERTH = ZoneInfo("Australia/Perth")
ENGLAND = Calendar("GB", "ENG", "Europe/London")
SCOTLAND = Calendar("GB", "SCT", "Europe/London")
NEW_SOUTH_WALES = Calendar("AU", "NSW", "Australia/Sydney")
WESTERN_AUSTRALIA = Calendar("AU", "WA", "Australia/Perth")


# The rule, worked by hand ---------------------------------------------------------------------


def test_fca_friday_receipt_over_englands_august_bank_holiday():
    # Friday 28 August 2026. England's summer bank holiday is Monday 31 August, Scotland's
    # was on the 3rd: the third business day after receipt is Thursday 3 September in
    # England, Wednesday 2 September in Scotland.
    received = datetime(2026, 8, 28, 16, 30, tzinfo=LONDON)
    wednesday_evening = datetime(2026, 9, 2, 23, 0, tzinfo=LONDON)
    thursday = datetime(2026, 9, 3, 14, 0, tzinfo=LONDON)
    friday_morning = datetime(2026, 9, 4, 0, 1, tzinfo=LONDON)

    assert resolved_early(received, wednesday_evening, 3, SCOTLAND)
    assert not resolved_early(received, thursday, 3, SCOTLAND)
    assert resolved_early(received, thursday, 3, ENGLAND)
    assert not resolved_early(received, friday_morning, 3, ENGLAND)


def test_the_firms_closures_lengthen_the_window():
    received = datetime(2026, 8, 28, 16, 30, tzinfo=LONDON)
    friday = datetime(2026, 9, 4, 12, 0, tzinfo=LONDON)
    closed_tuesday = Calendar("GB", "ENG", "Europe/London", closures={date(2026, 9, 1)})

    assert not resolved_early(received, friday, 3, ENGLAND)
    assert resolved_early(received, friday, 3, closed_tuesday)


def test_asic_five_business_days_in_western_australia_and_new_south_wales():
    # Friday 26 September 2025, 10:00 in Perth. Monday 29th is King's Birthday in WA only,
    # Monday 6 October Labour Day in NSW only: the fifth business day is Friday 3 October in
    # NSW and Monday 6 October in WA.
    received = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)
    monday_morning_in_perth = datetime(2025, 10, 6, 10, 0, tzinfo=PERTH)

    assert resolved_early(received, monday_morning_in_perth, 5, WESTERN_AUSTRALIA)
    assert not resolved_early(received, monday_morning_in_perth, 5, NEW_SOUTH_WALES)
    assert resolved_early(
        received, datetime(2025, 10, 3, 23, 0, tzinfo=ZoneInfo("Australia/Sydney")), 5,
        NEW_SOUTH_WALES,
    )  # fmt: skip


def test_a_profile_without_a_window_never_resolves_early():
    received = datetime(2026, 8, 28, 16, 30, tzinfo=LONDON)

    assert not resolved_early(received, received + timedelta(minutes=5), None, ENGLAND)


# The mark, set by the real services ------------------------------------------------------------


def resolved(csr, resolver, manager, *, hours_ago):
    return factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager, hours_ago=hours_ago
    )


@pytest.mark.django_db
def test_a_complaint_resolved_within_three_business_days_is_marked_once(csr, resolver, manager):
    profile("fca", active=True)

    complaint = resolved(csr, resolver, manager, hours_ago=2)

    assert complaint.profile.code == "fca"
    assert complaint.early_resolution_at == complaint.follow_up_started_at
    clock = clocks_of(complaint)["early-resolution"]
    assert (clock.stop_event, clock.met) == ("resolved", True)
    # Written with the move, in its history row.
    first_marked = complaint.history.exclude(early_resolution_at=None).earliest("history_date")
    assert first_marked.stage == "follow_up"
    assert first_marked.history_change_reason.startswith("Resolution implemented")
    titles = [entry.title for entry in complaint_timeline(complaint)]
    assert titles.count(EARLY_RESOLUTION_TITLES[True]) == 1


@pytest.mark.django_db
def test_a_complaint_resolved_late_is_not_marked_and_its_window_is_missed(csr, resolver, manager):
    profile("fca", active=True)

    complaint = resolved(csr, resolver, manager, hours_ago=24 * 30)

    assert complaint.early_resolution_at is None
    clock = clocks_of(complaint)["early-resolution"]
    assert (clock.stop_event, clock.met) == ("resolved", False)
    assert EARLY_RESOLUTION_TITLES[True] not in [e.title for e in complaint_timeline(complaint)]


@pytest.mark.django_db
def test_the_house_rules_have_no_early_resolution(csr, resolver, manager):
    complaint = resolved(csr, resolver, manager, hours_ago=2)

    assert complaint.profile.code == "house"
    assert complaint.early_resolution_at is None
    assert "early-resolution" not in clocks_of(complaint)


@pytest.mark.django_db
def test_a_reopening_unmarks_it_and_the_clock_keeps_its_record(csr, resolver, manager):
    profile("fca", active=True)
    complaint = resolved(csr, resolver, manager, hours_ago=2)

    services.feedback_record(complaint, actor=None, score=2, resolved=False)

    complaint.refresh_from_db()
    assert complaint.reopen_count == 1
    assert complaint.early_resolution_at is None
    assert clocks_of(complaint)["early-resolution"].met is True
    titles = [entry.title for entry in complaint_timeline(complaint)]
    assert titles.index(EARLY_RESOLUTION_TITLES[True]) < titles.index(
        EARLY_RESOLUTION_TITLES[False]
    )


@pytest.mark.django_db
def test_a_case_moved_to_a_profile_with_a_window_is_judged_by_it(csr, resolver, manager):
    complaint = resolved(csr, resolver, manager, hours_ago=2)
    fca = profile("fca", active=True)

    services.complaint_profile_change(complaint, actor=manager, profile=fca, reason="UK firm.")

    complaint.refresh_from_db()
    assert complaint.early_resolution_at == complaint.follow_up_started_at
    assert clocks_of(complaint)["early-resolution"].met is True


@pytest.mark.django_db
def test_an_early_resolution_clock_runs_its_profiles_window():
    fca = RegulatoryProfile.objects.get(code="fca")
    clock = ClockDefinition.objects.get(profile=fca, code="early-resolution")
    clock.full_clean()

    clock.amount = 5
    with pytest.raises(ValidationError, match="early-resolution business days \\(3\\)"):
        clock.full_clean()
    clock.amount, fca.early_resolution_business_days = 3, None
    clock.profile = fca
    with pytest.raises(ValidationError, match="none set"):
        clock.full_clean()


# Shown on the case page, the list, the CSV, the API and the compliance figures -----------------


@pytest.fixture
def early_and_late(csr, resolver, manager):
    profile("fca", active=True)
    early = resolved(csr, resolver, manager, hours_ago=2)
    late = resolved(csr, resolver, manager, hours_ago=24 * 30)
    return early, late


@pytest.mark.django_db
def test_the_case_page_shows_the_badge_by_the_clocks(early_and_late, manager):
    early, late = early_and_late
    client = client_for(manager)

    page = client.get(reverse("complaints:detail", args=[early.pk])).content.decode()
    assert 'class="badge text-bg-success early-resolution"' in page
    panel = page[page.index('aria-labelledby="clocks"') :]
    assert ">Resolved early<" in panel[: panel.index("</section>")]
    late_page = client.get(reverse("complaints:detail", args=[late.pk])).content.decode()
    assert ">Resolved early<" not in late_page


@pytest.mark.django_db
def test_the_list_filters_the_early_resolutions(early_and_late, manager):
    early, late = early_and_late
    client = client_for(manager)

    assert listed(client, early_resolution="on") == [early.reference]
    assert set(listed(client)) == {early.reference, late.reference}
    assert 'id="id_early_resolution"' in client.get(LIST).content.decode()


@pytest.mark.django_db
def test_the_export_says_whether_each_was_resolved_early(early_and_late, manager):
    early, late = early_and_late

    _, rows = exported(client_for(manager))
    by_reference = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}

    assert by_reference[early.reference]["Resolved early"] == "yes"
    assert by_reference[late.reference]["Resolved early"] == "no"
    _, only_early = exported(client_for(manager), early_resolution="on")
    assert [row[0] for row in only_early[1:]] == [early.reference]


@pytest.mark.django_db
def test_the_api_detail_and_list_carry_it(early_and_late, manager):
    early, late = early_and_late
    api = token_client(manager)

    detail = api.get(f"/api/v1/complaints/{early.pk}/").json()
    assert detail["early_resolution"] is True
    assert detail["early_resolution_at"] is not None
    assert api.get(f"/api/v1/complaints/{late.pk}/").json()["early_resolution"] is False
    listed_late = api.get("/api/v1/complaints/", {"early_resolution": "false"}).json()
    assert [row["reference"] for row in listed_late["results"]] == [late.reference]
    assert api.get("/api/v1/complaints/", {"early_resolution": "maybe"}).status_code == 400


@pytest.mark.django_db
def test_clock_compliance_counts_the_early_resolutions(early_and_late):
    early, late = early_and_late
    stopped = ComplaintClock.objects.filter(definition__code="early-resolution")
    moments = sorted(stopped.values_list("stopped_at", flat=True))

    figures = clock_compliance(moments[0], moments[-1] + timedelta(seconds=1))

    (row,) = [f for f in figures if f["clock"] == "early-resolution"]
    assert (row["profile"], row["stopped"], row["within"], row["within_share"]) == (
        "FCA (DISP 1)",
        2,
        1,
        0.5,
    )
    assert Complaint.objects.filter(early_resolution_at__isnull=False).get() == early
