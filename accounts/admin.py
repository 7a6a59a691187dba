from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.mfa import mfa_reset
from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Complaints team", {"fields": ("role", "sso_subject")}),
    )
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, ("Complaints team", {"fields": ("role",)}))
    readonly_fields = ("sso_subject",)
    actions = ["reset_two_step_sign_in"]

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
