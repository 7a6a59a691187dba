import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_with_right_password_reaches_home(client, csr):
    response = client.post(reverse("login"), {"username": "csr", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert b"Intake queue" in home.content


@pytest.mark.django_db
def test_login_with_wrong_password_says_so_and_stays_signed_out(client, csr):
    response = client.post(reverse("login"), {"username": "csr", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_login_rotates_the_session_key(client, csr):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("login"), {"username": "csr", "password": "pw-for-tests-1"})
    assert client.session.session_key != before


@pytest.mark.django_db
def test_logout_is_post_only_and_ends_the_session(client, csr):
    client.force_login(csr)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_signing_out_lands_on_the_sign_in_page_which_says_so(client, csr):
    client.force_login(csr)
    page = client.post(reverse("logout"), follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("login"))
    assert "You have signed out." in page.content.decode()
    assert "You have signed out." not in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_password_change(client, csr):
    client.force_login(csr)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-for-tests-1",
            "new_password1": "a-much-longer-secret-9",
            "new_password2": "a-much-longer-secret-9",
        },
    )
    assert response.status_code == 302
    csr.refresh_from_db()
    assert csr.check_password("a-much-longer-secret-9")


@pytest.mark.django_db
def test_navigation_shows_only_what_the_role_may_use(client, csr, manager):
    client.force_login(csr)
    assert b"Settings</a>" not in client.get("/").content
    client.force_login(manager)
    assert b"Settings</a>" in client.get("/").content


@pytest.mark.django_db
def test_user_without_a_role_is_refused_the_work_pages(client, outsider):
    client.force_login(outsider)
    assert client.get("/").status_code == 403
