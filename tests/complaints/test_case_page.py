"""The complaint page: where the case is, its one next step, what the next stage needs (from
the workflow's own list, so the page never offers what the service would refuse), the other
actions folded, the manager's review, and each email openable in full."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints import services
from complaints.models import MessageKind, OutboundMessage
from complaints.selectors.timeline import TimelineEntry
from complaints.templatetags import redress
from complaints.web import forms
from complaints.workflow import Refused, Stage
from tests import factories

pytestmark = pytest.mark.django_db


def detail_url(complaint):
    return reverse("complaints:detail", args=[complaint.pk])


def page_of(client, user, complaint):
    client.force_login(user)
    response = client.get(detail_url(complaint))
    assert response.status_code == 200
    return response


def at_stage(stage, people, **overrides):
    return factories.complaint_at_stage(stage, **people, **overrides)


@pytest.fixture
def people(csr, resolver, manager):
    return {"csr": csr, "resolver": resolver, "manager": manager}


def test_the_stepper_marks_the_stages_done_the_current_one_and_those_left(client, people):
    complaint = at_stage("investigating", people)
    response = page_of(client, people["csr"], complaint)

    steps = [(stage.value, state) for stage, state, _ in response.context["plan"]["steps"]]
    assert steps == [
        ("received", "done"),
        ("acknowledged", "done"),
        ("investigating", "current"),
        ("resolved", "to do"),
        ("follow_up", "to do"),
        ("documented", "to do"),
        ("reviewed", "to do"),
    ]
    assert response.content.decode().count('aria-current="step"') == 1


def test_a_reviewed_case_has_every_stage_done_and_still_says_where_it_is(client, people):
    plan = page_of(client, people["csr"], at_stage("reviewed", people)).context["plan"]
    assert {state for _, state, _ in plan["steps"]} == {"done"}
    assert [stage for stage, _, here in plan["steps"] if here] == [Stage.REVIEWED]


@pytest.mark.parametrize(
    ("stage", "role", "primary"),
    [
        ("acknowledged", "csr", "move-investigating"),
        ("investigating", "csr", "propose"),
        ("resolved", "csr", "customer_response"),
        ("follow_up", "csr", "move-documented"),
        ("documented", "manager", "review"),
    ],
)
def test_each_stage_has_one_primary_action_and_the_rest_folded(
    client, people, stage, role, primary
):
    complaint = at_stage(stage, people)
    plan = page_of(client, people[role], complaint).context["plan"]

    assert plan["primary"].key == primary
    folded = [offer.key for offer in plan["folded"]]
    assert primary not in folded
    assert "note" in folded or any(fix and fix.key == "note" for _, fix in plan["checklist"])


def test_with_no_step_of_theirs_the_page_says_what_the_case_waits_for(client, people):
    documented = at_stage("documented", people)
    plan = page_of(client, people["csr"], documented).context["plan"]
    assert plan["primary"] is None
    assert plan["waiting"] == "Waiting for a manager's review and sign-off."


def test_a_queued_acknowledgment_email_is_not_doubled_by_a_form_that_would_be_refused(
    client, people
):
    complaint = factories.complaint(people["csr"])
    assert complaint.messages.filter(kind=MessageKind.ACKNOWLEDGMENT).exists()

    response = page_of(client, people["csr"], complaint)
    plan = response.context["plan"]
    assert plan["primary"] is None
    assert plan["waiting"].startswith("The acknowledgment email to the customer is on its way")
    assert "send_acknowledgment" not in [offer.key for offer in plan["folded"]]


def test_mark_documented_waits_for_what_the_gate_demands_and_says_what(client, people):
    complaint = at_stage("follow_up", people)
    plan = page_of(client, people["csr"], complaint).context["plan"]

    move = plan["primary"]
    assert move.key == "move-documented"
    assert move.blocked == "Needs root cause, the outcome and customer feedback first."
    with pytest.raises(Refused, match="root cause, the outcome and customer feedback are missing"):
        services.complaint_transition(complaint, Stage.DOCUMENTED, actor=people["csr"])
    missing = {r.key: fix and fix.key for r, fix in plan["checklist"] if not r.met}
    assert missing == {"root_cause": "root_cause", "outcome": "outcome", "feedback": "feedback"}


@pytest.mark.parametrize(
    "supplied",
    [
        (),
        ("root_cause",),
        ("feedback",),
        ("root_cause", "feedback"),
        ("root_cause", "outcome", "feedback"),
    ],
)
def test_the_page_offers_the_move_exactly_when_the_service_allows_it(client, people, supplied):
    complaint = at_stage("follow_up", people)
    csr = people["csr"]
    if "root_cause" in supplied:
        services.complaint_update(
            complaint, actor=csr, changes={"root_cause": factories.root_cause()}
        )
    if "outcome" in supplied:
        services.complaint_outcome_record(complaint, actor=csr, outcome="upheld")
    if "feedback" in supplied:
        services.feedback_record(complaint, actor=csr, score=4, resolved=True)
    move = page_of(client, csr, complaint).context["plan"]["primary"]

    try:
        services.complaint_transition(complaint, Stage.DOCUMENTED, actor=csr)
    except Refused:
        allowed = False
    else:
        allowed = True
    assert allowed == (not move.blocked)
    html = client.get(detail_url(complaint)).content.decode()
    assert ("disabled aria-describedby" in html) == (not allowed and complaint.stage == "follow_up")


def test_the_root_cause_is_set_from_the_checklist_without_leaving_the_page(client, people):
    complaint = at_stage("follow_up", people)
    cause = factories.root_cause("Duplicate card authorisation")
    client.force_login(people["csr"])
    page = client.get(detail_url(complaint)).content.decode()
    action = reverse("complaints:action", args=[complaint.pk, "root_cause"])
    assert f'action="{action}"' in page

    response = client.post(action, {"root_cause": cause.pk}, follow=True)

    assert response.redirect_chain == [(detail_url(complaint), 302)]
    complaint.refresh_from_db()
    assert complaint.root_cause == cause
    plan = response.context["plan"]
    assert plan["primary"].blocked == "Needs the outcome and customer feedback first."
    assert "root_cause" not in [offer.key for offer in plan["folded"]]


def test_an_empty_root_cause_is_a_form_error_and_changes_nothing(client, people):
    complaint = at_stage("follow_up", people)
    client.force_login(people["csr"])
    action = reverse("complaints:action", args=[complaint.pk, "root_cause"])

    response = client.post(action, {"root_cause": ""})

    assert response.status_code == 400
    complaint.refresh_from_db()
    assert complaint.root_cause is None
    assert "<details open>" in response.content.decode() or "This field is required" in (
        response.content.decode()
    )


def test_the_next_step_comes_before_the_record_and_the_timeline_in_the_page(client, people):
    html = page_of(client, people["csr"], at_stage("acknowledged", people)).content.decode()
    assert (
        html.index('id="next-step"') < html.index('id="record"') < html.index('id="timeline-title"')
    )


def test_folded_actions_are_native_details_reachable_without_scripts(client, people):
    html = page_of(client, people["csr"], at_stage("investigating", people)).content.decode()
    assert html.count("<details") >= 3
    assert "<summary><h3" in html


def test_the_managers_review_is_shown_on_the_case(client, people):
    complaint = at_stage("reviewed", people)
    review = complaint.review
    review.lessons, review.improvement_actions = "Check the processor first.", "Add a runbook."
    review.save()

    html = page_of(client, people["csr"], complaint).content.decode()

    assert "Manager's review" in html
    for text in ("Handled well.", "Check the processor first.", "Add a runbook."):
        assert text in html


def test_the_page_costs_the_same_queries_however_long_the_timeline(client, people):
    complaint = at_stage("follow_up", people)
    client.force_login(people["manager"])
    client.get(detail_url(complaint))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail_url(complaint)).status_code == 200
        return len(queries)

    short = count()
    for number in range(10):
        services.note_add(complaint, actor=people["csr"], text=f"Note {number}")
        services.complaint_update(
            complaint, actor=people["csr"], changes={"description": f"Version {number}"}
        )
        message = factories.outbox_message(f"complaint:{complaint.pk}:note:{number}")
        OutboundMessage.objects.filter(pk=message.pk).update(complaint=complaint)
    assert count() == short


# The emails on the timeline ---------------------------------------------------------------


def message_url(message):
    return reverse("complaints:message", args=[message.pk])


def test_staff_open_an_email_in_full_without_the_customers_own_link(client, people):
    complaint = factories.complaint(people["csr"])
    message = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    assert "/c/" in message.body_text
    timeline = page_of(client, people["csr"], complaint).content.decode()
    assert f'href="{message_url(message)}"' in timeline

    response = client.get(message_url(message))

    assert response.status_code == 200
    html = response.content.decode()
    assert message.subject in html
    assert f"Your reference is {complaint.reference}." in html
    assert "/c/" not in html
    assert "[the customer&#x27;s own link]" in html


def test_an_email_about_a_complaint_someone_may_not_see_is_a_404(client, people, csr2):
    complaint = factories.complaint(people["csr"])
    services.complaint_assign(complaint, actor=people["csr"], assignee=people["csr"])
    message = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    client.force_login(csr2)
    assert client.get(message_url(message)).status_code == 404
    client.force_login(people["manager"])
    assert client.get(message_url(message)).status_code == 200


def test_a_staff_email_about_no_complaint_cannot_be_opened_here(client, manager):
    digest = factories.outbox_message("digest:1")
    client.force_login(manager)
    assert client.get(message_url(digest)).status_code == 404


def test_signed_out_an_email_is_behind_the_sign_in(client, people):
    message = factories.complaint(people["csr"]).messages.get()
    response = client.get(message_url(message))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The queue ----------------------------------------------------------------------------------


def test_take_from_the_queue_stays_on_the_queue_and_says_which_complaint(client, csr):
    complaint = factories.complaint(csr, customer_email="", customer_phone="020 7946 0018")
    client.force_login(csr)
    home = client.get("/").content.decode()
    assert '<input type="hidden" name="next" value="/">' in home

    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "take"]), {"next": "/"}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert f"{complaint.reference}: You took this complaint." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.assignee == csr


def test_escalation_is_offered_only_to_where_the_case_is_not_already(client, people):
    complaint = at_stage("investigating", people)
    services.complaint_escalate(complaint, actor=people["csr"], level="team", reason="Records.")
    plan = page_of(client, people["manager"], complaint).context["plan"]
    (escalate,) = [offer for offer in plan["folded"] if offer.key == "escalate"]
    assert [value for value, _ in escalate.form.fields["level"].choices] == ["manager"]


def test_a_closed_case_wears_no_escalated_badge(client, people):
    csr, resolver, manager = people["csr"], people["resolver"], people["manager"]
    complaint = at_stage("investigating", people)
    services.complaint_escalate(complaint, actor=csr, level="team", reason="Records.")
    badge = "Escalated to resolution team</span>"
    assert badge in page_of(client, manager, complaint).content.decode()

    services.resolution_propose(complaint, actor=resolver, type="apology", description="Sorry.")
    services.resolution_record_customer_response(complaint, actor=csr, accepted=True)
    services.resolution_implement(complaint, actor=csr, notes="Letter sent.")
    services.complaint_update(complaint, actor=csr, changes={"root_cause": factories.root_cause()})
    services.complaint_outcome_record(complaint, actor=csr, outcome="upheld")
    services.feedback_record(complaint, actor=csr, score=5, resolved=True)
    services.complaint_transition(complaint, Stage.DOCUMENTED, actor=csr)
    services.review_sign_off(complaint, actor=manager, quality_notes="Fine.")

    assert badge not in page_of(client, manager, complaint).content.decode()


@pytest.mark.parametrize("bound", [False, True])
def test_the_page_writes_each_input_and_textarea_as_djangos_template_would(people, bound):
    """The case page writes its forms' inputs and textareas itself (the template engine per
    widget cost more than the rest of a field): the same HTML, errors and all."""
    complaint = at_stage("investigating", people)
    initial = {"expected_stage": complaint.stage, "to": "resolved", "clock": 7}
    made = [
        form_class(initial=initial)
        for form_class in (
            forms.AcknowledgeForm,
            forms.TransitionForm,
            forms.ResolutionForm,
            forms.ApprovalForm,
            forms.ImplementForm,
            forms.FeedbackForm,
            forms.ReviewForm,
            forms.NoteForm,
            forms.WithdrawForm,
            forms.MergeForm,
            forms.NotAComplaintForm,
            forms.ClockPauseForm,
            forms.ProfileChangeForm,
            forms.EscalateForm,
            forms.FlagClearForm,
        )
    ]
    made.append(forms.FlagForm(unset=["vulnerable", "hardship"]))
    if bound:  # refused: every required field carries its error
        made = [type(form)(data={"reason": "x" * 5000}) for form in made[:-1]]
        made.append(forms.FlagForm(data={}, unset=["vulnerable"]))
    widgets = 0
    for form in made:
        form.is_valid()
        for field in form:
            template = field.field.widget.template_name
            if template in redress.INPUT_TEMPLATES | {redress.TEXTAREA_TEMPLATE}:
                attrs = {"class": "form-control"}
                assert redress.plain_widget(field, attrs) == field.as_widget(attrs=attrs)
                assert redress.plain_widget(field) == str(field)
                widgets += 1
    assert widgets > 20


def test_a_timeline_entry_is_written_whole_and_escaped(settings):
    settings.TIME_ZONE = "Europe/London"
    entry = TimelineEntry(
        datetime(2026, 7, 1, 13, 5, tzinfo=UTC),
        "message",
        "Letter to <Ann>",
        "Bob & Co",
        "Dear Ann,\n<b>sorry</b>",
        changes=(("description", "x" * 90, "<new>"),),
        message_id=7,
        letter=True,
        moved_to="Resolved",
    )

    html = redress.timeline_entry(entry)

    assert html == (
        '<li class="kind-message">\n'
        '      <div><strong>Letter to &lt;Ann&gt;</strong> <span class="badge text-bg-light '
        'border">moved to Resolved</span> <small class="text-body-secondary">· Bob &amp; Co · '
        '<time datetime="2026-07-01T14:05:00+01:00">1 Jul 2026 14:05</time></small></div>\n'
        '      <div class="pre-line">Dear Ann,\n&lt;b&gt;sorry&lt;/b&gt;</div>\n'
        f'      <ul class="small mb-0"><li>Description: <del>{"x" * 79}…</del> → &lt;new&gt;'
        "</li></ul>\n"
        '      <a class="small" href="/complaints/messages/7/">Open the letter<span '
        'class="visually-hidden"> (Letter to &lt;Ann&gt;)</span></a>\n'
        "    </li>"
    )
