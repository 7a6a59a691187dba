"""Indexes no query reads, dropped: each was rewritten for every complaint the clock sweep
marks (a thousand a statement) and every clock it marks, and for each complaint logged.

- complaint_open_ack_due, complaint_open_target: the list's old sorts by acknowledgment due
  and target; the list sorts by next_deadline_at now. The planner's scan of all open
  complaints has complaint_open_stage.
- complaint_ack_unwarned: the old acknowledgment sweep's warning scan; the clocks' sweep
  reads clock_to_warn.
- complaint_phone_digits: search by phone reads complaint_phone_suffix.
- complaintclock's index on definition_id: clocks are read by complaint and through the
  partial indexes.

Two hold the few rows their one query counts, not the many the sweeps rewrite:
complaint_resolved keeps the resolved complaints only (every query of it asks for a
resolution from a date), and the metrics count the complaints past their resolution target
(complaint_target_overdue) instead of those that are not (complaint_target_unflagged).

On PostgreSQL built and dropped CONCURRENTLY (outside a transaction): intake keeps writing.
"""

from django.db import migrations, models

OPEN = ("received", "acknowledged", "investigating", "resolved", "follow_up")

UNREAD = [
    models.Index(
        condition=models.Q(("stage__in", OPEN)),
        fields=["acknowledgment_due_at"],
        name="complaint_open_ack_due",
    ),
    models.Index(
        condition=models.Q(("stage__in", OPEN)),
        fields=["resolution_target_date"],
        name="complaint_open_target",
    ),
    models.Index(
        condition=models.Q(("acknowledgment_warned_at__isnull", True), ("stage", "received")),
        fields=["received_at"],
        name="complaint_ack_unwarned",
    ),
    models.Index(fields=["customer_phone_digits"], name="complaint_phone_digits"),
]
RESOLVED_BEFORE = models.Index(
    fields=["resolved_at"], include=("received_at",), name="complaint_resolved"
)
RESOLUTION_STAGES = ["received", "acknowledged", "investigating"]
TARGET_BEFORE = models.Index(
    condition=models.Q(("resolution_overdue_at__isnull", True), ("stage__in", RESOLUTION_STAGES)),
    fields=["resolution_target_date"],
    name="complaint_target_unflagged",
)
TARGET_AFTER = models.Index(
    condition=models.Q(("resolution_overdue_at__isnull", False), ("stage__in", RESOLUTION_STAGES)),
    fields=["resolution_target_date"],
    name="complaint_target_overdue",
)
RESOLVED_AFTER = models.Index(
    condition=models.Q(("resolved_at__isnull", False)),
    fields=["resolved_at"],
    include=("received_at",),
    name="complaint_resolved",
)


def _options(schema_editor):
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def change(dropped, added):
    def run(apps, schema_editor):
        model = apps.get_model("complaints", "Complaint")
        for index in dropped:
            schema_editor.remove_index(model, index, **_options(schema_editor))
        for index in added:
            schema_editor.add_index(model, index, **_options(schema_editor))

    return run


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("complaints", "0034_flagged_index_holds_documented_cases")]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *(
                    migrations.RemoveIndex(model_name="complaint", name=index.name)
                    for index in [*UNREAD, RESOLVED_BEFORE, TARGET_BEFORE]
                ),
                migrations.AddIndex(model_name="complaint", index=RESOLVED_AFTER),
                migrations.AddIndex(model_name="complaint", index=TARGET_AFTER),
            ],
            database_operations=[
                migrations.RunPython(
                    change(
                        [*UNREAD, RESOLVED_BEFORE, TARGET_BEFORE], [RESOLVED_AFTER, TARGET_AFTER]
                    ),
                    change(
                        [RESOLVED_AFTER, TARGET_AFTER], [*UNREAD, RESOLVED_BEFORE, TARGET_BEFORE]
                    ),
                )
            ],
        ),
        migrations.AlterField(
            model_name="complaintclock",
            name="definition",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="clocks",
                to="complaints.clockdefinition",
            ),
        ),
    ]
