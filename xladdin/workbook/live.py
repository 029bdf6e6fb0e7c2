"""The master open in Excel, through xlwings (classic COM, xlwings Server or Lite).

Reads each managed region once and writes each once (one range write per region, never cell by
cell); the same engine then runs as on a file. Excel owns the file: nothing is saved or backed up
here, staff save as usual.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from xladdin.base.errors import SettingsError
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import SHEET_LOG
from xladdin.base.text import FORMULA_STARTS
from xladdin.base.values import is_blank
from xladdin.domain.settings import Settings
from xladdin.workbook.layout import LOG, MANAGED_SHEETS, REGISTRY, SETTINGS, owned_heading, table_spec
from xladdin.workbook.master import MASTER_ID_NAME, Formula, Link, quote_sheet, read_registry, read_settings
from xladdin.workbook.reader import Grid
from xladdin.workbook.room import RegionBlocked, blocked_message, heading_problem, pasted_ledger

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
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


ACCEPTED_WORD = "已接收"  # 报送记录 › 状态 of a submission that counts (store.history.ACCEPTED)


class LiveBook:
    """A master workbook open in Excel, as the pipeline's book (workbook/book.py: Book)."""

    def __init__(self, book, base_dir: Path | None = None):
        self.book = book
        full = Path(getattr(book, "fullname", "") or book.name)
        self.base_dir = base_dir or (full.parent if full.parent.is_dir() and str(full.parent) != "." else Path.cwd())
        self.path = self.base_dir / book.name
        self.tables = {}
        self._pending: list = []
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

    def selected_submission(self) -> str:
        """The submission staff selected on 报送记录 (the row of the active cell): its SHA-256, or its file
        name when the row has none; SettingsError saying what to select otherwise."""
        where = f"请先在“{SHEET_LOG}”表中点选要撤回的那一行（状态为“{ACCEPTED_WORD}”），再点“撤回报送”。"
        try:
            cell = self.book.selection
            sheet, row = cell.sheet.name, cell.row
        except Exception:  # nothing selected, or a shape: no row to read
            raise SettingsError(where) from None
        if LOG.name not in self.tables or sheet != self.tables[LOG.name][0].name:
            raise SettingsError(where)
        header, rows = self.table_rows(LOG.name)
        values = next((v for r, v in rows if r == row), None)
        if values is None:
            raise SettingsError(f"选中的第 {row} 行不是一份报送。" + where)
        picked = dict(zip(header, values))
        name, status = str(picked.get("文件名") or ""), str(picked.get("状态") or "")
        if status != ACCEPTED_WORD and not status.startswith("重复"):  # a copy names the submission it repeats
            raise SettingsError(f"选中的《{name}》状态为“{status}”，只有“{ACCEPTED_WORD}”的报送才能撤回。" + where)
        return str(picked.get("SHA-256") or "").strip() or name

    def registry(self) -> pd.DataFrame:
        header, rows = self.table_rows(REGISTRY.name)
        return read_registry(header, rows, self.tables[REGISTRY.name][1].range.column)

    def registry_key(self) -> None:
        return None  # the open workbook has no parts to digest: the registry is read every run

    def pasted_grids(self) -> list[Grid]:
        """Sheets staff pasted into the open master that hold a ledger: submissions too."""
        grids = []
        for sheet in self.book.sheets:
            if sheet.name in MANAGED_SHEETS:
                continue
            last = sheet.used_range.last_cell
            values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value
            grid = Grid(sheet=sheet.name, rows=[["" if v is None else v for v in row] for row in values])
            if pasted_ledger(grid):
                grids.append(grid)
        return grids

    # -- writing: every region checked first, then one range write per region ------------------------
    #
    # The engine asks for every write before save(); each is checked when asked (a heading staff changed,
    # staff content where a region would grow) and carried out in save(), so a refusal leaves the open
    # workbook exactly as it was, as the file writer leaves the file.

    def write_table(self, name: str, rows: list[list[object]], spec=None, formulas=None) -> None:
        if formulas:  # each row's own text: Excel shares what it will
            rows = [[Formula(formulas[c].at(i), v) if c in formulas else v for c, v in enumerate(row)]
                    for i, row in enumerate(rows)]
        sheet, table = self.tables[name]
        spec = spec or table_spec(name)
        area = table.range
        top, left = area.row + 1, area.column
        old_rows = area.rows.count - 1
        width = len(spec.columns)
        header = area[0, :].options(ndim=1).value if area.columns.count > 1 else [area[0, 0].value]
        found = {left + i: "" if is_blank(v) else str(v) for i, v in enumerate(header)}
        problem = heading_problem(sheet.name, spec.labels, found, left, area.row, left + area.columns.count - 1)
        upgrade = None
        if problem:
            if not owned_heading(name, [found[c] for c in sorted(found)]):
                raise RegionBlocked(problem)
            # Laid out by an earlier version: the heading row takes the current columns (Excel renames
            # the table's columns from it) and a wider table grows only into empty cells.
            upgrade = spec.labels + [None] * max(0, area.columns.count - width)
            self._check_growth(sheet, area.row, max(area.row + old_rows, area.row + 1),
                               left + area.columns.count, left + width - 1, name)
        body = [[to_excel_value(v) for v in row] for row in rows] or [[None] * width]
        self._check_growth(sheet, top + old_rows, top + len(body) - 1, left, left + width - 1, name)
        padded = body + [[None] * width] * max(0, old_rows - len(body))

        def write() -> None:
            if upgrade is not None:
                sheet.range((area.row, left)).value = [upgrade]
            sheet.range((top, left)).value = padded
            table.resize(sheet.range((area.row, left), (area.row + len(body), left + width - 1)))
            self._add_links(sheet, top, left, rows)

        self._pending.append(write)

    def _check_growth(self, sheet, first: int, last: int, left: int, right: int, region: str) -> None:
        """RegionBlocked when staff content sits in the rows (or, for a wider table, the columns) a
        region grows into (one range read)."""
        if last < first or right < left:
            return
        block = sheet.range((first, left), (last, right)).options(ndim=2).value
        for r, row in enumerate(block):
            for c, value in enumerate(row):
                if not is_blank(value):
                    where = sheet.range((first + r, left + c)).get_address(False, False)
                    raise RegionBlocked(blocked_message(sheet.name, where, region, last))

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

    def write_above(self, name: str, values: list[object], offset: int = 0) -> None:
        sheet, table = self.tables[name]
        area = table.range
        converted = [to_excel_value(v) for v in values]

        def write() -> None:
            sheet.range((area.row - 1, area.column + offset)).value = [converted]

        self._pending.append(write)

    def write_cell(self, name: str, value: object) -> None:
        target = self._named(name)
        if target is not None:
            converted = to_excel_value(value)

            def write() -> None:
                target[0, 0].value = converted

            self._pending.append(write)

    def write_lines(self, name: str, lines: list[str]) -> None:
        """Lines down the named column, the old lines below them cleared, the name resized to the new
        extent (so a shorter notice leaves nothing stale behind, now or on the next run)."""
        target = self._named(name)
        if target is None:
            return
        top, column, old = target.row, target.column, target.rows.count
        sheet = target.sheet
        self._check_growth(sheet, top + old, top + len(lines) - 1, column, column, name)
        height = max(len(lines), old)
        values = [[to_excel_value(lines[i]) if i < len(lines) else None] for i in range(height)]
        bottom = top + max(len(lines), 1) - 1
        letter = sheet.range((top, column)).get_address(False, False).rstrip("0123456789")

        def write() -> None:
            target[0, 0].value = values
            self.book.names[name].refers_to = f"={quote_sheet(sheet.name)}!${letter}${top}:${letter}${bottom}"

        self._pending.append(write)

    def _named(self, name: str):
        try:
            return self.book.names[name].refers_to_range
        except Exception:  # staff removed the name: nothing to write there
            return None

    def master_id(self) -> str | None:
        """The id binding the workbook to its history store (the hidden name the file door writes too)."""
        try:
            text = str(self.book.names[MASTER_ID_NAME].refers_to)
        except Exception:  # no such name yet
            return None
        return text.lstrip("=").strip().strip('"') or None

    def set_master_id(self, value: str) -> None:
        def write() -> None:
            try:
                self.book.names.add(MASTER_ID_NAME, f'="{value}"')
                self.book.names[MASTER_ID_NAME].api.Visible = False
            except Exception:  # an object model without names (or hiding): the next run binds again
                pass

        self._pending.append(write)

    def back_up(self, settings: Settings, now: dt.datetime) -> None:
        return None  # the workbook is open in Excel; staff save it (and Excel keeps its own versions)

    def save(self) -> None:
        """Carry out the checked writes; Excel owns the file, so staff save it as usual."""
        pending, self._pending = self._pending, []
        for write in pending:
            write()
