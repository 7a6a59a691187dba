"""Signals: a case marked for the person whose turn it is, until they open it."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from complaints.models.complaint import Complaint


class SignalKind(models.TextChoices):
    CUSTOMER_REPLIED = "customer_replied", "The customer replied"
    CUSTOMER_ACCEPTED = "customer_accepted", "The customer accepted the resolution"
    CUSTOMER_DISAGREED = "customer_disagreed", "The customer disagreed with the resolution"
    CUSTOMER_ADDED_INFORMATION = "customer_added_information", "The customer added information"
    CUSTOMER_FEEDBACK = "customer_feedback", "The customer answered the feedback request"
    CONSULTATION_ANSWERED = "consultation_answered", "Your consultation was answered"
    APPROVAL_REQUESTED = "approval_requested", "A resolution waits for approval"
    APPROVAL_GIVEN = "approval_given", "The resolution was approved"
    APPROVAL_REFUSED = "approval_refused", "The resolution was not approved"
    ASSIGNED = "assigned", "Assigned to you"
    ESCALATED = "escalated", "Escalated to you"


class Signal(models.Model):
    """One event that hands work to one person. Unseen until that person opens the case;
    notified once, in the next digest email."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="signals", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=30, choices=SignalKind.choices)
    raised_at = models.DateTimeField()
    seen_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [
            # The home page's counts and the queue's "new" marks read this index alone: it
            # holds only what people have yet to open, not every event since the start.
            models.Index(
                fields=["user", "kind", "complaint"],
                name="signal_unseen",
                condition=Q(seen_at__isnull=True),
            ),
            # The digest job's scan: only the signals no email has told of yet.
            models.Index(
                fields=["raised_at", "id"],
                name="signal_to_notify",
                condition=Q(notified_at__isnull=True),
            ),
            # Opening a case marks its signals seen, and a complaint's deletion removes them.
            models.Index(fields=["complaint", "user"], name="signal_complaint_user"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SignalKind.values), name="signal_kind_valid"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.complaint_id} for {self.user_id})"
