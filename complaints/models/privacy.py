"""Data protection: retention policies, legal holds, anonymisations, erasure requests and the
tamper-evident record of each case (docs/data-protection.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from complaints.models.complaint import Complaint
from complaints.models.lists import Product


class RetentionPolicy(models.Model):
    """How long a closed case keeps its personal data: at least `minimum_days` after closing
    (the regulator's record-keeping rule, so erasure on request is refused before), then it is
    anonymised `anonymise_after_days` after closing by the retention job."""

    name = models.CharField(max_length=200)
    # A product's policy covers its sub-products too; no product: every other case.
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Regulatory profiles are not modelled yet: the label says which rules the policy follows.
    regulatory_profile = models.CharField(max_length=40, blank=True)
    minimum_days = models.PositiveIntegerField(
        help_text="Days after closing the record must be kept (e.g. 1096 for DISP 1.9's three "
        "years); erasure on request is refused before."
    )
    anonymise_after_days = models.PositiveIntegerField(
        help_text="Days after closing the case is anonymised by the retention job."
    )
    source = models.CharField(
        max_length=300, help_text="The rule this policy follows, e.g. 'FCA DISP 1.9.1R'."
    )
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "retention policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymise_after_days__gte=models.F("minimum_days")),
                name="retention_anonymise_after_minimum",
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(active=True),
                nulls_distinct=False,
                name="retention_one_active_per_product",
            ),
        ]

    def __str__(self):
        return self.name


class LegalHold(models.Model):
    """Litigation or an ombudsman referral: while a hold is active the case is neither
    anonymised by the retention job nor erased on request."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="legal_holds")
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint"],
                condition=Q(released_at__isnull=True),
                name="legal_hold_one_active_per_complaint",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="legal_hold_has_reason"),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True)
                | (Q(released_by__isnull=False) & ~Q(release_reason="")),
                name="legal_hold_release_has_who_why",
            ),
        ]

    def __str__(self):
        return f"Legal hold on {self.complaint_id}"


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for a second manager"
    DONE = "done", "Approved and erased"
    REFUSED = "refused", "Refused"


class ErasureRequest(models.Model):
    """A person's request to be erased: one manager records it, another approves it (the two
    managers differ, which the database holds too)."""

    subject = models.CharField(
        max_length=300, help_text="Who asked: the name, email or phone searched for."
    )
    complaints = models.ManyToManyField(Complaint, related_name="+")
    reason = models.TextField(help_text="The request as the person made it.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ErasureStatus.choices, default=ErasureStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ErasureStatus.values), name="erasure_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="erasure_two_people",
            ),
            models.CheckConstraint(
                condition=Q(status=ErasureStatus.REQUESTED)
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="erasure_decision_has_who_when",
            ),
        ]

    def __str__(self):
        return f"Erasure request {self.pk} ({self.get_status_display()})"


class Anonymisation(models.Model):
    """A case whose personal data was removed, once: the row is the claim (one per case) and
    carries the signed record of what was removed and why."""

    complaint = models.OneToOneField(
        Complaint, on_delete=models.CASCADE, related_name="anonymisation"
    )
    at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    policy = models.ForeignKey(
        RetentionPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    erasure = models.ForeignKey(
        ErasureRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # django.core.signing output: the removed fields, the files deleted and the digest of the
    # case's first `sealed_links` links as they stood after removal, signed with the server's
    # key, so the chain stays verifiable over the scrubbed rows.
    record = models.TextField()
    sealed_links = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"Anonymisation of {self.complaint_id}"


class RecordLink(models.Model):
    """One row of a case's hash chain (complaints/chain.py): the hash of the record row's
    content when it was chained, and the hash of that and the previous link."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=10)
    object_id = models.BigIntegerField()
    content_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    # The row's hash after anonymisation scrubbed it; the case's seal signs these.
    current_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["complaint", "seq"], name="record_link_seq"),
            models.UniqueConstraint(fields=["kind", "object_id"], name="record_link_row"),
        ]

    def __str__(self):
        return f"{self.complaint_id}#{self.seq} {self.kind} {self.object_id}"


class RecordChainMark(models.Model):
    """How far the chaining job has read each kind of record row (by id)."""

    kind = models.CharField(max_length=10, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.kind} up to {self.last_id}"
