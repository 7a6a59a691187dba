"""The responses regulators require (docs/responses.md): each response type of each seeded
profile refused without each of its required elements and sent, from its seeded template as
is, with all of them; wording edited out; a template's new wording waiting for another
manager's approval; the template version each message records; the clocks a response
meets; the refusal on the compose page and through the API."""

import re
import uuid

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from complaints import selectors, services
from complaints.models import (
    ClockEvent,
    ComplaintClock,
    MessageChannel,
    MessageKind,
    OutboundMessage,
    RegulatoryProfile,
    RequiredElement,
    ResponseEnclosure,
    ResponseTemplate,
)
from complaints.responses import (
    CaseFacts,
    Check,
    Fact,
    ResponseIncomplete,
    ResponseType,
    catalogue,
    missing_elements,
    text_has,
)
from complaints.workflow import Refused
from tests import factories
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Under each seeded profile, an outcome its scheme allows that upholds nothing, so no
# redress is owed.
OUTCOME = {"fca": "not_upheld", "asic": "asic_no_remedy", "cfpb": "closed_with_explanation"}
ELEMENTS = catalogue.elements()
SEEDED_TEMPLATES = catalogue.templates()


# Pure: the check itself ----------------------------------------------------------------------


class Element:
    def __init__(self, kind, code="x", patterns="", enclosure="", fact=""):
        self.kind, self.code, self.label, self.source = kind, code, f"the {code}", "Rule 1"
        self.patterns, self.enclosure, self.fact = patterns, enclosure, fact


def test_wording_is_found_whatever_its_case_and_spacing():
    patterns = "Financial Ombudsman Service\nsix months | seis meses"
    assert text_has("the financial\n  OMBUDSMAN service ... within SIX\tmonths", patterns)
    assert text_has("Financial Ombudsman Service: seis meses", patterns)
    assert not text_has("Financial Ombudsman Service, soon", patterns)
    assert not text_has("Financial Ombudsman, six months", patterns)


def test_each_kind_of_element_is_missing_until_it_holds():
    text = Element(Check.TEXT, "ombudsman", patterns="Financial Ombudsman Service")
    leaflet = Element(Check.ENCLOSURE, "leaflet", enclosure="fos-leaflet")
    outcome = Element(Check.FACT, "outcome", fact=Fact.OUTCOME)
    redress = Element(Check.FACT, "redress", fact=Fact.REDRESS)
    early = Element(Check.FACT, "early", fact=Fact.RESOLVED_EARLY)
    elements = [text, leaflet, outcome, redress, early]

    def missing(text, enclosures, **facts):
        found = missing_elements(
            elements, text=text, enclosures=enclosures, facts=CaseFacts(**facts)
        )
        return [item.code for item in found]

    assert missing("", set(), upholds=True) == [
        "ombudsman",
        "leaflet",
        "outcome",
        "redress",
        "early",
    ]
    assert missing("Financial Ombudsman Service", {"fos-leaflet"}, outcome_recorded=True) == [
        "early"
    ]
    everything = {"outcome_recorded": True, "upholds": True, "redress_recorded": True}
    assert missing("financial ombudsman service", {"fos-leaflet"}, **everything) == ["early"]
    assert missing("Financial Ombudsman Service", {"fos-leaflet"}, resolved_early=True) == [
        "outcome"
    ]


def test_an_unknown_fact_is_never_taken_as_given():
    element = Element(Check.FACT, "new", fact="next_years_fact")
    assert missing_elements([element], text="", enclosures=set(), facts=CaseFacts())


def test_every_seeded_template_carries_the_wording_its_profile_requires():
    for code, response_type, _, name, subject, body in SEEDED_TEMPLATES:
        wording = [e for e in ELEMENTS[code][response_type] if e["kind"] == Check.TEXT]
        for element in wording:
            assert text_has(f"{subject}\n{body}", element["patterns"]), (name, element["code"])


# Cases under each profile ---------------------------------------------------------------------


@pytest.fixture
def manager2(django_user_model):
    return make_user(django_user_model, "manager2", "manager")


def activated(code):
    profile = RegulatoryProfile.objects.get(code=code)
    profile.active = True
    profile.save(update_fields=["active"])
    return profile


def case_under(code, *, csr, resolver, manager, stage="received"):
    """A complaint of csr's, at `stage`, moved to the profile `code` by a manager."""
    complaint = factories.complaint_at_stage(
        stage, csr=csr, resolver=resolver, manager=manager, customer_name="Ana Díaz"
    )
    if stage == "received":
        services.complaint_assign(complaint, actor=csr, assignee=csr)
    if code != "house":
        services.complaint_profile_change(
            complaint, actor=manager, profile=activated(code), reason="Regulated product"
        )
    complaint.refresh_from_db()
    return complaint


def ready_case(code, *, csr, resolver, manager):
    """A case with every fact any response type reads: resolved early (follow-up the day it
    came), its redress implemented, and an outcome recorded; the profile's enclosures kept."""
    complaint = case_under(code, csr=csr, resolver=resolver, manager=manager, stage="follow_up")
    scheme = complaint.profile.returns_scheme
    services.complaint_outcome_record(complaint, actor=csr, outcome=OUTCOME[scheme])
    keep_enclosures(code, manager)
    complaint.refresh_from_db()
    return complaint


def keep_enclosures(code, manager):
    profile = RegulatoryProfile.objects.get(code=code)
    for enclosure_code, name in catalogue.ENCLOSURES.get(code, ()):
        services.response_enclosure_upload(
            ResponseEnclosure(profile=profile, code=enclosure_code, name=name),
            SimpleUploadedFile(f"{enclosure_code}.pdf", PDF),
            actor=manager,
        )


def seeded(code, response_type, language="en"):
    (name,) = [row[3] for row in SEEDED_TEMPLATES if row[:3] == (code, response_type, language)]
    return ResponseTemplate.objects.get(name=name)


def send(complaint, template, actor, *, subject=None, text=None, **options):
    drafted = selectors.reply_draft(complaint, template, actor)
    options.setdefault("response_type", template.response_type)
    return services.reply_send(
        complaint,
        actor=actor,
        subject=drafted[0] if subject is None else subject,
        text=drafted[1] if text is None else text,
        token=uuid.uuid4().hex,
        template=template,
        **options,
    )


def without(text, patterns):
    """`text` with every alternative of the first requirement of `patterns` taken out."""
    for alternative in patterns.splitlines()[0].split("|"):
        words = r"\s+".join(re.escape(word) for word in alternative.split())
        text = re.sub(words, "", text, flags=re.IGNORECASE)
    return text


def responses_of(complaint):
    return OutboundMessage.objects.filter(complaint=complaint, kind=MessageKind.REPLY)


PROFILE_TYPES = [
    (code, response_type) for code, by_type in ELEMENTS.items() for response_type in by_type
]
PROFILE_ELEMENTS = [
    pytest.param(code, response_type, element, id=f"{code}-{response_type}-{element['code']}")
    for code, by_type in ELEMENTS.items()
    for response_type, elements in by_type.items()
    for element in elements
]


@pytest.mark.parametrize(
    ("code", "response_type", "language"),
    [(code, t, language) for code, t in PROFILE_TYPES for language in ("en", "es")],
    ids=lambda value: str(value),
)
def test_each_response_is_sent_from_its_seeded_template_as_is(
    code, response_type, language, csr, resolver, manager
):
    complaint = ready_case(code, csr=csr, resolver=resolver, manager=manager)
    template = seeded(code, response_type, language)

    message = send(complaint, template, csr)

    assert message.response_type == response_type
    assert message.template_version == template.history.latest()
    enclosed = {a.original_name for a in message.attachments.all()}
    required = ELEMENTS[code][response_type]
    assert enclosed == {f"{e['enclosure']}.pdf" for e in required if e["kind"] == Check.ENCLOSURE}


@pytest.mark.parametrize(("code", "response_type", "element"), PROFILE_ELEMENTS)
def test_each_response_is_refused_without_each_required_element(
    code, response_type, element, csr, resolver, manager
):
    if element["kind"] == Check.FACT:
        complaint = case_lacking(element["fact"], code, csr, resolver, manager)
    else:
        complaint = case_under(code, csr=csr, resolver=resolver, manager=manager)
    template = seeded(code, response_type)
    subject, text = selectors.reply_draft(complaint, template, csr)
    if element["kind"] == Check.TEXT:
        keep_enclosures(code, manager)
        subject, text = without(subject, element["patterns"]), without(text, element["patterns"])

    with pytest.raises(ResponseIncomplete) as refused:
        send(complaint, template, csr, subject=subject, text=text)

    assert element["code"] in [item.code for item in refused.value.missing]
    assert element["label"] in refused.value.message
    assert not responses_of(complaint).exists()
    assert not complaint.attachments.exists()


def case_lacking(fact, code, csr, resolver, manager):
    """A case under `code` with every fact but `fact`."""
    if fact == Fact.OUTCOME:
        complaint = case_under(code, csr=csr, resolver=resolver, manager=manager, stage="follow_up")
    else:
        # Under investigation: no redress proposed and not resolved early; an outcome that
        # upholds the complaint, so redress is owed.
        complaint = case_under(
            code, csr=csr, resolver=resolver, manager=manager, stage="investigating"
        )
        upheld = "upheld" if complaint.profile.returns_scheme == "fca" else None
        outcome = upheld or OUTCOME[complaint.profile.returns_scheme]
        services.complaint_outcome_record(complaint, actor=csr, outcome=outcome)
    keep_enclosures(code, manager)
    complaint.refresh_from_db()
    return complaint


def test_an_fca_final_response_without_the_ombudsman_paragraph_is_refused_saying_so(
    csr, resolver, manager
):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    template = seeded("fca", ResponseType.FINAL_RESPONSE)
    _, text = selectors.reply_draft(complaint, template, csr)
    edited = text.replace(catalogue.FOS_ADDRESS["en"], "")

    with pytest.raises(ResponseIncomplete) as refused:
        send(complaint, template, csr, text=edited)

    assert [item.code for item in refused.value.missing] == ["ombudsman"]
    assert refused.value.message == (
        "This final response cannot be sent under FCA (DISP 1) until it has: the Financial "
        "Ombudsman Service's name and contact details (DISP 1.6.2R(1)(e))."
    )
    assert not responses_of(complaint).exists()


def test_the_leaflet_never_uploaded_is_named_with_what_to_do(csr, resolver, manager):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager)
    with pytest.raises(ResponseIncomplete) as refused:
        send(complaint, seeded("fca", ResponseType.HOLDING_RESPONSE), csr)
    assert "the Financial Ombudsman Service's leaflet, enclosed (DISP 1.6.2R(2)(c)): no copy" in (
        refused.value.message
    )
    assert "Settings, Response enclosures" in refused.value.message


def test_a_leaflet_whose_file_is_missing_from_storage_is_a_missing_enclosure(
    csr, resolver, manager
):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager)
    keep_enclosures("fca", manager)
    ResponseEnclosure.objects.get(profile__code="fca", code="fos-leaflet").path.unlink()

    with pytest.raises(ResponseIncomplete) as refused:
        send(complaint, seeded("fca", ResponseType.HOLDING_RESPONSE), csr)

    assert [item.code for item in refused.value.missing] == ["leaflet"]
    assert "its file is missing from storage" in refused.value.message
    assert not responses_of(complaint).exists()


def test_a_response_type_the_profile_does_not_require_is_refused(csr, resolver, manager):
    complaint = case_under("cfpb", csr=csr, resolver=resolver, manager=manager)
    with pytest.raises(Refused, match="Under CFPB there is no holding response to send"):
        services.reply_send(
            complaint,
            actor=csr,
            subject="Hello",
            text="Text",
            token=uuid.uuid4().hex,
            response_type=ResponseType.HOLDING_RESPONSE,
        )


def test_a_template_of_another_type_or_profile_is_refused(csr, resolver, manager):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    holding = seeded("fca", ResponseType.HOLDING_RESPONSE)
    with pytest.raises(Refused, match="is for a holding response, not a final response"):
        send(complaint, holding, csr, response_type=ResponseType.FINAL_RESPONSE)
    asic = seeded("asic", ResponseType.FINAL_RESPONSE)
    with pytest.raises(Refused, match="is for ASIC"):
        send(complaint, asic, csr)


def test_an_element_a_manager_switches_off_is_no_longer_required(csr, resolver, manager):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    template = seeded("fca", ResponseType.FINAL_RESPONSE)
    _, text = selectors.reply_draft(complaint, template, csr)
    edited = text.replace(catalogue.FOS_ADDRESS["en"], "")
    RequiredElement.objects.filter(
        profile__code="fca", response_type=ResponseType.FINAL_RESPONSE, code="ombudsman"
    ).update(active=False)
    assert send(complaint, template, csr, text=edited).response_type == "final_response"


# The wording's approval and the version each message records ---------------------------------


def admin_edit(client, user, template, **changes):
    client.force_login(user)
    url = reverse("admin:complaints_responsetemplate_change", args=[template.pk])
    form = {
        "name": template.name,
        "response_type": template.response_type,
        "profile": template.profile_id or "",
        "language": template.language,
        "subject": template.subject,
        "body": template.body,
        "active": "on",
        **changes,
    }
    answer = client.post(url, form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    template.refresh_from_db()
    return template


def test_a_changed_wording_waits_for_another_managers_approval_before_it_is_sent(
    client, csr, resolver, manager, manager2
):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    template = seeded("fca", ResponseType.FINAL_RESPONSE)
    first_version = template.history.latest()

    template = admin_edit(
        client, manager, template, body=template.body.replace("Our decision", "What we decided")
    )
    assert template.awaiting_approval
    assert (template.wording_changed_by, template.approved_by) == (manager, None)
    with pytest.raises(Refused, match="waiting for a manager's approval"):
        send(complaint, template, csr)

    shown = template.wording_changed_at
    with pytest.raises(Refused, match="another manager approves it"):
        services.response_template_approve(template, actor=manager, version=shown)
    with pytest.raises(Refused, match="Only a manager"):
        services.response_template_approve(template, actor=csr, version=shown)
    services.response_template_approve(template, actor=manager2, version=shown)
    template.refresh_from_db()
    assert not template.awaiting_approval and template.approved_by == manager2

    message = send(complaint, template, csr)
    assert "What we decided" in message.body_text
    assert message.template_version == template.history.latest()
    assert message.template_version != first_version
    # Every version stays on record: the seeded one, the change, the approval.
    assert template.history.count() == 3
    assert message.template_version.approved_by == manager2


def test_the_change_form_approves_the_wording_it_shows_and_a_plain_reply_needs_no_approval(
    client, manager, manager2
):
    regulated = seeded("asic", ResponseType.DELAY_NOTICE)
    admin_edit(client, manager, regulated, subject="Your complaint {{ reference }}: a delay")
    plain = ResponseTemplate.objects.create(name="Thanks", subject="Thanks", body="Thank you.")
    assert not admin_edit(client, manager, plain, body="Thank you again.").awaiting_approval

    client.force_login(manager2)
    url = reverse("admin:complaints_responsetemplate_change", args=[regulated.pk])
    page = client.get(url).content.decode()
    shown = regulated.wording_changed_at.isoformat()
    assert f'value="{shown}"' in page and "Approve this wording" in page
    approve = reverse("admin:complaints_responsetemplate_approve", args=[regulated.pk])
    answer = client.post(approve, {"approved_version": shown})
    assert answer.status_code == 302
    regulated.refresh_from_db()
    assert not regulated.awaiting_approval and regulated.approved_by == manager2


def test_an_approval_of_a_wording_changed_since_it_was_read_is_refused(
    client, manager, manager2, django_user_model
):
    manager3 = make_user(django_user_model, "manager3", "manager")
    template = seeded("fca", ResponseType.FINAL_RESPONSE)
    template = admin_edit(client, manager, template, subject="Our final response {{ reference }}")
    read = template.wording_changed_at
    template = admin_edit(client, manager2, template, subject="Final response {{ reference }}")

    with pytest.raises(Refused, match="changed since you read it"):
        services.response_template_approve(template, actor=manager3, version=read)
    with pytest.raises(Refused, match="changed since you read it"):
        services.response_template_approve(template, actor=manager3, version=None)
    # Both editors since the last approval are its authors, not only the latest one.
    with pytest.raises(Refused, match="another manager approves it"):
        services.response_template_approve(
            template, actor=manager, version=template.wording_changed_at
        )
    template.refresh_from_db()
    assert template.awaiting_approval

    services.response_template_approve(
        template, actor=manager3, version=template.wording_changed_at
    )
    template.refresh_from_db()
    assert template.approved_by == manager3


def test_a_plain_reply_records_its_template_version_too(csr, resolver, manager):
    complaint = case_under("house", csr=csr, resolver=resolver, manager=manager)
    template = ResponseTemplate.objects.create(
        name="Progress", subject="Update on {{ reference }}", body="Dear {{ customer_name }},"
    )
    message = send(complaint, template, csr)
    assert message.response_type == ResponseType.REPLY
    assert message.template_version == template.history.latest()


# The clocks a response meets ------------------------------------------------------------------


def clock(complaint, code):
    return ComplaintClock.objects.filter(complaint=complaint, definition__code=code).latest("pk")


def test_the_final_response_stops_the_final_response_clock_and_the_header_says_so(
    client, csr, resolver, manager
):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager, stage="acknowledged")
    services.complaint_outcome_record(complaint, actor=csr, outcome="not_upheld")
    keep_enclosures("fca", manager)
    client.force_login(csr)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "Final response due in" in page

    message = send(complaint, seeded("fca", ResponseType.FINAL_RESPONSE), csr)

    stopped = clock(complaint, "final-response")
    assert stopped.stop_event == ClockEvent.FINAL_RESPONSE_SENT
    assert stopped.stopped_at == message.created_at and stopped.met is True
    complaint.refresh_from_db()
    assert complaint.final_response_sent_at == message.created_at
    assert complaint.next_deadline_at is None
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert f"Final response sent on {timezone.localdate(message.created_at):%-d %b %Y}" in page
    assert f"Final response to the customer: {message.subject}" in page  # the timeline
    home = client.get(reverse("home")).content.decode()
    assert f"final response sent {timezone.localtime(message.created_at):%-d %b}" in home
    assert "Final response due" not in page


@pytest.mark.parametrize(
    ("code", "clock_code"),
    [
        ("fca", "final-response"),
        ("fca-payments", "payment-response"),
        ("fca-payments", "payment-final-response"),
        ("asic", "idr-response"),
        ("asic-super", "idr-response"),
        ("cfpb", "company-response"),
        ("cfpb", "final-response"),
    ],
)
def test_a_proposed_resolution_alone_leaves_a_regulators_response_clock_running(
    code, clock_code, csr, resolver, manager
):
    complaint = case_under(code, csr=csr, resolver=resolver, manager=manager, stage="acknowledged")
    services.complaint_transition(complaint, "investigating", actor=csr)

    services.resolution_propose(
        complaint, actor=csr, type="apology", description="We are sorry; we have fixed it."
    )

    running = clock(complaint, clock_code)
    assert (running.stopped_at, running.stop_event) == (None, "")
    assert "resolution_proposed" not in running.definition.stop_events


def test_a_payment_services_holding_response_leaves_the_final_response_due(
    client, csr, resolver, manager
):
    complaint = case_under(
        "fca-payments", csr=csr, resolver=resolver, manager=manager, stage="acknowledged"
    )
    keep_enclosures("fca-payments", manager)
    client.force_login(csr)
    home = client.get(reverse("home")).content.decode()
    assert "holding response due in" in home

    send(complaint, seeded("fca-payments", ResponseType.HOLDING_RESPONSE), csr)

    assert clock(complaint, "payment-response").stop_event == ClockEvent.HOLDING_RESPONSE_SENT
    final = clock(complaint, "payment-final-response")
    assert final.stopped_at is None
    complaint.refresh_from_db()
    assert complaint.final_response_sent_at is None
    assert complaint.resolution_target_date == timezone.localdate(final.due_at)
    home = client.get(reverse("home")).content.decode()
    assert "final response due in" in home


def test_a_final_response_by_letter_stops_the_clock_when_it_is_posted(csr, resolver, manager):
    complaint = case_under("asic", csr=csr, resolver=resolver, manager=manager)
    services.complaint_outcome_record(complaint, actor=csr, outcome="asic_no_remedy")
    letter = send(
        complaint,
        seeded("asic", ResponseType.FINAL_RESPONSE),
        csr,
        channel=MessageChannel.LETTER,
        postal_address="1 George Street\nSydney NSW 2000",
    )
    assert clock(complaint, "idr-response").stopped_at is None

    posted = services.letter_mark_posted(letter, actor=csr)

    stopped = clock(complaint, "idr-response")
    assert (stopped.stop_event, stopped.stopped_at) == (
        ClockEvent.FINAL_RESPONSE_SENT,
        posted.sent_at,
    )


def test_a_letter_written_before_a_reopening_and_posted_after_leaves_the_case_unanswered(
    csr, resolver, manager
):
    complaint = ready_case("asic", csr=csr, resolver=resolver, manager=manager)
    letter = send(
        complaint,
        seeded("asic", ResponseType.FINAL_RESPONSE),
        csr,
        channel=MessageChannel.LETTER,
        postal_address="1 George Street\nSydney NSW 2000",
    )
    services.complaint_transition(complaint, "investigating", actor=csr, note="Not fixed")

    services.letter_mark_posted(letter, actor=csr)

    complaint.refresh_from_db()
    assert complaint.final_response_sent_at is None
    assert complaint.resolution_clock_running
    assert clock(complaint, "idr-response").stopped_at is None
    assert complaint.notes.filter(
        text__contains="was written before the case was reopened"
    ).exists()


def test_a_reopened_case_owes_a_response_again(csr, resolver, manager):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    send(complaint, seeded("fca", ResponseType.SUMMARY_RESOLUTION), csr)
    complaint.refresh_from_db()
    assert complaint.final_response_sent_at is not None

    services.complaint_transition(complaint, "investigating", actor=csr, note="Not fixed")

    complaint.refresh_from_db()
    assert complaint.final_response_sent_at is None
    assert complaint.resolution_clock_running


# The ways in: the compose page and the API ----------------------------------------------------


def test_the_compose_page_offers_the_profiles_types_and_their_templates(
    client, csr, resolver, manager
):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager)
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])

    page = client.get(url, {"type": "final_response"}).content.decode()

    types = re.findall(r'<option value="(\w+)"', page.split('id="reply-template"')[0])
    assert types == [
        "reply",
        "acknowledgment",
        "holding_response",
        "final_response",
        "summary_resolution",
    ]
    assert "FCA: final response" in page and "FCA: respuesta final (es)" in page
    assert "ASIC" not in page.split('id="reply-form"')[0].split('id="reply-template"')[1]
    assert "the Financial Ombudsman Service&#x27;s name and contact details" in page


def test_a_csr_sending_a_final_response_without_the_ombudsman_paragraph_is_told_what_is_missing(
    client, csr, resolver, manager
):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    template = seeded("fca", ResponseType.FINAL_RESPONSE)
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])
    page = client.get(url, {"template": template.pk}).content.decode()
    assert f'name="template" value="{template.pk}"' in page
    subject, text = selectors.reply_draft(complaint, template, csr)
    edited = text.replace(catalogue.FOS_ADDRESS["en"], "Ask us about the ombudsman.")

    answer = client.post(
        url,
        {
            "subject": subject,
            "text": edited,
            "token": uuid.uuid4().hex,
            "response_type": "final_response",
            "template": template.pk,
            "send": "1",
        },
    )

    html = answer.content.decode()
    assert answer.status_code == 400
    missing = html.split('id="reply-missing"')[1].split("</div>")[0]
    assert "This final response was not sent" in missing
    assert "the Financial Ombudsman Service&#x27;s name and contact details" in missing
    assert "(DISP 1.6.2R(1)(e))" in missing
    assert "Ask us about the ombudsman." in html  # the text as written, kept
    assert not responses_of(complaint).exists()

    answer = client.post(
        url,
        {
            "subject": subject,
            "text": text,
            "token": uuid.uuid4().hex,
            "response_type": "final_response",
            "template": template.pk,
            "send": "1",
        },
    )
    assert answer.status_code == 302
    (sent,) = responses_of(complaint)
    assert sent.response_type == "final_response"
    assert sent.template_version == template.history.latest()


def test_a_template_not_offered_for_the_case_is_refused_on_the_compose_page(
    client, csr, resolver, manager
):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager)
    switched_off = ResponseTemplate.objects.create(
        name="Old thanks", subject="Thanks", body="Thank you.", active=False
    )
    other_profile = seeded("asic", ResponseType.FINAL_RESPONSE)
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])

    for template_id in (switched_off.pk, other_profile.pk, 10**12, "x"):
        page = client.get(url, {"template": template_id}).content.decode()
        assert "That template is not offered for this complaint" in page
        answer = client.post(
            url,
            {
                "subject": "Thanks",
                "text": "Thank you.",
                "token": uuid.uuid4().hex,
                "response_type": "reply",
                "template": switched_off.pk if template_id == "x" else template_id,
                "send": "1",
            },
        )
        assert answer.status_code == 400
        assert "That template is not offered for this complaint" in answer.content.decode()
    assert not responses_of(complaint).exists()


def test_choosing_a_type_or_writing_without_a_template_keeps_the_typed_text(
    client, csr, resolver, manager
):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager)
    template = seeded("fca", ResponseType.HOLDING_RESPONSE)
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])
    typed = {
        "subject": "About your complaint",
        "text": "Words I typed myself.",
        "token": uuid.uuid4().hex,
        "template": template.pk,
        "response_type": "final_response",
    }

    page = client.post(url, {**typed, "choose_type": "1"}).content.decode()
    assert "Words I typed myself." in page and 'value="About your complaint"' in page
    assert '<option value="final_response" selected>' in page
    assert f'name="template" value="{template.pk}"' in page

    page = client.post(url, {**typed, "without_template": "1"}).content.decode()
    assert "Words I typed myself." in page
    assert 'name="template" value=' not in page
    assert "Write without a template" not in page
    assert not responses_of(complaint).exists()


def test_the_api_refuses_an_incomplete_response_with_400_listing_each_element(
    csr, resolver, manager
):
    complaint = case_under("asic", csr=csr, resolver=resolver, manager=manager)
    client = APIClient()
    client.force_authenticate(csr)
    url = f"/api/v1/complaints/{complaint.pk}/messages/"

    answer = client.post(
        url,
        {"response_type": "delay_notice", "subject": "Late", "body": "Sorry, we are late."},
        format="json",
    )

    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == ["body", "body"]
    assert errors[0]["message"].startswith("the reasons for the delay (ASIC RG 271")
    assert "Australian Financial Complaints Authority" in errors[1]["message"]
    assert not responses_of(complaint).exists()

    template = seeded("asic", ResponseType.DELAY_NOTICE)
    sent = client.post(url, {"template": template.pk}, format="json")
    assert sent.status_code == 201
    assert sent.json()["response_type"] == "delay_notice"
    assert sent.json()["template_version"] == template.history.latest().pk


def test_a_missing_fact_through_the_api_is_about_the_request_as_a_whole(csr, resolver, manager):
    complaint = case_under("cfpb", csr=csr, resolver=resolver, manager=manager)
    client = APIClient()
    client.force_authenticate(csr)
    template = seeded("cfpb", ResponseType.CFPB_COMPANY_RESPONSE)

    answer = client.post(
        f"/api/v1/complaints/{complaint.pk}/messages/", {"template": template.pk}, format="json"
    )

    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["field"] is None
    assert "CFPB's response categories" in error["message"]


def test_the_compose_page_of_a_regulated_response_takes_a_fixed_number_of_queries(
    client, csr, resolver, manager, django_assert_num_queries
):
    complaint = case_under("fca", csr=csr, resolver=resolver, manager=manager)
    template = seeded("fca", ResponseType.FINAL_RESPONSE)
    client.force_login(csr)
    url = reverse("complaints:reply", args=[complaint.pk])
    client.get(url)  # the first request after signing in also writes the session
    # Session, user, complaint, profile, the types offered, the template chosen, the last
    # postal address, the final-response clock, the resolutions, the required elements, the
    # templates of the type, the documents: whatever the number of templates and elements.
    with django_assert_num_queries(12):
        page = client.get(url, {"template": template.pk})
    assert page.status_code == 200
    RequiredElement.objects.create(
        profile=complaint.profile,
        response_type=ResponseType.FINAL_RESPONSE,
        code="extra",
        label="an extra element",
        source="House rule",
        kind=Check.TEXT,
        patterns="extra",
    )
    ResponseTemplate.objects.create(
        name="FCA: final response, short",
        response_type=ResponseType.FINAL_RESPONSE,
        profile=complaint.profile,
        subject="Final",
        body="Final.",
    )
    with django_assert_num_queries(12):
        client.get(url, {"template": template.pk})


# Migration 0033 undone ----------------------------------------------------------------------


def test_undoing_the_seed_keeps_what_managers_added_and_the_templates_messages_were_sent_from(
    csr, resolver, manager
):
    complaint = ready_case("fca", csr=csr, resolver=resolver, manager=manager)
    used = seeded("fca", ResponseType.FINAL_RESPONSE)
    send(complaint, used, csr)
    unused = seeded("fca", ResponseType.HOLDING_RESPONSE)
    added = RequiredElement.objects.create(
        profile=RegulatoryProfile.objects.get(code="fca"),
        response_type=ResponseType.FINAL_RESPONSE,
        code="our-promise",
        label="our service promise",
        source="House",
        kind=Check.TEXT,
        patterns="we promise",
    )

    catalogue.unseed(django_apps)

    assert list(RequiredElement.objects.all()) == [added]
    assert ResponseTemplate.objects.filter(pk=used.pk).exists()
    assert not ResponseTemplate.objects.filter(pk=unused.pk).exists()
