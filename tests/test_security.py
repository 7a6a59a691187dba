"""Sessions, sign-in throttling and the security headers every page carries."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from complaints import links
from tests import factories

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_repeated_failed_sign_ins_lock_the_account_with_a_generic_message(client, csr, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "csr", "wrong").status_code == 200
    assert sign_in(client, "csr", "wrong").status_code == 429  # the limit is reached
    locked = sign_in(client, "csr", "pw-for-tests-1")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert b"csr" not in locked.content.split(b"<main")[1]  # says nothing about the account
    assert client.get("/").status_code == 302


def test_a_failed_attempt_does_not_say_whether_the_user_exists(client, csr):
    known = sign_in(client, "csr", "wrong").content
    unknown = sign_in(client, "nobody-here", "wrong").content
    message = b"Please enter a correct username and password"
    assert message in known and message in unknown


def test_a_deactivated_users_open_session_stops_working(client, csr):
    client.force_login(csr)
    assert client.get("/").status_code == 200
    csr.is_active = False
    csr.save()
    assert client.get("/").status_code == 302


def test_logout_ends_the_session_on_the_server(client, csr):
    client.force_login(csr)
    session_key = client.session.session_key
    client.post(reverse("logout"))
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()


@pytest.mark.parametrize(
    "path", ["/", "/complaints/", "/complaints/new/", "/accounts/login/", "/complain/"]
)
def test_pages_carry_the_security_headers(client, manager, path):
    if "login" not in path and "complain" not in path:
        client.force_login(manager)
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_page_carries_inline_script(client, csr, resolver, manager):
    complaint = factories.complaint(csr)
    client.force_login(manager)
    for path in ["/", "/complaints/", "/complaints/new/", f"/complaints/{complaint.pk}/"]:
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)


# Nothing with personal data stays in a browser's or a proxy's cache -------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def assert_not_stored(response):
    assert response.status_code == 200, response.status_code
    assert "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "path", ["/", "/complaints/", "/complaints/new/", "/reports/", "/accounts/password/"]
)
def test_signed_in_pages_are_not_stored(client, manager, path):
    client.force_login(manager)
    assert_not_stored(client.get(path))


def test_the_api_is_not_stored(client, manager):
    client.force_login(manager)
    assert_not_stored(client.get("/api/v1/complaints/"))


def test_the_csv_export_is_not_stored(client, manager, csr):
    factories.complaint(csr)
    client.force_login(manager)
    response = client.get(reverse("complaints:export"))
    assert response["Content-Type"].startswith("text/csv")
    assert_not_stored(response)


def test_attachment_downloads_are_not_stored(client, csr):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from complaints import services

    complaint = factories.complaint(csr)
    attachment = services.attachment_add(
        complaint,
        actor=csr,
        upload=SimpleUploadedFile("statement.pdf", PDF, content_type="application/pdf"),
    )
    client.force_login(csr)
    assert_not_stored(client.get(reverse("complaints:attachment", args=[attachment.pk])))


def test_the_customer_link_pages_are_not_stored(client, csr):
    link = links.customer_link(factories.complaint(csr))
    assert_not_stored(client.get(link))


def test_the_sign_in_and_public_form_pages_are_not_stored(client):
    assert_not_stored(client.get(reverse("login")))
    assert_not_stored(client.get(reverse("public-complaint")))


def test_static_files_keep_their_caching(client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve from the source folders, as in development
    response = client.get("/static/css/redress.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


# Sign-in throttling counts per account and per address -------------------------------------


def test_many_addresses_share_one_accounts_failure_limit(client, csr, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("login"),
            {"username": "csr", "password": f"guess-{attempt}"},
            REMOTE_ADDR=f"198.51.100.{attempt + 1}",
        )
    assert response.status_code == 429
    fresh_address = client.post(
        reverse("login"),
        {"username": "csr", "password": "pw-for-tests-1"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert fresh_address.status_code == 429
    assert b"Too many sign-in attempts" in fresh_address.content


def test_one_address_spraying_many_accounts_is_stopped(client, settings, django_user_model):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, f"someone-{attempt}", "Summer2024!")
    assert response.status_code == 429
    django_user_model.objects.create_user(username="victim", password="pw-for-tests-1")
    assert sign_in(client, "victim", "pw-for-tests-1").status_code == 429


def test_other_accounts_and_addresses_are_not_held_up(client, csr, csr2, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": "csr", "password": "wrong"},
            REMOTE_ADDR=f"198.51.100.{attempt + 1}",
        )
    other = client.post(
        reverse("login"),
        {"username": "csr2", "password": "pw-for-tests-1"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert other.status_code == 302


@pytest.mark.parametrize("page", ["login", "admin:login"])
def test_a_sign_in_with_a_name_of_any_length_is_refused_and_counted(client, csr, settings, page):
    """Found by the black-box probe: a 50,000-character name overflowed django-axes's column,
    the failure went unrecorded and the sign-in answered 500."""
    huge = "c" * 50_000
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse(page),
            {"username": huge, "password": huge},
            REMOTE_ADDR=f"198.51.100.{attempt + 1}",
        )
    assert response.status_code == 429
    # Counted under its first 150 characters, the longest name an account can have: other
    # accounts are not held up.
    other = client.post(reverse("login"), {"username": "csr", "password": "pw-for-tests-1"})
    assert other.status_code == 302


def test_behind_a_proxy_the_clients_address_counts(rf):
    from accounts.signin import client_address

    request = rf.get("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.7", REMOTE_ADDR="10.0.0.1")
    assert client_address(request) == "192.0.2.7"
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"


# The admin's history shows a complaint's versions and never reverts to one -------------------


def form_data(form):
    """What a browser would post back for `form` as shown (split date and time included)."""
    from django.forms import MultiWidget

    data = {}
    for field in form:
        value = field.value()
        widget = getattr(field.field.widget, "widget", field.field.widget)  # unwrap related
        if isinstance(widget, MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{field.html_name}_{index}"] = "" if part is None else part
        elif value is not None:
            data[field.html_name] = value
    return data


def test_the_admin_history_cannot_revert_a_complaint(client, csr, administrator):
    complaint = factories.complaint(csr, customer_name="Original Name")
    first_version = complaint.history.order_by("history_id").first()
    complaint.customer_name = "Corrected Name"
    complaint.save(update_fields=["customer_name"])
    versions = complaint.history.count()
    client.force_login(administrator)
    url = reverse(
        "admin:complaints_complaint_simple_history", args=[complaint.pk, first_version.history_id]
    )

    page = client.get(url)
    assert page.status_code == 200
    assert b"Original Name" in page.content  # the earlier version is there to read
    assert b'name="_save"' not in page.content

    # Posting the earlier version back, as the page's form would, saved it whole before.
    response = client.post(url, form_data(page.context["adminform"].form))
    assert response.status_code == 403
    complaint.refresh_from_db()
    assert complaint.customer_name == "Corrected Name"
    assert complaint.history.count() == versions


@pytest.mark.parametrize("object_id", ["../../etc/passwd", "\x00", "x", "²", "9" * 30])
def test_the_admin_history_of_an_id_that_is_not_a_number_is_a_404(client, administrator, object_id):
    client.force_login(administrator)
    assert (
        client.get(reverse("admin:complaints_complaint_history", args=[object_id])).status_code
        == 404
    )
    # With a slash in it the id is no version URL: the admin's catch-all redirects instead.
    version = client.get(f"/admin/complaints/complaint/{object_id}/history/1/")
    assert version.status_code == (302 if "/" in object_id else 404)


# An admin action whose selection names no item is refused with a message --------------------


def _changelists():
    return sorted(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in admin.site._registry
    )


@pytest.mark.parametrize("changelist", _changelists())
@pytest.mark.parametrize("selected", ["probe", "9" * 30, "\x00"])
def test_an_admin_action_on_a_selection_that_is_no_id_changes_nothing(
    client, administrator, changelist, selected
):
    """Found by the black-box probe: `_selected_action=probe` went to `pk__in` as it came and
    PostgreSQL's driver raised, a server error on every change list of the admin site."""
    client.force_login(administrator)
    url = reverse(changelist)
    User = get_user_model()
    users = User.objects.count()
    response = client.post(
        url,
        {"action": "delete_selected", "_selected_action": [selected], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert "the selection names an item that does not exist" in response.content.decode()
    assert User.objects.count() == users


@pytest.mark.parametrize(
    "history", ["admin:accounts_user_history", "admin:complaints_category_history"]
)
@pytest.mark.parametrize("object_id", ["../../etc/passwd", "\x00", "x"])
def test_every_admin_history_of_an_id_that_is_not_one_is_a_404(
    client, administrator, history, object_id
):
    """Found by the black-box probe once users and settings kept a history."""
    client.force_login(administrator)
    assert client.get(reverse(history, args=[object_id])).status_code == 404
