import hashlib

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

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
    # Who changed whose role or access, and when. The password hash stays out of history, and
    # so does the last sign-in, which changes daily (the security log records sign-ins).
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

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


class SecurityEventKind(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out after failed sign-ins"
    SIGNED_OUT = "signed_out", "Signed out"
    ACCESS_CHANGED = "access_changed", "Role or access changed"
    API_TOKEN_CREATED = "api_token_created", "API token created"
    API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"
    API_TOKEN_USED = "api_token_used", "API token used"
    API_TOKEN_REFUSED = "api_token_refused", "API token refused"
    DATA_EXPORTED = "data_exported", "Data exported"
    FILE_DOWNLOADED = "file_downloaded", "Attachment downloaded"
    ADMIN_CHANGED = "admin_changed", "Changed in the admin site"


class SecurityEventQuerySet(models.QuerySet):
    """The log is append-only: rows are added, never changed or removed through the ORM."""

    def update(self, **kwargs):
        raise PermissionDenied("Security events cannot be changed.")

    def delete(self):
        raise PermissionDenied("Security events cannot be deleted.")


class SecurityEvent(models.Model):
    """One thing that happened to sign-in, access or data leaving the system; written by
    accounts.services.security_event_record only, and kept (a database trigger refuses
    UPDATE and DELETE on PostgreSQL as well)."""

    Kind = SecurityEventKind

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Kept while its events are: the log must still say who, so users are deactivated instead.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="security_events"
    )
    # As typed at sign-in, or the actor's: a failed sign-in may name no account at all.
    username = models.CharField(max_length=150, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SecurityEventKind.values),
                name="security_event_kind_valid",
            )
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionDenied("Security events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Security events cannot be deleted.")


def api_token_hash(key):
    """What is stored of a key: its SHA-256. Keys are 256 random bits, so a fast hash is
    enough; nobody can guess their way back from it as they could from a password's."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A key another system sends as `Authorization: Token <key>`, acting as `user`.

    Only the key's hash is stored; the key is shown once, when it is created."""

    Scope = ApiTokenScope

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="The system that uses it.")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=ApiTokenScope.READ)
    # The key's first characters, enough to tell keys apart in a list.
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=ApiTokenScope.values), name="api_token_scope_valid"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def revoked(self):
        return self.revoked_at is not None

    def usable(self, now=None):
        return not self.revoked and (now or timezone.now()) < self.expires_at
