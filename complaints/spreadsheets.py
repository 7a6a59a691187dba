"""CSV for spreadsheets: cells that a spreadsheet would run as a formula are defused, and the
file starts with the BOM Excel needs to read UTF-8."""

from datetime import datetime

from django.utils import timezone

# Excel takes a UTF-8 file without it for the local code page and garbles names.
UTF8_BOM = "\ufeff"


FORMULA_STARTS = "=+-@\t\r"


def spreadsheet_safe(value):
    """Cells a spreadsheet would run as a formula get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


def spreadsheet_value(text):
    """What spreadsheet_safe defused, as it was: our own exports read back by our import."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text
