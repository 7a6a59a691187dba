"""The exits on the complaint page and on the customer's link: the forms offered where the
table allows them, the merge's confirmation showing both cases, and an exited case saying
plainly what happened."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from complaints import links, services
from complaints.models import Complaint, MessageKind, OutboundMessage
from complaints.workflow import Stage
from tests import factories
from tests.complaints.test_lifecycle_views import action_url, detail_url, messages_of

pytestmark = pytest.mark.django_db


def stage_of(complaint):
    return Complaint.objects.get(pk=complaint.pk).stage


def at_stage(stage, csr, resolver, manager):
    return factories.complaint_at_stage(stage, csr=csr, resolver=resolver, manager=manager)


@pytest.mark.parametrize(
    ("stage", "offered"),
    [
        ("received", {"withdraw", "merge", "not_a_complaint"}),
        ("investigating", {"withdraw", "merge", "not_a_complaint"}),
        ("resolved", {"withdraw"}),
        ("documented", set()),
    ],
)
def test_the_page_offers_the_exits_the_table_allows(client, csr, resolver, manager, stage, offered):
    complaint = at_stage(stage, csr, resolver, manager)
    client.force_login(manager)
    page = client.get(detail_url(complaint)).content.decode()
    for action in ("withdraw", "merge", "not_a_complaint"):
        assert (action_url(complaint, action) in page) == (action in offered), action
    if offered:
        # Folded, so the page is not a wall of forms; a summary is reachable by keyboard.
        assert "<summary>The customer withdrew it</summary>" in page


def test_csr_records_a_withdrawal_from_the_page(client, csr):
    complaint = factories.complaint(csr)
    client.force_login(csr)
    response = client.post(
        action_url(complaint, "withdraw"),
        {
            "withdraw-expected_stage": "received",
            "withdraw-customer_words": "I sorted it with the shop.",
            "withdraw-withdrawn_on": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    assert messages_of(response) == ["Withdrawal recorded; the complaint is closed."]
    assert stage_of(complaint) == Stage.WITHDRAWN
    page = response.content.decode()
    assert "Withdrawn by the customer" in page
    assert "I sorted it with the shop." in page
    assert action_url(complaint, "withdraw") not in page


def test_a_withdrawal_without_the_customers_words_shows_the_form_again(client, csr):
    complaint = factories.complaint(csr)
    client.force_login(csr)
    response = client.post(
        action_url(complaint, "withdraw"),
        {"withdraw-expected_stage": "received", "withdraw-withdrawn_on": "2026-13-45"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page and "Enter a valid date." in page
    assert '<details class="mb-2" open>' in page
    assert stage_of(complaint) == Stage.RECEIVED


def test_not_a_complaint_from_the_page(client, csr):
    complaint = factories.complaint(csr)
    client.force_login(csr)
    response = client.post(
        action_url(complaint, "not_a_complaint"),
        {"not_a_complaint-expected_stage": "received", "not_a_complaint-reason": "An enquiry"},
        follow=True,
    )
    assert messages_of(response) == ["Closed as not a complaint."]
    assert stage_of(complaint) == Stage.NOT_A_COMPLAINT


def test_a_merge_is_confirmed_on_a_page_showing_both_cases_then_made(client, csr):
    survivor = factories.complaint(csr)
    duplicate = factories.complaint(csr)
    client.force_login(csr)
    data = {
        "merge-expected_stage": "received",
        "merge-into": survivor.reference.lower(),
        "merge-reason": "Sent twice",
    }

    confirm = client.post(action_url(duplicate, "merge"), data)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert f"Merge {duplicate.reference} into {survivor.reference}?" in page
    assert "closes as duplicate" in page and "stays open" in page
    assert "the customer is emailed once" in page
    assert stage_of(duplicate) == Stage.RECEIVED

    response = client.post(action_url(duplicate, "merge"), {**data, "merge-confirmed": "True"})
    assert response.status_code == 302
    assert stage_of(duplicate) == Stage.DUPLICATE
    assert OutboundMessage.objects.filter(kind=MessageKind.MERGE_NOTICE).count() == 1

    page = client.get(detail_url(duplicate)).content.decode()
    assert f'Duplicate of <a href="{detail_url(survivor)}">{survivor.reference}</a>' in page
    page = client.get(detail_url(survivor)).content.decode()
    assert "Merged into this complaint as duplicates:" in page
    assert f"{duplicate.reference} merged into this complaint" in page


def test_a_merge_the_rules_refuse_is_refused_before_the_confirmation(client, csr):
    duplicate = factories.complaint(csr)
    client.force_login(csr)
    response = client.post(
        action_url(duplicate, "merge"),
        {"merge-expected_stage": "received", "merge-into": duplicate.reference},
        follow=True,
    )
    assert messages_of(response) == ["A complaint cannot be merged into itself."]
    assert response.redirect_chain == [(detail_url(duplicate), 302)]
    assert stage_of(duplicate) == Stage.RECEIVED


def customer_page(client, complaint):
    path = urlsplit(links.customer_link(complaint)).path
    return client.get(path).content.decode()


def test_the_customers_link_says_plainly_what_happened(client, csr):
    withdrawn, merged, survivor, dismissed = (factories.complaint(csr) for _ in range(4))
    services.complaint_withdraw(
        withdrawn, actor=csr, customer_words="No longer needed", withdrawn_on=timezone.localdate()
    )
    services.complaint_merge(merged, actor=csr, into_reference=survivor.reference)
    services.complaint_not_a_complaint(dismissed, actor=csr, reason="Internal: spam filter")

    page = customer_page(client, withdrawn)
    assert "You withdrew this complaint on" in page
    assert "Send us more information" not in page
    page = customer_page(client, merged)
    assert f"the same matter as your complaint <strong>{survivor.reference}</strong>" in page
    assert urlsplit(links.customer_link(survivor)).path[:40] in page
    page = customer_page(client, dismissed)
    assert "we are not handling it as a complaint" in page
    # Staff's reason is theirs; the customer is not shown it.
    assert "spam filter" not in page


def test_a_csr_closing_a_case_nobody_owned_keeps_it_in_sight(client, csr):
    from_the_web = services.complaint_create(actor=None, data=factories.complaint_data())
    client.force_login(csr)
    response = client.post(
        action_url(from_the_web, "not_a_complaint"),
        {"not_a_complaint-expected_stage": "received", "not_a_complaint-reason": "Spam"},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response) == ["Closed as not a complaint."]
    assert Complaint.objects.get(pk=from_the_web.pk).assignee == csr
