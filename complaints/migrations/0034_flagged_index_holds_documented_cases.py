"""The flagged cases' index also holds the documented ones, so that the sign-off queue's
flagged part (documented cases lead by flagged ones) is read from it: without them there,
that part walked every documented case, a few thousand heap rows at 1,000,000 complaints,
or met a planner that chose a nested loop over the categories (half a second). On
PostgreSQL rebuilt CONCURRENTLY (outside a transaction), so intake keeps writing."""

from django.db import migrations, models

OPEN = ("received", "acknowledged", "investigating", "resolved", "follow_up")
FLAGGED = models.Q(("vulnerable", True), ("hardship", True), _connector="OR")


def index(stages):
    return models.Index(
        condition=models.Q(("stage__in", stages), FLAGGED),
        fields=["next_deadline_at", "id"],
        name="complaint_flagged_queue",
    )


BEFORE, AFTER = index(OPEN), index((*OPEN, "documented"))


def _options(schema_editor):
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def replace(old, new):
    def run(apps, schema_editor):
        model = apps.get_model("complaints", "Complaint")
        schema_editor.remove_index(model, old, **_options(schema_editor))
        schema_editor.add_index(model, new, **_options(schema_editor))

    return run


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("complaints", "0033_responses_seed")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="complaint", name="complaint_flagged_queue"),
                migrations.AddIndex(model_name="complaint", index=AFTER),
            ],
            database_operations=[
                migrations.RunPython(replace(BEFORE, AFTER), replace(AFTER, BEFORE))
            ],
        )
    ]
