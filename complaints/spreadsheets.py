"""Files for spreadsheets. CSV: cells that a spreadsheet would run as a formula are defused,
and the file starts with the BOM Excel needs to read UTF-8. XLSX: numbers and dates typed as
such, and every text a string cell, which no spreadsheet runs whatever it starts with."""

import io
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

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


# Excel's limit on the rows of one sheet, the heading included.
XLSX_MAX_ROWS = 1_048_576


class TooManyRows(ValueError):
    def __init__(self, rows):
        super().__init__(
            f"{rows:,} rows are more than one spreadsheet sheet holds "
            f"({XLSX_MAX_ROWS - 1:,}); download the CSV instead."
        )
        self.message = str(self)


def _xlsx_cell(sheet, value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        # Excel has no time zones: the local time, as the CSV writes it.
        return timezone.localtime(value).replace(tzinfo=None)
    if isinstance(value, (int, float, Decimal, date)) and not isinstance(value, bool):
        return value
    # XML cannot carry the control characters.
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith("=") or text in ERROR_CODES:
        # openpyxl would write these as a formula or an error value: made a string cell,
        # which a spreadsheet shows and never runs. Any other text is one already (a cell
        # object for every text would double the time a long report takes).
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


def xlsx_workbook(title, columns, rows):
    """The rows under a heading row, as the bytes of an .xlsx file of one sheet. Written as
    a stream (openpyxl's write-only mode): a half-year's return holds many rows. Text longer
    than a cell holds (32,767 characters) is cut by openpyxl; the CSV keeps it whole."""
    if len(rows) + 1 > XLSX_MAX_ROWS:
        raise TooManyRows(len(rows))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([_xlsx_cell(sheet, heading) for heading in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
