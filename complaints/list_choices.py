"""A choice among rows already in memory: the category or product an intake form chooses
from the regulatory catalogue (complaints/selectors/regulatory.py), the colleague the case
page offers from the team it has read. Shown and checked without a query, where a
ModelChoiceField reads the list to show it and the row to accept it."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from complaints.input_limits import id_from


class ListChoiceField(forms.ChoiceField):
    """A choice among `entries` ({id: entry}, in the order shown), given with `choose_from`
    when the form is made; the cleaned value is the entry itself."""

    default_error_messages = {
        # ModelChoiceField's words, which Django's catalogues translate.
        "invalid_choice": _(
            "Select a valid choice. That choice is not one of the available choices."
        )
    }

    def __init__(self, *, empty_label="---------", **kwargs):
        super().__init__(**kwargs)
        self.empty_label = empty_label
        self.entries = {}

    def choose_from(self, entries):
        self.entries = entries
        self.choices = [("", self.empty_label), *((pk, str(e)) for pk, e in entries.items())]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        entry = self.entries.get(id_from(value))
        if entry is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return entry

    def validate(self, value):
        # to_python has checked the choice; only "required" is left.
        forms.Field.validate(self, value)
