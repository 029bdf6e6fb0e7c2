"""The history store's per-project reports agree with the in-memory consolidation, whatever the order
of submissions, corrections and roll-backs (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xladdin.base.schema import FIGURE_KEYS
from xladdin.domain.consolidate import acquisition_trend, project_lines, project_reports
from xladdin.domain.validate import ROW_COLUMNS, Checked
from xladdin.store import schema as store_schema
from xladdin.store import sql as store_sql
from xladdin.store.history import Store

from .conftest import examples

AS_OF = dt.date(2026, 11, 24)
GROUPS = ["甲组", "乙组"]
PROJECTS = ["P1", "P2", "P3", "P4"]

figure = st.sampled_from([0.0, 1.0, 2.5, 10.0, 10.0 + 1e-12, 30.0])
row = st.fixed_dictionaries({
    "project_id": st.sampled_from(PROJECTS), "plot": st.sampled_from(["", "东", "西"]),
    **{k: figure for k in FIGURE_KEYS}, "net_land": st.sampled_from(["是", "否"]),
    "net_land_date": st.sampled_from([None, dt.date(2026, 11, 1), dt.date(2026, 11, 9)]),
    "problems": st.sampled_from(["", "缺资金", "待评估"]), "next_steps": st.sampled_from(["", "协调"]),
})
submission = st.tuples(st.sampled_from(GROUPS), st.integers(0, 9), st.lists(row, max_size=5))
# Runs of submissions, each run possibly rolled back afterwards.
campaign = st.lists(st.tuples(st.lists(submission, min_size=1, max_size=4), st.booleans()), min_size=1, max_size=5)


def checked(group: str, day: int, rows: list[dict]) -> Checked:
    frame = pd.DataFrame([{**r, "row": 5 + i} for i, r in enumerate(rows)], columns=list(ROW_COLUMNS))
    frame = frame.drop_duplicates(["project_id", "plot"])  # validation refuses a repeated key
    return Checked(file=f"{group}{day}.xlsx", sheet="进度台账", group=group,
                   report_date=AS_OF - dt.timedelta(days=day), rows=frame)


def assert_same_lines(store: Store, as_of: dt.date) -> None:
    start = as_of - dt.timedelta(days=3)
    rows = store.accepted_rows(as_of)
    expected = project_lines(project_reports(rows), start, as_of).sort_index()
    found = store.project_lines(PROJECTS, start, as_of).sort_index()
    assert list(found.index) == list(expected.index)
    for column in expected.columns:
        for project, want, got in zip(expected.index, expected[column], found[column]):
            if isinstance(want, float) or isinstance(got, float):
                assert (pd.isna(want) and pd.isna(got)) or math.isclose(want, got, abs_tol=1e-6), (project, column)
            else:
                assert want == got, (project, column, want, got)
    trend, stored = acquisition_trend(rows, as_of), store.acquisition_trend(as_of)
    assert list(stored["report_date"]) == list(trend["report_date"])
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(stored["acquired_mu"], trend["acquired_mu"]))


def _rounded(figures: dict) -> dict:
    """Project totals to 1e-9: SQLite and pandas add the same plots in different orders."""
    return {p: {k: round(v, 9) for k, v in values.items()} for p, values in figures.items()}


def assert_same_states(store: Store) -> None:
    """Each group's last two accepted reports, as the store finds them by index, equal those taken
    from every accepted row."""
    rows = store.accepted_rows()
    expected = {}
    for group, mine in rows.groupby("group_name"):
        state = None
        for date in sorted(set(mine["report_date"]))[-2:]:
            totals = mine[mine["report_date"] == date].groupby("project_id")[list(FIGURE_KEYS)].sum()
            state = (date, _rounded(totals.to_dict("index")), state)
        expected[group] = state

    def plain(state):
        return None if state is None else (state.report_date, _rounded(state.figures), plain(state.before))

    for groups in (None, GROUPS[:1]):
        found = {group: plain(state) for group, state in store.group_states(groups).items()}
        assert found == {g: s for g, s in expected.items() if groups is None or g in groups}


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(campaign)
def test_store_lines_equal_the_lines_computed_from_every_row(tmp_path, runs):
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
        for as_of in (AS_OF, AS_OF - dt.timedelta(days=4)):
            assert_same_lines(store, as_of)
        for limit in (1, 3, 7, 1000):  # the 历史 window read by (date, group) equals sorting every row
            since = AS_OF - dt.timedelta(days=6)
            window = store.recent_rows(since, AS_OF, limit)
            every = pd.read_sql_query(
                "SELECT r.report_date, r.group_name, r.sheet_row FROM ledger_rows r WHERE r.report_date>? AND"
                " r.report_date<=? ORDER BY r.report_date DESC, r.group_name, r.sheet_row LIMIT ?", store.db,
                params=(since.isoformat(), AS_OF.isoformat(), limit))
            assert [(d.isoformat(), g, r) for d, g, r in zip(window["report_date"], window["group_name"],
                                                             window["sheet_row"])] == list(every.itertuples(
                index=False, name=None))
        assert_same_states(store)
        incremental = pd.read_sql_query("SELECT * FROM project_reports ORDER BY project_id, report_date", store.db)
        days = pd.read_sql_query("SELECT * FROM daily_steps ORDER BY report_date", store.db)
        store.rebuild_reports()
        rebuilt = pd.read_sql_query("SELECT * FROM project_reports ORDER BY project_id, report_date", store.db)
        pd.testing.assert_frame_equal(incremental, rebuilt)
        pd.testing.assert_frame_equal(days, pd.read_sql_query("SELECT * FROM daily_steps ORDER BY report_date",
                                                              store.db))
    finally:
        store.close()


def test_a_store_from_before_project_reports_is_brought_up_to_date(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
    store.record(checked("甲组", 1, [{"project_id": "P1", "plot": "", **{k: 2.0 for k in FIGURE_KEYS},
                                     "net_land": "否", "net_land_date": None, "problems": "", "next_steps": ""}]),
                 "a", dt.datetime(2026, 11, 24, 9))
    store.commit()
    store.db.execute("DELETE FROM project_reports")  # as an older xladdin left it
    store.db.execute("DROP TABLE daily_steps")
    store.db.execute("PRAGMA user_version=0")
    store.commit()
    store.close()
    store = Store(tmp_path / "store.sqlite")
    try:
        lines = store.project_lines(["P1"], AS_OF - dt.timedelta(days=7), AS_OF)
        assert lines.at["P1", "acquired_mu"] == 2.0
        assert lines.at["P1", "last_report"] == AS_OF - dt.timedelta(days=1)
        trend = store.acquisition_trend(AS_OF)
        assert list(trend["report_date"]) == [AS_OF - dt.timedelta(days=1)] and list(trend["acquired_mu"]) == [2.0]
    finally:
        store.close()


def _steps_of_a_day(path, history_days: int) -> dict[str, int]:
    """SQLite virtual-machine steps (in hundreds) of each store read a day's run makes, after
    `history_days` days of five groups' reports: a count of work done, not a time."""
    groups = [f"组{g}" for g in range(5)]
    projects = {g: [f"{g}-P{p}" for p in range(20)] for g in groups}

    def report(group: str, day: int, acquired: float) -> Checked:
        rows = pd.DataFrame([{"project_id": p, "plot": "", **{k: acquired for k in FIGURE_KEYS}, "net_land": "否",
                              "net_land_date": None, "problems": "", "next_steps": "", "row": 5 + i}
                             for i, p in enumerate(projects[group])], columns=list(ROW_COLUMNS))
        return Checked(file=f"{group}{day}.xlsx", sheet="进度台账", group=group,
                       report_date=AS_OF - dt.timedelta(days=day), rows=rows)

    store = Store(path)
    try:
        received = dt.datetime(2026, 11, 24, 9)
        store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
        for day in range(history_days, 0, -1):
            for group in groups:
                store.record(report(group, day, float(history_days - day)), f"{group}{day}", received)
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

        count("record a day", lambda: (store.record(report("组0", 0, 99.0), "today", received), store.commit()))
        count("states", lambda: store.group_states({"组0"}))
        count("lines", lambda: store.project_lines(projects["组0"], AS_OF - dt.timedelta(days=7), AS_OF))
        count("历史 window", lambda: store.recent_rows(AS_OF - dt.timedelta(days=5), AS_OF, 40))
        return steps
    finally:
        store.close()


def test_a_days_reads_cost_the_same_however_long_the_history(tmp_path):
    """The run reads by key: eight times the history must not mean eight times the work (a join the
    planner turned into a scan of every stored row made the 历史 window cost 2 s at province size)."""
    short = _steps_of_a_day(tmp_path / "short.sqlite", 10)
    long = _steps_of_a_day(tmp_path / "long.sqlite", 80)
    for name, work in short.items():
        assert long[name] <= 1.5 * work + 20, (name, work, long[name])


def test_a_store_from_before_the_removed_fixtures_column_gains_it(tmp_path):
    import sqlite3

    old_keys = [k for k in FIGURE_KEYS if k != "fixtures_removed"]
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE ledger_rows (sha256 TEXT NOT NULL, group_name TEXT NOT NULL, report_date TEXT NOT NULL,"
        " project_id TEXT NOT NULL, plot TEXT NOT NULL, " + ", ".join(f"{k} REAL NOT NULL" for k in old_keys) +
        ", net_land TEXT NOT NULL, net_land_date TEXT, problems TEXT NOT NULL, next_steps TEXT NOT NULL,"
        " sheet_row INTEGER NOT NULL, superseded INTEGER NOT NULL DEFAULT 0, run_id INTEGER, superseded_run INTEGER);")
    db.execute(f"INSERT INTO ledger_rows VALUES ({','.join('?' * (len(old_keys) + 13))})",
               ("old", "甲组", (AS_OF - dt.timedelta(days=2)).isoformat(), "P1", "", *[3.0] * len(old_keys), "否", None,
                "", "", 5, 0, None, None))
    db.commit()
    db.close()
    store = Store(path)
    store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
    new = {k: 4.0 for k in FIGURE_KEYS}
    store.record(checked("甲组", 0, [{"project_id": "P1", "plot": "", **new, "net_land": "否", "net_land_date": None,
                                    "problems": "", "next_steps": ""}]), "new", dt.datetime(2026, 11, 24, 20))
    store.commit()
    lines = store.project_lines(["P1"], AS_OF - dt.timedelta(days=7), AS_OF)
    store.close()
    assert lines.at["P1", "fixtures_removed"] == 4.0 and lines.at["P1", "acquired_mu"] == 4.0
    reopened = Store(path)
    old = reopened.accepted_rows(AS_OF - dt.timedelta(days=1))
    reopened.close()
    assert list(old["fixtures_removed"]) == [0.0] and list(old["acquired_mu"]) == [3.0]  # old rows: 0


def test_reads_never_write_and_refuse_to_read_rows_not_yet_derived(tmp_path):
    """Deriving project reports is one explicit call (refresh_derived) in the pipeline; a read made
    between recording and that call is a programming error, and reads change nothing in the database."""
    import pytest

    store = Store(tmp_path / "store.sqlite")
    try:
        store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
        figures = {k: 0.0 for k in FIGURE_KEYS}
        rows = [{**figures, "project_id": "P1", "plot": "", "acquired_mu": 5.0, "net_land": "否", "net_land_date": None,
                 "problems": "", "next_steps": ""},
                {**figures, "project_id": "P2", "plot": "", "acquired_mu": 2.0, "net_land": "否", "net_land_date": None,
                 "problems": "", "next_steps": ""}]
        store.record(checked(GROUPS[0], 0, rows), "sha-1", dt.datetime(2026, 11, 24, 9))
        with pytest.raises(RuntimeError, match="refresh_derived"):
            store.acquisition_trend(AS_OF)
        store.refresh_derived()
        store.commit()
        stored = (tmp_path / "store.sqlite").read_bytes()
        trend = store.acquisition_trend(AS_OF)
        lines = store.project_lines(["P1", "P2"], AS_OF - dt.timedelta(days=7), AS_OF)
        assert store.reported_by(AS_OF) and store.derived_ranking(AS_OF, "工作组", "x") is None
        store.commit()
        assert (tmp_path / "store.sqlite").read_bytes() == stored  # no read wrote to the database
        assert list(trend["acquired_mu"]) == [7.0] and sorted(lines.index) == ["P1", "P2"]
    finally:
        store.close()


def _prepare(db: sqlite3.Connection, statement: str) -> None:
    """Compile a statement without running it (EXPLAIN), its parameters bound to NULL: an unknown table
    or column fails here."""
    names = re.findall(r":(\w+)", statement)
    db.execute("EXPLAIN " + statement, dict.fromkeys(names) if names else (None,) * statement.count("?")).fetchall()


def _named_statements() -> dict[str, str]:
    """Every statement constant of store_sql and store_schema but SCHEMA itself (the script a new store runs)."""
    return {name: value for module in (store_sql, store_schema) for name, value in vars(module).items()
            if name.isupper() and not name.startswith("_") and isinstance(value, str) and name != "SCHEMA"}


def test_every_named_statement_compiles_against_a_new_store(tmp_path):
    """Each statement the store runs names tables and columns a store of the current layout has; the
    temporary tables the others read come from their own statements (CREATE_TEMP_*) first."""
    statements = _named_statements()
    assert len(statements) > 80
    store = Store(tmp_path / "store.sqlite")
    try:
        for name, statement in statements.items():
            if name.startswith("CREATE_TEMP_"):
                store.db.execute(statement)
        failed = {}
        for name, statement in statements.items():
            try:
                _prepare(store.db, statement)
            except sqlite3.Error as error:
                failed[name] = str(error)
        assert failed == {}
        for (table, key), statement in store_schema.ADD_COLUMN.items():  # on a store from before `key`
            store.db.execute("SAVEPOINT older")
            store.db.execute(f"ALTER TABLE {table} DROP COLUMN {key}")
            _prepare(store.db, statement)
            store.db.execute("ROLLBACK TO older")
            store.db.execute("RELEASE older")
    finally:
        store.close()
