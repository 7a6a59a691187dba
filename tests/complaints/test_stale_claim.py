"""The outbox's stale-claim delay is a setting, by default proportionate to the send timeout:
a claim younger than it belongs to a worker that may still be sending."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints import outbox
from complaints.models import MessageKind, MessageStatus, OutboundMessage
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_default_outlasts_an_smtp_conversation(settings):
    assert settings.OUTBOX_STALE_CLAIM_SECONDS == 12 * settings.EMAIL_TIMEOUT


def test_the_relay_takes_back_a_claim_only_once_it_is_older_than_the_setting(csr, settings):
    settings.OUTBOX_STALE_CLAIM_SECONDS = 30
    complaint = factories.complaint(csr)
    message = OutboundMessage.objects.get(complaint=complaint, kind=MessageKind.ACKNOWLEDGMENT)
    now = timezone.now()

    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING, claimed_at=now - timedelta(seconds=29)
    )
    assert outbox.due_message_ids(now) == []
    assert not outbox.deliver(message.pk, now)

    OutboundMessage.objects.filter(pk=message.pk).update(claimed_at=now - timedelta(seconds=31))
    assert outbox.due_message_ids(now) == [message.pk]
