"""Risky defaults: no decision that moves money, closes an option or speaks for the customer
is pre-selected; reopening says why; staff cannot answer for a customer who already has."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from complaints import services
from complaints.models import Feedback
from complaints.workflow import Refused, Stage
from tests import factories

pytestmark = pytest.mark.django_db


def page_of(user, complaint):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert response.status_code == 200
    return client, response.content.decode()


def post(client, complaint, action, data):
    return client.post(reverse("complaints:action", args=[complaint.pk, action]), data)


def first_option(html, name):
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no {name} select on the page"
    assert "selected" not in select.group(1), f"{name} has a choice pre-selected"
    return re.search(r"<option[^>]*>([^<]*)</option>", select.group(1)).group(0)


def test_resolution_type_approval_and_feedback_start_on_an_empty_choice(csr, resolver, manager):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    investigating = factories.complaint_at_stage("investigating", **people)
    _, html = page_of(csr, investigating)
    assert first_option(html, "type") == '<option value="">Choose…</option>'

    services.resolution_propose(
        investigating, actor=csr, type="refund", amount=900, description="Refund of 900."
    )
    _, html = page_of(manager, investigating)
    assert first_option(html, "decision") == '<option value="">Choose…</option>'

    _, html = page_of(csr, factories.complaint_at_stage("follow_up", **people))
    assert first_option(html, "score") == '<option value="">Choose…</option>'
    assert first_option(html, "resolved") == '<option value="">Choose…</option>'


def test_a_decision_left_unchosen_is_refused_with_a_sentence(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_propose(
        complaint, actor=csr, type="refund", amount=900, description="Refund of 900."
    )
    client, _ = page_of(manager, complaint)

    response = post(client, complaint, "approve", {"decision": "", "note": "Fine."})

    assert response.status_code == 400
    assert "Choose a decision: nothing is pre-selected." in response.content.decode()
    assert complaint.resolutions.get().approved_by is None


def test_a_score_left_unchosen_records_no_feedback(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager
    )
    client, _ = page_of(csr, complaint)

    response = post(client, complaint, "feedback", {"score": "", "resolved": "yes"})

    assert response.status_code == 400
    assert "Choose the score the customer gave: nothing is pre-selected." in (
        response.content.decode()
    )
    assert not Feedback.objects.filter(complaint=complaint).exists()


def test_a_resolution_type_left_unchosen_proposes_nothing(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    client, _ = page_of(csr, complaint)

    data = {"expected_stage": "investigating", "type": "", "description": "We are sorry."}
    response = post(client, complaint, "propose", data)

    assert response.status_code == 400
    assert "Choose the kind of resolution: nothing is pre-selected." in response.content.decode()
    assert not complaint.resolutions.exists()


def test_reopening_asks_for_a_reason_on_the_page_and_in_the_service(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager
    )
    client, html = page_of(csr, complaint)
    assert re.search(
        r"Why\? \(required to reopen: not resolved\)</label>\s*<textarea[^>]*required", html
    )

    response = post(
        client, complaint, "transition", {"expected_stage": "follow_up", "to": "investigating"}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.stage == Stage.FOLLOW_UP
    with pytest.raises(Refused, match="Say why the complaint goes back to Investigating"):
        services.complaint_transition(complaint, "investigating", actor=csr, note="  ")

    data = {"expected_stage": "follow_up", "to": "investigating", "note": "Still charged."}
    post(client, complaint, "transition", data)
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING
    assert complaint.stage_changes.latest("id").note == "Still charged."


def test_staff_feedback_form_is_gone_once_the_customer_answered(csr, resolver, manager):
    complaint = factories.complaint_at_stage(
        "follow_up", csr=csr, resolver=resolver, manager=manager
    )
    _, html = page_of(csr, complaint)
    assert "Record feedback" in html

    services.feedback_record(complaint, actor=None, score=4, resolved=True)

    _, html = page_of(csr, complaint)
    assert "Record feedback" not in html
    with pytest.raises(Refused, match="already been given"):
        services.feedback_record(complaint, actor=csr, score=1, resolved=True)
