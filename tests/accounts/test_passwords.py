"""Password policy to OWASP ASVS 5.0 level 2: length, a breached list, no composition rules."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

pytestmark = pytest.mark.django_db


def change_password(client, new):
    return client.post(
        reverse("password_change"),
        {"old_password": "pw-for-tests-1", "new_password1": new, "new_password2": new},
    )


def test_a_password_shorter_than_twelve_characters_is_refused(client, csr):
    client.force_login(csr)
    response = change_password(client, "vY7#qLm2!xz")  # 11 characters, otherwise strong
    assert response.status_code == 200
    assert b"at least 12 characters" in response.content
    csr.refresh_from_db()
    assert csr.check_password("pw-for-tests-1")


@pytest.mark.parametrize("common", ["qwerty123456", "1q2w3e4r5t6y", "123456654321"])
def test_a_password_from_the_breached_list_is_refused_however_long(csr, common):
    assert len(common) >= 12
    with pytest.raises(ValidationError, match="too common"):
        validate_password(common, csr)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # lower case and spaces only
        "48302957163029",  # digits only
        "ŝtrange ŭnicode pasvorto",  # any character at all
    ],
)
def test_any_composition_of_twelve_or_more_is_accepted(client, csr, password):
    client.force_login(csr)
    assert change_password(client, password).status_code == 302
    csr.refresh_from_db()
    assert csr.check_password(password)
