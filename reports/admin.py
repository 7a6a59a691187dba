"""Procedure reviews and improvement actions, to read with their history (who changed what,
when) and export it; managers record and update them on the Reviews pages."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.history import HistoryToReadMixin, export_history
from accounts.roles import Capability, can
from reports.models import ImprovementAction, ProcedureReview


class ReadWithHistoryAdmin(HistoryToReadMixin, SimpleHistoryAdmin):
    actions = [export_history]

    def has_module_permission(self, request):
        return can(request.user, Capability.VIEW_REPORTS)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Capability.VIEW_REPORTS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcedureReview)
class ProcedureReviewAdmin(ReadWithHistoryAdmin):
    list_display = ("held_on", "recorded_by", "created_at")


@admin.register(ImprovementAction)
class ImprovementActionAdmin(ReadWithHistoryAdmin):
    list_display = ("description", "owner", "due_date", "status")
    list_filter = ("status",)
