"""Fixtures the complaints tests share beyond tests/conftest.py."""

from tests.imap_server import imap_server  # noqa: F401  (a fixture: Dovecot on loopback)
