"""What a case gathers on its way: notes, consultations, resolutions, feedback, the review
and documents."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from complaints.models.complaint import Complaint


class Note(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notes")
    # No author when the customer added the information through their own link.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_customer = models.BooleanField(default=False)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="note_has_text"),
            models.CheckConstraint(
                condition=Q(author__isnull=False) | Q(from_customer=True), name="note_has_author"
            ),
        ]

    def __str__(self):
        return self.text[:60]


class Consultation(models.Model):
    """A question put to another department or person during the investigation."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="consultations")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField(max_length=120)
    consultee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultations_to_answer",
    )
    question = models.TextField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(answer="") & Q(answered_at__isnull=True))
                | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="consultation_answer_has_time",
            )
        ]

    def __str__(self):
        return f"{self.department}: {self.question[:60]}"


class ResolutionType(models.TextChoices):
    REFUND = "refund", "Refund"
    REPLACEMENT = "replacement", "Replacement"
    CORRECTIVE_ACTION = "corrective_action", "Corrective action"
    SERVICE_ADJUSTMENT = "service_adjustment", "Service adjustment"
    APOLOGY = "apology", "Apology or explanation"
    COMPENSATION = "compensation", "Compensation"
    NO_FAULT = "no_fault", "No fault found"


MONEY_RESOLUTION_TYPES = (ResolutionType.REFUND, ResolutionType.COMPENSATION)


class ResolutionStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting manager approval"
    APPROVAL_REFUSED = "approval_refused", "Approval refused"
    PROPOSED = "proposed", "Proposed to the customer"
    ACCEPTED = "accepted", "Accepted by the customer"
    REJECTED = "rejected", "Rejected by the customer"
    IMPLEMENTED = "implemented", "Implemented"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Resolution(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="resolutions")
    type = models.CharField(max_length=20, choices=ResolutionType.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    description = models.TextField(help_text="The resolution in plain words, for the customer.")
    customer_action = models.TextField(
        blank=True, help_text="What the customer needs to do, if anything."
    )
    status = models.CharField(max_length=20, choices=ResolutionStatus.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    approval_required = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = models.TextField(blank=True)
    customer_responded_at = models.DateTimeField(null=True, blank=True)
    customer_comment = models.TextField(blank=True)
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    implemented_at = models.DateTimeField(null=True, blank=True)
    implementation_notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["proposed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=ResolutionType.values), name="resolution_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ResolutionStatus.values), name="resolution_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="resolution_amount_gte_0"
            ),
            # Money moves only with a currency, and refunds and compensation always name a sum.
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | ~Q(currency=""),
                name="resolution_amount_has_currency",
            ),
            models.CheckConstraint(
                condition=~Q(status=ResolutionStatus.IMPLEMENTED)
                | (Q(implemented_at__isnull=False) & Q(implemented_by__isnull=False)),
                name="resolution_implemented_has_who_when",
            ),
            models.CheckConstraint(
                condition=Q(approval_required=False)
                | Q(
                    status__in=[
                        ResolutionStatus.AWAITING_APPROVAL,
                        ResolutionStatus.APPROVAL_REFUSED,
                        ResolutionStatus.WITHDRAWN,
                    ]
                )
                | Q(approved_at__isnull=False),
                name="resolution_approved_before_customer",
            ),
            # At most one live proposal per complaint.
            models.UniqueConstraint(
                fields=["complaint"],
                condition=Q(
                    status__in=[
                        ResolutionStatus.AWAITING_APPROVAL,
                        ResolutionStatus.PROPOSED,
                        ResolutionStatus.ACCEPTED,
                    ]
                ),
                name="resolution_one_live_per_complaint",
            ),
        ]

    def __str__(self):
        return self.get_type_display()

    @property
    def involves_money(self):
        return self.amount is not None and self.amount > 0


class Feedback(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="feedback")
    # Null when the customer only said whether it was resolved (as imported records do).
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    resolved = models.BooleanField()
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField(db_index=True)
    # Null when the customer answered through their link.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=1) & Q(score__lte=5)),
                name="feedback_score_1_to_5",
            )
        ]

    def __str__(self):
        return f"{self.score}/5"


class Review(models.Model):
    """A manager's sign-off of one case."""

    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, related_name="review")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    quality_notes = models.TextField()
    lessons = models.TextField(blank=True)
    improvement_actions = models.TextField(blank=True)
    signed_off_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(quality_notes=""), name="review_has_quality_notes")
        ]

    def __str__(self):
        return f"Review of {self.complaint_id}"


def attachment_storage_name():
    return uuid.uuid4().hex


class Attachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    # Generated, so no uploaded name ever reaches the file system.
    stored_name = models.CharField(max_length=64, unique=True, default=attachment_storage_name)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=60)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by_customer = models.BooleanField(default=False)
    uploaded_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(uploaded_by__isnull=False) | Q(uploaded_by_customer=True),
                name="attachment_has_uploader",
            )
        ]

    def __str__(self):
        return self.original_name

    @property
    def path(self):
        """Where the file is: read by the checked download view and by the outbox."""
        return Path(settings.ATTACHMENT_ROOT) / self.stored_name[:2] / self.stored_name
