"""Settings come from the environment; production settings pass Django's deploy checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "complaints.example.com",
    "SITE_URL": "https://complaints.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://complaints.example.com",
}
PRODUCTION_WITHOUT_KEY = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}


def run(code, unset=(), **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECURE_")) and k not in unset
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_of(**env):
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({'DEBUG': s.DEBUG, 'ALLOWED_HOSTS': s.ALLOWED_HOSTS, "
        "'ENGINE': s.DATABASES['default']['ENGINE'], 'NAME': s.DATABASES['default']['NAME'], "
        "'BROKER': s.CELERY_BROKER_URL, 'TIME_ZONE': s.TIME_ZONE, 'SITE_URL': s.SITE_URL, "
        "'SSL': s.SECURE_SSL_REDIRECT, 'HSTS': s.SECURE_HSTS_SECONDS, "
        "'COOKIE_SECURE': s.SESSION_COOKIE_SECURE, 'EMAIL_HOST': s.EMAIL_HOST, "
        "'EMAIL_PORT': s.EMAIL_PORT, 'KEY': s.SECRET_KEY}))"
    )
    result = run(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_are_read_from_the_environment():
    values = settings_of(
        DEBUG="1",
        ALLOWED_HOSTS="a.example, b.example",
        DATABASE_URL="postgres://u:p@db.example:5433/complaints",
        REDIS_URL="redis://cache.example:6380/2",
        TIME_ZONE="Australia/Sydney",
        SITE_URL="http://a.example/",
        EMAIL_HOST="smtp.example",
        EMAIL_PORT="2525",
        SECRET_KEY="from-the-environment",
    )
    assert values["DEBUG"] is True
    assert values["ALLOWED_HOSTS"] == ["a.example", "b.example"]
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["NAME"] == "complaints"
    assert values["BROKER"] == "redis://cache.example:6380/2"
    assert values["TIME_ZONE"] == "Australia/Sydney"
    assert values["SITE_URL"] == "http://a.example"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("smtp.example", 2525)
    assert values["KEY"] == "from-the-environment"


def test_embedded_defaults_need_no_server():
    values = settings_of(DATABASE_URL="sqlite:////tmp/redress-test.sqlite3")
    assert values["ENGINE"] == "django.db.backends.sqlite3"


def test_an_https_site_turns_on_tls_everything():
    values = settings_of(**PRODUCTION)
    assert values["SSL"] and values["COOKIE_SECURE"] and values["HSTS"] >= 31536000


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_development_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr


# Production refuses to start unsafe ----------------------------------------------------------

# How each process loads the settings: gunicorn imports the WSGI module, celery (worker and
# beat) reads its configuration from them, and manage.py runs every other command.
ENTRY_POINTS = {
    "gunicorn": "import config.wsgi",
    # beat_schedule, not broker_url: celery reads CELERY_BROKER_URL from the environment first.
    "celery": "from config.celery import app; app.conf.beat_schedule",
    "manage.py": "from django.core.management import call_command; call_command('check')",
}


def refusal(code, unset=(), **env):
    """The error a process stops with, or None if it started."""
    result = run(code, unset=unset, **env)
    if result.returncode == 0:
        return None
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_production_without_a_secret_key_refuses_to_start(entry_point):
    error = refusal(ENTRY_POINTS[entry_point], unset={"SECRET_KEY"}, **PRODUCTION_WITHOUT_KEY)
    assert error is not None, f"{entry_point} started with the public development key"
    assert "SECRET_KEY is not set" in error and "token_urlsafe" in error


@pytest.mark.parametrize(
    "key",
    [
        "django-insecure-local-development-key-never-use-in-production",
        "change-me-this-key-is-public-and-only-fit-for-local-use",
        "",
        "short-but-secret",
        "a" * 60,
    ],
)
def test_production_refuses_a_published_or_weak_key(key):
    error = refusal(ENTRY_POINTS["gunicorn"], **PRODUCTION_WITHOUT_KEY, SECRET_KEY=key)
    assert error is not None and "SECRET_KEY" in error


@pytest.mark.parametrize(
    "site_url", ["http://complaints.example.com", "http://10.0.0.5:8000", "complaints.example.com"]
)
def test_production_refuses_plain_http_beyond_loopback(site_url):
    error = refusal(ENTRY_POINTS["gunicorn"], **(PRODUCTION | {"SITE_URL": site_url}))
    assert error is not None and "SITE_URL" in error and "https" in error


@pytest.mark.parametrize(
    "site_url", ["https://complaints.example.com", "http://127.0.0.1:8000", "http://localhost"]
)
def test_production_starts_on_https_or_on_loopback(site_url):
    assert refusal(ENTRY_POINTS["gunicorn"], **(PRODUCTION | {"SITE_URL": site_url})) is None


def test_make_run_starts_with_debug_on_and_no_key():
    """`make run` sets DEBUG=1 and nothing else: the first look needs no secret."""
    environment = {"DEBUG": "1", "SITE_URL": "http://192.168.1.20:8000"}
    assert refusal(ENTRY_POINTS["gunicorn"], unset={"SECRET_KEY"}, **environment) is None


def test_compose_publishes_on_loopback_and_requires_a_key():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    published = [
        (name, port)
        for name, service in compose["services"].items()
        for port in service.get("ports", [])
    ]
    assert published
    for name, port in published:
        assert port.startswith("${REDRESS_BIND:-127.0.0.1}:"), (name, port)
    # `${VAR:?message}`: compose stops with the message when SECRET_KEY is unset or empty.
    key = compose["x-app-env"]["SECRET_KEY"]
    assert key.startswith("${SECRET_KEY:?") and ":-" not in key
