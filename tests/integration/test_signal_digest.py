"""The signal digest through the real pieces: the customer's answer commits, the digest task
runs on a Celery worker from Redis, the relay it starts sends the email to a mail server on
loopback, once, however often the task runs."""

import pytest

from complaints import services
from complaints.models import JobRun, OutboundMessage, Signal
from complaints.tasks import relay_outbox, send_signal_digests
from tests import factories
from tests.integration.conftest import wait_until
from tests.integration.test_celery_email import parsed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_customers_answer_reaches_the_assignee_in_one_digest_email(
    csr, resolver, manager, smtp_server, tasks_to_worker
):
    worker, handler = tasks_to_worker, smtp_server.handler
    csr.email = "csr@example.com"
    csr.save()
    complaint = factories.complaint_at_stage(
        "resolved", csr=csr, resolver=resolver, manager=manager
    )
    services.resolution_record_customer_response(complaint, actor=None, accepted=True)

    def digests():
        return [r for r in handler.received if r.rcpt_tos == ["csr@example.com"]]

    send_signal_digests.delay()
    wait_until(
        lambda: OutboundMessage.objects.filter(recipient="csr@example.com").exists(),
        describe=lambda: f"No digest written.\n{worker.log()}",
    )
    # The relay the job starts goes to the worker's default queue; beat's, here by hand.
    relay_outbox.delay()
    wait_until(
        lambda: digests(),
        describe=lambda: f"No digest received.\n{worker.log()}",
    )
    [received] = digests()
    email, body = parsed(received)
    assert email["Subject"] == (
        f"[Redress] {complaint.reference}: The customer accepted the resolution"
    )
    assert "The customer accepted the resolution" in body
    assert Signal.objects.get().notified_at is not None

    # Beat runs it again: nothing new, nothing written, nothing sent.
    send_signal_digests.delay()
    wait_until(
        lambda: (
            JobRun.objects.filter(name="send_signal_digests", finished_at__isnull=False).count()
            == 2
        ),
        describe=lambda: f"The second run did not finish.\n{worker.log()}",
    )
    assert JobRun.objects.filter(name="send_signal_digests").order_by("-started_at")[0].summary == {
        "signals": 0,
        "emails": 0,
    }
    assert OutboundMessage.objects.filter(recipient="csr@example.com").count() == 1
    assert len(digests()) == 1
