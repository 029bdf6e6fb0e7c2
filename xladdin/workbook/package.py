"""The master workbook as an OOXML package, written in place at the level of its parts.

Only what the add-in owns changes: the cells inside managed tables and named regions (in the
sheet XML, as text patches that keep every other cell, row attribute and element as it was), the
table and name extents, the hyperlinks inside managed regions, and the calculation flags (full
recalculation on open; a stale calcChain dropped). Every other part of the package — the VBA project,
drawings and form controls, charts, comments, styles, staff sheets — is copied byte for byte.
Reading goes through python-calamine over the same bytes. The patches themselves are in sheetxml
(rows and cells), hyperlinks, bookparts (workbook.xml, tables, charts), widths and repairs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from xladdin.base import values
from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.faults import crash_point
from xladdin.base.lazy import installed_version, pandas as pd
from xladdin.base.schema import SHEET_CHARTS, cell_address, column_letter, parse_range
from xladdin.base.values import is_blank
from xladdin.domain import validate
from xladdin.domain.settings import Settings
from xladdin.workbook import master
from xladdin.workbook.bookparts import (
    full_calc_on_load,
    name_target,
    name_text,
    put_hidden_name,
    resize_table,
    retarget_chart,
    set_name,
    set_table_columns,
    sheet_parts,
    table_of,
)
from xladdin.workbook.hyperlinks import patch_hyperlinks
from xladdin.workbook.layout import MANAGED_SHEETS, REGISTRY, SETTINGS, TABLES, TableSpec, owned_heading, table_spec
from xladdin.workbook.lock import office_owner
from xladdin.workbook.master import (
    MASTER_ID_NAME,
    ColumnFormula,
    Link,
    backup,
    quote_sheet,
    read_registry,
    read_settings,
    require_master,
)
from xladdin.workbook.reader import Grid
from xladdin.workbook.regions import RegionRecord, part_digest
from xladdin.workbook.repairs import repair_dxf_fills, repair_parts
from xladdin.workbook.room import (
    RegionBlocked,
    SharedStrings,
    blocked_message,
    cell_text,
    growth_blocker,
    heading_problem,
    pasted_ledger,
)
from xladdin.workbook.sheetxml import SheetData, cell_xml, column_cells, formula_column_cells, shared_formula_cells
from xladdin.workbook.widths import SAMPLE, current_widths, display_width, fit_print, wanted_width, widen
from xladdin.workbook.xmlparts import (
    attr,
    compressed_entries,
    rel_targets,
    rels_of,
    unescape,
    write_compressed,
    zip_of,
)

LINE_PT = 15  # one wrapped line of 11 pt text


def _identity(path: Path) -> tuple[int, int]:
    """What tells the master file apart from a later save of it: size and modification time."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


@dataclass
class TablePart:
    name: str
    part: str
    sheet: str
    ref: str


BLOCK_ROWS = SAMPLE  # rows of a block made into XML at a time (widths look at the first SAMPLE rows)


class MasterBook:
    """An open master workbook: its parts in memory, patched in place, saved atomically."""

    def __init__(self, path: Path, infos: list[zipfile.ZipInfo], parts: dict[str, bytes], raw: bytes = b""):
        self.path = path
        self.raw = raw
        self.identity: tuple[int, int] | None = None  # size and mtime when read (check_unchanged)
        self.file_digest: str | None = None  # of the file's bytes as opened, then as the last save wrote them
        self.infos = infos
        self.parts = parts
        self._read = dict(parts)  # the parts as `raw` holds them: one still identical is copied compressed
        self._sheets: dict[str, SheetData] = {}  # part -> parsed sheet, for sheets being patched
        self._links: dict[str, list[tuple[str, Link]]] = {}  # sheet part -> (cell ref, link) to add
        self._link_regions: dict[str, list[tuple[int, int, int, int]]] = {}
        self._wanted: dict[str, dict[int, float]] = {}  # sheet part -> column -> width its content asks for
        self._calamine = None
        self._read_digests: dict[str, str] = {}  # part -> digest of its bytes as read (_part_digest)
        self._regions = RegionRecord(None, parts)  # no record: every region is written
        self.saved_parts: dict[str, str] = {}  # sheet part -> digest of the bytes the last save wrote
        self.sheet_parts = sheet_parts(self._text("xl/workbook.xml"), self._text("xl/_rels/workbook.xml.rels"))
        self.tables: dict[str, TablePart] = {}
        for sheet, part in self.sheet_parts.items():
            for target in rel_targets(self.parts, part, "/table"):
                name, ref = table_of(self._text(target))
                self.tables[name] = TablePart(name, target, sheet, ref)

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> "MasterBook":
        path = require_master(path)
        try:
            identity = _identity(path)
            raw = path.read_bytes()
            digest = hashlib.sha1(raw).hexdigest()
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                infos = archive.infolist()
                parts = {info.filename: archive.read(info) for info in infos}
            if repair_parts(parts):  # written by an older xladdin: repaired in memory, saved by the run
                raw = zip_of(infos, parts)
            book = cls(path, infos, parts, raw)
            book.identity = identity
            book.file_digest = digest
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, AttributeError, UnicodeDecodeError) as exc:
            raise MasterUnusable(f"母表文件已损坏或不是 Excel 文件：{path.name}（{type(exc).__name__}）。"
                                 "请从“备份”文件夹恢复最近的母表。") from None
        missing = [spec.name for spec in TABLES.values() if spec.name not in book.tables]
        if missing:
            raise MasterUnusable(f"母表缺少受管理的表格 {', '.join(missing)}，可能被删除或改名。"
                                 "请从“备份”文件夹恢复，或用 xladdin init 新建母表后复制项目清单。")
        return book

    def _text(self, part: str) -> str:
        return self.parts[part].decode("utf-8")

    # -- reading --------------------------------------------------------------------------------

    def _grid(self, sheet: str) -> list[list[object]]:
        if self._calamine is None:
            self._calamine = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.raw))
        return self._calamine.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

    def sheet_grid(self, sheet: str) -> list[list[object]]:
        """A whole sheet's values from A1 (rows of equal length; empty cells as "")."""
        return self._grid(sheet)

    def table_rows(self, name: str, grid: list[list[object]] | None = None) -> tuple[list[str], list[tuple[int, list[object]]]]:
        """Header labels and (sheet row, values) of a table's data rows, blank rows skipped (`grid`: its
        sheet as read already)."""
        table = self.tables[name]
        min_col, min_row, max_col, max_row = parse_range(table.ref)
        grid = self._grid(table.sheet) if grid is None else grid

        def cells(r: int) -> list[object]:
            row = grid[r - 1] if r - 1 < len(grid) else []
            return [row[c - 1] if c - 1 < len(row) else None for c in range(min_col, max_col + 1)]

        header = ["" if is_blank(v) else str(v) for v in cells(min_row)]
        rows = [(r, [None if v == "" else v for v in cells(r)]) for r in range(min_row + 1, max_row + 1)]
        return header, [(r, v) for r, v in rows if not all(is_blank(x) for x in v)]

    def table_origin(self, name: str) -> tuple[int, int]:
        """(first data row, first column) of a table."""
        min_col, min_row, _, _ = parse_range(self.tables[name].ref)
        return min_row + 1, min_col

    def settings(self) -> Settings:
        return read_settings(self.table_rows(SETTINGS.name)[1])

    def pasted_grids(self) -> list[Grid]:
        """Sheets staff pasted into the master that hold a ledger (its header): submissions too."""
        grids = (Grid(sheet=name, rows=self._grid(name)) for name in self.sheet_parts if name not in MANAGED_SHEETS)
        return [grid for grid in grids if pasted_ledger(grid)]

    def registry(self) -> pd.DataFrame:
        grid = self._grid(self.tables[REGISTRY.name].sheet)  # read once for both
        header, rows = self.table_rows(REGISTRY.name, grid)
        self._refuse_rows_below(REGISTRY.name, grid)
        del grid
        return read_registry(header, rows, parse_range(self.tables[REGISTRY.name].ref)[0])

    def _refuse_rows_below(self, name: str, grid: list[list[object]]) -> None:
        """A row typed just under a table that did not grow with it (Excel's auto-expansion off, or a WPS/LibreOffice
        edit) is not read as part of it: refused naming its cell, never silently left out (exit 2)."""
        table = self.tables[name]
        min_col, _, max_col, max_row = parse_range(table.ref)
        below = grid[max_row] if max_row < len(grid) else []
        filled = [c for c in range(min_col, max_col + 1) if c - 1 < len(below) and not is_blank(below[c - 1])]
        if filled:
            cell = f"{column_letter(filled[0])}{max_row + 1}"
            raise SettingsError(
                f"“{table.sheet}”工作表第 {max_row + 1} 行（{cell}“{below[filled[0] - 1]}”）填在表格范围 {table.ref} 之外，"
                f"不会被读作{table.sheet}的一行，请选中表格任一单元格，用“表设计→调整表格大小”把该行包含进表格"
                f"（或在表格最后一行末尾按 Tab 新增行后重填）再运行。")

    def registry_key(self) -> str:
        """A digest of everything the registry is read from: its sheet part, the table's range, the
        shared strings and styles its cells refer to, the workbook's date system, and the code that
        reads it. Equal keys, equal registries: a run can reuse the one it read before."""
        table = self.tables[REGISTRY.name]
        date1904 = re.search(r'\bdate1904="(1|true)"', self._text("xl/workbook.xml")) is not None
        digest = hashlib.sha256(f"{table.sheet}|{table.ref}|{date1904}|{installed_version('pandas')}".encode())
        for module in (master, values, validate):
            digest.update(Path(module.__file__).read_bytes())
        for part in (self.sheet_parts[table.sheet], "xl/sharedStrings.xml", "xl/styles.xml"):
            content = self.parts.get(part, b"")
            digest.update(f"{part}:{len(content)}:".encode())
            digest.update(content)
        return digest.hexdigest()

    # -- writing --------------------------------------------------------------------------------

    def keep_unchanged(self, record: str | None) -> None:
        """The regions the last run left (regions.RegionRecord's text): a region it would write with the
        same content, on a sheet part still as that run saved it, is left alone."""
        self._regions = RegionRecord(record, self.parts, self._part_digest)

    def _part_digest(self, part: str) -> str:
        """The digest of a part's bytes, worked out once for a part still as read (a second click digests
        every sheet to check the record, and again for the record it saves)."""
        data = self.parts[part]
        if data is not self._read.get(part):
            return part_digest(data)
        if part not in self._read_digests:
            self._read_digests[part] = part_digest(data)
        return self._read_digests[part]

    def region_record(self) -> str:
        """The record of the regions as saved, for the next run's keep_unchanged."""
        return self._regions.text(self.saved_parts)

    def _shared_strings(self) -> SharedStrings:
        if not hasattr(self, "_shared"):
            shared = self.parts.get("xl/sharedStrings.xml")
            self._shared = SharedStrings(shared.decode("utf-8") if shared else None)
        return self._shared

    def _sheet(self, sheet: str) -> tuple[str, SheetData]:
        part = self.sheet_parts[sheet]
        if part not in self._sheets:
            self._sheets[part] = SheetData(self._text(part))
            self.parts[part] = b""  # the parsed rows stand for it until the save writes them out
        return part, self._sheets[part]

    def _write_block(self, sheet: str, top: int, left: int, rows: list[list[object]], width: int,
                     old_bottom: int, styles: list[str | None], region: str = "",
                     formulas: dict[int, ColumnFormula] | None = None) -> None:
        """Rows of values at (top, left); cells of the old block below the new one are removed.
        `formulas`: columns (0 = left) of one formula each, written as a shared formula whose rows carry
        the computed values.

        A column keeps one style, the one its first data cell has (so a format staff give a managed
        column follows it as it grows); building each row's XML at once keeps this linear and fast.
        The block grows only into empty cells: RegionBlocked (nothing written) when staff content is
        in the way.
        """
        part, data = self._sheet(sheet)
        bottom = top + len(rows) - 1
        blocker = growth_blocker(data.rows, data.cells, data.tail, left, left + width - 1, max(old_bottom, top - 1) + 1,
                                 bottom)
        if blocker is not None:
            raise RegionBlocked(blocked_message(sheet, blocker, region or sheet, bottom))
        self._link_regions.setdefault(part, []).append((left, top, left + width - 1, max(old_bottom, top)))
        right = left + width - 1
        links = self._links.setdefault(part, [])
        wanted = self._wanted.setdefault(part, {})
        letters = [column_letter(left + i) for i in range(width)]
        formulas = formulas or {}
        shared: dict[int, tuple[int, str]] = {}  # column -> (si, the formula's range)
        if len(rows) > 1 and any(f.shared for f in formulas.values()):
            used = data.shared_indexes(top, max(bottom, old_bottom), left, right)
            free = (si for si in itertools.count() if si not in used)
            shared = {i: (next(free), f"{letters[i]}{top}:{letters[i]}{bottom}") for i in sorted(formulas)
                      if formulas[i].shared}
        # A few thousand rows at a time: the cells' XML of a 20,000-row table is never all held at once.
        for start in range(0, len(rows), BLOCK_ROWS):
            chunk, first = rows[start:start + BLOCK_ROWS], top + start
            columns = []
            for i, letter in enumerate(letters):
                column = [row[i] for row in chunk]
                if not start:  # widths from the first rows (wanted_width looks at no more)
                    wanted[left + i] = max(wanted.get(left + i, 0.0), wanted_width(column))
                if i in shared:
                    si, ref = shared[i]
                    columns.append(shared_formula_cells(data.prefix, letter, first, column, styles[i], si,
                                                        (formulas[i].at(0), ref) if not start else None))
                    continue
                if i in formulas:  # a text per row, or a single row: each cell its own formula
                    columns.append(formula_column_cells(data.prefix, letter, first, column, styles[i],
                                                        formulas[i], start))
                    continue
                kinds = set(map(type, column))
                columns.append(column_cells(data.prefix, letter, first, column, styles[i], kinds))
                if Link in kinds:
                    links.extend((f"{letter}{r}", v) for r, v in enumerate(column, first)
                                 if type(v) is Link and (v.target or v.location))
            for r, cells in enumerate(zip(*columns), first):
                data.replace_run(r, left, right, cells, right)
            del columns
        for r in range(bottom + 1, old_bottom + 1):
            data.replace_run(r, left, right, ())

    def write_rows(self, sheet: str, top: int, left: int, rows: list[list[object]], old_bottom: int) -> None:
        """Rows of values at (top, left) of an unmanaged block (the xlwings.conf sheet); the old block's
        cells below the new one are removed."""
        width = max((len(r) for r in rows), default=1)
        _, data = self._sheet(sheet)
        block = [list(r) + [None] * (width - len(r)) for r in rows] or [[None] * width]
        self._write_block(sheet, top, left, block, width, old_bottom,
                          [data.style(top, left + i) for i in range(width)])

    def write_table(self, name: str, rows: list[list[object]], spec: TableSpec | None = None,
                    formulas: dict[int, ColumnFormula] | None = None) -> None:
        """Replace a table's data rows and resize it; the header and everything around it stay. `spec`:
        the table's columns where they follow 设置 (the 节点计划's nodes), else the layout's. `formulas`:
        columns (0 = the first) holding one formula down the table, the rows carrying its values."""
        spec = spec or table_spec(name)
        table = self.tables[name]
        content = rows if spec is table_spec(name) else [spec.labels, *rows]
        if formulas:
            content = [*content, sorted(formulas.items())]
        if self._regions.unchanged(name, self.sheet_parts[table.sheet], content):
            return
        min_col, header_row, _, old_last = parse_range(table.ref)
        width = len(spec.columns)
        _, data = self._sheet(table.sheet)
        max_col = parse_range(table.ref)[2]
        heading = {col: cell_text(xml, self._shared_strings()) for col, xml in data.cells(header_row).items()}
        problem = heading_problem(table.sheet, spec.labels, heading, min_col, header_row, max_col)
        if problem is not None:
            labels = [heading.get(col, "") for col in range(min_col, max_col + 1)]
            if not owned_heading(name, labels):
                raise RegionBlocked(problem)
            self._upgrade_heading(name, min_col, header_row, max_col, old_last, spec)
        styles = [data.style(header_row + 1, min_col + i) for i in range(width)]
        if problem is not None:
            styles = self._upgraded_styles(spec, styles)
        block = rows if rows else [[None] * width]
        self._write_block(table.sheet, header_row + 1, min_col, block, width, old_last, styles, f"{table.sheet}表格",
                          formulas if rows else None)
        new_ref = f"{column_letter(min_col)}{header_row}:{column_letter(min_col + width - 1)}" \
                  f"{header_row + len(block)}"
        self.parts[table.part] = resize_table(self._text(table.part), new_ref).encode("utf-8")
        table.ref = new_ref
        if table.sheet == SHEET_CHARTS:
            self._retarget_charts(table.sheet, min_col, min_col + width - 1, header_row + 1, header_row + len(block))

    def _upgraded_styles(self, spec: TableSpec, styles: list[str | None]) -> list[str | None]:
        """The column styles of a table brought to new columns: a date column takes a date format the
        table had (an old layout's 计划完成日期 under what is now 报批·计划), a column of other values
        does not keep one (a 计划 column where 节点 was) — else the new rows would show serial numbers."""
        dates = self._date_styles()
        date_style = next((s for s in styles if s in dates), None)
        plain_style = next((s for s in styles if s not in dates), None)
        out = []
        for style, column in zip(styles, spec.columns):
            wants_date = column.number_format.startswith("yyyy")
            if wants_date and style not in dates and date_style is not None:
                style = date_style
            elif not wants_date and style in dates:
                style = plain_style
            out.append(style)
        return out

    def _date_styles(self) -> set[str | None]:
        """The cell formats (styles.xml › cellXfs, by index) that show a date."""
        xml = self._text("xl/styles.xml") if "xl/styles.xml" in self.parts else ""
        custom = {}
        for attrs in re.findall(r"<(?:\w+:)?numFmt\b([^>]*)/?>", xml):
            code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", unescape(attr(attrs, "formatCode") or "")).lower()
            custom[attr(attrs, "numFmtId")] = "y" in code or "d" in code
        found = re.search(r"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", xml, re.S)
        dates: set[str | None] = set()
        for i, attrs in enumerate(re.findall(r"<(?:\w+:)?xf\b([^>]*)>", found.group(1) if found else "")):
            number = attr(attrs, "numFmtId") or "0"
            if custom.get(number, number.isdigit() and (14 <= int(number) <= 22 or 45 <= int(number) <= 47)):
                dates.add(str(i))
        return dates

    def _upgrade_heading(self, name: str, min_col: int, header_row: int, max_col: int, old_last: int,
                         spec: TableSpec) -> None:
        """Bring a table laid out by an earlier version to the current columns: its heading row and the
        table part's column list are rewritten (the rows are rewritten by the caller). A wider table
        grows only into empty cells."""
        table = self.tables[name]
        _, data = self._sheet(table.sheet)
        right = min_col + len(spec.columns) - 1
        if right > max_col:
            blocker = growth_blocker(data.rows, data.cells, data.tail, max_col + 1, right, header_row,
                                     max(old_last, header_row + 1))
            if blocker is not None:
                raise RegionBlocked(blocked_message(table.sheet, blocker, f"{table.sheet}表格", old_last))
        style = data.style(header_row, min_col)
        labels = spec.labels + [None] * max(0, max_col - right)
        cells = [cell_xml(data.prefix, cell_address(header_row, min_col + i), label, style)
                 for i, label in enumerate(labels)]
        data.replace_run(header_row, min_col, min_col + len(labels) - 1, cells, min_col + len(labels) - 1)
        self.parts[table.part] = set_table_columns(self._text(table.part), spec.labels).encode("utf-8")

    def _retarget_charts(self, sheet: str, first_col: int, last_col: int, first_row: int, last_row: int) -> None:
        """Point the add-in's charts (those over 图表) at the new extent of a table they plot."""
        for part in [p for p in self.parts if re.match(r"xl/charts/chart\d+\.xml$", p)]:
            xml = self._text(part)
            patched = retarget_chart(xml, sheet, first_col, last_col, first_row, last_row)
            if patched != xml:
                self.parts[part] = patched.encode("utf-8")

    def write_above(self, name: str, values: list[object], offset: int = 0) -> None:
        table = self.tables[name]
        min_col, header_row, _, _ = parse_range(table.ref)
        _, data = self._sheet(table.sheet)
        row, style = header_row - 1, None
        for i, value in enumerate(values):
            col = min_col + offset + i
            style = data.style(row, col) or style
            data.put(row, col, cell_xml(data.prefix, cell_address(row, col), value, style))

    def write_cell(self, name: str, value: object) -> None:
        """Write one value at a named cell (the first cell when the name is a range)."""
        target = name_target(self._text("xl/workbook.xml"), name, self.sheet_parts)
        if target is None:
            return  # staff removed the name: nothing to write there
        sheet, (col, row, _, _) = target
        if self._regions.unchanged(name, self.sheet_parts[sheet], value):
            return
        _, data = self._sheet(sheet)
        data.put(row, col, cell_xml(data.prefix, cell_address(row, col), value, data.style(row, col)))

    def write_lines(self, name: str, lines: list[str]) -> None:
        """Write lines down a named one-column region and resize the name to the new extent."""
        target = name_target(self._text("xl/workbook.xml"), name, self.sheet_parts)
        if target is None:
            return
        sheet, (col, top, _, bottom) = target
        if self._regions.unchanged(name, self.sheet_parts[sheet], list(lines)):
            return
        _, data = self._sheet(sheet)
        rows = [[line] for line in lines] or [[None]]
        self._write_block(sheet, top, col, rows, 1, bottom, [data.style(top, col)], "通报正文")
        # Each paragraph wraps in its column: a row as tall as its lines (no program grows it on open).
        chars = max(1.0, current_widths(data.head, col, col)[col] - 1)
        for r in range(top, max(bottom, top + len(rows) - 1) + 1):
            entry = data.rows.get(r)
            if entry is None:
                continue
            text = lines[r - top] if r - top < len(lines) else ""
            entry[0] = re.sub(r'\s(?:ht|customHeight)="[^"]*"', "", entry[0])
            if text:
                entry[0] += f' ht="{LINE_PT * math.ceil(display_width(text) / chars) + 3:g}" customHeight="1"'
        letter = column_letter(col)
        extent = f"{quote_sheet(sheet)}!${letter}${top}:${letter}${top + len(rows) - 1}"
        self.parts["xl/workbook.xml"] = set_name(self._text("xl/workbook.xml"), name, extent).encode("utf-8")

    # -- saving ---------------------------------------------------------------------------------

    def _finish(self) -> dict[str, SheetData]:
        """Apply the pending changes to every part but the patched sheets, which are returned to be
        written out row by row (a province's sheets are hundreds of MB as one string)."""
        sheets, self._sheets = self._sheets, {}
        names = {part: sheet for sheet, part in self.sheet_parts.items()}
        for part, data in sheets.items():
            data.tail = self._patch_hyperlinks(part, data.tail, data.prefix)  # <hyperlinks> follows <sheetData>
            if part in self._wanted:
                data.head = widen(data.head, self._wanted[part])
                data.tail = fit_print(names.get(part, ""), data.head, data.tail)
        self._wanted.clear()
        self._links.clear()
        self._link_regions.clear()
        self._recalculate_on_open()
        repair_dxf_fills(self.parts)
        return sheets

    def _patch_hyperlinks(self, part: str, xml: str, prefix: str) -> str:
        regions = self._link_regions.get(part, [])
        new = self._links.get(part, [])
        if not regions and not new:
            return xml
        rels_part = rels_of(part)
        xml, rels = patch_hyperlinks(xml, prefix, self.parts.get(rels_part, b"").decode("utf-8"), regions, new)
        self.parts[rels_part] = rels.encode("utf-8")
        return xml

    def _recalculate_on_open(self) -> None:
        self.parts["xl/workbook.xml"] = full_calc_on_load(self._text("xl/workbook.xml")).encode("utf-8")
        # calcChain lists formula cells; after our rewrite it may name cells that hold none: Excel
        # rebuilds it, so drop it with its relationship and content type.
        if "xl/calcChain.xml" in self.parts:
            del self.parts["xl/calcChain.xml"]
            self.infos = [i for i in self.infos if i.filename != "xl/calcChain.xml"]
            rels = self._text("xl/_rels/workbook.xml.rels")
            rels = re.sub(r"<Relationship\b[^>]*calcChain[^>]*/>", "", rels)
            self.parts["xl/_rels/workbook.xml.rels"] = rels.encode("utf-8")
            types = self._text("[Content_Types].xml")
            types = re.sub(r'<Override\b[^>]*PartName="/xl/calcChain.xml"[^>]*/>', "", types)
            self.parts["[Content_Types].xml"] = types.encode("utf-8")

    def package_bytes(self) -> bytes:
        """The whole package after the pending changes, as a zip."""
        sheets = self._finish()
        buffer = io.BytesIO()
        names = set()
        worksheets = set(self.sheet_parts.values())
        self.saved_parts = {}
        entries = compressed_entries(self.raw) if self.raw else {}
        raw = memoryview(self.raw)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in self.infos:
                names.add(info.filename)
                sheet = sheets.pop(info.filename, None)
                if sheet is None:
                    entry = entries.get(info.filename)
                    if entry is not None and self.parts[info.filename] is self._read.get(info.filename):
                        source, start = entry  # unchanged: its compressed bytes as they are, not deflated again
                        write_compressed(archive, source, raw[start:start + source.compress_size])
                    else:
                        archive.writestr(info, self.parts[info.filename], compress_type=zipfile.ZIP_DEFLATED)
                    if info.filename in worksheets:
                        self.saved_parts[info.filename] = self._part_digest(info.filename)
                    continue
                digest = hashlib.sha1()
                # A rewritten sheet, streamed: deflated at the fastest level, which halves the cost of the
                # largest parts for a file about a third larger (Excel saves it smaller again).
                target = zipfile.ZipInfo(info.filename, info.date_time)
                target.compress_type, target._compresslevel = zipfile.ZIP_DEFLATED, 1
                target.external_attr = info.external_attr
                with archive.open(target, "w") as out:
                    for data in sheet.chunks():
                        digest.update(data)
                        out.write(data)
                self.saved_parts[info.filename] = digest.hexdigest()
            for name, data in self.parts.items():
                if name not in names:  # a part created by this writer (a sheet's first rels file)
                    archive.writestr(name, data)
        return buffer.getvalue()

    def back_up(self, settings: Settings, now: dt.datetime, label: str = "") -> Path:
        """Copy the master as it is now into the backup folder, named by the run's `now`; returns the copy
        (`label`: see backup)."""
        return backup(self.path, self.path.parent / settings.backups, settings.backup_count, now, label)

    def master_id(self) -> str | None:
        """The id binding this master to its history store (a hidden defined name); None before a run set it."""
        return name_text(self._text("xl/workbook.xml"), MASTER_ID_NAME) or None

    def set_master_id(self, value: str) -> None:
        self.parts["xl/workbook.xml"] = put_hidden_name(self._text("xl/workbook.xml"), MASTER_ID_NAME,
                                                        value).encode("utf-8")

    def check_unchanged(self) -> None:
        """MasterUnusable (exit 3) when the master on disk is no longer the file this run read: staff
        saved it meanwhile, or Excel, WPS or LibreOffice has it open (their save would overwrite ours)."""
        owner = office_owner(self.path)
        if owner:
            raise MasterUnusable(f"运行期间母表 {self.path.name} 被 {owner} 打开了，本次结果没有写入母表。"
                                 "请保存并关闭母表后重新运行。")
        try:
            now = _identity(self.path)
        except OSError:
            now = None
        if self.identity is not None and now != self.identity:
            raise MasterUnusable(f"运行期间母表 {self.path.name} 被修改或另存过，本次结果没有写入母表，"
                                 "以免覆盖这些修改。请重新运行（已接收的数据不会丢失）。")

    def save(self) -> None:
        """Write to a temporary file beside the master, then atomically replace it: never half-written.
        Just before the replace the master must still be the file the run read (check_unchanged); if not,
        the run's result is kept beside it as …-未写入.xlsm and MasterUnusable says so."""
        data = self.package_bytes()
        temp = self.path.with_name(f".~{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            crash_point("temp-written")
            try:
                self.check_unchanged()
            except MasterUnusable as exc:
                kept = self.path.with_name(f"{self.path.stem}-本次结果未写入{self.path.suffix}")
                os.replace(temp, kept)
                raise MasterUnusable(f"{exc} 本次运行的结果另存为 {kept.name}。") from None
            os.replace(temp, self.path)
            self.identity = _identity(self.path)
            self.file_digest = hashlib.sha1(data).hexdigest()
        finally:
            if temp.exists():
                temp.unlink()
