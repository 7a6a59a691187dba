"""Intake: each way in costs a fixed, small number of queries, and the staff and public forms
carry a one-time token, so sending the same form twice logs one complaint and queues one
acknowledgment (issue 18); the race is run on real connections."""

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, IdempotencyKey, MessageKind, OutboundMessage
from tests import factories
from tests.complaints.test_lifecycle_views import intake_data
from tests.complaints.test_public_form import address, form_data  # noqa: F401  (a fixture)
from tests.threads import run_together

CREATE = reverse("complaints:create")
PUBLIC = reverse("public-complaint")
TOKEN = "x7Jq2mV9cT4sR1pL8kW3nB6h"


def acknowledgments():
    return OutboundMessage.objects.filter(kind=MessageKind.ACKNOWLEDGMENT).count()


def test_the_form_carries_a_fresh_token_each_time_it_is_shown(client, csr, db):
    client.force_login(csr)
    first = client.get(CREATE).context["form"]["submission"].value()
    second = client.get(CREATE).context["form"]["submission"].value()
    assert len(first) >= 16
    assert first != second


def test_the_staff_form_sent_twice_logs_one_complaint_and_shows_it_the_second_time(client, csr, db):
    client.force_login(csr)
    data = intake_data(customer_email="priya@example.com", submission=TOKEN)
    first = client.post(CREATE, data)
    again = client.post(CREATE, data, follow=True)
    complaint = Complaint.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert again.redirect_chain[-1][0] == first["Location"]
    assert f"it logged complaint {complaint.reference}" in again.content.decode()
    assert acknowledgments() == 1
    assert IdempotencyKey.objects.get().complaint == complaint


def test_a_token_is_the_senders_own(client, csr, csr2, db):
    for user in (csr, csr2):
        client.force_login(user)
        client.post(CREATE, intake_data(submission=TOKEN))
    assert Complaint.objects.count() == 2


def test_without_a_token_each_post_is_a_new_complaint(client, csr, db):
    client.force_login(csr)
    client.post(CREATE, intake_data())
    client.post(CREATE, intake_data())
    assert Complaint.objects.count() == 2


def test_a_damaged_token_is_refused_and_logs_nothing(client, csr, db):
    client.force_login(csr)
    response = client.post(CREATE, intake_data(submission="not a token!"))
    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_a_refused_submission_keeps_its_token_for_the_next_try(client, csr, db):
    client.force_login(csr)
    refused = client.post(CREATE, intake_data(customer_name="", submission=TOKEN))
    assert refused.status_code == 400
    assert refused.context["form"]["submission"].value() == TOKEN
    assert client.post(CREATE, intake_data(submission=TOKEN)).status_code == 302
    assert Complaint.objects.count() == 1


def test_the_public_form_sent_twice_logs_one_complaint_and_thanks_with_its_reference(
    client,
    address,  # noqa: F811
    db,
):
    data = form_data(submission=TOKEN)
    client.post(PUBLIC, data)
    again = client.post(PUBLIC, data, follow=True)
    complaint = Complaint.objects.get()
    assert complaint.reference in again.content.decode()
    assert acknowledgments() == 1
    record = IdempotencyKey.objects.get()
    assert (record.user, record.complaint) == (None, complaint)


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_the_same_instant_log_one_complaint_and_one_acknowledgment(csr):
    data = factories.complaint_data()

    def submit():
        complaint, new = services.complaint_create_once(
            actor=csr, data=dict(data), submission=(csr, TOKEN)
        )
        return complaint.pk, new

    results = run_together(submit, submit)
    assert {pk for pk, _ in results} == {Complaint.objects.get().pk}
    assert sorted(new for _, new in results) == [False, True]
    assert acknowledgments() == 1


# Inside the test's transaction, complaint_create's own adds a SAVEPOINT and its RELEASE (in
# production its BEGIN and COMMIT).
SAVEPOINT = 2
# What every intake writes: the reference (the year's counter, one INSERT ... ON CONFLICT);
# the complaint, its history row, its clocks, its stage change, its acknowledgment and the
# form's token, one INSERT each. The category, the product, the regulatory profile, its clock
# definitions and the firm's closures come from the cached regulatory catalogue
# (complaints/selectors/regulatory.py), which showing the form has read.
WRITES = 7


def test_the_staff_form_logs_a_complaint_in_nine_queries(
    client, csr, db, django_assert_num_queries
):
    client.force_login(csr)
    data = intake_data(customer_email="priya@example.com", submission=TOKEN)
    client.get(CREATE)  # the session now knows the second factor and the last activity
    # The session and the user, then the writes.
    with django_assert_num_queries(2 + WRITES + SAVEPOINT):
        assert client.post(CREATE, data).status_code == 302


def test_the_public_form_logs_a_complaint_in_seven_queries(
    client,
    address,  # noqa: F811
    db,
    django_assert_num_queries,
):
    data = form_data(submission=TOKEN)
    client.get(PUBLIC)
    # The writes alone: no session, no user.
    with django_assert_num_queries(WRITES + SAVEPOINT):
        assert client.post(PUBLIC, data).status_code == 302
