from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.core import validators
from django.utils import timezone

from complaints import letters, services
from complaints.input_limits import LARGEST_ID, validate_day
from complaints.list_choices import ListChoiceField
from complaints.models import (
    LONG_TEXT,
    SHORT_TEXT,
    AcknowledgmentMethod,
    Complaint,
    EscalationLevel,
    FlagKind,
    MessageChannel,
    ResolutionType,
    RootCause,
)
from complaints.outcomes import outcomes_for
from complaints.responses import ResponseType
from complaints.selectors import regulatory_catalogue, team_members
from complaints.services.flags import REASON_LIMIT as FLAG_REASON_LIMIT
from complaints.submission_tokens import SubmissionTokenField
from complaints.workflow import STAGE_CHOICES, Refused


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


# The record's free text, held to what the API takes. A longer text already on the record (an
# imported narrative) may stay as it is; a new or edited one is held to the limit.
RECORD_TEXT_LIMITS = {
    "description": LONG_TEXT,
    "interaction_details": SHORT_TEXT,
    "follow_up_actions": SHORT_TEXT,
}


def _hold_to_limits(form):
    for name, limit in RECORD_TEXT_LIMITS.items():
        field = form.fields.get(name)
        if field is None or len(form.initial.get(name) or "") > limit:
            continue
        field.max_length = limit
        field.validators.append(validators.MaxLengthValidator(limit))
        field.widget.attrs["maxlength"] = str(limit)


def _no_line_breaks(value):
    # Names and subjects end up in email headers; a CR or LF there is an injection attempt.
    if "\r" in value or "\n" in value:
        raise forms.ValidationError("This field cannot contain line breaks.")
    return value.strip()


class RecordFields:
    """What logging and editing a complaint share: the record's widgets and its checks."""

    WIDGETS = {
        "date_of_complaint": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        "description": forms.Textarea(attrs={"rows": 5}),
        "interaction_details": forms.Textarea(attrs={"rows": 3}),
        "follow_up_actions": forms.Textarea(attrs={"rows": 3}),
        "customer_address": forms.Textarea(attrs={"rows": 3}),
    }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("representative_name") and not cleaned.get("represented"):
            self.add_error("represented", "Tick this when a representative acts for the customer.")
        return cleaned

    def clean_customer_name(self):
        return _no_line_breaks(self.cleaned_data["customer_name"])

    def clean_date_of_complaint(self):
        value = self.cleaned_data["date_of_complaint"]
        validate_day(value)
        if value > timezone.localdate():
            raise forms.ValidationError("The date of the complaint cannot be in the future.")
        return value

    def clean_preferred_language(self):
        # Optional: a form posted without it (an older page, a script) keeps the record's
        # language, English for a new complaint.
        return self.cleaned_data["preferred_language"] or self.instance.preferred_language


class ComplaintIntakeForm(RecordFields, forms.ModelForm):
    """Appendix A of the procedure, plus what the team needs to route the complaint."""

    assign_to_me = forms.BooleanField(
        required=False,
        initial=True,
        label="I will handle this complaint (leave unticked to put it in the intake queue)",
    )
    vulnerable = forms.BooleanField(required=False, label="Vulnerable customer")
    vulnerable_reason = forms.CharField(
        required=False,
        max_length=FLAG_REASON_LIMIT,
        label="Why (the customer's circumstances, what support they need)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    hardship = forms.BooleanField(required=False, label="Financial hardship")
    hardship_reason = forms.CharField(
        required=False,
        max_length=FLAG_REASON_LIMIT,
        label="Why (what the customer told us)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    category = ListChoiceField(label="Category")
    product = ListChoiceField(label="Product", required=False)
    submission = SubmissionTokenField()
    attachments = MultipleFileField(
        required=False,
        label="Supporting documents",
        help_text="PDF, images, office documents, text or saved emails; up to 10 MB each.",
    )

    class Meta:
        model = Complaint
        fields = [
            "channel",
            "customer_name",
            "customer_email",
            "customer_phone",
            "preferred_language",
            "customer_address",
            "represented",
            "representative_name",
            "date_of_complaint",
            "category",
            "product",
            "customer_country",
            "transaction_reference",
            "complexity",
            "description",
            "interaction_details",
        ]
        widgets = RecordFields.WIDGETS
        help_texts = {
            "customer_country": "Where the customer lives, as an ISO code (GB, AU, US): with "
            "the product it chooses the regulator's clocks. Blank: the firm's country.",
            "description": "What happened, in the customer's own words where possible.",
            "interaction_details": "How the customer reached us, who they spoke to, what was said.",
            "date_of_complaint": "When the customer complained; may be in the past.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once: the service starts the clocks from the version the choices came from.
        self.catalogue = regulatory_catalogue()
        self.fields["category"].choose_from(self.catalogue.categories)
        self.fields["product"].choose_from(self.catalogue.products)
        self.fields["date_of_complaint"].initial = timezone.localdate
        self.fields["channel"].widget.attrs["autofocus"] = True
        self.fields["preferred_language"].required = False
        _hold_to_limits(self)
        self.helper = FormHelper()
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.layout = Layout(
            Fieldset(
                "Customer",
                Row(
                    Column("channel", css_class="col-md-4"),
                    Column("customer_name", css_class="col-md-8"),
                ),
                Row(
                    Column("customer_email"),
                    Column("customer_phone"),
                    Column("preferred_language", css_class="col-md-3"),
                ),
                "customer_address",
                Row(Column("represented"), Column("representative_name")),
            ),
            Fieldset(
                "Complaint",
                Row(Column("date_of_complaint"), Column("category"), Column("product")),
                Row(
                    Column("customer_country"),
                    Column("transaction_reference"),
                    Column("complexity"),
                ),
                "description",
                "interaction_details",
                "attachments",
                "assign_to_me",
            ),
            Fieldset(
                "Support needs (staff only, never shown to the customer)",
                Row(Column("vulnerable", css_class="col-md-4"), Column("vulnerable_reason")),
                Row(Column("hardship", css_class="col-md-4"), Column("hardship_reason")),
            ),
            "submission",
            Submit("submit", "Log complaint"),
        )

    def clean_customer_country(self):
        country = self.cleaned_data["customer_country"].strip().upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError("A two-letter country code, such as GB, AU or US.")
        return country

    def _post_clean(self):
        """No model validation here: the fields checked every value (the category and product
        among the active ones), complaint_create checks the complaint it builds, and the
        database enforces its constraints. ModelForm's own pass would repeat all of that as
        a query per foreign key and per constraint. The view reads cleaned_data, never
        self.instance, so nothing is lost."""

    def clean(self):
        cleaned = super().clean()
        channel = cleaned.get("channel")
        if channel == "email" and not cleaned.get("customer_email"):
            self.add_error("customer_email", "An email complaint needs the customer's address.")
        if channel == "phone" and not cleaned.get("customer_phone"):
            self.add_error("customer_phone", "A phone complaint needs a number to call back.")
        if (
            not cleaned.get("customer_email")
            and not cleaned.get("customer_phone")
            and not self.errors
        ):
            raise forms.ValidationError("Give an email address or a phone number for the customer.")
        for kind in FlagKind.values:
            reason = cleaned.get(f"{kind}_reason", "").strip()
            if cleaned.get(kind) and not reason:
                self.add_error(f"{kind}_reason", "Say why the case is flagged.")
            elif reason and not cleaned.get(kind):
                self.add_error(kind, "Tick this to flag the case, or leave the reason empty.")
        return cleaned

    def flags(self):
        """{kind: reason} of the flags ticked, for complaint_create."""
        return {
            kind: self.cleaned_data[f"{kind}_reason"]
            for kind in FlagKind.values
            if self.cleaned_data[kind]
        }


class ComplaintEditForm(RecordFields, forms.ModelForm):
    class Meta:
        model = Complaint
        fields = [
            "customer_name",
            "customer_email",
            "customer_phone",
            "preferred_language",
            "customer_address",
            "represented",
            "representative_name",
            "complainant_gender",
            "complainant_age_band",
            "date_of_complaint",
            "category",
            "product",
            "transaction_reference",
            "complexity",
            "root_cause",
            "description",
            "interaction_details",
            "follow_up_actions",
        ]
        widgets = RecordFields.WIDGETS

    # The version of the record the user started from, so a save over someone else's change
    # made meanwhile is refused. Optional: without it (a page from before) nothing is checked.
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=LARGEST_ID
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root_cause"].queryset = RootCause.objects.filter(active=True)
        self.fields["preferred_language"].required = False
        _hold_to_limits(self)
        if not self.is_bound and self.instance.pk:
            self.fields["version"].initial = services.complaint_version(self.instance)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save changes"))

    def clean(self):
        cleaned_data = super().clean()
        if "version" in self.errors:
            # A hidden field shows no error of its own.
            self.add_error(None, "This page is out of date. Open the edit page again.")
        return cleaned_data

    def rebased(self, version):
        """The same typed values on top of `version`, so saving again overwrites knowingly."""
        data = self.data.copy()
        data["version"] = str(version)
        return type(self)(data, instance=self.instance)


def must_choose(choices, what, *, field=forms.ChoiceField, **kwargs):
    """A choice nothing pre-selects: a decision that moves money, closes off an option or
    speaks for the customer is made by picking it, never by leaving a default as it was."""
    return field(
        choices=[("", "Choose…"), *choices],
        error_messages={"required": f"Choose {what}: nothing is pre-selected."},
        **kwargs,
    )


class StageForm(forms.Form):
    """Carries the stage the user saw, so a move made meanwhile by someone else is refused."""

    expected_stage = forms.CharField(max_length=20, widget=forms.HiddenInput)


class AcknowledgeForm(StageForm):
    method = forms.ChoiceField(
        # No default: a CSR who phoned must not record an email by leaving it as it was.
        choices=[("", "Choose how…"), *AcknowledgmentMethod.choices],
        label="How was the customer acknowledged?",
    )
    note = forms.CharField(
        max_length=SHORT_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class TransitionForm(StageForm):
    to = forms.ChoiceField(choices=STAGE_CHOICES, widget=forms.HiddenInput)
    note = forms.CharField(
        max_length=SHORT_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(StageForm):
    customer_words = forms.CharField(
        max_length=SHORT_TEXT,
        label="What the customer said",
        help_text="In their own words, as they told you or wrote.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    withdrawn_on = forms.DateField(
        label="The day they withdrew",
        validators=[validate_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class NotAComplaintForm(StageForm):
    reason = forms.CharField(
        max_length=SHORT_TEXT,
        label="Why is this not a complaint?",
        help_text="For example: an enquiry about opening hours, or a product we do not offer.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MergeForm(StageForm):
    into = forms.CharField(
        max_length=40,
        label="Reference of the complaint it duplicates",
        help_text="The case that stays, e.g. CMP-2026-000123. The next page shows both to confirm.",
    )
    reason = forms.CharField(
        max_length=SHORT_TEXT,
        required=False,
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Set by the confirmation page: the first submit only shows both cases.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


def _by_id(rows):
    return {row.pk: row for row in rows}


class AssignForm(forms.Form):
    assignee = ListChoiceField(required=False, empty_label="Nobody")

    def __init__(self, *args, team=None, **kwargs):
        """`team`: the colleagues, if the page has read them already."""
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choose_from(_by_id(team if team is not None else team_members()))


class EscalateForm(forms.Form):
    level = forms.ChoiceField(
        choices=[c for c in EscalationLevel.choices if c[0]], label="Escalate to"
    )
    reason = forms.CharField(max_length=SHORT_TEXT, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, current="", **kwargs):
        super().__init__(*args, **kwargs)
        # Escalating again to where the case already is would only be refused.
        self.fields["level"].choices = [
            choice for choice in self.fields["level"].choices if choice[0] != current
        ]


class ProfileChangeForm(forms.Form):
    profile = ListChoiceField(label="Regulatory profile")
    reason = forms.CharField(max_length=SHORT_TEXT, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The active profiles, as the intake's cached catalogue holds them: the case page
        # offers them without a query.
        profiles = regulatory_catalogue().profiles
        self.fields["profile"].choose_from({profile.pk: profile for profile in profiles})


class ClockPauseForm(forms.Form):
    clock = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=200, label="Why pause this clock?")


class ClockResumeForm(forms.Form):
    clock = forms.IntegerField(widget=forms.HiddenInput)


class NoteForm(forms.Form):
    text = forms.CharField(
        max_length=LONG_TEXT, label="Note", widget=forms.Textarea(attrs={"rows": 3})
    )


class RootCauseForm(forms.Form):
    root_cause = forms.ModelChoiceField(queryset=None, empty_label="Choose…")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root_cause"].queryset = RootCause.objects.filter(active=True)


class OutcomeForm(forms.Form):
    """The outcome in the terms of the complaint's regulator: its profile's set only."""

    def __init__(self, *args, complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"] = must_choose(
            outcomes_for(complaint.profile.returns_scheme),
            "the outcome",
            label=f"Outcome ({complaint.profile.name})",
        )


class AttachmentForm(forms.Form):
    file = forms.FileField(label="Document")


class ConsultationForm(forms.Form):
    department = forms.CharField(max_length=120, label="Department or person")
    consultee = ListChoiceField(required=False, label="Colleague to answer (optional)")
    question = forms.CharField(max_length=SHORT_TEXT, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, team=None, **kwargs):
        """`team`: the colleagues, if the page has read them already."""
        super().__init__(*args, **kwargs)
        self.fields["consultee"].choose_from(_by_id(team if team is not None else team_members()))


class ConsultationAnswerForm(forms.Form):
    answer = forms.CharField(max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 3}))


class ResolutionForm(StageForm):
    type = must_choose(ResolutionType.choices, "the kind of resolution", label="Resolution")
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        label="Amount (if money moves)",
    )
    description = forms.CharField(
        max_length=LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In plain words, as the customer will read it.",
    )
    customer_action = forms.CharField(
        max_length=SHORT_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="What the customer needs to do",
    )


class ApprovalForm(forms.Form):
    decision = must_choose([("approve", "Approve"), ("refuse", "Refuse")], "a decision")
    note = forms.CharField(
        max_length=SHORT_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CustomerResponseForm(forms.Form):
    decision = must_choose(
        [("accept", "Customer accepts"), ("reject", "Customer disagrees")], "the customer's answer"
    )
    comment = forms.CharField(
        max_length=SHORT_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImplementForm(forms.Form):
    notes = forms.CharField(
        max_length=SHORT_TEXT, label="What was done", widget=forms.Textarea(attrs={"rows": 2})
    )


class FeedbackForm(forms.Form):
    score = must_choose(
        [(i, str(i)) for i in range(1, 6)],
        "the score the customer gave",
        field=forms.TypedChoiceField,
        coerce=int,
        label="Satisfaction (1 to 5)",
    )
    resolved = must_choose(
        [("yes", "Yes"), ("no", "No")],
        "what the customer said",
        field=forms.TypedChoiceField,
        coerce=lambda value: value == "yes",
        label="Is the issue resolved?",
    )
    comment = forms.CharField(
        max_length=SHORT_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    quality_notes = forms.CharField(max_length=LONG_TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    lessons = forms.CharField(
        max_length=LONG_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    improvement_actions = forms.CharField(
        max_length=LONG_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file (CFPB format, plain or .gz)",
        help_text="Complaints already imported are updated, never duplicated.",
    )
    dry_run = forms.BooleanField(
        required=False, label="Only check the file; save nothing", initial=False
    )


class ReplyForm(forms.Form):
    """A reply to the customer, by email or by letter: what the template gave, as edited, and
    the complaint's documents to send with it. `token` is made when the form is first shown
    and makes a second submission of the same form send nothing more."""

    channel = forms.ChoiceField(
        choices=MessageChannel.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label="Send it by",
        required=False,
    )
    postal_address = forms.CharField(
        required=False,
        max_length=letters.ADDRESS_MAX_LENGTH,
        label="Postal address",
        help_text="For a letter: one line per line of the envelope, the customer's name is "
        "printed above it.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    subject = forms.CharField(max_length=200)
    text = forms.CharField(
        max_length=LONG_TEXT, label="Message", widget=forms.Textarea(attrs={"rows": 12})
    )
    attachments = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label="Send these documents with it",
    )
    token = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)
    response_type = forms.ChoiceField(
        choices=ResponseType.choices, required=False, label="Type of response"
    )
    # The template the text was drafted from: the message records the version it used.
    template = forms.IntegerField(
        required=False, min_value=1, max_value=LARGEST_ID, widget=forms.HiddenInput
    )

    def __init__(self, *args, complaint, response_types=(ResponseType.REPLY,), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].queryset = complaint.attachments.all()
        self.fields["response_type"].choices = [
            (value, ResponseType(value).label) for value in response_types
        ]
        if not complaint.customer_email:
            self.fields["channel"].choices = [(MessageChannel.LETTER, "Letter")]

    def clean(self):
        data = super().clean()
        data["channel"] = data.get("channel") or MessageChannel.EMAIL
        data["response_type"] = data.get("response_type") or ResponseType.REPLY
        if data["channel"] == MessageChannel.LETTER:
            try:
                letters.address_lines(data.get("postal_address"))
            except Refused as refusal:
                self.add_error("postal_address", refusal.message)
        return data


class FlagForm(forms.Form):
    kind = forms.ChoiceField(choices=FlagKind.choices, label="Flag")
    reason = forms.CharField(
        max_length=FLAG_REASON_LIMIT,
        label="Why",
        help_text="Staff only: the customer never sees flags or reasons.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, unset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if unset is not None:
            self.fields["kind"].choices = [c for c in FlagKind.choices if c[0] in unset]


class FlagClearForm(forms.Form):
    kind = forms.ChoiceField(choices=FlagKind.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=FLAG_REASON_LIMIT,
        label="Why is it cleared?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
