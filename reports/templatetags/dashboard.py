"""The managers' dashboard on their home page. complaints/ draws the page and knows nothing of
reports/; the page's template asks for the figures here."""

from django import template

from reports.selectors import dashboard_cached

register = template.Library()


@register.simple_tag
def manager_dashboard():
    return dashboard_cached()
