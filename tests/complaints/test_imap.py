"""The mailbox job against a real IMAP server (Dovecot on loopback): messages stored, then
moved or flagged on the server; taken once per mailbox; never lost when a worker dies before
storing or is stopped before moving; the server down for a while; the size cap."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints import jobs, mailboxes, services
from complaints.models import Complaint, InboundMessage, InboundStatus, MailboxState, MessageKind
from complaints.services import inbound
from tests import factories
from tests.integration.conftest import free_port
from tests.mail import sample, with_attachment

pytestmark = pytest.mark.django_db

CUSTOMER = "priya@example.com"


@pytest.fixture
def complaint(csr):
    return factories.complaint(csr, customer_email=CUSTOMER, channel="email")


def poll(config, **kwargs):
    return mailboxes.imap_poll(config, inbound._receive_or_keep, **kwargs)


def ack_id(complaint):
    return complaint.messages.get(kind=MessageKind.ACKNOWLEDGMENT).message_id


def test_real_client_mail_is_stored_threaded_and_moved_once(imap_server, complaint, settings):
    settings.INBOUND_MAILBOXES = [imap_server.config()]
    imap_server.deliver(
        sample("gmail_quoted_reply", sender=CUSTOMER, in_reply_to=ack_id(complaint)),
        sample("outlook_html_only", sender=CUSTOMER, reference=complaint.reference),
        sample("apple_mail_inline_image", sender=CUSTOMER, reference=complaint.reference),
        sample("out_of_office", sender=CUSTOMER, reference="", in_reply_to=ack_id(complaint)),
        sample("new_complaint"),
        # A phone's 20 MB scan: the email is kept, the file is over the upload cap.
        with_attachment(sender=CUSTOMER, subject=complaint.reference, size=20 * 1024 * 1024),
    )

    summary = jobs.run(services.mailboxes_poll)

    assert summary == {"complaints": {"stored": 6}}
    threaded = InboundMessage.objects.filter(complaint=complaint, status=InboundStatus.THREADED)
    assert threaded.count() == 4
    large = threaded.get(subject=complaint.reference)
    assert "larger than the 10 MB limit" in large.attachment_notes[0]["reason"]
    assert InboundMessage.objects.get(status=InboundStatus.AUTOMATIC).complaint == complaint
    assert Complaint.objects.filter(channel="email", customer_email__contains="tomasz").exists()
    assert imap_server.uids("INBOX") == []
    assert len(imap_server.uids("Processed")) == 6

    assert services.mailboxes_poll() == {"complaints": {"stored": 0}}
    assert InboundMessage.objects.count() == 6


def test_without_a_processed_folder_messages_are_flagged_and_the_uid_remembered(imap_server):
    config = imap_server.config(processed_folder="")
    imap_server.deliver(sample("new_complaint"))
    assert poll(config) == {"stored": 1}
    assert all("\\Seen" in flags for flags in imap_server.seen())
    state = MailboxState.objects.get(name="complaints")
    assert state.last_uid == 1 and state.uid_validity > 0 and state.claimed_until is None

    imap_server.deliver(sample("mailing_list"))
    assert poll(config) == {"stored": 1}
    assert poll(config) == {"stored": 0}
    assert InboundMessage.objects.count() == 2


def test_a_message_stored_but_not_moved_is_stored_once_when_fetched_again(imap_server):
    """A worker stopped after storing, before moving it on the server: fetched twice."""
    imap_server.deliver(sample("new_complaint"))
    services.inbound_receive(sample("new_complaint"), mailbox="complaints")

    assert poll(imap_server.config()) == {"stored": 1}
    assert InboundMessage.objects.count() == 1
    assert Complaint.objects.count() == 1
    assert imap_server.uids("INBOX") == []


def test_a_worker_that_dies_before_storing_loses_nothing(imap_server, settings):
    """Killed between fetching and storing: the message stays on the server, the claim runs
    out, and the next poll stores it once."""
    config = imap_server.config()
    imap_server.deliver(sample("new_complaint"), sample("mailing_list"))

    class Killed(BaseException):
        """Stands for SIGKILL: nothing after it runs, the claim's release included."""

    def dies(raw, **kwargs):
        raise Killed

    with pytest.raises(Killed):
        mailboxes.imap_poll(config, dies)
    assert not InboundMessage.objects.exists()
    assert len(imap_server.uids("INBOX")) == 2
    # Claimed still: a second worker now leaves it alone...
    assert poll(config) == {"skipped": "another worker is reading this mailbox"}
    # ...until the claim has run out.
    later = timezone.now() + timedelta(seconds=settings.INBOUND_CLAIM_SECONDS + 1)
    assert poll(config, now=later) == {"stored": 2}
    assert InboundMessage.objects.count() == 2
    assert imap_server.uids("INBOX") == []


def test_the_server_down_for_a_while_loses_nothing(imap_server):
    imap_server.deliver(sample("new_complaint"))
    down = imap_server.config(port=free_port())

    summary = poll(down)
    assert summary["stored"] == 0 and "ConnectionRefusedError" in summary["error"]
    state = MailboxState.objects.get(name="complaints")
    assert state.claimed_until is None and "ConnectionRefused" in state.last_error

    assert poll(imap_server.config()) == {"stored": 1}
    assert MailboxState.objects.get(name="complaints").last_error == ""


def test_a_message_over_the_size_cap_is_not_downloaded(imap_server, settings):
    settings.INBOUND_MESSAGE_MAX_BYTES = 1024 * 1024
    imap_server.deliver(
        with_attachment(sender="big@example.org", subject="Huge", size=2 * 1024 * 1024)
    )
    assert poll(imap_server.config()) == {"stored": 1}
    message = InboundMessage.objects.get()
    assert message.size < 10_000  # the headers only
    assert message.subject == "Huge"
    assert "larger than 1 MB" in message.attachment_notes[0]["reason"]
