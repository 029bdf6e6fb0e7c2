"""The master workbook's managed regions: Excel tables and defined names, with their columns."""

from __future__ import annotations

from dataclasses import dataclass

from xladdin.base.schema import (
    FIGURE_KEYS,
    LEDGER_BY_KEY,
    METRICS,
    RANK_LIST_LABEL,
    RANK_UNIT_LABEL,
    REGISTRY_FIELDS,
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
    SUMMARY_FIELDS,
    normalize_label,
)
from xladdin.domain.milestones import DEFAULT_MILESTONES, GROUPS, SEPARATOR, labels
from xladdin.domain.milestones import LABELS as LONG_MILESTONE_LABELS


@dataclass(frozen=True)
class Column:
    label: str
    width: float = 12
    number_format: str = "General"


@dataclass(frozen=True)
class TableSpec:
    """A managed Excel table: its name, sheet, columns and where it sits. `optional` tables may be missing
    from a master built before them (a run then leaves them out); `freeze_column` is the first column
    that scrolls (0: the panes are not frozen at the table); `staff` tables are filled by staff and read
    by a run, every other table is written by a run (engine.presentation.WRITERS)."""
    name: str
    sheet: str
    columns: tuple[Column, ...]
    header_row: int = 3
    first_column: int = 1
    optional: bool = False
    freeze_column: int = 2
    staff: bool = False

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]


def _width(label: str, fmt: str) -> float:
    """A first width from the header wrapped on two lines; each run widens it to the content."""
    if fmt.startswith("yyyy"):
        return 12
    wide = sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in label)
    return max(8.0, min(28.0, round(wide / 2 + 2, 1)))


def _columns(fields) -> tuple[Column, ...]:
    return tuple(Column(label, _width(label, fmt), fmt) for _, label, fmt in fields)


_REGISTRY_FORMATS = {"area": "0.00", "count": "0", "date": "yyyy-mm-dd", "text": "@"}

SETTINGS = TableSpec("tblSettings", SHEET_SETTINGS, (Column("设置项", 18), Column("值", 16), Column("说明", 70)),
                     freeze_column=1, staff=True)
STATUS = TableSpec("tblRunStatus", SHEET_CONSOLE, (Column("项目", 14), Column("内容", 70)), header_row=12,
                   freeze_column=1)
REGISTRY = TableSpec("tblRegistry", SHEET_REGISTRY, tuple(
    Column(f.label, _width(f.label, _REGISTRY_FORMATS[f.kind]), _REGISTRY_FORMATS[f.kind]) for f in REGISTRY_FIELDS),
    staff=True)
SUMMARY = TableSpec("tblSummary", SHEET_SUMMARY, _columns(SUMMARY_FIELDS))
# 红黑榜 column keys, in order: DESIGN.md fixes the first part (unit, value and rank per metric, 榜单);
# flags, previous ranks, movement and the composite follow it; then per metric the average over ranked
# units, whether the unit is below it, and how many periods in a row it has been on its list.
RANKING_KEYS: tuple[str, ...] = (
    "unit", *(k for key, _ in METRICS for k in (key, f"{key}_rank")), "list_text",
    *(f"{key}_flag" for key, _ in METRICS),
    *(k for key, _ in METRICS for k in (f"{key}_prev", f"{key}_move")),
    "composite", "composite_rank",
    *(k for key, _ in METRICS for k in (f"{key}_average", f"{key}_below", f"{key}_streak")),
)


def _ranking_column(key: str) -> Column:
    labels = dict(METRICS)
    if key == "unit":
        return Column(RANK_UNIT_LABEL, 18)
    if key == "list_text":
        return Column(RANK_LIST_LABEL, 40)
    if key == "composite":
        return Column("综合得分", 10, "0.00%")
    if key == "composite_rank":
        return Column("综合排名", 9, "0")
    metric, _, part = key.rpartition("_") if key not in labels else (key, "", "")
    label = labels[metric]
    return {"": Column(label, 13, "0.00%"), "rank": Column(f"{label}排名", 10, "0"),
            "flag": Column(f"{label}榜", 9), "prev": Column(f"{label}上期排名", 10, "0"),
            "move": Column(f"{label}名次变化", 10), "average": Column(f"{label}平均", 10, "0.00%"),
            "below": Column(f"{label}低于平均", 10), "streak": Column(f"{label}连续上榜期数", 12, "0")}[part]


RANKING = TableSpec("tblRanking", SHEET_RANKING, tuple(_ranking_column(k) for k in RANKING_KEYS), header_row=4)
REPORT = TableSpec("tblReport", SHEET_REPORT, (
    Column("工作组", 14), Column("文件", 28), Column("工作表", 10), Column("单元格", 8), Column("级别", 6),
    Column("代码", 14), Column("问题", 18), Column("项目编号", 10), Column("发现值", 12), Column("应为", 12),
    Column("说明", 70),
), freeze_column=1)
LOG = TableSpec("tblLog", SHEET_LOG, (
    Column("文件名", 30), Column("填报单位", 14), Column("填报日期", 12, "yyyy-mm-dd"), Column("填报人", 10),
    Column("状态", 8), Column("错误数", 7, "0"), Column("警告数", 7, "0"), Column("数据行数", 8, "0"),
    Column("收到时间", 19), Column("SHA-256", 20),
))
HISTORY = TableSpec("tblHistory", SHEET_HISTORY, (
    Column("填报日期", 12, "yyyy-mm-dd"), Column("工作组", 14), Column("项目编号", 10), Column("地块名称", 14),
    *(Column(LEDGER_BY_KEY[k].label, _width(LEDGER_BY_KEY[k].label, ""),
             "0.00" if LEDGER_BY_KEY[k].kind == "area" else "0") for k in FIGURE_KEYS),
    Column("是否净地", 8), Column("净地交付日期", 12, "yyyy-mm-dd"), Column("存在问题", 30), Column("下步措施", 30),
    Column("来源文件", 28), Column("数据状态", 8),
))

# The chart tables sit side by side on 图表 (header row 3), the charts from column M to the right of them.
CHART_UNITS = TableSpec("tblChartUnits", SHEET_CHARTS, (
    Column(RANK_UNIT_LABEL, 16), Column("红榜", 9, "0.00%"), Column("黑榜", 9, "0.00%"), Column("其他", 9, "0.00%"),
), freeze_column=0)
STATUS_COUNTS = TableSpec("tblStatusCounts", SHEET_CHARTS, (Column("状态", 10), Column("项目数", 8, "0")),
                          first_column=6, freeze_column=0)
TREND = TableSpec("tblTrend", SHEET_CHARTS, (
    Column("填报日期", 12, "yyyy-mm-dd"), Column("累计征地面积(亩)", 12, "0.00"), Column("计划征地面积(亩)", 12, "0.00"),
), first_column=9, freeze_column=0)
BOARD = TableSpec("tblBoard", SHEET_BOARD, (
    Column("项目编号", 10), Column("项目名称", 26), Column("责任领导", 22), Column("责任工作组", 14),
    Column("净地交付期限", 12, "yyyy-mm-dd"), Column("剩余天数", 9, "0"), Column("征地完成率", 24, "0.0%"),
    Column("状态", 14), Column("存在问题", 40),
))

# Optional: where staff record the city's published result (cityresult.py); masters built before it
# have none, so it is not among TABLES (which every master must have).
CITY_RESULT = TableSpec("tblCityResult", SHEET_CONSOLE, (
    Column("通报日期", 12, "yyyy-mm-dd"), Column("指标", 18), Column("本县名次", 9, "0"), Column("参评县数", 9, "0"),
    Column("榜单", 8), Column("退出黑榜线", 11, "0.00%"),
), first_column=7, optional=True, freeze_column=0, staff=True)

# 督办台账 (register.py): staff edit 状态 and add 指挥部交办 rows; read back on the next run. Optional like
# the city result: masters built before it lack it and go on working without a register.
# 编号 threads a problem's wordings (历次表述); staff merge by 并入编号 and split by 拆出表述 (wording numbers).
REGISTER = TableSpec("tblRegister", SHEET_REGISTER, (  # widths sum to one landscape A4 page at 9 pt
    Column("编号", 8), Column("项目名称", 14), Column("责任工作组", 10), Column("责任领导", 10), Column("问题", 20),
    Column("首次报告日期", 10, "yyyy-mm-dd"), Column("已持续天数", 6, "0"), Column("最新下步措施", 14), Column("状态", 8),
    Column("来源", 8), Column("责任人", 7), Column("完成时限", 10, "yyyy-mm-dd"), Column("督办提示", 14),
    Column("历次表述", 20), Column("并入编号", 7), Column("拆出表述", 7),
), optional=True)
# 节点计划 (milestones.py): one row per project (and per 地块 it reports), in blocks; per node of 设置's
# list a column in each group (计划(录入), 计划, 实际(录入), 完成, 状态, 责任领导, 责任人: headings
# "报批·计划(录入)"…, so the table's columns follow the list). Staff type 计划(录入), 实际(录入), 责任领导
# and 责任人 (kept by every run); the run writes the 倒排工期 date under 计划 and the ledger's under 完成
# (formulas: the typed date when there is one), and the status.
_MILESTONE_FORMATS = {"typed": "yyyy-mm-dd", "planned": "yyyy-mm-dd", "entered": "yyyy-mm-dd", "done": "yyyy-mm-dd"}
_MILESTONE_WIDTHS = {"typed": 12, "planned": 11, "entered": 12, "done": 11, "status": 12, "leader": 10, "person": 9}


def milestone_table(milestones: tuple[str, ...]) -> TableSpec:
    """The 节点计划 for a 设置 list of nodes."""
    head = (Column("项目编号", 10), Column("项目名称", 24), Column("地块名称", 14))
    formats = [(_MILESTONE_WIDTHS[key], _MILESTONE_FORMATS.get(key, "General")) for key, _ in GROUPS
               for _ in milestones]
    return TableSpec("tblMilestones", SHEET_MILESTONES, (
        *head, *(Column(label, w, f) for label, (w, f) in zip(labels(milestones)[len(head):], formats))),
        optional=True, freeze_column=4)  # the block's 编号, 名称, 地块 stay in view as its node groups scroll by


MILESTONES = milestone_table(DEFAULT_MILESTONES)
# 作战图时间表: one row per block of the 节点计划 (a project, then each of its 地块), its current milestone
# with 责任领导 and 责任人, one column per week (the week's Monday, as of the run, in the row above the
# header), ● done / ○ planned by COUNTIFS over the block's own rows of the 节点计划.
TIMELINE_WEEKS = 16
TIMELINE = TableSpec("tblTimeline", SHEET_TIMELINE, (
    Column("项目编号", 10), Column("项目名称", 24), Column("地块名称", 12), Column("当前节点", 10), Column("责任领导", 12),
    Column("责任人", 10), Column("净地交付期限", 12, "yyyy-mm-dd"),
    *(Column(f"第{k + 1}周", 6) for k in range(TIMELINE_WEEKS)),
), header_row=4, optional=True)
# Optional: the 红黑榜 as it is read out (sheet 红黑榜（排序）), one table per metric with its ranked units
# by rank, and a helper table of sort keys (one row per 红黑榜 row: rank + ROW()/100000, blank when not
# ranked) that the per-metric tables take SMALL of, so no formula is an array formula. Masters built
# before it have no such sheet: a run then leaves the view out.
# On 红黑榜（排序）: a metric every five columns (four and a gap), the sort keys last.
SORTED_TABLES = {key: TableSpec("tblSorted" + "".join(w.title() for w in key.split("_")), SHEET_SORTED, (
    Column("排名", 5, "0"), Column(RANK_UNIT_LABEL, 16), Column(label, 11, "0.00%"), Column(RANK_LIST_LABEL, 6),
), first_column=1 + 5 * i, optional=True, freeze_column=1) for i, (key, label) in enumerate(METRICS)}
SORT_KEYS = TableSpec("tblSortKeys", SHEET_SORTED, (
    Column(RANK_UNIT_LABEL, 18), *(Column(f"{label}排序键", 12, "0.00000") for _, label in METRICS),
), first_column=1 + 5 * len(METRICS), optional=True, freeze_column=1)
SUMMARY_TOTALS = "SummaryTotals"
REGISTER_TITLE = "RegisterTitle"  # optional like the register itself
MILESTONES_TITLE = "MilestonesTitle"
TIMELINE_TITLE = "TimelineTitle"
NOTICE_NAME = "NoticeText"


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of the master, declared once: its title and note (rows 1 and 2 of a new master; `None`: no
    note), its tables, the defined names of its single cells and text regions (name -> cell or range), and
    how many of its first columns repeat on every printed page. build makes a new master from it, room and
    package check a master against it, widths prints by it, and engine.presentation writes each of its
    tables (`presentation.WRITERS` names the writer of every table a run fills)."""
    name: str
    title: str
    note: str | None
    tables: tuple[TableSpec, ...] = ()
    cells: tuple[tuple[str, str], ...] = ()
    print_title_columns: int = 0


# The sheets of DESIGN.md, in their order in the master. Notes may say {units} and {unit}: the level's
# words (各工作组 / 各县（市、区）) replace them.
SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(SHEET_CONSOLE, "重点项目和民生工程用地保障攻坚 · 指挥部母表", None, (STATUS, CITY_RESULT)),
    SheetSpec(SHEET_SETTINGS, "设置", "改“值”一列即可；留空表示用默认值。", (SETTINGS,)),
    SheetSpec(SHEET_REGISTRY, "项目清单", "计划数只以本表为准，报送台账不能改变计划数。可在表格下方直接添加行。",
              (REGISTRY,), print_title_columns=2),
    SheetSpec(SHEET_SUMMARY, "汇总（尚未运行）",
              "每个项目一行，为截至统计日期的最新累计数；由“一键汇总”生成，请勿手工修改表内数据。",
              (SUMMARY,), (("SummaryTitle", "A1"), (SUMMARY_TOTALS, "A2")), print_title_columns=2),
    SheetSpec(SHEET_RANKING, "红黑榜（尚未运行）", "", (RANKING,),
              (("RankingTitle", "A1"), ("RankingPeriod", "A2"), ("RankingWhole", "A3")), print_title_columns=1),
    SheetSpec(SHEET_SORTED, "红黑榜（排序，尚未运行）",
              "宣读和通报用：每个指标一张表，参与排名的单位按名次从前到后，并列的按“红黑榜”表中的顺序；"
              "未参与排名的单位不列。都是取自“红黑榜”表的公式，选中一张表复制即可粘贴。",
              (*SORTED_TABLES.values(), SORT_KEYS), (("SortedTitle", "A1"),)),
    SheetSpec(SHEET_BOARD, "作战图（尚未运行）", "每个项目一行，按紧迫程度排序：逾期、临期、无进展在前。",
              (BOARD,), (("BoardTitle", "A1"),), print_title_columns=2),
    SheetSpec(SHEET_TIMELINE, "作战图时间表（尚未运行）",
              "每个项目一行（报送地块的项目，其下每个地块再各一行）、每周一列（上方为该周周一，"
              "按统计日期排定）：● 本周完成的节点，○ 本周计划完成而未完成的节点；红色为已过去的周里"
              "未完成的节点，黄色为计划中，绿色为已完成，蓝色为统计日期所在的周。当前节点的责任领导、"
              "责任人来自“节点计划”。",
              (TIMELINE,), ((TIMELINE_TITLE, "A1"),), print_title_columns=2),
    SheetSpec(SHEET_CHARTS, "图表（尚未运行）", "图表随每次汇总自动更新；右侧为图表的数据。",
              (CHART_UNITS, STATUS_COUNTS, TREND), (("ChartsTitle", "A1"),)),
    SheetSpec(SHEET_REGISTER, "督办台账（尚未运行）",
              "同一项目的同一问题无论怎么表述都归入一项（历次表述列出全部说法）；并错了在“并入编号”"
              "填另一项的编号，拆错了在“拆出表述”填要拆出的表述序号（如 2、3）；指挥部交办事项请在"
              "表末新增一行（来源填 指挥部交办，写明责任人和完成时限）；问题解决后把“状态”改为 已销号。"
              "下次运行时读回。",
              (REGISTER,), ((REGISTER_TITLE, "A1"),), print_title_columns=1),
    SheetSpec(SHEET_MILESTONES, "节点计划（尚未运行）",
              "每个项目一行（报送地块的项目，其下每个地块再各一行），“设置”中的每个节点在每组各占一列："
              "计划(录入)、计划、实际(录入)、完成、状态、责任领导、责任人。“计划”按节点工期从净地交付期限"
              "倒排；要改，请填该节点的“计划(录入)”（地块行“净地交付·计划(录入)”即该地块的交付期限）。"
              "报批、高压线迁移、挂牌出让等台账推算不出的节点，完成后填“实际(录入)”。"
              "责任领导默认为项目的责任领导，可改；请填责任人。所填内容下次运行时读回保留。",
              (MILESTONES,), ((MILESTONES_TITLE, "A1"),), print_title_columns=2),
    SheetSpec(SHEET_REPORT, "校验报告（尚未运行）", "每个问题一行；“单元格”即报送文件中出错的位置。",
              (REPORT,), (("ReportTitle", "A1"),), print_title_columns=2),
    SheetSpec(SHEET_LOG, "报送记录", "最近收到的每个文件及其状态；内容相同的文件只处理一次。全部记录保存在历史库中。",
              (LOG,), (("LogTitle", "A1"),), print_title_columns=1),
    SheetSpec(SHEET_HISTORY, "历史（尚未运行）", "全部数据保存在历史库中，这里显示最近的部分。",
              (HISTORY,), (("HistoryTitle", "A1"),), print_title_columns=3),
    SheetSpec(SHEET_NOTICE, "通报", None, (), ((NOTICE_NAME, "A3:A3"),)),
)
SHEET_SPECS = {sheet.name: sheet for sheet in SHEETS}
SHEET_ORDER = tuple(sheet.name for sheet in SHEETS)
# Any sheet not here (or the hidden xlwings.conf) belongs to staff.
MANAGED_SHEETS = frozenset((*SHEET_ORDER, SHEET_CONF))
# Tables every master has, and tables a master built before them may lack.
TABLES = {spec.name: spec for sheet in SHEETS for spec in sheet.tables if not spec.optional}
OPTIONAL_TABLES = {spec.name: spec for sheet in SHEETS for spec in sheet.tables if spec.optional}
# Sheets whose first columns repeat on every printed page when the table prints more than one page wide.
PRINT_TITLE_COLUMNS = {sheet.name: sheet.print_title_columns for sheet in SHEETS if sheet.print_title_columns}

# Headings that earlier versions wrote and this one no longer does: a table whose every heading is the
# add-in's own (current or retired) was laid out by an earlier version, and a run brings it to the
# current layout in place instead of refusing it as a table staff changed (workbook/room.py).
RETIRED_LABELS = frozenset({"较上次新增征地(亩)", "较上次新增拆除(栋)"})


# Per table, headings an earlier layout of that table wrote: the long 节点计划 (a row per block and node).
RETIRED_BY_TABLE = {"tblMilestones": LONG_MILESTONE_LABELS}


def table_spec(name: str) -> TableSpec:
    """The layout of a managed table, required or optional."""
    return TABLES[name] if name in TABLES else OPTIONAL_TABLES[name]


def owned_heading(name: str, labels: list[str]) -> bool:
    """Whether every heading of a table is one the add-in writes or wrote (no staff column in it)."""
    ours = {normalize_label(label) for label in (*table_spec(name).labels, *RETIRED_LABELS,
                                                 *RETIRED_BY_TABLE.get(name, ()))}
    present = [normalize_label(label) for label in labels if label and str(label).strip()]
    return bool(present) and all(label in ours or _node_heading(name, label) for label in present)


def _node_heading(name: str, label: str) -> bool:
    """A heading of the 节点计划 for a node of any 设置 list ("高压线迁移·计划(录入)")."""
    if name != MILESTONES.name:
        return False
    node, _, word = label.rpartition(normalize_label(SEPARATOR))
    return bool(node) and word in {normalize_label(w) for _, w in GROUPS}

# Columns of free text: they wrap within the capped width instead of running on.
WRAPPED_LABELS = frozenset(("存在问题", "下步措施", "说明", "榜单", "状态", "问题", "最新下步措施", "督办提示", "历次表述"))
# The charts on 图表 reach to this column (16 cm from column M): they print with the tables beside them.
CHARTS_LAST_COLUMN = 20


def print_extent(sheet: str) -> tuple[int, int]:
    """The header row to repeat on printed pages and the last column printed, for a sheet of the master."""
    # Optional tables print when they are there; the sort keys are a helper, hidden and not printed.
    specs = [s for s in SHEET_SPECS[sheet].tables if s is not SORT_KEYS] if sheet in SHEET_SPECS else []
    if not specs:
        return 0, 1
    last = max(s.first_column + len(s.columns) - 1 for s in specs)
    if sheet == SHEET_CHARTS:
        last = max(last, CHARTS_LAST_COLUMN)
    return max(s.header_row for s in specs), last
