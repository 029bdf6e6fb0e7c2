"""节点计划: per project the milestones HQ plans (list in 设置), their planned dates set by HQ, and the dates
they were reached, derived from the ledgers or entered by staff (pure).

Reached from the ledgers, on the first report date the condition held:
征收 累计征地 ≥ 计划征地; 房屋协议 累计签订房屋协议 ≥ 计划拆除房屋; 拆除 累计拆除房屋 ≥ 计划拆除房屋;
清表 累计清表 ≥ 计划征地; 净地交付 是否净地 = 是. Other milestones (报批, 高压线迁移, 挂牌出让) are entered.
A plan of 0 reaches nothing from the ledgers (nothing to count), so staff enter those dates.
A milestone's planned date left blank takes the registry's 净地交付期限 for 净地交付.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from xladdin.base.values import parse_date

DEFAULT_MILESTONES = ("报批", "征收", "房屋协议", "拆除", "清表", "高压线迁移", "净地交付", "挂牌出让")
# milestone -> (figure, plan) whose figure ≥ plan reaches it; 净地交付 by the 是否净地 flag.
DERIVED = {"征收": ("acquired_mu", "plan_mu"), "房屋协议": ("houses_agreed", "plan_houses"),
           "拆除": ("houses_demolished", "plan_houses"), "清表": ("cleared_mu", "plan_mu")}
NET_LAND_MILESTONE = "净地交付"
DONE, DONE_LATE, OVERDUE, AT_RISK, PENDING, UNPLANNED = "已完成", "逾期完成", "已逾期", "临期", "未到期", "未排期"
LABELS = ("项目编号", "项目名称", "责任领导", "节点", "计划完成日期", "实际完成日期(录入)", "台账完成日期", "状态", "完成日期")
KEYS = ("project_id", "project_name", "leader", "milestone", "planned", "entered", "derived", "status", "done")
WEEKS, WEEKS_BACK = 16, 4  # the 作战图时间表: 16 weeks from 4 weeks before the current one
DONE_MARK, OPEN_MARK = "●", "○"


def parse_milestones(text: object) -> tuple[str, ...]:
    """The 设置 list (、，, ; or spaces between names); blank gives the default list."""
    names = [n for n in re.split(r"[、，,；;\s]+", str(text or "")) if n]
    return tuple(dict.fromkeys(names)) or DEFAULT_MILESTONES


def reached_dates(reports: pd.DataFrame, registry: pd.DataFrame) -> dict[tuple[str, str], dt.date]:
    """(project, milestone) -> the first report date it was reached, from the per-project reports
    (project_id, report_date as date, the figures and net_land)."""
    plans = registry.set_index("project_id")
    found: dict[tuple[str, str], dt.date] = {}
    for project_id, rows in reports.sort_values("report_date", kind="stable").groupby("project_id", sort=False):
        if project_id not in plans.index:
            continue
        plan = plans.loc[project_id]
        for milestone, (figure, plan_key) in DERIVED.items():
            target = float(plan.get(plan_key) or 0)
            if target <= 0 or figure not in rows:
                continue
            hit = rows[rows[figure].astype(float) >= target - 1e-9]
            if not hit.empty:
                found[(project_id, milestone)] = hit["report_date"].iloc[0]
        if "net_land" in rows:
            hit = rows[rows["net_land"] == "是"]
            if not hit.empty:
                found[(project_id, NET_LAND_MILESTONE)] = hit["report_date"].iloc[0]
    return found


def status_of(planned: dt.date | None, reached: dt.date | None, as_of: dt.date, due_soon_days: int) -> str:
    """已完成 / 逾期完成 / 已逾期N天 / 临期（剩N天） without nesting / 未到期 / 未排期."""
    if reached is not None:
        return DONE_LATE if planned is not None and reached > planned else DONE
    if planned is None:
        return UNPLANNED
    left = (planned - as_of).days
    if left < 0:
        return f"{OVERDUE}{-left}天"
    if left == 0:
        return f"{AT_RISK}，今日到期"
    if left <= due_soon_days:
        return f"{AT_RISK}，剩{left}天"
    return PENDING


def build_plan(registry: pd.DataFrame, milestones: tuple[str, ...], reached: dict[tuple[str, str], dt.date],
               as_of: dt.date, due_soon_days: int, previous: list[dict] | None = None) -> pd.DataFrame:
    """One row per project and milestone: staff's planned and entered dates kept (read back from the sheet),
    the ledger date and the status worked out; staff rows for projects no longer registered are kept."""
    kept = {(str(r.get("project_id") or "").strip(), str(r.get("milestone") or "").strip()): r for r in previous or []}
    rows = []
    for record in registry.to_dict("records"):
        pid = str(record["project_id"])
        for milestone in milestones:
            staff = kept.pop((pid, milestone), {})
            planned = parse_date(staff.get("planned"))
            if planned is None and milestone == NET_LAND_MILESTONE and isinstance(record.get("deadline"), dt.date):
                planned = record["deadline"]
            entered = parse_date(staff.get("entered"))
            derived = reached.get((pid, milestone))
            done = entered or derived
            rows.append({"project_id": pid, "project_name": record.get("project_name"),
                         "leader": record.get("leader") or "", "milestone": milestone, "planned": planned,
                         "entered": entered, "derived": derived,
                         "status": status_of(planned, done, as_of, due_soon_days), "done": done})
    for (pid, milestone), staff in kept.items():  # what staff planned for a project since removed: kept
        if pid and milestone:
            rows.append({key: staff.get(key) for key in KEYS})
    return pd.DataFrame(rows, columns=list(KEYS))


def previous_rows(header: list[str], rows: list[tuple[int, list[object]]]) -> list[dict]:
    position = {label: i for i, label in enumerate(header)}
    return [{key: values[position[label]] if label in position else None for key, label in zip(KEYS, LABELS)}
            for _, values in rows]


def late_or_at_risk(plan: pd.DataFrame) -> pd.DataFrame:
    status = plan["status"].astype(str)
    return plan[status.str.startswith(OVERDUE) | status.str.startswith(AT_RISK)]


def done_formula(row: int, entered_col: str, derived_col: str) -> str:
    """完成日期 in the 节点计划: what staff entered, else the ledger's date (live: staff's entry counts at once)."""
    return f'=IF(ISNUMBER({entered_col}{row}),{entered_col}{row},IF(ISNUMBER({derived_col}{row}),{derived_col}{row},""))'


def week_formula(project_cell: str, week_cell: str, ranges: dict[str, str]) -> str:
    """One cell of the 作战图时间表: ● per milestone done in the week, ○ per milestone planned in it and not
    done (COUNTIFS and REPT: Excel 2010, WPS and LibreOffice)."""
    project, planned, done = ranges["project"], ranges["planned"], ranges["done"]
    in_week = f'{planned},">="&{week_cell},{planned},"<"&({week_cell}+7)'
    done_in_week = f'COUNTIFS({project},{project_cell},{done},">="&{week_cell},{done},"<"&({week_cell}+7))'
    open_in_week = (f'COUNTIFS({project},{project_cell},{in_week})'
                    f'-COUNTIFS({project},{project_cell},{in_week},{done},">0")')
    return f'=REPT("{DONE_MARK}",{done_in_week})&REPT("{OPEN_MARK}",{open_in_week})'


def week_marks(plan: pd.DataFrame, project_id: str, week_start: dt.date) -> str:
    """What week_formula computes, in Python: the cached value written with the formula and the tests' oracle."""
    mine = plan[plan["project_id"] == project_id]
    end = week_start + dt.timedelta(days=7)

    def within(d) -> bool:
        return isinstance(d, dt.date) and week_start <= d < end

    done = sum(1 for d in mine["done"] if within(d))
    open_ = sum(1 for p, d in zip(mine["planned"], mine["done"]) if within(p) and not isinstance(d, dt.date))
    return DONE_MARK * done + OPEN_MARK * open_


def week_start_formula(k: int) -> str:
    """The Monday above week column k of the 作战图时间表, moving with the date the sheet is opened."""
    return f"=TODAY()-WEEKDAY(TODAY(),3)+7*({k}-{WEEKS_BACK})"


def week_starts(today: dt.date) -> list[dt.date]:
    """The Mondays the 作战图时间表 shows (as its row of =TODAY()-WEEKDAY(TODAY(),3)+7*k formulas computes)."""
    monday = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(days=7 * (k - WEEKS_BACK)) for k in range(WEEKS)]
