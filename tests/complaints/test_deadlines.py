"""One answer to "is this overdue" (complaints.models.next_deadline), the same on the case
page, the queues, the list, the workload, the API and in the jobs; a clock that no longer
applies is not shown. And the phone intake that offers no acknowledgment form while the
acknowledgment email goes."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from complaints import selectors, services
from complaints.models import (
    RESPONSE_ROLES,
    ClockDefinition,
    Complaint,
    MessageKind,
    OutboundMessage,
)
from tests import factories
from tests.api.conftest import token_client
from tests.complaints.test_lifecycle_views import intake_data

pytestmark = pytest.mark.django_db

MONTH_AGO = 24 * 31
ACKNOWLEDGE_FORM = "Acknowledge the customer"


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def page(user, complaint):
    return signed_in(user).get(reverse("complaints:detail", args=[complaint.pk])).content.decode()


def late(stage, csr, resolver, manager):
    """A complaint at `stage` received a month ago: its resolution target has passed."""
    return factories.complaint_at_stage(
        stage, csr=csr, resolver=resolver, manager=manager, hours_ago=MONTH_AGO
    )


def overdue_everywhere(complaint, manager):
    """Whether the complaint counts as overdue in each place that says so."""
    now = timezone.now()
    response_definitions = ClockDefinition.objects.filter(role__in=RESPONSE_ROLES)
    workload = {person: overdue for person, _, overdue in selectors.team_workload(manager, now)}
    listed = signed_in(manager).get("/complaints/", {"overdue": "on"}).content.decode()
    api = token_client(manager).get(f"/api/v1/complaints/?q={complaint.reference}")
    return {
        "model": complaint.is_overdue(now),
        "workload": workload.get(complaint.assignee, 0) > 0,
        "list": complaint.reference in listed,
        "api": api.json()["results"][0]["overdue"],
        "resolution sweep": selectors.clocks_to_breach(now, response_definitions)
        .filter(complaint=complaint)
        .exists(),
    }


def test_an_investigation_past_its_target_is_overdue_everywhere(csr, resolver, manager):
    complaint = late("investigating", csr, resolver, manager)

    assert set(overdue_everywhere(complaint, manager).values()) == {True}
    assert "Resolution overdue by" in page(csr, complaint)


@pytest.mark.parametrize("stage", ["resolved", "follow_up"])
def test_past_resolution_the_target_is_met_and_nothing_is_overdue(stage, csr, resolver, manager):
    complaint = late(stage, csr, resolver, manager)

    assert complaint.next_deadline_at is None
    assert set(overdue_everywhere(complaint, manager).values()) == {False}
    html = page(csr, complaint)
    assert "Resolution overdue" not in html
    assert "Resolution due" not in html
    assert "Resolution proposed" in html


def test_the_queue_row_of_a_case_past_resolution_shows_no_deadline(csr, resolver, manager):
    complaint = late("follow_up", csr, resolver, manager)

    html = signed_in(csr).get("/").content.decode()

    row = html[html.index(complaint.reference) :]
    row = row[: row.index("</tr>")]
    assert "overdue" not in row
    assert "countdown-overdue" not in row


def test_a_reviewed_case_shows_neither_escalated_nor_reviewed_as_a_deadline(csr, resolver, manager):
    closed = factories.complaint_at_stage("reviewed", csr=csr, resolver=resolver, manager=manager)
    # Escalated on its way (the escalation stays on record once it is closed).
    Complaint.objects.filter(pk=closed.pk).update(
        escalation_level="manager", escalation_reason="Ombudsman", escalated_at=timezone.now()
    )
    live = factories.complaint_at_stage(
        "investigating", csr=csr, resolver=resolver, manager=manager
    )
    services.complaint_escalate(live, actor=csr, level="manager", reason="Ombudsman")

    assert "Escalated to" not in page(manager, closed)
    assert "Escalated to managers" in page(manager, live)
    listed = signed_in(manager).get("/complaints/", {"stage": "all"}).content.decode()
    row = listed[listed.index(closed.reference) :]
    row = row[: row.index("</tr>")]
    assert "escalated to" not in row
    assert ">reviewed<" not in row


# The phone intake --------------------------------------------------------------------------


def test_a_phone_intake_with_an_email_address_offers_no_acknowledgment_form(client, csr):
    client.force_login(csr)

    response = client.post(
        reverse("complaints:create"),
        intake_data(customer_email="priya@example.com"),
        follow=True,
    )

    html = response.content.decode()
    assert ACKNOWLEDGE_FORM not in html
    assert "The acknowledgment email to the customer is on its way" in html


def test_without_an_email_or_once_it_fails_the_form_is_offered(client, csr):
    client.force_login(csr)
    client.post(reverse("complaints:create"), intake_data())
    client.post(reverse("complaints:create"), intake_data(customer_email="bad@example.com"))
    no_email, with_email = Complaint.objects.order_by("pk")
    failing = OutboundMessage.objects.get(complaint=with_email, kind=MessageKind.ACKNOWLEDGMENT)
    failing.last_error = "SMTPRecipientsRefused: bad@example.com"
    failing.save(update_fields=["last_error"])

    assert ACKNOWLEDGE_FORM in page(csr, no_email)
    assert ACKNOWLEDGE_FORM in page(csr, with_email)
