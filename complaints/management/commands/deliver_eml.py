from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from complaints import services
from complaints.services.inbound import COMMAND_MAILBOX


class Command(BaseCommand):
    help = (
        "Deliver saved emails (.eml files) to Redress as if they had reached the complaints "
        "mailbox: a customer's reply lands on its complaint, a new email becomes a complaint."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="one or more .eml files")

    def handle(self, *args, files, **options):
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"No such file: {name}")
            message = services.inbound_receive(path.read_bytes(), mailbox=COMMAND_MAILBOX)
            where = f" on {message.complaint.reference}" if message.complaint else ""
            self.stdout.write(f"{name}: {message.get_status_display()}{where}")
