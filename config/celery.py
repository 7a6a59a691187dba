"""The Celery app. Its settings (JSON only, late acks, prefetch 1, bounded publish retries,
the beat schedule) live in config/settings.py under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("redress")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
