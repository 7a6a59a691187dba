"""The periodic jobs, driven by passing `now=` (time travel) rather than by waiting.

Each job must act once per complaint and per deadline, however often it runs, and leave a
trace: the mark on the complaint, a history row with the reason, and the outbox rows.
"""

import re
from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from complaints import clocks, jobs, outbox, services
from complaints.clocks import sweeps
from complaints.models import (
    Complaint,
    ComplaintClock,
    JobRun,
    MessageKind,
    OutboundMessage,
    StageChange,
)
from complaints.outbox.messages import DIGEST_LISTED
from complaints.workflow import Stage
from tests import factories
from tests.conftest import make_user
from tests.threads import run_together

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
WARNED_REASON = "Acknowledgment due soon: warned"
BREACHED_REASON = "Acknowledgment deadline missed: escalated to managers"
TARGET_REASON = "Resolution target missed: escalated to managers"
REFERENCE = re.compile(r"CMP-\d{4}-\d{6}")
NOTHING_ACK = {"warned": 0, "breached": 0, "notifications": 0}
NOTHING_TARGET = {"overdue": 0, "delay_notices": 0, "notifications": 0}
NOTHING_FOLLOW_UP = {"requests": 0, "reminders": 0, "closed": 0, "left_open": 0}


def with_email(user, address=None):
    user.email = address or f"{user.username}@staff.example.com"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def team(django_user_model, csr, csr2, resolver, manager, administrator):
    """Colleagues with and without email addresses, active and not."""
    with_email(csr)
    with_email(csr2)
    with_email(resolver)
    with_email(manager)
    with_email(administrator)
    make_user(django_user_model, "mutecsr", Role.CSR)  # no email: cannot be told
    make_user(
        django_user_model, "gonecsr", Role.CSR, email="gone@staff.example.com", is_active=False
    )
    make_user(django_user_model, "mutemanager", Role.MANAGER)
    return {
        "csr": csr,
        "csr2": csr2,
        "resolver": resolver,
        "manager": manager,
        "administrator": administrator,
    }


def staff_messages(**filters):
    return OutboundMessage.objects.filter(kind=MessageKind.STAFF_NOTIFICATION, **filters)


def received_ago(actor, hours_ago, **overrides):
    """factories.complaint, with the date of complaint on the (backdated) day received."""
    received_day = timezone.localdate(timezone.now() - timedelta(hours=hours_ago))
    overrides.setdefault("date_of_complaint", received_day)
    return factories.complaint(actor, hours_ago=hours_ago, **overrides)


def assigned_complaint(csr, hours_ago=30, **overrides):
    complaint = received_ago(csr, hours_ago, **overrides)
    services.complaint_assign(complaint, actor=csr, assignee=csr)
    complaint.refresh_from_db()
    return complaint


def reload(complaint):
    return Complaint.objects.get(pk=complaint.pk)


# Acknowledgment deadline ----------------------------------------------------------------


def test_nothing_happens_before_the_warning_point(team):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at

    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 17 * H) == NOTHING_ACK
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 18 * H - timedelta(seconds=1)) == (
        NOTHING_ACK
    )

    complaint = reload(complaint)
    assert complaint.acknowledgment_warned_at is None
    assert complaint.acknowledgment_breached_at is None
    assert complaint.escalation_level == ""
    assert not staff_messages().exists()


def test_at_18_hours_the_assignee_is_warned_once(team):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at

    summary = sweeps.enforce_acknowledgment_deadline(now=t0 + 18 * H)

    assert summary == {"warned": 1, "breached": 0, "notifications": 1}
    complaint = reload(complaint)
    assert complaint.acknowledgment_warned_at == t0 + 18 * H
    assert complaint.acknowledgment_breached_at is None
    assert complaint.escalation_level == ""
    [message] = staff_messages()
    assert message.recipient == "csr@staff.example.com"
    assert message.to_customer is False
    assert message.complaint == complaint
    assert "to acknowledge soon" in message.subject
    assert "1 complaint to acknowledge soon" in message.subject
    assert "(s)" not in message.subject + message.body_text
    assert complaint.reference in message.body_text
    assert complaint.history.filter(history_change_reason=WARNED_REASON).count() == 1

    # Again, at the same moment and later (still before the deadline): nobody is told twice.
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 18 * H) == NOTHING_ACK
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 23 * H) == NOTHING_ACK
    assert staff_messages().count() == 1
    assert reload(complaint).acknowledgment_warned_at == t0 + 18 * H
    assert complaint.history.filter(history_change_reason=WARNED_REASON).count() == 1


def test_an_unassigned_complaint_warns_every_active_csr_with_an_email(team):
    complaint = received_ago(team["csr"], 30)
    t0 = complaint.received_at

    summary = sweeps.enforce_acknowledgment_deadline(now=t0 + 19 * H)

    assert summary == {"warned": 1, "breached": 0, "notifications": 2}
    recipients = sorted(staff_messages().values_list("recipient", flat=True))
    # Not the resolver, not the manager, not the CSR without an email, not the inactive CSR.
    assert recipients == ["csr2@staff.example.com", "csr@staff.example.com"]
    for message in staff_messages():
        assert complaint.reference in message.body_text

    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 19 * H) == NOTHING_ACK
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 20 * H) == NOTHING_ACK
    assert staff_messages().count() == 2


def test_an_assignee_without_email_falls_back_to_the_csr_team(team, django_user_model):
    mute = django_user_model.objects.get(username="mutecsr")
    complaint = received_ago(mute, 30)
    services.complaint_assign(complaint, actor=mute, assignee=mute)

    summary = sweeps.enforce_acknowledgment_deadline(now=complaint.received_at + 18 * H)

    assert summary == {"warned": 1, "breached": 0, "notifications": 2}
    assert sorted(staff_messages().values_list("recipient", flat=True)) == [
        "csr2@staff.example.com",
        "csr@staff.example.com",
    ]


def test_at_24_hours_the_complaint_is_breached_escalated_and_managers_told_once(team):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at
    sweeps.enforce_acknowledgment_deadline(now=t0 + 18 * H)  # the warning, as in real life
    warned = staff_messages().count()

    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H - timedelta(seconds=1)) == (
        NOTHING_ACK
    )
    summary = sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H)

    # Two managers with an email: the manager and the superuser; not the one without.
    assert summary == {"warned": 0, "breached": 1, "notifications": 2}
    complaint = reload(complaint)
    assert complaint.stage == Stage.RECEIVED
    assert complaint.acknowledgment_breached_at == t0 + 24 * H
    assert complaint.escalation_level == "manager"
    assert complaint.escalation_reason == "acknowledgment deadline missed"
    assert complaint.escalated_at == t0 + 24 * H
    assert complaint.escalated_by is None
    assert complaint.history.filter(history_change_reason=BREACHED_REASON).count() == 1

    breach_messages = staff_messages(subject__icontains="acknowledgment deadline")
    assert sorted(breach_messages.values_list("recipient", flat=True)) == [
        "admin@staff.example.com",
        "manager@staff.example.com",
    ]
    for message in breach_messages:
        assert message.to_customer is False
        assert REFERENCE.findall(message.body_text) == [complaint.reference]
    assert staff_messages().count() == warned + 2

    # Again, at the same moment and much later: nothing more.
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H) == NOTHING_ACK
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 29 * H) == NOTHING_ACK
    assert staff_messages().count() == warned + 2
    complaint = reload(complaint)
    assert complaint.acknowledgment_breached_at == t0 + 24 * H
    assert complaint.history.filter(history_change_reason=BREACHED_REASON).count() == 1


def test_a_breach_keeps_an_earlier_escalation_to_managers_as_it_was(team):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at
    services.complaint_escalate(
        complaint, actor=team["manager"], level="manager", reason="VIP customer", at=t0 + H
    )

    summary = sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H)

    assert summary["breached"] == 1
    complaint = reload(complaint)
    assert complaint.acknowledgment_breached_at == t0 + 24 * H
    assert complaint.escalation_reason == "VIP customer"
    assert complaint.escalated_at == t0 + H
    assert complaint.escalated_by == team["manager"]


def test_a_long_digest_lists_fifty_and_counts_the_rest(team):
    """A sweep over many complaints sends a readable email, not a thousand lines."""
    complaints = [received_ago(team["csr"], 30) for _ in range(DIGEST_LISTED + 7)]

    sweeps.enforce_acknowledgment_deadline()

    message = staff_messages(recipient="manager@staff.example.com").get()
    listed = set(REFERENCE.findall(message.body_text))
    assert len(listed) == DIGEST_LISTED
    assert listed < {c.reference for c in complaints}
    assert "and 7 more" in message.body_text
    assert "and 7 more" in message.body_html
    assert f"{len(complaints)} complaints missed" in message.subject


def test_a_complaint_acknowledged_in_time_is_never_breached(team):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at
    sweeps.enforce_acknowledgment_deadline(now=t0 + 18 * H)
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone", at=t0 + 20 * H)

    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H) == NOTHING_ACK
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 29 * H) == NOTHING_ACK

    complaint = reload(complaint)
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledgment_breached_at is None
    assert complaint.escalation_level == ""
    assert complaint.acknowledged_late_by is None
    assert not staff_messages(subject__icontains="acknowledgment deadline").exists()


def test_a_complaint_acknowledged_late_keeps_its_breach_on_record(team):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at
    sweeps.enforce_acknowledgment_deadline(now=t0 + 18 * H)
    sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H)

    services.complaint_acknowledge(
        complaint, actor=team["csr"], method="phone", at=t0 + 27 * H + timedelta(minutes=30)
    )

    complaint = reload(complaint)
    assert complaint.stage == Stage.ACKNOWLEDGED
    assert complaint.acknowledgment_breached_at == t0 + 24 * H
    assert complaint.escalation_level == "manager"
    assert complaint.acknowledged_late_by == timedelta(hours=3, minutes=30)
    assert sweeps.enforce_acknowledgment_deadline(now=t0 + 29 * H) == NOTHING_ACK


def page_of(client, user, complaint):
    client.force_login(user)
    response = client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert response.status_code == 200
    return response.content.decode()


def shown(moment):
    """A moment as the complaint page writes it, everywhere: 5 Dec 2026 14:02."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y %H:%M}"


def test_the_complaint_page_says_how_late_the_acknowledgment_was_and_what_the_breach_did(
    team, client
):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at
    sweeps.enforce_acknowledgment_deadline(now=t0 + 24 * H + 5 * MIN)
    services.complaint_acknowledge(
        complaint, actor=team["csr"], method="phone", at=t0 + 27 * H + 30 * MIN
    )

    html = page_of(client, team["manager"], complaint)

    assert "Acknowledged 3 h 30 min late</span>" in html
    assert (
        f"(acknowledged {shown(t0 + 27 * H + 30 * MIN)}; deadline {shown(t0 + 24 * H)} missed, "
        f"escalated to managers {shown(t0 + 24 * H + 5 * MIN)})"
    ) in html


def test_the_complaint_page_shows_a_late_acknowledgment_no_sweep_saw_without_an_escalation(
    team, client
):
    complaint = assigned_complaint(team["csr"])
    t0 = complaint.received_at
    # Acknowledged before any sweep passed the deadline: late, but nobody escalated it.
    services.complaint_acknowledge(complaint, actor=team["csr"], method="phone", at=t0 + 25 * H)

    html = page_of(client, team["csr"], complaint)

    assert "Acknowledged 1 h 0 min late</span>" in html
    assert f"deadline {shown(t0 + 24 * H)} missed)" in html
    assert "escalated to managers" not in html


def test_the_complaint_page_says_nothing_of_lateness_for_a_timely_acknowledgment(team, client):
    complaint = assigned_complaint(team["csr"])
    services.complaint_acknowledge(
        complaint, actor=team["csr"], method="phone", at=complaint.received_at + 20 * H
    )

    assert " late</span>" not in page_of(client, team["csr"], complaint)


def test_a_complaint_first_swept_after_its_deadline_is_breached_not_warned(team):
    complaint = assigned_complaint(team["csr"], hours_ago=25)

    summary = sweeps.enforce_acknowledgment_deadline(now=complaint.received_at + 25 * H)

    assert summary == {"warned": 0, "breached": 1, "notifications": 2}
    assert not staff_messages(recipient="csr@staff.example.com").exists()


# Resolution target ----------------------------------------------------------------------


def the_day_after(day):
    return timezone.make_aware(datetime.combine(day + DAY, time(9, 0)))


def test_a_missed_resolution_target_escalates_once_with_one_delay_notice(team):
    people = {"csr": team["csr"], "resolver": team["resolver"], "manager": team["manager"]}
    late = factories.complaint_at_stage("investigating", **people)
    proposed = factories.complaint_at_stage("resolved", **people)
    assert late.resolution_target_date == proposed.resolution_target_date
    target = late.resolution_target_date

    # On the target day itself the target is not missed yet.
    on_the_day = timezone.make_aware(datetime.combine(target, time(23, 0)))
    assert sweeps.enforce_resolution_targets(now=on_the_day) == NOTHING_TARGET

    now = the_day_after(target)
    summary = sweeps.enforce_resolution_targets(now=now)

    assert summary == {"overdue": 1, "delay_notices": 1, "notifications": 2}
    late = reload(late)
    assert late.resolution_overdue_at == now
    assert late.escalation_level == "manager"
    assert late.escalation_reason == "resolution target missed"
    assert late.escalated_at == now
    assert late.history.filter(history_change_reason=TARGET_REASON).count() == 1
    [notice] = OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE)
    assert notice.complaint == late
    assert notice.to_customer is True
    assert notice.recipient == "priya@example.com"
    managers_told = staff_messages(subject__icontains="resolution target")
    assert managers_told.first().subject.endswith("1 complaint passed its resolution target")
    assert sorted(managers_told.values_list("recipient", flat=True)) == [
        "admin@staff.example.com",
        "manager@staff.example.com",
    ]

    # A complaint whose resolution is proposed is waiting on the customer, not on us.
    proposed = reload(proposed)
    assert proposed.stage == Stage.RESOLVED
    assert proposed.resolution_overdue_at is None
    assert proposed.escalation_level == ""

    assert sweeps.enforce_resolution_targets(now=now) == NOTHING_TARGET
    assert sweeps.enforce_resolution_targets(now=now + 5 * DAY) == NOTHING_TARGET
    assert OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE).count() == 1
    assert managers_told.count() == 2
    assert reload(late).history.filter(history_change_reason=TARGET_REASON).count() == 1


def test_a_missed_target_without_customer_email_escalates_without_a_notice(team):
    late = factories.complaint_at_stage(
        "investigating",
        csr=team["csr"],
        resolver=team["resolver"],
        manager=team["manager"],
        customer_email="",
        customer_phone="07700 900123",
    )

    summary = sweeps.enforce_resolution_targets(now=the_day_after(late.resolution_target_date))

    assert summary == {"overdue": 1, "delay_notices": 0, "notifications": 2}
    assert reload(late).escalation_level == "manager"
    assert not OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE).exists()


def target_passed(complaint, days_ago=5):
    """As if the complaint had been received long ago: its target passed `days_ago` days ago
    (the resolution clock's row, which the sweep reads, and its projection on the complaint)."""
    target = timezone.localdate() - days_ago * DAY
    ComplaintClock.objects.filter(complaint=complaint, definition__role="resolution_target").update(
        due_at=timezone.make_aware(datetime.combine(target, time.max))
    )
    Complaint.objects.filter(pk=complaint.pk).update(resolution_target_date=target)
    return reload(complaint)


def delay_notices():
    return OutboundMessage.objects.filter(kind=MessageKind.DELAY_NOTICE).order_by("pk")


def in_words(day):
    return f"{day:%A} {day.day} {day:%B %Y}"


def reopened_at(complaint):
    return (
        StageChange.objects.filter(complaint=complaint, to_stage=Stage.INVESTIGATING)
        .latest("at")
        .at
    )


def test_a_case_reopened_after_its_target_gets_a_new_one_and_no_delay_notice_at_once(team):
    # Resolved in time; the customer says it is not resolved after the target has passed.
    complaint = target_passed(in_follow_up(team))
    services.feedback_record(complaint, actor=None, score=1, resolved=False)

    complaint = reload(complaint)
    assert complaint.stage == Stage.INVESTIGATING
    assert complaint.reopen_count == 1
    assert complaint.resolution_target_date == clocks.resolution_target(
        reopened_at(complaint), complaint.complexity
    )
    assert complaint.resolution_target_date > timezone.localdate()
    assert sweeps.enforce_resolution_targets() == NOTHING_TARGET
    assert not delay_notices().exists()
    assert reload(complaint).escalation_level == ""

    # The new target is kept like the first: missed, the case is escalated and the customer
    # told once.
    now = the_day_after(complaint.resolution_target_date)
    assert sweeps.enforce_resolution_targets(now=now) == {
        "overdue": 1,
        "delay_notices": 1,
        "notifications": 2,
    }
    [notice] = delay_notices()
    assert in_words(complaint.resolution_target_date) in notice.body_text
    assert sweeps.enforce_resolution_targets(now=now + DAY) == NOTHING_TARGET


def test_an_overdue_case_reopened_is_never_told_of_the_same_delay_twice(team):
    manager = team["manager"]
    complaint = target_passed(
        factories.complaint_at_stage(
            "investigating", csr=team["csr"], resolver=team["resolver"], manager=manager
        )
    )
    first_target = complaint.resolution_target_date
    assert sweeps.enforce_resolution_targets()["delay_notices"] == 1
    services.resolution_propose(complaint, actor=manager, type="apology", description="Sorry.")
    # The customer turns the resolution down: the case is reopened.
    services.resolution_record_customer_response(
        complaint, actor=None, accepted=False, comment="Not good enough."
    )

    complaint = reload(complaint)
    assert complaint.stage == Stage.INVESTIGATING
    assert complaint.resolution_target_date > timezone.localdate()
    assert complaint.resolution_overdue_at is None
    # Who escalated it, why and when stay on record.
    assert complaint.escalation_level == "manager"
    assert complaint.escalation_reason == "resolution target missed"
    assert sweeps.enforce_resolution_targets() == NOTHING_TARGET
    assert delay_notices().count() == 1

    now = the_day_after(complaint.resolution_target_date)
    assert sweeps.enforce_resolution_targets(now=now)["delay_notices"] == 1
    assert sweeps.enforce_resolution_targets(now=now + DAY) == NOTHING_TARGET
    first, second = delay_notices()
    assert in_words(first_target) in first.body_text
    assert in_words(complaint.resolution_target_date) in second.body_text


def test_a_case_reopened_before_its_target_keeps_the_target_it_was_promised(team):
    complaint = in_follow_up(team)
    promised = complaint.resolution_target_date

    services.feedback_record(complaint, actor=None, score=2, resolved=False)

    assert reload(complaint).resolution_target_date == promised


def test_a_complexity_change_that_moves_the_target_ahead_lifts_the_overdue_mark(team):
    # Standard: 10 business days, long past; complex: 30 calendar days, still ahead.
    complaint = received_ago(team["csr"], 20 * 24)
    now = timezone.now()
    assert sweeps.enforce_resolution_targets(now=now)["overdue"] == 1

    services.complaint_update(complaint, actor=team["manager"], changes={"complexity": "complex"})

    complaint = reload(complaint)
    assert complaint.resolution_target_date == clocks.resolution_target(
        complaint.received_at, "complex"
    )
    assert complaint.resolution_target_date > timezone.localdate()
    assert complaint.resolution_overdue_at is None
    assert sweeps.enforce_resolution_targets(now=now + H) == NOTHING_TARGET

    # The new target is enforced once when it passes, with a notice of its own date.
    later = the_day_after(complaint.resolution_target_date)
    assert sweeps.enforce_resolution_targets(now=later) == {
        "overdue": 1,
        "delay_notices": 1,
        "notifications": 2,
    }
    assert sweeps.enforce_resolution_targets(now=later + DAY) == NOTHING_TARGET
    assert delay_notices().count() == 2
    assert in_words(complaint.resolution_target_date) in delay_notices().last().body_text


def test_a_complexity_change_that_leaves_the_target_past_keeps_the_overdue_mark(team):
    complaint = received_ago(team["csr"], 60 * 24)
    now = timezone.now()
    assert sweeps.enforce_resolution_targets(now=now)["overdue"] == 1
    marked = reload(complaint).resolution_overdue_at

    services.complaint_update(complaint, actor=team["manager"], changes={"complexity": "complex"})

    complaint = reload(complaint)
    assert complaint.resolution_target_date == clocks.resolution_target(
        complaint.received_at, "complex"
    )
    assert complaint.resolution_target_date < timezone.localdate()
    assert complaint.resolution_overdue_at == marked
    assert sweeps.enforce_resolution_targets(now=now + H) == NOTHING_TARGET
    assert delay_notices().count() == 1


# Follow-up ------------------------------------------------------------------------------


def in_follow_up(team, *, root_cause=True):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=team["csr"], resolver=team["resolver"], manager=team["manager"]
    )
    services.complaint_outcome_record(complaint, actor=team["csr"], outcome="not_upheld")
    if root_cause:
        services.complaint_update(
            complaint, actor=team["csr"], changes={"root_cause": factories.root_cause()}
        )
    return reload(complaint)


def customer_messages(complaint, kind):
    return OutboundMessage.objects.filter(complaint=complaint, kind=kind, to_customer=True)


def test_follow_up_requests_reminds_then_closes_by_itself(team):
    complaint = in_follow_up(team)
    start = complaint.follow_up_started_at

    assert sweeps.send_follow_ups(now=start + 3 * DAY - H) == NOTHING_FOLLOW_UP

    requested = start + 3 * DAY
    assert sweeps.send_follow_ups(now=requested) == {**NOTHING_FOLLOW_UP, "requests": 1}
    assert reload(complaint).feedback_requested_at == requested
    [request] = customer_messages(complaint, MessageKind.FEEDBACK_REQUEST)
    assert request.recipient == "priya@example.com"
    assert sweeps.send_follow_ups(now=requested) == NOTHING_FOLLOW_UP
    assert sweeps.send_follow_ups(now=requested + 5 * DAY - H) == NOTHING_FOLLOW_UP

    reminded = requested + 5 * DAY
    assert sweeps.send_follow_ups(now=reminded) == {**NOTHING_FOLLOW_UP, "reminders": 1}
    assert reload(complaint).feedback_reminded_at == reminded
    assert customer_messages(complaint, MessageKind.FEEDBACK_REMINDER).count() == 1
    assert sweeps.send_follow_ups(now=reminded) == NOTHING_FOLLOW_UP
    assert sweeps.send_follow_ups(now=reminded + 7 * DAY - H) == NOTHING_FOLLOW_UP
    assert reload(complaint).stage == Stage.FOLLOW_UP

    closed = reminded + 7 * DAY
    assert sweeps.send_follow_ups(now=closed) == {**NOTHING_FOLLOW_UP, "closed": 1}

    complaint = reload(complaint)
    assert complaint.stage == Stage.DOCUMENTED
    assert complaint.documented_at == closed
    assert complaint.feedback_waived_reason == (
        "No answer to the feedback request and its reminder"
    )
    [move] = StageChange.objects.filter(complaint=complaint, to_stage=Stage.DOCUMENTED)
    assert move.from_stage == Stage.FOLLOW_UP
    assert move.actor is None
    assert move.at == closed
    assert move.note == (
        "Follow-up ended by itself: No answer to the feedback request and its reminder"
    )
    assert sweeps.send_follow_ups(now=closed + DAY) == NOTHING_FOLLOW_UP
    assert customer_messages(complaint, MessageKind.FEEDBACK_REQUEST).count() == 1
    assert customer_messages(complaint, MessageKind.FEEDBACK_REMINDER).count() == 1
    assert StageChange.objects.filter(complaint=complaint, to_stage=Stage.DOCUMENTED).count() == 1


def test_a_customer_who_answered_gets_no_reminder(team):
    complaint = in_follow_up(team)
    start = complaint.follow_up_started_at
    requested = start + 3 * DAY
    sweeps.send_follow_ups(now=requested)
    services.feedback_record(complaint, actor=None, score=5, resolved=True, comment="Thanks")

    reminded = requested + 5 * DAY
    # Passing the reminder point marks it, but nothing is sent.
    assert sweeps.send_follow_ups(now=reminded) == NOTHING_FOLLOW_UP
    assert reload(complaint).feedback_reminded_at == reminded
    assert not customer_messages(complaint, MessageKind.FEEDBACK_REMINDER).exists()

    assert sweeps.send_follow_ups(now=reminded + 7 * DAY) == {**NOTHING_FOLLOW_UP, "closed": 1}
    complaint = reload(complaint)
    assert complaint.stage == Stage.DOCUMENTED
    assert complaint.feedback_waived_reason == ""
    [move] = StageChange.objects.filter(complaint=complaint, to_stage=Stage.DOCUMENTED)
    assert move.actor is None
    assert move.note == "Follow-up ended by itself: feedback received"


def test_a_complaint_without_root_cause_stays_in_follow_up(team):
    complaint = in_follow_up(team, root_cause=False)
    start = complaint.follow_up_started_at
    requested = start + 3 * DAY
    reminded = requested + 5 * DAY
    due = reminded + 7 * DAY
    sweeps.send_follow_ups(now=requested)
    sweeps.send_follow_ups(now=reminded)

    assert sweeps.send_follow_ups(now=due) == {**NOTHING_FOLLOW_UP, "left_open": 1}
    complaint = reload(complaint)
    assert complaint.stage == Stage.FOLLOW_UP
    assert not StageChange.objects.filter(complaint=complaint, to_stage=Stage.DOCUMENTED).exists()
    # Still counted on every run until someone completes the record.
    assert sweeps.send_follow_ups(now=due + H) == {**NOTHING_FOLLOW_UP, "left_open": 1}

    services.complaint_update(
        complaint, actor=team["csr"], changes={"root_cause": factories.root_cause()}
    )
    assert sweeps.send_follow_ups(now=due + 2 * H) == {**NOTHING_FOLLOW_UP, "closed": 1}
    assert reload(complaint).stage == Stage.DOCUMENTED


def test_a_complaint_left_open_gets_no_new_history_on_every_run(team):
    complaint = in_follow_up(team, root_cause=False)
    requested = complaint.follow_up_started_at + 3 * DAY
    due = requested + 12 * DAY
    sweeps.send_follow_ups(now=requested)
    sweeps.send_follow_ups(now=requested + 5 * DAY)
    sweeps.send_follow_ups(now=due)
    rows = complaint.history.count()

    for hour in range(1, 4):
        assert sweeps.send_follow_ups(now=due + hour * H) == {**NOTHING_FOLLOW_UP, "left_open": 1}

    assert complaint.history.count() == rows


def test_complaints_that_cannot_close_do_not_hold_back_those_behind_them(team, monkeypatch):
    monkeypatch.setattr(sweeps, "BATCH", 2)
    incomplete = [in_follow_up(team, root_cause=False) for _ in range(3)]
    complete = [in_follow_up(team) for _ in range(2)]
    # Both past the close point, the incomplete ones reminded first: they fill a whole batch.
    now = timezone.now()
    for complaints, reminded in ((incomplete, now - 20 * DAY), (complete, now - 10 * DAY)):
        Complaint.objects.filter(pk__in=[c.pk for c in complaints]).update(
            feedback_requested_at=reminded - 5 * DAY, feedback_reminded_at=reminded
        )

    assert sweeps.send_follow_ups(now=now) == {**NOTHING_FOLLOW_UP, "closed": 2, "left_open": 3}

    assert {reload(c).stage for c in complete} == {Stage.DOCUMENTED}
    assert {reload(c).stage for c in incomplete} == {Stage.FOLLOW_UP}
    assert sweeps.send_follow_ups(now=now + H) == {**NOTHING_FOLLOW_UP, "left_open": 3}


def test_a_customer_who_answered_before_the_request_is_not_asked(team):
    complaint = in_follow_up(team)
    services.feedback_record(complaint, actor=team["csr"], score=5, resolved=True)

    summary = sweeps.send_follow_ups(now=complaint.follow_up_started_at + 3 * DAY)

    assert not customer_messages(complaint, MessageKind.FEEDBACK_REQUEST).exists()
    assert summary["requests"] == 0  # the point has passed: marked, nothing sent
    assert reload(complaint).feedback_requested_at is not None


def test_a_reopened_complaint_is_asked_again_in_its_new_follow_up_round(team):
    csr = team["csr"]
    complaint = in_follow_up(team)
    # The first round happened weeks ago: request, reminder, then the customer answered.
    now = timezone.now()
    Complaint.objects.filter(pk=complaint.pk).update(follow_up_started_at=now - 20 * DAY)
    sweeps.send_follow_ups(now=now - 17 * DAY)
    sweeps.send_follow_ups(now=now - 12 * DAY)
    services.feedback_record(reload(complaint), actor=None, score=1, resolved=False)
    complaint = reload(complaint)
    assert complaint.stage == Stage.INVESTIGATING
    services.resolution_propose(complaint, actor=csr, type="apology", description="Sorry again.")
    services.resolution_record_customer_response(complaint, actor=csr, accepted=True)
    services.resolution_implement(complaint, actor=csr, notes="Fixed it properly this time.")
    second_round = reload(complaint).follow_up_started_at

    assert sweeps.send_follow_ups(now=second_round + H) == NOTHING_FOLLOW_UP
    assert reload(complaint).stage == Stage.FOLLOW_UP
    assert sweeps.send_follow_ups(now=second_round + 3 * DAY) == {
        **NOTHING_FOLLOW_UP,
        "requests": 1,
    }
    assert customer_messages(complaint, MessageKind.FEEDBACK_REQUEST).count() == 2


def test_follow_up_summary_counts_several_complaints_at_once(team):
    first = in_follow_up(team)
    second = in_follow_up(team)
    no_email = factories.complaint_at_stage(
        "follow_up",
        csr=team["csr"],
        resolver=team["resolver"],
        manager=team["manager"],
        customer_email="",
        customer_phone="07700 900123",
    )
    start = max(c.follow_up_started_at for c in (first, second, no_email))

    # The request point passes for all three; only two have an address to write to.
    assert sweeps.send_follow_ups(now=start + 3 * DAY)["requests"] == 2
    assert OutboundMessage.objects.filter(kind=MessageKind.FEEDBACK_REQUEST).count() == 2
    summary = sweeps.send_follow_ups(now=start + 8 * DAY)
    assert summary == {**NOTHING_FOLLOW_UP, "reminders": 2}
    assert OutboundMessage.objects.filter(kind=MessageKind.FEEDBACK_REMINDER).count() == 2
    # The one without an email address has no root cause either.
    assert sweeps.send_follow_ups(now=start + 15 * DAY) == {
        **NOTHING_FOLLOW_UP,
        "closed": 2,
        "left_open": 1,
    }


# The run record -------------------------------------------------------------------------


def test_run_records_a_job_run_with_duration_and_summary(team):
    complaint = assigned_complaint(team["csr"], hours_ago=25)

    summary = jobs.run(jobs.JOBS["enforce_acknowledgment_deadline"])

    assert summary["breached"] == 1
    [record] = JobRun.objects.all()
    assert record.name == "enforce_acknowledgment_deadline"
    assert record.summary == summary
    assert record.error == ""
    assert record.finished_at is not None
    assert record.finished_at >= record.started_at
    assert record.duration_ms is not None
    assert record.duration_ms >= 0
    assert reload(complaint).acknowledgment_breached_at is not None


def test_run_records_the_error_of_a_failing_job(monkeypatch):
    def broken(now=None):
        raise ValueError("boom\nsecond line")

    monkeypatch.setitem(jobs.JOBS, "enforce_acknowledgment_deadline", broken)

    with pytest.raises(ValueError, match="boom"):
        jobs.run(jobs.JOBS["enforce_acknowledgment_deadline"])

    [record] = JobRun.objects.all()
    assert record.error == "ValueError: boom"
    assert record.finished_at is not None
    assert record.duration_ms is not None
    assert record.summary == {}


def test_run_forgets_records_older_than_a_month():
    old = JobRun.objects.create(
        name="relay_outbox", started_at=timezone.now() - 31 * DAY, summary={"sent": 0}
    )
    recent = JobRun.objects.create(name="relay_outbox", started_at=timezone.now() - 29 * DAY)

    jobs.run(jobs.JOBS["relay_outbox"])

    assert not JobRun.objects.filter(pk=old.pk).exists()
    assert JobRun.objects.filter(pk=recent.pk).exists()
    assert JobRun.objects.filter(name="relay_outbox").count() == 2


def test_the_jobs_page_says_what_each_job_did_in_words(client, manager):
    started = timezone.now() - 5 * MIN
    JobRun.objects.create(
        name="enforce_resolution_targets",
        started_at=started,
        finished_at=started,
        duration_ms=3,
        summary={"overdue": 2, "delay_notices": 1, "notifications": 4},
    )
    JobRun.objects.create(
        name="relay_outbox",
        started_at=started,
        finished_at=started,
        duration_ms=1,
        summary={"sent": 5, "still_pending": 0},
    )
    client.force_login(manager)

    html = client.get(reverse("complaints:jobs")).content.decode()

    assert "overdue: 2, delay notices: 1, notifications: 4" in html
    assert "sent: 5, still pending: 0" in html
    assert "delaynotices" not in html
    assert "stillpending" not in html


# Two sweeps at once ---------------------------------------------------------------------

SWEEP_TIMEOUT = 60


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_breach_each_complaint_exactly_once(team, monkeypatch):
    # No broker traffic from a test: the relay is not kicked, no acknowledgment is queued.
    monkeypatch.setattr(outbox, "publish_after_commit", lambda *args, **kwargs: None)
    complaints = [
        received_ago(team["csr"], 25, customer_email="", customer_phone="07700 900123")
        for _ in range(30)
    ]
    references = {c.reference for c in complaints}
    summaries = run_together(
        sweeps.enforce_acknowledgment_deadline,
        sweeps.enforce_acknowledgment_deadline,
        timeout=SWEEP_TIMEOUT,
    )

    assert sum(s["breached"] for s in summaries) == 30
    assert sum(s["warned"] for s in summaries) == 0  # past the deadline: breached, not warned
    assert not Complaint.objects.filter(acknowledgment_breached_at__isnull=True).exists()
    assert Complaint.history.filter(history_change_reason=BREACHED_REASON).count() == 30
    breach_rows = Counter(
        Complaint.history.filter(history_change_reason=BREACHED_REASON).values_list("id", flat=True)
    )
    assert set(breach_rows.values()) == {1}
    assert set(Complaint.objects.values_list("escalation_level", flat=True)) == {"manager"}

    digests = staff_messages(subject__icontains="acknowledgment deadline")
    for manager in ("admin@staff.example.com", "manager@staff.example.com"):
        listed = Counter(
            reference
            for body in digests.filter(recipient=manager).values_list("body_text", flat=True)
            for reference in REFERENCE.findall(body)
        )
        assert set(listed) == references, manager
        assert set(listed.values()) == {1}, manager
    assert set(digests.values_list("recipient", flat=True)) == {
        "admin@staff.example.com",
        "manager@staff.example.com",
    }
    # Each sweep told each manager once per batch it committed, and nothing else.
    assert sum(s["notifications"] for s in summaries) == staff_messages().count()


def test_follow_up_of_a_customer_without_email_ends_with_a_true_note(team):
    complaint = in_follow_up(team)
    Complaint.objects.filter(pk=complaint.pk).update(customer_email="")
    start = complaint.follow_up_started_at

    assert sweeps.send_follow_ups(now=start + 3 * DAY)["requests"] == 0
    assert sweeps.send_follow_ups(now=start + 8 * DAY)["reminders"] == 0
    assert sweeps.send_follow_ups(now=start + 15 * DAY)["closed"] == 1

    complaint = reload(complaint)
    assert complaint.stage == Stage.DOCUMENTED
    assert complaint.feedback_waived_reason.startswith("No email address to ask for feedback")
    assert not OutboundMessage.objects.filter(
        complaint=complaint,
        kind__in=[MessageKind.FEEDBACK_REQUEST, MessageKind.FEEDBACK_REMINDER],
    ).exists()
