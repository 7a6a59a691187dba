"""Forms for customers: short, plainly worded, usable on a phone, in the customer's language."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from complaints.input_limits import validate_day
from complaints.list_choices import ListChoiceField
from complaints.models import Channel, Complexity, FlagKind
from complaints.selectors import regulatory_catalogue
from complaints.services.inbound import LINK_MESSAGE_MAX
from complaints.submission_tokens import SubmissionTokenField


def _one_line(value):
    if "\r" in value or "\n" in value:
        raise forms.ValidationError(_("Please keep this on one line."))
    return value.strip()


class InformationForm(forms.Form):
    message = forms.CharField(
        required=False,
        label=_("Anything to add?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    document = forms.FileField(required=False, label=_("A document (optional)"))

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("message", "").strip() and not cleaned.get("document"):
            raise forms.ValidationError(_("Write a message or choose a document to send."))
        return cleaned


class CustomerReplyForm(forms.Form):
    """The customer's answer in the conversation on their link; the token makes a double
    submit store one message (services.inbound_receive_from_link)."""

    message = forms.CharField(
        label=_("Your message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=LINK_MESSAGE_MAX,
        error_messages={"required": _("Please write your message.")},
    )
    submission = SubmissionTokenField()


class ResponseForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("I accept this resolution")), ("reject", _("I disagree"))],
        widget=forms.RadioSelect,
        label=_("Your answer"),
    )
    comment = forms.CharField(
        required=False,
        label=_("Anything you would like us to know (especially if you disagree)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class CustomerFeedbackForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[
            (5, _("5 (very satisfied)")),
            (4, "4"),
            (3, "3"),
            (2, "2"),
            (1, _("1 (very unsatisfied)")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        label=_("How satisfied are you with how we handled your complaint?"),
    )
    resolved = forms.TypedChoiceField(
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label=_("Is the issue now resolved?"),
    )
    comment = forms.CharField(
        required=False,
        label=_("Anything you would like to add"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


def top_level(entries):
    return {pk: entry for pk, entry in entries.items() if entry.parent_id is None}


def languages_by_their_own_names():
    """Each language named in itself ("Español"), so a reader finds theirs whatever the page
    is in."""
    return [
        (code, capfirst(get_language_info(code)["name_local"]))
        for code, _name in settings.LANGUAGES
    ]


class PublicComplaintForm(forms.Form):
    customer_name = forms.CharField(label=_("Your name"), max_length=200)
    customer_email = forms.EmailField(label=_("Your email address"))
    customer_phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False)
    preferred_language = forms.ChoiceField(
        label=_("Which language should we write to you in?"),
        choices=languages_by_their_own_names,
        required=False,
    )
    customer_address = forms.CharField(
        label=_("Postal address (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = ListChoiceField(label=_("What is it about?"), empty_label=_("Choose one"))
    product = ListChoiceField(label=_("Which product or service?"), required=False)
    date_of_complaint = forms.DateField(
        label=_("When did it happen?"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    transaction_reference = forms.CharField(
        label=_("Account or transaction reference (optional)"), max_length=100, required=False
    )
    description = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10000,
        help_text=_("Tell us in your own words; include what you would like us to do."),
    )
    # The customer's own words, kept as the reason of a "vulnerable customer" flag that only
    # staff see (docs/flags.md): the question is optional and names no category.
    support_needs = forms.CharField(
        label=_("Would extra support help you? (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
        help_text=_(
            "For example a health condition, a bereavement, money worries, or difficulty "
            "reading or hearing. Tell us what would help and we will take it into account."
        ),
    )
    document = forms.FileField(label=_("A supporting document (optional)"), required=False)
    submission = SubmissionTokenField()
    # Hidden from people; bots fill it in.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, language, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once: the service starts the clocks from the version the choices came from.
        self.catalogue = regulatory_catalogue()
        # The top of each list: a customer names the product and the issue, not the detail.
        self.fields["category"].choose_from(top_level(self.catalogue.categories))
        self.fields["product"].choose_from(top_level(self.catalogue.products))
        self.fields["date_of_complaint"].initial = timezone.localdate
        self.fields["preferred_language"].initial = self.language = language

    def clean_customer_name(self):
        return _one_line(self.cleaned_data["customer_name"])

    def clean_customer_phone(self):
        return _one_line(self.cleaned_data["customer_phone"])

    def clean_preferred_language(self):
        # Not asked (a page from before this field): the language the form was shown in.
        return self.cleaned_data["preferred_language"] or self.language

    def clean_date_of_complaint(self):
        value = self.cleaned_data["date_of_complaint"]
        validate_day(value)
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value

    def complaint_data(self):
        data = {
            name: self.cleaned_data[name]
            for name in (
                "customer_name",
                "customer_email",
                "customer_phone",
                "preferred_language",
                "customer_address",
                "category",
                "product",
                "date_of_complaint",
                "transaction_reference",
                "description",
            )
        }
        return {
            **data,
            "channel": Channel.WEB,
            "complexity": Complexity.STANDARD,
            "interaction_details": "Submitted by the customer through the public complaint form.",
        }

    def flags(self):
        """A request for extra support flags the case for staff, in the customer's words."""
        if words := self.cleaned_data["support_needs"].strip():
            return {FlagKind.VULNERABLE: words}
        return {}

    def uploads(self):
        return [self.cleaned_data["document"]] if self.cleaned_data.get("document") else []
