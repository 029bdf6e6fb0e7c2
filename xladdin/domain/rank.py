"""The 红黑榜 metrics, ranks and red/black lists per ranking unit (pure pandas).

The workbook carries the same figures as formulas (workbook/formulas.py); this is the independent
Python computation used for the CLI summary, the notice and the tests. Written rules:

- Units are the distinct values of the ranking column over the registry's projects, so a unit always
  has projects; a unit that disappears from the registry is no longer ranked, one that appears has no
  previous rank (movement 新).
- A metric without a denominator (no plan, no industrial projects) leaves the unit unranked on it.
- Rates are rounded to 0.01% before ranking: rates that look equal tie.
- Rank 1 is best. Ties share a rank: 跳位 (1,1,3, Excel RANK.EQ) or 中国式 (1,1,2).
- The lists (decide_lists), per metric over the n units ranked on it, by 设置 › 上榜规则:
  * 前后K名 (the city's rule, default in a city master): 红榜 = rank <= K, 黑榜 = rank > n - K, by the
    RANK.EQ rank the notice prints (the seed: 第八名 of ten is 后三名); ties share the better rank, so a
    tie straddling the boundary is listed whole (red) or left off whole (black) — but the units tied for
    倒数第一, where another unit is above them, are always 黑榜 (4 units, K = 2, three tied at the bottom:
    the three are 黑榜, not 红榜 by their shared rank 2);
  * 不超过三分之一 (default for a county's work groups): each list holds at most size(n, K) =
    min(K, n // 3) units, and 1 when that is 0 and n >= 2: black when the units at or below the value
    fit in it (rank > n - size), red when the units at or above it fit; a tied group that does not fit
    stays off as a whole, so a list never holds more than its size;
  * both: nothing when n < 2; 黑榜 is decided first, never both; a unit at 0 where another unit is above
    0 is always 黑榜, however many tie with it (the seed's "为0，排名全市倒数第一"); a unit at 0 is never
    红榜. 设置 › 并列名次 changes the rank numbers shown, never who is listed.
- 进度占比率 = projects with progress ÷ all projects (the seed's formula; every whole line and a city
  master); a county's ranking may leave out projects already net land at the period start (本期有进展 =
  期初已净地, 设置 › 进度占比率口径 = 剔除期初已净地).
- Per metric: the average over ranked units — the mean of their rates, or with 设置 › 平均水平口径 = 合计 the
  pooled rate Σ numerator ÷ Σ denominator — rounded to 6 decimals (equal rates are never below their own
  mean), 是 for a unit below it, and 连续上榜期数 (add_streaks).
- The composite score is the weighted mean of the metrics a unit is ranked on (weights renormalised
  over those metrics); blank when no weight applies.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import INDUSTRIAL, METRICS, NET_AT_START, YES
from xladdin.base.text import chinese_number
from xladdin.domain.level import CITY, Level
from xladdin.domain.settings import AVERAGE_BASES, Settings

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


def unit_parts(summary: pd.DataFrame, unit_key: str, net_land_basis: str = "面积",
               leave_out_net_at_start: bool = True) -> tuple[pd.Index, dict[str, tuple[pd.Series, pd.Series]]]:
    """The ranking units (first-seen order) and, per metric, (numerators, denominators) per unit.

    进度占比率 counts projects 本期有进展 = 是 over the unit's projects, less those already net land at
    the period start (本期有进展 = 期初已净地) when `leave_out_net_at_start` (a county's own basis).
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
    pairs = {
        "acquisition_rate": (total(acquired), plans),
        "progress_ratio": (total((part["progress"] == YES).astype(float)), progress_projects),
        "net_land_rate": net_land,
        "industrial_rate": (total(acquired.where(industrial, 0.0)), total(plan.where(industrial, 0.0))),
    }
    return plans.index, pairs


def unit_metrics(summary: pd.DataFrame, unit_key: str, net_land_basis: str = "面积",
                 leave_out_net_at_start: bool = True) -> pd.DataFrame:
    """One row per ranking unit (first-seen order) with the four metric values (NaN = not ranked)."""
    units, pairs = unit_parts(summary, unit_key, net_land_basis, leave_out_net_at_start)
    table = pd.DataFrame({"unit": units})
    for key, _ in METRICS:
        numerators, denominators = pairs[key]
        table[key] = [_ratio(float(n), float(d)) for n, d in zip(numerators, denominators)]
    return table


def pooled_rates(summary: pd.DataFrame, settings: Settings) -> dict[str, float]:
    """Per metric the pooled rate over the units ranked on it: Σ numerator ÷ Σ denominator (设置 ›
    平均水平口径 = 合计), unrounded."""
    _, pairs = unit_parts(summary, settings.rank_unit_key, settings.net_land_basis, settings.leave_out_net_at_start)
    out = {}
    for key, (numerators, denominators) in pairs.items():
        ranked = denominators > 0
        total = float(denominators[ranked].sum())
        out[key] = float(numerators[ranked].sum()) / total if total > 0 else float("nan")
    return out


def list_size(ranked: int, k: int) -> int:
    """How many units one list holds under the at-most-a-third rule when `ranked` units are ranked."""
    if ranked < 2:
        return 0
    return max(1, min(k, ranked // 3))


def list_places(ranked: int, k: int, by_rank: bool) -> int:
    """How many places a list has: K under the city's rule (前后K名), size(n, K) under the third rule."""
    if ranked < 2:
        return 0
    return k if by_rank else list_size(ranked, k)


def decide_lists(values: pd.Series, red_k: int, black_k: int, by_rank: bool = False) -> tuple[pd.Series, pd.Series]:
    """(red, black) booleans per unit for one metric's values (NaN = not ranked): see the module rules."""
    ranked = int(values.notna().sum())
    if ranked < 2:
        none = pd.Series(False, index=values.index)
        return none, none.copy()
    rank = values.rank(ascending=False, method="min")  # RANK.EQ: ties share the better rank
    at_or_above = values.rank(ascending=False, method="max")  # units with a value >= this one
    black = rank > ranked - list_places(ranked, black_k, by_rank)
    black |= (values == 0) & (values.max() > 0)  # 0% where another unit is above 0: always 黑榜
    if by_rank:  # 倒数第一 (alone or tied) where another unit is above it: always 黑榜, never 红榜
        black |= (values == values.min()) & (values.max() > values.min())
    red_rank = rank if by_rank else at_or_above
    red = ~black & (values > 0) & (red_rank <= list_places(ranked, red_k, by_rank))
    return red.fillna(False).astype(bool), (black & values.notna()).fillna(False).astype(bool)


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
    table = unit_metrics(summary, settings.rank_unit_key, settings.net_land_basis, settings.leave_out_net_at_start)
    pooled = pooled_rates(summary, settings) if settings.average_basis == AVERAGE_BASES[1] else None
    prev = previous.set_index("unit") if previous is not None and not previous.empty else None
    red_parts: list[list[str]] = [[] for _ in range(len(table))]
    black_parts: list[list[str]] = [[] for _ in range(len(table))]
    for key, label in METRICS:
        values = table[key]
        ranks = rank_values(values, settings.dense)
        red, black = decide_lists(values, settings.red_k, settings.black_k, settings.by_rank)
        table[f"{key}_rank"] = ranks
        table[f"{key}_red"] = red
        table[f"{key}_black"] = black
        table[f"{key}_flag"] = [RED if r else BLACK if b else "" for r, b in zip(red, black)]
        known = prev is not None and f"{key}_rank" in prev.columns
        table[f"{key}_prev"] = [prev.at[u, f"{key}_rank"] if known and u in prev.index else float("nan")
                                for u in table["unit"]]
        table[f"{key}_move"] = [movement(p, c) for p, c in zip(table[f"{key}_prev"], ranks)]
        average = float("nan")
        if values.notna().any():
            average = excel_round(float(values.mean()) if pooled is None else pooled[key], AVERAGE_DIGITS)
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


def chinese_count(number: int) -> str:
    """A count as notices write it before 名: 1 -> 一, 2 -> 两 (后两名, not 后二名), 3 -> 三, 12 -> 十二."""
    return "两" if number == 2 else chinese_ordinal(number)


def rate_words(value: float) -> str:
    """A rate as the seed writes it: 0 for nothing, else a percentage without trailing zeros (40%, 37.5%)."""
    if value == 0:
        return "0"
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def verdicts(ranking: pd.DataFrame, unit: str, settings: Settings | None = None) -> dict[str, str]:
    """The seed's verdict per metric for one unit, one sentence each, from a computed ranking:
    征地完成率为40%，低于全市平均水平，排名后三名，位列全市第八名，被列为本期黑榜片区。
    工业用地征地完成率为0，排名全市倒数第一，被列为本期黑榜片区。

    Never contradicts itself: 后N名 (后两名, never 后二名 or 后一名) only for a black unit in the bottom N
    places of its list's rule, N >= 2 and more than N units ranked; 前N名 only for a red unit; 倒数第一
    for the last alone, 并列倒数第一 for a tie at the bottom; the words of the level (全市/全县, 片区)."""
    settings = settings or Settings(level=CITY)
    words = settings.words
    row = ranking.set_index("unit").loc[unit]
    return {key: verdict(label, ranking[key], row[key], row[f"{key}_rank"], row[f"{key}_flag"],
                         row.get(f"{key}_below") == BELOW, settings, words) for key, label in METRICS}


def verdict(label: str, values: pd.Series, value: float, rank: float, flag: str, below: bool, settings: Settings,
            words: Level) -> str:
    """One metric's sentence for one unit (see verdicts)."""
    if pd.isna(value):
        return f"{label}：不参与排名（没有可计算的项目）。"
    whole = words.whole
    ranked = values.dropna()
    n = len(ranked)
    rank = int(_competition_rank(ranked, value))
    parts = [f"{label}为{rate_words(float(value))}"]
    if below:
        parts.append(f"低于{whole}平均水平")
    at_bottom = int((ranked == ranked.min()).sum())
    if n >= 2 and value == ranked.min() and at_bottom < n:
        parts.append(f"排名{whole}倒数第一" if at_bottom == 1 else
                     f"与其他{at_bottom - 1}个{settings.unit_name}并列{whole}倒数第一")
    else:
        black_places = list_places(n, settings.black_k, settings.by_rank)
        red_places = list_places(n, settings.red_k, settings.by_rank)
        if flag == RED and n > red_places >= 2:  # 前一名 would only repeat 第一名
            parts.append(f"排名前{chinese_count(red_places)}名")
        elif flag == BLACK and n > black_places >= 2 and rank > n - black_places:
            parts.append(f"排名后{chinese_count(black_places)}名")
        parts.append(f"位列{whole}第{chinese_ordinal(rank)}名")
    parts.append(f"被列为本期{flag}{words.listed}" if flag else "未列入红黑榜")
    return "，".join(parts) + "。"


def _competition_rank(values: pd.Series, value: float) -> int:
    """RANK.EQ of a value among values: 1 + how many are above it (the number the notice prints)."""
    return 1 + int((values > value).sum())


def city_basis(summary: pd.DataFrame, basis: str) -> pd.DataFrame:
    """The projects the city ranks a county on: 市级 ones (设置 › 汇总行口径 = 市级项目) or all."""
    return summary[summary["level"] == "市级"] if basis == "市级项目" else summary


def whole_line(summary: pd.DataFrame, settings: Settings, name: str | None = None) -> dict[str, float]:
    """The four metrics over the whole master on the city's basis (one unit made of every project):
    设置 › 汇总行口径's projects, and 进度占比率 over all of them (the seed's 有进度项目个数÷总项目个数)."""
    part = city_basis(summary, settings.city_basis).assign(whole=name or settings.words.whole)
    if part.empty:
        return {key: float("nan") for key, _ in METRICS}
    table = unit_metrics(part, "whole", settings.net_land_basis, leave_out_net_at_start=False)
    return {key: float(table.at[0, key]) for key, _ in METRICS}


def rule_words(settings: Settings) -> str:
    """设置 › 上榜规则 in words, with the K of 设置, as the 红黑榜 sheet states it."""
    if settings.by_rank:
        text = (f"名次在前 {settings.red_k} 名的上红榜，在后 {settings.black_k} 名的上黑榜（按 RANK.EQ 名次，"
                "并列取较好名次）")
    else:
        text = (f"红榜最多 {settings.red_k} 名、黑榜最多 {settings.black_k} 名，且各不超过参与排名单位数的三分之一"
                "（至少 1 名），边界上并列的整组不列入")
    return text + "；先定黑榜，为 0 而有单位大于 0 的总在黑榜；为 0 的不上红榜；"


def basis_words(settings: Settings, whole: bool = False) -> str:
    """How 进度占比率 is counted, in words: the whole line always over every project, a ranking by 设置."""
    if whole or not settings.leave_out_net_at_start:
        return "进度占比率＝有进度项目个数÷总项目个数"
    return "进度占比率＝有进度项目个数÷（总项目个数－期初已净地项目个数）"


def whole_text(line: dict[str, float], settings: Settings, name: str | None = None) -> str:
    """全县（市级项目口径，与市里的排名口径一致）：征地完成率 40.00%，进度占比率 25.00%，… — "与市里口径一致"
    only where it is true: a county master counting the 市级 projects, as the city ranks it."""
    words = settings.words
    figures = "，".join(f"{label} {'—' if math.isnan(line[key]) else f'{line[key] * 100:.2f}%'}"
                        for key, label in METRICS)
    basis = f"{settings.city_basis}口径"
    if words.name != CITY and settings.city_basis == "市级项目":
        basis += f"，与{words.above}里的排名口径一致"
    return f"{name or words.whole}（{basis}；{basis_words(settings, whole=True)}）：{figures}"


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
