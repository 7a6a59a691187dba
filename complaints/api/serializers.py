"""What the API accepts and answers. Input serializers only validate; the services write."""

from functools import cached_property
from operator import attrgetter

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.roles import workflow_role
from complaints.input_limits import ID_MESSAGE, id_from, validate_day
from complaints.letters import ADDRESS_MAX_LENGTH
from complaints.models import (
    DEFAULT_CUSTOMER_LANGUAGE,
    LONG_TEXT,
    SHORT_TEXT,
    AcknowledgmentMethod,
    AgeBand,
    Attachment,
    CaseFlag,
    Category,
    Channel,
    Complaint,
    ComplaintClock,
    Complexity,
    FlagKind,
    Gender,
    MessageChannel,
    Note,
    Product,
    ResolutionType,
    ResponseTemplate,
    customer_languages,
)
from complaints.outcomes import OUTCOME_CHOICES
from complaints.permissions import Action, can_act
from complaints.responses import ResponseType
from complaints.selectors import ESCALATION_TARGETS, complaint_timeline, regulatory_catalogue
from complaints.services.flags import REASON_LIMIT as FLAG_REASON_LIMIT
from complaints.workflow import STAGE_CHOICES, transitions_from

# The actions a caller may be offered on a complaint, as `can_act` names them.
OFFERED_ACTIONS = (
    Action.NOTE,
    Action.ATTACH,
    Action.ACKNOWLEDGE,
    Action.TRANSITION,
    Action.TAKE,
    Action.ASSIGN,
    Action.ESCALATE,
    Action.PROPOSE_RESOLUTION,
    Action.EXIT,
)


def one_line(value):
    # Names and handles end up in email headers and single-line displays.
    if "\r" in value or "\n" in value:
        raise serializers.ValidationError("This field cannot contain line breaks.")


class Line(serializers.CharField):
    """One line of text. (DRF's CharField already refuses NUL and lone surrogates.)"""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(one_line)


class Id(serializers.PrimaryKeyRelatedField):
    """A record by id, checked to be one before the lookup: JSON's 1e400 arrives as infinity,
    which the database lookup cannot take."""

    def to_internal_value(self, data):
        if id_from(data) is None:
            raise serializers.ValidationError(ID_MESSAGE)
        return super().to_internal_value(data)


class ListEntryId(Id):
    """An active category or product by id, found in the regulatory catalogue rather than
    read: `entries` picks {id: entry} from the serializer's `catalogue`
    (complaints/selectors/regulatory.py). The queryset says the same for the schema and the
    browsable API."""

    def __init__(self, entries, **kwargs):
        self.entries = entries
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        pk = id_from(data)
        if pk is None:
            raise serializers.ValidationError(ID_MESSAGE)
        entry = self.entries(self.parent.catalogue).get(pk)
        if entry is None:
            self.fail("does_not_exist", pk_value=data)
        return entry


# Output ---------------------------------------------------------------------------------


class UserRef(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class NamedRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ComplaintSummary(serializers.ModelSerializer):
    category = NamedRef()
    assignee = UserRef(allow_null=True)
    stage_label = serializers.CharField()
    sub_status_label = serializers.CharField(
        help_text="What an open complaint waits for within its stage, in words; empty if nothing."
    )
    overdue = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "reference",
            "url",
            "stage",
            "stage_label",
            "sub_status",
            "sub_status_label",
            "channel",
            "customer_name",
            "category",
            "assignee",
            "escalation_level",
            "vulnerable",
            "hardship",
            "received_at",
            "acknowledgment_due_at",
            "acknowledged_at",
            "resolution_target_date",
            "next_deadline_at",
            "overdue",
            "outcome",
        ]
        read_only_fields = fields

    def get_overdue(self, complaint) -> bool:
        return complaint.is_overdue(timezone.now())

    def get_url(self, complaint) -> str:
        path = reverse("api:complaint", args=[complaint.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class FieldChange(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class TimelineEntry(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(
        choices=["stage", "fields", "note", "customer", "consultation", "resolution"]
        + ["attachment", "message", "exit", "flag"]
    )
    title = serializers.CharField()
    actor = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    changes = serializers.SerializerMethodField()

    @extend_schema_field(FieldChange(many=True))
    def get_changes(self, entry):
        return [{"field": str(f), "old": str(o), "new": str(n)} for f, o, n in entry.changes]


class AttachmentOut(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")

    class Meta:
        model = Attachment
        fields = ["id", "name", "kind", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


class NoteOut(serializers.ModelSerializer):
    author = UserRef(allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "text", "author", "from_customer", "created_at"]
        read_only_fields = fields


class FlagOut(serializers.ModelSerializer):
    set_by = UserRef(allow_null=True, help_text="Null: the customer asked for extra support.")
    cleared_by = UserRef(allow_null=True)

    class Meta:
        model = CaseFlag
        fields = ["kind", "reason", "set_by", "set_at", "cleared_by", "cleared_at", "clear_reason"]


class ClockOut(serializers.ModelSerializer):
    """One of the complaint's clocks under its regulatory profile (docs/clocks.md)."""

    code = serializers.CharField(source="definition.code")
    name = serializers.CharField(source="definition.name")
    role = serializers.CharField(source="definition.role")
    met = serializers.BooleanField(
        allow_null=True, help_text="Stopped before due (true) or after (false); null while running."
    )

    class Meta:
        model = ComplaintClock
        fields = [
            "code",
            "name",
            "role",
            "started_at",
            "due_at",
            "warned_at",
            "breached_at",
            "paused_at",
            "stopped_at",
            "stop_event",
            "met",
        ]
        read_only_fields = fields


class ComplaintDetail(ComplaintSummary):
    profile = serializers.CharField(
        source="profile.code", help_text="The regulatory profile whose clocks the case runs."
    )
    clocks = ClockOut(many=True)
    early_resolution = serializers.SerializerMethodField()
    acknowledgment_method = serializers.ChoiceField(
        choices=AcknowledgmentMethod.choices,
        allow_blank=True,
        help_text="Blank until acknowledged.",
    )
    customer_email = serializers.CharField(allow_blank=True, help_text="Blank when not given.")
    product = NamedRef(allow_null=True)
    root_cause = NamedRef(allow_null=True)
    logged_by = UserRef(allow_null=True)
    duplicate_of = serializers.CharField(
        source="duplicate_of.reference",
        allow_null=True,
        help_text="For a duplicate: the reference of the complaint it was merged into.",
    )
    exit_reason = serializers.CharField(
        allow_blank=True,
        help_text="Withdrawn: the customer's words. Not a complaint: why. Duplicate: a note.",
    )
    allowed_actions = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    attachments = AttachmentOut(many=True)
    flags = FlagOut(many=True, help_text="Every flag the case had, live and cleared (staff only).")
    timeline = serializers.SerializerMethodField()

    class Meta(ComplaintSummary.Meta):
        fields = [
            *ComplaintSummary.Meta.fields,
            "customer_email",
            "customer_phone",
            "preferred_language",
            "customer_address",
            "represented",
            "representative_name",
            "complainant_gender",
            "complainant_age_band",
            "date_of_complaint",
            "description",
            "interaction_details",
            "product",
            "transaction_reference",
            "complexity",
            "root_cause",
            "proposed_resolution",
            "follow_up_actions",
            "logged_by",
            "escalation_reason",
            "escalated_at",
            "acknowledgment_method",
            "closed_at",
            "withdrawn_on",
            "duplicate_of",
            "exit_reason",
            "reopen_count",
            "customer_country",
            "profile",
            "clocks",
            "early_resolution",
            "early_resolution_at",
            "final_response_sent_at",
            "created_at",
            "updated_at",
            "allowed_actions",
            "allowed_transitions",
            "attachments",
            "flags",
            "timeline",
        ]
        read_only_fields = fields

    def _user(self):
        return self.context["request"].user

    def get_early_resolution(self, complaint) -> bool:
        """Resolved within the profile's early-resolution window (DISP 1.5, RG 271): the
        lighter communication applies."""
        return complaint.early_resolution_at is not None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(OFFERED_ACTIONS)))
    def get_allowed_actions(self, complaint):
        """What the caller's role and the complaint's stage allow (gates may still refuse)."""
        user = self._user()
        return [action for action in OFFERED_ACTIONS if can_act(user, complaint, action)]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(STAGE_CHOICES)))
    def get_allowed_transitions(self, complaint):
        """Stages the caller's role may move this complaint to (the gates may still say no)."""
        user = self._user()
        if not can_act(user, complaint, Action.TRANSITION):
            return []
        return [t.target.value for t in transitions_from(complaint.stage, workflow_role(user))]

    @extend_schema_field(TimelineEntry(many=True))
    def get_timeline(self, complaint):
        return TimelineEntry(complaint_timeline(complaint), many=True).data


class MessageOut(serializers.Serializer):
    """One message of the conversation with the customer, whichever way it went."""

    id = serializers.IntegerField(help_text="Unique within its direction.")
    direction = serializers.ChoiceField(choices=["outbound", "inbound"])
    channel = serializers.ChoiceField(choices=MessageChannel.choices)
    at = serializers.DateTimeField(
        help_text="When it was sent or posted (or written, if not yet), or received."
    )
    subject = serializers.CharField(allow_blank=True)
    body_text = serializers.CharField(
        allow_blank=True,
        help_text="The text; in ours, the customer's own link is replaced by a placeholder.",
    )
    body_html = serializers.CharField(
        allow_blank=True,
        help_text="An inbound email's HTML, sanitised (no scripts, styles, images or event "
        "handlers); blank for ours.",
    )
    sender = serializers.CharField(allow_blank=True)
    recipient = serializers.CharField(
        allow_blank=True, help_text="An email address, or a letter's postal address."
    )
    status = serializers.CharField(
        help_text="Ours: pending, sending, sent, cancelled, undeliverable, awaiting_print, "
        "posted. Theirs: threaded, new_complaint, awaiting_staff, dismissed, automatic, bounce."
    )
    status_text = serializers.CharField(help_text="Where it is, in a sentence.")
    sent_by = UserRef(allow_null=True, help_text="Who wrote it; null for the system's and theirs.")
    posted_by = UserRef(allow_null=True, help_text="Who put a letter in the post.")
    document = serializers.IntegerField(
        source="document_id", allow_null=True, help_text="A letter's PDF: an attachment id."
    )
    response_type = serializers.CharField(
        allow_blank=True,
        help_text="Ours, written by staff: reply, acknowledgment, holding_response, "
        "final_response, summary_resolution, delay_notice or cfpb_company_response; blank "
        "for the system's emails and theirs.",
    )
    template_version = serializers.IntegerField(
        source="template_version_id",
        allow_null=True,
        help_text="The version (history id) of the response template it was written from.",
    )


class ErrorItem(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The input at fault, or null for the request as a whole."
    )
    message = serializers.CharField()


class ErrorResponse(serializers.Serializer):
    errors = ErrorItem(many=True)


# Input ----------------------------------------------------------------------------------


COUNTRY_CODE = r"^[A-Za-z]{2}$"


class ComplaintCreate(serializers.Serializer):
    """Appendix A of the procedure, as the web intake form takes it, from any channel."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    customer_name = Line(max_length=200)
    customer_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    customer_phone = Line(required=False, allow_blank=True, max_length=40)
    preferred_language = serializers.ChoiceField(
        choices=[],  # settings.LANGUAGES, set in __init__: never read at import
        required=False,
        default=DEFAULT_CUSTOMER_LANGUAGE,
        help_text="The language of the customer's emails and pages.",
    )
    customer_address = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="The postal address."
    )
    represented = serializers.BooleanField(
        required=False, default=False, help_text="A representative acts for the customer."
    )
    representative_name = Line(required=False, allow_blank=True, max_length=200)
    complainant_gender = serializers.ChoiceField(
        choices=Gender.choices, required=False, help_text="Only where the customer gives it."
    )
    complainant_age_band = serializers.ChoiceField(
        choices=AgeBand.choices, required=False, help_text="Only where the customer gives it."
    )
    date_of_complaint = serializers.DateField(
        help_text="When the customer complained.", validators=[validate_day]
    )
    category = ListEntryId(attrgetter("categories"), queryset=Category.objects.filter(active=True))
    product = ListEntryId(
        attrgetter("products"),
        queryset=Product.objects.filter(active=True),
        required=False,
        allow_null=True,
    )
    customer_country = serializers.RegexField(
        COUNTRY_CODE,
        required=False,
        allow_blank=True,
        help_text="ISO code (GB, AU, US): with the product it chooses the regulatory profile. "
        "Blank: the firm's country.",
    )
    transaction_reference = Line(required=False, allow_blank=True, max_length=100)
    complexity = serializers.ChoiceField(
        choices=Complexity.choices, required=False, default=Complexity.STANDARD
    )
    description = serializers.CharField(max_length=LONG_TEXT)
    interaction_details = serializers.CharField(
        required=False, allow_blank=True, max_length=SHORT_TEXT
    )
    social_media_handle = Line(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Social media complaints: the customer's handle, e.g. @priya.",
    )
    social_media_post_url = serializers.URLField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Social media complaints: the link to the post.",
    )

    vulnerable_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=FLAG_REASON_LIMIT,
        help_text="Flags a vulnerable customer, saying why (staff only; blank: no flag).",
    )
    hardship_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=FLAG_REASON_LIMIT,
        help_text="Flags financial hardship, saying why (staff only; blank: no flag).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_language"].choices = customer_languages()

    @cached_property
    def catalogue(self):
        """Read once: the service starts the clocks from the version the choices came from."""
        return regulatory_catalogue()

    def validate_date_of_complaint(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError("The date of the complaint cannot be in the future.")
        return value

    def flags(self):
        """{kind: reason} of the flags given, for services.complaint_create."""
        return {
            kind: reason
            for kind in FlagKind.values
            if (reason := self.validated_data.get(f"{kind}_reason", "").strip())
        }

    def validate_customer_country(self, value):
        return value.upper()

    def validate(self, attrs):
        errors = {}
        channel = attrs["channel"]
        email, phone = attrs.get("customer_email"), attrs.get("customer_phone")
        handle = attrs.get("social_media_handle")
        if channel != Channel.SOCIAL_MEDIA:
            for name in ("social_media_handle", "social_media_post_url"):
                if attrs.get(name):
                    errors[name] = "Only a social media complaint has a handle or a post link."
        if attrs.get("representative_name") and not attrs.get("represented"):
            errors["represented"] = "Set it to true when a representative acts for the customer."
        if channel == Channel.EMAIL and not email:
            errors["customer_email"] = "An email complaint needs the customer's address."
        if channel == Channel.PHONE and not phone:
            errors["customer_phone"] = "A phone complaint needs a number to call back."
        if errors:
            raise serializers.ValidationError(errors)
        if not email and not phone and not (channel == Channel.SOCIAL_MEDIA and handle):
            raise serializers.ValidationError(
                "Give an email address or a phone number for the customer"
                + (" (or their social media handle)." if channel == Channel.SOCIAL_MEDIA else ".")
            )
        return attrs

    def service_data(self):
        """The `data` that services.complaint_create takes."""
        data = dict(self.validated_data)
        for kind in FlagKind.values:
            data.pop(f"{kind}_reason", None)
        social = []
        if handle := data.pop("social_media_handle", ""):
            social.append(f"Social media handle: {handle}")
        if post := data.pop("social_media_post_url", ""):
            social.append(f"post: {post}")
        details = data.get("interaction_details", "")
        if social:
            details = "\n".join(part for part in (details, "; ".join(social)) if part)
        data.update(
            interaction_details=details,
            customer_email=data.get("customer_email", ""),
            customer_phone=data.get("customer_phone", ""),
            transaction_reference=data.get("transaction_reference", ""),
            customer_country=data.get("customer_country", ""),
            product=data.get("product"),
        )
        return data


class StageInput(serializers.Serializer):
    expected_stage = serializers.ChoiceField(
        choices=STAGE_CHOICES,
        required=False,
        help_text="The stage the caller believes the complaint is in; if someone moved it "
        "meanwhile, nothing is changed and 409 says so.",
    )


class TransitionInput(StageInput):
    to = serializers.ChoiceField(choices=STAGE_CHOICES)
    note = serializers.CharField(required=False, allow_blank=True, max_length=SHORT_TEXT)


class AcknowledgeInput(StageInput):
    method = serializers.ChoiceField(choices=AcknowledgmentMethod.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=SHORT_TEXT)


class WithdrawInput(StageInput):
    customer_words = serializers.CharField(
        max_length=SHORT_TEXT, help_text="What the customer said, in their words."
    )
    withdrawn_on = serializers.DateField(
        validators=[validate_day], help_text="The day the customer withdrew."
    )


class MergeInput(StageInput):
    into = serializers.CharField(
        max_length=40, help_text="The reference of the complaint this one duplicates."
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=SHORT_TEXT)


class NotAComplaintInput(StageInput):
    reason = serializers.CharField(
        max_length=SHORT_TEXT, help_text="Why it is not a complaint (an enquiry, out of scope)."
    )


class NoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=LONG_TEXT)


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)


class AssignInput(serializers.Serializer):
    assignee = Id(
        queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True,
        help_text="A user id, your own to take the complaint, or null to unassign.",
    )


class OutcomeInput(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=OUTCOME_CHOICES[1:],
        help_text="One of the outcomes of the complaint's profile's scheme (FCA, ASIC or CFPB).",
    )


class EscalateInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=ESCALATION_TARGETS)
    reason = serializers.CharField(max_length=SHORT_TEXT)


class ResolutionInput(StageInput):
    type = serializers.ChoiceField(choices=ResolutionType.choices)
    description = serializers.CharField(
        max_length=LONG_TEXT, help_text="In plain words, as the customer reads it."
    )
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    customer_action = serializers.CharField(required=False, allow_blank=True, max_length=SHORT_TEXT)


class MessageInput(serializers.Serializer):
    template = Id(
        queryset=ResponseTemplate.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text="An active response template: its subject and body, filled in for this "
        "complaint, stand wherever `subject` or `body` is left out.",
    )
    response_type = serializers.ChoiceField(
        choices=ResponseType.choices,
        required=False,
        help_text="Which response this is (docs/responses.md): a regulated type is refused, "
        "400 with one error per missing element, while it lacks what the complaint's profile "
        "requires. Default: the template's type, or a plain reply.",
    )
    subject = Line(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(
        max_length=LONG_TEXT, required=False, allow_blank=True, help_text="Sent as written."
    )
    channel = serializers.ChoiceField(choices=MessageChannel.choices, default=MessageChannel.EMAIL)
    postal_address = serializers.CharField(
        max_length=ADDRESS_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="For a letter: one line per line of the envelope, below the customer's name.",
    )
    attachments = Id(
        queryset=Attachment.objects.all(),
        many=True,
        required=False,
        help_text="Ids of this complaint's documents to send (or enclose) with it.",
    )

    def validate(self, data):
        if data.get("template") is None and not (data.get("subject") and data.get("body")):
            raise serializers.ValidationError("Give a subject and a body, or a template.")
        return data
