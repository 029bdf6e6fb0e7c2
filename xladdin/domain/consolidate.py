"""Accepted ledger rows + registry -> the 汇总 table as of a date (pure pandas, vectorised)."""

from __future__ import annotations

import datetime as dt

from xladdin.base.lazy import pandas as pd, numpy as np
from xladdin.base.schema import FIGURE_KEYS, NET_AT_START, REGISTRY_FIELDS, SUMMARY_FIELDS, YES
from xladdin.domain.settings import Settings

# Status words. A project's status is 已净地, or every flag that applies joined by 、 (逾期 or 临期,
# 无进展, 未报送 or 今日未报), or 推进中 when none does.
NET_LAND, OVERDUE, DUE_SOON, STALLED, ONGOING, NOT_REPORTED = "已净地", "逾期", "临期", "无进展", "推进中", "未报送"
NOT_TODAY = "今日未报"
FLAG_SEPARATOR = "、"
FIGURES = list(FIGURE_KEYS)
_TEXT = ["problems", "next_steps"]


def project_reports(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (project, report date), sorted: plot rows summed, 是否净地 only when every plot is."""
    columns = ["project_id", "report_date", *FIGURES, "net_land", "net_land_date", *_TEXT]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(is_net=rows["net_land"] == YES,
                       net_date=pd.to_datetime(pd.Series(rows["net_land_date"], dtype=object)))
    keys = ["project_id", "report_date"]
    grouped = rows.groupby(keys, sort=True)
    reports = grouped[FIGURES].sum()
    reports["net_land"] = np.where(grouped["is_net"].all(), YES, "否")
    reports["net_land_date"] = grouped["net_date"].max()
    # Text is joined only where a project was reported plot by plot; otherwise it is taken as is.
    split = rows.duplicated(keys, keep=False)
    single = rows.loc[~split].set_index(keys)[_TEXT]
    if split.any():
        joined = rows.loc[split].groupby(keys)[_TEXT].agg(lambda s: "；".join(dict.fromkeys(t for t in s if t)))
        single = pd.concat([single, joined])
    reports = reports.join(single)
    reports["net_land_date"] = [d.date() if isinstance(d, pd.Timestamp) else None for d in reports["net_land_date"]]
    return reports.reset_index()[columns]


def summarize(registry: pd.DataFrame, rows: pd.DataFrame, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """The 汇总 table from accepted ledger rows (any report dates) held in memory; see summary_of."""
    if not rows.empty:
        rows = rows[rows["report_date"] <= as_of]
    return summary_of(registry, project_lines(project_reports(rows), settings.period_start_for(as_of), as_of),
                      as_of, settings)


def summary_of(registry: pd.DataFrame, lines: pd.DataFrame, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """The 汇总 table: one row per registry project, in registry order, with the keys of SUMMARY_FIELDS.

    `registry` has a project_id column; `lines` are the per-project lines as of the date (project_lines
    over rows in memory, or Store.project_lines over the history store), indexed by project_id.
    """
    # A registry read by an older version (kept in the store) lacks the newer optional plans: no plan.
    missing = [f.key for f in REGISTRY_FIELDS if f.key not in registry.columns]
    summary = registry.reset_index(drop=True).assign(**{key: np.nan for key in missing}).join(lines, on="project_id")
    reported = summary["last_report"].notna()
    summary[FIGURES] = summary[FIGURES].fillna(0.0).astype(float)  # nothing reported yet: object zeros
    summary["net_land"] = summary["net_land"].fillna("否")
    summary["progress"] = summary["progress"].fillna("否")
    for column in _TEXT:
        summary[column] = summary[column].fillna("")
    summary["last_report"] = summary["last_report"].where(reported, None)
    summary["net_land_date"] = summary["net_land_date"].where(summary["net_land_date"].notna(), None)
    plan = summary["plan_mu"].astype(float)
    summary["acquisition_rate"] = (summary["acquired_mu"] / plan).where(plan > 0)
    summary["days_left"] = [(d - as_of).days if isinstance(d, dt.date) else None for d in summary["deadline"]]
    summary["stalled_days"] = summary["stalled_days"].where(summary["net_land"] != YES)
    summary["flags"] = [
        status_flags(*line, as_of, settings) for line in summary[["last_report", "net_land", "days_left",
                                                                  "stalled_days"]].itertuples(index=False, name=None)
    ]
    summary["status"] = [status_text(flags, days, stalled) for flags, days, stalled
                         in zip(summary["flags"], summary["days_left"], summary["stalled_days"])]
    return summary[[key for key, _, _ in SUMMARY_FIELDS] + ["flags"]]


LINE_COLUMNS = [*FIGURES, "acquired_delta", "demolished_delta", "net_land", "net_land_date", "last_report",
                "progress", "stalled_days", *_TEXT]


def project_lines(reports: pd.DataFrame, period_start: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Per project, from its reports up to the date (project_reports, sorted): see lines_of."""
    if reports.empty:
        return pd.DataFrame(columns=LINE_COLUMNS, index=pd.Index([], name="project_id"))
    by_project = reports.groupby("project_id", sort=False)
    latest = by_project.tail(1).set_index("project_id")
    # Increments on the county's basis: as of the date minus as of the day before, so a project whose
    # group sent nothing today adds 0 (its previous step is not today's gain).
    previous = reports[reports["report_date"] < as_of].groupby("project_id").tail(1).set_index("project_id")
    before = reports[reports["report_date"] <= period_start].groupby("project_id").tail(1).set_index("project_id")
    # A report rises when any figure is above the report before it (a first report rises from nothing).
    steps = by_project[FIGURES].diff().fillna(reports[FIGURES])
    rose = (steps > RISE).any(axis=1)
    # Reports are sorted by project then date, so the last row of each group is the latest one
    # (tail/head instead of max/min: the dates are Python objects, slow to compare in bulk).
    last_rise = reports.loc[rose].groupby("project_id").tail(1).set_index("project_id")["report_date"]
    first = by_project.head(1).set_index("project_id")["report_date"]
    return lines_of(latest, previous[["acquired_mu", "houses_demolished"]], before[[*FIGURES, "net_land"]],
                    last_rise.reindex(latest.index).fillna(first), period_start, as_of)


RISE = 1e-9  # a figure counts as risen when it is above the earlier one by more than float noise


def lines_of(latest: pd.DataFrame, previous: pd.DataFrame, baseline: pd.DataFrame, last_rise: pd.Series,
             period_start: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Per project: latest figures, increments, progress in the period and days since the last rise.

    All indexed by project_id: `latest` the latest report (figures, net land, text, report_date),
    `previous` the latest report before as_of (acquired_mu, houses_demolished; missing when none), so
    the increments are as of the date minus as of the day before (0 for a project not reported today),
    `baseline` the figures (and net_land, if given) of the last report on or before the period start
    (missing: nothing then),
    `last_rise` the date of the last report on which any figure rose.
    """
    lines = latest[[*FIGURES, "net_land", "net_land_date", *_TEXT]].copy()
    lines["last_report"] = latest["report_date"]
    previous = previous.reindex(latest.index)
    lines["acquired_delta"] = latest["acquired_mu"] - previous["acquired_mu"]
    lines["demolished_delta"] = latest["houses_demolished"] - previous["houses_demolished"]
    # Progress: any figure above where it stood at the period start (nothing reported then counts as 0), or
    # 净地 reached in the period; a 节点 reached in it is added by with_milestone_progress.
    baseline = baseline.reindex(latest.index)
    net_at_start = baseline["net_land"] == YES if "net_land" in baseline.columns else False
    start_figures = baseline[FIGURES].fillna(0.0)
    rose_in_period = (latest[FIGURES] > start_figures + RISE).any(axis=1) & (latest["report_date"] > period_start)
    # A project delivered as 净地 in the period has progress even when no figure moved (it is the goal).
    became_net = (latest["net_land"] == YES) & (latest["report_date"] > period_start)
    lines["progress"] = np.where(net_at_start, NET_AT_START, np.where(rose_in_period | became_net, YES, "否"))
    lines["stalled_days"] = [(as_of - d).days for d in last_rise.reindex(latest.index)]
    return lines[LINE_COLUMNS]


def status_flags(last_report, net_land, days_left, stalled_days, as_of: dt.date,
                 settings: Settings) -> tuple[str, ...]:
    """A project's statuses as data: 已净地 alone, else every flag that applies (逾期 or 临期, 无进展,
    未报送 or 今日未报), else 推进中. Rendered to Chinese text only by status_text."""
    if net_land == YES:
        return (NET_LAND,)
    flags = []
    if days_left is not None and not pd.isna(days_left):
        if days_left < 0:
            flags.append(OVERDUE)
        elif days_left <= settings.due_soon_days:
            flags.append(DUE_SOON)
    if stalled_days is not None and not pd.isna(stalled_days) and stalled_days >= settings.stall_days:
        flags.append(STALLED)
    if last_report is None or pd.isna(last_report):
        flags.append(NOT_REPORTED)
    elif last_report < as_of:
        flags.append(NOT_TODAY)
    return tuple(flags) or (ONGOING,)


def status_text(flags: tuple[str, ...], days_left, stalled_days) -> str:
    """The 状态 cell staff read: 逾期 3 天、无进展 6 天 (flags joined by 、)."""
    words = {OVERDUE: lambda: f"{OVERDUE} {-int(days_left)} 天", DUE_SOON: lambda: f"{DUE_SOON}（剩 {int(days_left)} 天）",
             STALLED: lambda: f"{STALLED} {int(stalled_days)} 天"}
    return FLAG_SEPARATOR.join(words[f]() if f in words else f for f in flags)


def has_flag(summary: pd.DataFrame, word: str) -> pd.Series:
    """Projects whose statuses include the flag (逾期, 临期, 无进展, 未报送, 今日未报, 已净地, 推进中)."""
    return summary["flags"].map(lambda flags: word in flags)


def acquisition_trend(rows: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Total cumulative acquisition (亩) on each report date: every project at its latest report by then."""
    if rows.empty:
        return pd.DataFrame(columns=["report_date", "acquired_mu"])
    reports = project_reports(rows[rows["report_date"] <= as_of])
    wide = reports.pivot(index="report_date", columns="project_id", values="acquired_mu").sort_index().ffill()
    return wide.sum(axis=1).rename("acquired_mu").reset_index()


URGENCY = {OVERDUE: 0, DUE_SOON: 1, STALLED: 2, NOT_REPORTED: 3, NOT_TODAY: 4, ONGOING: 5, NET_LAND: 6}


def board(summary: pd.DataFrame) -> pd.DataFrame:
    """The 作战图: every project, most urgent first (overdue, due soon, stalled, unreported, ongoing,
    net land), then by days left."""
    order = summary.assign(
        urgency=[min(URGENCY[f] for f in flags) for flags in summary["flags"]],  # most urgent first
        days=summary["days_left"].astype(float).fillna(1e9),
        stall=-summary["stalled_days"].astype(float).fillna(0),
    )
    return order.sort_values(["urgency", "days", "stall"], kind="stable").drop(columns=["urgency", "days", "stall"])


# Every quantity the seed's leader quotes, in the order the seed quotes them ("累计完成土地征收…亩，签订房屋
# 补偿安置协议…栋，完成特殊青苗…户，地上附着物…户，坟山…穴，拆除房屋…栋，拆除地上附着物…户，清表…亩"):
# (figure, short name, the seed's words, unit, plan that bounds it).
QUANTITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("acquired_mu", "征地", "完成土地征收", "亩", "plan_mu"),
    ("houses_agreed", "房屋协议", "签订房屋补偿安置协议", "栋", "plan_houses"),
    ("crops", "特殊青苗", "完成特殊青苗", "户", "plan_crops"),
    ("fixtures", "地上附着物", "地上附着物", "户", "plan_fixtures"),
    ("graves", "坟山", "坟山", "穴", "plan_graves"),
    ("houses_demolished", "拆除房屋", "拆除房屋", "栋", "plan_houses"),
    ("fixtures_removed", "拆除地上附着物", "拆除地上附着物", "户", "plan_fixtures_removed"),
    ("cleared_mu", "清表", "清表", "亩", "plan_mu"),
)
TOTAL_COLUMNS = ["key", "name", "words", "unit", "plan", "total", "rate", "campaign", "period", "day"]


def quantity_totals(now: pd.DataFrame, day_before: pd.DataFrame, period_start: pd.DataFrame,
                    campaign_start: pd.DataFrame | None) -> pd.DataFrame:
    """Per quantity: the plan (NaN where the registry has none), the total as of the date and its rate,
    and the increments 攻坚以来 (since 设置 › 攻坚开始日期; every figure when none is set), 本期 (since the
    period start) and 当日 (since the day before) — each the whole's total as of the date minus as of the
    earlier one (summaries as of those dates, over the same registry)."""
    def total(summary: pd.DataFrame | None, key: str) -> float:
        return 0.0 if summary is None or summary.empty else float(summary[key].astype(float).sum())

    rows = []
    for key, name, words, unit, plan_key in QUANTITIES:
        plans = pd.to_numeric(now[plan_key], errors="coerce") if plan_key in now else pd.Series(dtype=float)
        plan = float(plans.sum()) if plans.notna().any() and plans.sum() > 0 else float("nan")
        figure = total(now, key)
        rows.append([key, name, words, unit, plan, figure, figure / plan if plan == plan else float("nan"),
                     figure - total(campaign_start, key), figure - total(period_start, key),
                     figure - total(day_before, key)])
    return pd.DataFrame(rows, columns=TOTAL_COLUMNS)


CITY_LEVEL = "市级"


def fully_done(summary: pd.DataFrame) -> pd.Series:
    """Projects whose 征拆 is done: every figure at or above the plan that bounds it (figures without a
    plan do not count; a project without any plan is not done)."""
    done = pd.Series(True, index=summary.index)
    planned = pd.Series(False, index=summary.index)
    for key, _, _, _, plan_key in QUANTITIES:
        if plan_key not in summary:
            continue
        plan = pd.to_numeric(summary[plan_key], errors="coerce").fillna(0.0)
        has = plan > 0
        planned |= has
        done &= ~has | (summary[key].astype(float) >= plan - RISE)
    return done & planned


def campaign_counts(summary: pd.DataFrame) -> dict[str, float]:
    """The counts the seed uses: projects with 征拆 fully done apart from those already 净地 (目前全面完成征拆
    任务的项目有3个), projects delivered as 净地, and the 市级 projects: count, plan area, acquired area, rate and
    how many remain (neither 净地 nor done: "剩余的9个市级重点项目")."""
    net = summary["net_land"] == YES
    done = fully_done(summary) & ~net
    city = summary["level"] == CITY_LEVEL
    plan = float(summary.loc[city, "plan_mu"].astype(float).sum())
    acquired = float(summary.loc[city, "acquired_mu"].astype(float).sum())
    return {"projects": len(summary), "done": int(done.sum()), "net": int(net.sum()), "city": int(city.sum()),
            "city_plan": plan, "city_acquired": acquired, "city_rate": acquired / plan if plan else float("nan"),
            "city_left": int((city & ~net & ~done).sum())}


def with_milestone_progress(summary: pd.DataFrame, reached: dict[str, list[dt.date]], period_start: dt.date,
                            as_of: dt.date) -> pd.DataFrame:
    """本期有进展 also for a project that reached a 节点 in the period (a date entered in 节点计划 after the
    period start, up to the date): `reached` maps a project to its milestones' dates."""
    inside = {p for p, dates in reached.items() if any(d is not None and period_start < d <= as_of for d in dates)}
    moved = (summary["progress"] == "否") & summary["project_id"].isin(inside)
    if not moved.any():
        return summary
    summary = summary.copy()
    summary.loc[moved, "progress"] = YES
    return summary
