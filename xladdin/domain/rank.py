"""The 红黑榜 metrics, ranks and red/black lists per ranking unit (pure pandas).

The workbook carries the same figures as formulas (workbook/formulas.py); this is the independent
Python computation used for the CLI summary, the notice and the tests. Written rules:

- Units are the distinct values of the ranking column over the registry's projects, so a unit always
  has projects; a unit that disappears from the registry is no longer ranked, one that appears has no
  previous rank (movement 新).
- A metric without a denominator (no plan, no industrial projects) leaves the unit unranked on it.
- Rates are rounded to 0.01% before ranking: rates that look equal tie.
- Rank 1 is best. Ties share a rank: 跳位 (1,1,3, Excel RANK.EQ) or 中国式 (1,1,2).
- The lists (list_size, decide_lists), per metric over the n units ranked on it:
  * each list holds at most size(n, K) = min(K, n // 3) units, and 1 when that is 0 and n >= 2;
    none when n < 2 (K = 红榜数量 for the red list, 黑榜数量 for the black one);
  * 黑榜 is decided first: a unit is black when the units at or below its value number at most the
    black size; 红榜 then: a unit not black, above 0, whose units at or above its value number at
    most the red size;
  * ties at the boundary: a group of tied units that does not fit in the list as a whole stays off
    it as a whole (all or none, here none), so a list never holds more than its size. 设置 › 并列名次
    changes the rank numbers shown, never who is listed;
  * hence: a unit at 0% is never red; a unit alone at the bottom is black at every n >= 2 (the seed's
    county, last at 0%); when all values are equal nobody is listed; with n >= 3 at least one unit is
    on neither list (2 * size(n) < n); with n = 2 and different values one is red (unless at 0%) and
    one black.
- 进度占比率 leaves out projects already net land at the period start (本期有进展 = 期初已净地)
  unless 设置 › 进度占比率口径 = 全部项目.
- Per metric: the average over ranked units (rounded to 6 decimals, so equal rates are never below
  their own mean), 是 for a unit below it, and 连续上榜期数 (add_streaks).
- The composite score is the weighted mean of the metrics a unit is ranked on (weights renormalised
  over those metrics); blank when no weight applies.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from xladdin.base.schema import INDUSTRIAL, METRICS, NET_AT_START, YES
from xladdin.base.text import chinese_number
from xladdin.domain.settings import PROGRESS_BASES, Settings

ROUND_DIGITS = 4  # ranks compare rates as shown to 0.01%: equal on screen means tied
AVERAGE_DIGITS = 6  # the average of 0.01% rates, rounded so that equal rates are never "below" their mean
RED, BLACK = "红榜", "黑榜"
BELOW = "是"


def excel_round(value: float, digits: int = ROUND_DIGITS) -> float:
    """ROUND as spreadsheets do it: half away from zero on the 15-digit decimal value, not on the
    binary float (Python's round(0.57105, 4) gives 0.571; Excel and LibreOffice give 0.5711)."""
    exact = Decimal(f"{value:.15g}").quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(exact)


def _ratio(numerator: float, denominator: float) -> float:
    return excel_round(numerator / denominator) if denominator > 0 else float("nan")


def unit_metrics(summary: pd.DataFrame, unit_key: str, net_land_basis: str = "面积",
                 leave_out_net_at_start: bool = True) -> pd.DataFrame:
    """One row per ranking unit (first-seen order) with the four metric values (NaN = not ranked).

    进度占比率 counts projects 本期有进展 = 是 over the unit's projects, less those already net land at
    the period start (本期有进展 = 期初已净地) unless `leave_out_net_at_start` is False (the old basis).
    """
    named = summary[unit_key].notna() & (summary[unit_key].astype(str).str.strip() != "")
    part = summary[named]
    units = part[unit_key]
    plan, acquired = part["plan_mu"].astype(float), part["acquired_mu"].astype(float)
    net, industrial = part["net_land"] == YES, part["project_type"] == INDUSTRIAL

    def total(values: pd.Series) -> pd.Series:
        return values.groupby(units, sort=False).sum()

    plans, count = total(plan), units.groupby(units, sort=False).size().astype(float)
    progress_projects = count - total((part["progress"] == NET_AT_START).astype(float)) if leave_out_net_at_start \
        else count
    net_land = (total(plan.where(net, 0.0)), plans) if net_land_basis == "面积" else (total(net.astype(float)), count)
    table = pd.DataFrame({"unit": plans.index})
    pairs = {
        "acquisition_rate": (total(acquired), plans),
        "progress_ratio": (total((part["progress"] == YES).astype(float)), progress_projects),
        "net_land_rate": net_land,
        "industrial_rate": (total(acquired.where(industrial, 0.0)), total(plan.where(industrial, 0.0))),
    }
    for key, _ in METRICS:
        numerators, denominators = pairs[key]
        table[key] = [_ratio(float(n), float(d)) for n, d in zip(numerators, denominators)]
    return table


def list_size(ranked: int, k: int) -> int:
    """How many units one list holds when `ranked` units are ranked on a metric (K from 设置)."""
    if ranked < 2:
        return 0
    return max(1, min(k, ranked // 3))


def decide_lists(values: pd.Series, red_k: int, black_k: int) -> tuple[pd.Series, pd.Series]:
    """(red, black) booleans per unit for one metric's values (NaN = not ranked): see the module rules."""
    ranked = int(values.notna().sum())
    at_or_below = values.rank(method="max", ascending=True)  # units with a value <= this one
    at_or_above = values.rank(method="max", ascending=False)  # units with a value >= this one
    black = (at_or_below <= list_size(ranked, black_k)).fillna(False).astype(bool)
    red = (~black & (values > 0) & (at_or_above <= list_size(ranked, red_k))).fillna(False).astype(bool)
    return red, black


def rank_values(values: pd.Series, dense: bool = False, ascending: bool = False) -> pd.Series:
    """Ranks, 1 = highest (or lowest with ascending); ties share the best rank; NaN stays unranked."""
    return values.rank(ascending=ascending, method="dense" if dense else "min")


def movement(previous: float, current: float) -> str:
    """↑2 / ↓1 / — between two ranks; 新 for a unit ranked now but not before."""
    if current is None or (isinstance(current, float) and math.isnan(current)):
        return ""
    if previous is None or (isinstance(previous, float) and math.isnan(previous)):
        return "新"
    if previous > current:
        return f"↑{int(previous - current)}"
    if previous < current:
        return f"↓{int(current - previous)}"
    return "—"


def compute_ranking(summary: pd.DataFrame, settings: Settings, previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Metrics, ranks, flags, previous ranks and movement, 榜单 text and the composite score per unit."""
    table = unit_metrics(summary, settings.rank_unit_key, settings.net_land_basis,
                         settings.progress_basis == PROGRESS_BASES[0])
    prev = previous.set_index("unit") if previous is not None and not previous.empty else None
    red_parts: list[list[str]] = [[] for _ in range(len(table))]
    black_parts: list[list[str]] = [[] for _ in range(len(table))]
    for key, label in METRICS:
        values = table[key]
        ranks = rank_values(values, settings.dense)
        red, black = decide_lists(values, settings.red_k, settings.black_k)
        table[f"{key}_rank"] = ranks
        table[f"{key}_red"] = red
        table[f"{key}_black"] = black
        table[f"{key}_flag"] = [RED if r else BLACK if b else "" for r, b in zip(red, black)]
        known = prev is not None and f"{key}_rank" in prev.columns
        table[f"{key}_prev"] = [prev.at[u, f"{key}_rank"] if known and u in prev.index else float("nan")
                                for u in table["unit"]]
        table[f"{key}_move"] = [movement(p, c) for p, c in zip(table[f"{key}_prev"], ranks)]
        average = excel_round(float(values.mean()), AVERAGE_DIGITS) if values.notna().any() else float("nan")
        table[f"{key}_average"] = average
        table[f"{key}_below"] = [BELOW if v < average else "" for v in values]  # NaN compares False
        table[f"{key}_streak"] = [1 if r or b else 0 for r, b in zip(red, black)]  # add_streaks: earlier periods
        for i in table.index:
            if red[i]:
                red_parts[i].append(label)
            if black[i]:
                black_parts[i].append(label)
    table["list_text"] = [list_text(r, b) for r, b in zip(red_parts, black_parts)]
    table["composite"] = [composite(row, settings.weights) for row in
                          table[[key for key, _ in METRICS]].itertuples(index=False, name=None)]
    table["composite_rank"] = rank_values(table["composite"], settings.dense)
    return table


def add_streaks(ranking: pd.DataFrame, published: pd.DataFrame, as_of, period_days: int) -> pd.DataFrame:
    """连续上榜期数: periods in a row, this one included, each unit has been on its current list per metric.

    `published` holds the lists published earlier (as_of, unit, metric, flag), e.g. Store.lists_on.
    Periods step back from as_of by period_days (streak_periods); each period takes the last list
    published in it (after the previous step, up to its own end). The count stops at the first period
    with nothing published, the unit missing, or another flag.
    """
    ranking = ranking.copy()
    if published is None or published.empty or period_days < 1:
        return ranking
    flags = {(d, u, m): f for d, u, m, f in published[["as_of", "unit", "metric", "flag"]].itertuples(index=False)}
    periods = streak_periods(published["as_of"], as_of, period_days)
    for key, _ in METRICS:
        streaks = []
        for unit, flag, count in zip(ranking["unit"], ranking[f"{key}_flag"], ranking[f"{key}_streak"]):
            for date in periods if flag else ():
                if flags.get((date, unit, key)) != flag:
                    break
                count += 1
            streaks.append(count)
        ranking[f"{key}_streak"] = streaks
    return ranking


def chinese_ordinal(rank: int) -> str:
    """1 -> 一, 8 -> 八, 12 -> 十二, 21 -> 二十一, 101 -> 一百零一: place numbers as notices write them
    (base.text.chinese_number, the one function for every count)."""
    return chinese_number(rank)


def verdicts(ranking: pd.DataFrame, unit: str, whole: str = "全市", black_k: int = 3) -> dict[str, str]:
    """The seed's verdict per metric for one unit, from a computed ranking, e.g.
    征地完成率为40.00%，低于全市平均水平，排名后三名，位列全市第八名，被列为本期黑榜。"""
    row = ranking.set_index("unit").loc[unit]
    out = {}
    for key, label in METRICS:
        value, rank = row[key], row[f"{key}_rank"]
        if pd.isna(value):
            out[key] = f"{label}：不参与排名（没有可计算的项目）。"
            continue
        ranked = int(ranking[key].notna().sum())
        parts = [f"{label}为{'0' if value == 0 else f'{value * 100:.2f}%'}"]
        if row[f"{key}_below"] == BELOW:
            parts.append(f"低于{whole}平均水平（{row[f'{key}_average'] * 100:.2f}%）")
        bottom = int((ranking[key] < value).sum()) + 1  # place counted from the bottom, ties sharing it
        if value == ranking[key].min() and (ranking[key] == value).sum() == 1:
            parts.append(f"排名{whole}倒数第一")
        else:
            size = list_size(ranked, black_k)
            if bottom <= size:
                parts.append(f"排名后{chinese_ordinal(size)}名")
            parts.append(f"位列{whole}第{chinese_ordinal(int(rank))}名（共 {ranked} 个）")
        flag = row[f"{key}_flag"]
        parts.append(f"被列为本期{flag}" if flag else "未列入红黑榜")
        out[key] = "，".join(parts) + "。"
    return out


def city_basis(summary: pd.DataFrame, basis: str) -> pd.DataFrame:
    """The projects the city ranks a county on: 市级 ones (设置 › 全县口径 = 市级项目) or all."""
    return summary[summary["level"] == "市级"] if basis == "市级项目" else summary


def whole_line(summary: pd.DataFrame, settings: Settings, name: str = "全县") -> dict[str, float]:
    """The four metrics over the whole master on the city's basis (one unit made of every project)."""
    part = city_basis(summary, settings.city_basis).assign(whole=name)
    if part.empty:
        return {key: float("nan") for key, _ in METRICS}
    table = unit_metrics(part, "whole", settings.net_land_basis, settings.progress_basis == PROGRESS_BASES[0])
    return {key: float(table.at[0, key]) for key, _ in METRICS}


def whole_text(line: dict[str, float], settings: Settings, name: str = "全县") -> str:
    """全县（市级项目口径）：征地完成率 40.00%，进度占比率 25.00%，…"""
    figures = "，".join(f"{label} {'—' if math.isnan(line[key]) else f'{line[key] * 100:.2f}%'}"
                        for key, label in METRICS)
    return f"{name}（{settings.city_basis}口径，与市里的排名口径一致）：{figures}"


def streak_periods(dates, as_of: dt.date, period_days: int) -> list[dt.date]:
    """The published date that stands for each earlier period, newest first: periods step back from
    as_of by period_days; each takes the last date published in it; the chain ends at an empty period."""
    dates = sorted(set(dates), reverse=True)
    periods = []
    end = as_of
    while period_days >= 1:
        end, start = end - dt.timedelta(days=period_days), end - dt.timedelta(days=2 * period_days)
        inside = [d for d in dates if start < d <= end]
        if not inside:
            break
        periods.append(inside[0])
    return periods


def composite(values: tuple[float, ...], weights: tuple[float, ...]) -> float:
    """Weighted mean over the metrics that have a value, rounded like the rates."""
    used = [(w, v) for w, v in zip(weights, values) if not math.isnan(v)]
    total = sum(w for w, _ in used)
    if total <= 0:
        return float("nan")
    return excel_round(sum(w * v for w, v in used) / total)


def list_text(red: list[str], black: list[str]) -> str:
    """The 榜单 cell: 红榜：征地完成率、进度占比率 黑榜：净地完成率."""
    parts = []
    if red:
        parts.append("红榜：" + "、".join(red))
    if black:
        parts.append("黑榜：" + "、".join(black))
    return " ".join(parts)
