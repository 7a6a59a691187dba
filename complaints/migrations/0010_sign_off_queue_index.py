"""The managers' sign-off queue: documented cases, oldest first. Built CONCURRENTLY (outside a
transaction), so intake keeps writing to a large table while it builds."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("complaints", "0009_phone_suffix_index")]
    operations = [
        AddIndexConcurrently(
            model_name="complaint",
            index=models.Index(
                condition=models.Q(("stage", "documented")),
                fields=["documented_at", "id"],
                name="complaint_awaiting_sign_off",
            ),
        ),
    ]
