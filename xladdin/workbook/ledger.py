"""Fill-in ledger workbooks for work groups: the template staff type into, and (for the demo) filled copies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from xladdin.base.fs import write_whole
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import (
    CHECK_COUNT_LABELS,
    CHECK_LABEL,
    CHECK_REASON_LABELS,
    FIGURE_KEYS,
    LABEL_DATE,
    LABEL_PHONE,
    LABEL_REPORTER,
    LABEL_UNIT,
    LEDGER_FIELDS,
    LEDGER_SHEET,
    PLAN_KEYS,
    REGISTRY_BY_KEY,
    previous_label,
    value_label,
)
from xladdin.domain import selfcheck
from xladdin.workbook.build import dxf_fill, print_setup
from xladdin.workbook.evaluate import write_cached_values
from xladdin.workbook.widths import CAP, display_width, wanted_width

HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
SPARE_ROWS = 10  # blank rows for a project reported plot by plot
CODES_SHEET = "项目编号"  # hidden: the registry's codes and groups, for the self-check of typed codes
WHOLE_REGISTRY_UP_TO = 3000  # projects; a larger registry lists only the group's own codes in each template
# Rows up to which a template's formulas are computed when it is saved (their cached values show in a preview);
# the work grows with rows × rows, and Excel computes a larger one on opening anyway.
CACHED_UP_TO = 200
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
THIN = Side(style="thin", color="BFBFBF")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
IDENTITY_CELLS = {LABEL_UNIT: (2, 1), LABEL_DATE: (2, 4), LABEL_REPORTER: (2, 7), LABEL_PHONE: (2, 10)}
WIDTHS = {"seq": 5, "project_id": 10, "project_name": 26, "plot": 14, "net_land": 8, "net_land_date": 12,
          "problems": 30, "next_steps": 30}

INSTRUCTIONS = (
    "填报说明",
    "1. 只填白色单元格；灰色单元格（工作组、项目编号、项目名称、表头）已锁定，不要改动。",
    "2. 每天填报一次，填写“填报日期”；各项数字填截至填报日期的累计数，只增不减。",
    "3. 面积以“亩”为单位，可保留两位小数；房屋（栋）、青苗和附着物（户）、坟山（穴）填整数。",
    "4. 数字单元格只填数字，不要加“亩”“约”等文字；没有的填 0 或留空。",
    "5. 项目全部完成征地和拆除并交付时，“是否净地”选“是”，并填写“净地交付日期”。",
    "6. 一个项目分地块填报时，在下方空白行逐块填写，项目编号照抄，“地块名称”填写地块名。",
    "7. 文件名建议为“工作组名_日期.xlsx”，放到指挥部收件箱；如被退回，按校验报告提示修改后重新报送。",
)


@dataclass
class LastReport:
    """A group's last accepted report: its date and its rows (ledger keys -> values), in sheet order."""

    report_date: dt.date
    rows: list[dict]


CARRIED = (*FIGURE_KEYS, "net_land", "net_land_date", "problems", "next_steps")


def carried_rows(projects: pd.DataFrame, last: LastReport | None) -> list[dict]:
    """The template's rows: each registry project of the group, plot by plot as last reported, with the
    last accepted figures filled in (and kept under "previous" for the 上次报送 columns)."""
    earlier: dict[str, list[dict]] = {}
    for row in last.rows if last else []:
        earlier.setdefault(str(row["project_id"]), []).append(row)
    rows = []
    for project in projects.itertuples():
        sent = earlier.get(str(project.project_id)) or [{}]
        for old in sent:
            record = {"project_id": project.project_id, "project_name": project.project_name,
                      "plot": old.get("plot") or None}
            record.update({key: old.get(key) for key in CARRIED if old.get(key) not in (None, "")})
            if old:
                record["previous"] = {key: old.get(key) or 0 for key in FIGURE_KEYS}
            rows.append(record)
    return rows


WRAPPED = frozenset(f.label for f in LEDGER_FIELDS if f.key in ("problems", "next_steps")) | {CHECK_LABEL}


def build_ledger(group: str, projects: pd.DataFrame, report_date: dt.date | None = None,
                 rows: list[dict] | None = None, reporter: str = "", phone: str = "",
                 self_check: bool = False, last: LastReport | None = None, registry: pd.DataFrame | None = None,
                 jump_ratio: float = 0.3) -> openpyxl.Workbook:
    """A 进度台账 workbook for one group; `rows` (ledger keys -> values) fill it, None leaves it blank.

    With `self_check` it is the fill-in template: rows start from `last` (the group's last accepted
    figures), spare rows follow, and formula columns check each row by the validator's rules (codes typed
    into a row against `registry`, default the group's own projects; jumps by 设置's `jump_ratio`)."""
    if self_check:
        rows = carried_rows(projects, last)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = LEDGER_SHEET
    last_col = len(LEDGER_FIELDS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    ws["A1"].value = f"{group} 重点项目和民生工程用地保障进度台账"
    ws["A1"].font = Font(size=15, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.row_dimensions[1].height = 26
    values = {LABEL_UNIT: group, LABEL_DATE: report_date, LABEL_REPORTER: reporter, LABEL_PHONE: phone}
    for label, (r, c) in IDENTITY_CELLS.items():
        ws.cell(r, c).value = label
        ws.cell(r, c).font = Font(bold=True)
        ws.cell(r, c).fill = LOCKED_FILL
        target = ws.cell(r, c + 1)
        target.value = values[label] or None
        target.border = BORDER
        if label == LABEL_UNIT:
            target.fill = LOCKED_FILL
            ws.merge_cells(start_row=r, start_column=c + 1, end_row=r, end_column=c + 2)
        else:
            target.protection = Protection(locked=False)
    ws.cell(2, 5).number_format = "yyyy-mm-dd"
    ws.merge_cells(start_row=2, start_column=5, end_row=2, end_column=6)  # a date is wider than a figure column
    ws["A3"].value = "只填白色单元格；各项填截至填报日期的累计数，只增不减。详见“填报说明”工作表。"
    ws["A3"].font = Font(size=10, color="C00000")
    for c, f in enumerate(LEDGER_FIELDS, start=1):
        cell = ws.cell(HEADER_ROW, c)
        cell.value = f.label
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        cell.border = BORDER
        ws.column_dimensions[get_column_letter(c)].width = WIDTHS.get(f.key, 11)
    ws.row_dimensions[HEADER_ROW].height = 44
    filled = rows if rows is not None else [
        {"project_id": p.project_id, "project_name": p.project_name} for p in projects.itertuples()]
    total = len(filled) + (SPARE_ROWS if rows is None or self_check else 0)
    for i in range(total):
        r = FIRST_ROW + i
        record = filled[i] if i < len(filled) else {}
        for c, f in enumerate(LEDGER_FIELDS, start=1):
            cell = ws.cell(r, c)
            cell.border = BORDER
            value = record.get(f.key)
            if f.key == "seq":
                value = i + 1 if i < len(filled) else None
            cell.value = value
            identity = f.key in ("seq", "project_id", "project_name") and i < len(filled) and (
                not self_check or record.get("locked", True))
            if identity:
                cell.fill = LOCKED_FILL
            else:
                cell.protection = Protection(locked=False)
            if f.kind == "area":
                cell.number_format = "0.00"
            elif f.kind == "count":
                cell.number_format = "0"
            elif f.kind == "date":
                cell.number_format = "yyyy-mm-dd"
            elif f.kind == "text":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    last_row = FIRST_ROW + max(total, 1) - 1
    _add_validation(ws, last_row)
    if self_check:
        codes = add_codes_sheet(wb, projects, registry)
        add_self_check(ws, filled, projects, last, last_row, codes, jump_ratio)
        wb.calculation.fullCalcOnLoad = True
    ws.freeze_panes = ws.cell(FIRST_ROW, 4)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    fit_columns(ws, last_row)
    print_setup(ws, header_row=HEADER_ROW, last_col=len(LEDGER_FIELDS) + (1 if self_check else 0), title_cols=3)
    help_sheet = wb.create_sheet("填报说明", 1)  # before the hidden 项目编号
    for r, line in enumerate(INSTRUCTIONS, start=1):
        help_sheet.cell(r, 1).value = line
    help_sheet["A1"].font = Font(size=14, bold=True)
    help_sheet.column_dimensions["A"].width = 100
    print_setup(help_sheet, last_col=1)
    return wb


RED = "F8CBAD"
AMBER = "FFE699"
GREEN = "C6EFCE"


def add_codes_sheet(wb: openpyxl.Workbook, projects: pd.DataFrame, registry: pd.DataFrame | None) -> tuple[str, str]:
    """The hidden 项目编号 sheet: every code of the registry with its group, or only the group's own
    `projects` when there is no registry or it is larger than WHOLE_REGISTRY_UP_TO. Returns the absolute
    ranges of the codes and of the groups ("" when only the group's own are listed)."""
    whole = registry is not None and len(registry) <= WHOLE_REGISTRY_UP_TO
    listed = registry if whole else projects
    sheet = wb.create_sheet(CODES_SHEET)
    sheet.append(["项目编号", "责任工作组"])
    for project in listed.itertuples():
        sheet.append([str(project.project_id), str(project.group)])
    sheet.sheet_state = "veryHidden"  # not offered by 取消隐藏: groups do not edit the list
    sheet.protection.sheet = True
    last = max(len(listed), 1) + 1
    ids = f"'{CODES_SHEET}'!$A$2:$A${last}"
    return ids, (f"'{CODES_SHEET}'!$B$2:$B${last}" if whole else "")


def add_self_check(ws, filled: list[dict], projects: pd.DataFrame, last: LastReport | None, last_row: int,
                   codes: tuple[str, str] = ("", ""), jump_ratio: float = 0.3) -> None:
    """The 自查结果 column, the hidden 上次报送 and 计划 columns it reads, the row colours, and the verdict."""
    width = len(LEDGER_FIELDS)
    letter = {f.key: get_column_letter(c) for c, f in enumerate(LEDGER_FIELDS, start=1)}
    check_col = width + 1
    previous = {key: get_column_letter(check_col + 1 + i) for i, key in enumerate(FIGURE_KEYS)}
    plan = {key: get_column_letter(check_col + 1 + len(FIGURE_KEYS) + i) for i, key in enumerate(PLAN_KEYS)}
    errors_col = check_col + 1 + len(FIGURE_KEYS) + len(PLAN_KEYS)
    heads = [(check_col, CHECK_LABEL)]
    heads += [(check_col + 1 + i, previous_label(key)) for i, key in enumerate(FIGURE_KEYS)]
    heads += [(check_col + 1 + len(FIGURE_KEYS) + i, REGISTRY_BY_KEY[key].label) for i, key in enumerate(PLAN_KEYS)]
    heads += [(errors_col, CHECK_COUNT_LABELS[0]), (errors_col + 1, CHECK_COUNT_LABELS[1]),
              (errors_col + 2, CHECK_REASON_LABELS[0]), (errors_col + 3, CHECK_REASON_LABELS[1])]
    read_as = {key: get_column_letter(errors_col + 4 + i) for i, key in enumerate(FIGURE_KEYS)}
    heads += [(errors_col + 4 + i, value_label(key)) for i, key in enumerate(FIGURE_KEYS)]
    errors_text, warnings_text = get_column_letter(errors_col + 2), get_column_letter(errors_col + 3)
    for c, text in heads:
        cell = ws.cell(HEADER_ROW, c)
        cell.value = text
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL if c == check_col else PatternFill("solid", fgColor="7F7F7F")
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        cell.border = BORDER
        ws.column_dimensions[get_column_letter(c)].width = 30 if c == check_col else 11
        if c != check_col:
            ws.column_dimensions[get_column_letter(c)].hidden = True
    plans = {str(p.project_id): p for p in projects.itertuples()}
    unit_r, unit_c = IDENTITY_CELLS[LABEL_UNIT]
    unit = f"${get_column_letter(unit_c + 1)}${unit_r}"
    for i in range(last_row - FIRST_ROW + 1):
        r = FIRST_ROW + i
        record = filled[i] if i < len(filled) else {}
        refs = selfcheck.Refs(r, FIRST_ROW, last_row, letter, previous, plan, unit=unit, ids=codes[0],
                              id_groups=codes[1], jump_ratio=jump_ratio, value=read_as)
        for key, col in read_as.items():
            ws[f"{col}{r}"].value = selfcheck.value_formula(refs, key)
        ws.cell(r, errors_col + 2, selfcheck.reasons_formula(refs, errors=True))
        ws.cell(r, errors_col + 3, selfcheck.reasons_formula(refs, errors=False))
        cell = ws.cell(r, check_col, selfcheck.shown_formula(f"{errors_text}{r}", f"{warnings_text}{r}"))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.font = Font(color="C00000")
        cell.border = BORDER
        for key, col in previous.items():
            ws[f"{col}{r}"].value = record.get("previous", {}).get(key)
        project = plans.get(str(record.get("project_id"))) if i < len(filled) else None
        for key, col in plan.items():
            value = getattr(project, key, None) if project is not None else None
            ws[f"{col}{r}"].value = None if value is None or value != value else value
        ws.cell(r, errors_col, selfcheck.count_formula(f"{errors_text}{r}"))
        ws.cell(r, errors_col + 1, selfcheck.count_formula(f"{warnings_text}{r}"))
        ws.row_dimensions[r].height = 30  # room for two lines of reasons (no program grows a row for a formula)
    errors_letter, warnings_letter = get_column_letter(errors_col), get_column_letter(errors_col + 1)
    rows = f"A{FIRST_ROW}:{get_column_letter(check_col)}{last_row}"
    ws.conditional_formatting.add(rows, FormulaRule(formula=[f"${errors_letter}{FIRST_ROW}>0"], fill=dxf_fill(RED),
                                                    stopIfTrue=True))
    ws.conditional_formatting.add(rows, FormulaRule(formula=[f"${warnings_letter}{FIRST_ROW}>0"],
                                                    fill=dxf_fill(AMBER)))
    # The verdict beside the identity cells: 自查 on row 2, 上次报送 (date and what is wrong above the table) on 3.
    label_col = width - 2
    date_r, date_c = IDENTITY_CELLS[LABEL_DATE]
    head = selfcheck.HeadRefs(unit=f"{get_column_letter(unit_c + 1)}{unit_r}",
                              date=f"{get_column_letter(date_c + 1)}{date_r}",
                              last_date=f"{get_column_letter(label_col + 1)}3")
    for r, text in ((2, "自查"), (3, "上次报送")):
        ws.cell(r, label_col, text).font = Font(bold=True)
        ws.cell(r, label_col).fill = LOCKED_FILL
    verdict = ws.cell(2, label_col + 1, selfcheck.verdict_formula(
        head, f"{errors_letter}{FIRST_ROW}:{errors_letter}{last_row}"))
    verdict.font = Font(bold=True, size=12)
    verdict.alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=label_col + 1, end_row=2, end_column=check_col)
    place = f"{get_column_letter(label_col + 1)}2"
    ws.conditional_formatting.add(place, FormulaRule(formula=[f'{place}="可以报送"'], fill=dxf_fill(GREEN),
                                                     stopIfTrue=True))
    ws.conditional_formatting.add(place, FormulaRule(formula=[f'{place}<>"可以报送"'], fill=dxf_fill(RED)))
    when = ws.cell(3, label_col + 1, last.report_date if last else None)
    when.number_format = "yyyy-mm-dd"
    why = ws.cell(3, label_col + 2, selfcheck.head_reasons_formula(head))
    why.font = Font(color="C00000")
    ws.merge_cells(start_row=3, start_column=label_col + 2, end_row=3, end_column=check_col)


# Room for what staff type into a column still blank in the template.
FLOORS = {"area": 8.5, "count": 8, "date": 11, "text": 8, "yesno": 6, "seq": 5}
TEXT_CAP = 12  # 存在问题, 下步措施 and the reasons wrap at this width: the row grows, the sheet stays printable


def fit_columns(ws, last_row: int) -> None:
    """Each visible column as wide as its content (Chinese characters count double), its header wrapped
    on up to three lines, long text capped and wrapped."""
    for c in range(1, ws.max_column + 1):
        letter = get_column_letter(c)
        dimension = ws.column_dimensions[letter]
        if dimension.hidden:
            continue
        values = [ws.cell(r, c).value for r in range(FIRST_ROW, last_row + 1)]
        values = [v for v in values if not (isinstance(v, str) and v.startswith("="))]
        header = display_width(ws.cell(HEADER_ROW, c).value)
        field = LEDGER_FIELDS[c - 1] if c <= len(LEDGER_FIELDS) else None
        floor = FLOORS.get(field.kind if field else "", 5) if field else 5
        width = max(wanted_width(values), header / 3 + 2, floor)
        if ws.cell(HEADER_ROW, c).value == CHECK_LABEL:
            width = 18  # the reasons, wrapped
        elif ws.cell(HEADER_ROW, c).value in WRAPPED:
            width = max(min(width, TEXT_CAP), 12)
        elif field is not None and field.key == "project_name":
            width = min(width, 18)
        dimension.width = round(min(width, CAP), 1)


def _add_validation(ws, last_row: int) -> None:
    def column(key: str) -> str:
        index = [f.key for f in LEDGER_FIELDS].index(key) + 1
        letter = get_column_letter(index)
        return f"{letter}{FIRST_ROW}:{letter}{last_row}"

    area = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                          showErrorMessage=True, errorTitle="请填数字", error="请填写不小于 0 的数字（单位：亩），不要加文字。",
                          promptTitle="累计数", prompt="截至填报日期的累计数，单位：亩", showInputMessage=True)
    count = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           showErrorMessage=True, errorTitle="请填整数", error="请填写不小于 0 的整数，不要加文字。",
                           promptTitle="累计数", prompt="截至填报日期的累计数，填整数", showInputMessage=True)
    yesno = DataValidation(type="list", formula1='"是,否"', allow_blank=True, showErrorMessage=True,
                           errorTitle="请选择", error="请选择“是”或“否”。")
    date = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                          allow_blank=True, showErrorMessage=True, errorTitle="请填日期",
                          error="请填写日期，如 2026-11-20。")
    for f in LEDGER_FIELDS:
        if f.kind == "area":
            area.add(column(f.key))
        elif f.kind == "count":
            count.add(column(f.key))
    yesno.add(column("net_land"))
    date.add(column("net_land_date"))
    r, c = IDENTITY_CELLS[LABEL_DATE]
    date.add(f"{get_column_letter(c + 1)}{r}")
    for validation in (area, count, yesno, date):
        ws.add_data_validation(validation)


def save_ledger(wb: openpyxl.Workbook, path: Path, today: dt.date | None = None) -> Path:
    """Save a ledger with the value of each of its formulas beside it (what Excel would show on opening), so
    that a template previewed in mail, a chat app or Protected View shows its 自查 verdict and reasons; `today`
    for TODAY() (a formula that needs it without one is left to Excel)."""
    def write(temp: Path) -> None:
        wb.save(temp)
        if wb[LEDGER_SHEET].max_row <= HEADER_ROW + CACHED_UP_TO:
            write_cached_values(temp, wb, today)

    return write_whole(path, write)  # a full disk or a size limit leaves no broken template


def write_templates(registry: pd.DataFrame, out_dir: Path, last: dict[str, LastReport] | None = None,
                    jump_ratio: float = 0.3) -> list[Path]:
    """One fill-in ledger per work group: its registry projects, its last accepted figures, self-checking."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for group, projects in registry.groupby("group", sort=False):
        path = out_dir / f"{_safe_name(group)}_进度台账模板.xlsx"
        save_ledger(build_ledger(group, projects, self_check=True, last=(last or {}).get(group), registry=registry,
                                 jump_ratio=jump_ratio), path)
        paths.append(path)
    return paths


def _safe_name(text: str) -> str:
    return "".join("_" if ch in '\\/:*?"<>|' else ch for ch in text).strip() or "工作组"
