"""The environment every test run needs, set before Django loads its settings.

pytest loads this module first (`-p tests.environment` in pyproject.toml). The suite runs
with DEBUG off, as production does, and the settings refuse to start that way with the
public development key; so each run makes a random key of its own. It goes into the
environment, so that the processes the tests start (gunicorn, celery, manage.py) share it.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
