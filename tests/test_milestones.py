"""节点计划 and the 作战图时间表: reached dates from the ledgers (and from the store, by key), 倒排工期 from the
deadline with staff's dates kept, per-地块 blocks, an earlier master's plan carried over, and the
timeline's formulas equal to the Python oracle once LibreOffice recalculates them."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xladdin.demo import MASTER_NAME
from xladdin.domain.milestones import (
    Reached,
    block_marks,
    build_plan,
    key_plots,
    labels,
    late_or_at_risk,
    parse_days,
    parse_milestones,
    reached_dates,
    schedule,
    status_of,
    week_marks,
    week_starts,
)
from xladdin.engine.pipeline import execute
from xladdin.engine.plan import figure_plans
from xladdin.notices.compose import _key_plots
from xladdin.store.history import Store
from xladdin.workbook.layout import MILESTONES, TIMELINE

from .conftest import AS_OF, recalculate, table_frame

D = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(10)]
REGISTRY = pd.DataFrame([{"project_id": "P1", "project_name": "甲", "leader": "张", "plan_mu": 10.0, "plan_houses": 4,
                          "deadline": D[9]},
                         {"project_id": "P2", "project_name": "乙", "leader": "李", "plan_mu": 5.0, "plan_houses": 0,
                          "deadline": None}])


def reports(*rows):
    return pd.DataFrame(rows, columns=["project_id", "report_date", "acquired_mu", "houses_agreed",
                                       "houses_demolished", "cleared_mu", "net_land"])


HISTORY = reports(("P1", D[0], 6, 2, 0, 0, "否"), ("P1", D[2], 10, 4, 1, 3, "否"), ("P1", D[5], 10, 4, 4, 10, "是"),
                  ("P2", D[0], 5, 0, 0, 5, "否"))


def test_milestones_are_reached_on_the_first_report_that_meets_the_plan():
    reached = reached_dates(HISTORY, REGISTRY)
    assert reached[("P1", "征收")] == D[2] and reached[("P1", "房屋协议")] == D[2]
    assert reached[("P1", "拆除")] == D[5] and reached[("P1", "清表")] == D[5] and reached[("P1", "净地交付")] == D[5]
    assert reached[("P2", "征收")] == D[0] and reached[("P2", "清表")] == D[0]
    assert ("P2", "房屋协议") not in reached and ("P2", "拆除") not in reached  # no houses planned: entered


@pytest.mark.parametrize("planned, reached, expected", [
    (D[5], D[4], "已完成"), (D[5], D[6], "逾期完成"), (D[2], None, "已逾期2天"), (D[6], None, "临期，剩2天"),
    (D[9], None, "未到期"), (None, None, "未排期"),
])
def test_status_follows_the_planned_date(planned, reached, expected):
    assert status_of(planned, reached, D[4], due_soon_days=3) == expected


def test_staff_dates_are_kept_and_net_land_defaults_to_the_deadline():
    staff = [{"project_id": "P1", "milestone": "报批", "typed": D[1], "entered": D[3]},
             {"project_id": "P2", "milestone": "拆除", "typed": D[3]},
             {"project_id": "P9", "milestone": "报批", "typed": D[1], "project_name": "已删"}]
    known = HISTORY[HISTORY["report_date"] <= D[4]]  # what the store holds as of D[4]
    plan = build_plan(REGISTRY, ("报批", "拆除", "净地交付"), reached_dates(known, REGISTRY), D[4], 3, staff).frame()
    rows = {(r["project_id"], r["milestone"]): r for r in plan.to_dict("records")}
    assert rows[("P1", "报批")]["status"] == "逾期完成" and rows[("P1", "报批")]["done"] == D[3]
    assert rows[("P2", "拆除")]["status"] == "已逾期1天"
    assert rows[("P1", "净地交付")]["planned"] == D[9] and rows[("P1", "净地交付")]["derived"] is None
    assert ("P9", "报批") in rows  # staff's plan for a removed project is not thrown away
    later = build_plan(REGISTRY, ("净地交付",), reached_dates(HISTORY, REGISTRY), D[6], 3).frame()
    assert later.set_index("project_id").at["P1", "status"] == "已完成"


NODES = ("报批", "征收", "房屋协议", "拆除", "清表", "净地交付", "高压线迁移", "挂牌出让")
DAYS = parse_days("报批 30、征收 20、房屋协议 15、拆除 15、清表 10、净地交付 5、高压线迁移 120、挂牌出让 60")


def test_the_plan_is_scheduled_backwards_from_the_deadline_and_forwards_after_it():
    deadline = dt.date(2026, 12, 31)  # the seed: 12月底前净地, 明年4月底前高压线迁移, 春节过后挂牌出让
    standard = schedule(NODES, deadline, {}, DAYS)
    assert standard["净地交付"] == deadline
    assert standard["清表"] == deadline - dt.timedelta(days=5)  # 净地交付 takes 5 days after 清表
    assert standard["拆除"] == standard["清表"] - dt.timedelta(days=10)
    assert standard["房屋协议"] == standard["拆除"] - dt.timedelta(days=15)
    assert standard["征收"] == standard["房屋协议"] - dt.timedelta(days=15)
    assert standard["报批"] == standard["征收"] - dt.timedelta(days=20)
    assert standard["高压线迁移"] == dt.date(2027, 4, 30) and standard["挂牌出让"] == dt.date(2027, 3, 1)
    # A typed date wins, and the chain walks on from it: the nodes before it move, the others do not.
    typed = {"拆除": dt.date(2026, 12, 1)}
    moved = schedule(NODES, deadline, typed, DAYS)
    assert moved["房屋协议"] == dt.date(2026, 11, 16) and moved["报批"] == dt.date(2026, 10, 12)
    assert moved["清表"] == standard["清表"] and moved["挂牌出让"] == standard["挂牌出让"]
    # A typed 净地交付 moves every computed date with it; no deadline and nothing typed: nothing computed.
    assert schedule(NODES, deadline, {"净地交付": dt.date(2027, 1, 10)}, DAYS)["挂牌出让"] == dt.date(2027, 3, 11)
    assert set(schedule(NODES, None, {}, DAYS).values()) == {None}


def test_typed_dates_leaders_and_persons_are_kept_and_the_rest_follows_the_registry():
    registry = REGISTRY.assign(deadline=[dt.date(2026, 12, 31), None])
    previous = [{"project_id": "P1", "milestone": "拆除", "typed": dt.date(2026, 12, 1), "person": "王五"},
                {"project_id": "P1", "milestone": "清表", "leader": "赵副县长"},
                {"project_id": "P1", "milestone": "征收", "leader": "张"},  # what the run filled in last time
                {"project_id": "P2", "milestone": "净地交付", "typed": dt.date(2027, 1, 20)}]
    plan = build_plan(registry, NODES, {}, D[4], 3, previous, DAYS, {"P1": "张"})
    rows = {(r["project_id"], r["milestone"]): r for r in plan.frame().to_dict("records")}
    assert rows[("P1", "拆除")]["planned"] == rows[("P1", "拆除")]["typed"] == dt.date(2026, 12, 1)
    assert rows[("P1", "拆除")]["person"] == "王五" and rows[("P1", "清表")]["leader"] == "赵副县长"
    assert rows[("P1", "征收")]["leader"] == "张" and rows[("P1", "报批")]["leader"] == "张"
    assert rows[("P1", "房屋协议")]["standard"] == dt.date(2026, 11, 16)  # 倒排 from the typed 拆除
    assert rows[("P2", "净地交付")]["planned"] == dt.date(2027, 1, 20)  # no deadline: staff's date anchors
    assert rows[("P2", "挂牌出让")]["planned"] == dt.date(2027, 3, 21)
    # The registry's leader changes: the cells the run filled follow it, the one staff typed stays.
    again = build_plan(registry.assign(leader=["钱", "李"]), NODES, {}, D[4], 3,
                       [{**r, "typed": r["typed"]} for r in plan.frame().to_dict("records")], DAYS, {"P1": "张"})
    rows = {(r["project_id"], r["milestone"]): r for r in again.frame().to_dict("records")}
    assert rows[("P1", "征收")]["leader"] == "钱" and rows[("P1", "清表")]["leader"] == "赵副县长"
    assert rows[("P1", "拆除")]["typed"] == dt.date(2026, 12, 1) and rows[("P1", "拆除")]["person"] == "王五"
    late = late_or_at_risk(again)
    assert {"leader", "person", "plot"} <= set(late.columns)


def test_a_project_reporting_plots_gets_a_block_per_plot_that_its_row_summarises():
    registry = REGISTRY.assign(deadline=[dt.date(2026, 12, 31), None], key_plots=["东区", ""])
    reached = Reached(project={("P1", "acquired_mu"): D[2]},
                      plot={("P1", "东区"): D[5]}, plots={"P1": ["东区", "西区", "合计"]})
    previous = [{"project_id": "P1", "plot": "西区", "milestone": "净地交付", "typed": dt.date(2027, 1, 31)},
                {"project_id": "P1", "plot": "西区", "milestone": "拆除", "person": "孙"}]
    plan = build_plan(registry, NODES, reached, D[6], 3, previous, DAYS)
    assert [(b.project_id, b.plot) for b in plan.blocks] == [
        ("P1", ""), ("P1", "东区"), ("P1", "西区"), ("P2", "")]  # 合计 is never a 地块
    rows = {(r["project_id"], r["plot"], r["milestone"]): r for r in plan.frame().to_dict("records")}
    east, west = ("P1", "东区"), ("P1", "西区")
    assert rows[(*east, "净地交付")]["done"] == D[5]  # the plot's own first 是否净地 = 是
    assert rows[(*east, "拆除")]["done"] == D[5] and rows[(*east, "征收")]["done"] == D[2]  # project's 征收 first
    assert rows[(*west, "净地交付")]["planned"] == dt.date(2027, 1, 31)  # the plot's own deadline
    assert rows[(*west, "清表")]["planned"] == dt.date(2027, 1, 26)  # 倒排 from it
    assert rows[(*east, "清表")]["planned"] == dt.date(2026, 12, 26)  # from the project's deadline
    assert rows[(*west, "拆除")]["person"] == "孙"
    # The project's row summarises: planned the latest of its plots', done when all are.
    assert rows[("P1", "", "净地交付")]["planned"] == dt.date(2027, 1, 31)
    assert rows[("P1", "", "净地交付")]["done"] is None and rows[("P1", "", "征收")]["done"] == D[2]
    flagged = key_plots(plan, registry)
    assert list(zip(flagged["project_id"], flagged["plot"])) == [("P1", "东区")]
    assert flagged.iloc[0]["milestone"] == "报批" and flagged.iloc[0]["deadline"] == dt.date(2026, 12, 31)
    everything = key_plots(plan, registry.assign(key_plots=["是", "是"]))
    assert list(zip(everything["project_id"], everything["plot"])) == [("P1", "东区"), ("P1", "西区"), ("P2", "")]
    # The 督查日报 names each 重点攻坚地块 with its current 节点 and who answers for it.
    heading, section = _key_plots(everything, D[6])
    assert heading == "重点攻坚地块"
    for r in everything.to_dict("records"):
        assert f"{r['project_name']}{r['plot']}正在{r['milestone']}" in section
    assert "甲西区正在报批（计划11月27日完成，未到期；责任领导张）" in section  # its planned date, status, leader
    assert _key_plots(key_plots(plan, REGISTRY), D[6]) is None  # nothing flagged: no section

def test_the_timeline_marks_of_a_block_at_once_are_the_week_by_week_oracles():
    import random

    rng = random.Random(7)
    mondays = week_starts(dt.date(2026, 11, 24))
    day = lambda: mondays[0] + dt.timedelta(days=rng.randrange(-20, 140))  # noqa: E731
    for _ in range(300):
        block = [(day() if rng.random() < 0.8 else None, day() if rng.random() < 0.4 else None)
                 for _ in range(rng.randrange(1, 10))]
        assert block_marks(block, mondays) == [week_marks(block, monday) for monday in mondays]


def _store_with(path: Path, days: int, plots: bool = False) -> Store:
    store = Store(path)
    rows = []
    for d in range(days):
        date = (dt.date(2026, 9, 1) + dt.timedelta(days=d)).isoformat()
        for p in range(20):
            figures = [min(10.0, 0.25 * d + p * 0.1)] * 8
            net = "是" if figures[0] >= 10 else "否"
            if plots and p == 0:
                rows += [(f"s{d}", "组", date, f"P{p}", plot, *figures, "是" if d >= k * 10 + 5 else "否", None, "",
                          "", 5 + k, 0) for k, plot in enumerate(("东区", "西区"))]
            else:
                rows.append((f"s{d}", "组", date, f"P{p}", "", *figures, net, None, "", "", 5, 0))
    with store.db:
        store.db.executemany(f"INSERT INTO ledger_rows (sha256, group_name, report_date, project_id, plot, "
                             f"{', '.join(__import__('xladdin.base.schema', fromlist=['x']).FIGURE_KEYS)}, net_land,"
                             " net_land_date, problems, next_steps, sheet_row, superseded) VALUES "
                             f"({','.join('?' * len(rows[0]))})", rows)
        store.rebuild_reports()
    return store


def _registry(n: int = 20) -> pd.DataFrame:
    return pd.DataFrame([{"project_id": f"P{p}", "project_name": f"项目{p}", "leader": "", "plan_mu": 10.0,
                          "plan_houses": 10, "deadline": None} for p in range(n)])


def test_the_store_finds_what_the_reports_say_and_keeps_up_as_days_are_recorded(tmp_path):
    store = _store_with(tmp_path / "h.sqlite", 60, plots=True)
    registry = _registry()
    as_of = dt.date(2026, 10, 30)
    project, plot, plots = store.milestone_firsts(figure_plans(registry), as_of)
    oracle = reached_dates(store.accepted_rows(as_of).groupby(["project_id", "report_date"], as_index=False).agg(
        {"acquired_mu": "sum", "houses_agreed": "sum", "houses_demolished": "sum", "cleared_mu": "sum",
         "net_land": lambda v: "是" if (v == "是").all() else "否"}), registry)
    mine = reached_dates.__globals__["project_reached"](Reached(project, plot, plots), registry)
    assert mine == oracle and len(mine) > 20
    assert plots["P0"] == ["东区", "西区"] and plot[("P0", "东区")] == dt.date(2026, 9, 6)
    # As of an earlier date, nothing reached later shows.
    early, _, _ = store.milestone_firsts(figure_plans(registry), dt.date(2026, 9, 20))
    assert all(d <= dt.date(2026, 9, 20) for d in early.values())
    # A correction of an early day moves the first date; a plan changed in the 项目清单 is measured afresh.
    store.db.execute("UPDATE ledger_rows SET acquired_mu=10 WHERE project_id='P19' AND report_date='2026-09-03'")
    store._stale.add(("P19", "2026-09-03"))
    store.refresh_derived()
    project, _, _ = store.milestone_firsts(figure_plans(registry), as_of)
    assert project[("P19", "acquired_mu")] == dt.date(2026, 9, 3)
    project, _, _ = store.milestone_firsts(figure_plans(registry.assign(plan_mu=5.0)), as_of)
    assert project[("P1", "acquired_mu")] == dt.date(2026, 9, 21)  # 0.25 × 20 days + 0.1 ≥ 5
    store.close()


def _steps(store: Store, registry: pd.DataFrame, as_of: dt.date) -> int:
    """SQLite virtual-machine steps of one lookup of the reached dates (a count, not a timing)."""
    steps = [0]

    def count():
        steps[0] += 1
        return 0

    store.db.set_progress_handler(count, 1)
    store.milestone_firsts(figure_plans(registry), as_of)
    store.db.set_progress_handler(None, 1)
    return steps[0]


def test_reached_dates_cost_the_same_however_long_the_history(tmp_path):
    """A run's lookup reads the first dates by key: 180 days of history cost what 60 do (once known; every
    project has reached every figure by day 40 in both)."""
    registry = _registry()
    costs = []
    for days in (60, 180):
        store = _store_with(tmp_path / f"h{days}.sqlite", days)
        as_of = dt.date(2026, 9, 1) + dt.timedelta(days=days)
        store.milestone_firsts(figure_plans(registry), as_of)  # the first run finds them once
        costs.append(_steps(store, registry, as_of))
        store.close()
    assert costs[1] == costs[0], costs


def test_the_weekly_notice_names_late_milestones(demo):
    directory, _, _ = demo
    result = execute(directory / MASTER_NAME, as_of=AS_OF, intake=False, write=False, notice_kind="weekly")
    plan = result.plan.frame()
    status = plan["status"].astype(str)
    overdue, soon = plan[status.str.startswith("已逾期")], plan[status.str.startswith("临期")]
    assert len(overdue) and len(soon)
    section = dict(result.notice_doc.sections)["节点计划"]
    assert f"已逾期的节点{len(overdue)}个、临期的节点{len(soon)}个" in section  # counted; the full list is an annex
    for row in overdue.sort_values("planned", kind="stable").head(result.settings.notice_named).itertuples():
        assert f"{row.project_name}{row.milestone}" in section
    (annex,) = [rows for title, rows in result.notice_doc.annexes if "节点" in title]
    assert len(annex) - 1 == len(overdue) + len(soon)


def test_every_conditional_format_fill_carries_both_colours(demo):
    directory, _, _ = demo
    with zipfile.ZipFile(directory / MASTER_NAME) as archive:
        styles = archive.read("xl/styles.xml").decode("utf-8")
    dxfs = re.search(r"<dxfs\b.*?</dxfs>", styles, re.S).group(0)
    fills = re.findall(r"<fill>.*?</fill>", dxfs, re.S)
    assert len(fills) >= 4
    for fill in fills:
        assert "fgColor" in fill and "bgColor" in fill, fill


def _cell_date(value):
    if value is None or value == "" or pd.isna(value):
        return None
    return value.date() if isinstance(value, dt.datetime) else value


@pytest.mark.libreoffice
def test_the_timeline_and_plan_compute_what_python_says_in_libreoffice(demo_copy, tmp_path):
    master = demo_copy
    result = execute(master, as_of=AS_OF, intake=False, command="notice")
    plan = result.plan
    nodes = plan.milestones
    # A date staff type counts at once, before any run: type one in the first block's 清表 (planned in
    # the as-of week) and 报批's done date in the week after it, then let LibreOffice compute.
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["节点计划"]
    top = int(ws.tables["tblMilestones"].ref.split(":")[0][1:]) + 1
    labels = [c.value for c in ws[top - 1]]
    typed_planned, typed_done = AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=8)
    ws.cell(top, labels.index("清表·计划(录入)") + 1).value = typed_planned
    ws.cell(top, labels.index("报批·实际(录入)") + 1).value = typed_done
    edited = tmp_path / ("edited" + master.suffix)
    wb.save(edited)
    converted = recalculate(edited, tmp_path / "out")
    table = table_frame(converted, "tblTimeline", data_only=True)
    sheet = table_frame(converted, "tblMilestones", data_only=True)
    expected = {(b.project_id, b.plot or None): {m: [n[4], n[7]] for m, n in zip(nodes, b.nodes)} for b in plan.blocks}
    first = plan.blocks[0]
    expected[(first.project_id, None)]["清表"][0] = typed_planned
    expected[(first.project_id, None)]["报批"][1] = typed_done
    # 计划 and 完成 of every node, as LibreOffice computes them, are Python's (with staff's new dates).
    assert len(sheet) == len(plan.blocks)
    for _, row in sheet.iterrows():
        key = (row["项目编号"], row["地块名称"] or None)
        for m in nodes:
            assert [_cell_date(row[f"{m}·计划"]), _cell_date(row[f"{m}·完成"])] == expected[key][m], (key, m)
    # The week row is the run's Mondays as values; every week cell is Python's marks.
    weeks = week_starts(AS_OF)
    ws = openpyxl.load_workbook(converted, data_only=True)["作战图时间表"]
    header_row = int(ws.tables["tblTimeline"].ref.split(":")[0][1:])
    fixed = len(TIMELINE.columns) - len(weeks)
    assert [_cell_date(ws.cell(header_row - 1, fixed + 1 + k).value) for k in range(len(weeks))] == weeks
    assert list(zip(table["项目编号"], table["地块名称"])) == [(b.project_id, b.plot or None) for b in plan.blocks]
    marks = 0
    for _, row in table.iterrows():
        pairs = [tuple(v) for v in expected[(row["项目编号"], row["地块名称"] or None)].values()]
        for k, monday in enumerate(weeks):
            found = row[f"第{k + 1}周"]
            assert ("" if found is None or pd.isna(found) else found) == week_marks(pairs, monday), (row["项目编号"], k)
            marks += len(week_marks(pairs, monday))
    assert marks > 20


def test_the_plan_and_timeline_formulas_are_bounded_and_not_volatile(demo_copy):
    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")
    with zipfile.ZipFile(demo_copy) as archive:
        sheets = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    formulas = re.findall(rb"<f(?: [^>]*)?>(.*?)</f>", sheets)  # shared formulas' text too
    assert formulas
    for volatile in (b"TODAY(", b"NOW(", b"OFFSET(", b"INDIRECT(", b"RAND("):
        assert not any(volatile in f for f in formulas), volatile
    # No whole-column or whole-row reference (A:A, $C:$C, 3:3): every range names its rows.
    whole = re.compile(rb"(?<![A-Za-z0-9_$])\$?[A-Z]{1,3}:\$?[A-Z]{1,3}(?![0-9(])|(?<![A-Z$0-9])\$?\d+:\$?\d+(?![0-9])")
    assert not [f for f in formulas if b"COUNTIFS" in f and whole.search(f)]
    wb = openpyxl.load_workbook(demo_copy)
    ws = wb["作战图时间表"]
    top = int(ws.tables["tblTimeline"].ref.split(":")[0][1:]) + 1
    plan_top = int(wb["节点计划"].tables["tblMilestones"].ref.split(":")[0][1:]) + 1
    for k in range(3):  # each row's week cells count over its own block's row of the 节点计划, a few cells
        cell = ws.cell(top + k, len(TIMELINE.columns)).value
        spans = re.findall(r"'节点计划'!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", cell)
        assert spans and all(int(a) == int(b) == plan_top + k for _, a, _, b in spans), cell


def test_a_typed_date_survives_runs_and_counts_at_once_in_the_sheet(demo_copy):
    master = demo_copy
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["节点计划"]
    table = ws.tables["tblMilestones"]
    first = int(table.ref.split(":")[0][1:]) + 1
    labels = [c.value for c in ws[first - 1]]
    typed_col, person_col = labels.index("清表·计划(录入)") + 1, labels.index("清表·责任人") + 1
    target = first + 1
    pid = ws.cell(target, 1).value
    ws.cell(target, typed_col).value = dt.date(2027, 3, 3)
    ws.cell(target, person_col).value = "王五"
    wb.save(master)
    for _ in range(2):
        result = execute(master, as_of=AS_OF, intake=False, command="rank")
        plan = result.plan.frame()
        row = plan[(plan["project_id"] == pid) & (plan["milestone"] == "清表")].iloc[0]
        assert row["typed"] == row["planned"] == dt.date(2027, 3, 3) and row["person"] == "王五"
        before = plan[(plan["project_id"] == pid) & (plan["milestone"] == "拆除")].iloc[0]
        assert before["standard"] == dt.date(2027, 3, 3) - dt.timedelta(days=10)  # 倒排 from staff's date
    timeline = table_frame(master, "tblTimeline", data_only=True)
    current = timeline[timeline["项目编号"] == pid].iloc[0]
    node = plan[(plan["project_id"] == pid) & plan["done"].isna()].iloc[0]
    assert current["当前节点"] == node["milestone"] and current["责任人"] == (node["person"] or None)
    sheet = table_frame(master, "tblMilestones")
    assert sheet.loc[sheet["项目编号"] == pid, "清表·责任人"].tolist() == ["王五"]


def test_a_second_run_of_the_day_rewrites_neither_plan_nor_timeline(demo_copy, monkeypatch):
    from xladdin.workbook.package import MasterBook

    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")
    written = []
    original = MasterBook.write_table
    block = MasterBook._write_block

    def rewritten(self, name, rows, spec=None, **kwargs):  # a table whose rows are written out (not left alone)
        before = len(self.written_blocks) if hasattr(self, "written_blocks") else 0
        original(self, name, rows, spec, **kwargs)
        if getattr(self, "written_blocks", []) and len(self.written_blocks) > before:
            written.append(name)

    def noting(self, *args, **kwargs):
        self.__dict__.setdefault("written_blocks", []).append(args[0])
        return block(self, *args, **kwargs)

    monkeypatch.setattr(MasterBook, "write_table", rewritten)
    monkeypatch.setattr(MasterBook, "_write_block", noting)
    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")
    assert MILESTONES.name not in written and TIMELINE.name not in written
    written.clear()
    execute(demo_copy, as_of=AS_OF + dt.timedelta(days=1), intake=False, command="rank")
    # A new day: statuses move. The timeline's rows (current node, marks per week) may be the same
    # within a week, and a table whose rows did not change is left as it is.
    assert MILESTONES.name in written


V2 = Path(__file__).parent / "data" / "v2-milestones"  # a demo master and store of the release before 倒排工期


def test_a_master_with_the_earlier_plan_layout_keeps_staffs_dates(tmp_path):
    shutil.copy(V2 / MASTER_NAME, tmp_path / MASTER_NAME)
    with gzip.open(V2 / "历史库.sqlite.gz") as packed, open(tmp_path / "历史库.sqlite", "wb") as out:
        shutil.copyfileobj(packed, out)
    master = tmp_path / MASTER_NAME
    old = table_frame(master, "tblMilestones")
    assert "计划完成日期(录入)" not in old.columns  # the fixture really is the earlier layout
    typed = {(r["项目编号"], r["节点"]): r["计划完成日期"].date() for _, r in old.iterrows()
             if pd.notna(r["计划完成日期"]) and r["节点"] != "净地交付"}
    entered = {(r["项目编号"], r["节点"]): r["实际完成日期(录入)"].date() for _, r in old.iterrows()
               if pd.notna(r["实际完成日期(录入)"])}
    result = execute(master, as_of=AS_OF, intake=False, command="rank")
    assert result.wrote
    new = table_frame(master, "tblMilestones")
    assert list(new.columns) == labels(parse_milestones(result.settings.milestones))  # a row per block
    assert len(new) == len(old) // len(result.plan.milestones)
    # the columns that now hold dates show dates (a format the old table had), the others do not
    plan_ws = openpyxl.load_workbook(master)["节点计划"]
    top = int(plan_ws.tables["tblMilestones"].ref.split(":")[0][1:])
    for c, label in enumerate(new.columns, start=1):
        is_date = label.endswith(("计划", "完成", "(录入)"))
        assert ("yy" in plan_ws.cell(top + 1, c).number_format) == is_date, label
    assert list(table_frame(master, "tblTimeline").columns) == list(TIMELINE.labels)
    rows = {(r["project_id"], r["milestone"]): r for r in result.plan.frame().to_dict("records") if not r["plot"]}
    assert typed and all(rows[key]["typed"] == date == rows[key]["planned"] for key, date in typed.items())
    assert entered and all(rows[key]["entered"] == date for key, date in entered.items())
    # 净地交付's date the earlier run filled in from the deadline is not taken for a typed one.
    assert all(r["typed"] is None for key, r in rows.items() if key[1] == "净地交付")
    ws = openpyxl.load_workbook(master)["作战图时间表"]
    header = int(ws.tables["tblTimeline"].ref.split(":")[0][1:])
    week_row = [ws.cell(header - 1, c).value for c in range(1, len(TIMELINE.columns) + 1)]
    assert not any(isinstance(v, str) and v.startswith("=") for v in week_row)  # TODAY() formulas gone
    assert [v.date() for v in week_row[-16:]] == week_starts(AS_OF)
    # The second run reads the new layout: nothing staff typed moves.
    again = execute(master, as_of=AS_OF, intake=False, command="rank")
    pd.testing.assert_frame_equal(again.plan.frame().drop(columns="standard"),
                                  result.plan.frame().drop(columns="standard"))
