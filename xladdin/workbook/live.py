"""The master open in Excel, through xlwings (classic COM, xlwings Server or Lite).

Reads each managed region once and writes each once (one range write per region, never cell by
cell); the same engine then runs as on a file. Excel owns the file: nothing is saved or backed up
here, staff save as usual.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from ..settings import Settings
from ..values import is_blank
from .layout import MANAGED_SHEETS, REGISTRY, SETTINGS, TABLES
from .master import Formula, Link, quote_sheet, read_registry, read_settings
from .reader import Grid, locate_ledger

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The file format writes functions newer than Excel 2007 with a prefix; the object model takes them
# without it (Excel would show #NAME? for "_xlfn.RANK.EQ(" typed through Range.Formula).
_FILE_PREFIX = re.compile(r"_xlfn\.(?:_xlws\.)?")


def object_model_formula(formula: str) -> str:
    """A formula in the file's form as Excel's object model expects it."""
    return _FILE_PREFIX.sub("", formula)


def to_excel_value(value: object) -> object:
    """A value for a range write: formulas only when the add-in made them (in the object model's
    form); any other text that Excel would read as a formula is written as text (leading apostrophe)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, Formula):
        return object_model_formula(str(value))
    if isinstance(value, str):
        text = str(value)
        return "'" + text if text.startswith(_FORMULA_STARTS) else text
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


class LiveBook:
    """A master workbook open in Excel, as the pipeline's book (workbook/book.py: Book)."""

    def __init__(self, book, base_dir: Path | None = None):
        self.book = book
        full = Path(getattr(book, "fullname", "") or book.name)
        self.base_dir = base_dir or (full.parent if full.parent.is_dir() and str(full.parent) != "." else Path.cwd())
        self.path = self.base_dir / book.name
        self.tables = {}
        for sheet in book.sheets:
            for table in sheet.tables:
                self.tables[table.name] = (sheet, table)

    # -- reading --------------------------------------------------------------------------------

    def table_rows(self, name: str) -> tuple[list[str], list[tuple[int, list[object]]]]:
        sheet, table = self.tables[name]
        area = table.range
        values = area.options(ndim=2).value
        header = ["" if is_blank(v) else str(v) for v in values[0]]
        rows = [(area.row + i, [None if v == "" else v for v in row]) for i, row in enumerate(values[1:], start=1)]
        return header, [(r, v) for r, v in rows if not all(is_blank(x) for x in v)]

    def table_origin(self, name: str) -> tuple[int, int]:
        _, table = self.tables[name]
        return table.range.row + 1, table.range.column

    def settings(self) -> Settings:
        return read_settings(self.table_rows(SETTINGS.name)[1])

    def registry(self) -> pd.DataFrame:
        header, rows = self.table_rows(REGISTRY.name)
        return read_registry(header, rows, self.tables[REGISTRY.name][1].range.column)

    def registry_key(self) -> None:
        return None  # the open workbook has no parts to digest: the registry is read every run

    def pasted_grids(self) -> list[Grid]:
        grids = []
        for sheet in self.book.sheets:
            if sheet.name in MANAGED_SHEETS:
                continue
            last = sheet.used_range.last_cell
            values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value
            grid = Grid(sheet=sheet.name, rows=[["" if v is None else v for v in row] for row in values])
            if locate_ledger(grid, sheet.name).header_row:
                grids.append(grid)
        return grids

    # -- writing: one range write per region -----------------------------------------------------

    def write_table(self, name: str, rows: list[list[object]]) -> None:
        sheet, table = self.tables[name]
        spec = TABLES[name]
        area = table.range
        top, left = area.row + 1, area.column
        old_rows = area.rows.count - 1
        width = len(spec.columns)
        body = [[to_excel_value(v) for v in row] for row in rows] or [[None] * width]
        padded = body + [[None] * width] * max(0, old_rows - len(body))
        sheet.range((top, left)).value = padded
        table.resize(sheet.range((area.row, left), (area.row + len(body), left + width - 1)))
        self._add_links(sheet, top, left, rows)

    def _add_links(self, sheet, top: int, left: int, rows: list[list[object]]) -> None:
        """Hyperlinks for the Link cells of a block just written (the values went in one write; a link
        is one call per linked cell, as Excel's object model has no bulk form)."""
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, Link) and (value.target or value.location):
                    address = value.target.replace("/", "\\") if value.target else ""
                    if value.location:
                        address += "#" + value.location
                    sheet.range((top + r, left + c)).add_hyperlink(address, str(value))

    def write_cell(self, name: str, value: object) -> None:
        target = self._named(name)
        if target is not None:
            target[0, 0].value = to_excel_value(value)

    def write_lines(self, name: str, lines: list[str]) -> None:
        """Lines down the named column, the old lines below them cleared, the name resized to the new
        extent (so a shorter notice leaves nothing stale behind, now or on the next run)."""
        target = self._named(name)
        if target is None:
            return
        height = max(len(lines), target.rows.count)
        target[0, 0].value = [[to_excel_value(lines[i]) if i < len(lines) else None] for i in range(height)]
        top, column = target.row, target.column
        bottom = top + max(len(lines), 1) - 1
        sheet = target.sheet
        letter = sheet.range((top, column)).get_address(False, False).rstrip("0123456789")
        self.book.names[name].refers_to = f"={quote_sheet(sheet.name)}!${letter}${top}:${letter}${bottom}"

    def _named(self, name: str):
        try:
            return self.book.names[name].refers_to_range
        except Exception:  # staff removed the name: nothing to write there
            return None

    def back_up(self, settings: Settings) -> None:
        return None  # the workbook is open in Excel; staff save it (and Excel keeps its own versions)

    def save(self) -> None:
        return None
