from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from complaints import languages
from complaints.clocks import duration_text

register = template.Library()


@register.filter
def short_duration(value):
    """A timedelta as people say it: '3 h 12 min', '8 d 18 h'."""
    if value is None:
        return "—"
    return duration_text(int(value.total_seconds()))


@register.simple_tag
def bootstrap_widget(field):
    """A bound field's widget with Bootstrap's classes. The complaint page shows up to a dozen
    action forms; crispy's template tree per field cost more than the rest of the page, and
    Django's template per <option> more than the query behind a list of colleagues."""
    widget = field.field.widget
    css = " is-invalid" if field.errors else ""
    if isinstance(widget, forms.CheckboxInput):
        return field.as_widget(attrs={"class": "form-check-input" + css})
    if type(widget) is forms.Select:
        return _select(field, "form-select" + css)
    return field.as_widget(attrs={"class": "form-control" + css})


def _select(field, css):
    attrs = field.build_widget_attrs({"class": css, "id": field.auto_id, "name": field.html_name})
    chosen = {str(v) for v in (field.value(),) if v is not None}
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, " selected" if str(value) in chosen else "", label)
            for value, label in _choices(field.field)
        ),
    )
    return format_html("<select{}>{}</select>", flatatt(attrs), options)


def _choices(form_field):
    """A model choice field's choices read in one plain query: its own iterator opens a
    server-side cursor, which costs more than the few rows of a list of colleagues."""
    if not isinstance(form_field, forms.ModelChoiceField):
        return form_field.choices
    empty = [("", form_field.empty_label)] if form_field.empty_label is not None else []
    return empty + [
        (obj.pk, form_field.label_from_instance(obj)) for obj in form_field.queryset.all()
    ]


register.filter("day_date", languages.day_date)
register.filter("long_date", languages.long_date)
