"""What the regulators' returns need beyond the case record: our taxonomy mapped to each
regulator's product and cause groupings, kept by managers in the admin (docs/returns.md)."""

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from complaints.models.lists import Category, Product, RootCause
from complaints.outcomes import Scheme


class GroupingDimension(models.TextChoices):
    PRODUCT = "product", "Product grouping"
    CAUSE = "cause", "Cause or issue"


class ReturnGrouping(models.Model):
    """One of our products, issues (categories) or root causes, as a regulator groups it:
    the FCA's product groupings and causes, ASIC's product and issue codes, the CFPB's
    products and issues. A complaint's product grouping is its product's (or its parent's),
    else its issue's; its cause is its root cause's, else its issue's."""

    scheme = models.CharField(max_length=10, choices=Scheme.choices)
    dimension = models.CharField(max_length=10, choices=GroupingDimension.choices)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="issue",
    )
    root_cause = models.ForeignKey(
        RootCause, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(
        max_length=40, help_text="The regulator's code, as its return takes it."
    )
    label = models.CharField(max_length=200, help_text="The regulator's name for it.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "dimension", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(product__isnull=False, category__isnull=True, root_cause__isnull=True)
                    | Q(product__isnull=True, category__isnull=False, root_cause__isnull=True)
                    | Q(product__isnull=True, category__isnull=True, root_cause__isnull=False)
                ),
                name="grouping_maps_one_thing",
            ),
            *(
                models.UniqueConstraint(
                    fields=["scheme", "dimension", field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"grouping_one_per_{field}",
                )
                for field in ("product", "category", "root_cause")
            ),
        ]

    def __str__(self):
        source = self.product or self.category or self.root_cause
        return f"{self.get_scheme_display()}: {source} → {self.code} {self.label}"
