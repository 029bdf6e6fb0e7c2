"""The master workbook as an OOXML package, written in place at the level of its parts.

Only what the add-in owns changes: the cells inside managed tables and named regions (in the
sheet XML, as text patches that keep every other cell, row attribute and element as it was), the
table and name extents, the hyperlinks inside managed regions, and the calculation flags (full
recalculation on open; a stale calcChain dropped). Every other part of the package — the VBA project,
drawings and form controls, charts, comments, styles, staff sheets — is copied byte for byte.
Reading goes through python-calamine over the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import python_calamine

from ..faults import crash_point
from ..schema import SHEET_CHARTS, cell_address, column_index, column_letter, parse_range
from ..settings import Settings
from ..values import is_blank
from .layout import (
    MANAGED_SHEETS, PRINT_TITLE_COLUMNS, REGISTRY, SETTINGS, TABLES, TableSpec, owned_heading, print_extent,
    table_spec,
)
from .widths import current_widths, display_width, pages_wide, wanted_width, widen

LINE_PT = 15  # one wrapped line of 11 pt text
from .reader import Grid
from .room import RegionBlocked, SharedStrings, blocked_message, cell_text, growth_blocker, heading_problem
from .master import ILLEGAL_CHARACTERS_RE, Formula, Link, MasterUnusable, backup, quote_sheet, read_registry, read_settings, require_master

_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HYPERLINK_TYPE = f"{_R_NS}/hyperlink"
_EPOCH = dt.datetime(1899, 12, 30)
# Elements that must follow <hyperlinks> in a worksheet (ECMA-376 order), for inserting it.
_AFTER_HYPERLINKS = ("printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                     "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                     "legacyDrawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
                     "extLst")


def _letters(text: str, at: int) -> str:
    """The column letters of a cell reference starting at `at` ('' if there are none)."""
    end = at
    while end < len(text) and end - at < 3 and "A" <= text[end] <= "Z":
        end += 1
    return text[at:end] if end < len(text) and text[end].isdigit() else ""




def _attr(attrs: str, name: str) -> str | None:
    match = re.search(rf'(?:^|\s){name}="([^"]*)"', attrs)
    return match.group(1) if match else None


def _set_attr(tag: str, name: str, value: str) -> str:
    """Set an attribute on the opening tag text `<x a="1" ...>`."""
    if re.search(rf'\s{name}="[^"]*"', tag):
        return re.sub(rf'(\s{name}=)"[^"]*"', lambda m: f'{m.group(1)}"{value}"', tag, count=1)
    end = -2 if tag.endswith("/>") else -1
    return f'{tag[:end]} {name}="{value}"{tag[end:]}'


@dataclass
class TablePart:
    name: str
    part: str
    sheet: str
    ref: str


_UNREADABLE_SHEET = "母表的工作表结构无法识别。请从“备份”文件夹恢复。"


class _Sheet:
    """The <sheetData> of one worksheet split into rows, to be patched and put back.

    A row's cells stay one string until something needs them one by one: a run rewrites whole rows
    of its tables, and parsing every cell of a large sheet only to replace it would dominate the job.
    """

    _CELL = r'<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)'

    def __init__(self, xml: str):
        match = re.search(r"<(\w+:)?sheetData\b[^>]*?(/>|>)", xml)
        if match is None:
            raise MasterUnusable(_UNREADABLE_SHEET)
        self.prefix = match.group(1) or ""
        p = re.escape(self.prefix)
        start = match.end()
        if match.group(2) == "/>":
            self.head, self.tail = xml[:match.start()] + f"<{self.prefix}sheetData>", \
                f"</{self.prefix}sheetData>" + xml[match.end():]
            start = end = 0
        else:  # the rows are found in place: a copy of a large sheet's body would double its memory
            end = xml.index(f"</{self.prefix}sheetData>", start)
            self.head, self.tail = xml[:start], xml[end:]
        # row -> [attrs, cells]: cells either the row's cell XML as one string, or {col: cell xml}
        self.rows: dict[int, list] = {}
        self._widths: dict[int, int] = {}  # row -> last column, for rows this writer filled whole
        self._fast_cell = re.compile(rf'<{p}c\b[^>]*?\br="([A-Z]{{1,3}})\d+"[^>]*?(?:/>|>.*?</{p}c>)', re.S)
        self._slow_cell = re.compile(self._CELL.format(p=p), re.S)
        self._first_ref = re.compile(rf'<{p}c\b[^>]*?\br="([A-Z]{{1,3}})\d+"')
        row_number = re.compile(r'(?:^|\s)r="(\d+)"')
        spans = re.compile(r'\sspans="[^"]*"')
        last_row = 0
        for attrs, content in self._scan_rows(xml, start, end):
            found = row_number.search(attrs)
            number = int(found.group(1)) if found else last_row + 1
            last_row = number
            self.rows[number] = [spans.sub("", attrs) if " spans=" in attrs else attrs, content]

    def _scan_rows(self, xml: str, start: int, end: int):
        """(attributes, content) of each <row> between start and end, found with str.find: a row's
        attributes never hold '>' (numbers and flags), and rows do not nest."""
        opening, closing = f"<{self.prefix}row", f"</{self.prefix}row>"
        find, pos = xml.find, start
        while True:
            at = find(opening, pos, end)
            if at < 0:
                return
            after = at + len(opening)
            if xml[after] not in " \t\r\n/>":  # another element whose name starts with "row"
                pos = after
                continue
            close = find(">", after, end)
            if close < 0:
                raise MasterUnusable(_UNREADABLE_SHEET)
            if xml[close - 1] == "/":
                yield xml[after:close - 1], ""
                pos = close + 1
            else:
                stop = find(closing, close, end)
                if stop < 0:
                    raise MasterUnusable(_UNREADABLE_SHEET)
                yield xml[after:close], xml[close + 1:stop]
                pos = stop + len(closing)

    def cells(self, row: int) -> dict[int, str]:
        """The row's cells by column, parsed now if they were not yet."""
        entry = self.rows.setdefault(row, ["", {}])
        if isinstance(entry[1], str):
            entry[1] = self._parse(entry[1])
            self._widths.pop(row, None)  # known from the cells from now on
        return entry[1]

    def _parse(self, content: str) -> dict[int, str]:
        p = self.prefix
        matches = list(self._fast_cell.finditer(content))
        if len(matches) == content.count(f"<{p}c ") + content.count(f"<{p}c>"):
            return {column_index(cell.group(1)): cell.group(0) for cell in matches}
        cells, last_col = {}, 0  # cells without an r attribute (allowed, rare): positions follow their order
        for cell in self._slow_cell.finditer(content):
            ref = _attr(cell.group(1), "r")
            col = column_index(re.match(r"[A-Z]+", ref).group(0)) if ref else last_col + 1
            last_col = col
            cells[col] = cell.group(0)
        return cells

    def _span(self, content: str) -> tuple[int, int] | None:
        """First and last column of a row's unparsed cells (cells are in column order); None if
        there are none, (0, 0) if a cell has no reference to tell."""
        p = self.prefix
        last = max(content.rfind(f"<{p}c "), content.rfind(f"<{p}c>"))
        if last < 0:
            return None
        quick = f'<{p}c r="'  # where r comes first, as Excel, openpyxl and this writer put it
        if content.startswith(quick) and content.startswith(quick, last):
            first, final = _letters(content, len(quick)), _letters(content, last + len(quick))
            if first and final:
                return column_index(first), column_index(final)
        first, final = self._first_ref.match(content, content.find(f"<{p}c")), self._first_ref.match(content, last)
        if first is None or final is None:
            return 0, 0
        return column_index(first.group(1)), column_index(final.group(1))

    def style(self, row: int, col: int) -> str | None:
        entry = self.rows.get(row)
        if entry is None:
            return None
        xml = self.cells(row).get(col)
        return _attr(xml.split(">", 1)[0], "s") if xml else None

    def put(self, row: int, col: int, xml: str | None) -> None:
        cells = self.cells(row)
        if xml is None:
            cells.pop(col, None)
        else:
            cells[col] = xml

    def replace_run(self, row: int, left: int, right: int, cells, last: int = 0) -> None:
        """Cells left..right of a row replaced by `cells` (their XML, in column order; empty clears them),
        `last` the column of the last one."""
        entry = self.rows.get(row)
        if entry is None:
            if cells:
                self.rows[row] = ["", "".join(cells)]
                self._widths[row] = last
            return
        if isinstance(entry[1], str):
            span = self._span(entry[1])
            if span is None or (left <= span[0] and span[1] <= right):  # nothing else in the row
                entry[1] = "".join(cells)
                self._widths[row] = last
                return
        existing = self.cells(row)
        for col in range(left, right + 1):
            existing.pop(col, None)
        existing.update(zip(range(left, left + len(cells)), cells))

    def chunks(self, rows_per_chunk: int = 2000):
        """The sheet XML in pieces of a few thousand rows, in order, never all of it in one string."""
        p = self.prefix
        numbers = sorted(self.rows)
        last_row = last_col = 0
        for number in numbers:  # the extent first: <dimension> comes before the rows
            cells = self.rows[number][1]
            if isinstance(cells, str):
                width = self._widths.get(number)
                if width is None:
                    span = self._span(cells) if cells else None
                    width = span[1] if span else 0
            else:
                width = max(cells, default=0)
            if cells:
                last_row, last_col = number, max(last_col, width)
        head = self.head
        if last_row and last_col:
            ref = f"A1:{cell_address(last_row, last_col)}"
            head = re.sub(r'(<(?:\w+:)?dimension\b[^>]*?\bref=)"[^"]*"', lambda m: f'{m.group(1)}"{ref}"', head,
                          count=1)
        yield head
        parts = []
        for number in numbers:
            attrs, cells = self.rows[number]
            content = cells if isinstance(cells, str) else "".join(cells[c] for c in sorted(cells))
            if not content and not attrs.strip(" "):
                continue
            attrs = attrs if ' r="' in attrs or attrs.startswith('r="') else f' r="{number}"{attrs}'
            parts.append(f"<{p}row{attrs}>{content}</{p}row>")
            if len(parts) >= rows_per_chunk:
                yield "".join(parts)
                parts = []
        yield "".join(parts)
        yield self.tail


def cell_xml(prefix: str, ref: str, value: object, style: str | None) -> str:
    """One <c> element; submitted text is always an inline string, never a formula."""
    s = f' s="{style}"' if style else ""
    p = prefix
    kind = type(value)
    if kind is float:
        if value != value:  # NaN
            return f'<{p}c r="{ref}"{s}/>'
        return f'<{p}c r="{ref}"{s}><{p}v>{_number(value)}</{p}v></{p}c>'
    if kind is str:
        text = _clean(value)
        if not text:  # blank, as the cell of a text never given: COUNTA and Ctrl+arrow skip it
            return f'<{p}c r="{ref}"{s}/>'
        return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{text}</{p}t>'
                f'</{p}is></{p}c>')
    if value is None:
        return f'<{p}c r="{ref}"{s}/>'
    if isinstance(value, Formula):
        formula = f'<{p}f>{escape(str(value)[1:])}</{p}f>'
        cached = value.cached.item() if hasattr(value.cached, "item") else value.cached  # numpy scalars
        if isinstance(cached, bool):
            return f'<{p}c r="{ref}"{s} t="b">{formula}<{p}v>{int(cached)}</{p}v></{p}c>'
        if isinstance(cached, (int, float)) and not pd.isna(cached):
            return f'<{p}c r="{ref}"{s}>{formula}<{p}v>{_number(cached)}</{p}v></{p}c>'
        if isinstance(cached, str) or (isinstance(cached, float) and pd.isna(cached)):
            text = "" if not isinstance(cached, str) else escape(_clean(cached))  # NaN: the formula's ""
            return f'<{p}c r="{ref}"{s} t="str">{formula}<{p}v>{text}</{p}v></{p}c>'
        return f'<{p}c r="{ref}"{s}>{formula}</{p}c>'
    if isinstance(value, bool):
        return f'<{p}c r="{ref}"{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and pd.isna(value):
            return f'<{p}c r="{ref}"{s}/>'
        number = repr(float(value)) if isinstance(value, float) and not float(value).is_integer() else str(
            int(value))
        return f'<{p}c r="{ref}"{s}><{p}v>{number}</{p}v></{p}c>'
    if isinstance(value, (dt.date, dt.datetime)):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (moment - _EPOCH).total_seconds() / 86400
        number = str(int(serial)) if serial.is_integer() else repr(serial)
        return f'<{p}c r="{ref}"{s}><{p}v>{number}</{p}v></{p}c>'
    if isinstance(value, float) or (hasattr(value, "dtype") and pd.isna(value)):
        return f'<{p}c r="{ref}"{s}/>'
    return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{_clean(str(value))}</{p}t>'
            f'</{p}is></{p}c>')


def _column_cells(prefix: str, letter: str, top: int, values: list[object], style: str | None,
                  kinds: set[type]) -> list[str]:
    """The <c> elements of one column from row `top` down (`kinds`: the types of its values): a column
    of numbers or of text (the usual managed column) in one tight loop, anything else cell by cell."""
    p, s = prefix, f' s="{style}"' if style else ""
    if kinds <= {float, int, type(None)}:
        empty, open_, close = f'"{s}/>', f'<{p}c r="{letter}', f'</{p}v></{p}c>'
        return [f"{open_}{r}{empty}" if v is None or v != v else
                f'{open_}{r}"{s}><{p}v>{_number(v)}{close}' for r, v in enumerate(values, top)]
    if kinds <= {dt.date, type(None)}:
        empty, open_, close = f'"{s}/>', f'<{p}c r="{letter}', f'</{p}v></{p}c>'
        epoch = _EPOCH.date()
        return [f"{open_}{r}{empty}" if v is None else f'{open_}{r}"{s}><{p}v>{(v - epoch).days}{close}'
                for r, v in enumerate(values, top)]
    if kinds <= {str, type(None)}:
        texts = [v or "" for v in values]
        joined = "\x1f".join(texts)
        if ILLEGAL_CHARACTERS_RE.search(joined):
            texts = [ILLEGAL_CHARACTERS_RE.sub("", t) for t in texts]
        if "&" in joined or "<" in joined or ">" in joined:
            texts = [escape(t) for t in texts]
        open_ = f'<{p}c r="{letter}'
        text_open, text_close = f'"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">', f"</{p}t></{p}is></{p}c>"
        return [f'{open_}{r}"{s}/>' if not t else f"{open_}{r}{text_open}{t}{text_close}"
                for r, t in zip(range(top, top + len(values)), texts)]
    return [cell_xml(p, f"{letter}{r}", v, style) for r, v in enumerate(values, top)]


def _number(value: float | int) -> str:
    if type(value) is int:
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _clean(text: str) -> str:
    """Text as XML character data: illegal control characters dropped, markup escaped."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return escape(text)


class MasterBook:
    """An open master workbook: its parts in memory, patched in place, saved atomically."""

    def __init__(self, path: Path, infos: list[zipfile.ZipInfo], parts: dict[str, bytes], raw: bytes = b""):
        self.path = path
        self.raw = raw
        self.infos = infos
        self.parts = parts
        self._sheets: dict[str, _Sheet] = {}  # part -> parsed sheet, for sheets being patched
        self._links: dict[str, list[tuple[str, Link]]] = {}  # sheet part -> (cell ref, link) to add
        self._link_regions: dict[str, list[tuple[int, int, int, int]]] = {}
        self._wanted: dict[str, dict[int, float]] = {}  # sheet part -> column -> width its content asks for
        self._calamine = None
        workbook = self._text("xl/workbook.xml")
        rels = self._text("xl/_rels/workbook.xml.rels")
        targets = {m.group(1): m.group(2) for m in re.finditer(
            r'<Relationship\b(?=[^>]*\bId="([^"]+)")(?=[^>]*\bTarget="([^"]+)")[^>]*>', rels)}
        self.sheet_parts: dict[str, str] = {}
        for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)/?>", workbook):
            name, rid = _attr(m.group(1), "name"), _attr(m.group(1), "r:id")
            if name is not None and rid in targets:
                self.sheet_parts[_unescape(name)] = _resolve("xl/workbook.xml", targets[rid])
        self.tables: dict[str, TablePart] = {}
        for sheet, part in self.sheet_parts.items():
            for target in self._rel_targets(part, "/table"):
                xml = self._text(target)
                head = re.search(r"<(?:\w+:)?table\b([^>]*)>", xml)
                name = _attr(head.group(1), "displayName") or _attr(head.group(1), "name")
                self.tables[name] = TablePart(name, target, sheet, _attr(head.group(1), "ref"))

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> "MasterBook":
        path = require_master(path)
        try:
            raw = path.read_bytes()
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                infos = archive.infolist()
                parts = {info.filename: archive.read(info) for info in infos}
            if repair_parts(parts):  # written by an older xladdin: repaired in memory, saved by the run
                raw = _zip_of(infos, parts)
            book = cls(path, infos, parts, raw)
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

    def _rel_targets(self, part: str, type_suffix: str) -> list[str]:
        rels = self.parts.get(_rels_of(part))
        if rels is None:
            return []
        found = []
        for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels.decode("utf-8")):
            if (_attr(m.group(1), "Type") or "").endswith(type_suffix) and _attr(m.group(1), "TargetMode") != \
                    "External":
                found.append(_resolve(part, _unescape(_attr(m.group(1), "Target"))))
        return found

    # -- reading --------------------------------------------------------------------------------

    def _grid(self, sheet: str) -> list[list[object]]:
        if self._calamine is None:
            self._calamine = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.raw))
        return self._calamine.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

    def sheet_grid(self, sheet: str) -> list[list[object]]:
        """A whole sheet's values from A1 (rows of equal length; empty cells as "")."""
        return self._grid(sheet)

    def table_rows(self, name: str) -> tuple[list[str], list[tuple[int, list[object]]]]:
        """Header labels and (sheet row, values) of a table's data rows, blank rows skipped."""
        table = self.tables[name]
        min_col, min_row, max_col, max_row = parse_range(table.ref)
        grid = self._grid(table.sheet)

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
        from .room import pasted_ledger

        grids = (Grid(sheet=name, rows=self._grid(name)) for name in self.sheet_parts if name not in MANAGED_SHEETS)
        return [grid for grid in grids if pasted_ledger(grid)]

    def registry(self) -> pd.DataFrame:
        header, rows = self.table_rows(REGISTRY.name)
        return read_registry(header, rows, parse_range(self.tables[REGISTRY.name].ref)[0])

    def registry_key(self) -> str:
        """A digest of everything the registry is read from: its sheet part, the table's range, the
        shared strings and styles its cells refer to, the workbook's date system, and the code that
        reads it. Equal keys, equal registries: a run can reuse the one it read before."""
        import hashlib

        from .. import validate, values
        from . import master

        table = self.tables[REGISTRY.name]
        date1904 = re.search(r'\bdate1904="(1|true)"', self._text("xl/workbook.xml")) is not None
        digest = hashlib.sha256(f"{table.sheet}|{table.ref}|{date1904}|{pd.__version__}".encode())
        for module in (master, values, validate):
            digest.update(Path(module.__file__).read_bytes())
        for part in (self.sheet_parts[table.sheet], "xl/sharedStrings.xml", "xl/styles.xml"):
            content = self.parts.get(part, b"")
            digest.update(f"{part}:{len(content)}:".encode())
            digest.update(content)
        return digest.hexdigest()

    # -- writing --------------------------------------------------------------------------------

    def _shared_strings(self) -> SharedStrings:
        if not hasattr(self, "_shared"):
            shared = self.parts.get("xl/sharedStrings.xml")
            self._shared = SharedStrings(shared.decode("utf-8") if shared else None)
        return self._shared

    def _sheet(self, sheet: str) -> tuple[str, _Sheet]:
        part = self.sheet_parts[sheet]
        if part not in self._sheets:
            self._sheets[part] = _Sheet(self._text(part))
            self.parts[part] = b""  # the parsed rows stand for it until the save writes them out
        return part, self._sheets[part]

    def _write_block(self, sheet: str, top: int, left: int, rows: list[list[object]], width: int,
                     old_bottom: int, styles: list[str | None], region: str = "") -> None:
        """Rows of values at (top, left); cells of the old block below the new one are removed.

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
        columns = []
        wanted = self._wanted.setdefault(part, {})
        for i in range(width):
            letter, values = column_letter(left + i), [row[i] for row in rows]
            wanted[left + i] = max(wanted.get(left + i, 0.0), wanted_width(values))
            kinds = set(map(type, values))
            columns.append(_column_cells(data.prefix, letter, top, values, styles[i], kinds))
            if Link in kinds:
                links.extend((f"{letter}{r}", v) for r, v in enumerate(values, top)
                             if type(v) is Link and (v.target or v.location))
        for r, cells in enumerate(zip(*columns), top):
            data.replace_run(r, left, right, cells, right)
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

    def write_table(self, name: str, rows: list[list[object]]) -> None:
        """Replace a table's data rows and resize it; the header and everything around it stay."""
        spec: TableSpec = table_spec(name)
        table = self.tables[name]
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
            self._upgrade_heading(name, min_col, header_row, max_col, old_last)
        styles = [data.style(header_row + 1, min_col + i) for i in range(width)]
        block = rows if rows else [[None] * width]
        self._write_block(table.sheet, header_row + 1, min_col, block, width, old_last, styles, f"{table.sheet}表格")
        new_ref = f"{column_letter(min_col)}{header_row}:{column_letter(min_col + width - 1)}" \
                  f"{header_row + len(block)}"
        xml = self._text(table.part)
        xml = re.sub(r"(<(?:\w+:)?table\b[^>]*?\sref=)\"[^\"]*\"", lambda m: f'{m.group(1)}"{new_ref}"', xml,
                     count=1)
        xml = re.sub(r"(<(?:\w+:)?autoFilter\b[^>]*?\sref=)\"[^\"]*\"", lambda m: f'{m.group(1)}"{new_ref}"', xml,
                     count=1)
        self.parts[table.part] = xml.encode("utf-8")
        table.ref = new_ref
        if table.sheet == SHEET_CHARTS:
            self._retarget_charts(table.sheet, min_col, min_col + width - 1, header_row + 1, header_row + len(block))

    def _upgrade_heading(self, name: str, min_col: int, header_row: int, max_col: int, old_last: int) -> None:
        """Bring a table laid out by an earlier version to the current columns: its heading row and the
        table part's column list are rewritten (the rows are rewritten by the caller). A wider table
        grows only into empty cells."""
        spec: TableSpec = table_spec(name)
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
        xml = self._text(table.part)
        columns = "".join(f'<tableColumn id="{i}" name={quoteattr(label)}/>' for i, label in enumerate(spec.labels, 1))
        xml = re.sub(r"<((?:\w+:)?)tableColumns\b[^>]*?(?:/>|>.*?</(?:\w+:)?tableColumns>)",
                     lambda m: f'<{m.group(1)}tableColumns count="{len(spec.labels)}">'
                               + columns.replace("<tableColumn", f"<{m.group(1)}tableColumn")
                               + f"</{m.group(1)}tableColumns>", xml, count=1, flags=re.S)
        self.parts[table.part] = xml.encode("utf-8")

    def _retarget_charts(self, sheet: str, first_col: int, last_col: int, first_row: int, last_row: int) -> None:
        """Point the add-in's charts (those over 图表) at the new extent of a table they plot."""
        def retarget(match: re.Match) -> str:
            text = _unescape(match.group(2))
            target, _, ref = text.rpartition("!")
            if target.strip("'").replace("''", "'") != sheet:
                return match.group(0)
            try:
                c1, r1, c2, _ = parse_range(ref)
            except ValueError:
                return match.group(0)
            if c1 < first_col or c2 > last_col or r1 != first_row:
                return match.group(0)
            new = f"{target}!${column_letter(c1)}${r1}:${column_letter(c2)}${last_row}"
            return f"{match.group(1)}{escape(new)}{match.group(3)}"

        for part in [p for p in self.parts if re.match(r"xl/charts/chart\d+\.xml$", p)]:
            xml = self._text(part)
            patched = re.sub(r"(<(?:\w+:)?f>)([^<]*)(</(?:\w+:)?f>)", retarget, xml)
            if patched != xml:
                self.parts[part] = patched.encode("utf-8")

    def _name_target(self, name: str) -> tuple[str, tuple[int, int, int, int]] | None:
        workbook = self._text("xl/workbook.xml")
        match = re.search(rf'<(?:\w+:)?definedName\b[^>]*\bname="{re.escape(name)}"[^>]*>([^<]*)<', workbook)
        if match is None:
            return None
        text = _unescape(match.group(1))
        sheet, _, ref = text.rpartition("!")
        sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        if sheet not in self.sheet_parts:
            return None
        try:
            return sheet, parse_range(ref)
        except ValueError:
            return None

    def write_cell(self, name: str, value: object) -> None:
        """Write one value at a named cell (the first cell when the name is a range)."""
        target = self._name_target(name)
        if target is None:
            return  # staff removed the name: nothing to write there
        sheet, (col, row, _, _) = target
        _, data = self._sheet(sheet)
        data.put(row, col, cell_xml(data.prefix, cell_address(row, col), value, data.style(row, col)))

    def write_lines(self, name: str, lines: list[str]) -> None:
        """Write lines down a named one-column region and resize the name to the new extent."""
        target = self._name_target(name)
        if target is None:
            return
        sheet, (col, top, _, bottom) = target
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
        self._set_name(name, f"{quote_sheet(sheet)}!${letter}${top}:${letter}${top + len(rows) - 1}")

    def _set_name(self, name: str, text: str) -> None:
        workbook = self._text("xl/workbook.xml")
        workbook = re.sub(rf'(<(?:\w+:)?definedName\b[^>]*\bname="{re.escape(name)}"[^>]*>)[^<]*(<)',
                          lambda m: m.group(1) + escape(text) + m.group(2), workbook, count=1)
        self.parts["xl/workbook.xml"] = workbook.encode("utf-8")

    # -- saving ---------------------------------------------------------------------------------

    def _finish(self) -> dict[str, "_Sheet"]:
        """Apply the pending changes to every part but the patched sheets, which are returned to be
        written out row by row (a province's sheets are hundreds of MB as one string)."""
        sheets, self._sheets = self._sheets, {}
        names = {part: sheet for sheet, part in self.sheet_parts.items()}
        for part, data in sheets.items():
            data.tail = self._patch_hyperlinks(part, data.tail, data.prefix)  # <hyperlinks> follows <sheetData>
            if part in self._wanted:
                data.head = widen(data.head, self._wanted[part])
                data.tail = self._fit_print(names.get(part, ""), data.head, data.tail)
        self._wanted.clear()
        self._links.clear()
        self._link_regions.clear()
        self._recalculate_on_open()
        self._repair_dxf_fills()
        return sheets

    def _fit_print(self, sheet: str, head: str, tail: str) -> str:
        """Pages across for the widths as they now are, on sheets printed fitted to width (fitToPage)."""
        setup = re.search(r"<(?:\w+:)?pageSetup\b[^>]*?/>", tail)
        if setup is None or not re.search(r'<(?:\w+:)?pageSetUpPr\b[^>]*\bfitToPage="(1|true)"', head) \
                or sheet not in MANAGED_SHEETS:
            return tail
        _, last = print_extent(sheet)
        widths = list(current_widths(head, 1, last).values())
        orientation = "portrait" if 'orientation="portrait"' in setup.group(0) else "landscape"
        pages = pages_wide(widths, widths[:PRINT_TITLE_COLUMNS.get(sheet, 0)], orientation)
        tag = setup.group(0)
        tag = re.sub(r'\bfitToWidth="\d+"', f'fitToWidth="{pages}"', tag) if "fitToWidth=" in tag else \
            tag.replace("/>", f' fitToWidth="{pages}"/>')
        return tail[:setup.start()] + tag + tail[setup.end():]

    def _repair_dxf_fills(self) -> None:
        """Give every conditional-format solid fill a bgColor equal to its fgColor when it lacks one:
        Excel colours a differential fill from bgColor, LibreOffice from fgColor (masters built before
        both were written show their 红黑榜 uncoloured in Excel)."""
        styles = self.parts.get("xl/styles.xml")
        if not styles or b"<dxfs" not in styles:
            return
        text = styles.decode("utf-8")
        block = re.search(r"<(?:\w+:)?dxfs\b.*?</(?:\w+:)?dxfs>", text, re.S)
        if block is None:
            return

        def repair(match: re.Match) -> str:
            fill = match.group(0)
            if "bgColor" in fill:
                return fill
            colour = re.search(r"<((?:\w+:)?)fgColor\b([^>]*?)/>", fill)
            if colour is None:
                return fill
            return fill.replace(colour.group(0), colour.group(0) + f"<{colour.group(1)}bgColor{colour.group(2)}/>")

        repaired = re.sub(r"<(?:\w+:)?patternFill\b[^>]*>.*?</(?:\w+:)?patternFill>", repair, block.group(0),
                          flags=re.S)
        if repaired != block.group(0):
            self.parts["xl/styles.xml"] = (text[:block.start()] + repaired + text[block.end():]).encode("utf-8")

    def _patch_hyperlinks(self, part: str, xml: str, prefix: str) -> str:
        regions = self._link_regions.get(part, [])
        new = self._links.get(part, [])
        if not regions and not new:
            return xml

        def inside(ref: str) -> bool:
            try:
                col, row, _, _ = parse_range(ref)
            except ValueError:
                return False
            return any(c1 <= col <= c2 and r1 <= row <= r2 for c1, r1, c2, r2 in regions)

        rels_part = _rels_of(part)
        rels = self.parts.get(rels_part, b"").decode("utf-8") or (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
        block = re.search(r"<(\w+:)?hyperlinks\b[^>]*>(.*?)</(?:\w+:)?hyperlinks>", xml, re.S)
        kept, dropped_ids = [], set()
        if block:
            for link in re.finditer(r"<(?:\w+:)?hyperlink\b([^>]*?)/>", block.group(2)):
                ref = _attr(link.group(1), "ref") or ""
                rid = re.search(r'\b\w+:id="([^"]+)"', link.group(1))
                if inside(ref):
                    if rid:
                        dropped_ids.add(rid.group(1))
                else:
                    kept.append(link.group(0))
        for rid in dropped_ids:
            rels = re.sub(rf'<Relationship\b(?=[^>]*\bId="{re.escape(rid)}")(?=[^>]*{re.escape(_HYPERLINK_TYPE)})'
                          r'[^>]*/>', "", rels)
        used = set(re.findall(r'\bId="([^"]+)"', rels))
        serial = 1
        for ref, link in new:
            attrs = f' ref="{ref}"'
            if link.location:
                attrs += f" location={quoteattr(link.location)}"
            if link.target:
                while f"rIdXl{serial}" in used:
                    serial += 1
                rid = f"rIdXl{serial}"
                used.add(rid)
                rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{_HYPERLINK_TYPE}" '
                                    f'Target={quoteattr(link.target)} TargetMode="External"/></Relationships>')
                attrs += f' xmlns:r="{_R_NS}" r:id="{rid}"'
            kept.append(f"<{prefix}hyperlink{attrs}/>")
        content = f"<{prefix}hyperlinks>" + "".join(kept) + f"</{prefix}hyperlinks>" if kept else ""
        if block:
            xml = xml[:block.start()] + content + xml[block.end():]
        elif content:
            follower = re.search(r"<(?:\w+:)?(" + "|".join(_AFTER_HYPERLINKS) + r")\b", xml)
            at = follower.start() if follower else xml.rindex("</")
            xml = xml[:at] + content + xml[at:]
        self.parts[rels_part] = rels.encode("utf-8")
        return xml

    def _recalculate_on_open(self) -> None:
        workbook = self._text("xl/workbook.xml")
        calc = re.search(r"<(\w+:)?calcPr\b[^>]*?/?>", workbook)
        if calc:
            tag = _set_attr(calc.group(0), "fullCalcOnLoad", "1")
            workbook = workbook[:calc.start()] + tag + workbook[calc.end():]
        else:
            prefix = re.search(r"<(\w+:)?workbook\b", workbook).group(1) or ""
            anchor = re.search(r"</(?:\w+:)?definedNames>|</(?:\w+:)?sheets>", workbook)
            workbook = workbook[:anchor.end()] + f'<{prefix}calcPr fullCalcOnLoad="1"/>' + workbook[anchor.end():]
        self.parts["xl/workbook.xml"] = workbook.encode("utf-8")
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
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in self.infos:
                names.add(info.filename)
                sheet = sheets.pop(info.filename, None)
                if sheet is None:
                    archive.writestr(info, self.parts[info.filename], compress_type=zipfile.ZIP_DEFLATED)
                    continue
                # A rewritten sheet, streamed: deflated at the fastest level, which halves the cost of the
                # largest parts for a file about a third larger (Excel saves it smaller again).
                target = zipfile.ZipInfo(info.filename, info.date_time)
                target.compress_type, target._compresslevel = zipfile.ZIP_DEFLATED, 1
                target.external_attr = info.external_attr
                with archive.open(target, "w") as out:
                    for chunk in sheet.chunks():
                        out.write(chunk.encode("utf-8"))
            for name, data in self.parts.items():
                if name not in names:  # a part created by this writer (a sheet's first rels file)
                    archive.writestr(name, data)
        return buffer.getvalue()

    def back_up(self, settings: Settings) -> Path:
        """Copy the master as it is now into the backup folder; returns the copy."""
        return backup(self.path, self.path.parent / settings.backups, settings.backup_count)

    def save(self) -> None:
        """Write to a temporary file beside the master, then atomically replace it: never half-written."""
        data = self.package_bytes()
        temp = self.path.with_name(f".~{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            crash_point("temp-written")
            os.replace(temp, self.path)
        finally:
            if temp.exists():
                temp.unlink()


# What a part must not hold, as bytes: C0 controls but tab and line breaks, U+FFFE and U+FFFF in UTF-8,
# and the same as character references (&#1; &#xFFFE; ...), which XML forbids as well.
_C0 = bytes(range(0, 9)) + b"\x0b\x0c" + bytes(range(14, 32))
_BAD_REF = re.compile(rb"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{3}[eEfF])|"
                      rb"0*(?:[0-8]|1[124-9]|2[0-9]|3[01]|5529[6-9]|55[3-9][0-9]{2}|56[0-9]{3}|57[0-2][0-9]{2}|"
                      rb"573[0-3][0-9]|5734[0-3]|6553[45]));")


def repair_parts(parts: dict[str, bytes]) -> list[str]:
    """Drop from every XML part the characters XML cannot hold (a master that carries them cannot be
    opened by Excel or openpyxl); returns the parts repaired."""
    repaired = []
    for name, data in parts.items():
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        bad = len(data.translate(None, _C0)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data \
            or (b"&#" in data and _BAD_REF.search(data) is not None)
        if bad:
            data = data.translate(None, _C0).replace(b"\xef\xbf\xbe", b"").replace(b"\xef\xbf\xbf", b"")
            parts[name] = _BAD_REF.sub(b"", data)
            repaired.append(name)
    return repaired


def _zip_of(infos: list[zipfile.ZipInfo], parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename])
    return buffer.getvalue()


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def escape(text: str) -> str:
    """Text as XML character data (what xml.sax.saxutils.escape does, without importing urllib and http),
    without the characters no XML part may hold."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """Text as a double-quoted XML attribute value."""
    text = escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{text}"'


def _unescape(text: str) -> str:
    """An attribute or text back from its five predefined XML entities."""
    if "&" not in text:
        return text
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    return text.replace("&amp;", "&")
