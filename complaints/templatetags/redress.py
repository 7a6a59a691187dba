from django import forms, template
from django.forms.utils import flatatt
from django.template.defaultfilters import capfirst, truncatechars
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from complaints import languages
from complaints.clocks import duration_text
from complaints.selectors.timeline import moment_text

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
        return plain_widget(field, {"class": "form-check-input" + css})
    if type(widget) is forms.Select:
        return _select(field, "form-select" + css)
    return plain_widget(field, {"class": "form-control" + css})


# Django's templates for these widgets are an <input> or a <textarea> and their attributes:
# written here, the same HTML costs a tenth of the template engine's, a dozen times a page.
INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "email", "url", "date", "hidden", "checkbox")
}
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


@register.simple_tag
def plain_widget(field, attrs=None):
    """What field.as_widget(attrs) renders, without a template for an <input> or a
    <textarea> (other widgets take Django's)."""
    widget = field.field.widget
    if widget.template_name not in INPUT_TEMPLATES | {TEXTAREA_TEMPLATE} or field.field.localize:
        return field.as_widget(attrs=attrs)
    attrs = field.build_widget_attrs(attrs or {}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    value = context["value"]
    if widget.template_name == TEXTAREA_TEMPLATE:
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            context["name"],
            _attributes(context["attrs"]),
            value if value else "",
        )
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        context["type"],
        context["name"],
        format_html(' value="{}"', str(value)) if value is not None else "",
        _attributes(context["attrs"]),
    )


def _attributes(attrs):
    """django/forms/widgets/attrs.html: in order, True as a bare name, False left out."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', value))
            for name, value in attrs.items()
            if value is not False
        ),
    )


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


@register.simple_tag
def timeline_entry(entry):
    """One entry of the case page's timeline (selectors/timeline.py TimelineEntry). Written
    here rather than in a template: fifty entries through the template engine cost half as
    much again as their HTML built in Python."""
    line = "\n      "
    moved = body = changes = message = link = ""
    if entry.moved_to:
        moved = format_html(
            ' <span class="badge text-bg-light border">moved to {}</span>', entry.moved_to
        )
    if entry.body:
        body = format_html('{}<div class="pre-line">{}</div>', line, entry.body)
    if entry.changes:
        changes = format_html(
            '{}<ul class="small mb-0">{}</ul>',
            line,
            format_html_join(
                "",
                "<li>{}: <del>{}</del> → {}</li>",
                (
                    (capfirst(label), truncatechars(old, 80), truncatechars(new, 80))
                    for label, old, new in entry.changes
                ),
            ),
        )
    if entry.message_id:
        message = format_html(
            '{}<a class="small" href="{}">{}<span class="visually-hidden"> ({})</span></a>',
            line,
            reverse("complaints:message", args=[entry.message_id]),
            "Open the letter" if entry.letter else "Open the email",
            entry.title,
        )
    if entry.link:
        link = format_html(
            '{}<a class="small" href="{}">Show the email as received</a>', line, entry.link
        )
    return format_html(
        '<li class="kind-{}">{}<div><strong>{}</strong>{} <small class="text-body-secondary">'
        '· {} · <time datetime="{}">{}</time></small></div>{}{}{}{}\n    </li>',
        entry.kind,
        line,
        entry.title,
        moved,
        entry.actor,
        timezone.localtime(entry.at).isoformat(),
        moment_text(entry.at),
        body,
        changes,
        message,
        link,
    )


register.filter("day_date", languages.day_date)
register.filter("long_date", languages.long_date)
