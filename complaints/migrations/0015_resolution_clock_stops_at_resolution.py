from django.db import migrations


def deadlines_recompute(apps, schema_editor):
    """Resolved and Follow-up cases had the resolution target as their next deadline; the
    target is met once a resolution is proposed (complaints.models.next_deadline)."""
    Complaint = apps.get_model("complaints", "Complaint")
    Complaint.objects.filter(stage__in=["resolved", "follow_up"]).exclude(
        next_deadline_at=None
    ).update(next_deadline_at=None)


def deadlines_restore(apps, schema_editor):
    from datetime import datetime, time

    from django.utils import timezone

    Complaint = apps.get_model("complaints", "Complaint")
    for complaint in Complaint.objects.filter(stage__in=["resolved", "follow_up"]).only(
        "resolution_target_date"
    ):
        end = datetime.combine(complaint.resolution_target_date, time(23, 59))
        complaint.next_deadline_at = timezone.make_aware(end)
        complaint.save(update_fields=["next_deadline_at"])


class Migration(migrations.Migration):
    dependencies = [("complaints", "0014_signals_and_sub_status")]

    operations = [migrations.RunPython(deadlines_recompute, deadlines_restore)]
