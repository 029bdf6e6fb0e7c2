"""Files the add-in writes besides the master (history exports): every text stays text.

A spreadsheet reading a CSV or an xlsx turns text starting with = + - @ (or a tab or carriage return
before one) into a formula; submitted text must never become one, so it is written as text: in an
xlsx as a string cell, in a CSV the OWASP way, behind a single quote.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

from xladdin.base.fs import write_whole
from xladdin.base.text import FORMULA_STARTS, xml_safe


def csv_safe(value: object) -> object:
    """A value for a CSV cell: text a spreadsheet would run as a formula is prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def put_text_safe(cell, value: object) -> None:
    """An openpyxl cell set to a value; text is always a string cell, never a formula."""
    if isinstance(value, float) and math.isnan(value):
        value = None
    if isinstance(value, str):
        cell.value = xml_safe(value)
        cell.data_type = "s"
        return
    cell.value = value


def append_text_safe(ws, values) -> int:
    """ws.append, with text kept as text; the row written.

    The row is openpyxl's own append cursor (the highest row a cell was made in, kept as cells are made and
    when a file is loaded), as ws.append uses: ws.max_row scans every cell, so a row at a time it made a
    sheet of n rows cost n² (a 退回 copy of 4,000 issues took minutes)."""
    row = ws._current_row + 1
    for col, value in enumerate(values, start=1):
        put_text_safe(ws.cell(row, col), value)
    ws._current_row = row  # an empty row still moves the cursor, as ws.append([]) does
    return row


def write_frame(frame, out: Path, sheet: str) -> Path:
    """A frame as .csv (UTF-8 with BOM, for Excel) or .xlsx, its folder created; text stays text."""
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [[None if _missing(v) else v for v in row] for row in frame.astype(object).itertuples(index=False)]
    def write(temp: Path) -> None:
        if out.suffix.lower() == ".csv":
            with open(temp, "w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([csv_safe(str(c)) for c in frame.columns])
                for row in rows:
                    writer.writerow(["" if v is None else csv_safe(_text(v)) for v in row])
        else:
            import openpyxl  # only when an xlsx is written: the run's start-up does not pay for it

            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = sheet
            append_text_safe(ws, [str(c) for c in frame.columns])
            for row in rows:
                append_text_safe(ws, [xml_safe(v) if isinstance(v, str) else v for v in row])
            wb.save(temp)

    write_whole(out, write)  # whole or absent: a full disk or a file-size limit leaves no half-written export
    return out


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return xml_safe(value)
    return value
