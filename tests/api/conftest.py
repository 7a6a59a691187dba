"""Clients that call the API as an integrating system does: with a token of a team member."""

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import ApiTokenScope
from accounts.services import api_token_create

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counters in a cache of this test's own, never the shared Redis database."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"api-tests-{uuid.uuid4().hex}",
        }
    }
    cache.clear()


def token_client(user=None, scope=ApiTokenScope.WRITE):
    """An API client carrying a new token of the user's; an anonymous one without a user."""
    client = APIClient()
    if user is not None:
        _, key = api_token_create(user=user, name="Tests", scope=scope)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api():
    return token_client


def new_complaint(**overrides):
    """A valid body for POST /api/v1/complaints/ (needs a category: see `category`)."""
    from tests import factories

    body = {
        "channel": "phone",
        "customer_name": "Priya Shah",
        "customer_phone": "+44 7700 900123",
        "date_of_complaint": "2024-01-15",
        "category": factories.category().pk,
        "description": "I was charged twice for one purchase.",
        "interaction_details": "Called the helpline.",
    }
    body.update(overrides)
    return body


def error_fields(response):
    """The `field` of every error in a JSON error response."""
    return [error["field"] for error in response.json()["errors"]]


def error_messages(response):
    return [error["message"] for error in response.json()["errors"]]
