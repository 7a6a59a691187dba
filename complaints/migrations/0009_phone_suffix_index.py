"""Phone search by the number's end, on PostgreSQL only.

A customer gives "07700 900123" where the record holds "+44 7700 900123", or only the last
digits: both are a prefix of the reversed digits. The expression must stay identical to
complaints.selectors.PHONE_SUFFIX_SQL for the planner to use the index; text_pattern_ops
lets LIKE 'prefix%' use it under any collation. Built CONCURRENTLY (outside a transaction),
so intake keeps writing to a large table while it builds.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS complaint_phone_suffix ON complaints_complaint "
    "(reverse(customer_phone_digits) text_pattern_ops)"
)
DROP = "DROP INDEX CONCURRENTLY IF EXISTS complaint_phone_suffix"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("complaints", "0008_open_stage_index")]
    operations = [migrations.RunPython(create, drop)]
