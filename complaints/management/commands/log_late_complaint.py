from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from complaints import services
from complaints.models import Category, Product


class Command(BaseCommand):
    help = (
        "Demo only (DEBUG): log a phone complaint received HOURS ago, unacknowledged and "
        "unassigned, to watch the acknowledgment clock act on it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours-ago", type=float, default=25.0)

    def handle(self, *args, hours_ago, **options):
        # A backdated complaint in a live register would be a false record.
        if not settings.DEBUG:
            raise CommandError("This command makes demo data; it runs only with DEBUG=1.")
        if not 0 <= hours_ago <= 24 * 365:
            raise CommandError("--hours-ago must be between 0 and 8760.")
        received_at = timezone.now() - timedelta(hours=hours_ago)
        complaint = services.complaint_create(
            actor=None,
            received_at=received_at,
            data={
                "customer_name": "Late Demo",
                "customer_email": "",
                "customer_phone": "+44 7700 900999",
                "date_of_complaint": timezone.localdate(received_at),
                "description": "Called about a missing refund; the call note was only logged now.",
                "interaction_details": "Phone call, logged late for the clock demo.",
                "channel": "phone",
                "category": Category.objects.filter(parent=None).order_by("name").first(),
                "product": Product.objects.filter(parent=None).order_by("name").first(),
                "complexity": "standard",
            },
        )
        due = timezone.localtime(complaint.acknowledgment_due_at)
        self.stdout.write(
            f"{complaint.reference}: received {hours_ago:g} h ago, acknowledgment due "
            f"{due:%Y-%m-%d %H:%M}. The next acknowledgment sweep (every "
            f"{settings.CELERY_BEAT_SCHEDULE['enforce_acknowledgment_deadline']['schedule'] / 60:g}"
            " min) escalates it to the managers once it is past due."
        )
