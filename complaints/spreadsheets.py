"""CSV for spreadsheets: cells that a spreadsheet would run as a formula are defused, and the
file starts with the BOM Excel needs to read UTF-8."""

from datetime import datetime

from django.utils import timezone

# Excel takes a UTF-8 file without it for the local code page and garbles names.
UTF8_BOM = "\ufeff"


def spreadsheet_safe(value):
    """Cells a spreadsheet would run as a formula get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text
