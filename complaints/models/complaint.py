"""The complaint: the Appendix A record, its stage and clocks, and each stage change."""

import secrets
from datetime import datetime, time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.models import HistoricalRecords

from complaints.models.lists import Category, Product, RootCause
from complaints.outcomes import OUTCOME_CHOICES
from complaints.sub_status import SUB_STATUS_COLUMN_CHOICES, SubStatus
from complaints.workflow import (
    CLOSED_STAGE_VALUES,
    EXIT_STAGE_VALUES,
    EXIT_STAGES,
    OPEN_STAGE_VALUES,
    OPEN_STAGES,
    STAGE_CHOICES,
    Stage,
)

# The longest free text any way in takes (staff pages, the API, the customer's pages): the
# columns are unbounded TEXT, so the forms and serializers hold the line.
LONG_TEXT = 20_000


SHORT_TEXT = 5_000


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"
    SOCIAL_MEDIA = "social_media", "Social media"
    WEB = "web", "Web"
    LETTER = "letter", "Letter"


class Complexity(models.TextChoices):
    SIMPLE = "simple", "Simple"
    STANDARD = "standard", "Standard"
    COMPLEX = "complex", "Complex"


class EscalationLevel(models.TextChoices):
    NONE = "", "Not escalated"
    TEAM = "team", "Resolution team"
    MANAGER = "manager", "Managers"


class Gender(models.TextChoices):
    """As the customer gives it; ASIC's IDR data reporting takes it where given."""

    NOT_GIVEN = "", "Not given"
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Another term"


class AgeBand(models.TextChoices):
    NOT_GIVEN = "", "Not given"
    UNDER_18 = "under_18", "Under 18"
    FROM_18 = "18_24", "18 to 24"
    FROM_25 = "25_34", "25 to 34"
    FROM_35 = "35_44", "35 to 44"
    FROM_45 = "45_54", "45 to 54"
    FROM_55 = "55_64", "55 to 64"
    FROM_65 = "65_74", "65 to 74"
    FROM_75 = "75_plus", "75 or over"


class AcknowledgmentMethod(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter"
    SOCIAL_MEDIA = "social_media", "Social media message"


# The resolution target is met by proposing a resolution: its clock runs until then, and
# again if the case goes back to investigation. The resolution sweep scans these stages.
RESOLUTION_CLOCK_STAGES = (Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.INVESTIGATING)


def next_deadline(
    stage, acknowledgment_due_at, resolution_target_date, final_response_sent_at=None
):
    """The one answer to "what is due next" and so to "is it overdue", for the case page, the
    queues, the list, the workload, the API and the jobs alike: the acknowledgment while
    Received, then the end of the resolution target day until a resolution is proposed or a
    final response is sent; no deadline after that (the customer's answer and feedback run
    on no promise of ours)."""
    if stage == Stage.RECEIVED:
        return acknowledgment_due_at
    if stage in RESOLUTION_CLOCK_STAGES and final_response_sent_at is None:
        end_of_day = datetime.combine(resolution_target_date, time(23, 59))
        return timezone.make_aware(end_of_day)
    return None


# The response clocks' roles (ClockRole) as the countdowns name what is due.
RESPONSE_DUE_LABELS = {
    "final_response": "Final response",
    "holding_response": "Holding response",
    "resolution_target": "Resolution",
}


def is_overdue(next_deadline_at, now):
    return next_deadline_at is not None and next_deadline_at < now


def phone_digits(phone):
    return "".join(ch for ch in phone or "" if ch.isdigit())


def new_customer_token():
    return secrets.token_urlsafe(32)


def customer_languages():
    """settings.LANGUAGES, read when a form or check asks, never at import."""
    return settings.LANGUAGES


DEFAULT_CUSTOMER_LANGUAGE = "en"


class ReferenceCounter(models.Model):
    """One row per year; the reference sequence is taken under a row lock."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class Complaint(models.Model):
    # Unique through Meta.constraints, not unique=True: on PostgreSQL that would add a second,
    # pattern-ops index per field that no lookup uses and every row write pays for.
    reference = models.CharField(max_length=20, editable=False)
    # The secret behind the customer's own link: random, never shown, never derived from an id.
    customer_token = models.CharField(max_length=43, default=new_customer_token, editable=False)
    external_reference = models.CharField(max_length=64, null=True, blank=True)

    # Appendix A.
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField(blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    # Digits only, kept by save(), so "+44 (7700) 900-123" finds "+44 7700 900123".
    customer_phone_digits = models.CharField(max_length=40, blank=True, editable=False)
    customer_region = models.CharField("customer's state or region", max_length=60, blank=True)
    customer_postcode = models.CharField(max_length=12, blank=True)
    # The customer's pages, emails and the templates offered for replies follow it.
    preferred_language = models.CharField(
        max_length=10, choices=customer_languages, default=DEFAULT_CUSTOMER_LANGUAGE
    )
    # Appendix A's "contact information" includes it; the regulators' returns read the
    # postcode, letters need the whole address.
    customer_address = models.TextField("postal address", blank=True)
    represented = models.BooleanField(
        "a representative acts for the customer", default=False, db_default=False
    )
    representative_name = models.CharField(
        max_length=200, blank=True, help_text="A solicitor, a claims firm, a relative..."
    )
    # ASIC's IDR data reporting takes these where the customer gives them; staff-only.
    complainant_gender = models.CharField(
        "gender", max_length=10, choices=Gender.choices, blank=True, default=""
    )
    complainant_age_band = models.CharField(
        "age", max_length=10, choices=AgeBand.choices, blank=True, default=""
    )
    business_unit = models.CharField(
        max_length=200, blank=True, help_text="The company or unit complained about."
    )
    date_of_complaint = models.DateField()
    description = models.TextField("description of complaint")
    interaction_details = models.TextField("details of interaction", blank=True)
    proposed_resolution = models.TextField(blank=True)
    follow_up_actions = models.TextField(blank=True)

    channel = models.CharField(max_length=20, choices=Channel.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="complaints")
    # No index of their own on the foreign keys below: nothing looks complaints up by them
    # alone (the assignee leads the queue indexes), and the clock jobs rewrite thousands of
    # rows at a time, paying for every index.
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        db_index=False,
    )
    transaction_reference = models.CharField(max_length=100, blank=True)
    complexity = models.CharField(
        max_length=10, choices=Complexity.choices, default=Complexity.STANDARD
    )
    root_cause = models.ForeignKey(
        RootCause,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        db_index=False,
    )

    stage = models.CharField(max_length=20, choices=STAGE_CHOICES, default=Stage.RECEIVED)
    # What the case waits for within its stage (complaints/sub_status.py), kept by the
    # services so lists filter and count it on an index.
    sub_status = models.CharField(
        max_length=30, choices=SUB_STATUS_COLUMN_CHOICES, blank=True, default=""
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_complaints",
        db_index=False,
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logged_complaints",
        db_index=False,
    )

    escalation_level = models.CharField(
        max_length=10, choices=EscalationLevel.choices, blank=True, default=EscalationLevel.NONE
    )
    escalation_reason = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    # Kept by complaints/services/flags.py from the case's live CaseFlags: the queues raise
    # flagged cases and the clocks' conditions read them. Staff only.
    vulnerable = models.BooleanField("vulnerable customer", default=False, db_default=False)
    hardship = models.BooleanField("financial hardship", default=False, db_default=False)

    # The regulator's rules its clocks follow (complaints/models/clocks.py), chosen at intake
    # from the product and the customer's country.
    profile = models.ForeignKey(
        "complaints.RegulatoryProfile",
        on_delete=models.PROTECT,
        related_name="complaints",
        db_index=False,
    )
    customer_country = models.CharField(
        "customer's country", max_length=2, blank=True, help_text="ISO code: GB, AU, US..."
    )
    # How the complaint ended for the customer, in its profile's regulator's terms
    # (complaints/outcomes.py); required before Documented, reported in the returns.
    outcome = models.CharField(max_length=40, choices=OUTCOME_CHOICES, blank=True, default="")

    # Clocks: a projection of the complaint's running clock rows (complaint.clocks), stored so
    # queues can sort and index them.
    received_at = models.DateTimeField()
    acknowledgment_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgment_method = models.CharField(
        max_length=20, choices=AcknowledgmentMethod.choices, blank=True
    )
    resolution_target_date = models.DateField()
    # The next promise due, kept by save() so queues can sort on an index: the acknowledgment
    # while Received, then the end of the resolution target day; none once documented.
    next_deadline_at = models.DateTimeField(null=True, blank=True)
    # Marks the clock jobs claim with a conditional update, so each fires once per complaint.
    acknowledgment_warned_at = models.DateTimeField(null=True, blank=True)
    acknowledgment_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_overdue_at = models.DateTimeField(null=True, blank=True)
    feedback_requested_at = models.DateTimeField(null=True, blank=True)
    feedback_reminded_at = models.DateTimeField(null=True, blank=True)
    # The role of the running response clock the target date comes from (its first due):
    # the queues and the case page say "final response due", "holding response due".
    response_due_role = models.CharField(max_length=20, blank=True, default="")
    # When the response that answers the complaint (a final response, a summary resolution
    # communication, the CFPB company response) went out; cleared on a reopening.
    final_response_sent_at = models.DateTimeField(null=True, blank=True)
    # Resolved within the profile's early-resolution window (DISP 1.5, RG 271): the lighter
    # communication applies. Set at the resolution, cleared on a reopening.
    early_resolution_at = models.DateTimeField(null=True, blank=True)

    # When each stage was last entered (StageChange keeps every entry).
    investigation_started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    follow_up_started_at = models.DateTimeField(null=True, blank=True)
    documented_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    feedback_waived_reason = models.CharField(max_length=200, blank=True)
    # The exits: the customer's words on withdrawing, or why it is not a complaint (and, for
    # a duplicate, any note on the merge); the day the customer withdrew; the case a
    # duplicate was merged into, which holds its messages, notes and documents now.
    exit_reason = models.TextField(blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        db_index=False,
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # History is read one complaint at a time (by id); indexes on its foreign keys would only
    # slow every write of a complaint.
    history = HistoricalRecords(
        excluded_fields=["customer_token"],
        no_db_index=[
            "assignee",
            "category",
            "duplicate_of",
            "escalated_by",
            "logged_by",
            "product",
            "profile",
            "root_cause",
        ],
    )

    class Meta:
        ordering = ["acknowledgment_due_at"]
        # Every index here is rewritten for each complaint the clock sweep marks (a thousand a
        # statement) and each one logged: one no query reads costs every write and saves
        # none (docs/performance.md, 2026-12-06).
        indexes = [
            # What the health and metrics probes count, and the follow-up job's scan: each
            # index holds only the complaints still waiting, whatever the size of the table.
            models.Index(
                fields=["acknowledgment_due_at"],
                name="complaint_ack_unbreached",
                condition=Q(stage="received", acknowledgment_breached_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_target_date"],
                name="complaint_target_overdue",
                condition=Q(
                    stage__in=["received", "acknowledged", "investigating"],
                    resolution_overdue_at__isnull=False,
                ),
            ),
            models.Index(
                fields=["follow_up_started_at"],
                name="complaint_in_follow_up",
                condition=Q(stage="follow_up"),
            ),
            # Work queues: open complaints by person (or unassigned) in deadline order.
            models.Index(
                fields=["assignee", "next_deadline_at"],
                name="complaint_queue",
                condition=Q(stage__in=OPEN_STAGE_VALUES),
            ),
            models.Index(
                fields=["escalation_level", "next_deadline_at"],
                name="complaint_escalated_queue",
                condition=Q(stage__in=OPEN_STAGE_VALUES) & ~Q(escalation_level=""),
            ),
            # The dashboard's open complaints by stage, counted from the index alone.
            models.Index(
                fields=["stage"],
                name="complaint_open_stage",
                condition=Q(stage__in=OPEN_STAGE_VALUES),
            ),
            # The list's order, deadline first (closed complaints, which have none, last by
            # id): a page of any search or filter is read from here in that order and stops
            # at 26 rows, instead of sorting every match (docs/performance.md).
            models.Index(fields=["next_deadline_at", "id"], name="complaint_deadline_order"),
            models.Index(Upper("customer_email"), name="complaint_email_upper"),
            models.Index(fields=["assignee", "stage"], name="complaint_assignee_stage"),
            # The intake queue: unassigned open complaints in deadline order.
            models.Index(
                fields=["next_deadline_at", "id"],
                name="complaint_intake_queue",
                condition=Q(stage__in=OPEN_STAGE_VALUES, assignee__isnull=True),
            ),
            # Flagged cases lead every queue: the few open ones with a vulnerable customer or
            # hardship, in deadline order, and the documented ones for the sign-off queue,
            # read without walking the queue's own index.
            models.Index(
                fields=["next_deadline_at", "id"],
                name="complaint_flagged_queue",
                condition=Q(stage__in=[*OPEN_STAGE_VALUES, Stage.DOCUMENTED])
                & (Q(vulnerable=True) | Q(hardship=True)),
            ),
            # The managers' sign-off queue and its count: without it, finding the few
            # documented cases among a million closed ones is a scan of the table.
            models.Index(
                fields=["documented_at", "id"],
                name="complaint_awaiting_sign_off",
                condition=Q(stage="documented"),
            ),
            # Only open cases waiting on something have a sub-status: its filter and counts
            # read a small index, whatever the size of the table.
            models.Index(
                fields=["sub_status", "next_deadline_at"],
                name="complaint_sub_status",
                condition=~Q(sub_status=""),
            ),
            # Covering, so the dashboard's 30-day and 12-week figures read the index alone.
            # With the id, it is also the list's "newest first" order.
            models.Index(
                fields=["received_at", "id"],
                name="complaint_received_order",
                include=["acknowledged_at", "acknowledgment_due_at", "category"],
            ),
            # Resolved complaints only: every query of it asks for a resolution from a date,
            # and the open complaints, which the sweeps and people rewrite, stay out of it.
            models.Index(
                fields=["resolved_at"],
                name="complaint_resolved",
                include=["received_at"],
                condition=Q(resolved_at__isnull=False),
            ),
            # The dashboard's recent exits, and a survivor's duplicates on its page: both are
            # a few rows among a million, found without a scan.
            models.Index(
                fields=["closed_at"],
                name="complaint_exited",
                include=["stage"],
                condition=Q(stage__in=EXIT_STAGE_VALUES),
            ),
            models.Index(
                fields=["duplicate_of"],
                name="complaint_duplicate_of",
                condition=Q(duplicate_of__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="complaint_reference_unique"),
            models.UniqueConstraint(fields=["customer_token"], name="complaint_token_unique"),
            models.UniqueConstraint(
                fields=["external_reference"], name="complaint_external_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=[s.value for s in Stage]), name="complaint_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="complaint_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(sub_status__in=[s.value for s in SubStatus]),
                name="complaint_sub_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(complexity__in=Complexity.values), name="complaint_complexity_valid"
            ),
            models.CheckConstraint(
                condition=Q(acknowledgment_due_at__gt=models.F("received_at")),
                name="complaint_ack_due_after_received",
            ),
            # Past the first stage the customer has been acknowledged, and we know how; a
            # case may exit before that (withdrawn the hour it came in).
            models.CheckConstraint(
                condition=Q(stage__in=[Stage.RECEIVED, *EXIT_STAGE_VALUES])
                | (Q(acknowledged_at__isnull=False) & ~Q(acknowledgment_method="")),
                name="complaint_acknowledged_after_received",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | ~Q(acknowledgment_method=""),
                name="complaint_ack_method_with_time",
            ),
            # A closed (reviewed or exited) complaint has closed_at, any other does not.
            models.CheckConstraint(
                condition=(Q(stage__in=CLOSED_STAGE_VALUES) & Q(closed_at__isnull=False))
                | (~Q(stage__in=CLOSED_STAGE_VALUES) & Q(closed_at__isnull=True)),
                name="complaint_closed_iff_closed_stage",
            ),
            # Each exit keeps its own record.
            models.CheckConstraint(
                condition=~Q(stage=Stage.WITHDRAWN)
                | (Q(withdrawn_on__isnull=False) & ~Q(exit_reason="")),
                name="complaint_withdrawal_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(stage=Stage.DUPLICATE) | Q(duplicate_of__isnull=False),
                name="complaint_duplicate_has_survivor",
            ),
            models.CheckConstraint(
                condition=~Q(duplicate_of=models.F("pk")), name="complaint_not_own_duplicate"
            ),
            models.CheckConstraint(
                condition=~Q(stage=Stage.NOT_A_COMPLAINT) | ~Q(exit_reason=""),
                name="complaint_not_a_complaint_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(escalation_level="") & Q(escalated_at__isnull=True))
                | (~Q(escalation_level="") & Q(escalated_at__isnull=False)),
                name="complaint_escalation_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(customer_name=""), name="complaint_customer_name_present"
            ),
            models.CheckConstraint(
                condition=Q(represented=True) | Q(representative_name=""),
                name="complaint_representative_only_if_represented",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.customer_name}"

    def save(self, *args, **kwargs):
        self.next_deadline_at = next_deadline(
            self.stage,
            self.acknowledgment_due_at,
            self.resolution_target_date,
            self.final_response_sent_at,
        )
        self.customer_phone_digits = phone_digits(self.customer_phone)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "next_deadline_at",
                "customer_phone_digits",
            }
        super().save(*args, **kwargs)

    @property
    def acknowledged_late_by(self):
        """How late the acknowledgment was, kept on record after a breach."""
        if self.acknowledged_at and self.acknowledged_at > self.acknowledgment_due_at:
            return self.acknowledged_at - self.acknowledgment_due_at
        return None

    @property
    def stage_label(self):
        return Stage(self.stage).label

    @property
    def sub_status_label(self):
        return SubStatus(self.sub_status).label

    def has_feedback_this_round(self):
        """Feedback given since this follow-up round began: a reopened case asks again. From
        the feedback prefetched with the complaint (its page), else its few rows read."""
        return any(
            feedback.submitted_at >= self.follow_up_started_at for feedback in self.feedback.all()
        )

    @property
    def is_open(self):
        return self.stage in OPEN_STAGES

    @property
    def has_exited(self):
        return self.stage in EXIT_STAGES

    @property
    def is_escalated(self):
        return bool(self.escalation_level)

    @property
    def resolution_clock_running(self):
        return self.stage in RESOLUTION_CLOCK_STAGES and self.final_response_sent_at is None

    @property
    def response_due_label(self):
        """What the running response clock waits for, as the case page and queues say it."""
        return RESPONSE_DUE_LABELS.get(self.response_due_role, "Resolution")

    def is_overdue(self, now):
        return is_overdue(self.next_deadline_at, now)


class StageChange(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=STAGE_CHOICES, blank=True)
    to_stage = models.CharField(max_length=20, choices=STAGE_CHOICES)
    # Null for the system (clocks, the customer's link); the note says which.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"], name="stagechange_complaint_at")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_stage=models.F("to_stage")), name="stagechange_moves"
            )
        ]

    def __str__(self):
        return f"{self.from_stage or 'new'} → {self.to_stage}"
