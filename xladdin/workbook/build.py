"""Building a new master workbook: the sheets of DESIGN.md, managed tables and names, the VBA project."""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule, DataBarRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

from xladdin.base.schema import (
    METRICS,
    SHEET_BOARD,
    SHEET_CHARTS,
    SHEET_CONF,
    SHEET_CONSOLE,
    SHEET_NOTICE,
    SHEET_RANKING,
    SHEET_SETTINGS,
    SHEET_SORTED,
    SHEET_TIMELINE,
)
from xladdin.domain.level import LEVELS, Level, level_of
from xladdin.domain.settings import DEFAULTS, SETTING_NAMES, defaults
from xladdin.workbook.evaluate import write_cached_values
from xladdin.workbook.layout import (
    CHART_UNITS,
    CITY_RESULT,
    MILESTONES,
    RANKING,
    RANKING_KEYS,
    SHEET_ORDER,
    SHEETS,
    SORT_KEYS,
    SORTED_TABLES,
    STATUS_COUNTS,
    TABLES,
    TIMELINE,
    TIMELINE_WEEKS,
    TREND,
    WRAPPED_LABELS,
    TableSpec,
    PRINT_TITLE_COLUMNS,
    print_extent,
)
from xladdin.workbook.master import put_cell, quote_sheet
from xladdin.workbook.vba.modules import WITHDRAW_ASK, WORKBOOK_CODE_NAME, master_project
from xladdin.workbook.widths import DEFAULT_WIDTH, PRINTABLE_PX, column_px, pages_wide

TITLE_FONT = Font(size=16, bold=True, color="1F3864")
NOTE_FONT = Font(size=10, color="595959")


def dxf_fill(colour: str) -> PatternFill:
    """A conditional-format fill both readers show: Excel takes a differential solid fill's colour from
    bgColor, LibreOffice from fgColor."""
    return PatternFill("solid", fgColor=colour, bgColor=colour)


RED_FILL = dxf_fill("F8CBAD")
BLACK_FILL = dxf_fill("595959")

CONSOLE_STEPS = (
    "使用方法：",
    "1. 在“项目清单”录入项目和计划数；在“设置”确认收件箱等文件夹。",
    "2. 运行 xladdin templates 母表 生成{units}的填报模板，下发各单位。",
    "3. 各组每天把填好的台账放进收件箱文件夹（默认为母表旁的“报送”文件夹）。",
    "4. 运行“一键汇总”（xladdin run 母表，或双击母表旁的启动脚本）。",
    "5. 查看“校验报告”：被退回的台账按提示改正后重新报送；“汇总”“红黑榜”“通报”已自动更新。",
    "6. 已接收的数据多报了：在“报送记录”选中那一行，点“撤回报送”并写明原因。",
)

# Keys in the spelling the xlwings VBA module reads (it upper-cases them; spaces matter). A key present
# on the sheet is final for xlwings even when empty, so the interpreter is left to the ribbon, the user's
# ~/.xlwings/xlwings.conf or `xladdin excel-setup`, which writes Interpreter_Win for this PC.
XLWINGS_CONF = (
    ("UDF Modules", "xladdin.excel"),
    ("Use UDF Server", True),
    ("Show Console", False),
)

# Buttons on 控制台: caption and the macro, a Sub of the master's VBA project (one per @xw.script of
# xladdin.excel, written by xlwings' own generator in vbamodules.py).
BUTTONS = (
    ("一键汇总", "xladdin_run"),
    ("只校验", "xladdin_validate"),
    ("汇总", "xladdin_consolidate"),
    ("重算红黑榜", "xladdin_rank"),
    ("发督查日报", "xladdin_notice"),
    ("发周通报", "xladdin_notice_weekly"),
    ("领导专报", "xladdin_notice_leaders"),
    ("生成填报模板", "xladdin_templates"),
    ("撤回报送", WITHDRAW_ASK),  # asks which submission and why (VBA), then runs xladdin_withdraw
)


def build_master(path: Path, registry_rows: list[list[object]] | None = None,
                 plan_rows: list[list[object]] | None = None, today: dt.date | None = None,
                 level: str = LEVELS[0]) -> Path:
    """A new master workbook at path (.xlsm carries the VBA project of vbamodules.master_project);
    `plan_rows` pre-fill the 节点计划 (the demo's planned dates). With `today`, the formulas that read TODAY()
    (the 作战图时间表's Mondays) carry their value for that day; each run stores them anew. `level` is
    设置 › 指挥部级别 (县 or 市), whose words the sheets' notes use and whose defaults 设置 holds."""
    words = level_of(level)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in SHEETS:  # as layout declares them: title, note, tables, named cells, then the sheet's own touches
        ws = wb.create_sheet(sheet.name)
        ws["A1"].value = sheet.title
        ws["A1"].font = TITLE_FONT
        if sheet.note:
            ws["A2"].value = _worded(sheet.note, words)
            ws["A2"].font = NOTE_FONT
        for spec in sheet.tables:
            _add_table(ws, spec)
        for name, cell in sheet.cells:
            wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(sheet.name)}!{_absolute(cell)}")
    console = wb[SHEET_CONSOLE]
    console.cell(CITY_RESULT.header_row - 1, CITY_RESULT.first_column).value = \
        f"{words.above}里通报的本{words.name}结果（每期填一行：名次、榜单、倒数第四名的数值即退出黑榜线）"
    _fill_settings(wb, level)
    _fill_console(console, words)
    wb[SHEET_NOTICE].column_dimensions["A"].width = 80  # A4 upright at full size (LibreOffice draws it wider): paragraphs wrap
    wb[SHEET_NOTICE]["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    _ranking_formatting(wb[SHEET_RANKING])
    _sorted_view(wb[SHEET_SORTED])
    _add_charts(wb[SHEET_CHARTS])
    _board_formatting(wb[SHEET_BOARD])
    _timeline_formatting(wb[SHEET_TIMELINE])
    for name in SHEET_ORDER:
        print_setup(wb[name])
    conf = wb.create_sheet(SHEET_CONF)
    for key, value in XLWINGS_CONF:
        conf.append([key, value])
    conf.sheet_state = "hidden"
    if registry_rows:
        _fill_table(wb, TABLES["tblRegistry"], registry_rows)
    if plan_rows:
        _fill_table(wb, MILESTONES, plan_rows)
    for ws in wb.worksheets:
        if ws.title != SHEET_CONF:
            ws.sheet_view.showGridLines = ws.title in (SHEET_NOTICE,)
    wb.active = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsm":
        wb.vba_archive = _vba_archive(wb)
    wb.calculation.fullCalcOnLoad = True
    wb.save(path)
    _add_buttons(path)
    write_cached_values(path, wb, today)
    return path


def _vba_archive(wb) -> zipfile.ZipFile:
    """The VBA project as openpyxl takes it: a package holding xl/vbaProject.bin and its content type.

    Every sheet gets a code name with a document module of that name, as Excel writes a macro workbook."""
    wb.code_name = WORKBOOK_CODE_NAME
    names = []
    for i, ws in enumerate(wb.worksheets, start=1):
        ws.sheet_properties.codeName = f"Sheet{i}"
        names.append(ws.sheet_properties.codeName)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/vbaProject.bin", master_project(names))
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'))
        archive.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                        'relationships"/>')
    return zipfile.ZipFile(buffer)


def _button_shape(index: int, caption: str, macro: str, shape_id: int | None = None) -> str:
    row = 2 + index * 2  # zero-based anchor rows, two rows per button, in columns D..E
    shape_id = 1025 + index if shape_id is None else shape_id
    return (f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t201" style="position:absolute;z-index:{index + 1}" '
            f'o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" o:insetmode="auto">'
            f'<v:textbox style="mso-direction-alt:auto" o:singleclick="f"><div style="text-align:center">'
            f'<font face="宋体" size="220" color="auto">{escape(caption)}</font></div></v:textbox>'
            f'<x:ClientData ObjectType="Button"><x:Anchor>3, 8, {row}, 4, 4, 60, {row + 1}, 14</x:Anchor>'
            f'<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill>'
            f'<x:FmlaMacro>[0]!{macro}</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign>'
            f'<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape>')


def _add_buttons(path: Path) -> None:
    """Form buttons on 控制台, stored as Excel stores them: a VML drawing whose shapes call macros."""
    vml = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
           'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
           '<o:idmap v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t201" coordsize="21600,21600" '
           'o:spt="201" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path shadowok="f" '
           'o:extrusionok="f" strokeok="f" fillok="f" o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/>'
           '</v:shapetype>' + "".join(_button_shape(i, c, m) for i, (c, m) in enumerate(BUTTONS)) + "</xml>")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        parts = {i.filename: archive.read(i) for i in infos}
    sheet = "xl/worksheets/sheet1.xml"  # 控制台 is the first sheet the builder creates
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    xml = parts[sheet].decode("utf-8")
    at = xml.index("<tableParts")
    parts[sheet] = (xml[:at] + '<legacyDrawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships" r:id="rIdButtons"/>' + xml[at:]).encode("utf-8")
    parts[rels] = parts[rels].replace(b"</Relationships>", (
        b'<Relationship Id="rIdButtons" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'vmlDrawing" Target="../drawings/vmlDrawing1.vml"/></Relationships>'))
    parts["xl/drawings/vmlDrawing1.vml"] = vml.encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    if 'Extension="vml"' not in types:
        types = types.replace("<Default ", '<Default Extension="vml" ContentType="application/vnd.openxmlformats-'
                              'officedocument.vmlDrawing" /><Default ', 1)
    parts["[Content_Types].xml"] = types.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename])
        archive.writestr("xl/drawings/vmlDrawing1.vml", parts["xl/drawings/vmlDrawing1.vml"])


def add_missing_buttons(parts: dict[str, bytes], sheet_part: str) -> list[str]:
    """The 控制台 buttons a master built by an earlier version lacks (撤回报送), added to the sheet's VML
    drawing in their place under the others, in `parts` (a package's parts by name); the captions added. A
    sheet without a VML drawing (staff removed every button) is left alone."""
    folder, name = posixpath.split(sheet_part)
    rels = parts.get(posixpath.join(folder, "_rels", name + ".rels"), b"").decode("utf-8")
    found = re.search(r'<Relationship\b[^>]*Type="[^"]*/vmlDrawing"[^>]*/>', rels)
    target = re.search(r'Target="([^"]+)"', found[0]) if found else None
    drawing = posixpath.normpath(posixpath.join(folder, target[1])) if target else None
    if drawing not in parts:
        return []
    vml = parts[drawing].decode("utf-8")
    used = [int(n) for n in re.findall(r'id="_x0000_s(\d+)"', vml)]
    shapes, added = [], []
    for index, (caption, macro) in enumerate(BUTTONS):
        if f"[0]!{macro}<" in vml:
            continue
        shape_id = 1025 + index if 1025 + index not in used else max(used) + 1
        used.append(shape_id)
        shapes.append(_button_shape(index, caption, macro, shape_id))
        added.append(caption)
    if shapes:
        at = vml.rindex("</xml>")
        parts[drawing] = (vml[:at] + "".join(shapes) + vml[at:]).encode("utf-8")
    return added


# Where 安装.cmd (xladdin offline-bundle) puts xladdin on a Windows PC: one venv per Windows user.
INSTALLED_VENV = r"%LOCALAPPDATA%\xladdin\venv"
RUN_LAUNCHER = "一键汇总.cmd"
SERVE_LAUNCHER = "启动报送平台.cmd"
NOT_INSTALLED = "没有找到 xladdin：请先双击离线安装包中的“安装.cmd”，装好后再双击本文件。"


def launcher_cmd(comment: str, arguments: str) -> str:
    """A .cmd that runs `xladdin <arguments>` from this folder with the first xladdin it finds: the venv
    安装.cmd made (a PC set up by it has no xladdin on PATH), then xladdin on PATH, then `py -3`'s; when
    there is none it says to run 安装.cmd. It keeps its window open and exits with xladdin's code."""
    runs = (("venv", '"%XLADDIN%"'), ("path", "xladdin"), ("py", "py -3 -m xladdin.cli"))
    lines = ["@echo off", f"rem {comment}", "setlocal", 'cd /d "%~dp0"',
             f'set "XLADDIN={INSTALLED_VENV}\\Scripts\\xladdin.exe"',
             'if exist "%XLADDIN%" goto :venv',
             "where xladdin >nul 2>nul && goto :path",
             'py -3 -c "import xladdin" >nul 2>nul && goto :py',
             f"echo {NOT_INSTALLED}", "set RC=2", "goto :end"]
    for label, command in runs:
        lines += [f":{label}", f"{command} {arguments} %*", "set RC=%errorlevel%", "goto :end"]
    lines += [":end", "pause", "exit /b %RC%"]
    return "\r\n".join(lines) + "\r\n"


def write_launchers(directory: Path, master_name: str) -> list[Path]:
    """Beside the master: 一键汇总.cmd (Windows) and 一键汇总.sh, the headless job for staff without xlwings or
    on WPS, and 启动报送平台.cmd, the 报送平台 (xladdin serve) for the work groups."""
    written = []
    for name, comment, arguments in (
            (RUN_LAUNCHER, "双击运行：对本文件夹中的母表执行一键汇总（运行前请先关闭母表）。", f'run "{master_name}"'),
            (SERVE_LAUNCHER, "双击启动报送平台：各工作组在浏览器中报送台账；关闭本窗口即停止。", f'serve "{master_name}"')):
        path = directory / name
        path.write_bytes(launcher_cmd(comment, arguments).encode("gbk"))  # cmd.exe reads the ANSI code page
        written.append(path)
    sh = directory / "一键汇总.sh"
    sh.write_text(
        "#!/bin/sh\n"
        "# 对本文件夹中的母表执行一键汇总（运行前请先关闭母表）。\n"
        'cd "$(dirname "$0")" || exit 2\n'
        "if command -v xladdin >/dev/null 2>&1; then\n"
        f'    exec xladdin run "{master_name}" "$@"\n'
        "fi\n"
        f'exec python3 -m xladdin.cli run "{master_name}" "$@"\n', encoding="utf-8")
    sh.chmod(0o755)
    return [*written, sh]


def _absolute(cell: str) -> str:
    """A1 -> $A$1, A3:A3 -> $A$3:$A$3."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in cell.split(":"))


def _add_table(ws, spec: TableSpec) -> None:
    h = spec.header_row
    first = spec.first_column
    for c, column in enumerate(spec.columns, start=first):
        cell = ws.cell(h, c)
        cell.value = column.label
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(c)].width = column.width
        ws.cell(h + 1, c).number_format = column.number_format
        if column.width >= 28 or column.label in WRAPPED_LABELS:  # long text wraps within the capped width; new rows take this cell's style
            ws.cell(h + 1, c).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[h].height = 32
    ref = f"{get_column_letter(first)}{h}:{get_column_letter(first + len(spec.columns) - 1)}{h + 1}"
    table = Table(displayName=spec.name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    if spec.freeze_column:
        ws.freeze_panes = ws.cell(h + 1, spec.freeze_column)


def _add_charts(ws) -> None:
    """Native charts over the 图表 tables; each run moves their ranges to the tables' new extents."""
    units, status, trend = (spec.first_column for spec in (CHART_UNITS, STATUS_COUNTS, TREND))
    first = 4
    bars = BarChart()
    bars.type, bars.grouping, bars.overlap = "bar", "clustered", 100
    bars.title = "各单位征地完成率（红为红榜，黑为黑榜）"
    bars.y_axis.number_format = "0%"
    bars.y_axis.scaling.min, bars.y_axis.scaling.max = 0, 1
    bars.add_data(Reference(ws, min_col=units + 1, max_col=units + 3, min_row=3, max_row=first), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=units, min_row=first, max_row=first))
    for series, colour in zip(bars.series, ("C00000", "262626", "A6A6A6")):
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = colour
    bars.height, bars.width = 9, 16
    ws.add_chart(bars, "M3")
    line = LineChart()
    line.title = "累计征地面积与计划（亩）"
    line.add_data(Reference(ws, min_col=trend + 1, max_col=trend + 2, min_row=3, max_row=first),
                  titles_from_data=True)
    line.set_categories(Reference(ws, min_col=trend, min_row=first, max_row=first))
    line.x_axis.number_format = "m/d"
    line.height, line.width = 9, 16
    ws.add_chart(line, "M22")
    # Statuses overlap (a project can be 逾期 and 无进展 at once): counts as bars, never slices of a whole.
    bars = BarChart()
    bars.type = "bar"
    bars.title = "项目状态（个，一个项目可属于几类）"
    bars.add_data(Reference(ws, min_col=status + 1, min_row=3, max_row=first), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=status, min_row=first, max_row=first))
    bars.legend = None
    bars.height, bars.width = 9, 12
    ws.add_chart(bars, "M41")


def print_setup(ws, header_row: int | None = None, last_col: int | None = None, title_cols: int = 0) -> None:
    """A4, landscape when the columns do not fit upright, fitted to as many pages across as keep the
    body at 9 pt, the header row on every page, and the sheet name, date and page x of y around it."""
    header, last = print_extent(ws.title)
    header, last = header_row or header, last_col or last
    title_cols = title_cols or PRINT_TITLE_COLUMNS.get(ws.title, 0)
    widths = [ws.column_dimensions[get_column_letter(c)].width or DEFAULT_WIDTH for c in range(1, last + 1)]
    total = sum(column_px(w) for w in widths)
    orientation = "portrait" if total <= PRINTABLE_PX["portrait"] else "landscape"
    pages = pages_wide(widths, widths[:title_cols], orientation)
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = pages
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.25
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if header:
        ws.print_title_rows = f"{header}:{header}"
    if title_cols:
        ws.print_title_cols = f"A:{get_column_letter(title_cols)}"
    ws.oddHeader.left.text = "&A"
    ws.oddHeader.right.text = "打印日期：&D"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _board_formatting(ws) -> None:
    """作战图: a bar in the completion column and red for overdue days, kept by every run."""
    ws.conditional_formatting.add("G4:G3000", DataBarRule(start_type="num", start_value=0, end_type="num",
                                                          end_value=1, color="5B9BD5", showValue=True))
    ws.conditional_formatting.add("F4:F3000", CellIsRule(operator="lessThan", formula=["0"], fill=RED_FILL))
    ws.conditional_formatting.add("F4:F3000", CellIsRule(operator="between", formula=["0", "DueSoonDays"],
                                                         fill=dxf_fill("FFE699")))


def _timeline_formatting(ws) -> None:
    """作战图时间表: the row of Mondays above the week columns (dates the run writes: nothing volatile),
    and conditional formats on fixed columns: the weeks before the as-of week red where a milestone is
    planned and not done, yellow planned, green done, the as-of week (always the same column) blue.
    Formats only (Excel 2010, WPS, LibreOffice)."""
    from xladdin.domain.milestones import WEEKS_BACK

    first = len(TIMELINE.columns) - TIMELINE_WEEKS + 1
    week_row = TIMELINE.header_row - 1
    for k in range(TIMELINE_WEEKS):
        cell = ws.cell(week_row, first + k)
        cell.number_format = "m/d"
        cell.alignment = Alignment(horizontal="center")
    left, right = get_column_letter(first), get_column_letter(first + TIMELINE_WEEKS - 1)
    past_right, this_week = get_column_letter(first + WEEKS_BACK - 1), get_column_letter(first + WEEKS_BACK)
    top = TIMELINE.header_row + 1
    body = f"{left}{top}:{right}3000"
    corner = f"{left}{top}"
    ws.conditional_formatting.add(f"{left}{top}:{past_right}3000", FormulaRule(
        formula=[f'ISNUMBER(SEARCH("○",{corner}))'], fill=RED_FILL, stopIfTrue=True))
    ws.conditional_formatting.add(body, FormulaRule(formula=[f'ISNUMBER(SEARCH("○",{corner}))'],
                                                    fill=dxf_fill("FFE699"), stopIfTrue=True))
    ws.conditional_formatting.add(body, FormulaRule(formula=[f'ISNUMBER(SEARCH("●",{corner}))'],
                                                    fill=dxf_fill("A9D08E"), stopIfTrue=True))
    ws.conditional_formatting.add(f"{this_week}{week_row}:{this_week}3000", FormulaRule(
        formula=["TRUE"], fill=dxf_fill("BDD7EE")))
    for k in range(TIMELINE_WEEKS):
        ws.cell(top, first + k).alignment = Alignment(horizontal="center")


def _fill_table(wb, spec: TableSpec, rows: list[list[object]]) -> None:
    ws = wb[spec.sheet]
    for r, values in enumerate(rows, start=spec.header_row + 1):
        for c, (value, column) in enumerate(zip(values, spec.columns), start=1):
            put_cell(ws.cell(r, c), value)
            ws.cell(r, c).number_format = column.number_format
    last = get_column_letter(len(spec.columns))
    table = ws.tables[spec.name]
    table.ref = f"A{spec.header_row}:{last}{spec.header_row + max(1, len(rows))}"


def _worded(text: str, words: Level) -> str:
    """A sheet's note in the level's words ({units}: 各工作组 / 各县（市、区）)."""
    return text.replace("{units}", words.units_all).replace("{unit}", words.unit)


def _fill_settings(wb, level: str) -> None:
    ws = wb[SHEET_SETTINGS]
    spec = TABLES["tblSettings"]
    for r, (key, value, note) in enumerate(defaults(level), start=spec.header_row + 1):
        for c, v in enumerate((key, value, note), start=1):
            put_cell(ws.cell(r, c), v)
        if key in SETTING_NAMES:
            name = SETTING_NAMES[key]
            wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(ws.title)}!$B${r}")
    last = spec.header_row + len(DEFAULTS)
    ws.tables[spec.name].ref = f"A{spec.header_row}:C{last}"


def _fill_console(ws, words: Level) -> None:
    for r, line in enumerate(CONSOLE_STEPS, start=3):
        ws.cell(r, 1).value = _worded(line, words)
        ws.cell(r, 1).font = Font(bold=(r == 3))
    ws.cell(11, 1).value = "上次运行"
    ws.cell(11, 1).font = Font(bold=True)


def _sorted_view(ws) -> None:
    """红黑榜（排序）: a table per metric, each row coloured by its list; the sort keys the tables read are
    a helper table at the right, hidden (staff need not see it; unhide the columns to audit)."""
    for spec in SORTED_TABLES.values():  # rank and list centred, the list on one line; a narrow gap after
        left = spec.first_column
        for c in (left, left + len(spec.columns) - 1):
            ws.cell(spec.header_row + 1, c).alignment = Alignment(horizontal="center")
        ws.column_dimensions[get_column_letter(left + len(spec.columns))].width = 2
    first, last = SORT_KEYS.header_row + 1, SORT_KEYS.header_row + 501
    for spec in SORTED_TABLES.values():
        left = spec.first_column
        flag = f"${get_column_letter(left + len(spec.columns) - 1)}{first}"
        area = f"{get_column_letter(left)}{first}:{get_column_letter(left + len(spec.columns) - 1)}{last}"
        ws.conditional_formatting.add(area, FormulaRule(formula=[f'{flag}="红榜"'], fill=RED_FILL, stopIfTrue=True))
        ws.conditional_formatting.add(area, FormulaRule(formula=[f'{flag}="黑榜"'], fill=BLACK_FILL,
                                                        font=Font(color="FFFFFF", bold=True)))
    left = SORT_KEYS.first_column
    for c in range(left, left + len(SORT_KEYS.columns)):
        ws.column_dimensions[get_column_letter(c)].hidden = True


def _ranking_formatting(ws) -> None:
    """Red and black list colours driven by each metric's flag cell, so they follow 设置 changes live."""
    first = RANKING.header_row + 1
    last = first + 500
    position = {key: i + 1 for i, key in enumerate(RANKING_KEYS)}
    for key, _ in METRICS:
        flag = f"${get_column_letter(position[f'{key}_flag'])}{first}"
        for area in (f"{get_column_letter(position[key])}{first}:{get_column_letter(position[f'{key}_rank'])}{last}",
                     f"{get_column_letter(position[f'{key}_flag'])}{first}:"
                     f"{get_column_letter(position[f'{key}_flag'])}{last}"):
            ws.conditional_formatting.add(area, FormulaRule(formula=[f'{flag}="红榜"'], fill=RED_FILL,
                                                            stopIfTrue=True))
            ws.conditional_formatting.add(area, FormulaRule(formula=[f'{flag}="黑榜"'], fill=BLACK_FILL,
                                                            font=Font(color="FFFFFF", bold=True)))
