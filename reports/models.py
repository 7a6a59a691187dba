from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from complaints.outcomes import Scheme


class Period(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class TrendReport(models.Model):
    """One period's figures, built once the period closes; a rebuild replaces them.

    `metrics` follows reports/metrics.py's schema, whose version is `schema_version`.
    """

    period = models.CharField(max_length=10, choices=Period.choices)
    start = models.DateField(help_text="First local day of the period.")
    end = models.DateField(help_text="First local day after the period.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(max_length=60)
    built_at = models.DateTimeField()
    build_ms = models.PositiveIntegerField(default=0)
    schema_version = models.PositiveSmallIntegerField()
    metrics = models.JSONField()

    class Meta:
        ordering = ["-start", "period"]
        constraints = [
            models.UniqueConstraint(fields=["period", "start"], name="report_one_per_period"),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="report_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_period_display()} report from {self.start:%d %b %Y}"


class ProcedureReview(models.Model):
    """A periodic review of the complaints procedure itself (seed section 7)."""

    held_on = models.DateField()
    participants = models.TextField(help_text="Who took part, one per line.")
    reports = models.ManyToManyField(TrendReport, blank=True, related_name="reviews")
    complaints_reviewed = models.TextField(
        blank=True, help_text="References of complaints looked at, one per line."
    )
    findings = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on"]

    def __str__(self):
        return f"Procedure review of {self.held_on:%d %b %Y}"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class ImprovementAction(models.Model):
    review = models.ForeignKey(ProcedureReview, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["due_date"], name="action_open_due", condition=Q(status="open"))
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="action_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ActionStatus.DONE) | Q(completed_at__isnull=False),
                name="action_done_has_time",
            ),
        ]

    def __str__(self):
        return self.description[:60]


class ReturnRun(models.Model):
    """A return produced: for which profile and period, when, by whom, and what it said then
    (its summary figures and how many records lacked a required field)."""

    kind = models.CharField(max_length=10, choices=Scheme.choices)
    profile = models.ForeignKey(
        "complaints.RegulatoryProfile", on_delete=models.PROTECT, related_name="+"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    produced_at = models.DateTimeField()
    produced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    figures = models.JSONField()
    records = models.PositiveIntegerField(help_text="Complaints in the return.")
    problems = models.PositiveIntegerField(help_text="Records missing a required field.")
    build_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-produced_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="return_period_in_order"
            ),
            models.CheckConstraint(condition=Q(kind__in=Scheme.values), name="return_kind_valid"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}, {self.profile}, {self.first_day} to {self.last_day}"
