"""The calendars, the regulators' profiles and their clocks (complaints/clocks/catalogue.py),
seeded as data that managers then keep in the admin; every complaint so far gets the house
profile, and its running clocks become rows."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

from complaints.clocks import catalogue


def seed(apps, schema_editor):
    complaints_to_house(apps, catalogue.seed(apps))


def complaints_to_house(apps, house):
    """Every complaint so far follows the house rules; the clocks still running become rows,
    with the deadlines and marks the complaint carries."""
    Complaint = apps.get_model("complaints", "Complaint")
    ComplaintClock = apps.get_model("complaints", "ComplaintClock")
    Complaint.objects.update(profile=house)
    definitions = {d.code: d for d in house.definitions.all()}
    zone = ZoneInfo(settings.TIME_ZONE)
    rows = []
    running = Complaint.objects.filter(stage__in=["received", "acknowledged", "investigating"])
    for complaint in running.iterator(chunk_size=2000):
        if complaint.stage == "received":
            rows.append(
                ComplaintClock(
                    complaint_id=complaint.pk,
                    definition=definitions["acknowledgment"],
                    started_at=complaint.received_at,
                    due_at=complaint.acknowledgment_due_at,
                    warn_at=complaint.received_at
                    + timedelta(hours=settings.ACKNOWLEDGMENT_WARNING_HOURS),
                    warned_at=complaint.acknowledgment_warned_at,
                    breached_at=complaint.acknowledgment_breached_at,
                )
            )
        end_of_target_day = datetime.combine(
            complaint.resolution_target_date + timedelta(days=1), time(0), tzinfo=zone
        ) - timedelta(microseconds=1)
        rows.append(
            ComplaintClock(
                complaint_id=complaint.pk,
                definition=definitions[f"resolution-{complaint.complexity}"],
                started_at=complaint.received_at,
                due_at=end_of_target_day,
                breached_at=complaint.resolution_overdue_at,
            )
        )
        if len(rows) >= 2000:
            ComplaintClock.objects.bulk_create(rows)
            rows = []
    ComplaintClock.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0021_regulatory_clocks")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
