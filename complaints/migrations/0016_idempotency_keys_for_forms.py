# The API's idempotency keys, generalised to the intake forms' one-time tokens (issue 18).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forget_form_tokens(apps, schema_editor):
    """Going back: the API's table holds API keys only (a user and a body each)."""
    apps.get_model("complaints", "IdempotencyKey").objects.filter(
        models.Q(user=None) | models.Q(response__isnull=True)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0015_resolution_clock_stops_at_resolution"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("ApiIdempotencyKey", "IdempotencyKey"),
        migrations.AlterField(
            model_name="idempotencykey",
            name="user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="request_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="idempotencykey", name="response", field=models.JSONField(null=True)
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                condition=models.Q(("user", None)),
                fields=("key",),
                name="public_idempotency_key_unique",
            ),
        ),
        # Last, so that going back it runs first.
        migrations.RunPython(migrations.RunPython.noop, forget_form_tokens),
    ]
