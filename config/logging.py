"""One id per request, in every log record it causes, also in the Celery tasks it starts.

The id comes from the caller's X-Request-ID header when it looks like an id (a load balancer
or proxy that made one already), else it is made here; the response echoes it, so a user's
report of a failed page can be matched to the log lines. A task published while the id is
set carries it in a message header and runs with it (config/celery.py connects the
handlers); a task nobody's request caused, such as a periodic job, runs under its own task
id, so its lines still belong together.
"""

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished

REQUEST_ID_HEADER = "X-Request-ID"
# The Celery message header that carries the id into a task.
TASK_HEADER = "request_id"
# Room for a UUID, a trace id or a proxy's own format; nothing that could forge a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current = contextvars.ContextVar("request_id", default=None)


def current_request_id():
    return _current.get()


def accepted_request_id(value):
    """The caller's id when it is sane, else a new one."""
    if value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _forget_request_id(sender, **kwargs):
    _current.set(None)


class RequestIdMiddleware:
    """Sets the id for the request's records and echoes it in the response.

    The id is kept until Django's request_finished signal, not only until this middleware
    returns: Django logs a failed request (django.request's "Internal Server Error", "Not
    Found") after every middleware has returned, and those lines need the id most.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(_forget_request_id, dispatch_uid="redress-request-id")

    def __call__(self, request):
        request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        _current.set(request_id)
        response = self.get_response(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current id (or "-") on every record, for the formatters to print."""

    def filter(self, record):
        record.request_id = _current.get() or "-"
        return True


# Celery signal handlers ---------------------------------------------------------------------


def add_request_id_to_task(headers=None, **kwargs):
    """before_task_publish: the task being sent carries the id it was caused under."""
    request_id = _current.get()
    if request_id is not None and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def set_request_id_for_task(task_id=None, task=None, **kwargs):
    """task_prerun: the task's records carry the id of the request that caused it."""
    custom_headers = getattr(task.request, "headers", None) or {}
    request_id = custom_headers.get(TASK_HEADER)
    if request_id is None or not SANE_REQUEST_ID.fullmatch(str(request_id)):
        request_id = task_id
    task.request.request_id_token = _current.set(request_id)


def clear_request_id_after_task(task=None, **kwargs):
    """task_postrun: the worker process goes on to other tasks without this one's id."""
    token = getattr(task.request, "request_id_token", None)
    if token is not None:
        _current.reset(token)
        task.request.request_id_token = None
