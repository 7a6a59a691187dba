"""Set up the test provider: `python -m tests.oidc_provider.seed client <redirect_uri>` makes
the Redress client; `... person <username> <email> <group,...>` makes or changes a person."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, PASSWORD  # noqa: E402


def client(redirect_uri):
    Application.objects.update_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "Redress",
            "client_secret": CLIENT_SECRET,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": redirect_uri,
            "algorithm": Application.RS256_ALGORITHM,
            "skip_authorization": True,
        },
    )


def person(username, email, groups):
    user, _ = User.objects.get_or_create(username=username)
    user.email, user.first_name, user.last_name = email, username.title(), "Example"
    user.set_password(PASSWORD)
    user.save()
    user.groups.set(Group.objects.get_or_create(name=name)[0] for name in groups.split(",") if name)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"client": client, "person": person}[command](*arguments)
