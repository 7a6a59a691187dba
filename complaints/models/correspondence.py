"""Correspondence with the customer beyond the fixed emails: the response templates staff
start a reply from, and the emails that come in."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from complaints.models.case import attachment_storage_name
from complaints.models.clocks import RegulatoryProfile
from complaints.models.complaint import DEFAULT_CUSTOMER_LANGUAGE, Complaint, customer_languages
from complaints.models.lists import ManagedList
from complaints.models.messages import OutboundMessage
from complaints.placeholders import PLACEHOLDERS, unknown_placeholders
from complaints.responses import Check, Fact, ResponseType, requirements


class ResponseTemplate(ManagedList):
    """A reply staff start from: filled in with the complaint's details, then edited freely.

    A template of a regulated response type (anything but a plain reply) is the firm's
    approved wording: a change to it waits for a manager other than its author to approve
    it (services/responses.py), and meanwhile it cannot be sent from."""

    # Written in one language: the compose form offers first those in the complaint's.
    language = models.CharField(
        max_length=10, choices=customer_languages, default=DEFAULT_CUSTOMER_LANGUAGE
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Placeholders: "
        + ", ".join(f"{{{{ {name} }}}} ({text})" for name, text in PLACEHOLDERS.items())
    )
    response_type = models.CharField(
        max_length=30, choices=ResponseType.choices, default=ResponseType.REPLY
    )
    profile = models.ForeignKey(
        RegulatoryProfile,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="response_templates",
        help_text="Blank: offered under every profile.",
    )
    # The wording's approval: who last changed a regulated template's wording, and who,
    # another manager, approved it.
    awaiting_approval = models.BooleanField(default=False)
    wording_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wording_changed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta(ManagedList.Meta):
        constraints = [
            models.UniqueConstraint(fields=["name"], name="response_template_name_unique"),
            models.CheckConstraint(
                condition=Q(response_type__in=ResponseType.values),
                name="response_template_type_valid",
            ),
            # Two people: whoever changed the wording does not approve it.
            models.CheckConstraint(
                condition=~Q(approved_by=F("wording_changed_by")),
                name="response_template_approver_not_author",
            ),
            models.CheckConstraint(
                condition=Q(awaiting_approval=False) | Q(approved_by__isnull=True),
                name="response_template_awaiting_not_approved",
            ),
        ]

    @property
    def is_regulated(self):
        return self.response_type != ResponseType.REPLY

    def clean(self):
        unknown = unknown_placeholders(self.subject) + unknown_placeholders(self.body)
        if unknown:
            names = ", ".join(dict.fromkeys(unknown))
            raise ValidationError(
                f"Unknown placeholder: {names}. Use one of: {', '.join(PLACEHOLDERS)}."
            )


class RequiredElement(models.Model):
    """Something a response of one type must carry under one profile, and how it is checked
    (complaints/responses/__init__.py): wording in the text, an enclosure, or a fact on the
    case. A refusal names each missing element by its label and source."""

    profile = models.ForeignKey(
        RegulatoryProfile, on_delete=models.CASCADE, related_name="required_elements"
    )
    response_type = models.CharField(max_length=30, choices=ResponseType.choices)
    code = models.SlugField(max_length=40)
    label = models.CharField(
        max_length=200,
        help_text='What a refusal names, e.g. "the Financial Ombudsman '
        "Service's name and contact details\".",
    )
    source = models.CharField(max_length=200, help_text="The rule it comes from.")
    kind = models.CharField("checked by", max_length=10, choices=Check.choices)
    patterns = models.TextField(
        blank=True,
        help_text="For wording: one requirement per line, all needed; alternatives on a line "
        "separated by | (one is enough). Case and spacing do not matter.",
    )
    enclosure = models.SlugField(
        max_length=40, blank=True, help_text="For an enclosure: the code of the profile's document."
    )
    fact = models.CharField(max_length=20, choices=Fact.choices, blank=True)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["profile", "response_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "response_type", "code"], name="required_element_code_unique"
            ),
            models.CheckConstraint(
                condition=~Q(response_type=ResponseType.REPLY),
                name="required_element_not_on_a_reply",
            ),
            models.CheckConstraint(
                condition=Q(kind=Check.TEXT, enclosure="", fact="") & ~Q(patterns="")
                | Q(kind=Check.ENCLOSURE, fact="", patterns="") & ~Q(enclosure="")
                | Q(kind=Check.FACT, enclosure="", patterns="") & ~Q(fact=""),
                name="required_element_checked_one_way",
            ),
        ]

    def __str__(self):
        return f"{self.profile.code} {self.response_type}: {self.label}"

    def clean(self):
        if self.kind == Check.TEXT and not requirements(self.patterns):
            raise ValidationError({"patterns": "Give the wording the text must contain."})
        if self.kind == Check.ENCLOSURE and not self.enclosure:
            raise ValidationError({"enclosure": "Name the document (its code)."})
        if self.kind == Check.FACT and not self.fact:
            raise ValidationError({"fact": "Choose the fact."})
        for field, used in (
            ("patterns", self.kind == Check.TEXT),
            ("enclosure", self.kind == Check.ENCLOSURE),
            ("fact", self.kind == Check.FACT),
        ):
            if not used:
                setattr(self, field, "")


class ResponseEnclosure(models.Model):
    """A document the firm sends with a profile's responses (the ombudsman's leaflet): a
    manager uploads it in the admin; each response that requires it carries a copy among the
    complaint's documents, so the case keeps what was sent."""

    profile = models.ForeignKey(
        RegulatoryProfile, on_delete=models.CASCADE, related_name="enclosures"
    )
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=200)
    # Generated, so no uploaded name reaches the file system; checked like any upload.
    stored_name = models.CharField(max_length=64, unique=True, default=attachment_storage_name)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["profile", "code"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "code"], name="response_enclosure_code")
        ]

    def __str__(self):
        return f"{self.profile.code}: {self.name}"

    @property
    def path(self):
        return Path(settings.ATTACHMENT_ROOT) / "enclosures" / self.stored_name


class InboundStatus(models.TextChoices):
    THREADED = "threaded", "On its complaint"
    NEW_COMPLAINT = "new_complaint", "Logged as a new complaint"
    AWAITING_STAFF = "awaiting_staff", "Waiting for staff to attach it"
    DISMISSED = "dismissed", "Dismissed by staff"
    AUTOMATIC = "automatic", "Automatic reply, not acted on"
    BOUNCE = "bounce", "Bounce of one of our emails"


class MatchedBy(models.TextChoices):
    NONE = "", "Not matched"
    HEADERS = "headers", "A reply to one of our emails"
    REPLY_ADDRESS = "reply_address", "The complaint's reply address"
    SUBJECT = "subject", "The reference in the subject"
    STAFF = "staff", "Attached by staff"
    LINK = "link", "Written on the customer's link"
    NEW = "new", "A new complaint"


class InboundMessage(models.Model):
    """An email that reached one of our mailboxes, stored once however often it is fetched."""

    # Where it came from: a configured IMAP mailbox's name, "drop" (the drop folder) or "file".
    mailbox = models.CharField(max_length=60)
    # As the sender's server wrote it, or a digest of the message when it had none.
    message_id = models.CharField(max_length=250)
    complaint = models.ForeignKey(
        Complaint,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inbound_messages",
    )
    status = models.CharField(max_length=20, choices=InboundStatus.choices)
    matched_by = models.CharField(max_length=20, choices=MatchedBy.choices, blank=True)
    sender = models.EmailField(blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    # As received: sanitised (nh3) every time it is shown, never trusted as stored.
    body_html = models.TextField(blank=True)
    # What came with it and what became of each: [{"name", "stored", "reason"}].
    attachment_notes = models.JSONField(default=list, blank=True)
    # The message as received, kept under ATTACHMENT_ROOT/email/ for the record.
    raw_name = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    written_at = models.DateTimeField(null=True, blank=True)  # its Date header
    received_at = models.DateTimeField()
    bounced_message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            # The staff's list of messages waiting to be attached.
            models.Index(
                fields=["received_at"],
                name="inbound_awaiting_staff",
                condition=Q(status="awaiting_staff"),
            )
        ]
        constraints = [
            # A mailbox fetched twice (a worker killed after storing, before moving the
            # message on the server) stores the message once.
            models.UniqueConstraint(
                fields=["message_id", "mailbox"], name="inbound_message_once_per_mailbox"
            ),
            models.CheckConstraint(
                condition=Q(status__in=InboundStatus.values), name="inbound_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["threaded", "new_complaint"]) | Q(complaint__isnull=False),
                name="inbound_threaded_has_complaint",
            ),
        ]

    def __str__(self):
        return f"{self.sender}: {self.subject}"


class MailboxState(models.Model):
    """Where the job has got to in one IMAP mailbox, and who is reading it now.

    The claim is a conditional update like the outbox's: two workers never read one mailbox
    at once, so never take the same message; a worker that died holding it loses it when
    `claimed_until` passes.
    """

    name = models.CharField(max_length=60, unique=True)
    uid_validity = models.BigIntegerField(default=0)
    # The highest UID stored and then moved or flagged on the server.
    last_uid = models.BigIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return self.name
