"""Flagged open cases, which lead every queue. On PostgreSQL built CONCURRENTLY (outside a
transaction), so intake keeps writing to a large table while it builds."""

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(
        ("stage__in", ("received", "acknowledged", "investigating", "resolved", "follow_up")),
        models.Q(("vulnerable", True), ("hardship", True), _connector="OR"),
    ),
    fields=["next_deadline_at", "id"],
    name="complaint_flagged_queue",
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
    dependencies = [("complaints", "0024_case_flags")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="complaint", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
