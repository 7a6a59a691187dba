"""Regulatory clocks as data (docs/clocks.md): business calendars, the regulators' profiles
and their clock definitions, which managers keep in the admin, and each complaint's running
clocks as rows, which the generic sweep (complaints/clocks/sweeps.py) enforces."""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from complaints.models.lists import Product
from complaints.outcomes import Scheme


class ClockUnit(models.TextChoices):
    HOURS = "hours", "Hours"
    BUSINESS_HOURS = "business_hours", "Business hours"
    BUSINESS_DAYS = "business_days", "Business days"
    CALENDAR_DAYS = "calendar_days", "Calendar days"


class ClockEvent(models.TextChoices):
    """What happens to a case that starts or stops a clock (the stage services fire them)."""

    RECEIVED = "received", "Received"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigation started"
    RESOLUTION_PROPOSED = "resolution_proposed", "Resolution proposed"
    RESOLVED = "resolved", "Resolution implemented"
    FOLLOW_UP = "follow_up", "Follow-up started"
    DOCUMENTED = "documented", "Documented"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    EXITED = "exited", "Withdrawn, merged or not a complaint"
    # Sent by staff (complaints/services/replies.py): an email when it is written, a letter
    # when it is marked posted.
    HOLDING_RESPONSE_SENT = "holding_response_sent", "Holding response sent"
    FINAL_RESPONSE_SENT = "final_response_sent", "Final response sent"


class ClockRole(models.TextChoices):
    ACKNOWLEDGMENT = "acknowledgment", "Acknowledgment"
    RESOLUTION_TARGET = "resolution_target", "Resolution target"
    FINAL_RESPONSE = "final_response", "Final response"
    HOLDING_RESPONSE = "holding_response", "Holding response"
    # The window in which a resolved complaint may close with the lighter communication
    # (DISP 1.5, RG 271): its verdict is the complaint's early-resolution mark.
    EARLY_RESOLUTION = "early_resolution", "Early resolution"
    OTHER = "other", "Other"


# The clocks whose due date is the complaint's resolution target (its projection column).
RESPONSE_ROLES = (ClockRole.RESOLUTION_TARGET, ClockRole.FINAL_RESPONSE, ClockRole.HOLDING_RESPONSE)


class WarningNotify(models.TextChoices):
    ASSIGNEE_OR_CSRS = "assignee_or_csrs", "The assignee (or every CSR if unassigned)"
    MANAGERS = "managers", "The managers"
    NONE = "none", "Nobody"


class BreachNotify(models.TextChoices):
    MANAGERS = "managers", "The managers"
    ASSIGNEE = "assignee", "The assignee (or every CSR if unassigned)"
    CSRS = "csrs", "Every CSR"
    NONE = "none", "Nobody"


class BreachMessage(models.TextChoices):
    NONE = "", "No message to the customer"
    DELAY_NOTICE = "delay_notice", "A delay notice to the customer (once)"


class Condition(models.TextChoices):
    ANY = "any", "Any"
    YES = "yes", "Only if set"
    NO = "no", "Only if not set"


class BusinessCalendar(models.Model):
    """Which days count as business days: a jurisdiction's public holidays (the `holidays`
    package), the firm's own closures (Holiday) and its business hours."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    country = models.CharField(
        max_length=2,
        blank=True,
        help_text="ISO code for public holidays (GB, AU, US); blank: none.",
    )
    subdivision = models.CharField(
        max_length=10, blank=True, help_text="ENG, SCT, NSW, WA...; blank: national holidays only."
    )
    time_zone = models.CharField(max_length=64, default="Europe/London")
    opens = models.TimeField(default=time(9, 0))
    closes = models.TimeField(default=time(17, 0))
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=models.F("closes")), name="calendar_opens_before_closes"
            )
        ]

    def __str__(self):
        return self.name

    def as_calendar(self, closures=frozenset()):
        # Imported here: the clocks package reads the models (targets.py).
        from complaints.clocks import calendars

        return calendars.Calendar(
            country=self.country,
            subdivision=self.subdivision,
            time_zone=self.time_zone,
            opens=self.opens,
            closes=self.closes,
            closures=closures,
        )

    def clean(self):
        # The calendar's own checks: a known time zone, country and subdivision.
        try:
            self.as_calendar()
        except ValueError as error:
            raise ValidationError(str(error)) from error


class RegulatoryProfile(models.Model):
    """A named set of clock definitions: a regulator's rules, or the firm's own (the house)."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    regulator = models.CharField(max_length=100, blank=True)
    sources = models.TextField(blank=True, help_text="The published rules each clock follows.")
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="profiles"
    )
    country = models.CharField(
        max_length=2, blank=True, help_text="The customer's country it applies to; blank: any."
    )
    products = models.ManyToManyField(
        Product, blank=True, related_name="regulatory_profiles", help_text="Blank: any product."
    )
    priority = models.IntegerField(
        default=0, help_text="When several profiles fit a complaint, the highest wins."
    )
    early_resolution_business_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Closed within this many business days: the lighter communication applies.",
    )
    is_default = models.BooleanField(
        default=False, help_text="The profile of a complaint no other profile fits."
    )
    active = models.BooleanField(default=True)
    returns_scheme = models.CharField(
        max_length=10,
        choices=Scheme.choices,
        default=Scheme.FCA,
        help_text="Whose outcome codes and returns its complaints follow.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_profile"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(active=True), name="default_profile_active"
            ),
        ]

    def __str__(self):
        return self.name


class ClockDefinition(models.Model):
    """One clock of a profile: when it starts and stops, how long it runs on which calendar,
    when it warns, what a breach does, and to which complaints it applies."""

    profile = models.ForeignKey(
        RegulatoryProfile, on_delete=models.CASCADE, related_name="definitions"
    )
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=ClockRole.choices, default=ClockRole.OTHER)
    start_event = models.CharField(
        max_length=30, choices=ClockEvent.choices, default=ClockEvent.RECEIVED
    )
    stop_events = models.JSONField(
        default=list, help_text="Events that stop the clock (met if before due)."
    )
    amount = models.PositiveIntegerField()
    unit = models.CharField(max_length=20, choices=ClockUnit.choices)
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Blank: the profile's calendar.",
    )
    warning_amount = models.PositiveIntegerField(
        null=True, blank=True, help_text="Warn this long before due; blank: no warning."
    )
    warning_unit = models.CharField(max_length=20, choices=ClockUnit.choices, blank=True)
    warning_notify = models.CharField(
        max_length=20, choices=WarningNotify.choices, default=WarningNotify.ASSIGNEE_OR_CSRS
    )
    breach_notify = models.CharField(
        max_length=20, choices=BreachNotify.choices, default=BreachNotify.MANAGERS
    )
    breach_escalates = models.BooleanField(default=True)
    breach_message = models.CharField(
        max_length=20, choices=BreachMessage.choices, blank=True, default=BreachMessage.NONE
    )
    # Conditions: blank or "any" means the clock applies whatever the value.
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    channels = models.JSONField(default=list, blank=True)
    complexities = models.JSONField(default=list, blank=True)
    vulnerable = models.CharField(max_length=3, choices=Condition.choices, default=Condition.ANY)
    hardship = models.CharField(max_length=3, choices=Condition.choices, default=Condition.ANY)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["profile", "amount", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "code"], name="clock_definition_code_unique"
            ),
            models.CheckConstraint(
                condition=Q(warning_amount__isnull=True, warning_unit="")
                | Q(warning_amount__isnull=False) & ~Q(warning_unit=""),
                name="clock_definition_warning_whole",
            ),
        ]

    def __str__(self):
        return f"{self.profile.code}: {self.name}"

    def clean(self):
        from complaints.models.complaint import Channel, Complexity

        errors = {}
        for field, allowed in (
            ("stop_events", ClockEvent.values),
            ("channels", Channel.values),
            ("complexities", Complexity.values),
        ):
            values = getattr(self, field)
            if not isinstance(values, list) or not set(values) <= set(allowed):
                errors[field] = f"A list of: {', '.join(allowed)}."
        if isinstance(self.stop_events, list) and not self.stop_events:
            errors["stop_events"] = "Say which events stop the clock."
        if (self.warning_amount is None) != (not self.warning_unit):
            errors["warning_unit"] = "Give both the warning's amount and its unit, or neither."
        if self.role == ClockRole.EARLY_RESOLUTION and self.profile_id is not None:
            # Its verdict is the profile's rule (services/clocks.py resolved_early), so its
            # countdown must run to the same moment.
            days = self.profile.early_resolution_business_days
            if days is None or self.unit != ClockUnit.BUSINESS_DAYS or self.amount != days:
                errors["role"] = (
                    "An early-resolution clock runs the profile's early-resolution business "
                    f"days ({days if days is not None else 'none set'}), in business days."
                )
        if errors:
            raise ValidationError(errors)


STOP_LABELS = {
    **dict(ClockEvent.choices),
    "profile_changed": "Profile changed",
    "conditions_changed": "No longer applies",
}


class ComplaintClock(models.Model):
    """One clock running (or run) on one complaint: a row per start, so a restarted or
    recomputed clock keeps the earlier one on record."""

    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.CASCADE, related_name="clocks"
    )
    # No index of its own: clocks are read by complaint and through the sweeps' and the
    # reports' partial indexes, never by definition alone but when an admin deletes a
    # definition (refused while it has clocks, one scan).
    definition = models.ForeignKey(
        ClockDefinition, on_delete=models.PROTECT, related_name="clocks", db_index=False
    )
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_event = models.CharField(max_length=30, blank=True)
    met = models.BooleanField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # The generic sweep's scans: each holds only the clocks it may still act on, so a
            # sweep costs the clocks due, not the millions run before.
            models.Index(
                fields=["due_at"],
                name="clock_to_breach",
                condition=Q(
                    stopped_at__isnull=True, breached_at__isnull=True, paused_at__isnull=True
                ),
            ),
            models.Index(
                fields=["warn_at"],
                name="clock_to_warn",
                condition=Q(
                    warned_at__isnull=True,
                    stopped_at__isnull=True,
                    breached_at__isnull=True,
                    paused_at__isnull=True,
                    warn_at__isnull=False,
                ),
            ),
            # Compliance per clock (the dashboard, the trend reports): the clocks stopped in a
            # period with a verdict, read from this index alone, whatever the table's size.
            models.Index(
                fields=["stopped_at"],
                name="clock_stopped",
                include=["definition", "started_at", "met"],
                condition=Q(met__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "definition"],
                condition=Q(stopped_at__isnull=True),
                name="one_running_clock_per_definition",
            ),
            models.CheckConstraint(
                condition=Q(stopped_at__isnull=True) | Q(paused_at__isnull=True),
                name="clock_stopped_not_paused",
            ),
        ]

    def __str__(self):
        return f"{self.definition.name} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def stop_label(self):
        return STOP_LABELS.get(self.stop_event, self.stop_event.replace("_", " "))


class ClockPause(models.Model):
    """A pause of a running clock, with who and why (the regulator's rules allow few)."""

    clock = models.ForeignKey(ComplaintClock, on_delete=models.CASCADE, related_name="pauses")
    paused_at = models.DateTimeField()
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200)
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["paused_at", "id"]

    def __str__(self):
        return f"paused {self.paused_at:%Y-%m-%d %H:%M}: {self.reason}"
