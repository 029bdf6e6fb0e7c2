"""The worksheet functions (UDFs) as plain Python: blanks, text and Excel errors give a clear result.

excel.py wraps these for xlwings; they are tested directly and through xlwings Server's call path.
"""

from __future__ import annotations

import math

from xladdin.base import clock
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import METRICS
from xladdin.base.values import excel_error, parse_date, parse_number
from xladdin.domain.level import LIST_RULES, RULE_BY_RANK, RULE_THIRD
from xladdin.domain.rank import BLACK, RED, decide_lists, rank_values

BAD_NUMBER = "请填数字"
BAD_TABLE = "找不到红黑榜表"

# What each worksheet function does, clause by clause: Excel's Insert Function dialog shows the clauses
# joined (excel.py takes them as the docstring, the VBA project as VB_Description), and
# tests/test_worksheet_descriptions.py holds one executable check per clause, so a description cannot say
# a rule the function does not run. At most 255 characters each (Excel's limit).
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "COMPLETION_RATE": ("完成率：累计数 ÷ 计划数；", "计划数为 0 或空时返回空；", "填的不是数字时提示“请填数字”。"),
    "RANK_OF": ("名次：数值在区域中的名次（1 为最高），", "并列同名次：默认跳位（1,1,3，同 RANK.EQ），",
                "第三个参数为 TRUE 时中国式（1,1,2）；", "空白和文字不参与。"),
    "RANKS": ("整列名次：返回与区域同样大小的一列名次，并列同名次；", "没有数值的格子为空。",
              "Excel 2019 及更早版本和 WPS：先选中同样大小的一列，输入公式后按 Ctrl+Shift+Enter。"),
    "LIST_FLAG": ("红黑榜标志：返回“红榜”“黑榜”或空；", "先定黑榜，不会两榜都上；",
                  f"上榜规则“{RULE_BY_RANK}”：名次（RANK.EQ，并列取较好名次）≤K 为红榜，＞参评数－K 为黑榜；",
                  f"“{RULE_THIRD}”（默认）：每榜最多取 K 与参评数÷3（取整）中较小的，至少 1 名，边界上并列的整组不列入；",
                  "为 0 而有单位大于 0 的总在黑榜，为 0 的不上红榜；", "参评数少于 2 时不上榜。"),
    "RANK_LOOKUP": ("查红黑榜：某单位某指标的值、名次、榜、上期名次、名次变化、平均、低于平均或连续上榜期数；",
                    "表中没有该单位时说明没有。"),
    "PROGRESS_RATIO": ("进度占比率：本期累计数比期初增加的行数 ÷ 有数的行数（两个区域同一行都为空的不计）；",
                       "只比较所给的累计数：实现净地、节点完成等进展请看“红黑榜”的进度占比率；",
                       "两个区域行数不同时提示。"),
    "DAYS_LEFT": ("剩余天数：距期限还有几天，逾期为负数；", "没有期限时为空；", "不给起算日期时从今天算起。"),
}


def description(name: str) -> str:
    """A worksheet function's description, as Excel shows it."""
    return "".join(DESCRIPTIONS[name])


def error_text(*arguments: object) -> str | None:
    """A Chinese answer when an argument (or a cell of a range) holds an Excel error such as #DIV/0!:
    a function never answers a number computed as if that cell were blank."""
    for argument in arguments:
        for value in flat(argument):
            found = excel_error(value)
            if found:
                return f"引用的单元格是错误值{found}，请先改正它"
    return None


def number(value: object) -> float | None:
    """A cell as a number; None for blanks, text that is not a number, and Excel errors."""
    if value is None or isinstance(value, bool) or excel_error(value):
        return None
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else float(value)
    parsed, _ = parse_number(value) if isinstance(value, str) else (None, False)
    return parsed


def flat(values: object) -> list[object]:
    """A range argument (scalar, row, column or block) as a flat list, row by row."""
    if not isinstance(values, (list, tuple)):
        return [values]
    out: list[object] = []
    for item in values:
        out.extend(flat(item) if isinstance(item, (list, tuple)) else [item])
    return out


def completion_rate(done: object, plan: object) -> object:
    """done ÷ plan; blank when the plan is zero or blank; a short Chinese hint for text."""
    if (error := error_text(done, plan)) is not None:
        return error
    d, p = number(done), number(plan)
    if p is None and (plan is None or plan == ""):
        return ""
    if d is None and not (done is None or done == ""):
        return BAD_NUMBER
    if p is None:
        return BAD_NUMBER
    if p == 0:
        return ""
    return (d or 0.0) / p


def rank_of(value: object, values: object, dense: object = False) -> object:
    """Rank of a number among the numbers of a range (1 = highest); blanks and text are ignored."""
    if (error := error_text(value, values)) is not None:
        return error
    v = number(value)
    if v is None:
        return ""
    numbers = [n for n in (number(x) for x in flat(values)) if n is not None]
    above = [n for n in numbers if n > v]
    return 1 + (len(set(above)) if dense else len(above))


def ranks(values: object, dense: object = False) -> list[list[object]]:
    """The rank of every cell of a column among its numbers, as a column; blank where no number."""
    cells = flat(values)
    if (error := error_text(cells)) is not None:
        return [[error] for _ in cells]
    series = pd.Series([number(x) for x in cells], dtype=float)
    ranked = rank_values(series, dense=bool(dense))
    return [[("" if math.isnan(r) else int(r))] for r in ranked]


def list_flag(value: object, values: object, red_k: object = 3, black_k: object = 3, rule: object = "") -> str:
    """红榜 / 黑榜 / blank for a value among values, by the rules of the 红黑榜 (rank.decide_lists) under
    `rule` (设置 › 上榜规则: 前后K名 or 不超过三分之一, the default); a TRUE/FALSE there (old sheets passed the
    tie rule in that place) takes the default: the tie rule changes rank numbers, not lists."""
    if (error := error_text(value, values, red_k, black_k, rule)) is not None:
        return error
    v = number(value)
    if v is None:
        return ""
    chosen = str(rule).strip() if isinstance(rule, str) and str(rule).strip() else RULE_THIRD
    if chosen not in LIST_RULES:
        return "第五个参数应为：" + " 或 ".join(LIST_RULES)
    numbers = [n for n in (number(x) for x in flat(values)) if n is not None]
    if v not in numbers:  # a value looked up against a column it is not in is ranked among them
        numbers.append(v)
    series = pd.Series(numbers, dtype=float)
    red, black = decide_lists(series, int(number(red_k) or 3), int(number(black_k) or 3), chosen == RULE_BY_RANK)
    at = numbers.index(v)
    return BLACK if black[at] else RED if red[at] else ""


_WHAT = {"值": "", "数值": "", "排名": "排名", "名次": "排名", "榜": "榜", "榜单": "榜", "上期排名": "上期排名",
         "名次变化": "名次变化", "变化": "名次变化", "平均": "平均", "平均值": "平均", "低于平均": "低于平均",
         "连续上榜期数": "连续上榜期数", "连续上榜": "连续上榜期数"}


def rank_lookup(unit: object, metric: object, table: object, what: object = "排名") -> object:
    """A unit's value, rank, flag, previous rank or movement for a metric, from the 红黑榜 table
    (passed with its header row, e.g. tblRanking[#All])."""
    rows = table if isinstance(table, list) and table and isinstance(table[0], list) else None
    if not rows or "排名单位" not in [str(h) for h in rows[0]]:
        return BAD_TABLE
    header = [str(h) for h in rows[0]]
    label = _metric_label(str(metric or ""))
    if label is None:
        return "指标应为：" + "、".join(lbl for _, lbl in METRICS)
    suffix = _WHAT.get(str(what or "排名").strip())
    if suffix is None:
        return "第四个参数应为：值、排名、榜、上期排名、名次变化、平均、低于平均 或 连续上榜期数"
    column = label + suffix
    if column not in header:
        return f"红黑榜中没有“{column}”列"
    unit_col, target = header.index("排名单位"), header.index(column)
    for row in rows[1:]:
        if str(row[unit_col]).strip() == str(unit).strip():
            value = row[target]
            return error_text(value) or ("" if value is None else value)
    return f"红黑榜中没有“{unit}”"


def _metric_label(text: str) -> str | None:
    text = text.strip()
    for key, label in METRICS:
        if text in (key, label) or (text and label.startswith(text)):
            return label
    return None


def progress_ratio(now: object, before: object) -> object:
    """Share of rows whose figure rose from `before` to `now` (two ranges of the same size)."""
    if (error := error_text(now, before)) is not None:
        return error
    current, earlier = flat(now), flat(before)
    if len(current) != len(earlier):
        return "两个区域的行数应相同"
    pairs = [(number(a), number(b)) for a, b in zip(current, earlier) if number(a) is not None or number(b) is not None]
    if not pairs:
        return ""
    return sum(1 for a, b in pairs if (a or 0) > (b or 0)) / len(pairs)


def days_left(deadline: object, today: object = None) -> object:
    """Days from today (or a given date) to a deadline; negative when overdue; blank without one."""
    if (error := error_text(deadline, today)) is not None:
        return error
    due = parse_date(deadline)
    if due is None:
        return "" if deadline in (None, "") else "请填日期"
    start = parse_date(today) if today not in (None, "") else clock.now().date()
    if start is None:
        return "请填日期"
    return (due - start).days
