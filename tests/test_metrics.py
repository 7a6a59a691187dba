"""/metrics: who may scrape it, and the figures Redress adds to django-prometheus's."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from complaints import jobs
from complaints.clocks import sweeps
from complaints.models import JobRun, MessageStatus
from tests import factories

pytestmark = pytest.mark.django_db
REMOTE = "203.0.113.9"


def scrape(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


# Who may scrape ----------------------------------------------------------------------------


def test_loopback_may_scrape_and_gets_django_prometheus_figures_too(client):
    samples = scrape(client)
    assert ("django_http_requests_before_middlewares_total", ()) in samples
    assert value(samples, "redress_inbound_mail_lag_seconds") == 0


def test_another_address_gets_404(client):
    assert client.get("/metrics", REMOTE_ADDR=REMOTE).status_code == 404


def test_a_request_through_a_proxy_on_loopback_is_not_local(client):
    response = client.get("/metrics", HTTP_X_FORWARDED_FOR=REMOTE)
    assert response.status_code == 404


def test_the_bearer_token_lets_any_address_scrape(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert scrape(client, REMOTE_ADDR=REMOTE, HTTP_AUTHORIZATION="Bearer s3cret-token")
    for wrong in ("Bearer wrong", "Token s3cret-token", "Bearer", "Bearer s3cret-tokenX", "ü"):
        response = client.get("/metrics", REMOTE_ADDR=REMOTE, HTTP_AUTHORIZATION=wrong)
        assert response.status_code == 404, wrong


def test_no_token_set_means_no_token_accepted(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR=REMOTE, HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


def test_a_content_length_that_is_not_a_number_is_no_server_error(client):
    assert client.get("/accounts/login/", CONTENT_LENGTH="abc").status_code == 200


# What it counts ----------------------------------------------------------------------------


def test_complaints_by_stage_and_their_clocks(client, csr, resolver, manager):
    factories.complaint(csr)
    # Received 25 hours ago: its acknowledgment deadline passed an hour ago, unmarked so far.
    factories.complaint(csr, hours_ago=25, customer_email="")
    # Received 40 days ago: past every resolution target.
    factories.complaint(csr, hours_ago=40 * 24, customer_email="")
    factories.complaint_at_stage("investigating", csr=csr, resolver=resolver, manager=manager)
    factories.complaint_at_stage("reviewed", csr=csr, resolver=resolver, manager=manager)

    samples = scrape(client)
    assert value(samples, "redress_complaints_open", stage="received") == 3
    assert value(samples, "redress_complaints_open", stage="investigating") == 1
    assert value(samples, "redress_complaints_open", stage="follow_up") == 0
    assert ("redress_complaints_open", (("stage", "reviewed"),)) not in samples
    assert value(samples, "redress_acknowledgments_due") == 3
    assert value(samples, "redress_acknowledgments_breached") == 0
    assert value(samples, "redress_resolutions_overdue") == 0
    # The 40-day-old complaint's deadline is the earliest unmarked one.
    assert value(samples, "redress_clock_lateness_seconds") > 39 * 24 * 3600

    sweeps.enforce_acknowledgment_deadline()
    sweeps.enforce_resolution_targets()
    samples = scrape(client)
    assert value(samples, "redress_acknowledgments_due") == 1
    assert value(samples, "redress_acknowledgments_breached") == 2
    assert value(samples, "redress_clock_lateness_seconds") == 0
    assert value(samples, "redress_resolutions_overdue") == 1


def test_outbox_backlog_and_the_age_of_the_oldest_due(client):
    factories.outbox_message("a", due_minutes_ago=10)
    factories.outbox_message("b", status=MessageStatus.SENDING)
    factories.outbox_message("c", due_minutes_ago=-30)  # backing off: due in half an hour
    factories.outbox_message("d", status=MessageStatus.SENT, due_minutes_ago=60)
    samples = scrape(client)
    assert value(samples, "redress_outbox_backlog") == 3
    assert 600 <= value(samples, "redress_outbox_oldest_due_seconds") < 660


def test_last_finished_run_of_each_job(client):
    jobs.run(jobs.JOBS["relay_outbox"])
    now = timezone.now()
    JobRun.objects.create(
        name="send_follow_ups",
        started_at=now - timedelta(seconds=3),
        finished_at=now,
        duration_ms=2500,
        error="OperationalError",
    )
    # Still running: the finished run before it is the one reported.
    JobRun.objects.create(name="send_follow_ups", started_at=now)

    samples = scrape(client)
    assert value(samples, "redress_job_last_failed", job="relay_outbox") == 0
    assert value(samples, "redress_job_last_duration_seconds", job="send_follow_ups") == 2.5
    assert value(samples, "redress_job_last_failed", job="send_follow_ups") == 1
    assert value(
        samples, "redress_job_last_finished_timestamp_seconds", job="send_follow_ups"
    ) == pytest.approx(now.timestamp())
    assert ("redress_job_last_failed", (("job", "build_trend_reports"),)) not in samples


def test_a_scrape_costs_a_fixed_number_of_queries(client, csr, django_assert_max_num_queries):
    for _ in range(3):
        factories.complaint(csr)
    # Stages, acknowledgments, resolution targets, outbox, and one per job.
    with django_assert_max_num_queries(4 + len(jobs.JOBS)):
        scrape(client)
