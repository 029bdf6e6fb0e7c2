"""节点计划: per project, and per 地块 where a project reports 地块, the milestones HQ plans (list in 设置),
their planned dates (倒排工期 from the 净地交付期限 unless staff type one), the dates they were reached
(from the ledgers, or typed by staff), who answers for each (责任领导, 责任人), and the 作战图时间表's
marks (pure).

倒排工期. 设置 › 节点工期 gives each milestone a standard number of days. 净地交付 is the anchor: its
planned date is the block's 净地交付期限 (the 项目清单's, or for a 地块 the date staff type on its
净地交付 row). A milestone before the anchor in the list is planned the following milestone's
工期 earlier than the following milestone (walking back from the anchor); one after the anchor is
planned its own 工期 after the anchor. A date staff type always wins, and the chain walks on from it.

Reached from the ledgers, on the first report date the condition held:
征收 累计征地 ≥ 计划征地; 房屋协议 累计签订房屋协议 ≥ 计划拆除房屋; 拆除 累计拆除房屋 ≥ 计划拆除房屋;
清表 累计清表 ≥ 计划征地; 净地交付 是否净地 = 是. Other milestones (报批, 高压线迁移, 挂牌出让) are typed.
A plan of 0 reaches nothing from the ledgers (nothing to count), so staff type those dates.
A 地块 has no plan of its own: it reaches 净地交付 on its first 是否净地 = 是, and with it 征收, 房屋协议,
拆除 and 清表 (a plot delivered as net land was acquired, demolished and cleared), or those when the
whole project reached them. The project's row summarises its 地块: planned the latest of theirs, done
when all of them are (or when the project's totals reach it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from xladdin.base.errors import SettingsError
from xladdin.base.values import parse_date

DEFAULT_MILESTONES = ("报批", "征收", "房屋协议", "拆除", "清表", "净地交付", "高压线迁移", "挂牌出让")
# 设置 › 节点工期 by default: the seed's month of 报批 and 征拆 before 净地, 高压线迁移 four months after
# it ("12月底前…净地，明年4月底前完成高压线迁移"), 挂牌出让 two months after it ("春节过后挂牌出让").
DEFAULT_DAYS = "报批 30、征收 20、房屋协议 15、拆除 15、清表 10、净地交付 5、高压线迁移 120、挂牌出让 60"
# milestone -> (figure, plan) whose figure ≥ plan reaches it; 净地交付 by the 是否净地 flag.
DERIVED = {"征收": ("acquired_mu", "plan_mu"), "房屋协议": ("houses_agreed", "plan_houses"),
           "拆除": ("houses_demolished", "plan_houses"), "清表": ("cleared_mu", "plan_mu")}
NET_LAND_MILESTONE = "净地交付"
NET_LAND_KEY = "net_land"
DONE, DONE_LATE, OVERDUE, AT_RISK, PENDING, UNPLANNED = "已完成", "逾期完成", "已逾期", "临期", "未到期", "未排期"
LABELS = ("项目编号", "项目名称", "地块名称", "节点", "责任领导", "责任人", "计划完成日期(录入)", "计划完成日期",
          "实际完成日期(录入)", "台账完成日期", "完成日期", "状态")
KEYS = ("project_id", "project_name", "plot", "milestone", "leader", "person", "typed", "planned", "entered",
        "derived", "done", "status")
FRAME_COLUMNS = (*KEYS, "standard")  # the plan frame: the sheet's columns and the 倒排工期 standard date
# Headings of the 节点计划 before 倒排工期 (one row per project and milestone, 计划完成日期 typed by staff):
# read back by label, so an earlier master's dates are kept when its table is brought to LABELS.
LEGACY_PLANNED = "计划完成日期"
TYPED_PLANNED = "计划完成日期(录入)"
WEEKS, WEEKS_BACK = 16, 4  # the 作战图时间表: 16 weeks from 4 weeks before the as-of week
DONE_MARK, OPEN_MARK = "●", "○"
TOTAL_WORDS = ("合计", "小计", "总计")
KEY_PLOT_YES = frozenset({"是", "全部", "Y", "YES", "√", "✓", "1"})


def parse_milestones(text: object) -> tuple[str, ...]:
    """The 设置 list (、，, ; or spaces between names); blank gives the default list."""
    names = [n for n in re.split(r"[、，,；;\s]+", str(text or "")) if n]
    return tuple(dict.fromkeys(names)) or DEFAULT_MILESTONES


def parse_days(text: object) -> dict[str, int]:
    """设置 › 节点工期: "报批 30、征收 20…" (a name, then its days; 、，,；; between pairs) -> {name: days}.
    Blank gives the default; a pair without a whole number of days is a SettingsError naming it."""
    text = str(text or "").strip() or DEFAULT_DAYS
    days: dict[str, int] = {}
    for pair in (p for p in re.split(r"[、，,；;\n]+", text) if p.strip()):
        match = re.fullmatch(r"\s*(.+?)\s*[:：=]?\s*(\d+)\s*天?\s*", pair)
        if match is None:
            raise SettingsError(f"设置“节点工期(天)”中的“{pair.strip()}”应为节点名加天数（如 清表 10）。"
                                "请在“设置”表中改正。")
        days[match.group(1)] = int(match.group(2))
    return days


@dataclass(frozen=True)
class Reached:
    """First dates from the store: (project, key) for the project's figures and 净地 (key a figure of
    DERIVED or NET_LAND_KEY), (project, plot) for a 地块's first 是否净地 = 是; `plots` the 地块 each
    project reported (in the order first reported)."""
    project: dict[tuple[str, str], dt.date]
    plot: dict[tuple[str, str], dt.date]
    plots: dict[str, list[str]]


def reached_dates(reports: pd.DataFrame, registry: pd.DataFrame) -> dict[tuple[str, str], dt.date]:
    """(project, milestone) -> the first report date it was reached, from the per-project reports
    (project_id, report_date as date, the figures and net_land): the oracle of the store's first dates
    (Store.milestone_firsts), one pass over the reports."""
    plans = registry.set_index("project_id") if "project_id" in registry.columns else registry
    found: dict[tuple[str, str], dt.date] = {}
    ordered = reports.sort_values("report_date", kind="stable")
    for milestone, (figure, plan_key) in DERIVED.items():
        if figure not in ordered:
            continue
        target = ordered["project_id"].map(pd.to_numeric(plans[plan_key], errors="coerce").fillna(0))
        hit = ordered[(target > 0) & (ordered[figure].astype(float) >= target - 1e-9)]
        for pid, date in hit.groupby("project_id", sort=False)["report_date"].first().items():
            found[(pid, milestone)] = date
    if "net_land" in ordered:
        hit = ordered[(ordered["net_land"] == "是") & ordered["project_id"].isin(plans.index)]
        for pid, date in hit.groupby("project_id", sort=False)["report_date"].first().items():
            found[(pid, NET_LAND_MILESTONE)] = date
    return found


def project_reached(reached: Reached, registry: pd.DataFrame) -> dict[tuple[str, str], dt.date]:
    """(project, milestone) -> date, from the store's first dates."""
    return {(pid, milestone): date for (pid, key), date in reached.project.items()
            for milestone in _milestones_of(key)}


def _milestones_of(key: str) -> list[str]:
    if key == NET_LAND_KEY:
        return [NET_LAND_MILESTONE]
    return [m for m, (figure, _) in DERIVED.items() if figure == key]


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


def schedule(milestones: tuple[str, ...], deadline: dt.date | None, typed: dict[str, dt.date],
             days: dict[str, int]) -> dict[str, dt.date | None]:
    """倒排工期 of one block: each milestone's standard date (what the chain gives it, typed dates of the
    others counted), before its own typed date is applied. Without 净地交付 in the list nothing is
    computed; a milestone without a 工期 in 设置 takes 0 days."""
    standard: dict[str, dt.date | None] = dict.fromkeys(milestones)
    if NET_LAND_MILESTONE not in milestones:
        return standard
    a = milestones.index(NET_LAND_MILESTONE)
    standard[NET_LAND_MILESTONE] = deadline
    effective = {NET_LAND_MILESTONE: typed.get(NET_LAND_MILESTONE) or deadline}
    for i in range(a - 1, -1, -1):
        after = milestones[i + 1]
        base = effective[after]
        standard[milestones[i]] = base - dt.timedelta(days=days.get(after, 0)) if base else None
        effective[milestones[i]] = typed.get(milestones[i]) or standard[milestones[i]]
    anchor = effective[NET_LAND_MILESTONE]
    for name in milestones[a + 1:]:
        standard[name] = anchor + dt.timedelta(days=days.get(name, 0)) if anchor else None
    return standard


def _key(project_id: object, plot: object, milestone: object) -> tuple[str, str, str]:
    return (str(project_id or "").strip(), str(plot or "").strip(), str(milestone or "").strip())


def _is_total(plot: str) -> bool:
    return any(plot.startswith(word) for word in TOTAL_WORDS)


def build_plan(registry: pd.DataFrame, milestones: tuple[str, ...], reached: Reached | dict, as_of: dt.date,
               due_soon_days: int, previous: list[dict] | None = None, days: dict[str, int] | None = None,
               written_leaders: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per project (and per 地块 it reports) and milestone, in blocks: the project's rows, then
    each 地块's. Staff's typed planned and done dates, 责任领导 and 责任人 are kept (read back from the
    sheet by previous_rows); the standard dates, the ledger's dates and the status are worked out. Rows
    staff keep for projects no longer registered are kept at the end.

    `reached`: the store's first dates (Reached), or a plain {(project, milestone): date} for projects
    without 地块. `written_leaders`: the 责任领导 the last run filled in per project, so that a cell
    still holding it follows the 项目清单 (a name staff typed over it is kept)."""
    days = parse_days("") if days is None else days
    if not isinstance(reached, Reached):
        reached = Reached({}, {}, {}) if not reached else _plain_reached(reached)
    by_project = project_reached(reached, registry)
    written_leaders = written_leaders or {}
    kept: dict[tuple[str, str, str], dict] = {}
    for r in previous or []:
        kept.setdefault(_key(r.get("project_id"), r.get("plot"), r.get("milestone")), r)
    rows: list[dict] = []
    for record in registry.to_dict("records"):
        pid = str(record["project_id"])
        default_leader = str(record.get("leader") or "")
        deadline = record.get("deadline") if isinstance(record.get("deadline"), dt.date) else None
        plots = [p for p in reached.plots.get(pid, []) if p and not _is_total(p)]
        staff = {m: kept.pop((pid, "", m), {}) for m in milestones}
        typed = {m: _typed(staff[m], m, deadline) for m in milestones}
        plot_blocks = []
        anchor = typed.get(NET_LAND_MILESTONE) or deadline
        for plot in plots:
            plot_staff = {m: kept.pop((pid, plot, m), {}) for m in milestones}
            plot_typed = {m: _typed(plot_staff[m], m, None) for m in milestones}
            net = reached.plot.get((pid, plot))
            derived = {}
            for m in milestones:
                if m == NET_LAND_MILESTONE:
                    derived[m] = net
                elif m in DERIVED:
                    candidates = [d for d in (net, by_project.get((pid, m))) if d is not None]
                    derived[m] = min(candidates) if candidates else None
            plot_blocks.append((plot, plot_staff, plot_typed,
                                schedule(milestones, anchor, plot_typed, days), derived))
        # The project's row summarises its 地块: their latest planned date, done when all are.
        block_plans = {m: [(_effective(t[m], s[m])) for _, _, t, s, _ in plot_blocks] for m in milestones}
        block_done = {m: [_done(st[m], d.get(m)) for _, st, _, _, d in plot_blocks] for m in milestones}
        standard = schedule(milestones, deadline, typed, days)
        project_rows = []
        for m in milestones:
            plans = [p for p in block_plans[m] if p is not None]
            if plans and typed[m] is None:
                standard[m] = max(plans)
            derived = by_project.get((pid, m))
            if derived is None and plot_blocks and all(d is not None for d in block_done[m]):
                derived = max(block_done[m])
            project_rows.append(_row(record, pid, "", m, staff[m], typed[m], standard[m], derived,
                                     default_leader, written_leaders.get(pid), as_of, due_soon_days))
        rows.extend(project_rows)
        for plot, plot_staff, plot_typed, plot_standard, derived in plot_blocks:
            rows.extend(_row(record, pid, plot, m, plot_staff[m], plot_typed[m], plot_standard[m], derived.get(m),
                             default_leader, written_leaders.get(pid), as_of, due_soon_days) for m in milestones)
    for (pid, plot, milestone), staff in kept.items():  # what staff planned for a project since removed: kept
        if pid and milestone and (staff.get("typed") is not None or staff.get("entered") is not None
                                  or staff.get("person") or staff.get("leader")):
            row = {key: staff.get(key) for key in KEYS}
            row["plot"] = plot
            row["typed"] = parse_date(staff.get("typed"))
            row["entered"] = parse_date(staff.get("entered"))
            row["planned"] = row["typed"]
            row["done"] = row["entered"]
            row["derived"] = None
            row["standard"] = None
            row["status"] = status_of(row["planned"], row["done"], as_of, due_soon_days)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


def _plain_reached(found: dict[tuple[str, str], dt.date]) -> Reached:
    keys = {NET_LAND_MILESTONE: NET_LAND_KEY, **{m: figure for m, (figure, _) in DERIVED.items()}}
    project = {}
    for (pid, milestone), date in found.items():
        if milestone in keys:
            project[(pid, keys[milestone])] = date
    return Reached(project, {}, {})


def _typed(staff: dict, milestone: str, deadline: dt.date | None) -> dt.date | None:
    """The planned date staff typed. An earlier layout's 计划完成日期 was typed too, except 净地交付's when
    it was the deadline the run filled in."""
    date = parse_date(staff.get("typed"))
    if staff.get("legacy") and milestone == NET_LAND_MILESTONE and date is not None and date == deadline:
        return None
    return date


def _effective(typed: dt.date | None, standard: dt.date | None) -> dt.date | None:
    return typed or standard


def _done(staff: dict, derived: dt.date | None) -> dt.date | None:
    return parse_date(staff.get("entered")) or derived


def _row(record: dict, pid: str, plot: str, milestone: str, staff: dict, typed: dt.date | None,
         standard: dt.date | None, derived: dt.date | None, default_leader: str, written_leader: str | None,
         as_of: dt.date, due_soon_days: int) -> dict:
    entered = parse_date(staff.get("entered"))
    planned = typed or standard
    done = entered or derived
    leader = str(staff.get("leader") or "").strip()
    if not leader or leader == written_leader:
        leader = default_leader  # not typed by staff: follows the 项目清单
    return {"project_id": pid, "project_name": record.get("project_name"), "plot": plot, "milestone": milestone,
            "leader": leader, "person": str(staff.get("person") or "").strip(), "typed": typed,
            "standard": standard, "planned": planned, "entered": entered, "derived": derived, "done": done,
            "status": status_of(planned, done, as_of, due_soon_days)}


def previous_rows(header: list[str], rows: list[tuple[int, list[object]]]) -> list[dict]:
    """What staff keep in the 节点计划, by heading: this layout's, or an earlier one's (one row per
    project and milestone, where 计划完成日期 was typed by staff: marked `legacy`)."""
    position = {str(label).strip(): i for i, label in enumerate(header)}
    legacy = TYPED_PLANNED not in position
    sources = dict(zip(KEYS, LABELS))
    if legacy:
        sources["typed"] = LEGACY_PLANNED
    wanted = ("project_id", "plot", "milestone", "project_name", "leader", "person", "typed", "entered")
    out = []
    for _, values in rows:
        record = {key: values[position[sources[key]]] if sources[key] in position else None for key in wanted}
        if legacy:
            record["leader"] = None  # the earlier layout wrote the project's leader; nothing staff typed
            record["legacy"] = True
        out.append(record)
    return out


def late_or_at_risk(plan: pd.DataFrame) -> pd.DataFrame:
    """The rows (project rows and 地块 rows, `plot` blank for a project) whose milestone is overdue or due
    soon, with the node's 责任领导 (`leader`) and 责任人 (`person`, blank when staff named nobody)."""
    status = plan["status"].astype(str)
    return plan[status.str.startswith(OVERDUE) | status.str.startswith(AT_RISK)]


def plan_records(plan: pd.DataFrame) -> list[dict]:
    """The plan's rows as dicts of plain Python values (dates as dates, blanks as None), in one pass:
    DataFrame.to_dict boxes every cell of a date column and costs seconds at city size."""
    columns = list(plan.columns)
    values = plan.astype(object).to_numpy().tolist()
    return [{key: (None if v is pd.NaT or (isinstance(v, float) and v != v) else v) for key, v in zip(columns, row)}
            for row in values]


def blocks(plan: pd.DataFrame) -> list[tuple[int, int]]:
    """(first, last) row positions of each block of the plan: a project's rows, or a 地块's."""
    keys = list(zip(plan["project_id"], plan["plot"].fillna("")))
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out.append((start, i - 1))
            start = i
    return out


def current(block: list[dict]) -> dict | None:
    """The block's first milestone not done (its row), or None when every one is."""
    return next((row for row in block if not isinstance(row.get("done"), dt.date)), None)


def key_plots(plan: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """The 重点攻坚地块 (项目清单 › 重点攻坚地块: 是 for every 地块 of the project, or the 地块 names,
    、-separated) as of the plan, one row each, for the daily 督查日报: project_id, project_name, plot
    (blank when the project reports no 地块), deadline (its 净地交付 planned date), milestone (the
    first not done; blank when all are), planned, status, leader, person, done_count, total."""
    columns = ["project_id", "project_name", "plot", "deadline", "milestone", "planned", "status", "leader",
               "person", "done_count", "total"]
    if "key_plots" not in registry.columns or plan.empty:
        return pd.DataFrame(columns=columns)
    wanted: dict[str, str] = {}
    for pid, flag in zip(registry["project_id"], registry["key_plots"]):
        text = str(flag or "").strip()
        if text:
            wanted[str(pid)] = text
    rows = []
    records = plan_records(plan)
    with_plots = {pid for pid, plot in zip(plan["project_id"], plan["plot"]) if plot}
    for first, last in blocks(plan):
        block = records[first:last + 1]
        pid, plot = block[0]["project_id"], str(block[0]["plot"] or "")
        flag = wanted.get(pid)
        if flag is None:
            continue
        has_plots = pid in with_plots
        names = {n for n in re.split(r"[、，,；;\s]+", flag) if n}
        whole = flag.upper() in KEY_PLOT_YES
        if plot and not (whole or plot in names):
            continue
        if not plot and (has_plots or not whole):
            continue
        now = current(block)
        net = next((r for r in block if r["milestone"] == NET_LAND_MILESTONE), None)
        rows.append({"project_id": pid, "project_name": block[0]["project_name"], "plot": plot,
                     "deadline": net["planned"] if net else None,
                     "milestone": now["milestone"] if now else "", "planned": now["planned"] if now else None,
                     "status": now["status"] if now else DONE, "leader": (now or block[0])["leader"],
                     "person": (now or block[0])["person"],
                     "done_count": sum(isinstance(r["done"], dt.date) for r in block), "total": len(block)})
    return pd.DataFrame(rows, columns=columns)


def done_formula(row: int, entered_col: str, derived_col: str) -> str:
    """完成日期 in the 节点计划: what staff entered, else the ledger's date (live: staff's entry counts at once)."""
    return f'=IF(ISNUMBER({entered_col}{row}),{entered_col}{row},IF(ISNUMBER({derived_col}{row}),{derived_col}{row},""))'


def planned_formula(row: int, typed_col: str, standard: dt.date | None) -> str:
    """计划完成日期 in the 节点计划: the date staff typed, else the 倒排工期 standard date (live: a typed date
    counts at once; the chain moves on the next run)."""
    fallback = f"DATE({standard.year},{standard.month},{standard.day})" if standard else '""'
    return f"=IF(ISNUMBER({typed_col}{row}),{typed_col}{row},{fallback})"


def week_formula(week_cell: str, planned: str, done: str) -> str:
    """One cell of the 作战图时间表: ● per milestone of the row's block done in the week, ○ per one planned
    in it and not done. `planned` and `done` are the block's own rows in the 节点计划 (a few cells, never
    a whole column): COUNTIFS and REPT, Excel 2010, WPS and LibreOffice."""
    in_week = f'{planned},">="&{week_cell},{planned},"<"&({week_cell}+7)'
    done_in_week = f'COUNTIFS({done},">="&{week_cell},{done},"<"&({week_cell}+7))'
    open_in_week = f'COUNTIFS({in_week})-COUNTIFS({in_week},{done},">0")'
    return f'=REPT("{DONE_MARK}",{done_in_week})&REPT("{OPEN_MARK}",{open_in_week})'


def week_marks(block: list[tuple[object, object]], week_start: dt.date) -> str:
    """What week_formula computes, in Python, for a block's (planned, done) pairs: the cached value
    written with the formula and the tests' oracle."""
    end = week_start + dt.timedelta(days=7)

    def within(d) -> bool:
        return isinstance(d, dt.date) and week_start <= d < end

    done = sum(1 for _, d in block if within(d))
    open_ = sum(1 for p, d in block if within(p) and not isinstance(d, dt.date))
    return DONE_MARK * done + OPEN_MARK * open_


def block_marks(block: list[tuple[object, object]], mondays: list[dt.date]) -> list[str]:
    """week_marks for every week at once (consecutive Mondays): each date placed in its week by
    arithmetic, so a block costs its rows, not its rows times the weeks."""
    first, count = mondays[0], len(mondays)
    done, open_ = [0] * count, [0] * count

    def week(d) -> int | None:
        if not isinstance(d, dt.date):
            return None
        k = (d - first).days // 7
        return k if 0 <= k < count else None

    for planned, finished in block:
        if isinstance(finished, dt.date):
            k = week(finished)
            if k is not None:
                done[k] += 1
        else:
            k = week(planned)
            if k is not None:
                open_[k] += 1
    return [DONE_MARK * d + OPEN_MARK * o for d, o in zip(done, open_)]


def week_starts(as_of: dt.date) -> list[dt.date]:
    """The Mondays the 作战图时间表 shows: 16 weeks from 4 weeks before the as-of date's week."""
    monday = as_of - dt.timedelta(days=as_of.weekday())
    return [monday + dt.timedelta(days=7 * (k - WEEKS_BACK)) for k in range(WEEKS)]
