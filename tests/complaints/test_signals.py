"""Signals: each event that hands work to someone marks the case for that person ("new",
listed first, counted at the top of their home page) until they open it, and one digest email
per person per run tells them of it, once."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from complaints import selectors, services
from complaints.models import MessageKind, OutboundMessage, Signal, SignalKind
from complaints.sub_status import SubStatus
from tests import factories
from tests.complaints.test_customer_link import token_of, url
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
ROW_REFERENCE = re.compile(r'<a href="/complaints/\d+/">(CMP-\d{4}-\d{6})</a>')


def unseen(user):
    return sorted(
        (s.complaint.reference, s.kind)
        for s in Signal.objects.filter(user=user, seen_at__isnull=True).select_related("complaint")
    )


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def at_stage(stage, csr, resolver, manager):
    return factories.complaint_at_stage(stage, csr=csr, resolver=resolver, manager=manager)


# The customer's events, through their link ---------------------------------------------------


def test_customer_accepting_through_the_link_marks_the_case_for_its_assignee(
    csr, resolver, manager
):
    complaint = at_stage("resolved", csr, resolver, manager)

    Client().post(url("respond", token_of(complaint)), {"decision": "accept"})

    assert unseen(csr) == [(complaint.reference, SignalKind.CUSTOMER_ACCEPTED)]
    assert unseen(resolver) == unseen(manager) == []
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.CUSTOMER_ACCEPTED


def test_opening_the_case_clears_the_mark_and_the_news_for_that_person_only(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    Client().post(url("respond", token_of(complaint)), {"decision": "accept"})
    services.signal_raise(complaint, SignalKind.ESCALATED, for_user=manager)

    response = signed_in(csr).get(reverse("complaints:detail", args=[complaint.pk]))

    assert response.status_code == 200
    assert unseen(csr) == []
    assert unseen(manager) == [(complaint.reference, SignalKind.ESCALATED)]
    complaint.refresh_from_db()
    # The owner has read it: the case now waits for them to implement it.
    assert complaint.sub_status == SubStatus.AWAITING_IMPLEMENTATION


def test_customer_disagreeing_reopens_and_marks_the_case_as_a_reply(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)

    Client().post(url("respond", token_of(complaint)), {"decision": "reject", "comment": "No"})

    assert unseen(csr) == [(complaint.reference, SignalKind.CUSTOMER_DISAGREED)]
    complaint.refresh_from_db()
    assert complaint.stage == "investigating"
    assert complaint.sub_status == SubStatus.CUSTOMER_REPLIED


def test_customer_adding_information_marks_the_case(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)

    Client().post(url("add", token_of(complaint)), {"message": "My statement shows it twice."})

    assert unseen(csr) == [(complaint.reference, SignalKind.CUSTOMER_ADDED_INFORMATION)]
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.CUSTOMER_REPLIED


def test_customer_answering_the_feedback_request_marks_the_case(csr, resolver, manager):
    complaint = at_stage("follow_up", csr, resolver, manager)
    assert complaint.sub_status == SubStatus.AWAITING_FEEDBACK

    Client().post(url("feedback", token_of(complaint)), {"score": "5", "resolved": "yes"})

    assert unseen(csr) == [(complaint.reference, SignalKind.CUSTOMER_FEEDBACK)]


def test_information_on_an_unassigned_case_goes_to_the_queue_it_is_in(csr, csr2, resolver):
    complaint = factories.complaint(csr)

    services.customer_information_add(complaint, text="One more thing")

    assert unseen(csr) == unseen(csr2) == [(complaint.reference, "customer_added_information")]
    assert unseen(resolver) == []


def test_customer_replied_is_a_signal_other_ways_in_can_raise(csr, resolver, manager):
    """Inbound email calls it when a customer's reply arrives."""
    complaint = at_stage("investigating", csr, resolver, manager)

    services.signal_raise(complaint, SignalKind.CUSTOMER_REPLIED)

    assert unseen(csr) == [(complaint.reference, SignalKind.CUSTOMER_REPLIED)]
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.CUSTOMER_REPLIED


def test_a_colleague_recording_the_customers_word_is_no_news_to_themselves(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)

    services.resolution_record_customer_response(complaint, actor=csr, accepted=True)

    assert unseen(csr) == []
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.AWAITING_IMPLEMENTATION


# Colleagues' events ----------------------------------------------------------------------------


def test_a_consultation_answered_marks_the_case_for_who_asked(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    consultation = services.consultation_request(
        complaint,
        actor=manager,
        department="Cards",
        question="Was it charged twice?",
        consultee=resolver,
    )

    services.consultation_answer(consultation, actor=resolver, answer="Yes")

    assert unseen(manager) == [(complaint.reference, SignalKind.CONSULTATION_ANSWERED)]
    assert unseen(resolver) == []


def test_approval_asked_of_the_managers_and_the_decision_told_to_the_proposer(
    csr, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.resolution_propose(
        complaint, actor=csr, type="refund", amount=900, description="A full refund"
    )
    complaint.refresh_from_db()
    assert unseen(manager) == [(complaint.reference, SignalKind.APPROVAL_REQUESTED)]
    assert complaint.sub_status == SubStatus.AWAITING_APPROVAL

    services.resolution_decide_approval(complaint, actor=manager, approve=True)

    assert unseen(csr) == [(complaint.reference, SignalKind.APPROVAL_GIVEN)]
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.AWAITING_CUSTOMER


def test_a_refused_approval_is_told_to_the_proposer(csr, resolver, manager):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.resolution_propose(
        complaint, actor=csr, type="refund", amount=900, description="A full refund"
    )

    services.resolution_decide_approval(complaint, actor=manager, approve=False, note="Too much")

    assert unseen(csr) == [(complaint.reference, SignalKind.APPROVAL_REFUSED)]
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.NONE


def test_assigned_to_you_marks_the_case_but_taking_it_yourself_does_not(csr, csr2, manager):
    mine = factories.complaint(csr)
    given = factories.complaint(csr)

    services.complaint_assign(mine, actor=csr, assignee=csr)
    services.complaint_assign(given, actor=manager, assignee=csr2)

    assert unseen(csr) == []
    assert unseen(csr2) == [(given.reference, SignalKind.ASSIGNED)]


def test_escalation_marks_the_case_for_those_it_is_escalated_to(csr, resolver, manager):
    to_team = factories.complaint(csr)
    to_managers = factories.complaint(csr)

    services.complaint_escalate(to_team, actor=csr, level="team", reason="Specialist")
    services.complaint_escalate(to_managers, actor=csr, level="manager", reason="Ombudsman")

    assert unseen(resolver) == [(to_team.reference, SignalKind.ESCALATED)]
    assert unseen(manager) == [(to_managers.reference, SignalKind.ESCALATED)]
    assert unseen(csr) == []


# Changing hands and groups ---------------------------------------------------------------------


def test_the_customers_news_follows_the_case_to_its_new_assignee(csr, csr2, resolver, manager):
    csr2.email = "csr2@example.com"
    csr2.save()
    complaint = at_stage("investigating", csr, resolver, manager)
    services.customer_information_add(complaint, text="My statement shows it twice.")
    services.signals_notify()  # the first holder was told already

    services.complaint_assign(complaint, actor=manager, assignee=csr2)

    assert unseen(csr) == []
    assert unseen(csr2) == [
        (complaint.reference, SignalKind.ASSIGNED),
        (complaint.reference, SignalKind.CUSTOMER_ADDED_INFORMATION),
    ]
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.CUSTOMER_REPLIED
    # The new holder's digest tells them of the news too, once.
    assert services.signals_notify() == {"signals": 2, "emails": 1}
    digest = OutboundMessage.objects.get(recipient="csr2@example.com")
    assert "The customer added information" in digest.body_text
    assert "Assigned to you" in digest.body_text


def test_assigned_to_you_is_cleared_when_the_case_moves_on(csr, csr2, manager):
    complaint = factories.complaint(csr)
    services.complaint_assign(complaint, actor=manager, assignee=csr)

    services.complaint_assign(complaint, actor=manager, assignee=csr2)

    assert unseen(csr) == []
    assert unseen(csr2) == [(complaint.reference, SignalKind.ASSIGNED)]


def test_taking_a_case_from_the_queue_makes_its_news_the_takers_alone(csr, csr2):
    complaint = factories.complaint(csr)
    services.customer_information_add(complaint, text="One more thing")

    services.complaint_assign(complaint, actor=csr, assignee=csr)

    news = [(complaint.reference, SignalKind.CUSTOMER_ADDED_INFORMATION)]
    assert unseen(csr) == news
    assert unseen(csr2) == []
    assert Signal.objects.filter(complaint=complaint).count() == 2  # none raised twice


def test_news_unread_by_the_assignee_goes_back_to_the_queue_with_the_case(
    csr, csr2, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.customer_information_add(complaint, text="More")

    services.complaint_assign(complaint, actor=manager, assignee=None)

    news = [(complaint.reference, SignalKind.CUSTOMER_ADDED_INFORMATION)]
    assert unseen(csr) == unseen(csr2) == news
    assert unseen(resolver) == unseen(manager) == []


def test_one_of_a_group_opening_the_case_has_read_it_for_the_group(csr, csr2, manager):
    complaint = factories.complaint(csr)
    services.customer_information_add(complaint, text="One more thing")
    services.signal_raise(complaint, SignalKind.ESCALATED, for_user=csr2)

    signed_in(csr).get(reverse("complaints:detail", args=[complaint.pk]))

    # The news was the queue's, and is read; what was raised for csr2 alone stays.
    assert unseen(csr) == []
    assert unseen(csr2) == [(complaint.reference, SignalKind.ESCALATED)]
    complaint.refresh_from_db()
    assert complaint.sub_status == SubStatus.NONE


def test_a_decided_approval_is_no_longer_new_for_any_manager(
    csr, resolver, manager, django_user_model
):
    other_manager = make_user(django_user_model, "manager2", Role.MANAGER)
    complaint = at_stage("investigating", csr, resolver, manager)
    services.resolution_propose(
        complaint, actor=csr, type="refund", amount=900, description="A full refund"
    )
    asked = [(complaint.reference, SignalKind.APPROVAL_REQUESTED)]
    assert unseen(manager) == unseen(other_manager) == asked

    services.resolution_decide_approval(complaint, actor=manager, approve=True)

    assert unseen(manager) == unseen(other_manager) == []


# The queues and the home page ------------------------------------------------------------------


def test_home_counts_what_is_new_and_lists_it_first_marked_new(csr, resolver, manager):
    waiting = at_stage("resolved", csr, resolver, manager)
    accepted = at_stage("resolved", csr, resolver, manager)
    Client().post(url("respond", token_of(accepted)), {"decision": "accept"})

    html = signed_in(csr).get("/").content.decode()

    assert "New for you" in html
    assert re.search(r"The customer accepted the resolution: <strong>1</strong>", html)
    mine = html[html.index("My complaints") :]
    assert ROW_REFERENCE.findall(mine)[:2] == [accepted.reference, waiting.reference]
    row = mine[mine.index(accepted.reference) :]
    assert row.index(">new</span>") < row.index(waiting.reference)
    assert "customer accepted" in row

    signed_in(csr).get(reverse("complaints:detail", args=[accepted.pk]))
    html = signed_in(csr).get("/").content.decode()
    assert "New for you" not in html
    assert ">new</span>" not in html


def test_the_counts_and_marks_read_the_partial_index(csr, resolver, manager):
    complaint = at_stage("resolved", csr, resolver, manager)
    services.signal_raise(complaint, SignalKind.ESCALATED, for_user=manager)
    queries = (
        selectors.signals_unseen(manager).values("kind").order_by(),
        selectors.signals_unseen(manager).values("complaint_id").order_by(),
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries:
            sql, params = query.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "signal_unseen" in plan, plan


# The digest ----------------------------------------------------------------------------------


def test_one_digest_per_person_per_run_listing_each_case_once(csr, resolver, manager, settings):
    settings.EMAIL_BACKEND = LOCMEM
    csr.email = "csr@example.com"
    csr.save()
    first = at_stage("resolved", csr, resolver, manager)
    second = at_stage("investigating", csr, resolver, manager)
    Client().post(url("respond", token_of(first)), {"decision": "accept"})
    services.customer_information_add(second, text="Here is more")
    services.customer_information_add(second, text="And more")

    summary = services.signals_notify()

    assert summary == {"signals": 3, "emails": 1}
    digest = OutboundMessage.objects.get(recipient="csr@example.com")
    assert digest.kind == MessageKind.STAFF_NOTIFICATION
    assert digest.subject == "[Redress] 2 complaints need you"
    assert digest.body_text.count(second.reference) == 1
    assert "The customer added information" in digest.body_text
    assert "The customer accepted the resolution" in digest.body_text
    assert services.signals_notify() == {"signals": 0, "emails": 0}

    services.outbox_relay()
    assert [m.to for m in mail.outbox if m.subject == digest.subject] == [["csr@example.com"]]


def test_a_case_opened_before_the_digest_is_not_emailed(csr, resolver, manager, settings):
    csr.email = "csr@example.com"
    csr.save()
    complaint = at_stage("resolved", csr, resolver, manager)
    Client().post(url("respond", token_of(complaint)), {"decision": "accept"})
    services.signals_seen(complaint, csr)

    assert services.signals_notify() == {"signals": 1, "emails": 0}
    assert not OutboundMessage.objects.filter(recipient="csr@example.com").exists()


def test_a_digest_of_one_case_names_it_in_the_subject(csr, resolver, manager):
    csr.email = "csr@example.com"
    csr.save()
    complaint = at_stage("resolved", csr, resolver, manager)
    Client().post(url("respond", token_of(complaint)), {"decision": "accept"})

    services.signals_notify(now=timezone.now())

    digest = OutboundMessage.objects.get(recipient="csr@example.com")
    assert digest.subject == (
        f"[Redress] {complaint.reference}: The customer accepted the resolution"
    )
    assert digest.complaint_id == complaint.pk
