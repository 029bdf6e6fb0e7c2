"""The 红黑榜 metrics, ranks and red/black lists per ranking unit (pure pandas).

The workbook carries the same figures as formulas (workbook/formulas.py); this is the independent
Python computation used for the CLI summary, the notice and the tests.
"""

from __future__ import annotations

import pandas as pd

from .schema import INDUSTRIAL, METRICS, YES
from .settings import Settings

ROUND_DIGITS = 4  # ranks compare rates as shown to 0.01%: equal on screen means tied


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, ROUND_DIGITS) if denominator > 0 else float("nan")


def unit_metrics(summary: pd.DataFrame, unit_key: str) -> pd.DataFrame:
    """One row per ranking unit (first-seen order) with the four metric values (NaN = not ranked)."""
    records = []
    for unit, part in summary.groupby(unit_key, sort=False):
        plan = float(part["plan_mu"].sum())
        industrial = part[part["project_type"] == INDUSTRIAL]
        records.append({
            "unit": unit,
            "acquisition_rate": _ratio(float(part["acquired_mu"].sum()), plan),
            "progress_ratio": _ratio(float((part["progress"] == YES).sum()), float(len(part))),
            "net_land_rate": _ratio(float(part.loc[part["net_land"] == YES, "plan_mu"].sum()), plan),
            "industrial_rate": _ratio(float(industrial["acquired_mu"].sum()), float(industrial["plan_mu"].sum())),
        })
    return pd.DataFrame.from_records(records, columns=["unit", *(key for key, _ in METRICS)])


def rank_desc(values: pd.Series) -> pd.Series:
    """Competition ranks, 1 = highest, ties share the best rank (Excel RANK.EQ); NaN stays unranked."""
    return values.rank(ascending=False, method="min")


def compute_ranking(summary: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Metrics, ranks, red/black flags and the 榜单 text per unit."""
    table = unit_metrics(summary, settings.rank_unit_key)
    red_parts: list[list[str]] = [[] for _ in range(len(table))]
    black_parts: list[list[str]] = [[] for _ in range(len(table))]
    for key, label in METRICS:
        values = table[key]
        ranks = rank_desc(values)
        table[f"{key}_rank"] = ranks
        ranked = values.dropna()
        red = ranks <= settings.red_k
        if ranked.empty:
            black = pd.Series(False, index=table.index)
        else:
            cutoff = ranked.nsmallest(min(settings.black_k, len(ranked))).iloc[-1]
            black = (values <= cutoff) & ~red
        table[f"{key}_red"] = red
        table[f"{key}_black"] = black
        for i in table.index:
            if red[i]:
                red_parts[i].append(label)
            if black[i]:
                black_parts[i].append(label)
    table["list_text"] = [list_text(r, b) for r, b in zip(red_parts, black_parts)]
    return table


def list_text(red: list[str], black: list[str]) -> str:
    """The 榜单 cell: 红榜：征地完成率、进度占比率 黑榜：净地完成率."""
    parts = []
    if red:
        parts.append("红榜：" + "、".join(red))
    if black:
        parts.append("黑榜：" + "、".join(black))
    return " ".join(parts)
