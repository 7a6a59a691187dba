"""Settings keep their history: who changed what, when, old and new; shown in the admin and
exported as CSV."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from complaints.models import Holiday, Product
from reports.models import ImprovementAction, ProcedureReview
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_managed_list_change_in_the_admin_keeps_who_when_old_and_new(client, manager):
    product = factories.product("Credit card")
    client.force_login(manager)
    response = client.post(
        reverse("admin:complaints_product_change", args=[product.pk]),
        {"name": "Credit cards", "active": "on", "parent": ""},
    )
    assert response.status_code == 302
    latest = product.history.first()
    assert latest.history_user == manager and latest.name == "Credit cards"
    assert latest.diff_against(latest.prev_record).changes[0].old == "Credit card"
    page = client.get(reverse("admin:complaints_product_history", args=[product.pk]))
    assert page.status_code == 200 and b"Credit cards" in page.content


def test_the_admin_exports_the_history_as_csv(client, manager):
    holiday = Holiday.objects.create(date="2026-12-25", name="Christmas")
    holiday.name = "Christmas Day"
    holiday.save()
    client.force_login(manager)
    response = client.post(
        reverse("admin:complaints_holiday_changelist"),
        {"action": "export_history", "_selected_action": [holiday.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "setting"
    assert [r[5] for r in rows[1:]] == ["created", "changed"]
    assert "'Christmas' → 'Christmas Day'" in rows[2][7]


def test_users_roles_and_reviews_keep_history(manager, csr):
    csr.role = "resolver"
    csr.save()
    changes = csr.history.first().diff_against(csr.history.all()[1]).changes
    assert [(c.field, c.old, c.new) for c in changes] == [("role", "csr", "resolver")]
    assert not hasattr(csr.history.first(), "password")
    review = ProcedureReview.objects.create(
        held_on="2026-12-01", participants="A", findings="F", recorded_by=manager
    )
    action = ImprovementAction.objects.create(
        review=review, description="Fix", owner=manager, due_date="2026-12-31"
    )
    action.status = "dropped"
    action.save()
    assert action.history.count() == 2 and review.history.count() == 1


def test_the_export_command_writes_every_settings_history(manager):
    Product.objects.create(name="Mortgage")
    out = io.StringIO()
    call_command("export_settings_history", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    settings = {row[0] for row in rows[1:]}
    assert {"user", "product or service"} <= settings


def test_a_user_revert_is_refused(client, administrator, csr):
    client.force_login(administrator)
    version = csr.history.first()
    response = client.post(
        reverse("admin:accounts_user_simple_history", args=[csr.pk, version.history_id]), {}
    )
    assert response.status_code == 403
    assert User.objects.get(pk=csr.pk).role == "csr"
