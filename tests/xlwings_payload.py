"""Build the JSON payload that the xlwings Office.js client would send for a master workbook."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import xlwings as xw  # noqa: E402

from xladdin.base.schema import parse_range  # noqa: E402
from xladdin.workbook.package import MasterBook  # noqa: E402


def _json_value(value):
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat() + ".000Z"
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()).isoformat() + ".000Z"
    return value


def _address(c1: int, r1: int, c2: int, r2: int) -> str:
    from xladdin.base.schema import column_letter

    return f"${column_letter(c1)}${r1}:${column_letter(c2)}${r2}"


def payload_for(master: Path, overrides: dict[str, dict[str, object]] | None = None) -> dict:
    """Every sheet's values (anchored at A1), its tables and the book's names; `overrides` replaces
    values of the 设置 table by key (as staff would type them)."""
    book = MasterBook.open(master)
    sheets, names = [], []
    order = list(book.sheet_parts)
    for index, name in enumerate(order):
        grid = book.sheet_grid(name)
        values = [[_json_value(v) for v in row] for row in grid] or [[""]]
        width = max(len(r) for r in values)
        values = [row + [""] * (width - len(row)) for row in values]
        tables = []
        for table in book.tables.values():
            if table.sheet != name:
                continue
            c1, r1, c2, r2 = parse_range(table.ref)
            tables.append({"name": table.name, "range_address": _address(c1, r1, c2, r2),
                           "header_row_range_address": _address(c1, r1, c2, r1),
                           "data_body_range_address": _address(c1, r1 + 1, c2, r2),
                           "total_row_range_address": None, "show_headers": True, "show_totals": False,
                           "table_style": "TableStyleMedium2", "show_autofilter": True,
                           "columns": [{"name": str(values[r1 - 1][c - 1]), "index": c - c1 + 1}
                                       for c in range(c1, c2 + 1)]})
        sheets.append({"name": name, "values": values, "pictures": [], "tables": tables})
    if overrides:
        settings = sheets[order.index("设置")]["values"]
        for row in settings:
            if row[0] in overrides:
                row[1] = overrides[row[0]]
    workbook = book.parts["xl/workbook.xml"].decode("utf-8")
    for match in re.finditer(r'<definedName\b[^>]*name="([^"]+)"[^>]*>([^<]*)<', workbook):
        if match.group(1).startswith("_xlnm."):
            continue  # print titles and areas: sheet-scoped built-in names, not the add-in's book names
        sheet, _, ref = match.group(2).rpartition("!")
        sheet = sheet.strip("'")
        if not sheet:
            continue  # a name holding a constant (the master's id): not a range, as Office.js lists ranges
        c1, r1, c2, r2 = parse_range(ref)
        names.append({"name": match.group(1), "sheet_index": order.index(sheet), "address": _address(c1, r1, c2, r2),
                      "scope_sheet_name": None, "scope_sheet_index": None, "book_scope": True})
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": master.name, "active_sheet_index": 0, "selection": "A1"},
            "names": names, "sheets": sheets}
