"""Reading a submitted ledger file (xlsx, xlsm, xls, csv) into a located, untyped Ledger."""

from __future__ import annotations

import csv
import functools
import io
import operator
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import python_calamine
from defusedxml import DefusedXmlException

from xladdin.base.issues import Code
from xladdin.base.located import Ledger
from xladdin.base.schema import (
    IDENTITY_LABELS,
    LEDGER_LABEL_INDEX,
    LEDGER_SHEET,
    TEMPLATE_HELPER_LABELS,
    cell_address,
    normalize_label,
)
from xladdin.workbook.biffscan import scan_biff
from xladdin.workbook.guard import Limits, Rejection, screen_read
from xladdin.workbook.xmlscan import SheetExtras, overlay, scan_part, sheet_part

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
_HEADER_SCAN_ROWS = 30
_TOTAL_WORDS = ("合计", "小计", "总计")
# A ledger row of 15 columns is under 1 KB of sheet XML; four times that leaves room for styles and text.
SHEET_BYTES_PER_ROW = 4096
_CSV_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


# Labels, project names and identity cells repeat in every file of a run (and every day): normalised once.
_normalized = functools.lru_cache(maxsize=1 << 16, typed=True)(normalize_label)  # typed: 1, 1.0, True differ


class UnreadableFile(Exception):
    """The file is not a spreadsheet we can open; the message is a short Chinese reason."""


@dataclass
class Grid:
    """A sheet's cell values anchored at A1 (row 0 = sheet row 1)."""

    sheet: str
    rows: list[list[object]]
    hidden_rows: set[int] = field(default_factory=set)  # 1-based
    warnings: list[str] = field(default_factory=list)  # issue codes found while screening the file
    unsafe: dict[str, str] = field(default_factory=dict)  # cell -> formula calling outside the workbook
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row0, col0, last row0, last col0)




def read_grid(path: Path, limits: Limits | None = None) -> Grid:
    """The ledger sheet of a file as a grid; raises Rejection (screening), UnreadableFile, or returns
    sheet '' when there is no ledger sheet. An .xlsx/.xlsm is read from disk once and opened as a zip once:
    screening, the sheet's part and what calamine does not report all come from that one open, and
    calamine reads the same bytes."""
    limits = limits or Limits()
    warnings, archive, data = screen_read(path, limits)
    try:
        return _read_grid(path, limits, warnings, archive, data)
    finally:
        if archive is not None:
            archive.close()


def _read_grid(path: Path, limits: Limits, warnings: list[str], archive: zipfile.ZipFile | None,
               raw: bytes | None = None) -> Grid:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return Grid(sheet=path.stem, rows=_read_csv(path))
    ooxml = archive is not None and suffix in (".xlsx", ".xlsm")
    try:
        # The screened bytes of a package, not the file a second time (it may have changed since).
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw)) if ooxml and raw is not None \
            else python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise UnreadableFile("文件设置了打开密码") from None
    except Exception as exc:  # calamine raises several types for broken zips and non-spreadsheets
        raise UnreadableFile(_reason(exc)) from None
    part = None
    try:
        name = _ledger_sheet_name(book)
        if name is None:
            return Grid(sheet="", rows=[])
        part = _part_of(archive, name) if ooxml else None
        if part is _HOSTILE_PACKAGE:  # a DTD in the package's workbook part, refused by defusedxml
            raise UnreadableFile("文件含有不安全的内容")
        data, size = _part_data(archive, part, limits) if part is not None else (None, None)
        if size is not None:  # refuse before anything is loaded, when the file itself says so
            # (its <dimension> does not: borders or a fill down to row 8000 reach it too)
            if size > limits.max_rows * SHEET_BYTES_PER_ROW:
                raise Rejection(Code.FILE_TOO_LARGE, {"detail": "中“进度台账”工作表解压后", "value": f"{size / 2**20:.1f} MB",
                                                   "expected": f"{limits.max_rows * SHEET_BYTES_PER_ROW / 2**20:.1f} MB"})
        sheet = book.get_sheet_by_name(name)
        # Refuse a sheet too big to check before turning it into Python values.
        height, width = sheet.start[0] + sheet.height if sheet.start else 0, \
            sheet.start[1] + sheet.width if sheet.start else 0
        _check_extent(height, width, limits)
        rows = sheet.to_python(skip_empty_area=False)
        while rows and all(_blank(v) for v in rows[-1]):  # rows with data are counted, not the rows formatted
            rows.pop()
        merged = _merged_ranges(sheet)
    except (Rejection, UnreadableFile):
        raise
    except Exception as exc:
        raise UnreadableFile(_reason(exc)) from None
    finally:
        book.close()
    grid = Grid(sheet=name, rows=rows, warnings=warnings, merged=merged)
    if part is not None:
        try:
            extras = scan_part(archive, part, data=data)
        except (zipfile.BadZipFile, KeyError, OSError):
            extras = SheetExtras()
        except Exception:  # entity expansion or a DTD refused by defusedxml: a hostile file
            raise UnreadableFile("文件含有不安全的内容") from None
        overlay(grid.rows, extras)
        grid.hidden_rows = extras.hidden_rows
        grid.unsafe = extras.unsafe
    elif suffix == ".xls":  # the same error cells and hidden rows as an .xlsx, from the BIFF records
        extras = scan_biff(str(path), name)
        overlay(grid.rows, extras)
        grid.hidden_rows = extras.hidden_rows
    return grid


def _part_of(archive: zipfile.ZipFile, name: str) -> str | None:
    """The zip entry of the ledger sheet; None when the package does not say (calamine read it anyway)."""
    try:
        return sheet_part(archive, name)
    except DefusedXmlException:
        return _HOSTILE_PACKAGE
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError):
        return None


_HOSTILE_PACKAGE = "\0hostile"


def _part_data(archive: zipfile.ZipFile, part: str, limits: Limits) -> tuple[bytes | None, int | None]:
    """The ledger part's XML, read once when the size its zip entry declares is within what may be checked
    (a larger one is refused on that size, never inflated), and that size; None for what cannot be read."""
    try:
        size = archive.getinfo(part).file_size
        return (archive.read(part) if size <= limits.max_rows * SHEET_BYTES_PER_ROW else None), size
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error):
        return None, None


def _merged_ranges(sheet) -> list[tuple[int, int, int, int]]:
    """The sheet's merged blocks (xlsx and xls alike); none when calamine cannot tell."""
    try:
        return [(r1, c1, r2, c2) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or ()]
    except Exception:  # merge records calamine cannot read: the cells read as they are
        return []


def _check_extent(height: int, width: int, limits: Limits) -> None:
    if height > limits.max_rows:
        raise Rejection(Code.TOO_MANY_ROWS, {"value": str(height), "expected": str(limits.max_rows)})
    if width > limits.max_cols:
        raise Rejection(Code.TOO_MANY_COLUMNS, {"value": str(width), "expected": str(limits.max_cols)})


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        from xladdin.base.fs import os_reason

        return f"无法读取：{os_reason(exc)}"
    text = str(exc).lower()
    if "zip" in text or "invalid" in text or "cfb" in text or "signature" in text:
        return "不是有效的 Excel 文件或文件已损坏"
    return "文件已损坏或格式不受支持"


def _ledger_sheet_name(book) -> str | None:
    """The one sheet that is the ledger: the only one named like 进度台账, or among several so named
    (an updated copy `进度台账 (2)` beside the old one) the only one with a ledger header; two with a
    header are refused naming both, never one picked by position."""
    wanted = _normalized(LEDGER_SHEET)
    candidates = [name for name in book.sheet_names if wanted in _normalized(name)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    with_header = []
    for name in candidates:
        sheet = book.get_sheet_by_name(name)
        if _find_header(sheet.to_python(skip_empty_area=False, nrows=_HEADER_SCAN_ROWS)) is not None:
            with_header.append(name)
    if len(with_header) > 1:
        raise Rejection(Code.SHEET_AMBIGUOUS, {"value": "、".join(f"“{n}”" for n in with_header)})
    if with_header:
        return with_header[0]
    exact = [name for name in candidates if _normalized(name) == wanted]
    return (exact or candidates)[0]


def _read_csv(path: Path) -> list[list[object]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("CSV 文件编码无法识别，请另存为 UTF-8 或 .xlsx")
    # A CSV holds only text: plain numbers become numbers, as a spreadsheet would read them.
    return [[_csv_value(v) for v in row] for row in csv.reader(io.StringIO(text))]


def _csv_value(text: str) -> object:
    stripped = text.strip()
    if _CSV_NUMBER.match(stripped):
        return float(stripped)
    return text


def locate_ledger(grid: Grid, file_name: str) -> Ledger:
    """Find the identity cells, the header and the data rows wherever they are on the sheet."""
    ledger = Ledger(file=file_name, sheet=grid.sheet, warnings=list(grid.warnings), unsafe=dict(grid.unsafe))
    rows = grid.rows
    header_index = _find_header(rows)
    scan_to = header_index if header_index is not None else min(len(rows), _HEADER_SCAN_ROWS)
    _find_identity(rows[:scan_to], ledger)
    if header_index is None:
        return ledger
    ledger.header_row = header_index + 1
    ledger.hidden_rows = grid.hidden_rows
    top = rows[header_index]
    below = rows[header_index + 1] if header_index + 1 < len(rows) else []
    labels, spans_two_rows = _header_labels(top, below)
    for col, (text, key) in enumerate(labels, start=1):
        if key is None:
            if text and _normalized(text) not in TEMPLATE_HELPER_LABELS:
                ledger.extra_columns.append((text, col))
        elif key in ledger.columns:
            ledger.duplicate_columns.append((key, col))
        else:
            ledger.columns[key] = col
    first_data = header_index + (2 if spans_two_rows else 1)
    _fill_merged_down(rows, grid.merged, first_data, ledger.columns)
    keys = list(ledger.columns)
    width = max(ledger.columns.values(), default=0)
    take = operator.itemgetter(*(col - 1 for col in ledger.columns.values())) if len(keys) > 1 else None
    # The cells a row is read by (blank or not, a total, a header again), taken with the others at once.
    content = [i for i, key in enumerate(keys) if key != "seq"]
    named = [i for i, key in enumerate(keys) if key in _TOTAL_KEYS]
    id_at = keys.index("project_id") if "project_id" in keys else -1
    for offset, row in enumerate(rows[first_data:], start=first_data + 1):
        if take is not None and len(row) >= width:  # the usual row: every column there, taken at once
            cells = take(row)
        else:
            cells = tuple(row[col - 1] if col - 1 < len(row) else None for col in ledger.columns.values())
        for i in content:
            value = cells[i]
            if value is not None and (not isinstance(value, str) or value and not value.isspace()):
                break  # a cell with content (the usual row: its first)
        else:
            continue
        # A total line (合计/小计/总计 in 序号, 项目编号 or 项目名称) or the header again (in 项目编号).
        if id_at >= 0 and _names_id(cells[id_at]):
            continue
        for i in named:
            if _names_total(cells[i]):
                break
        else:
            ledger.rows.append((offset, dict(zip(keys, cells))))
    return ledger


# A project's 项目编号 and 项目名称 merged down over its 地块 rows name the project on every one of them;
# merged figures are one figure (only the top-left cell holds it) and stay where they are.
_MERGED_DOWN = ("project_id", "project_name")


def _fill_merged_down(rows: list[list[object]], merged: list[tuple[int, int, int, int]], first_data: int,
                      columns: dict[str, int]) -> None:
    """Give each data row of a block merged over 项目编号 or 项目名称 the block's value (calamine leaves it
    in the top-left cell only, so the rows below read as rows without a project)."""
    wanted = {columns[key] - 1 for key in _MERGED_DOWN if key in columns}
    for r1, c1, r2, c2 in merged:
        if r2 <= r1 or r1 < first_data or r1 >= len(rows):
            continue
        for c in range(c1, c2 + 1):
            if c not in wanted or c >= len(rows[r1]) or _blank(rows[r1][c]):
                continue
            for r in range(r1 + 1, min(r2, len(rows) - 1) + 1):
                row = rows[r]
                if len(row) <= c:
                    row.extend([""] * (c + 1 - len(row)))
                if _blank(row[c]):
                    row[c] = rows[r1][c]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_TOTAL_KEYS = ("seq", "project_id", "project_name")


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _names_total(value: object) -> bool:
    """Whether a cell reads 合计/小计/总计… (Chinese, as every header label is: a number or ASCII never does)."""
    return _may_be_chinese(value) and _normalized(value).startswith(_TOTAL_WORDS)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _names_id(value: object) -> bool:
    """Whether a 项目编号 cell is the column's label: a header row repeated inside the table."""
    return _may_be_chinese(value) and LEDGER_LABEL_INDEX.get(_normalized(value)) == "project_id"


def _may_be_chinese(value: object) -> bool:
    """Whether a cell could read as Chinese text once normalised: a number or ASCII text never does."""
    return isinstance(value, str) and not value.isascii()


def _header_labels(top: list[object], below: list[object]) -> tuple[list[tuple[str, str | None]], bool]:
    """(text, field key) per column, and whether the header spans two rows.

    A two-row header has group titles above (often merged across columns, so that only the first
    cell holds text) and the column names below; a name may also be split across the two rows.
    """
    width = max(len(top), len(below))
    labels: list[tuple[str, str | None]] = []
    used_below = False
    below_keys = {LEDGER_LABEL_INDEX.get(_normalized(v)) for v in below if not _blank(v)} - {None}
    two_rows = len(below_keys) >= 2 and "project_id" not in below_keys or (
        bool(below_keys) and not any(_looks_like_data(v) for v in below))
    for c in range(width):
        upper = top[c] if c < len(top) else None
        lower = below[c] if c < len(below) else None
        text = "" if _blank(upper) else str(upper).strip()
        key = LEDGER_LABEL_INDEX.get(_normalized(upper))
        if two_rows and not _blank(lower):
            joined = LEDGER_LABEL_INDEX.get(_normalized(f"{text}{lower}"))
            alone = LEDGER_LABEL_INDEX.get(_normalized(lower))
            if key is None and (joined or alone):
                key, text, used_below = joined or alone, f"{text}{lower}" if joined else str(lower).strip(), True
        labels.append((text, key))
    return labels, used_below


def _looks_like_data(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _find_header(rows: list[list[object]]) -> int | None:
    for index, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        keys = {LEDGER_LABEL_INDEX.get(_normalized(v)) for v in row if not _blank(v)}
        keys.discard(None)
        if "project_id" in keys and len(keys) >= 3:
            return index
    return None


def _find_identity(rows: list[list[object]], ledger: Ledger) -> None:
    wanted = _identity_labels()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if not isinstance(value, str) or not value:
                continue
            label, inline = _identity_text(value)
            if label is not None and label not in ledger.identity:
                ledger.identity[label] = _value_right_of(row, r, c, wanted)
                continue
            # "填报单位：第一工作组" written in one cell.
            for label, rest in inline:
                if label not in ledger.identity:
                    ledger.identity[label] = (rest, cell_address(r + 1, c + 1))


@functools.lru_cache(maxsize=1)
def _identity_labels() -> dict[str, str]:
    return {_normalized(label): label for label in IDENTITY_LABELS}


@functools.lru_cache(maxsize=1 << 14)
def _identity_text(value: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """What a text cell above the header says: the identity label it is (or None), and the (label, value)
    pairs it holds written in one cell ("填报单位：第一工作组"). Cached: the same cells head every file."""
    wanted = _identity_labels()
    text = _normalized(value).rstrip(":")
    inline = tuple((label, text[len(norm) + 1:]) for norm, label in wanted.items()
                   if text.startswith(norm + ":") and len(text) > len(norm) + 1)
    return wanted.get(text), inline



def _value_right_of(row: list[object], r: int, c: int, labels: dict[str, str]) -> tuple[object, str]:
    """The first non-blank cell right of a label, unless that is the next label: then blank."""
    for cc in range(c + 1, len(row)):
        value = row[cc]
        if _blank(value):
            continue
        if isinstance(value, str) and _normalized(value).rstrip(":") in labels:
            break
        return value, cell_address(r + 1, cc + 1)
    return None, cell_address(r + 1, c + 2)
