"""The Message-ID every earlier message went out with, written down, so replies to emails sent
before the upgrade thread as well. The rule is outbox.message_id_for's, copied: a migration
must not change when the code it once ran with does."""

import hashlib

from django.conf import settings
from django.db import migrations

BATCH = 5_000


def _domain():
    return settings.SITE_URL.split("//")[-1].split("/")[0].split(":")[0] or "redress"


def message_id_for(key):
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{_domain()}>"


def fill(apps, schema_editor):
    OutboundMessage = apps.get_model("complaints", "OutboundMessage")
    if schema_editor.connection.vendor == "postgresql":
        domain = _domain()
        # One statement: at a million messages a Python loop would take minutes.
        schema_editor.execute(
            "UPDATE complaints_outboundmessage SET message_id = '<' || "
            "left(encode(sha256(convert_to(idempotency_key, 'UTF8')), 'hex'), 32) || '@' || %s || '>' "
            "WHERE message_id = ''",
            [domain],
        )
        return
    pending = OutboundMessage.objects.filter(message_id="").only("pk", "idempotency_key")
    while batch := list(pending[:BATCH]):
        for message in batch:
            message.message_id = message_id_for(message.idempotency_key)
        OutboundMessage.objects.bulk_update(batch, ["message_id"])


class Migration(migrations.Migration):
    dependencies = [("complaints", "0018_correspondence_inbound_email_and_reply_templates")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
