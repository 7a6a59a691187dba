import csv
from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from accounts.history import HistoryToReadMixin, export_history
from accounts.mfa import mfa_reset
from accounts.models import ApiToken, SecurityEvent, SecurityEventKind, User
from accounts.roles import Capability, Role, can
from accounts.services import api_token_issue, api_token_revoke, security_event_record

# What a person may do follows from these; a change to any is a security event.
ACCESS_FIELDS = {
    "role": "role",
    "is_superuser": "administrator",
    "is_active": "active",
    "groups": "groups",
    "user_permissions": "permissions",
}


def _shown(field, value):
    if field == "role":
        return Role(value).label if value else "no role"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "changed"


@admin.register(User)
class UserAdmin(HistoryToReadMixin, SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Complaints team", {"fields": ("role", "sso_subject")}),
    )
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Complaints team", {"fields": ("role",)}))
    readonly_fields = ("sso_subject",)
    actions = ["reset_two_step_sign_in", export_history]

    @admin.action(
        description="Reset two-step sign-in (they set it up again at their next sign-in)",
        permissions=["change"],
    )
    def reset_two_step_sign_in(self, request, queryset):
        for user in queryset:
            mfa_reset(user, by=request.user)
        self.message_user(
            request,
            f"Two-step sign-in reset for {len(queryset)} user(s). Each sets it up again at "
            "their next sign-in.",
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            detail = f"{obj.username} created, role: {_shown('role', obj.role)}"
        else:
            changed = [name for name in ACCESS_FIELDS if name in form.changed_data]
            if not changed:
                return
            detail = f"{obj.username}: " + "; ".join(
                f"{ACCESS_FIELDS[name]} {_shown(name, form.initial.get(name))} → "
                f"{_shown(name, form.cleaned_data.get(name))}"
                for name in changed
            )
        security_event_record(SecurityEventKind.ACCESS_CHANGED, request=request, detail=detail)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators give each integrating system a token; the key is shown once, here."""

    list_display = (
        "name",
        "user",
        "scope",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope",)
    search_fields = ("name", "user__username", "prefix")
    list_select_related = ("user",)
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "scope", "expires_at")
        return self.list_display

    def get_readonly_fields(self, request, obj=None):
        # A token is never edited: a different need gets a new token and the old one revoked.
        return () if obj is None else self.list_display

    def get_changeform_initial_data(self, request):
        expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
        return {"expires_at": expires_at, **super().get_changeform_initial_data(request)}

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the list keeps what existed

    def save_model(self, request, obj, form, change):
        if not change:
            request.api_token_key = api_token_issue(obj, actor=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(
            request,
            "admin/accounts/apitoken/created.html",
            {
                **self.admin_site.each_context(request),
                "title": "API token created",
                "opts": self.opts,
                "token": obj,
                "key": request.api_token_key,
                "changelist_url": reverse("admin:accounts_apitoken_changelist"),
            },
        )

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            api_token_revoke(token, actor=request.user)


def _spreadsheet_safe(value):
    # A cell a spreadsheet would run as a formula gets a leading apostrophe: usernames in the
    # log are as typed at sign-in, by anyone.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security log: managers and administrators read and export it; nobody edits it."""

    list_display = ("at", "kind", "username", "address", "detail")
    list_filter = ("kind",)
    date_hierarchy = "at"
    search_fields = ("username", "detail")
    actions = ["export_csv"]

    def has_module_permission(self, request):
        return can(request.user, Capability.READ_SECURITY_LOG)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Capability.READ_SECURITY_LOG)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Export the selected events as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="security-events-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["At", "Event", "Username", "Address", "Detail"])
        count = 0
        for event in queryset.order_by("at", "pk").iterator():
            writer.writerow(
                _spreadsheet_safe(value)
                for value in (
                    timezone.localtime(event.at).isoformat(timespec="seconds"),
                    event.get_kind_display(),
                    event.username,
                    event.address,
                    event.detail,
                )
            )
            count += 1
        security_event_record(
            SecurityEventKind.DATA_EXPORTED,
            request=request,
            detail=f"Security log CSV: {count} events",
        )
        return response
