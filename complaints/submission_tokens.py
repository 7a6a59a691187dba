"""The one-time token an intake form carries, so that sending the same form twice (a double
click, a retry after a slow answer) logs one complaint: the second submission finds the
complaint the first one made under the same token (services.complaint_create_once)."""

import secrets

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


def new_token():
    return secrets.token_urlsafe(24)


class SubmissionTokenField(forms.CharField):
    """Hidden; a fresh token each time the empty form is shown, the same one when a form with
    errors is shown again (nothing was logged under it). Optional: a client that posts without
    it (a script) logs a complaint each time, as an API call without Idempotency-Key does."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            initial=new_token,
            max_length=64,
            validators=[
                RegexValidator(
                    r"^[A-Za-z0-9_-]{16,64}$",
                    _("This form is damaged: reload the page and send it again."),
                )
            ],
            **kwargs,
        )
