"""The 督办台账 and the notices' new problems read the store's problem_runs (each run of unchanged 存在问题
and 下步措施 text in a project's reports) instead of every day's report: the same register and the same new
problems through submissions, corrections and roll-backs (hypothesis), and a day's reads that cost the
same however long the history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xladdin.base.schema import FIGURE_KEYS
from xladdin.domain.register import build_register
from xladdin.domain.validate import ROW_COLUMNS, Checked
from xladdin.notices.archive import new_problems, register_reports
from xladdin.store.history import Store

from .conftest import examples

AS_OF = dt.date(2026, 11, 24)
GROUPS = ["甲组", "乙组"]
PROJECTS = ["P1", "P2", "P3", "P4"]
REGISTRY = pd.DataFrame({"project_id": PROJECTS, "project_name": [f"项目{p}" for p in PROJECTS],
                         "group": ["甲组", "甲组", "乙组", "乙组"], "leader": ["张", "李", "王", "赵"]})

row = st.fixed_dictionaries({
    "project_id": st.sampled_from(PROJECTS), "plot": st.sampled_from(["", "", "东"]),
    **{k: st.sampled_from([0.0, 1.0, 5.0]) for k in FIGURE_KEYS}, "net_land": st.just("否"),
    "net_land_date": st.just(None),
    "problems": st.sampled_from(["", "", "缺资金", "待评估", "缺资金；待评估", "群众不配合"]),
    "next_steps": st.sampled_from(["", "协调", "约谈"]),
})
submission = st.tuples(st.sampled_from(GROUPS), st.integers(0, 12), st.lists(row, max_size=4))
campaign = st.lists(st.tuples(st.lists(submission, min_size=1, max_size=5), st.booleans()), min_size=1, max_size=6)


def checked(group: str, day: int, rows: list[dict]) -> Checked:
    frame = pd.DataFrame([{**r, "row": 5 + i} for i, r in enumerate(rows)], columns=list(ROW_COLUMNS))
    frame = frame.drop_duplicates(["project_id", "plot"])
    return Checked(file=f"{group}{day}.xlsx", sheet="进度台账", group=group,
                   report_date=AS_OF - dt.timedelta(days=day), rows=frame)


def every_report(store: Store, as_of: dt.date) -> pd.DataFrame:
    """What the register was built from before problem_runs: every project report up to as_of."""
    frame = pd.read_sql_query("SELECT project_id, report_date, problems, next_steps FROM project_reports"
                              " WHERE report_date<=?", store.db, params=(as_of.isoformat(),))
    frame["report_date"] = [dt.date.fromisoformat(d) for d in frame["report_date"]]
    return frame


def every_new_problem(store: Store, since: dt.date, as_of: dt.date) -> list:
    """new_problems as it was computed from every project report."""
    names = dict(zip(REGISTRY["project_id"], REGISTRY["project_name"]))
    groups = dict(zip(REGISTRY["project_id"], REGISTRY["group"]))
    rows = store.db.execute("SELECT project_id, report_date, problems, next_steps FROM project_reports"
                            " WHERE report_date<=? ORDER BY project_id, report_date", (as_of.isoformat(),)).fetchall()
    seen: dict[str, set[str]] = {}
    found: dict[tuple[str, str], str] = {}
    for project, date, problems, steps in rows:
        known = seen.setdefault(project, set())
        for problem in (p.strip() for p in (problems or "").replace("；", "\n").splitlines()):
            if problem and problem not in known and date > since.isoformat() and project in names:
                found[(project, problem)] = steps or ""
            known.add(problem)
    return [(str(names[p]), str(groups[p]), problem, steps) for (p, problem), steps in found.items()]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(campaign)
def test_the_register_and_new_problems_from_runs_equal_those_from_every_report(tmp_path, runs):
    path = tmp_path / "store.sqlite"
    path.unlink(missing_ok=True)
    store = Store(path)
    try:
        received = dt.datetime(2026, 11, 24, 9)
        for submissions, undo in runs:
            run = store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
            for n, (group, day, rows) in enumerate(submissions):
                store.record(checked(group, day, rows), f"{run}-{n}-{group}{day}", received)
            if undo:
                store.roll_back(run)
            store.commit()
        previous = [{"project": "项目P1", "problem": "缺资金", "status": "已销号"}]
        for as_of in (AS_OF, AS_OF - dt.timedelta(days=3), AS_OF - dt.timedelta(days=9)):
            want = build_register(every_report(store, as_of), REGISTRY, as_of, previous)
            got = build_register(register_reports(store, as_of), REGISTRY, as_of, previous)
            pd.testing.assert_frame_equal(got, want)
            for since in (as_of - dt.timedelta(days=1), as_of - dt.timedelta(days=7)):
                assert new_problems(store, REGISTRY, since, as_of) == every_new_problem(store, since, as_of)
        incremental = pd.read_sql_query("SELECT * FROM problem_runs ORDER BY project_id, first_date", store.db)
        store.rebuild_reports()
        rebuilt = pd.read_sql_query("SELECT * FROM problem_runs ORDER BY project_id, first_date", store.db)
        pd.testing.assert_frame_equal(incremental, rebuilt)
    finally:
        store.close()


def test_a_store_without_problem_runs_gains_them_on_opening(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
    for day, problem in ((3, "缺资金"), (2, "缺资金"), (1, "")):
        store.record(checked("甲组", day, [{"project_id": "P1", "plot": "", **{k: 1.0 for k in FIGURE_KEYS},
                                            "net_land": "否", "net_land_date": None, "problems": problem,
                                            "next_steps": ""}]), f"s{day}", dt.datetime(2026, 11, 24, 9))
    store.commit()
    expected = store.db.execute("SELECT * FROM problem_runs ORDER BY first_date").fetchall()
    assert [(first, last, text) for _, first, last, text, _ in expected] == [
        ("2026-11-21", "2026-11-22", "缺资金"), ("2026-11-23", "2026-11-23", "")]
    store.db.execute("DELETE FROM problem_runs")  # as a store written before the table existed
    store.commit()
    store.close()
    store = Store(tmp_path / "store.sqlite")
    try:
        assert store.db.execute("SELECT * FROM problem_runs ORDER BY first_date").fetchall() == expected
    finally:
        store.close()


def _steps_of_a_day(path, history_days: int) -> dict[str, int]:
    """SQLite virtual-machine steps (in hundreds) of recording a day and of the register's and the new
    problems' reads, after `history_days` days of five groups where a third of the projects name the same
    problem every day (the cost follows the changes of the text, not the days between them)."""
    groups = [f"组{g}" for g in range(5)]
    projects = {g: [f"{g}-P{p}" for p in range(20)] for g in groups}
    registry = pd.DataFrame({"project_id": [p for g in groups for p in projects[g]],
                             "project_name": [p for g in groups for p in projects[g]],
                             "group": [g for g in groups for _ in projects[g]]})

    def report(group: str, day: int) -> Checked:
        rows = pd.DataFrame([{"project_id": p, "plot": "", **{k: float(100 - day) for k in FIGURE_KEYS},
                              "net_land": "否", "net_land_date": None,
                              "problems": f"问题{i}" if i % 3 == 0 else "", "next_steps": "协调", "row": 5 + i}
                             for i, p in enumerate(projects[group])], columns=list(ROW_COLUMNS))
        return Checked(file=f"{group}{day}.xlsx", sheet="进度台账", group=group,
                       report_date=AS_OF - dt.timedelta(days=day), rows=rows)

    store = Store(path)
    try:
        received = dt.datetime(2026, 11, 24, 9)
        store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
        for day in range(history_days, 0, -1):
            for group in groups:
                store.record(report(group, day), f"{group}{day}", received)
        store.commit()
        store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
        steps: dict[str, int] = {}

        def count(name: str, work) -> None:
            calls = [0]

            def tick() -> int:
                calls[0] += 1
                return 0

            store.db.set_progress_handler(tick, 100)
            work()
            store.db.set_progress_handler(None, 100)
            steps[name] = calls[0]

        count("record a day", lambda: ([store.record(report(g, 0), f"{g}-today", received) for g in groups],
                                       store.commit()))
        count("register", lambda: register_reports(store, AS_OF))
        count("new problems", lambda: new_problems(store, registry, AS_OF - dt.timedelta(days=1), AS_OF))
        return steps
    finally:
        store.close()


def test_the_registers_reads_cost_the_same_however_long_the_history(tmp_path):
    short = _steps_of_a_day(tmp_path / "short.sqlite", 14)
    long = _steps_of_a_day(tmp_path / "long.sqlite", 112)
    for name, work in short.items():
        assert long[name] <= 1.5 * work + 20, (name, work, long[name])
