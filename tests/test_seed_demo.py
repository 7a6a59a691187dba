from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as project_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from complaints import demo, selectors
from complaints.models import (
    Category,
    Complaint,
    ComplaintClock,
    Product,
    RegulatoryProfile,
    ResponseEnclosure,
    RootCause,
    StageChange,
)
from complaints.workflow import Stage
from reports.models import TrendReport

CFPB_SAMPLE = Path(__file__).parent / "data" / "cfpb_sample.csv"


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(settings):
    call_command("seed_demo", "--demo", cfpb=str(CFPB_SAMPLE), stdout=StringIO())
    users = {u.username: (u.password, u.role) for u in get_user_model().objects.all()}
    complaints, changes = Complaint.objects.count(), StageChange.objects.count()
    call_command("seed_demo", "--demo", cfpb=str(CFPB_SAMPLE), stdout=StringIO())
    assert {u.username: (u.password, u.role) for u in get_user_model().objects.all()} == users
    assert Complaint.objects.count() == complaints > 0
    assert StageChange.objects.count() == changes
    assert set(users) >= {"csr", "csr2", "resolver", "manager", "admin"}
    assert Complaint.objects.filter(external_reference__startswith="CFPB-").count() == 20
    # The busiest year of the real data has its twelve monthly reports, built once, and the
    # report job has built the last closed month.
    assert TrendReport.objects.filter(period="monthly").count() == 13
    assert get_user_model().objects.get(username="manager").check_password(settings.DEMO_PASSWORD)
    # Stand-ins for the ombudsman's leaflet the FCA responses enclose, made once.
    assert sorted(ResponseEnclosure.objects.values_list("profile__code", "code")) == [
        ("fca", "fos-leaflet"),
        ("fca-payments", "fos-leaflet"),
    ]


@pytest.mark.django_db
def test_the_demo_shows_every_stage_and_fills_every_roles_queue():
    call_command("seed_demo", "--demo", cfpb="", stdout=StringIO())
    csr, resolver, manager = (User.objects.get(username=n) for n in ("csr", "resolver", "manager"))

    assert set(Complaint.objects.values_list("stage", flat=True)) == set(Stage)
    assert selectors.complaints_intake_queue(csr).count() >= 5
    assert selectors.complaints_escalated_to_team(resolver).count() >= 3
    assert selectors.consultations_waiting_for(resolver).count() >= 1
    escalations = selectors.complaints_escalation_queue(manager)
    # Each reason a case reaches the managers: the acknowledgment clock, the target clock,
    # a person's escalation and a resolution above the approval threshold.
    assert escalations.filter(acknowledgment_breached_at__isnull=False).count() >= 2
    assert escalations.filter(resolution_overdue_at__isnull=False).count() >= 2
    assert escalations.filter(escalated_by__isnull=False, escalation_level="manager").exists()
    assert escalations.filter(awaiting_approval=True).exists()


@pytest.mark.django_db
def test_without_demo_flag_only_the_lists_are_made_and_no_known_password_account():
    out = StringIO()
    call_command("seed_demo", stdout=out)

    assert not get_user_model().objects.exists()
    assert not Complaint.objects.exists()
    assert set(Category.objects.values_list("name", flat=True)) == set(demo.CATEGORIES)
    assert set(Product.objects.values_list("name", flat=True)) == set(demo.PRODUCTS)
    assert set(RootCause.objects.values_list("name", flat=True)) == set(demo.ROOT_CAUSES)
    assert "seed_demo --demo" in out.getvalue()
    assert "No user was created" in out.getvalue()


def test_the_real_demo_data_ships_in_the_repository():
    sample = Path(project_settings.DEMO_CFPB_PATH)
    assert sample.is_file()
    assert sample.is_relative_to(project_settings.BASE_DIR)
    assert "Complaint ID" in (sample.parent / "README.md").read_text()


@pytest.mark.django_db
def test_the_demo_has_complaints_under_each_regulatory_profile():
    call_command("seed_demo", "--demo", cfpb="", stdout=StringIO())

    profiles = set(
        Complaint.objects.filter(external_reference__startswith="DEMO-").values_list(
            "profile__code", flat=True
        )
    )
    assert profiles == {"house", "fca", "fca-payments", "asic", "asic-super", "cfpb"}
    assert ComplaintClock.objects.filter(definition__profile__code="asic").exists()


@pytest.mark.django_db
def test_the_demo_gives_each_regulators_profile_a_return_for_this_half_year():
    from reports import returns

    call_command("seed_demo", "--demo", cfpb="", stdout=StringIO())
    first, last = returns.half_year_containing(timezone.localdate())
    for code, closed in (("fca", 1), ("fca-payments", 1), ("asic", 2), ("cfpb", 2)):
        profile = RegulatoryProfile.objects.get(code=code)
        contents = returns.return_contents(profile, returns.period_of(profile, first, last))
        assert contents.records >= closed, code
        assert not contents.problems, (code, contents.problems)
    house = RegulatoryProfile.objects.get(code="house")
    figures = returns.fca_return(house, returns.period_of(house, first, last))
    assert figures["closed"] >= 1
    # Cases resolved but not yet documented may still lack their outcome: the validation
    # report names them, with their links, for the demo's manager to fix.
    problems = returns.fca_problems(house, returns.period_of(house, first, last))
    assert {tuple(problem.missing) for problem in problems} <= {
        ("an FCA outcome (upheld, partly upheld, not upheld)",)
    }


def opened_and_closed(run, contents):
    """What the return counts as received in its period, and as closed in it."""
    first, last = run.first_day, run.last_day
    if run.kind == "fca":
        return run.figures["opened"], run.figures["closed"]
    if run.kind == "asic":
        received = sum(first <= row[6] <= last for row in contents.rows)
        closed = sum(row[8] != "" and first <= row[8] <= last for row in contents.rows)
        return received, closed
    answered = sum(row[14] not in ("", "In progress") for row in contents.rows)
    return len(contents.rows), answered


@pytest.mark.django_db
def test_a_manager_produces_and_downloads_each_profiles_last_half_year_from_the_demo(client):
    from reports import returns
    from reports.models import ReturnRun

    call_command("seed_demo", "--demo", cfpb="", stdout=StringIO())
    client.force_login(User.objects.get(username="manager"))
    form = client.get(reverse("reports:returns")).context["form"]
    period = {key: form.initial[key] for key in ("first_day", "last_day")}
    assert (period["first_day"], period["last_day"]) == returns.last_half_year(timezone.localdate())
    past_cases = {case.reference for case in demo.COMPLAINTS if case.last_half_year}
    past_references = set(
        Complaint.objects.filter(external_reference__in=past_cases).values_list(
            "reference", flat=True
        )
    )
    for code in ("house", "fca", "fca-payments", "asic", "asic-super", "cfpb"):
        profile = RegulatoryProfile.objects.get(code=code)
        client.post(reverse("reports:return-produce"), {"profile": profile.pk, **period})
        run = ReturnRun.objects.get(profile=profile)
        contents = returns.return_contents(
            profile, returns.period_of(profile, run.first_day, run.last_day)
        )
        opened, closed = opened_and_closed(run, contents)
        assert opened > 0 and closed > 0, (code, opened, closed)
        # The cases of the last half-year have everything their return needs.
        assert not {problem.reference for problem in contents.problems} & past_references, code
        for download in ("reports:return-csv", "reports:return-xlsx"):
            response = client.get(reverse(download, args=[run.pk]))
            assert response.status_code == 200 and len(response.content) > 0, (code, download)
    fca = ReturnRun.objects.get(profile__code="house").figures
    assert fca["bands"]["within_3_business_days"] >= 1 and fca["bands"]["after_8_weeks"] >= 1


@pytest.mark.django_db
def test_the_demo_answers_its_regulated_cases_with_a_final_response_that_meets_their_clock():
    call_command("seed_demo", "--demo", cfpb=str(CFPB_SAMPLE), stdout=StringIO())
    demo_cases = Complaint.objects.exclude(external_reference__startswith="CFPB-")
    answered = demo_cases.exclude(profile__code="house").filter(
        stage__in=[Stage.FOLLOW_UP, Stage.DOCUMENTED, Stage.REVIEWED]
    )

    assert answered.exists()
    for complaint in answered:
        assert complaint.final_response_sent_at is not None, complaint.reference
        responses = complaint.clocks.filter(
            definition__role__in=["final_response", "holding_response"]
        ).exclude(stop_event__in=["", "profile_changed"])
        assert responses.exists(), complaint.reference
        assert {clock.stop_event for clock in responses} <= {
            "final_response_sent",
            "holding_response_sent",
        }, complaint.reference
