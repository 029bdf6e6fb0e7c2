"""Reading and checking on several cores gives what one file at a time gives."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from xladdin.engine.model import NEW_ACCEPTED, NEW_REJECTED
from xladdin.engine.pipeline import execute
from xladdin.engine.reading import PARALLEL_FROM
from xladdin.workbook.ledger import build_ledger

from .campaigns import AS_OF, generate, seed_history


def campaign(directory):
    """PARALLEL_FROM groups' files for AS_OF, plus the day before from one group with larger figures:
    its AS_OF file then decreases, which only a check after the day before can see."""
    master = generate(directory, PARALLEL_FROM + 2, 3)
    group = "第0001工作组"
    earlier = [{"project_id": f"P0000-{r:03d}", "project_name": "", "acquired_mu": 49.0, "houses_agreed": 0,
                "houses_demolished": 0, "crops": 0, "fixtures": 0, "graves": 0, "cleared_mu": 0.0, "net_land": "否"}
               for r in range(3)]
    day_before = AS_OF - dt.timedelta(days=1)
    build_ledger(group, pd.DataFrame(columns=["group"]), day_before, earlier).save(
        directory / "报送" / f"{group}_{day_before:%m%d}.xlsx")
    return master


def outcomes(master, workers):
    result = execute(master, as_of=AS_OF, workers=workers)
    return {f.file: (f.status, sorted(i.code for i in f.issues)) for f in result.files}


def test_two_workers_decide_every_file_as_one_does(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    serial = outcomes(campaign(tmp_path / "one"), 1)
    parallel = outcomes(campaign(tmp_path / "two"), 2)
    assert parallel == serial
    # The group that sent two days: its later file is checked against the earlier one, and falls below it.
    assert serial["第0001工作组_1123.xlsx"][0] == NEW_ACCEPTED
    status, codes = serial["第0001工作组_1124.xlsx"]
    assert status == NEW_REJECTED and "cumulative-decreased" in codes
    assert sum(s == NEW_ACCEPTED for s, _ in serial.values()) == PARALLEL_FROM + 2


def test_the_previous_ranking_is_recomputed_once_and_again_when_its_history_changes(tmp_path, monkeypatch):
    """No run published ranks at the period's start: the first run recomputes them from the history
    and keeps them; later runs reuse them until a report on or before that date changes the history."""
    from xladdin.domain.validate import ROW_COLUMNS, Checked
    from xladdin.engine import pipeline
    from xladdin.store.history import Store
    from xladdin.workbook.package import MasterBook

    master = generate(tmp_path, 4, 3)
    seed_history(master, 10)
    recomputed = []  # the dates a ranking was recomputed from the history for (and kept)
    real_save = Store.save_derived_ranking

    def counted(self, as_of, unit_kind, basis, ranking):
        recomputed.append(as_of)
        return real_save(self, as_of, unit_kind, basis, ranking)

    monkeypatch.setattr(Store, "save_derived_ranking", counted)
    first = execute(master, as_of=AS_OF, workers=1)
    start = first.period_start
    assert recomputed == [start]
    prev = [f"{key}_prev" for key in ("acquisition_rate", "progress_ratio")]
    assert first.ranking[prev].notna().all().all()
    again = execute(master, as_of=AS_OF, workers=1)
    assert recomputed == [start]  # kept, not recomputed
    pd.testing.assert_frame_equal(again.ranking[["unit", *prev]], first.ranking[["unit", *prev]])

    # A correction of the report on the period's first day (stored directly) changes those ranks.
    book = MasterBook.open(master)
    store = Store(master.parent / book.settings().store)
    late = pd.DataFrame([{"project_id": f"P0000-{r:03d}", "plot": "", "acquired_mu": 500.0, "houses_agreed": 0,
                          "houses_demolished": 40, "crops": 0, "fixtures": 0, "fixtures_removed": 0, "graves": 0, "cleared_mu": 0.0,
                          "net_land": "否", "net_land_date": None, "problems": "", "next_steps": "", "row": 5 + r}
                         for r in range(3)], columns=list(ROW_COLUMNS))
    store.begin_run(AS_OF, "run", dt.datetime.combine(AS_OF, dt.time(21)))
    store.record(Checked(file="late.xlsx", sheet="进度台账", group="第0001工作组",
                         report_date=start, rows=late), "late", dt.datetime(2026, 11, 24))
    store.commit()
    store.close()
    later = execute(master, as_of=AS_OF, workers=1)
    assert recomputed == [start, start]
    assert first.ranking.set_index("unit").at["第0001工作组", "acquisition_rate_prev"] == 4
    assert later.ranking.set_index("unit").at["第0001工作组", "acquisition_rate_prev"] == 1
    monkeypatch.undo()
    # What it kept is what a recomputation gives.
    store = Store(master.parent / book.settings().store)
    try:
        kept = pipeline.previous_ranking(store, book.registry(), start, book.settings())
        store.db.execute("DELETE FROM derived_ranks")
        fresh = pipeline.previous_ranking(store, book.registry(), start, book.settings())
    finally:
        store.close()
    rank_columns = [c for c in kept.columns if c.endswith("_rank")]
    pd.testing.assert_frame_equal(kept.set_index("unit")[rank_columns].astype(float),
                                  fresh.set_index("unit")[rank_columns].astype(float), check_like=True)


def test_a_registry_read_before_is_reused_until_staff_change_it(tmp_path, monkeypatch):
    import openpyxl

    from xladdin.workbook.package import MasterBook

    master = generate(tmp_path, 3, 2)
    execute(master, as_of=AS_OF, workers=1)
    reads = []
    real = MasterBook.registry
    monkeypatch.setattr(MasterBook, "registry", lambda self: reads.append(self.path) or real(self))
    execute(master, as_of=AS_OF, workers=1)
    assert reads == []  # the run before kept it, and its sheet is unchanged
    pd.testing.assert_frame_equal(jobs_registry(master), real(MasterBook.open(master)))

    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["项目清单"]
    header = next(r for r in ws.iter_rows() if any(c.value == "计划征地面积(亩)" for c in r))
    column = next(c.column for c in header if c.value == "计划征地面积(亩)")
    row = next(r[0].row for r in ws.iter_rows(min_row=header[0].row + 1) if r[0].value == "P0000-000")
    ws.cell(row, column).value = 1000
    wb.save(master)
    changed = execute(master, as_of=AS_OF, workers=1)
    assert len(reads) == 1
    assert changed.summary.set_index("project_id").at["P0000-000", "plan_mu"] == 1000
    pd.testing.assert_frame_equal(jobs_registry(master), real(MasterBook.open(master)))


def jobs_registry(master):
    """The registry the last run kept in the store for the 项目清单 as it stands now."""
    from xladdin.store.history import Store
    from xladdin.workbook.package import MasterBook

    book = MasterBook.open(master)
    store = Store(master.parent / book.settings().store)
    try:
        kept = store.kept_frame("registry", book.registry_key())
    finally:
        store.close()
    assert kept is not None, "the run did not keep the registry it read"
    return kept
