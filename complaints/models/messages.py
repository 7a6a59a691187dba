"""Messages to customers and staff, each a row first (the outbox), and what comes back."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from complaints.models.case import Attachment
from complaints.models.complaint import Complaint
from complaints.responses import ResponseType


class MessageKind(models.TextChoices):
    ACKNOWLEDGMENT = "acknowledgment", "Acknowledgment"
    RESOLUTION = "resolution", "Proposed resolution"
    DELAY_NOTICE = "delay_notice", "Delay notice"
    FEEDBACK_REQUEST = "feedback_request", "Feedback request"
    FEEDBACK_REMINDER = "feedback_reminder", "Feedback reminder"
    STAFF_NOTIFICATION = "staff_notification", "Staff notification"
    REPLY = "reply", "Reply from staff"
    WITHDRAWAL_CONFIRMATION = "withdrawal_confirmation", "Withdrawal confirmation"
    MERGE_NOTICE = "merge_notice", "Merge notice"


# What a customer is still sent about a case that has left the procedure.
EXIT_NOTICES = (MessageKind.WITHDRAWAL_CONFIRMATION, MessageKind.MERGE_NOTICE)


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Not needed any more"
    # Sent, then bounced back by the customer's mail server.
    UNDELIVERABLE = "undeliverable", "Could not be delivered"
    # Letters: never claimed by the relay, which sends only what is pending.
    AWAITING_PRINT = "awaiting_print", "Queued for printing"
    POSTED = "posted", "Printed and posted"


class MessageChannel(models.TextChoices):
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"


class OutboundMessage(models.Model):
    """The outbox: every email is a row first, written with the change that causes it, so a
    broker or mail server outage delays a message but never loses or doubles it."""

    kind = models.CharField(max_length=30, choices=MessageKind.choices)
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    to_customer = models.BooleanField(default=True)
    channel = models.CharField(
        max_length=10, choices=MessageChannel.choices, default=MessageChannel.EMAIL
    )
    # An email's address; a letter has its postal address instead.
    recipient = models.EmailField(blank=True)
    postal_address = models.TextField(blank=True)
    # A letter as printed: a PDF among the complaint's documents.
    letter = models.OneToOneField(
        Attachment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # One message per complaint and event: "complaint:42:acknowledgment".
    idempotency_key = models.CharField(max_length=200, unique=True)
    # The Message-ID it goes out with, fixed when it is written: replies and bounces name it
    # in In-Reply-To and References, which is how they find their way back to the complaint.
    message_id = models.CharField(max_length=250, blank=True)
    # The colleague who wrote a reply; None for the messages the system writes.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attachments = models.ManyToManyField(Attachment, blank=True, related_name="+")
    # A reply staff wrote: which response it is (docs/responses.md), and the version of the
    # template it was written from, as the template's history kept it.
    response_type = models.CharField(
        max_length=30, choices=ResponseType.choices, blank=True, default=""
    )
    template_version = models.ForeignKey(
        "complaints.HistoricalResponseTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Who put a letter in the post; its `sent_at` is when they said so.
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The relay reads only what is still to do.
            models.Index(
                fields=["next_attempt_at"],
                name="message_pending_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["message_id"], name="message_by_message_id", condition=~Q(message_id="")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MessageStatus.values), name="message_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[MessageStatus.SENT, MessageStatus.POSTED])
                | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(channel=MessageChannel.EMAIL)
                | Q(
                    channel=MessageChannel.LETTER,
                    letter__isnull=False,
                    status__in=[MessageStatus.AWAITING_PRINT, MessageStatus.POSTED],
                ),
                name="message_letter_is_printed",
            ),
            models.CheckConstraint(
                condition=~Q(status=MessageStatus.POSTED) | Q(posted_by__isnull=False),
                name="message_posted_by_someone",
            ),
            models.CheckConstraint(
                condition=~Q(subject__contains="\n") & ~Q(subject__contains="\r"),
                name="message_subject_one_line",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient or self.postal_address}"

    @property
    def is_letter(self):
        return self.channel == MessageChannel.LETTER
