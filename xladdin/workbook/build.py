"""Building a new master workbook: the sheets of DESIGN.md, managed tables and names, the VBA project."""

from __future__ import annotations

import datetime as dt
import io
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
    SHEET_HISTORY,
    SHEET_LOG,
    SHEET_MILESTONES,
    SHEET_NOTICE,
    SHEET_RANKING,
    SHEET_REGISTER,
    SHEET_REGISTRY,
    SHEET_REPORT,
    SHEET_SETTINGS,
    SHEET_SORTED,
    SHEET_SUMMARY,
    SHEET_TIMELINE,
)
from xladdin.domain.level import LEVELS, Level, level_of
from xladdin.domain.settings import DEFAULTS, SETTING_NAMES, defaults
from xladdin.workbook.evaluate import write_cached_values
from xladdin.workbook.layout import (
    CHART_TABLE_COLUMNS,
    CITY_RESULT,
    MILESTONES,
    MILESTONES_TITLE,
    NOTICE_NAME,
    PRINT_TITLE_COLUMNS,
    RANKING,
    RANKING_KEYS,
    REGISTER,
    REGISTER_TITLE,
    SHEET_ORDER,
    SORT_KEYS,
    SORTED_TABLES,
    TABLES,
    TIMELINE,
    TIMELINE_TITLE,
    TIMELINE_WEEKS,
    TITLE_CELLS,
    WRAPPED_LABELS,
    TableSpec,
    print_extent,
)
from xladdin.workbook.master import put_cell, quote_sheet
from xladdin.workbook.vba.modules import WORKBOOK_CODE_NAME, master_project
from xladdin.workbook.widths import DEFAULT_WIDTH, PRINTABLE_PX, column_px, pages_wide

TITLE_FONT = Font(size=16, bold=True, color="1F3864")
NOTE_FONT = Font(size=10, color="595959")


def dxf_fill(colour: str) -> PatternFill:
    """A conditional-format fill both readers show: Excel takes a differential solid fill's colour from
    bgColor, LibreOffice from fgColor."""
    return PatternFill("solid", fgColor=colour, bgColor=colour)


RED_FILL = dxf_fill("F8CBAD")
BLACK_FILL = dxf_fill("595959")

TITLES = {
    SHEET_CONSOLE: ("重点项目和民生工程用地保障攻坚 · 指挥部母表", None),
    SHEET_SETTINGS: ("设置", "改“值”一列即可；留空表示用默认值。"),
    SHEET_REGISTRY: ("项目清单", "计划数只以本表为准，报送台账不能改变计划数。可在表格下方直接添加行。"),
    SHEET_SUMMARY: ("汇总（尚未运行）", "每个项目一行，为截至统计日期的最新累计数；由“一键汇总”生成，请勿手工修改表内数据。"),
    SHEET_RANKING: ("红黑榜（尚未运行）", ""),
    SHEET_SORTED: ("红黑榜（排序，尚未运行）", "宣读和通报用：每个指标一张表，参与排名的单位按名次从前到后，并列的按“红黑榜”表中的顺序；"
                                         "未参与排名的单位不列。都是取自“红黑榜”表的公式，选中一张表复制即可粘贴。"),
    SHEET_REPORT: ("校验报告（尚未运行）", "每个问题一行；“单元格”即报送文件中出错的位置。"),
    SHEET_LOG: ("报送记录", "最近收到的每个文件及其状态；内容相同的文件只处理一次。全部记录保存在历史库中。"),
    SHEET_HISTORY: ("历史（尚未运行）", "全部数据保存在历史库中，这里显示最近的部分。"),
    SHEET_BOARD: ("作战图（尚未运行）", "每个项目一行，按紧迫程度排序：逾期、临期、无进展在前。"),
    SHEET_TIMELINE: ("作战图时间表（尚未运行）", "每个项目一行（报送地块的项目，其下每个地块再各一行）、每周一列（上方为该周周一，"
                                            "按统计日期排定）：● 本周完成的节点，○ 本周计划完成而未完成的节点；红色为已过去的周里"
                                            "未完成的节点，黄色为计划中，绿色为已完成，蓝色为统计日期所在的周。当前节点的责任领导、"
                                            "责任人来自“节点计划”。"),
    SHEET_MILESTONES: ("节点计划（尚未运行）", "每个项目一行（报送地块的项目，其下每个地块再各一行），“设置”中的每个节点在每组各占一列："
                                             "计划(录入)、计划、实际(录入)、完成、状态、责任领导、责任人。“计划”按节点工期从净地交付期限"
                                             "倒排；要改，请填该节点的“计划(录入)”（地块行“净地交付·计划(录入)”即该地块的交付期限）。"
                                             "报批、高压线迁移、挂牌出让等台账推算不出的节点，完成后填“实际(录入)”。"
                                             "责任领导默认为项目的责任领导，可改；请填责任人。所填内容下次运行时读回保留。"),
    SHEET_REGISTER: ("督办台账（尚未运行）", "同一项目的同一问题无论怎么表述都归入一项（历次表述列出全部说法）；并错了在“并入编号”"
                                          "填另一项的编号，拆错了在“拆出表述”填要拆出的表述序号（如 2、3）；指挥部交办事项请在"
                                          "表末新增一行（来源填 指挥部交办，写明责任人和完成时限）；问题解决后把“状态”改为 已销号。"
                                          "下次运行时读回。"),
    SHEET_CHARTS: ("图表（尚未运行）", "图表随每次汇总自动更新；右侧为图表的数据。"),
    SHEET_NOTICE: ("通报", None),
}

CONSOLE_STEPS = (
    "使用方法：",
    "1. 在“项目清单”录入项目和计划数；在“设置”确认收件箱等文件夹。",
    "2. 运行 xladdin templates 母表 生成{units}的填报模板，下发各单位。",
    "3. 各组每天把填好的台账放进收件箱文件夹（默认为母表旁的“报送”文件夹）。",
    "4. 运行“一键汇总”（xladdin run 母表，或双击母表旁的启动脚本）。",
    "5. 查看“校验报告”：被退回的台账按提示改正后重新报送；“汇总”“红黑榜”“通报”已自动更新。",
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
    for name in SHEET_ORDER:
        ws = wb.create_sheet(name)
        title, note = TITLES[name]
        ws["A1"].value = title
        ws["A1"].font = TITLE_FONT
        if note:
            ws["A2"].value = _worded(note, words)
            ws["A2"].font = NOTE_FONT
    for spec in TABLES.values():
        _add_table(wb[spec.sheet], spec)
    console = wb[SHEET_CONSOLE]
    frozen = console.freeze_panes  # the city result sits beside the buttons: 控制台 keeps its panes
    _add_table(console, CITY_RESULT)
    console.freeze_panes = frozen
    _add_table(wb[SHEET_REGISTER], REGISTER)
    _add_table(wb[SHEET_MILESTONES], MILESTONES)
    _add_table(wb[SHEET_TIMELINE], TIMELINE)
    _timeline_formatting(wb[SHEET_TIMELINE])
    wb.defined_names[TIMELINE_TITLE] = DefinedName(TIMELINE_TITLE, attr_text=f"{quote_sheet(SHEET_TIMELINE)}!$A$1")
    wb.defined_names[MILESTONES_TITLE] = DefinedName(MILESTONES_TITLE, attr_text=f"{quote_sheet(SHEET_MILESTONES)}!$A$1")
    wb.defined_names[REGISTER_TITLE] = DefinedName(REGISTER_TITLE, attr_text=f"{quote_sheet(SHEET_REGISTER)}!$A$1")
    console.cell(CITY_RESULT.header_row - 1, CHART_TABLE_COLUMNS[CITY_RESULT.name]).value = \
        f"{words.above}里通报的本{words.name}结果（每期填一行：名次、榜单、倒数第四名的数值即退出黑榜线）"
    _fill_settings(wb, level)
    _fill_console(wb[SHEET_CONSOLE], words)
    for name, (sheet, cell) in TITLE_CELLS.items():
        wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(sheet)}!${cell[0]}${cell[1:]}")
    wb.defined_names[NOTICE_NAME] = DefinedName(NOTICE_NAME, attr_text=f"{quote_sheet(SHEET_NOTICE)}!$A$3:$A$3")
    wb[SHEET_NOTICE].column_dimensions["A"].width = 80  # A4 upright at full size (LibreOffice draws it wider): paragraphs wrap
    wb[SHEET_NOTICE]["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    _ranking_formatting(wb[SHEET_RANKING])
    _sorted_view(wb[SHEET_SORTED])
    _add_charts(wb[SHEET_CHARTS])
    _board_formatting(wb[SHEET_BOARD])
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


def _button_shape(index: int, caption: str, macro: str) -> str:
    row = 2 + index * 2  # zero-based anchor rows, two rows per button, in columns D..E
    return (f'<v:shape id="_x0000_s{1025 + index}" type="#_x0000_t201" style="position:absolute;z-index:{index + 1}" '
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


def _add_table(ws, spec: TableSpec) -> None:
    h = spec.header_row
    first = CHART_TABLE_COLUMNS.get(spec.name, 1)
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
    if ws.title != SHEET_CHARTS:
        # 节点计划 keeps its block's columns (编号, 名称, 地块) in view as its node groups scroll by.
        ws.freeze_panes = ws.cell(h + 1, 1 if spec.name in ("tblSettings", "tblRunStatus", "tblReport")
                                  else 4 if spec.name == MILESTONES.name else 2)


def _add_charts(ws) -> None:
    """Native charts over the 图表 tables; each run moves their ranges to the tables' new extents."""
    units, status, trend = (CHART_TABLE_COLUMNS[n] for n in ("tblChartUnits", "tblStatusCounts", "tblTrend"))
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
    for spec in (*SORTED_TABLES.values(), SORT_KEYS):
        _add_table(ws, spec)
    for spec in SORTED_TABLES.values():  # rank and list centred, the list on one line; a narrow gap after
        left = CHART_TABLE_COLUMNS[spec.name]
        for c in (left, left + len(spec.columns) - 1):
            ws.cell(spec.header_row + 1, c).alignment = Alignment(horizontal="center")
        ws.column_dimensions[get_column_letter(left + len(spec.columns))].width = 2
    first, last = SORT_KEYS.header_row + 1, SORT_KEYS.header_row + 501
    for spec in SORTED_TABLES.values():
        left = CHART_TABLE_COLUMNS[spec.name]
        flag = f"${get_column_letter(left + len(spec.columns) - 1)}{first}"
        area = f"{get_column_letter(left)}{first}:{get_column_letter(left + len(spec.columns) - 1)}{last}"
        ws.conditional_formatting.add(area, FormulaRule(formula=[f'{flag}="红榜"'], fill=RED_FILL, stopIfTrue=True))
        ws.conditional_formatting.add(area, FormulaRule(formula=[f'{flag}="黑榜"'], fill=BLACK_FILL,
                                                        font=Font(color="FFFFFF", bold=True)))
    left = CHART_TABLE_COLUMNS[SORT_KEYS.name]
    for c in range(left, left + len(SORT_KEYS.columns)):
        ws.column_dimensions[get_column_letter(c)].hidden = True
    ws.freeze_panes = ws.cell(SORT_KEYS.header_row + 1, 1)


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
