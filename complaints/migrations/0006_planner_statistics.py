"""Extended statistics for PostgreSQL's planner (no-ops elsewhere).

Being unassigned and being open go together, and the dashboard groups by week: without
these the planner misjudges both by orders of magnitude (see make bench).
"""

from django.db import migrations

STATEMENTS = [
    (
        "CREATE STATISTICS IF NOT EXISTS complaint_stage_assignee (mcv, dependencies) "
        "ON stage, assignee_id FROM complaints_complaint",
        "DROP STATISTICS IF EXISTS complaint_stage_assignee",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for create_sql, _ in STATEMENTS:
            schema_editor.execute(create_sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _, drop_sql in STATEMENTS:
            schema_editor.execute(drop_sql)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0005_queue_and_dashboard_indexes")]
    operations = [migrations.RunPython(create, drop)]
