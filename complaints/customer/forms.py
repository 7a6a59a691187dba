"""Forms for customers: short, plainly worded, usable on a phone."""

from django import forms
from django.utils import timezone

from complaints.input_limits import validate_day
from complaints.models import Category, Channel, Complexity, Product
from complaints.submission_tokens import SubmissionTokenField


def _one_line(value):
    if "\r" in value or "\n" in value:
        raise forms.ValidationError("Please keep this on one line.")
    return value.strip()


class InformationForm(forms.Form):
    message = forms.CharField(
        required=False,
        label="Anything to add?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )
    document = forms.FileField(required=False, label="A document (optional)")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("message", "").strip() and not cleaned.get("document"):
            raise forms.ValidationError("Write a message or choose a document to send.")
        return cleaned


class ResponseForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "I accept this resolution"), ("reject", "I disagree")],
        widget=forms.RadioSelect,
        label="Your answer",
    )
    comment = forms.CharField(
        required=False,
        label="Anything you would like us to know (especially if you disagree)",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class CustomerFeedbackForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[
            (5, "5 (very satisfied)"),
            (4, "4"),
            (3, "3"),
            (2, "2"),
            (1, "1 (very unsatisfied)"),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        label="How satisfied are you with how we handled your complaint?",
    )
    resolved = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label="Is the issue now resolved?",
    )
    comment = forms.CharField(
        required=False,
        label="Anything you would like to add",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class PublicComplaintForm(forms.Form):
    customer_name = forms.CharField(label="Your name", max_length=200)
    customer_email = forms.EmailField(label="Your email address")
    customer_phone = forms.CharField(label="Phone (optional)", max_length=40, required=False)
    customer_address = forms.CharField(
        label="Postal address (optional)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), label="What is it about?", empty_label="Choose one"
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), label="Which product or service?", required=False
    )
    date_of_complaint = forms.DateField(
        label="When did it happen?",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    transaction_reference = forms.CharField(
        label="Account or transaction reference (optional)", max_length=100, required=False
    )
    description = forms.CharField(
        label="What happened?",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10000,
        help_text="Tell us in your own words; include what you would like us to do.",
    )
    document = forms.FileField(label="A supporting document (optional)", required=False)
    submission = SubmissionTokenField()
    # Hidden from people; bots fill it in.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True, parent=None)
        self.fields["product"].queryset = Product.objects.filter(active=True, parent=None)
        self.fields["date_of_complaint"].initial = timezone.localdate

    def clean_customer_name(self):
        return _one_line(self.cleaned_data["customer_name"])

    def clean_customer_phone(self):
        return _one_line(self.cleaned_data["customer_phone"])

    def clean_date_of_complaint(self):
        value = self.cleaned_data["date_of_complaint"]
        validate_day(value)
        if value > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future.")
        return value

    def complaint_data(self):
        data = {
            name: self.cleaned_data[name]
            for name in (
                "customer_name",
                "customer_email",
                "customer_phone",
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

    def uploads(self):
        return [self.cleaned_data["document"]] if self.cleaned_data.get("document") else []
