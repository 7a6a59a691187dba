"""A real OpenID Connect provider for the single sign-on tests (tests/accounts/test_sso.py).

A small Django project around django-oauth-toolkit's provider, with its own SQLite database
and an RSA key made by the test; the test starts it with gunicorn on a free loopback port.
"""

CLIENT_ID = "redress"
CLIENT_SECRET = "redress-client-secret"
PASSWORD = "provider-password-1"
