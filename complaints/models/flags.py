"""Vulnerable customers and financial hardship: flags staff record on a case, with who and
why, that put it at the top of the queues and select the regulator's clocks that apply
(ASIC RG 271's 21 days for hardship). Staff only: never on the customer's pages or emails."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from complaints.models.complaint import Complaint


class FlagKind(models.TextChoices):
    # The values are the Complaint columns each flag keeps, so a kind names its column.
    VULNERABLE = "vulnerable", "Vulnerable customer"
    HARDSHIP = "hardship", "Financial hardship"


class CaseFlag(models.Model):
    """One flag, from when it was set until it was cleared. A case has at most one live flag
    of each kind; the complaint's boolean column of that kind says whether it has one."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="flags", db_index=False
    )
    kind = models.CharField(max_length=20, choices=FlagKind.choices)
    reason = models.TextField()
    # Null when the customer asked for extra support on the public form.
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    set_at = models.DateTimeField()
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    clear_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["set_at", "id"]
        indexes = [models.Index(fields=["complaint", "set_at"], name="caseflag_complaint")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FlagKind.values), name="caseflag_kind"),
            models.CheckConstraint(condition=~Q(reason=""), name="caseflag_has_reason"),
            # A flag is cleared with a reason, and only a cleared flag has one.
            models.CheckConstraint(
                condition=(Q(cleared_at__isnull=True) & Q(clear_reason=""))
                | (Q(cleared_at__isnull=False) & ~Q(clear_reason="")),
                name="caseflag_cleared_with_reason",
            ),
            models.UniqueConstraint(
                fields=["complaint", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="caseflag_one_live_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.complaint_id})"

    @property
    def is_live(self):
        return self.cleared_at is None
