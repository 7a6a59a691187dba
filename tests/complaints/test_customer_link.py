"""The customer's own link: what it shows, what it lets them do once, and the clear page a
broken, expired or unknown link gets instead."""

import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from complaints import links, selectors, services
from complaints.models import (
    Attachment,
    Feedback,
    MessageKind,
    Note,
    Resolution,
    ResolutionStatus,
    StageChange,
)
from complaints.outbox import messages as emails
from complaints.workflow import Stage
from tests import factories

pytestmark = pytest.mark.django_db

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
ALREADY_ANSWERED = "You have already answered this proposal. Thank you."
FEEDBACK_ALREADY_GIVEN = "Feedback on this resolution has already been given. Thank you."
BROKEN_LINK = "The link may have been copied incompletely."
EXPIRED_LINK = "links to a complaint stop working after a while"
UNKNOWN_LINK = "We could not find this complaint."


class SignedLongAgo(signing.TimestampSigner):
    """Signs as if the link had been emailed a day longer ago than links are kept."""

    def timestamp(self):
        age = (settings.CUSTOMER_LINK_MAX_AGE_DAYS + 1) * 86400
        return signing.b62_encode(int(time.time()) - age)


def token_of(complaint):
    """The signed part of the customer's link, exactly as the email carries it."""
    path = urlsplit(links.customer_link(complaint)).path
    return path[len("/c/") : -1]


def url(name, token):
    return reverse(f"customer:{name}", args=[token])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def at_stage(stage, csr, resolver, manager, **overrides):
    return factories.complaint_at_stage(
        stage, csr=csr, resolver=resolver, manager=manager, **overrides
    )


def post(client, name, token, data):
    return client.post(url(name, token), data, follow=True)


def assert_back_on_the_status_page(response, token, message):
    assert response.redirect_chain == [(url("status", token), 302)]
    assert response.status_code == 200
    assert messages_of(response) == [message]
    assert message.replace("'", "&#x27;") in response.content.decode()


# What the page shows ----------------------------------------------------------------------


def test_status_page_shows_the_stage_in_customer_words_and_the_timeline_without_internals(
    client, csr, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    services.note_add(complaint, actor=csr, text="INTERNAL-7731: branch staff suspected")
    services.complaint_escalate(
        complaint, actor=csr, level="team", reason="ESCALATION-REASON-4410 legal risk"
    )
    acknowledgment = complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT)
    delay = emails.queue_delay_notice(complaint)
    services.message_deliver(delay.pk)

    response = client.get(url("status", token_of(complaint)))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<h1 class="h3">We are looking into what happened</h1>' in page
    assert complaint.reference in page
    assert "Hello Priya Shah." in page
    timeline = [text for _, text in response.context["timeline"]]
    assert timeline == [
        f"We emailed you: An update on your complaint ({complaint.reference})",
        "We are looking into what happened",
        "We confirmed we have your complaint",
        "We received your complaint",
    ]
    for text in timeline:
        assert text in page
    # What the staff wrote, and the stage names they use, stay inside.
    for internal in (
        "INTERNAL-7731",
        "Looked at the statement.",
        "ESCALATION-REASON-4410",
        "Customer acknowledged by phone",
        "Investigating",
    ):
        assert internal not in page, internal
    # The acknowledgment the CSR made unnecessary by phoning was never sent, so not listed.
    assert acknowledgment.subject not in page


def test_link_carries_neither_the_complaint_id_nor_the_reference(csr):
    complaint = factories.complaint(csr)
    link = links.customer_link(complaint)

    path = urlsplit(link).path
    assert path == url("status", token_of(complaint))
    assert complaint.reference not in link
    assert str(complaint.pk) not in path.strip("/").split("/")
    assert not any(part == str(complaint.pk) for part in token_of(complaint).split(":"))
    assert signing.TimestampSigner(salt=links.CUSTOMER_LINK_SALT).unsign(token_of(complaint)) == (
        complaint.customer_token
    )


# Links that do not work ---------------------------------------------------------------------


def tampered(token):
    """The same link with one character of the customer's secret changed."""
    position = 10
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1 :]


def other_salt(complaint):
    return signing.TimestampSigner(salt="some.other.purpose").sign(complaint.customer_token)


def expired(complaint):
    return SignedLongAgo(salt=links.CUSTOMER_LINK_SALT).sign(complaint.customer_token)


def unknown(complaint):
    return signing.TimestampSigner(salt=links.CUSTOMER_LINK_SALT).sign("no-such-token-" * 3)


BAD_LINKS = [
    pytest.param(lambda c: tampered(token_of(c)), BROKEN_LINK, id="tampered"),
    pytest.param(other_salt, BROKEN_LINK, id="signed-for-another-purpose"),
    pytest.param(expired, EXPIRED_LINK, id="expired"),
    pytest.param(unknown, UNKNOWN_LINK, id="unknown-token"),
]


@pytest.mark.parametrize(("make_token", "sentence"), BAD_LINKS)
def test_a_link_that_does_not_work_gets_a_clear_page_and_changes_nothing(
    client, csr, resolver, manager, make_token, sentence
):
    complaint = at_stage("resolved", csr, resolver, manager)
    token = make_token(complaint)
    assert token != token_of(complaint)
    notes, attachments = Note.objects.count(), Attachment.objects.count()

    responses = [
        client.get(url("status", token)),
        client.post(url("add", token), {"message": "More information"}),
        client.post(
            url("add", token),
            {"message": "", "document": SimpleUploadedFile("a.pdf", PDF, "application/pdf")},
        ),
        client.post(url("respond", token), {"decision": "reject", "comment": "No"}),
        client.post(url("feedback", token), {"score": "1", "resolved": "no"}),
    ]

    for response in responses:
        assert response.status_code == 404
        page = response.content.decode()
        assert sentence in page
        assert complaint.reference not in page
    assert (Note.objects.count(), Attachment.objects.count()) == (notes, attachments)
    resolution = complaint.resolutions.get()
    assert resolution.status == ResolutionStatus.PROPOSED
    assert resolution.customer_responded_at is None
    assert not Feedback.objects.exists()
    complaint.refresh_from_db()
    assert (complaint.stage, complaint.reopen_count) == (Stage.RESOLVED, 0)


def test_a_link_older_than_the_configured_age_has_expired(client, csr, settings):
    complaint = factories.complaint(csr)
    token = token_of(complaint)
    assert client.get(url("status", token)).status_code == 200

    settings.CUSTOMER_LINK_MAX_AGE_DAYS = 0
    time.sleep(1.1)
    response = client.get(url("status", token))

    assert response.status_code == 404
    assert "This link has expired" in response.content.decode()


@pytest.mark.parametrize("name", ["add", "respond", "feedback"])
def test_the_customer_actions_answer_only_post(client, csr, name):
    complaint = factories.complaint(csr)

    response = client.get(url(name, token_of(complaint)))

    assert response.status_code == 405


# What the customer does ------------------------------------------------------------------


def test_customer_adds_information_and_a_document_which_the_staff_see(
    client, csr, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    token = token_of(complaint)

    response = post(
        client,
        "add",
        token,
        {
            "message": "My bank statement shows both charges.",
            "document": SimpleUploadedFile("statement.pdf", PDF, "application/pdf"),
        },
    )

    assert_back_on_the_status_page(
        response, token, "Thank you. We have added this to your complaint."
    )
    note = complaint.notes.get(from_customer=True)
    assert note.text == "My bank statement shows both charges."
    assert note.author is None
    attachment = complaint.attachments.get()
    assert attachment.uploaded_by_customer is True
    assert attachment.uploaded_by is None
    assert attachment.original_name == "statement.pdf"
    page = response.content.decode()
    assert "You sent us more information" in page
    assert "You sent us a document: statement.pdf" in page

    staff = Client()
    staff.force_login(csr)
    detail = staff.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "My bank statement shows both charges." in detail
    assert "statement.pdf" in detail


def test_a_link_takes_only_so_many_documents(client, csr, resolver, manager, settings):
    """Anyone holding one link could otherwise fill the disk, one 10 MB upload at a time."""
    settings.CUSTOMER_DOCUMENTS_MAX = 3
    complaint = at_stage("investigating", csr, resolver, manager)
    token = token_of(complaint)

    def send(name):
        document = SimpleUploadedFile(name, PDF, "application/pdf")
        return post(client, "add", token, {"message": "", "document": document})

    for number in range(3):
        send(f"page-{number}.pdf")
    response = send("page-3.pdf")

    assert_back_on_the_status_page(
        response,
        token,
        "You have sent us the most documents we can take online (3). Please reply to our "
        "email if you need to send more.",
    )
    assert complaint.attachments.count() == 3
    assert not list(settings.ATTACHMENT_ROOT.rglob("*.part"))
    assert len([p for p in settings.ATTACHMENT_ROOT.rglob("*") if p.is_file()]) == 3


def test_a_link_takes_only_so_many_megabytes(client, csr, resolver, manager, settings):
    settings.CUSTOMER_DOCUMENTS_MAX_BYTES = 2 * len(PDF)
    complaint = at_stage("investigating", csr, resolver, manager)
    token = token_of(complaint)
    for number in range(2):
        document = SimpleUploadedFile(f"page-{number}.pdf", PDF, "application/pdf")
        post(client, "add", token, {"message": "", "document": document})

    document = SimpleUploadedFile("one-more.pdf", PDF, "application/pdf")
    response = post(client, "add", token, {"message": "And this.", "document": document})

    assert "we can take online for one complaint" in " ".join(messages_of(response))
    assert complaint.attachments.count() == 2
    assert not complaint.notes.filter(text="And this.").exists()


def test_customer_note_on_the_staff_timeline_is_attributed_to_the_customer(
    client, csr, resolver, manager
):
    complaint = at_stage("investigating", csr, resolver, manager)
    post(client, "add", token_of(complaint), {"message": "My statement shows both charges."})

    [entry] = [
        e
        for e in selectors.complaint_timeline(complaint)
        if e.body == "My statement shows both charges."
    ]

    assert entry.actor == "Customer"


def test_customer_accepts_the_proposal_once_and_a_second_answer_changes_nothing(
    client, csr, resolver, manager
):
    complaint = at_stage("resolved", csr, resolver, manager)
    token = token_of(complaint)
    page = client.get(url("status", token)).content.decode()
    assert "We are sorry; we have fixed it." in page
    assert url("respond", token) in page

    response = post(client, "respond", token, {"decision": "accept", "comment": "Thanks"})

    assert_back_on_the_status_page(
        response, token, "Thank you. We have your answer and will be in touch."
    )
    resolution = Resolution.objects.get(complaint=complaint)
    assert resolution.status == ResolutionStatus.ACCEPTED
    assert resolution.customer_comment == "Thanks"
    answered_at = resolution.customer_responded_at
    assert answered_at is not None
    assert url("respond", token) not in response.content.decode()

    again = post(client, "respond", token, {"decision": "reject", "comment": "Changed my mind"})

    assert_back_on_the_status_page(again, token, ALREADY_ANSWERED)
    resolution.refresh_from_db()
    assert resolution.status == ResolutionStatus.ACCEPTED
    assert resolution.customer_responded_at == answered_at
    assert resolution.customer_comment == "Thanks"
    complaint.refresh_from_db()
    assert (complaint.stage, complaint.reopen_count) == (Stage.RESOLVED, 0)


def test_customer_rejecting_the_proposal_sends_the_case_back_to_investigation(
    client, csr, resolver, manager
):
    complaint = at_stage("resolved", csr, resolver, manager)
    token = token_of(complaint)

    response = post(client, "respond", token, {"decision": "reject", "comment": "Too little"})

    assert_back_on_the_status_page(
        response, token, "Thank you. We have your answer and will be in touch."
    )
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING
    assert complaint.reopen_count == 1
    resolution = complaint.resolutions.get()
    assert resolution.status == ResolutionStatus.REJECTED
    assert resolution.customer_comment == "Too little"
    change = complaint.stage_changes.order_by("-at", "-id").first()
    assert (change.from_stage, change.to_stage, change.actor) == (
        Stage.RESOLVED,
        Stage.INVESTIGATING,
        None,
    )
    assert "We are looking into what happened" in response.content.decode()


def test_customer_gives_feedback_once(client, csr, resolver, manager):
    complaint = at_stage("follow_up", csr, resolver, manager)
    token = token_of(complaint)
    assert url("feedback", token) in client.get(url("status", token)).content.decode()

    response = post(
        client, "feedback", token, {"score": "5", "resolved": "yes", "comment": "Very good"}
    )

    assert_back_on_the_status_page(response, token, "Thank you for your feedback.")
    feedback = Feedback.objects.get(complaint=complaint)
    assert (feedback.score, feedback.resolved, feedback.comment) == (5, True, "Very good")
    assert feedback.recorded_by is None
    assert url("feedback", token) not in response.content.decode()

    again = post(client, "feedback", token, {"score": "1", "resolved": "no", "comment": "Bad"})

    assert_back_on_the_status_page(again, token, FEEDBACK_ALREADY_GIVEN)
    assert Feedback.objects.filter(complaint=complaint).count() == 1
    complaint.refresh_from_db()
    assert (complaint.stage, complaint.reopen_count) == (Stage.FOLLOW_UP, 0)


def test_feedback_that_the_issue_is_not_resolved_reopens_the_case(client, csr, resolver, manager):
    complaint = at_stage("follow_up", csr, resolver, manager)
    token = token_of(complaint)

    response = post(
        client, "feedback", token, {"score": "2", "resolved": "no", "comment": "Still charged"}
    )

    assert_back_on_the_status_page(response, token, "Thank you for your feedback.")
    feedback = Feedback.objects.get(complaint=complaint)
    assert (feedback.score, feedback.resolved) == (2, False)
    complaint.refresh_from_db()
    assert complaint.stage == Stage.INVESTIGATING
    assert complaint.reopen_count == 1
    assert StageChange.objects.filter(
        complaint=complaint,
        from_stage=Stage.FOLLOW_UP,
        to_stage=Stage.INVESTIGATING,
        actor=None,
    ).exists()


def test_an_incomplete_answer_is_shown_again_with_its_error_and_changes_nothing(
    client, csr, resolver, manager
):
    complaint = at_stage("follow_up", csr, resolver, manager)

    response = client.post(url("feedback", token_of(complaint)), {"resolved": "yes"})

    assert response.status_code == 400
    assert "score" in response.context["feedback_form"].errors
    assert not Feedback.objects.exists()
    complaint.refresh_from_db()
    assert complaint.stage == Stage.FOLLOW_UP


def test_adding_information_to_a_closed_complaint_is_refused_clearly(
    client, csr, resolver, manager
):
    complaint = at_stage("reviewed", csr, resolver, manager)
    token = token_of(complaint)
    page = client.get(url("status", token)).content.decode()
    assert "Your complaint is closed" in page
    assert url("add", token) not in page
    notes = complaint.notes.count()

    response = post(client, "add", token, {"message": "One more thing."})

    assert_back_on_the_status_page(
        response, token, "This complaint is closed. Please contact us if you need to reopen it."
    )
    assert complaint.notes.count() == notes
    assert not complaint.notes.filter(from_customer=True).exists()
