"""The managers' sign-off queue: documented cases, oldest first. On PostgreSQL built
CONCURRENTLY (outside a transaction), so intake keeps writing to a large table while it
builds; the embedded SQLite has no such option and no such table."""

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(("stage", "documented")),
    fields=["documented_at", "id"],
    name="complaint_awaiting_sign_off",
)


def _options(schema_editor):
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def create(apps, schema_editor):
    model = apps.get_model("complaints", "Complaint")
    schema_editor.add_index(model, INDEX, **_options(schema_editor))


def drop(apps, schema_editor):
    model = apps.get_model("complaints", "Complaint")
    schema_editor.remove_index(model, INDEX, **_options(schema_editor))


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("complaints", "0009_phone_suffix_index")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="complaint", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
