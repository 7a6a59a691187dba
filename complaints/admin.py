"""Settings that managers keep: the managed lists and the holiday calendar. Case data is
read-only here: every change to a complaint goes through the application's services."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from accounts.history import export_history
from accounts.roles import Capability, can
from complaints.models import (
    Category,
    Complaint,
    Holiday,
    Product,
    ResponseTemplate,
    RetentionPolicy,
    RootCause,
)


class ManagerSettingsAdmin(SimpleHistoryAdmin):
    """Managers keep these lists themselves; no per-model permission bookkeeping needed. Each
    keeps its history (who, when, old and new), shown under History and exported as CSV."""

    actions = [export_history]

    def has_module_permission(self, request):
        return can(request.user, Capability.MANAGE_SETTINGS)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Capability.MANAGE_SETTINGS)

    has_add_permission = has_module_permission
    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission


@admin.register(Category, Product)
class TaxonomyAdmin(ManagerSettingsAdmin):
    list_display = ("name", "parent", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(RootCause)
class RootCauseAdmin(ManagerSettingsAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(ManagerSettingsAdmin):
    """The replies staff start from; placeholders are checked when saved (model clean)."""

    list_display = ("name", "language", "subject", "active")
    list_filter = ("active", "language")
    search_fields = ("name", "subject", "body")


@admin.register(Holiday)
class HolidayAdmin(ManagerSettingsAdmin):
    list_display = ("date", "name")


@admin.register(Complaint)
class ComplaintAdmin(SimpleHistoryAdmin):
    list_display = ("reference", "customer_name", "stage", "channel", "received_at", "assignee")
    list_filter = ("stage", "channel", "complexity")
    search_fields = ("reference", "customer_name", "customer_email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def history_view(self, request, object_id, extra_context=None):
        _refuse_an_id_that_is_not_a_number(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _refuse_an_id_that_is_not_a_number(object_id)
        # simple-history saves whatever form is posted here, Revert button shown or not; that
        # would rewrite a complaint (stage included) around the services, the workflow and
        # their history rules. An earlier version is there to read only.
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


def _refuse_an_id_that_is_not_a_number(object_id):
    # simple-history filters its rows by the id as the URL gives it, so anything but digits
    # would be a 500 where the rest of the admin says there is no such object.
    if not (object_id.isascii() and object_id.isdigit()):
        raise Http404("No such complaint")


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ManagerSettingsAdmin):
    """Retention as data (docs/data-protection.md): the retention job reads these daily."""

    list_display = (
        "name",
        "product",
        "regulatory_profile",
        "minimum_days",
        "anonymise_after_days",
        "source",
        "active",
    )
    list_filter = ("active",)
