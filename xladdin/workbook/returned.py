"""The marked-up copy of a rejected ledger that HQ sends back: offending cells filled, a note on each.

The submitted file itself is never touched; the copy is a new file in the 退回 folder.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

from xladdin.base.fs import fit_name
from xladdin.base.issues import ERROR, Issue
from xladdin.workbook.export import append_text_safe, xml_safe
from xladdin.workbook.guard import Rejection
from xladdin.workbook.reader import UnreadableFile, read_grid

ERROR_FILL, WARNING_FILL = "FF9999", "FFE699"  # cells with an error, cells with only warnings
_CELL = re.compile(r"^[A-Z]{1,3}\d{1,7}$")
GUIDE_SHEET = "退回说明"
GUIDE_ROWS = 300  # issues listed on the guide sheet; the rest are counted (every cell is still marked)


def returned_name(file_name: str) -> str:
    stem, _, suffix = file_name.rpartition(".")
    keep = suffix.lower() in ("xlsx", "xlsm")
    return fit_name(f"{stem or file_name}_退回.{suffix if keep else 'xlsx'}")


def write_returned_copy(source: Path, issues: list[Issue], sheet: str, out_dir: Path) -> Path | None:
    """A marked-up copy of a rejected submission in out_dir; None when the file cannot be opened at all."""
    from openpyxl.comments import Comment  # openpyxl only when a copy is written: a run's start-up is shorter
    from openpyxl.styles import PatternFill

    workbook = _load(source, sheet)
    if workbook is None:
        return None
    ws = workbook[sheet] if sheet in workbook.sheetnames else workbook.worksheets[0]
    anchors = _merged_anchors(ws, {i.cell for i in issues if _CELL.match(i.cell)})
    by_cell: dict[str, list[Issue]] = defaultdict(list)
    for issue in issues:
        if _CELL.match(issue.cell):
            by_cell[anchors.get(issue.cell, issue.cell)].append(issue)
    fills = {True: PatternFill("solid", fgColor=ERROR_FILL), False: PatternFill("solid", fgColor=WARNING_FILL)}
    for address, found in by_cell.items():
        cell = ws[address]
        cell.fill = fills[any(i.severity == ERROR for i in found)]
        text = xml_safe("\n".join(f"【{i.severity}】{i.message}" for i in found))
        comment = Comment(text, "指挥部")
        comment.width, comment.height = 320, 40 + 18 * (len(text) // 22 + len(found))
        cell.comment = comment
    _add_guide(workbook, ws.title, issues)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / returned_name(source.name)
    temp = out_dir / fit_name(f".~{target.name}.tmp")
    try:  # whole or absent: a full disk leaves no half-written copy
        workbook.save(temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def _merged_anchors(ws, cells: set[str]) -> dict[str, str]:
    """Each of cells inside a merged block -> the block's top-left cell, the only one that holds a fill and a
    note (openpyxl's MergedCell is read-only); a block costs the smaller of its area and the cells asked."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    wanted = {}
    for address in cells:
        letters, row = coordinate_from_string(address)
        wanted[(row, column_index_from_string(letters))] = address
    anchors: dict[str, str] = {}
    for block in ws.merged_cells.ranges:
        top_left = f"{get_column_letter(block.min_col)}{block.min_row}"
        area = (block.max_row - block.min_row + 1) * (block.max_col - block.min_col + 1)
        if area <= len(wanted):
            inside = ((r, c) for r in range(block.min_row, block.max_row + 1)
                      for c in range(block.min_col, block.max_col + 1))
            found = [wanted[key] for key in inside if key in wanted]
        else:
            found = [a for (r, c), a in wanted.items()
                     if block.min_row <= r <= block.max_row and block.min_col <= c <= block.max_col]
        for address in found:
            anchors[address] = top_left
    return anchors


def _load(source: Path, sheet: str):
    import openpyxl

    suffix = source.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            workbook = openpyxl.load_workbook(source, keep_vba=suffix == ".xlsm")
            for ws in workbook.worksheets:
                ws.protection.sheet = False  # the group must be able to correct the marked cells
            return workbook
        except Exception:  # a file calamine read but openpyxl cannot: rebuild it from the values
            pass
    try:
        grid = read_grid(source)
    except (UnreadableFile, Rejection):
        return None
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = _sheet_title(grid.sheet or sheet)
    for row in grid.rows:  # submitted text stays text: "=1+2" or "@SUM(...)" never becomes a formula
        append_text_safe(ws, [None if v == "" else v for v in row])
    return workbook


def _sheet_title(name: str | None) -> str:
    """A sheet name Excel and the XML of links to it can hold: a CSV's name may carry control characters or
    characters a sheet name refuses ([]:*?/\\), and may be longer than 31 characters."""
    title = re.sub(r"[\[\]:*?/\\]", "_", xml_safe(str(name or "")).strip().strip("'"))[:31]
    return title or "进度台账"


def _add_guide(workbook, sheet: str, issues: list[Issue]) -> None:
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    if GUIDE_SHEET in workbook.sheetnames:
        del workbook[GUIDE_SHEET]
    guide = workbook.create_sheet(GUIDE_SHEET, 0)
    guide["A1"].value = "本台账被指挥部退回，请按下列提示修改后重新报送（红色为错误，必须修改；黄色为警告，请核实）。"
    guide["A1"].font = Font(bold=True, color="C00000")
    guide.append([])
    guide.append(["单元格", "级别", "问题", "项目编号", "说明"])
    for cell in guide[3]:
        cell.font = Font(bold=True)
    listed = sorted(issues, key=lambda i: (i.severity != ERROR, i.cell))
    link_font = Font(color="0563C1", underline="single")
    for issue in listed[:GUIDE_ROWS]:
        row = append_text_safe(guide, [issue.cell, issue.severity, issue.title, issue.project, issue.message])
        if _CELL.match(issue.cell):
            link = guide.cell(row, 1)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{sheet}'!{issue.cell}")
            link.font = link_font
    if len(listed) > GUIDE_ROWS:
        rest = listed[GUIDE_ROWS:]
        errors = sum(i.severity == ERROR for i in rest)
        row = append_text_safe(guide, ["", "", "", "", f"另有 {len(rest)} 条问题未列出（其中错误 {errors} 条），"
                                       f"均已在台账中标色并加批注，请逐一查看标色单元格修改。"])
        guide.cell(row, 5).font = Font(bold=True, color="C00000")
    for column, width in zip("ABCDE", (9, 6, 18, 10, 90)):
        guide.column_dimensions[column].width = width
    for ws in workbook.worksheets:
        ws.sheet_view.tabSelected = ws is guide
    workbook.active = 0
