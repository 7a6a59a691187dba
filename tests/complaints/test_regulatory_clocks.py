"""Regulatory clocks as data (docs/clocks.md): the profile a complaint gets at intake, its
clocks as rows, stage events, pauses, a change of profile, and the generic sweep acting on
a clock a manager added in the admin, once, also with two sweeps at once."""

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from complaints import clocks, outbox, services
from complaints.clocks import engine, sweeps
from complaints.models import (
    BusinessCalendar,
    ClockDefinition,
    Complaint,
    ComplaintClock,
    MessageKind,
    OutboundMessage,
    RegulatoryProfile,
)
from complaints.web.forms import ProfileChangeForm
from complaints.workflow import Refused
from tests import factories
from tests.complaints.test_jobs import with_email
from tests.threads import run_together

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
DAY = timedelta(days=1)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def team(csr, resolver, manager, administrator):
    """Colleagues with email addresses, as the sweep tells people by email."""
    for person in (csr, resolver, manager, administrator):
        with_email(person)
    return {"csr": csr, "resolver": resolver, "manager": manager}


def profile(code, **changes):
    found = RegulatoryProfile.objects.get(code=code)
    for name, value in changes.items():
        setattr(found, name, value)
    found.save()
    return found


def clocks_of(complaint, **filters):
    return {
        clock.definition.code: clock
        for clock in ComplaintClock.objects.filter(complaint=complaint, **filters).select_related(
            "definition"
        )
    }


def received(actor, at, **overrides):
    overrides.setdefault("date_of_complaint", timezone.localdate(at))
    return services.complaint_create(
        actor=actor, data=factories.complaint_data(**overrides), received_at=at
    )


# The house profile: today's clocks, as rows -------------------------------------------------


def test_a_new_complaint_follows_the_house_rules_with_its_clocks_as_rows(csr):
    complaint = factories.complaint(csr, hours_ago=2)

    assert complaint.profile.code == "house"
    assert complaint.customer_country == "GB"
    rows = clocks_of(complaint)
    assert set(rows) == {"acknowledgment", "resolution-standard"}
    assert rows["acknowledgment"].due_at == complaint.received_at + 24 * H
    assert rows["acknowledgment"].warn_at == complaint.received_at + 18 * H
    assert complaint.acknowledgment_due_at == rows["acknowledgment"].due_at
    assert complaint.resolution_target_date == clocks.resolution_target(
        complaint.received_at, "standard"
    )
    assert timezone.localdate(rows["resolution-standard"].due_at) == (
        complaint.resolution_target_date
    )


def test_stage_events_stop_the_clocks_they_meet(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "resolved", csr=csr, resolver=resolver, manager=manager
    )

    rows = clocks_of(complaint)
    assert rows["acknowledgment"].stop_event == "acknowledged"
    assert rows["acknowledgment"].met is True
    assert rows["resolution-standard"].stop_event == "resolution_proposed"
    assert rows["resolution-standard"].met is True
    assert not ComplaintClock.objects.filter(complaint=complaint, stopped_at=None).exists()


def test_an_exit_stops_every_clock_without_a_verdict(csr):
    complaint = factories.complaint(csr)

    services.complaint_withdraw(
        complaint,
        actor=csr,
        customer_words="Sorted it out myself.",
        withdrawn_on=timezone.localdate(),
    )

    rows = clocks_of(complaint)
    assert {clock.stop_event for clock in rows.values()} == {"exited"}
    assert {clock.met for clock in rows.values()} == {None}


# Choosing the profile ------------------------------------------------------------------------


def test_the_profile_follows_the_customers_country_and_the_product(csr):
    profile("fca", active=True)
    payments = profile("fca-payments", active=True)
    card = factories.product("Credit card")
    transfer = factories.product("Payment transfer")
    payments.products.add(transfer)
    profile("cfpb", active=True)

    assert factories.complaint(csr, product=card).profile.code == "fca"
    assert factories.complaint(csr, product=transfer).profile.code == "fca-payments"
    assert factories.complaint(csr, customer_country="US").profile.code == "cfpb"
    # ASIC is still switched off: an Australian customer falls back to the house rules.
    assert factories.complaint(csr, customer_country="AU").profile.code == "house"


def test_the_conditions_choose_the_clocks():
    definition = ClockDefinition(
        active=True, channels=["phone"], complexities=[], vulnerable="any", hardship="yes"
    )
    definition.product_ids = set()
    facts = {
        "product_id": 1,
        "channel": "phone",
        "complexity": "simple",
        "vulnerable": False,
        "hardship": True,
    }

    assert engine.applies(definition, facts)
    assert not engine.applies(definition, {**facts, "hardship": False})
    assert not engine.applies(definition, {**facts, "channel": "email"})
    definition.product_ids = {2}
    assert not engine.applies(definition, facts)


# The regulators' clocks ---------------------------------------------------------------------


def test_an_fca_complaint_runs_eight_weeks_and_the_summary_resolution_window(csr):
    profile("fca", active=True)
    # Friday 22 August 2025, 10:00 in London: eight weeks is Friday 17 October; the third
    # business day, over the bank holiday on Monday 25th, is Thursday 28 August.
    at = datetime(2025, 8, 22, 10, 0, tzinfo=LONDON)

    complaint = received(csr, at)

    rows = clocks_of(complaint)
    assert set(rows) == {"acknowledgment", "final-response", "early-resolution"}
    final = rows["final-response"].due_at.astimezone(LONDON)
    assert (final.date(), final.time()) == (datetime(2025, 10, 17).date(), time.max)
    early = rows["early-resolution"].due_at.astimezone(LONDON)
    assert early.date() == datetime(2025, 8, 28).date()
    # Its warning two weeks before, the case's target the clock's due day.
    assert rows["final-response"].warn_at.astimezone(LONDON).date() == final.date() - 14 * DAY
    assert complaint.resolution_target_date == final.date()


def test_an_asic_acknowledgment_in_western_australia_skips_its_own_holiday(csr):
    asic = profile("asic", active=True)
    # Friday 26 September 2025, 10:00 in Perth; Monday 29th is King's Birthday in WA only.
    at = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)
    perth, sydney = ZoneInfo("Australia/Perth"), ZoneInfo("Australia/Sydney")

    in_nsw = received(csr, at, customer_country="AU")
    asic.calendar = BusinessCalendar.objects.get(code="au-wa")
    asic.save()
    in_wa = received(csr, at, customer_country="AU")

    nsw_due = clocks_of(in_nsw)["acknowledgment"].due_at.astimezone(sydney)
    wa_due = clocks_of(in_wa)["acknowledgment"].due_at.astimezone(perth)
    assert nsw_due.date() == datetime(2025, 9, 29).date()
    assert wa_due.date() == datetime(2025, 9, 30).date()
    assert set(clocks_of(in_wa)) == {"acknowledgment", "idr-response", "early-resolution"}


# Pauses and changes of profile ---------------------------------------------------------------


def test_a_paused_clock_is_not_swept_and_resumes_later_by_the_pause(team):
    complaint = factories.complaint(team["csr"])
    clock = clocks_of(complaint)["acknowledgment"]
    t0 = complaint.received_at

    services.clock_pause(
        complaint, clock.pk, actor=team["manager"], reason="Customer asked us to wait", at=t0 + H
    )
    assert sweeps.enforce_clocks(now=t0 + 30 * H)["breached"] == 0

    services.clock_resume(complaint, clock.pk, actor=team["manager"], at=t0 + 3 * H)

    clock.refresh_from_db()
    assert clock.due_at == t0 + 26 * H
    assert clock.warn_at == t0 + 20 * H
    assert Complaint.objects.get(pk=complaint.pk).acknowledgment_due_at == t0 + 26 * H
    [pause] = clock.pauses.all()
    assert (pause.reason, pause.paused_by, pause.resumed_by) == (
        "Customer asked us to wait",
        team["manager"],
        team["manager"],
    )


def test_only_a_manager_pauses_a_clock_and_always_with_a_reason(team):
    complaint = factories.complaint(team["csr"])
    clock = clocks_of(complaint)["acknowledgment"]

    with pytest.raises(Refused):
        services.clock_pause(complaint, clock.pk, actor=team["csr"], reason="Busy")
    with pytest.raises(Refused, match="Say why"):
        services.clock_pause(complaint, clock.pk, actor=team["manager"], reason="  ")
    clock.refresh_from_db()
    assert clock.paused_at is None


def test_a_profile_change_mid_way_recomputes_the_clocks_and_keeps_the_old_ones(team):
    people = {"csr": team["csr"], "resolver": team["resolver"], "manager": team["manager"]}
    complaint = factories.complaint_at_stage("acknowledged", **people)
    fca = profile("fca", active=True)

    with pytest.raises(Refused, match="Say why"):
        services.complaint_profile_change(complaint, actor=team["manager"], profile=fca, reason="")
    services.complaint_profile_change(
        complaint, actor=team["manager"], profile=fca, reason="Regulated credit agreement"
    )

    complaint = Complaint.objects.get(pk=complaint.pk)
    assert complaint.profile == fca
    old = clocks_of(complaint, definition__profile__code="house")
    assert old["resolution-standard"].stop_event == "profile_changed"
    assert old["acknowledgment"].stop_event == "acknowledged"
    new = clocks_of(complaint, definition__profile=fca)
    # Replayed from the case's history: already acknowledged, the response clock from receipt.
    assert new["acknowledgment"].stop_event == "acknowledged"
    assert new["final-response"].stopped_at is None
    assert new["final-response"].started_at == complaint.received_at
    assert complaint.resolution_target_date == timezone.localdate(new["final-response"].due_at)
    assert complaint.history.filter(
        history_change_reason__startswith="Profile changed to FCA"
    ).exists()


# A clock a manager adds, and the generic sweep ---------------------------------------------


def ombudsman_reminder():
    """The clock of the issue's example, added as data: no code."""
    return ClockDefinition.objects.create(
        profile=RegulatoryProfile.objects.get(code="house"),
        code="ombudsman-referral",
        name="Ombudsman referral reminder",
        role="other",
        start_event="received",
        stop_events=["resolution_proposed", "closed"],
        amount=10,
        unit="business_days",
        breach_notify="managers",
        breach_escalates=True,
    )


def test_a_clock_added_in_the_admin_is_started_and_enforced_once(team):
    ombudsman_reminder()
    complaint = factories.complaint(team["csr"])
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone")
    reminder = clocks_of(complaint)["ombudsman-referral"]
    # Due with the standard target (both ten business days), after it on the same day.
    after = reminder.due_at + H

    summary = sweeps.enforce_clocks(now=after)

    assert summary["breached"] == 2  # the resolution target and the reminder
    reminder.refresh_from_db()
    assert reminder.breached_at == after
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert complaint.escalation_level == "manager"
    assert complaint.history.filter(
        history_change_reason="Ombudsman referral reminder missed: escalated to managers"
    ).exists()
    told = OutboundMessage.objects.filter(
        kind=MessageKind.STAFF_NOTIFICATION, subject__contains="Ombudsman referral reminder"
    )
    assert set(told.values_list("recipient", flat=True)) == {
        "admin@staff.example.com",
        "manager@staff.example.com",
    }
    assert sweeps.enforce_clocks(now=after + DAY) == {
        "warned": 0,
        "breached": 0,
        "delay_notices": 0,
        "notifications": 0,
    }
    assert told.count() == 2


def digests_to(person):
    return OutboundMessage.objects.filter(
        kind=MessageKind.STAFF_NOTIFICATION, recipient=person.email
    ).order_by("pk")


def test_a_missed_idr_clock_asks_the_owner_for_the_delay_notification_and_sends_nothing(team):
    # RG 271's delay notification must give the reasons for the delay, which no automatic
    # email knows: the owner is told to write it at the warning and again at the breach.
    profile("asic", active=True)
    complaint = factories.complaint(team["csr"], customer_country="AU")
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone")
    services.complaint_assign(complaint, actor=team["manager"], assignee=team["resolver"])
    due = clocks_of(complaint)["idr-response"].due_at

    assert sweeps.enforce_clocks(now=due - 2 * DAY)["warned"] == 1
    [warning] = digests_to(team["resolver"])
    assert "due soon: IDR response (30 days)" in warning.subject
    assert "send the customer the delay notice before the deadline" in warning.body_text
    assert "response type delay notice" in warning.body_text

    summary = sweeps.enforce_clocks(now=due + H)
    assert (summary["breached"], summary["delay_notices"]) == (1, 0)
    assert sweeps.enforce_clocks(now=due + 2 * H)["breached"] == 0
    assert not OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE).exists()
    [breach] = digests_to(team["manager"])
    assert "missed a deadline: IDR response (30 days)" in breach.subject
    assert "No automatic delay notice went to the customer" in breach.body_text
    assert "send the delay notice now" in breach.body_html
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert complaint.escalation_reason == "IDR response (30 days) missed"


def test_a_missed_fca_eight_weeks_asks_for_the_holding_response(team):
    profile("fca", active=True)
    complaint = factories.complaint(team["csr"])
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone")
    due = clocks_of(complaint)["final-response"].due_at

    summary = sweeps.enforce_clocks(now=due + H)

    assert summary["delay_notices"] == 0
    assert not OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE).exists()
    [breach] = digests_to(team["manager"])
    assert "send the holding response now" in breach.body_text


def test_without_required_elements_for_a_late_answer_the_automatic_notice_goes_once(team):
    # The elements are data: a firm whose profile asks nothing of a late answer (here the
    # ASIC delay notification's elements switched off) gets the automatic notice, once.
    asic = profile("asic", active=True)
    asic.required_elements.filter(response_type="delay_notice").update(active=False)
    complaint = factories.complaint(team["csr"], customer_country="AU")
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone")
    due = clocks_of(complaint)["idr-response"].due_at

    assert sweeps.enforce_clocks(now=due + H)["delay_notices"] == 1
    assert sweeps.enforce_clocks(now=due + 2 * H)["delay_notices"] == 0
    assert OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE).count() == 1
    assert "No automatic delay notice" not in digests_to(team["manager"]).get().body_text


@pytest.mark.django_db(transaction=True)
def test_two_generic_sweeps_at_once_act_on_each_clock_exactly_once(team, monkeypatch):
    monkeypatch.setattr(outbox, "publish_after_commit", lambda *args, **kwargs: None)
    ombudsman_reminder()
    complaints = [
        factories.complaint(team["csr"], customer_email="", customer_phone="07700 900123")
        for _ in range(20)
    ]
    later = max(c.received_at for c in complaints) + 30 * DAY

    summaries = run_together(
        lambda: sweeps.enforce_clocks(now=later), lambda: sweeps.enforce_clocks(now=later)
    )

    # Each complaint: acknowledgment, resolution target and the reminder.
    assert sum(s["breached"] for s in summaries) == 60
    assert not ComplaintClock.objects.filter(breached_at=None).exists()
    missed = Counter(
        Complaint.history.filter(history_change_reason__contains="missed").values_list(
            "id", "history_change_reason"
        )
    )
    assert len(missed) == 60
    assert set(missed.values()) == {1}


# Where the clocks show -----------------------------------------------------------------------


def test_the_case_page_lists_the_clocks_and_lets_a_manager_change_the_profile(client, team):
    fca = profile("fca", active=True)
    complaint = factories.complaint(team["csr"], customer_country="AU")
    client.force_login(team["manager"])

    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "Acknowledgment deadline" in html
    assert "Resolution target" in html
    assert "House rules" in html
    assert "Change the regulatory profile" in html

    response = client.post(
        f"/complaints/{complaint.pk}/change_profile/",
        {"profile": fca.pk, "reason": "The customer lives in London now"},
    )
    assert response.status_code == 302
    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "Final or holding response (8 weeks)" in html
    assert "Profile changed" in html


def test_the_profile_change_offers_only_active_profiles(team):
    fca = profile("fca", active=True)
    asic = profile("asic", active=True)

    def accepts(chosen):
        return ProfileChangeForm({"profile": chosen.pk, "reason": "Moved"}).is_valid()

    assert accepts(fca) and accepts(asic)
    # Switched off after the catalogue was read: no longer offered.
    profile("asic", active=False)
    assert accepts(fca)
    assert not accepts(asic)
    assert not accepts(RegulatoryProfile.objects.get(code="cfpb"))


def test_a_csr_sees_the_clocks_but_cannot_change_them(client, team):
    complaint = factories.complaint(team["csr"])
    clock = clocks_of(complaint)["acknowledgment"]
    client.force_login(team["csr"])

    html = client.get(f"/complaints/{complaint.pk}/").content.decode()
    assert "Acknowledgment deadline" in html
    assert "Change the regulatory profile" not in html
    client.post(f"/complaints/{complaint.pk}/pause_clock/", {"clock": clock.pk, "reason": "x"})
    clock.refresh_from_db()
    assert clock.paused_at is None


def test_the_api_and_the_export_carry_the_profile_and_each_clock(client, team):
    from tests.api.conftest import token_client

    complaint = factories.complaint(team["csr"])
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone")

    body = token_client(team["manager"]).get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert body["profile"] == "house"
    clocks_out = {clock["code"]: clock for clock in body["clocks"]}
    assert clocks_out["acknowledgment"]["met"] is True
    assert clocks_out["resolution-standard"]["met"] is None
    client.force_login(team["manager"])
    exported = b"".join(client.get("/complaints/export.csv").streaming_content).decode()
    assert "house" in exported
    assert "Acknowledgment deadline due" in exported
    assert "met; Resolution target due" in exported


def test_the_escalation_queue_names_the_regulators_clock_a_case_missed(client, team):
    profile("asic", active=True)
    complaint = factories.complaint(team["csr"], customer_country="AU")
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone")
    sweeps.enforce_clocks(now=clocks_of(complaint)["idr-response"].due_at + H)
    client.force_login(team["manager"])

    html = client.get("/").content.decode()

    assert "missed: IDR response (30 days)</span>" in html
    # Past its quick-resolution window too, which alarms nobody.
    assert "Quick resolution" not in html


def test_staff_and_the_api_give_the_customers_country_at_intake(client, team):
    from tests.api.conftest import token_client
    from tests.complaints.test_lifecycle_views import intake_data

    profile("cfpb", active=True)
    client.force_login(team["csr"])
    refused = client.post("/complaints/new/", intake_data(customer_country="U1"))
    assert "A two-letter country code" in refused.content.decode()
    assert not Complaint.objects.exists()
    client.post("/complaints/new/", intake_data(customer_country="us"))
    assert Complaint.objects.get().profile.code == "cfpb"

    body = {
        "channel": "phone",
        "customer_name": "Ana Silva",
        "customer_phone": "+1 202 555 0100",
        "date_of_complaint": timezone.localdate().isoformat(),
        "category": factories.category().pk,
        "description": "Charged twice.",
        "customer_country": "AU",
    }
    created = token_client(team["csr"]).post("/api/v1/complaints/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["profile"] == "house"  # ASIC is switched off
    assert created.json()["customer_country"] == "AU"
