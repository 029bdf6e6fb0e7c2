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
    name: str
    sheet: str
    columns: tuple[Column, ...]
    header_row: int = 3

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

SETTINGS = TableSpec("tblSettings", SHEET_SETTINGS, (Column("设置项", 18), Column("值", 16), Column("说明", 70)))
STATUS = TableSpec("tblRunStatus", SHEET_CONSOLE, (Column("项目", 14), Column("内容", 70)), header_row=12)
REGISTRY = TableSpec("tblRegistry", SHEET_REGISTRY, tuple(
    Column(f.label, _width(f.label, _REGISTRY_FORMATS[f.kind]), _REGISTRY_FORMATS[f.kind]) for f in REGISTRY_FIELDS))
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
))
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

CHART_UNITS = TableSpec("tblChartUnits", SHEET_CHARTS, (
    Column(RANK_UNIT_LABEL, 16), Column("红榜", 9, "0.00%"), Column("黑榜", 9, "0.00%"), Column("其他", 9, "0.00%"),
))
TREND = TableSpec("tblTrend", SHEET_CHARTS, (
    Column("填报日期", 12, "yyyy-mm-dd"), Column("累计征地面积(亩)", 12, "0.00"), Column("计划征地面积(亩)", 12, "0.00"),
), header_row=3)
STATUS_COUNTS = TableSpec("tblStatusCounts", SHEET_CHARTS, (Column("状态", 10), Column("项目数", 8, "0")))
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
))

# 督办台账 (register.py): staff edit 状态 and add 指挥部交办 rows; read back on the next run. Optional like
# the city result: masters built before it lack it and go on working without a register.
# 编号 threads a problem's wordings (历次表述); staff merge by 并入编号 and split by 拆出表述 (wording numbers).
REGISTER = TableSpec("tblRegister", SHEET_REGISTER, (  # widths sum to one landscape A4 page at 9 pt
    Column("编号", 8), Column("项目名称", 14), Column("责任工作组", 10), Column("责任领导", 10), Column("问题", 20),
    Column("首次报告日期", 10, "yyyy-mm-dd"), Column("已持续天数", 6, "0"), Column("最新下步措施", 14), Column("状态", 8),
    Column("来源", 8), Column("责任人", 7), Column("完成时限", 10, "yyyy-mm-dd"), Column("督办提示", 14),
    Column("历次表述", 20), Column("并入编号", 7), Column("拆出表述", 7),
))
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
        *head, *(Column(label, w, f) for label, (w, f) in zip(labels(milestones)[len(head):], formats))))


MILESTONES = milestone_table(DEFAULT_MILESTONES)
# 作战图时间表: one row per block of the 节点计划 (a project, then each of its 地块), its current milestone
# with 责任领导 and 责任人, one column per week (the week's Monday, as of the run, in the row above the
# header), ● done / ○ planned by COUNTIFS over the block's own rows of the 节点计划.
TIMELINE_WEEKS = 16
TIMELINE = TableSpec("tblTimeline", SHEET_TIMELINE, (
    Column("项目编号", 10), Column("项目名称", 24), Column("地块名称", 12), Column("当前节点", 10), Column("责任领导", 12),
    Column("责任人", 10), Column("净地交付期限", 12, "yyyy-mm-dd"),
    *(Column(f"第{k + 1}周", 6) for k in range(TIMELINE_WEEKS)),
), header_row=4)
# Optional: the 红黑榜 as it is read out (sheet 红黑榜（排序）), one table per metric with its ranked units
# by rank, and a helper table of sort keys (one row per 红黑榜 row: rank + ROW()/100000, blank when not
# ranked) that the per-metric tables take SMALL of, so no formula is an array formula. Masters built
# before it have no such sheet: a run then leaves the view out.
SORTED_TABLES = {key: TableSpec("tblSorted" + "".join(w.title() for w in key.split("_")), SHEET_SORTED, (
    Column("排名", 5, "0"), Column(RANK_UNIT_LABEL, 16), Column(label, 11, "0.00%"), Column(RANK_LIST_LABEL, 6),
)) for key, label in METRICS}
SORT_KEYS = TableSpec("tblSortKeys", SHEET_SORTED, (
    Column(RANK_UNIT_LABEL, 18), *(Column(f"{label}排序键", 12, "0.00000") for _, label in METRICS),
))
OPTIONAL_TABLES = {spec.name: spec for spec in (CITY_RESULT, REGISTER, MILESTONES, TIMELINE,
                                                   *SORTED_TABLES.values(), SORT_KEYS)}

TABLES = {spec.name: spec for spec in (SETTINGS, STATUS, REGISTRY, SUMMARY, RANKING, REPORT, LOG, HISTORY,
                                       CHART_UNITS, TREND, STATUS_COUNTS, BOARD)}
# Where the chart tables sit on 图表 (first column of each; header row 3).
CHART_TABLE_COLUMNS = {"tblChartUnits": 1, "tblStatusCounts": 6, "tblTrend": 9, "tblCityResult": 7,
                       # on 红黑榜（排序）: a metric every five columns (four and a gap), the sort keys last
                       **{spec.name: 1 + 5 * i for i, spec in enumerate(SORTED_TABLES.values())},
                       SORT_KEYS.name: 1 + 5 * len(SORTED_TABLES)}
# The sheets of DESIGN.md, in order, and the hidden xlwings.conf: any other sheet belongs to staff.
SHEET_ORDER = (SHEET_CONSOLE, SHEET_SETTINGS, SHEET_REGISTRY, SHEET_SUMMARY, SHEET_RANKING, SHEET_SORTED, SHEET_BOARD,
               SHEET_TIMELINE, SHEET_CHARTS, SHEET_REGISTER, SHEET_MILESTONES, SHEET_REPORT, SHEET_LOG, SHEET_HISTORY, SHEET_NOTICE)
MANAGED_SHEETS = frozenset((*SHEET_ORDER, SHEET_CONF))

# Single cells and text regions, by defined name: name -> (sheet, first cell).
TITLE_CELLS = {
    "SummaryTitle": (SHEET_SUMMARY, "A1"),
    "SummaryTotals": (SHEET_SUMMARY, "A2"),  # every quantity's totals and increments (the title block)
    "RankingTitle": (SHEET_RANKING, "A1"),
    "RankingPeriod": (SHEET_RANKING, "A2"),
    "RankingWhole": (SHEET_RANKING, "A3"),  # the 全县 line on the city's basis
    "ReportTitle": (SHEET_REPORT, "A1"),
    "HistoryTitle": (SHEET_HISTORY, "A1"),
    "LogTitle": (SHEET_LOG, "A1"),
    "BoardTitle": (SHEET_BOARD, "A1"),
    "ChartsTitle": (SHEET_CHARTS, "A1"),
    "SortedTitle": (SHEET_SORTED, "A1"),
}
SUMMARY_TOTALS = "SummaryTotals"
REGISTER_TITLE = "RegisterTitle"  # optional like the register itself
MILESTONES_TITLE = "MilestonesTitle"
TIMELINE_TITLE = "TimelineTitle"
NOTICE_NAME = "NoticeText"

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
# Sheets whose first columns repeat on every printed page when the table prints more than one page wide.
PRINT_TITLE_COLUMNS = {SHEET_REGISTRY: 2, SHEET_SUMMARY: 2, SHEET_RANKING: 1, SHEET_HISTORY: 3, SHEET_REPORT: 2,
                       SHEET_LOG: 1, SHEET_BOARD: 2, SHEET_TIMELINE: 2, SHEET_MILESTONES: 2, SHEET_REGISTER: 1}


def print_extent(sheet: str) -> tuple[int, int]:
    """The header row to repeat on printed pages and the last column printed, for a sheet of the master."""
    # Optional tables print when they are there; the sort keys are a helper, hidden and not printed.
    specs = [s for s in (*TABLES.values(), *OPTIONAL_TABLES.values()) if s.sheet == sheet and s is not SORT_KEYS]
    if not specs:
        return 0, 1
    last = max(CHART_TABLE_COLUMNS.get(s.name, 1) + len(s.columns) - 1 for s in specs)
    if sheet == SHEET_CHARTS:
        last = max(last, CHARTS_LAST_COLUMN)
    return max(s.header_row for s in specs), last
