"""The city's published 红黑榜 result, as staff record it on 控制台 (table tblCityResult), and what it
means for the county: 全市第八名，黑榜；距离退出黑榜还差 x 个百分点（约 y 亩）.

The table is optional (masters built before it have none). Each row: 通报日期, 指标 (a metric label),
本县名次, 参评县数, 榜单 (红榜/黑榜/blank), 退出黑榜线 (the rate of the county just above the black
list, as the city published it). The latest row per metric counts. The gap is the line minus the
county's own rate on the city's basis (rank.whole_line), and in the unit the metric moves by: 亩 of
acquisition for the rates over area, 亩 of plan delivered as net land, projects with progress.
"""

from __future__ import annotations

import math

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import INDUSTRIAL, METRICS
from xladdin.base.values import parse_date, parse_number
from xladdin.domain.rank import chinese_ordinal, city_basis
from xladdin.domain.settings import Settings

COLUMNS = ("通报日期", "指标", "本县名次", "参评县数", "榜单", "退出黑榜线")
LABELS = {label: key for key, label in METRICS} | {"净地完成情况": "net_land_rate", "工业用地项目征地完成率": "industrial_rate"}


def _rate(value: object) -> float | None:
    """0.5, 50%, "50%", "50" (read as percent when above 1)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    number, _ = parse_number(text.rstrip("%％"), "")
    if number is None:
        return None
    return number / 100 if ("%" in text or "％" in text or number > 1) else number


def published(header: list[str], rows: list[tuple[int, list[object]]]) -> dict[str, dict]:
    """The latest recorded result per metric key: date, rank, of, list, line (rate or None)."""
    where = {label: header.index(label) for label in COLUMNS if label in header}
    if "指标" not in where:
        return {}
    latest: dict[str, dict] = {}
    for _, values in rows:
        def get(label):
            return values[where[label]] if label in where and where[label] < len(values) else None
        key = LABELS.get(str(get("指标") or "").strip())
        if key is None:
            continue
        rank, _ = parse_number(get("本县名次"), "") if get("本县名次") is not None else (None, False)
        of, _ = parse_number(get("参评县数"), "") if get("参评县数") is not None else (None, False)
        record = {"date": parse_date(get("通报日期")), "rank": rank, "of": of,
                  "list": str(get("榜单") or "").strip(), "line": _rate(get("退出黑榜线"))}
        previous = latest.get(key)
        if previous is None or (record["date"] or pd.Timestamp.min.date()) >= (previous["date"] or
                                                                              pd.Timestamp.min.date()):
            latest[key] = record
    return latest


def gap_sentences(results: dict[str, dict], summary: pd.DataFrame, whole: dict[str, float],
                  settings: Settings) -> list[str]:
    """One sentence per recorded metric: 征地完成率：全市第八名（共 10 个），黑榜；距离退出黑榜还差 … ."""
    part = city_basis(summary, settings.city_basis)
    plan = float(part["plan_mu"].sum())
    industrial_plan = float(part.loc[part["project_type"] == INDUSTRIAL, "plan_mu"].sum())
    counted = len(part)  # the whole line's 进度占比率 is over every project (rank.whole_line)
    lines = []
    for key, label in METRICS:
        record = results.get(key)
        if record is None:
            continue
        text = f"{label}："
        if record["rank"] is not None:
            text += f"全市第{chinese_ordinal(int(record['rank']))}名"
            text += f"（共 {int(record['of'])} 个）" if record["of"] else ""
        text += f"，{record['list']}" if record["list"] else "，未上榜"
        ours, line = whole.get(key, math.nan), record["line"]
        if record["list"] == "黑榜" and line is not None and not math.isnan(ours):
            gap = line - ours
            if gap <= 0:
                text += "；按本县数据已达到退出黑榜线，请核对市里口径"
            else:
                text += f"；距离退出黑榜还差 {gap * 100:.2f} 个百分点"
                if key == "acquisition_rate" and plan:
                    text += f"（约 {gap * plan:,.2f} 亩征地）"
                elif key == "industrial_rate" and industrial_plan:
                    text += f"（约 {gap * industrial_plan:,.2f} 亩工业用地征地）"
                elif key == "net_land_rate" and plan and settings.net_land_basis == "面积":
                    text += f"（约 {gap * plan:,.2f} 亩净地交付）"
                elif key == "progress_ratio" and counted:
                    text += f"（约 {math.ceil(gap * counted - 1e-9)} 个项目取得进展）"
        lines.append(text + "。")
    return lines
