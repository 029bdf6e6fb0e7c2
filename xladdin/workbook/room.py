"""Room for a managed region to grow, and the headings it is written under.

A run refuses (exit 2) rather than write over anything staff keep: a region grows only into empty
cells, and a table is written only when its heading row still reads the add-in's columns in order.
Refusing moves nothing and writes nothing, so staff decide where their note or column goes.
"""

from __future__ import annotations

import re

from xladdin.base.errors import SettingsError
from xladdin.base.schema import cell_address, column_letter, normalize_label, parse_range

_VALUE = re.compile(r"<(?:\w+:)?(?:v|f|is)\b[^>]*?(?<!/)>(?!</)")
_MERGE = re.compile(r'<(?:\w+:)?mergeCell\b[^>]*?\bref="([^"]+)"')
_TEXT = re.compile(r"<(?:\w+:)?t\b[^>]*?>([^<]*)</(?:\w+:)?t>")
_PLAIN_VALUE = re.compile(r"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


class RegionBlocked(SettingsError):
    """A managed region cannot be written without overwriting staff content; nothing was written."""


def has_value(cell_xml: str) -> bool:
    """Whether a <c> element holds a value or formula (a cell with only a format is empty)."""
    return _VALUE.search(cell_xml) is not None


def cell_text(cell_xml: str, shared: "SharedStrings") -> str:
    """The text a cell shows, as far as a heading needs it (shared, inline or plain value)."""
    head = cell_xml.split(">", 1)[0]
    kind = re.search(r'\st="([^"]*)"', head)
    kind = kind.group(1) if kind else ""
    if kind == "inlineStr":
        return _unescape("".join(_TEXT.findall(cell_xml)))
    value = _PLAIN_VALUE.search(cell_xml)
    if value is None:
        return ""
    if kind == "s":
        return shared.get(int(value.group(1)))
    return _unescape(value.group(1))


class SharedStrings:
    """The shared-string table, parsed on first use (headings use it, data rows never do)."""

    def __init__(self, xml: str | None):
        self._xml, self._items = xml, None

    def get(self, index: int) -> str:
        if self._items is None:
            items = re.findall(r"<(?:\w+:)?si\b[^>]*>(.*?)</(?:\w+:)?si>", self._xml or "", re.S)
            self._items = ["".join(_TEXT.findall(item)) for item in items]
        return _unescape(self._items[index]) if 0 <= index < len(self._items) else ""


_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|\d+);")


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    text = _CHAR_REF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1))), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    return text.replace("&amp;", "&")


def growth_blocker(rows: dict, cells_of, tail: str, left: int, right: int, first: int, last: int) -> str | None:
    """The first cell (e.g. 'B30') in columns left..right, rows first..last, that holds staff content
    or a merged range; None when the region may grow there."""
    if last < first:
        return None
    for number in sorted(r for r in rows if first <= r <= last):
        for col, xml in sorted(cells_of(number).items()):
            if left <= col <= right and has_value(xml):
                return cell_address(number, col)
    for ref in _MERGE.findall(tail):
        try:
            c1, r1, c2, r2 = parse_range(ref)
        except ValueError:
            continue
        if c1 <= right and c2 >= left and r1 <= last and r2 >= first:
            return ref
    return None


def blocked_message(sheet: str, where: str, region: str, last_row: int) -> str:
    return (f"“{sheet}”工作表 {where} 有内容（文字、公式或合并单元格），而“{region}”本次要向下扩展到第 {last_row} 行，"
            f"会覆盖它。母表未作任何改动。请把 {where} 的内容移到该区域右侧的空列或其他工作表，然后重新运行。")


def heading_problem(sheet: str, labels: list[str], found: dict[int, str], first_col: int, header_row: int,
                    table_last_col: int) -> str | None:
    """Why a table's heading row no longer reads the add-in's columns in order (a column staff
    inserted, moved, renamed or deleted), or None when it does."""
    for i, label in enumerate(labels):
        col = first_col + i
        text = found.get(col, "")
        if normalize_label(text) != normalize_label(label):
            where = cell_address(header_row, col)
            now = f"“{text}”" if text else "空白"
            return (f"“{sheet}”工作表的表格第 {header_row} 行 {where} 应为列名“{label}”，现为{now}。"
                    "表格中间插入、移动、改名或删除了列，写入会使数字落到别的列名下，母表未作任何改动。"
                    f"请把自己加的列移到表格右侧（{column_letter(first_col + len(labels))} 列以后）之外，"
                    "恢复原列名后重新运行。")
    if table_last_col > first_col + len(labels) - 1:
        extra = first_col + len(labels)
        where = cell_address(header_row, extra)
        text = found.get(extra, "")
        return (f"“{sheet}”工作表的表格在 {where}{f'（“{text}”）' if text else ''} 多了一列。"
                "加在表格里的列会被下次写入覆盖，母表未作任何改动。请把该列移到表格外（中间空一列），"
                "或删除后重新运行。")
    return None


_COPY_SUFFIX = re.compile(r"\s*[(（]\s*\d+\s*[)）]\s*$")


def copies_managed(sheet: str, heading: list[object]) -> bool:
    """Whether a sheet staff added is a copy of one of the master's own (`汇总 (2)`, or any sheet
    whose heading row holds every column of a managed table): such a sheet is never a pasted ledger."""
    from xladdin.workbook.layout import MANAGED_SHEETS, TABLES

    if _COPY_SUFFIX.sub("", sheet).strip() in MANAGED_SHEETS:
        return True
    found = {normalize_label(v) for v in heading if v is not None}
    return any({normalize_label(label) for label in spec.labels} <= found for spec in TABLES.values()
               if len(spec.labels) >= 4)


def pasted_ledger(grid) -> bool:
    """Whether a sheet staff added to the master holds a ledger to take as a submission: it has a
    ledger's header and is not a copy of one of the master's own sheets. Both doors ask this."""
    from xladdin.workbook.layout import MANAGED_SHEETS
    from xladdin.workbook.reader import locate_ledger

    if grid.sheet in MANAGED_SHEETS:
        return False
    header_row = locate_ledger(grid, grid.sheet).header_row
    return bool(header_row) and not copies_managed(grid.sheet, grid.rows[header_row - 1])
