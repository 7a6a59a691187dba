# The API's idempotency keys, generalised to the intake forms' one-time tokens (issue 18).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0010_sign_off_queue_index"),
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
    ]
