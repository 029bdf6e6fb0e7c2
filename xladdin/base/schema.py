"""The ledger, registry, summary and ranking columns: one source of truth for names staff see."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Sheet names of the master workbook (DESIGN.md "The master workbook").
SHEET_CONSOLE = "控制台"
SHEET_SETTINGS = "设置"
SHEET_REGISTRY = "项目清单"
SHEET_SUMMARY = "汇总"
SHEET_RANKING = "红黑榜"
SHEET_SORTED = "红黑榜（排序）"  # the 红黑榜 as read out: per metric, by rank
SHEET_REPORT = "校验报告"
SHEET_LOG = "报送记录"
SHEET_HISTORY = "历史"
SHEET_NOTICE = "通报"
SHEET_CHARTS = "图表"
SHEET_BOARD = "作战图"
SHEET_REGISTER = "督办台账"
SHEET_MILESTONES = "节点计划"
SHEET_TIMELINE = "作战图时间表"
SHEET_CONF = "xlwings.conf"

# The ledger template sheet and its identity labels.
LEDGER_SHEET = "进度台账"
LABEL_UNIT = "填报单位"
LABEL_DATE = "填报日期"
LABEL_REPORTER = "填报人"
LABEL_PHONE = "联系电话"
IDENTITY_LABELS = (LABEL_UNIT, LABEL_DATE, LABEL_REPORTER, LABEL_PHONE)

YES, NO = "是", "否"
INDUSTRIAL = "工业用地"
# 本期有进展 of a project already net land at the period start: it cannot rise any more, so the
# 进度占比率 leaves it out of numerator and denominator (设置 › 进度占比率口径 can keep it in).
NET_AT_START = "期初已净地"


@dataclass(frozen=True)
class Field:
    """One column: internal key, the label staff see, its kind, the unit typed after numbers, aliases."""

    key: str
    label: str
    kind: str  # text | area | count | yesno | date | seq
    unit: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    required: bool = True

    @property
    def numeric(self) -> bool:
        return self.kind in ("area", "count")


LEDGER_FIELDS: tuple[Field, ...] = (
    Field("seq", "序号", "seq", required=False),
    Field("project_id", "项目编号", "text", aliases=("项目代码", "编号")),
    Field("project_name", "项目名称", "text", aliases=("项目",)),
    Field("plot", "地块名称", "text", aliases=("地块", "地块名"), required=False),
    Field("acquired_mu", "累计征地面积(亩)", "area", "亩", ("累计征地(亩)", "累计完成征地面积(亩)", "累计征收面积(亩)", "累计征地面积")),
    Field("houses_agreed", "累计签订房屋协议(栋)", "count", "栋", ("累计房屋协议(栋)", "累计签订协议(栋)", "累计签订房屋补偿安置协议(栋)", "房屋协议(栋)")),
    Field("houses_demolished", "累计拆除房屋(栋)", "count", "栋", ("累计拆迁房屋(栋)", "拆除房屋(栋)", "累计拆除(栋)")),
    Field("crops", "累计补偿特殊青苗(户)", "count", "户", ("累计特殊青苗(户)", "特殊青苗(户)", "累计完成特殊青苗(户)")),
    Field("fixtures", "累计补偿地上附着物(户)", "count", "户", ("累计地上附着物(户)", "地上附着物(户)")),
    # New in the template: a ledger without it stays valid (its figure is taken as 0).
    Field("fixtures_removed", "累计拆除地上附着物(户)", "count", "户", ("拆除地上附着物(户)", "累计拆除附着物(户)"),
          required=False),
    Field("graves", "累计迁移坟山(穴)", "count", "穴", ("累计迁坟(穴)", "迁移坟山(穴)", "累计坟山(穴)")),
    Field("cleared_mu", "累计清表面积(亩)", "area", "亩", ("累计清表(亩)", "清表面积(亩)", "累计清表青苗(亩)")),
    Field("net_land", "是否净地", "yesno", aliases=("是否达到净地", "净地")),
    Field("net_land_date", "净地交付日期", "date", aliases=("净地日期", "交付日期"), required=False),
    Field("problems", "存在问题", "text", aliases=("存在的问题", "问题"), required=False),
    Field("next_steps", "下步措施", "text", aliases=("下一步措施", "下步工作措施", "措施"), required=False),
)
LEDGER_BY_KEY = {f.key: f for f in LEDGER_FIELDS}
FIGURE_KEYS = tuple(f.key for f in LEDGER_FIELDS if f.numeric)

REGISTRY_FIELDS: tuple[Field, ...] = (
    Field("project_id", "项目编号", "text", aliases=("项目代码", "编号")),
    Field("project_name", "项目名称", "text", aliases=("项目",)),
    Field("project_type", "项目类型", "text", aliases=("类型",)),
    Field("level", "项目级别", "text", aliases=("级别",)),
    # A city's list heads it 县（市、区）: the counties are its work groups.
    Field("group", "责任工作组", "text", aliases=("县（市、区）", "县(市、区)", "县市区", "责任单位")),
    Field("leader", "责任领导", "text", required=False),
    Field("township", "所属乡镇", "text", required=False),
    Field("plan_mu", "计划征地面积(亩)", "area", "亩"),
    Field("plan_houses", "计划拆除房屋(栋)", "count", "栋"),
    Field("plan_crops", "计划补偿特殊青苗(户)", "count", "户"),
    Field("plan_fixtures", "计划补偿地上附着物(户)", "count", "户"),
    Field("plan_fixtures_removed", "计划拆除地上附着物(户)", "count", "户", required=False),  # blank: no plan
    Field("plan_graves", "计划迁移坟山(穴)", "count", "穴"),
    Field("deadline", "净地交付期限", "date", required=False),
    # Optional, after the fixed columns (masters without it go on working): 是 for every 地块 of the
    # project, or the names of its 重点攻坚地块 (、-separated): they go into the daily 督查日报.
    Field("key_plots", "重点攻坚地块", "text", required=False),
    # Optional: the project's 项目编号 before HQ renumbered it. A run moves the history stored under it to
    # this row's 项目编号 (store.history.Store.renumber), and a ledger still sending it is read as this project.
    Field("former_id", "原编号", "text", aliases=("原项目编号", "旧编号"), required=False),
)
REGISTRY_BY_KEY = {f.key: f for f in REGISTRY_FIELDS}

# Which plan bounds which cumulative figure (DESIGN.md: agreements and demolition share 计划拆除房屋,
# clearing shares 计划征地面积).
PLAN_OF = {
    "acquired_mu": "plan_mu",
    "houses_agreed": "plan_houses",
    "houses_demolished": "plan_houses",
    "crops": "plan_crops",
    "fixtures": "plan_fixtures",
    "fixtures_removed": "plan_fixtures_removed",
    "graves": "plan_graves",
    "cleared_mu": "plan_mu",
}

PLAN_KEYS = tuple(dict.fromkeys(PLAN_OF.values()))

# The fill-in template's own columns right of the ledger: the row's self-check, the last accepted figures
# and the plans it compares with (hidden), and its error and warning counts (hidden). A ledger sent back
# with them is read as the plain ledger: they are never extra columns.
CHECK_LABEL = "自查结果"
CHECK_COUNT_LABELS = ("自查错误数", "自查提醒数")
CHECK_REASON_LABELS = ("自查错误", "自查提醒")  # hidden: the reasons of each severity, shown together


def previous_label(key: str) -> str:
    return f"上次报送{LEDGER_BY_KEY[key].label}"


def value_label(key: str) -> str:
    """The hidden column holding a figure as the validator reads it (a number typed as text counts)."""
    return f"按数读{LEDGER_BY_KEY[key].label}"


# Ranking metrics, in the column order of 红黑榜.
METRICS: tuple[tuple[str, str], ...] = (
    ("acquisition_rate", "征地完成率"),
    ("progress_ratio", "进度占比率"),
    ("net_land_rate", "净地完成率"),
    ("industrial_rate", "工业用地征地完成率"),
)
RANK_UNIT_LABEL = "排名单位"
RANK_LIST_LABEL = "榜单"
# Ranking unit choice in 设置 -> summary column key.
RANK_UNITS = {"工作组": "group", "乡镇": "township", "项目类型": "project_type"}

_SPACES = re.compile(r"\s+")


def normalize_label(text: object) -> str:
    """Header text as compared: full-width folded to half-width, all whitespace and line breaks removed."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    folded = folded.replace("（", "(").replace("）", ")")
    return _SPACES.sub("", folded)


def _label_index(fields: tuple[Field, ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    for f in fields:
        for name in (f.label, *f.aliases):
            index[normalize_label(name)] = f.key
            # "累计征地面积(亩)" also matches a header without its unit "累计征地面积".
            index.setdefault(normalize_label(re.sub(r"\(.*?\)$", "", name)), f.key)
    return index


LEDGER_LABEL_INDEX = _label_index(LEDGER_FIELDS)
TEMPLATE_HELPER_LABELS = frozenset(normalize_label(text) for text in (
    CHECK_LABEL, *CHECK_COUNT_LABELS, *CHECK_REASON_LABELS, *(previous_label(k) for k in FIGURE_KEYS),
    *(value_label(k) for k in FIGURE_KEYS),
    *(REGISTRY_BY_KEY[k].label for k in PLAN_KEYS)))
REGISTRY_LABEL_INDEX = _label_index(REGISTRY_FIELDS)


def column_letter(index: int) -> str:
    """1-based column index to Excel letters (1 -> A, 27 -> AA)."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_address(row: int, col: int) -> str:
    """1-based row and column to an A1 address."""
    return f"{column_letter(col)}{row}"


# The 汇总 table: key, label, number format. Plans and figures keep their registry/ledger labels.
def _summary_fields() -> tuple[tuple[str, str, str], ...]:
    reg = REGISTRY_BY_KEY
    led = LEDGER_BY_KEY
    area, count, pct, date = "0.00", "0", "0.00%", "yyyy-mm-dd"
    return (
        *((k, reg[k].label, "@") for k in ("project_id", "project_name", "project_type", "level", "group",
                                           "leader", "township")),
        ("plan_mu", reg["plan_mu"].label, area),
        ("acquired_mu", led["acquired_mu"].label, area),
        ("acquisition_rate", "征地完成率", pct),
        ("acquired_delta", "较前一日新增征地(亩)", area),
        ("plan_houses", reg["plan_houses"].label, count),
        ("houses_agreed", led["houses_agreed"].label, count),
        ("houses_demolished", led["houses_demolished"].label, count),
        ("demolished_delta", "较前一日新增拆除(栋)", count),
        ("plan_crops", reg["plan_crops"].label, count),
        ("crops", led["crops"].label, count),
        ("plan_fixtures", reg["plan_fixtures"].label, count),
        ("fixtures", led["fixtures"].label, count),
        ("plan_fixtures_removed", reg["plan_fixtures_removed"].label, count),
        ("fixtures_removed", led["fixtures_removed"].label, count),
        ("plan_graves", reg["plan_graves"].label, count),
        ("graves", led["graves"].label, count),
        ("cleared_mu", led["cleared_mu"].label, area),
        ("net_land", led["net_land"].label, "@"),
        ("net_land_date", led["net_land_date"].label, date),
        ("deadline", reg["deadline"].label, date),
        ("days_left", "剩余天数", count),
        ("last_report", "最近填报日期", date),
        ("progress", "本期有进展", "@"),
        ("stalled_days", "无进展天数", count),
        ("status", "状态", "@"),
        ("problems", led["problems"].label, "@"),
        ("next_steps", led["next_steps"].label, "@"),
    )


SUMMARY_FIELDS = _summary_fields()


_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")

def column_index(letters: str) -> int:
    """'A' -> 1, 'AB' -> 28."""
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A3:C10' -> (min_col, min_row, max_col, max_row), 1-based."""
    match = _REF.match(ref.strip())
    if not match:
        raise ValueError(ref)
    c1, r1, c2, r2 = match.groups()
    c2, r2 = c2 or c1, r2 or r1
    return column_index(c1), int(r1), column_index(c2), int(r2)
