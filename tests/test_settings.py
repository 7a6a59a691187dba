"""Settings come from the environment; production settings pass Django's deploy checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "complaints.example.com",
    "SITE_URL": "https://complaints.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://complaints.example.com",
}


def run(code, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
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
