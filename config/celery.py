"""The Celery app. Its settings (JSON only, late acks, prefetch 1, bounded publish retries,
the beat schedule) live in config/settings.py under the CELERY_ namespace."""

import os

from celery import Celery, signals

from config.logging import (
    add_request_id_to_task,
    clear_request_id_after_task,
    set_request_id_for_task,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("redress")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id travels with the tasks a request starts (config/logging.py).
signals.before_task_publish.connect(add_request_id_to_task, weak=False)
signals.task_prerun.connect(set_request_id_for_task, weak=False)
signals.task_postrun.connect(clear_request_id_after_task, weak=False)
