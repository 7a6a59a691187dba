"""Personas and the real services every test run needs.

The suite runs against PostgreSQL and Redis for real. If either cannot be reached the run
stops at once and says how to start it, rather than skipping anything in silence.
"""

import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

from accounts.roles import Role
from complaints.selectors.regulatory import regulatory_catalogue_forget

START_HINTS = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
}


def _reachable(url, default_port):
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit("The tests run on PostgreSQL: set DATABASE_URL to a postgres:// URL.", 2)
    problems = []
    if not _reachable(f"postgres://{database['HOST']}:{database['PORT'] or 5432}", 5432):
        problems.append(("PostgreSQL", f"{database['HOST']}:{database['PORT'] or 5432}"))
    if not _reachable(settings.REDIS_URL, 6379):
        problems.append(("Redis", settings.REDIS_URL))
    if problems:
        lines = [
            f"{name} cannot be reached at {where}. Start it with: {START_HINTS[name]}"
            for name, where in problems
        ]
        pytest.exit("\n".join(lines), 2)
    _compile_translations()


def _compile_translations():
    """The Spanish tests read the compiled catalogues, which `make install` builds; a run
    started without make (or after a .po changed) builds them here, as make would."""
    stale = [
        po
        for po in Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    if shutil.which("msgfmt") is None:
        pytest.exit("The translations need gettext's msgfmt: run make test-deps.", 2)
    call_command("compilemessages", ignore_patterns=[".venv", "node_modules"], verbosity=0)


# Templates resolve static files by name; the hashed manifest exists only after collectstatic,
# which production images run and tests do not need.
# A fast hasher: the tests sign users in hundreds of times and check behaviour, not PBKDF2.
override_settings(
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    # Each test makes its own data; a cached dashboard would show another test's.
    DASHBOARD_CACHE_SECONDS=0,
    # The personas sign in with a password alone, as in the demo; tests/accounts/test_mfa.py
    # turns the production default back on.
    MFA_ENFORCED=False,
    STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
).enable()


@pytest.fixture(autouse=True)
def _attachment_root(tmp_path, settings):
    settings.ATTACHMENT_ROOT = tmp_path / "attachments"


@pytest.fixture(autouse=True)
def _fresh_regulatory_catalogue():
    """The intake's cached catalogue read afresh in each test: a test's rows are rolled back
    at its end, which sends no signal, so the next test would see them in the cache."""
    regulatory_catalogue_forget()


def make_user(django_user_model, username, role, **extra):
    return django_user_model.objects.create_user(
        username=username,
        password="pw-for-tests-1",
        role=role,
        first_name=username.title(),
        **extra,
    )


@pytest.fixture
def csr(django_user_model):
    return make_user(django_user_model, "csr", Role.CSR)


@pytest.fixture
def csr2(django_user_model):
    return make_user(django_user_model, "csr2", Role.CSR)


@pytest.fixture
def resolver(django_user_model):
    return make_user(django_user_model, "resolver", Role.RESOLVER)


@pytest.fixture
def manager(django_user_model):
    return make_user(django_user_model, "manager", Role.MANAGER)


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser(username="admin", password="pw-for-tests-1")


@pytest.fixture
def outsider(django_user_model):
    """Signed in, but with no role in the complaints team."""
    return make_user(django_user_model, "outsider", "")
