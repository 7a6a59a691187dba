"""The placeholders a response template may hold, and filling them in.

Response templates are written by managers in the admin and stored in the database, so they
are never run as Django templates (which could read any attribute of any object in the
context): a placeholder is a name from a fixed list between double braces, replaced by a
plain string, and anything else is text. Pure Python, so it is tested without Django.
"""

import re

PLACEHOLDERS = {
    "customer_name": "the customer's name",
    "reference": "the complaint's reference, e.g. CMP-2026-000027",
    "date_of_complaint": "the date the customer complained",
    "received_date": "the date we received the complaint",
    "resolution_target_date": "the date we aim to resolve it by",
    "final_response_date": "the date our final response is due by (its clock)",
    "resolution": "the proposed or agreed resolution, in the customer's words",
    "staff_name": "the name of the person writing",
    "team_name": "the complaints team's name",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def unknown_placeholders(text):
    """The names between double braces that are not placeholders, in order, once each."""
    names = dict.fromkeys(_PLACEHOLDER.findall(text or ""))
    return [name for name in names if name not in PLACEHOLDERS]


def fill(text, values):
    """Replace each known placeholder by its value; leave anything else as it was written."""

    def replace(match):
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        return str(values.get(name, ""))

    return _PLACEHOLDER.sub(replace, text or "")
