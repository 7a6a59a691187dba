"""What the cluster test's fresh database needs: an API client (a CSR with a token), managers
who read the dashboard, reports and exports, and a category to file complaints under.
Prints them as JSON. Run by harness.py with the nodes' environment, against the primary."""

import json
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402

from accounts.models import ApiTokenScope  # noqa: E402
from accounts.roles import Role  # noqa: E402
from accounts.services import api_token_create  # noqa: E402
from tests import factories  # noqa: E402

PASSWORD = "cluster-test-password-1"
MANAGERS = [f"cluster-manager-{n}" for n in range(1, 7)]

User = get_user_model()
password = make_password(PASSWORD)  # one hash for all: PBKDF2 is slow on purpose
client = User.objects.create(username="cluster-api", role=Role.CSR, password=password)
for username in MANAGERS:
    User.objects.create(username=username, role=Role.MANAGER, password=password)
print(
    json.dumps(
        {
            "token": api_token_create(user=client, name="cluster", scope=ApiTokenScope.WRITE)[1],
            "category": factories.category().pk,
            "managers": MANAGERS,
            "password": PASSWORD,
        }
    )
)
