"""The 通报 text for the period, generated from the figures (pure)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .consolidate import NET_LAND, NOT_REPORTED, OVERDUE, STALLED
from .schema import METRICS


def _day(date: dt.date) -> str:
    return f"{date.month}月{date.day}日"


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def notice_lines(summary: pd.DataFrame, ranking: pd.DataFrame, rejected: list[tuple[str, str, str]],
                 as_of: dt.date, period_start: dt.date, unit_name: str) -> list[str]:
    """The notice, one paragraph per line. `rejected` holds (group, file, first reason)."""
    plan = float(summary["plan_mu"].sum())
    done = float(summary["acquired_mu"].sum())
    delta = float(summary["acquired_delta"].fillna(0).sum())
    net = int((summary["status"] == NET_LAND).sum())
    lines = [
        f"重点项目和民生工程用地保障攻坚进展情况通报（截至{as_of.year}年{_day(as_of)}）",
        "",
        f"一、总体进展。全县纳入攻坚的项目 {len(summary)} 个，计划征地 {plan:,.2f} 亩，累计完成征地 {done:,.2f} 亩，"
        f"征地完成率 {_pct(done / plan) if plan else '—'}，较各组上次报送新增 {delta:,.2f} 亩；"
        f"已实现净地交付 {net} 个。",
        f"二、红黑榜（按{unit_name}，本期 {_day(period_start)}至{_day(as_of)}）。",
    ]
    for key, label in METRICS:
        red = ranking.loc[ranking[f"{key}_red"], ["unit", f"{key}_rank"]].sort_values(f"{key}_rank")
        black = ranking.loc[ranking[f"{key}_black"], ["unit", f"{key}_rank"]].sort_values(f"{key}_rank")
        if red.empty and black.empty:
            continue
        red_text = "、".join(red["unit"]) or "无"
        black_text = "、".join(black["unit"]) or "无"
        lines.append(f"　　{label}：红榜 {red_text}；黑榜 {black_text}。")
    overdue = summary[summary["status"].str.startswith(OVERDUE)]
    stalled = summary[summary["status"].str.startswith(STALLED)]
    missing = summary[summary["status"] == NOT_REPORTED]
    section = 3
    for title, part in (("逾期未净地", overdue), ("无进展", stalled), ("未报送数据", missing)):
        if part.empty:
            continue
        names = "、".join(f"{r.project_name}（{r.group}，{r.status}）" for r in part.itertuples())
        lines.append(f"{'三四五六'[section - 3]}、{title}项目 {len(part)} 个：{names}。")
        section += 1
    if rejected:
        items = "；".join(f"{group or '未知单位'}《{file}》：{reason}" for group, file, reason in rejected)
        lines.append(f"{'三四五六'[section - 3]}、退回修改的台账 {len(rejected)} 份：{items}")
    return lines
