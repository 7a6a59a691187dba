"""Operational records: the periodic jobs' runs and the intake's idempotency keys."""

from django.conf import settings
from django.db import models

from complaints.models.complaint import Complaint


class JobRun(models.Model):
    """One run of a periodic job: what it did and how long it took, for the operators' page."""

    name = models.CharField(max_length=60)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    summary = models.JSONField(default=dict)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["name", "-started_at"], name="jobrun_name_started")]

    def __str__(self):
        return f"{self.name} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def summary_items(self):
        """What the run did, in words for the operators' page: ('delay notices', 3)."""
        return [(str(key).replace("_", " "), value) for key, value in self.summary.items()]


class IdempotencyKey(models.Model):
    """A complaint one submission made, under the key the submitter sent with it: the API's
    `Idempotency-Key` header, or the one-time token of a staff or public intake form.

    Written in the same transaction as the complaint, so a retry (also a concurrent one, which
    the unique constraints stop) gets the complaint already made instead of a second one.
    """

    # None for the public form, whose keys are random tokens the server issued.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    # API only: SHA-256 of the request body, so the same key with another body is refused,
    # not replayed. A form's token is one form's, whatever its fields say.
    request_hash = models.CharField(max_length=64, blank=True)
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="+")
    # API only: the body first answered, replayed as it was: a retry learns nothing the first
    # call did not. A form's retry is sent to the complaint instead.
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_unique"),
            # A null user is distinct from every other in the constraint above.
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(user=None), name="public_idempotency_key_unique"
            ),
        ]

    def __str__(self):
        return f"{self.key} → {self.complaint_id}"
