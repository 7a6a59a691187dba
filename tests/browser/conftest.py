"""Real-browser journeys: Debian's Chromium, driven by Playwright, against the application
served on loopback by pytest-django's live server.

Everything a journey needs is here: one browser for the package, a fresh context per test,
a mail server on loopback that receives what the outbox relay sends, a Celery broker in
memory (nothing is published to the shared Redis), a cache of the test's own (the public
form's rate limit never touches Redis), axe-core on every page and a screenshot of it.
"""

import contextlib
import json
import os
import re
import shutil
import socket
import weakref
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from kombu import pools as kombu_pools
from kombu.transport.memory import Channel as MemoryChannel
from kombu.utils.collections import eqhash
from playwright.sync_api import expect, sync_playwright

from config.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = BASE_DIR / "test-artifacts" / "screenshots"
AXE_SOURCE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
BLOCKING_IMPACTS = ("serious", "critical")
PASSWORD = "pw-for-tests-1"  # tests/conftest.py make_user
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}

# Uncaught script errors and Content-Security-Policy refusals, per page; a journey step fails
# on any (the application's own scripts must run under its own policy).
SCRIPT_PROBLEMS = weakref.WeakKeyDictionary()

# The live server on IPv4 loopback, not whatever "localhost" resolves to first.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


# The browser -------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the whole browser package, closed when its last test is done.

    Playwright's sync API keeps an asyncio loop running on this thread while it is started,
    which makes Django refuse ORM calls from the test ("async context"). The tests here run
    ORM code between browser steps on purpose, so the check is off while, and only while,
    Playwright runs; package scope makes sure the loop is gone before other packages run.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test-deps` (Debian's chromium package).")
    if not AXE_SOURCE.exists():
        pytest.fail(f"{AXE_SOURCE} is missing: run `make install` (npm package axe-core).")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """Pages in fresh contexts (own cookies), one per person in the journey."""
    contexts = []

    def make(viewport=DESKTOP, *, javascript=True):
        context = browser.new_context(
            viewport=viewport, base_url=live_server.url, java_script_enabled=javascript
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return watch_scripts(context.new_page())

    yield make
    for context in contexts:
        context.close()


def watch_scripts(page):
    """Record the page's uncaught script errors and Content-Security-Policy refusals."""
    problems = SCRIPT_PROBLEMS.setdefault(page, [])
    page.on("pageerror", lambda error: problems.append(f"uncaught error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.type}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return page


@pytest.fixture
def page(new_page):
    return new_page()


# Isolation from the shared services -----------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class MailCatcher:
    """What an SMTP server on loopback received, as parsed emails."""

    host: str
    port: int
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    @staticmethod
    def text_of(message):
        return message.get_body(preferencelist=("plain",)).get_content()

    def link_in(self, message, base_url):
        """The customer's own link, as the email gives it."""
        found = re.search(re.escape(base_url) + r"/c/[^\s\"<>]+", self.text_of(message))
        assert found, f"No link to {base_url}/c/... in:\n{self.text_of(message)}"
        return found.group(0)


@pytest.fixture
def mail(settings):
    catcher = MailCatcher("127.0.0.1", free_port())
    controller = Controller(catcher, hostname=catcher.host, port=catcher.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = catcher.host, catcher.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield catcher
    finally:
        controller.stop()


@contextlib.contextmanager
def _celery_broker(url):
    """Publish this process's tasks (the web thread's on-commit sends included) to `url`."""
    previous = celery_app.conf.broker_url
    celery_app._pool = celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url
    try:
        yield
    finally:
        key = eqhash(celery_app.connection_for_write())
        for group in (kombu_pools.producers, kombu_pools.connections):
            pool = dict.pop(group, key, None)
            if pool is not None:
                pool.force_close_all()
        celery_app._pool = celery_app.amqp._producer_pool = None
        celery_app.conf.broker_url = previous


@pytest.fixture(autouse=True)
def _isolated(request, settings):
    """For tests that use the application: links in emails point at the live server, email
    goes to `mail`, tasks go to an in-memory broker nobody consumes (a test sends with
    `services.outbox_relay()`, as beat would) and the cache is the test's own."""
    if "new_page" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("mail")
    settings.SITE_URL = request.getfixturevalue("live_server").url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # A location per test: a rate limit one journey spent must not carry into the next.
            "LOCATION": f"browser-tests-{request.node.nodeid}",
        }
    }
    MemoryChannel.queues.clear()
    with _celery_broker("memory://"):
        yield
    MemoryChannel.queues.clear()


def published_tasks():
    """The names of the tasks published so far (by this test) to the in-memory broker."""
    return [
        message["headers"]["task"]
        for queue in MemoryChannel.queues.values()
        for message in list(queue.queue)
    ]


# Each page: a screenshot and an accessibility check ------------------------------------------


def format_violations(violations):
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"        {summary[:300]}")
    return "\n".join(lines)


class Journey:
    """Numbered screenshots under test-artifacts/screenshots/<name>/ and axe on each page."""

    def __init__(self, name):
        self.name = name
        self.directory = SCREENSHOTS / name
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def step(self, page, label, *, check=True, full_page=True, once=None):
        """Screenshot the page as it is now; then fail on serious or critical axe findings.

        `once` names a page that shows no data (the sign-in page): every journey screenshots
        it, axe checks it once a session.
        """
        if once:
            check = once not in _CHECKED_ONCE
            _CHECKED_ONCE.add(once)
        page.wait_for_load_state("load")
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = self.directory / f"{self.count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=full_page)
        problems = SCRIPT_PROBLEMS.get(page, [])
        assert not problems, (
            f"Scripts failed on {page.url} ({self.name}, step {self.count} '{label}'):\n"
            + "\n".join(problems)
        )
        if check:
            violations = axe_violations(page)
            assert not violations, (
                f"axe found serious or critical problems on {page.url} "
                f"({self.name}, step {self.count} '{label}', screenshot {path}):\n"
                + format_violations(violations)
            )
        return path


def axe_violations(page, impacts=BLOCKING_IMPACTS):
    # The application's Content-Security-Policy (script-src 'self') rightly blocks an inline
    # <script> (page.add_script_tag); evaluation through DevTools is not subject to it, so the
    # policy stays on for the application's own scripts while axe runs.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;undefined")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in impacts]


_AXE = []
_CHECKED_ONCE = set()


def _axe_source():
    if not _AXE:
        _AXE.append(AXE_SOURCE.read_text(encoding="utf-8"))
    return _AXE[0]


@pytest.fixture
def journey(request):
    def make(name=None):
        return Journey(name or request.node.name.removeprefix("test_"))

    return make


# People -------------------------------------------------------------------------------------


def sign_in(page, journey, user):
    page.goto("/accounts/login/")
    journey.step(page, f"sign-in-{user.username}", once="sign-in")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def card(page, title):
    """The action card (section) whose heading is `title` on the complaint page."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=title, exact=True))


def fold(page, title):
    """A folded action on the complaint page, open or not."""
    return page.locator("section.fold").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


def unfolded(page, title):
    """A folded action on the complaint page, opened as a person would: its summary clicked."""
    section = fold(page, title)
    if section.locator("details:not([open])").count():
        section.locator("summary").click()
    return section


def no_horizontal_scroll(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} scrolls sideways at {width} px: the page is {scroll_width} px wide. "
        "Wider elements: "
        + json.dumps(
            page.evaluate(
                """(width) => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > width + 1)
                    .slice(0, 5).map(e => e.outerHTML.slice(0, 120))""",
                width,
            )
        )
    )
