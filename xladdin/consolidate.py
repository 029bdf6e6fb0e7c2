"""Accepted ledger rows + registry -> the 汇总 table as of a date (pure pandas)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .schema import FIGURE_KEYS, SUMMARY_FIELDS, YES
from .settings import Settings

# Status words, in the priority order they are assigned.
NET_LAND, OVERDUE, DUE_SOON, STALLED, ONGOING, NOT_REPORTED = "已净地", "逾期", "临期", "无进展", "推进中", "未报送"


def project_reports(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (project, report date): plot rows summed, 是否净地 only when every plot is net land."""
    if rows.empty:
        return pd.DataFrame(columns=["project_id", "report_date", *FIGURE_KEYS, "net_land", "net_land_date",
                                     "problems", "next_steps"])
    grouped = rows.groupby(["project_id", "report_date"], sort=True)
    reports = grouped[list(FIGURE_KEYS)].sum()
    reports["net_land"] = grouped["net_land"].agg(lambda s: YES if (s == YES).all() else "否")
    reports["net_land_date"] = grouped["net_land_date"].agg(lambda s: max((d for d in s if d), default=None))
    join = lambda s: "；".join(dict.fromkeys(t for t in s if t))  # noqa: E731 - short aggregation
    reports["problems"] = grouped["problems"].agg(join)
    reports["next_steps"] = grouped["next_steps"].agg(join)
    return reports.reset_index()


def summarize(registry: pd.DataFrame, rows: pd.DataFrame, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """The 汇总 table: one row per registry project, in registry order, with the keys of SUMMARY_FIELDS.

    `registry` is indexed by project_id; `rows` are accepted ledger rows (any report dates).
    """
    rows = rows[rows["report_date"] <= as_of] if not rows.empty else rows
    reports = project_reports(rows)
    period_start = settings.period_start_for(as_of)
    summary = registry.reset_index().copy()
    by_project = {p: part.reset_index(drop=True) for p, part in reports.groupby("project_id", sort=False)}
    records = [
        _project_line(by_project.get(p), period_start, as_of, settings) for p in summary["project_id"]
    ]
    lines = pd.DataFrame.from_records(records, index=summary.index)
    summary = pd.concat([summary, lines], axis=1)
    plan = summary["plan_mu"].astype(float)
    summary["acquisition_rate"] = (summary["acquired_mu"] / plan).where(plan > 0)
    deadline = summary["deadline"]
    summary["days_left"] = [(d - as_of).days if isinstance(d, dt.date) else None for d in deadline]
    summary["status"] = [
        _status(line, settings) for line in summary[["last_report", "net_land", "days_left", "stalled_days"]]
        .itertuples(index=False)
    ]
    return summary[[key for key, _, _ in SUMMARY_FIELDS]]


def _project_line(reports: pd.DataFrame | None, period_start: dt.date, as_of: dt.date,
                  settings: Settings) -> dict:
    if reports is None or reports.empty:
        return {**{k: 0.0 for k in FIGURE_KEYS}, "acquired_delta": None, "demolished_delta": None,
                "net_land": "否", "net_land_date": None, "last_report": None, "progress": "否",
                "stalled_days": None, "problems": "", "next_steps": ""}
    latest = reports.iloc[-1]
    previous = reports.iloc[-2] if len(reports) > 1 else None
    figures = reports[list(FIGURE_KEYS)]
    before = reports[reports["report_date"] <= period_start]
    baseline = before[list(FIGURE_KEYS)].iloc[-1] if not before.empty else pd.Series(0.0, index=list(FIGURE_KEYS))
    progress = latest["report_date"] > period_start and bool((figures.iloc[-1] > baseline + 1e-9).any())
    # The last report on which any figure rose (a first report rises from nothing).
    rose = (figures.diff().fillna(figures) > 1e-9).any(axis=1)
    last_rise = reports.loc[rose, "report_date"].max() if rose.any() else reports["report_date"].iloc[0]
    return {
        **{k: float(latest[k]) for k in FIGURE_KEYS},
        "acquired_delta": None if previous is None else float(latest["acquired_mu"] - previous["acquired_mu"]),
        "demolished_delta": None if previous is None else float(
            latest["houses_demolished"] - previous["houses_demolished"]),
        "net_land": latest["net_land"],
        "net_land_date": latest["net_land_date"],
        "last_report": latest["report_date"],
        "progress": YES if progress else "否",
        "stalled_days": None if latest["net_land"] == YES else (as_of - last_rise).days,
        "problems": latest["problems"],
        "next_steps": latest["next_steps"],
    }


def _status(line, settings: Settings) -> str:
    last_report, net_land, days_left, stalled_days = line
    if net_land == YES:
        return NET_LAND
    if days_left is not None and not pd.isna(days_left) and days_left < 0:
        return f"{OVERDUE} {-int(days_left)} 天"
    if last_report is None:
        return NOT_REPORTED
    if days_left is not None and not pd.isna(days_left) and days_left <= settings.due_soon_days:
        return f"{DUE_SOON}（剩 {int(days_left)} 天）"
    if stalled_days is not None and stalled_days >= settings.stall_days:
        return f"{STALLED} {int(stalled_days)} 天"
    return ONGOING
