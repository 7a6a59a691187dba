from django import template

from complaints.clocks import duration_text

register = template.Library()


@register.filter
def short_duration(value):
    """A timedelta as people say it: '3 h 12 min', '8 d 18 h'."""
    if value is None:
        return "—"
    return duration_text(int(value.total_seconds()))
