from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiTokenScope
from accounts.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print its key, once: only a hash is stored. "
        "Example: manage.py api_token_create intake-system --name 'CRM' --scope write"
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the calling system acts as.")
        parser.add_argument("--name", required=True, help="The system that will use it.")
        parser.add_argument(
            "--scope",
            choices=ApiTokenScope.values,
            default=ApiTokenScope.READ,
            help="read (GET only) or write (every method the user's role allows); default read.",
        )
        parser.add_argument(
            "--days", type=int, help="Days until it expires (default API_TOKEN_DAYS, 90)."
        )

    def handle(self, *args, username, name, scope, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}; create the user first.")
        if not user.is_active:
            raise CommandError(f"{username} is deactivated; a token of theirs would not work.")
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        token, key = api_token_create(user=user, name=name, scope=scope, expires_at=expires_at)
        self.stderr.write(
            f"Token {token} for {username}, {token.get_scope_display().lower()}, "
            f"expires {token.expires_at:%Y-%m-%d}. The key, shown this once:"
        )
        self.stdout.write(key)
