import json

from django.core.management.base import BaseCommand, CommandError

from complaints import jobs


class Command(BaseCommand):
    help = "Run one periodic job now and print what it did."

    def add_arguments(self, parser):
        parser.add_argument("name", help=", ".join(sorted(jobs.JOBS)))

    def handle(self, *args, name, **options):
        if name not in jobs.JOBS:
            raise CommandError(f"Unknown job {name!r}. Jobs: {', '.join(sorted(jobs.JOBS))}.")
        summary = jobs.run(jobs.JOBS[name])
        self.stdout.write(f"{name}: {json.dumps(summary, sort_keys=True)}")
