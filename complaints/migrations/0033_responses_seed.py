"""The required elements and templates of the responses regulators require
(complaints/responses/catalogue.py); the responses that meet the seeded response clocks.
Separate from 0032: PostgreSQL builds that migration's deferred indexes only on tables with
no rows waiting on deferred constraint checks."""

from django.db import migrations

from complaints.clocks import catalogue as clocks
from complaints.responses import catalogue as responses


def seed(apps, schema_editor):
    """The required elements and templates of the seeded profiles; the responses that meet
    the seeded response clocks; and, for the open complaints under a regulator's profile,
    which response their target date waits for."""
    responses.seed(apps)
    clocks.response_stops_seed(apps)
    ComplaintClock = apps.get_model("complaints", "ComplaintClock")
    Complaint = apps.get_model("complaints", "Complaint")
    first = {}
    running = (
        ComplaintClock.objects.filter(
            stopped_at__isnull=True,
            definition__role__in=["resolution_target", "final_response", "holding_response"],
        )
        .exclude(definition__profile__code="house")
        .order_by("complaint_id", "due_at", "id")
        .values_list("complaint_id", "definition__role")
    )
    for complaint_id, role in running.iterator(chunk_size=2000):
        first.setdefault(complaint_id, role)
    for role in set(first.values()):
        ids = [pk for pk, its in first.items() if its == role]
        for start in range(0, len(ids), 2000):
            Complaint.objects.filter(pk__in=ids[start : start + 2000]).update(
                response_due_role=role
            )


def unseed(apps, schema_editor):
    clocks.response_stops_seed(apps, remove=True)
    responses.unseed(apps)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0032_responses_required_content")]

    operations = [migrations.RunPython(seed, unseed)]
