"""The managed lists staff classify complaints by (products, issues, root causes) and the
firm's holidays."""

from django.db import models
from simple_history.models import HistoricalRecords


class ManagedList(models.Model):
    """A list managers keep in the admin; retired entries stay for history."""

    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    # Who changed a setting, when, from what to what (shown and exported in the admin).
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(ManagedList):
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta(ManagedList.Meta):
        verbose_name = "product or service"
        verbose_name_plural = "products and services"
        # The same sub-product may sit under two products ("Checking account").
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], nulls_distinct=False, name="product_name_per_parent"
            )
        ]


class Category(ManagedList):
    """The issue complained about; a sub-issue has a parent."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta(ManagedList.Meta):
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], nulls_distinct=False, name="category_name_per_parent"
            )
        ]


class RootCause(ManagedList):
    class Meta(ManagedList.Meta):
        constraints = [models.UniqueConstraint(fields=["name"], name="root_cause_name_unique")]


class Holiday(models.Model):
    """A day the firm is closed, which the business-day clocks skip: on one calendar, or on
    every calendar when none is given."""

    date = models.DateField()
    name = models.CharField(max_length=100)
    calendar = models.ForeignKey(
        "complaints.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closures",
        help_text="Blank: closed on every calendar.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_calendar_date"),
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(calendar__isnull=True), name="holiday_date"
            ),
        ]

    def __str__(self):
        return f"{self.date:%d %b %Y} {self.name}"
