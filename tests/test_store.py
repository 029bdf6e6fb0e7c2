"""The history store's per-project reports agree with the in-memory consolidation, whatever the order
of submissions, corrections and roll-backs (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xladdin.consolidate import acquisition_trend, project_lines, project_reports
from xladdin.schema import FIGURE_KEYS
from xladdin.store import Store
from xladdin.validate import ROW_COLUMNS, Checked

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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(campaign)
def test_store_lines_equal_the_lines_computed_from_every_row(tmp_path, runs):
    path = tmp_path / "store.sqlite"
    path.unlink(missing_ok=True)
    store = Store(path)
    try:
        received = dt.datetime(2026, 11, 24, 9)
        for submissions, undo in runs:
            run = store.begin_run(AS_OF, "run")
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
        incremental = pd.read_sql_query("SELECT * FROM project_reports ORDER BY project_id, report_date", store.db)
        store.rebuild_reports()
        rebuilt = pd.read_sql_query("SELECT * FROM project_reports ORDER BY project_id, report_date", store.db)
        pd.testing.assert_frame_equal(incremental, rebuilt)
    finally:
        store.close()


def test_a_store_from_before_project_reports_is_brought_up_to_date(tmp_path):
    store = Store(tmp_path / "store.sqlite")
    store.begin_run(AS_OF, "run")
    store.record(checked("甲组", 1, [{"project_id": "P1", "plot": "", **{k: 2.0 for k in FIGURE_KEYS},
                                     "net_land": "否", "net_land_date": None, "problems": "", "next_steps": ""}]),
                 "a", dt.datetime(2026, 11, 24, 9))
    store.db.execute("DELETE FROM project_reports")  # as an older xladdin left it
    store.commit()
    store.close()
    store = Store(tmp_path / "store.sqlite")
    try:
        lines = store.project_lines(["P1"], AS_OF - dt.timedelta(days=7), AS_OF)
        assert lines.at["P1", "acquired_mu"] == 2.0
        assert lines.at["P1", "last_report"] == AS_OF - dt.timedelta(days=1)
    finally:
        store.close()
