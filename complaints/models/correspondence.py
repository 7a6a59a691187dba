"""Correspondence with the customer beyond the fixed emails: the response templates staff
start a reply from, and the emails that come in."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from complaints.models.complaint import DEFAULT_CUSTOMER_LANGUAGE, Complaint, customer_languages
from complaints.models.lists import ManagedList
from complaints.models.messages import OutboundMessage
from complaints.placeholders import PLACEHOLDERS, unknown_placeholders


class ResponseTemplate(ManagedList):
    """A reply staff start from: filled in with the complaint's details, then edited freely."""

    # Written in one language: the compose form offers first those in the complaint's.
    language = models.CharField(
        max_length=10, choices=customer_languages, default=DEFAULT_CUSTOMER_LANGUAGE
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Placeholders: "
        + ", ".join(f"{{{{ {name} }}}} ({text})" for name, text in PLACEHOLDERS.items())
    )

    class Meta(ManagedList.Meta):
        constraints = [
            models.UniqueConstraint(fields=["name"], name="response_template_name_unique")
        ]

    def clean(self):
        unknown = unknown_placeholders(self.subject) + unknown_placeholders(self.body)
        if unknown:
            names = ", ".join(dict.fromkeys(unknown))
            raise ValidationError(
                f"Unknown placeholder: {names}. Use one of: {', '.join(PLACEHOLDERS)}."
            )


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
