"""Single sign-on against a real OpenID Connect provider on loopback (tests/oidc_provider):
the whole redirect flow, the code exchanged for tokens over HTTP, the ID token's RS256
signature checked against the provider's published keys."""

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

from tests import oidc_provider
from tests.integration.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CALLBACK = "http://testserver/accounts/sso/callback/"
ROLE_GROUPS = {"complaints-managers": "manager", "complaints-team": "csr"}


class Provider:
    """The provider's gunicorn, its environment (to seed it) and its log."""

    def __init__(self, port, env, log_path):
        self.url, self.env, self.log_path = f"http://127.0.0.1:{port}", env, log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603  (a fixed command line of our own)
                [str(GUNICORN), "tests.oidc_provider.wsgi", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def seed(self, *arguments):
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tests.oidc_provider.seed", *arguments],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=60,
        )

    def publishes_its_configuration(self):
        assert self.process.poll() is None, f"The provider exited:\n{self.log()}"
        with contextlib.suppress(requests.ConnectionError):
            discovery = requests.get(f"{self.url}/o/.well-known/openid-configuration", timeout=5)
            return discovery.status_code == 200
        return False

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """django-oauth-toolkit's OpenID Connect provider under gunicorn, with a new RSA key."""
    folder = tmp_path_factory.mktemp("oidc_provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY": key.decode(),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    running = Provider(free_port(), env, folder / "gunicorn.log")
    try:
        running.seed("client", CALLBACK)
        wait_until(running.publishes_its_configuration, timeout=30, describe=running.log)
        yield running
    finally:
        running.process.terminate()
        running.process.wait(10)


@pytest.fixture
def sso(provider, settings):
    """Redress pointed at the provider, as docs/authentication.md tells a firm to."""
    settings.OIDC_PROVIDER_NAME = "Example Identity"
    settings.OIDC_RP_CLIENT_ID = oidc_provider.CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = oidc_provider.CLIENT_SECRET
    settings.OIDC_OP_ISSUER = f"{provider.url}/o"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.url}/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.url}/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.url}/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.url}/o/.well-known/jwks.json"
    settings.OIDC_ROLE_GROUPS = ROLE_GROUPS
    settings.MFA_ENFORCED = True
    return provider


def sign_in_at_the_provider(client, provider, username):
    """Redress → the provider's sign-in page → back to Redress with a code. Returns Redress's
    answer to the callback."""
    browser = requests.Session()
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{provider.url}/o/authorize/?")

    to_login = browser.get(authorize, allow_redirects=False)
    assert to_login.status_code == 302, provider.log()
    login_url = provider.url + to_login.headers["Location"]
    form = browser.get(login_url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    signed_in = browser.post(
        login_url,
        data={
            "username": username,
            "password": oidc_provider.PASSWORD,
            "csrfmiddlewaretoken": token,
        },
        allow_redirects=False,
    )
    assert signed_in.status_code == 302, signed_in.text
    back = browser.get(provider.url + signed_in.headers["Location"], allow_redirects=False)
    assert back.status_code == 302, provider.log()
    callback = urlparse(back.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == CALLBACK
    assert "code=" in callback.query
    return client.get(f"{callback.path}?{callback.query}")


@pytest.mark.integration
@pytest.mark.django_db
def test_a_manager_signs_in_through_the_provider_with_the_role_of_their_group(
    client, sso, django_user_model
):
    sso.seed("person", "alice", "alice@example.com", "complaints-managers,marketing")
    page = client.get(reverse("login"))
    assert b"Sign in with Example Identity" in page.content

    response = sign_in_at_the_provider(client, sso, "alice")

    assert response.status_code == 302 and response.headers["Location"] == "/"
    alice = django_user_model.objects.get(username="alice")
    assert alice.role == "manager" and not alice.is_superuser
    assert alice.email == "alice@example.com" and alice.first_name == "Alice"
    assert alice.sso_subject
    assert not alice.has_usable_password()
    # The provider stands for the second factor (OIDC_MFA_BY_PROVIDER), so no enrolment here.
    home = client.get("/")
    assert home.status_code == 200 and b"Alice" in home.content


@pytest.mark.integration
@pytest.mark.django_db
def test_the_role_follows_the_groups_at_each_sign_in_and_an_old_account_is_linked(client, sso, csr):
    csr.email = "carol@example.com"
    csr.save()
    sso.seed("person", "carol", "carol@example.com", "complaints-team")
    sign_in_at_the_provider(client, sso, "carol")
    csr.refresh_from_db()
    assert csr.sso_subject and csr.role == "csr"  # linked by its verified address, once
    assert client.get("/").status_code == 200

    client.post(reverse("logout"))
    sso.seed("person", "carol", "carol@example.com", "complaints-managers")
    sign_in_at_the_provider(client, sso, "carol")
    csr.refresh_from_db()
    assert csr.role == "manager"
    assert client.get("/").status_code == 200


@pytest.mark.integration
@pytest.mark.django_db
def test_someone_in_no_mapped_group_is_refused_with_a_reason(client, sso, django_user_model):
    sso.seed("person", "dave", "dave@example.com", "marketing")
    response = sign_in_at_the_provider(client, sso, "dave")
    assert response.headers["Location"] == reverse("login")
    page = client.get(reverse("login"))
    assert b"did not succeed" in page.content and b"not be in a group" in page.content
    assert not django_user_model.objects.filter(username="dave").exists()
    assert client.get("/").status_code == 302


@pytest.mark.integration
@pytest.mark.django_db
def test_a_provider_that_cannot_be_reached_is_a_message_not_an_error(client, sso, settings):
    sso.seed("person", "erin", "erin@example.com", "complaints-team")
    settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{free_port()}/o/token/"
    response = sign_in_at_the_provider(client, sso, "erin")
    assert response.headers["Location"] == reverse("login")
    assert b"could not be reached" in client.get(reverse("login")).content


# Without a provider process: the sign-in page and OIDC_ONLY.


@pytest.mark.django_db
def test_without_single_sign_on_the_page_has_the_password_form_only(client):
    page = client.get(reverse("login")).content
    assert b"Sign in with" not in page and b'name="password"' in page
    start = client.get(reverse("oidc_authentication_init"))
    assert start.headers["Location"] == reverse("login")


@pytest.mark.django_db
def test_oidc_only_hides_the_password_form_and_refuses_passwords(client, csr, settings):
    settings.OIDC_RP_CLIENT_ID = "redress"
    settings.OIDC_PROVIDER_NAME = "Example Identity"
    settings.OIDC_ONLY = True
    page = client.get(reverse("login")).content
    assert b"Sign in with Example Identity" in page and b'name="password"' not in page
    refused = client.post(reverse("login"), {"username": "csr", "password": "pw-for-tests-1"})
    assert refused.headers["Location"] == reverse("login")
    assert client.get("/").status_code == 302
    # The admin's own sign-in page refuses passwords too.
    client.post(reverse("admin:login"), {"username": "csr", "password": "pw-for-tests-1"})
    assert client.get("/").status_code == 302
