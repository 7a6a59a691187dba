"""The security log: what is recorded, that it cannot be changed, and who reads it."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import SecurityEvent, SecurityEventKind
from accounts.roles import Role
from accounts.services import security_event_record
from complaints import services
from tests import factories

pytestmark = pytest.mark.django_db
Kind = SecurityEventKind


def sign_in(client, username, password, address="192.0.2.10"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def kinds():
    return list(SecurityEvent.objects.order_by("pk").values_list("kind", flat=True))


def test_sign_in_failure_and_sign_out_are_recorded_with_the_address(client, csr):
    sign_in(client, "csr", "wrong")
    sign_in(client, "csr", "pw-for-tests-1")
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.10")
    assert kinds() == [Kind.SIGN_IN_FAILED, Kind.SIGNED_IN, Kind.SIGNED_OUT]
    failed, signed_in, _ = SecurityEvent.objects.order_by("pk")
    assert failed.username == "csr" and failed.actor is None
    assert signed_in.actor == csr and signed_in.address == "192.0.2.10"


def test_a_failure_for_an_unknown_account_keeps_what_was_typed(client):
    sign_in(client, "=HYPERLINK(evil)", "x")
    assert SecurityEvent.objects.get().username == "=HYPERLINK(evil)"


def test_a_lockout_is_recorded(client, csr, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "csr", "wrong")
    locked = SecurityEvent.objects.get(kind=Kind.LOCKED_OUT)
    assert locked.username == "csr" and locked.address == "192.0.2.10"


def test_a_role_change_in_the_admin_is_recorded(client, administrator, csr):
    client.force_login(administrator)
    page = client.get(reverse("admin:accounts_user_change", args=[csr.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in ("username", "first_name", "email")}
    data |= {"role": Role.MANAGER, "is_active": "on", "date_joined_0": "2026-01-01"}
    data |= {"date_joined_1": "09:00:00", "last_name": ""}
    response = client.post(reverse("admin:accounts_user_change", args=[csr.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = SecurityEvent.objects.get(kind=Kind.ACCESS_CHANGED)
    assert event.actor == administrator
    assert event.detail == "csr: role Customer service representative → Manager"


def test_a_change_of_settings_in_the_admin_is_recorded(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("admin:complaints_holiday_add"), {"date": "2026-12-28", "name": "Boxing Day"}
    )

    assert response.status_code == 302
    event = SecurityEvent.objects.get(kind=Kind.ADMIN_CHANGED)
    assert event.actor == manager
    assert event.detail.startswith("Addition holiday «")
    assert "Boxing Day" in event.detail or "2026-12-28" in event.detail


def test_other_code_records_exports_through_one_function(csr):
    request = RequestFactory().get("/complaints/export.csv", REMOTE_ADDR="198.51.100.4")
    request.user = csr
    security_event_record(Kind.DATA_EXPORTED, request=request, detail="Complaint list: 3 rows")
    event = SecurityEvent.objects.get()
    assert (event.actor, event.username, event.address) == (csr, "csr", "198.51.100.4")


def test_complaint_exports_and_downloads_are_recorded(client, csr, manager):
    complaint = factories.complaint(csr, customer_email="")
    attachment = services.attachment_add(
        complaint,
        actor=csr,
        upload=SimpleUploadedFile("statement.txt", b"Both charges.", content_type="text/plain"),
    )
    client.force_login(csr)

    b"".join(client.get(reverse("complaints:export"), {"stage": "all"}).streaming_content)
    b"".join(client.get(reverse("complaints:attachment", args=[attachment.pk])).streaming_content)

    exported, downloaded = SecurityEvent.objects.filter(
        kind__in=[Kind.DATA_EXPORTED, Kind.FILE_DOWNLOADED]
    ).order_by("pk")
    assert (exported.kind, exported.actor) == (Kind.DATA_EXPORTED, csr)
    assert exported.detail == "Complaint list CSV: ?stage=all"
    assert (downloaded.kind, downloaded.actor) == (Kind.FILE_DOWNLOADED, csr)
    assert downloaded.detail == f"{complaint.reference}: statement.txt"


def test_the_log_cannot_be_changed_or_deleted_through_the_orm(csr):
    event = security_event_record(Kind.SIGNED_IN, actor=csr)
    event.detail = "nothing happened"
    for attempt in (
        event.save,
        event.delete,
        lambda: SecurityEvent.objects.update(detail="x"),
        lambda: SecurityEvent.objects.all().delete(),
        lambda: SecurityEvent.objects.bulk_update([event], ["detail"]),
    ):
        # Each in a savepoint: bulk_update's own atomic block marks the transaction failed.
        with pytest.raises(PermissionDenied, match="cannot be"), transaction.atomic():
            attempt()
    assert SecurityEvent.objects.get().detail == ""


@pytest.mark.parametrize(
    "sql", ["UPDATE accounts_securityevent SET detail = 'x'", "DELETE FROM accounts_securityevent"]
)
def test_the_database_refuses_to_change_the_log(csr, sql):
    security_event_record(Kind.SIGNED_IN, actor=csr)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert SecurityEvent.objects.get().detail == ""


def test_managers_read_and_export_the_log(client, manager, csr):
    security_event_record(Kind.SIGN_IN_FAILED, username="=cmd|' /C calc'!A0")
    security_event_record(Kind.SIGNED_IN, actor=csr)
    client.force_login(manager)
    listing = client.get(reverse("admin:accounts_securityevent_changelist"))
    assert listing.status_code == 200 and b"Sign-in failed" in listing.content
    chosen = list(SecurityEvent.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:accounts_securityevent_changelist"),
        {"action": "export_csv", "_selected_action": chosen},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["At", "Event", "Username", "Address", "Detail"]
    assert "'=cmd|' /C calc'!A0" in [row[2] for row in rows]  # never a live formula
    exported = SecurityEvent.objects.filter(kind=Kind.DATA_EXPORTED).get()
    assert exported.actor == manager and f"{len(chosen)} events" in exported.detail


def test_staff_without_the_capability_do_not_see_the_log(client, csr):
    client.force_login(csr)
    response = client.get(reverse("admin:accounts_securityevent_changelist"))
    assert response.status_code == 302  # to the admin's sign-in: not staff
