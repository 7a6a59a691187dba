from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts.roles import Role


class User(AbstractUser):
    role = models.CharField(
        max_length=16,
        choices=Role.choices,
        blank=True,
        help_text="What this person does in the complaints team. Administrators are superusers.",
    )
    # The identity provider's `sub` for this person, once they have used single sign-on.
    sso_subject = models.CharField(
        "single sign-on subject",
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["", *Role.values]), name="user_role_valid"
            )
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # Managers keep the settings lists in the admin site, which lets in staff only.
        self.is_staff = self.is_superuser or self.role == Role.MANAGER
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "is_staff"}
        super().save(*args, **kwargs)

    @property
    def role_label(self):
        if self.is_superuser:
            return "Administrator"
        return self.get_role_display() or "No role"
