"""Full-text search over customer name and complaint text, on PostgreSQL only.

The embedded SQLite default has no full-text index and searches with a plain match; the
expression here must stay identical to complaints.search.DOCUMENT_SQL for the planner to
use the index.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS complaint_search_document ON complaints_complaint USING gin "
    "((to_tsvector('simple'::regconfig, coalesce(customer_name, '') || ' ' || "
    "coalesce(description, ''))))"
)
DROP = "DROP INDEX IF EXISTS complaint_search_document"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
