"""Deny by default: walk the whole URL configuration as an anonymous visitor."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from config.urls import PUBLIC_URL_NAMES

SAMPLE_ARGUMENTS = {"int": "1", "slug": "note", "str": "x", "path": "x", "uuid": "0" * 32}


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else None


def concrete(route):
    """A URL a browser could ask for, with sample values in place of converters."""
    route = re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGUMENTS.get(m.group(1) or "str", "x"), route
    )
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # admin's regex routes
    return "/" + route.lstrip("^").rstrip("$").replace("\\", "")


def routes():
    return sorted({(concrete(route), name) for route, name in walk(get_resolver().url_patterns)})


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), routes())
def test_every_view_denies_anonymous_visitors_unless_public(client, url, name):
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        # 401 is the JSON API's "send your token" (complaints/api/): denied, like 403.
        answered = response.status_code not in (301, 302, 401, 403, 404, 405)
        if response.status_code in (301, 302):
            answered = "login" not in response.headers["Location"]
        if answered:
            assert name in PUBLIC_URL_NAMES, (
                f"{method.upper()} {url} ({name}) answered {response.status_code} to an anonymous "
                "visitor but is not in config.urls.PUBLIC_URL_NAMES"
            )


def test_public_list_names_real_urls():
    names = {name for _, name in walk(get_resolver().url_patterns)}
    assert names >= PUBLIC_URL_NAMES
