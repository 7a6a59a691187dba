from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Subquery
from django.utils import timezone

from complaints.input_limits import validate_day
from complaints.models import RegulatoryProfile
from reports.models import ActionStatus, Period, ProcedureReview, TrendReport
from reports.services import REVIEW_IN_THE_FUTURE


class RebuildForm(forms.Form):
    period = forms.ChoiceField(choices=Period.choices)
    day = forms.DateField(
        label="Any day in the period",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day],
    )


class ReturnForm(forms.Form):
    profile = forms.ModelChoiceField(
        queryset=RegulatoryProfile.objects.all(),
        empty_label=None,
        label="Regulatory profile",
        help_text="Its scheme decides the return: FCA, ASIC or CFPB.",
    )
    first_day = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day],
    )
    last_day = forms.DateField(
        label="To (included)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day],
    )


class ProcedureReviewForm(forms.ModelForm):
    class Meta:
        model = ProcedureReview
        fields = ["held_on", "participants", "reports", "complaints_reviewed", "findings"]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "participants": forms.Textarea(attrs={"rows": 3}),
            "complaints_reviewed": forms.Textarea(attrs={"rows": 2}),
            "findings": forms.Textarea(attrs={"rows": 5}),
            "reports": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The recent reports; a filter, not a slice, so the form can validate against it.
        recent = TrendReport.objects.order_by("-start").values("pk")[:60]
        self.fields["reports"].queryset = TrendReport.objects.filter(
            pk__in=Subquery(recent)
        ).order_by("-start")
        self.fields["reports"].required = False
        self.fields["held_on"].validators.append(validate_day)

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError(REVIEW_IN_THE_FUTURE)
        return held_on


class ImprovementActionForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(queryset=None)
    due_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_day],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).exclude(role="")
        )


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)
