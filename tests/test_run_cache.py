"""A second click with nothing new takes the figures the last run kept (engine/runcache.py) and publishes
exactly what computing them again would: the master's every value, the run's answer. Anything the figures
depend on — a new or corrected file, a withdrawal, a rollback, a staff edit of the master, another date or
command, an upload recorded between runs, a new day on the clock — makes the run compute them again."""

from __future__ import annotations

import datetime as dt
import io
import os
import pickle
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import AS_OF, RUN_AT, examples
from tests.ledgers import GROUP, ledger
from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.schema import SHEET_CONSOLE, SHEET_MILESTONES, SHEET_REGISTER, SHEET_REGISTRY, SHEET_SETTINGS
from xladdin.demo import MASTER_NAME
from xladdin.engine import pipeline, runcache
from xladdin.engine.operations import Engine
from xladdin.engine.rollback import roll_back
from xladdin.notices.compose import DAILY, LEADER, WEEKLY
from xladdin.store import sql
from xladdin.store.history import KEPT_FIGURES, KEPT_REGIONS, Store

STORE = "历史库.sqlite"
INBOX = "报送"
OTHER_GROUP = "城北片区工作组"


@pytest.fixture
def campaign(demo, tmp_path) -> Path:
    """The demo campaign's folder after its first run (master, store, inbox), copied for a test to change."""
    return _copy_demo(demo, tmp_path / "campaign")


def _copy_demo(demo, target: Path) -> Path:
    shutil.copytree(demo[0], target)
    return target / MASTER_NAME


@contextmanager
def counting(monkeypatch_or_none=None):
    """Counts of the work a run does: figures computed, the store's per-project lines read."""
    counts = {"figures": 0, "lines": 0}
    figures, lines = pipeline._figures, Store.project_lines

    def count_figures(*args, **kwargs):
        counts["figures"] += 1
        return figures(*args, **kwargs)

    def count_lines(self, *args, **kwargs):
        counts["lines"] += 1
        return lines(self, *args, **kwargs)

    pipeline._figures, Store.project_lines = count_figures, count_lines
    try:
        yield counts
    finally:
        pipeline._figures, Store.project_lines = figures, lines


@contextmanager
def without_cache():
    """Runs as before the cache: every kept result ignored (what a miss does)."""
    kept = pipeline.kept_result
    pipeline.kept_result = lambda store, key: None
    try:
        yield
    finally:
        pipeline.kept_result = kept


def published(master: Path) -> dict[str, list]:
    """Every value of every sheet, but the run's duration on 控制台 (用时: a stopwatch, not a figure)."""
    book = python_calamine.CalamineWorkbook.from_path(str(master))
    sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    sheets[SHEET_CONSOLE] = [row for row in sheets[SHEET_CONSOLE] if "用时" not in row]
    folder = str(master.parent)  # the two copies' folders differ (收件箱 on 控制台)
    return {name: [[v.replace(folder, "…") if isinstance(v, str) else v for v in row] for row in rows]
            for name, rows in sheets.items()}


def answer(result) -> dict:
    """What the run answers its caller (the --json output and the notice), but its duration."""
    out = result.to_dict()
    out.pop("seconds")
    folder = str(Path(out.pop("master")).parent)
    out["inbox"] = out["inbox"] and out["inbox"].replace(folder, "…")
    return {**out, "notice": result.notice, "notice_sheet": result.notice_sheet}


def job(master: Path, now: dt.datetime, command: str = "run", as_of: dt.date | None = None, kind: str = DAILY):
    engine = Engine.on_file(master, now=now)
    if command == "run":
        return engine.run(as_of=as_of, workers=1)
    if command == "consolidate":
        return engine.consolidate(as_of=as_of, workers=1)
    if command == "rank":
        return engine.rank(as_of=as_of)
    return engine.notice(as_of=as_of, kind=kind)


# -- the second click --------------------------------------------------------------------------------------

def test_a_second_click_computes_nothing_and_publishes_what_computing_would(demo, tmp_path):
    cached, plain = _copy_demo(demo, tmp_path / "cached"), _copy_demo(demo, tmp_path / "plain")
    for master in (cached, plain):
        job(master, RUN_AT)  # the first click computes (and keeps) the figures
    later = RUN_AT + dt.timedelta(minutes=7)
    with counting() as counts:
        second = job(cached, later)
    assert counts == {"figures": 0, "lines": 0}  # neither the figures nor the store's lines they are read from
    with without_cache(), counting() as counts:
        again = job(plain, later)
    assert counts["figures"] == 1
    assert published(cached) == published(plain)
    assert answer(second) == answer(again)
    console = [row for row in published(cached)[SHEET_CONSOLE] if row and row[0] == "运行时间"]
    assert console == [["运行时间", later.strftime("%Y-%m-%d %H:%M:%S")] + [""] * (len(console[0]) - 2)]


@pytest.mark.parametrize("command, kind", [("consolidate", DAILY), ("rank", DAILY), ("notice", DAILY),
                                           ("notice", WEEKLY), ("notice", LEADER)])
def test_every_command_clicked_twice_computes_once(demo, tmp_path, command, kind):
    cached, plain = _copy_demo(demo, tmp_path / "cached"), _copy_demo(demo, tmp_path / "plain")
    for master in (cached, plain):
        job(master, RUN_AT, command, kind=kind)
    later = RUN_AT + dt.timedelta(minutes=4)
    with counting() as counts:
        second = job(cached, later, command, kind=kind)
    assert counts["figures"] == 0
    with without_cache():
        again = job(plain, later, command, kind=kind)
    assert published(cached) == published(plain)
    assert answer(second) == answer(again)
    assert [n.lines() for n in second.leaders] == [n.lines() for n in again.leaders]


def test_a_third_click_still_finds_the_figures_under_the_master_the_second_saved(campaign):
    job(campaign, RUN_AT)
    job(campaign, RUN_AT + dt.timedelta(minutes=1))
    with counting() as counts:
        job(campaign, RUN_AT + dt.timedelta(minutes=2))
    assert counts["figures"] == 0


@pytest.mark.parametrize("sheet, label, value", [
    (SHEET_SETTINGS, "临期天数", 11),
    (SHEET_REGISTRY, "计划征地面积(亩)", 999),
    (SHEET_MILESTONES, "…·责任人", "王五"),
    (SHEET_REGISTER, "责任人", "赵六"),
])
def test_a_staff_edit_of_one_cell_computes_the_figures_again(demo, tmp_path, sheet, label, value):
    cached, plain = _copy_demo(demo, tmp_path / "cached"), _copy_demo(demo, tmp_path / "plain")
    for master in (cached, plain):
        job(master, RUN_AT)
        staff_edit(master, sheet, label, value)
    later = RUN_AT + dt.timedelta(minutes=3)
    with counting() as counts:
        result = job(cached, later)
    assert counts["figures"] == 1
    with without_cache():
        expected = job(plain, later)
    assert published(cached) == published(plain)
    assert answer(result) == answer(expected)


def test_a_run_that_answered_a_staff_request_is_not_taken_for_the_next(demo, tmp_path):
    """A request in 督办台账 (并入编号) is met once: the run that reads it says what it could not do on the
    title, the table it writes no longer holds the request, so the next run, computing, says nothing."""
    cached, plain = _copy_demo(demo, tmp_path / "cached"), _copy_demo(demo, tmp_path / "plain")
    for master in (cached, plain):
        staff_edit(master, SHEET_REGISTER, "并入编号", "ZZ-99")  # not an item of the same project
        job(master, RUN_AT)
    assert any("未合并" in str(v) for row in published(cached)[SHEET_REGISTER] for v in row)
    later = RUN_AT + dt.timedelta(minutes=2)
    job(cached, later)
    with without_cache():
        job(plain, later)
    assert published(cached) == published(plain)
    assert not any("未合并" in str(v) for row in published(cached)[SHEET_REGISTER] for v in row)


def staff_edit(master: Path, sheet: str, label: str, value: object) -> None:
    """What staff do in Excel: one cell changed and the file saved. In 设置 the value of the setting
    `label`; elsewhere the first data row's cell under the heading `label`."""
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb[sheet]
    if sheet == SHEET_SETTINGS:
        row = next(r for r in ws.iter_rows() if r[0].value == label)
        row[1].value = value
    else:  # a label "…X" names the first heading ending in X (节点计划: "报批·计划(录入)", "报批·责任人")
        def found(cell) -> bool:
            text = str(cell.value or "")
            return text.endswith(label[1:]) if label.startswith("…") else text == label
        header = next(r for r in ws.iter_rows() if any(found(c) for c in r))
        column = next(c.column for c in header if found(c))
        ws.cell(header[0].row + 1, column).value = value
    wb.save(master)


@pytest.mark.parametrize("change", ["new file", "correction", "upload recorded", "new day", "other date",
                                    "other command", "weekly notice", "withdraw", "rollback"])
def test_a_change_the_figures_depend_on_computes_them_again(campaign, change):
    now = RUN_AT + dt.timedelta(minutes=1)
    job(campaign, RUN_AT)
    inbox = campaign.parent / INBOX
    command, as_of, kind = "run", None, DAILY
    if change == "new file":
        ledger(inbox, "城北_新.xlsx", group=OTHER_GROUP, acquired=3.0)
    elif change == "correction":
        job(campaign, RUN_AT + dt.timedelta(seconds=30))  # kept first: the correction alone must miss
        ledger(inbox, "城南_更正.xlsx", acquired=12.25)
    elif change == "upload recorded":
        store = Store(campaign.parent / STORE)
        store.record_upload("x.xlsx", "x.xlsx", GROUP, RUN_AT, "127.0.0.1", "0" * 64, 1, "已接收", None, {})
        store.commit()
        store.close()
    elif change == "new day":
        now = RUN_AT + dt.timedelta(hours=3)  # past midnight: as_of is the clock's new date
    elif change == "other date":
        as_of = AS_OF - dt.timedelta(days=1)
    elif change == "other command":
        command = "rank"
    elif change == "weekly notice":
        command, kind = "notice", WEEKLY
    elif change == "withdraw":
        accepted = Store(campaign.parent / STORE)
        name = accepted.rows("SELECT file_name FROM submissions WHERE status='已接收' LIMIT 1")[0][0]
        accepted.close()
        with counting() as counts:
            Engine.on_file(campaign, now=now).withdraw(name, who="测试", why="测试")
        assert counts["figures"] == 1
        return
    elif change == "rollback":
        job(campaign, RUN_AT + dt.timedelta(seconds=30))
        roll_back(campaign)
    with counting() as counts:
        job(campaign, now, command, as_of, kind)
    assert counts["figures"] == 1


def test_a_result_kept_under_another_key_or_unreadable_is_not_taken(campaign, tmp_path, monkeypatch):
    job(campaign, RUN_AT)
    monkeypatch.setenv("XLADDIN_STRICT", "0")  # a real run computes afresh (the suite's strict mode raises)
    db = sqlite3.connect(campaign.parent / STORE)
    # A kept result that would call a function of the standard library when read is refused, never run.
    hostile = pickle.dumps(_Hostile(str(tmp_path / "ran")))
    db.execute("UPDATE kept_frames SET frame=? WHERE kind=?", (hostile, KEPT_FIGURES))
    db.commit()
    db.close()
    with counting() as counts:
        job(campaign, RUN_AT + dt.timedelta(minutes=1))
    assert counts["figures"] == 1
    assert not (tmp_path / "ran").exists()


def test_in_strict_mode_a_kept_result_that_cannot_be_read_back_fails(campaign):
    """The suite's strict mode: a type this code keeps and the reader refuses (as the 节点计划's Node was at
    first) is a failure, not a silent recomputation on every click."""
    job(campaign, RUN_AT)
    db = sqlite3.connect(campaign.parent / STORE)
    db.execute("UPDATE kept_frames SET frame=? WHERE kind=?", (pickle.dumps(_Hostile("/nonexistent")), KEPT_FIGURES))
    db.commit()
    db.close()
    with pytest.raises(pickle.UnpicklingError):
        job(campaign, RUN_AT + dt.timedelta(minutes=1))


class _Hostile:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


# -- the generation --------------------------------------------------------------------------------------

def test_every_table_but_the_generation_and_the_run_log_is_watched(tmp_path):
    store = Store(tmp_path / STORE)
    tables = {name for name, in store.rows("SELECT name FROM sqlite_master WHERE type='table'")
              if not name.startswith("sqlite")}
    triggers = {name for name, in store.rows(sql.TRIGGER_NAMES)}
    for table in tables - set(sql.UNWATCHED):
        for change in ("insert", "update", "delete"):
            assert any(name.startswith(f"changed_{table}_{change}") for name in triggers), (table, change)
    assert not any(name.startswith(tuple(f"changed_{t}_" for t in sql.UNWATCHED)) for name in triggers)
    store.close()


def test_a_table_a_later_schema_adds_or_rebuilds_is_watched_and_columns_stay_free(tmp_path):
    store = Store(tmp_path / STORE)
    store.db.execute("CREATE TABLE later (a TEXT, b REAL)")
    store.db.execute("ALTER TABLE notices DROP COLUMN voided_run")  # the triggers name no column
    store.commit()
    store.close()
    store = Store(tmp_path / STORE)  # the next opening watches the new table
    first = store.generation()
    store.db.execute("INSERT INTO later VALUES ('x', 1)")
    assert store.generation() != first
    store.close()


def test_the_generation_changes_with_every_write_to_a_watched_table_and_only_then(tmp_path):
    store = Store(tmp_path / STORE)
    first = store.generation()
    assert store.generation() == first
    store.begin_run(AS_OF, "run", RUN_AT)  # the run log: not what figures are made of
    store.keep_text(KEPT_REGIONS, "{}")
    store.keep_blob(KEPT_FIGURES, "key", b"x")
    assert store.generation() == first
    store.keep_text("milestone_leaders", "x")  # a kept frame a run reads
    second = store.generation()
    assert second != first and store.generation() == second
    store.db.execute("INSERT INTO daily_steps VALUES ('2026-11-20', 1.5)")
    third = store.generation()
    store.db.execute("DELETE FROM daily_steps")
    assert len({first, second, third, store.generation()}) == 4
    store.commit()
    store.close()
    other = Store(tmp_path / "other.sqlite")  # another store never draws the same generation
    assert other.generation() not in {first, second, third}
    other.close()


# -- the proof: any sequence, the same published values with the cache as without ----------------------------

RUN = st.tuples(st.just("run"), st.sampled_from(["run", "run", "rank", "consolidate", "notice", "weekly"]),
               st.sampled_from([0, 1, 30, 150, 24 * 60]), st.sampled_from([None, None, 1]),
               st.sampled_from([True, True, False]))  # twice: the second click of the same command
STEP = st.one_of(
    RUN, RUN,
    st.tuples(st.just("file"), st.sampled_from([GROUP, OTHER_GROUP]), st.integers(0, 2),
              st.sampled_from([4.0, 6.5, 11.0])),
    st.tuples(st.just("withdraw")),
    st.tuples(st.just("rollback")),
    st.tuples(st.just("edit"), st.sampled_from([(SHEET_SETTINGS, "临期天数", 9), (SHEET_SETTINGS, "本期天数", 5),
                                                (SHEET_REGISTRY, "计划征地面积(亩)", 321.5),
                                                (SHEET_MILESTONES, "…·责任人", "钱七"),
                                                (SHEET_MILESTONES, "…(录入)", dt.date(2026, 11, 20)),
                                                (SHEET_REGISTER, "责任人", "孙八"),
                                                (SHEET_REGISTER, "并入编号", "ZZ-99")])),
)


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_any_sequence_publishes_the_same_with_kept_figures_as_without(demo, tmp_path_factory, steps):
    base = tmp_path_factory.mktemp("seq")
    cached, plain = _copy_demo(demo, base / "cached"), _copy_demo(demo, base / "plain")
    now = RUN_AT
    files: list[str] = []
    for step in steps:
        if step[0] == "file":
            _, group, days_back, acquired = step
            name = f"{group[:2]}_{len(files)}.xlsx"
            made = ledger(base / "made", name, date=AS_OF - dt.timedelta(days=days_back), group=group,
                          acquired=acquired)
            stamp = (now - dt.timedelta(minutes=5)).timestamp()
            for master in (cached, plain):
                copy = shutil.copy2(made, master.parent / INBOX / name)
                os.utime(copy, (stamp, stamp))
            files.append(name)
        elif step[0] == "withdraw":
            name = files[-1] if files else "城南片区工作组"
            outcomes = [_outcome(lambda m=m: Engine.on_file(m, now=now).withdraw(name, who="测试", why="测试"),
                                 keep) for m, keep in ((cached, None), (plain, without_cache))]
            assert outcomes[0] == outcomes[1]
        elif step[0] == "rollback":
            outcomes = [_outcome(lambda m=m: roll_back(m)[1]) for m in (cached, plain)]
            assert outcomes[0] == outcomes[1]
        elif step[0] == "edit":
            for master in (cached, plain):
                staff_edit(master, *step[1])
        else:
            _, command, minutes, back, twice = step
            for _ in range(2 if twice else 1):
                now += dt.timedelta(minutes=minutes or 1)
                as_of = now.date() - dt.timedelta(days=back) if back else None
                kind = WEEKLY if command == "weekly" else DAILY
                name = "notice" if command == "weekly" else command
                with counting() as counts:
                    with_kept = _outcome(lambda: answer(job(cached, now, name, as_of, kind)))
                if counts["figures"] == 0 and not isinstance(with_kept, tuple):
                    event("a run took the kept figures")
                computed = _outcome(lambda: answer(job(plain, now, name, as_of, kind)), without_cache)
                assert with_kept == computed
        assert published(cached) == published(plain), step


def _outcome(call, context=None):
    """What a step answers, or the error it ends with (both copies must end the same way)."""
    try:
        if context is None:
            return call()
        with context():
            return call()
    except (SettingsError, MasterUnusable) as exc:
        return type(exc).__name__, str(exc).replace("cached", "").replace("plain", "")


def test_a_kept_result_is_read_only_through_the_restricted_reader():
    allowed = runcache._Unpickler(io.BytesIO(pickle.dumps([dt.date(2026, 1, 1)]))).load()
    assert allowed == [dt.date(2026, 1, 1)]
    with pytest.raises(pickle.UnpicklingError):
        runcache._Unpickler(io.BytesIO(pickle.dumps(_Hostile("/nonexistent")))).load()


def test_a_store_whose_watch_could_not_be_set_up_never_names_a_generation_twice(tmp_path):
    Store(tmp_path / STORE).close()
    other = sqlite3.connect(tmp_path / STORE)
    name = next(n for n, in other.execute(sql.TRIGGER_NAMES) if n.startswith("changed_ledger_rows_insert"))
    other.execute(f'DROP TRIGGER "{name}"')
    other.commit()
    other.execute("BEGIN IMMEDIATE")  # another writer holds the store: the trigger cannot be put back now
    store = Store(tmp_path / STORE, timeout=0.05)
    assert store.generation() != store.generation()
    other.rollback()
    other.close()
    store.close()
    store = Store(tmp_path / STORE)  # the next opening puts it back
    assert store.generation() == store.generation()
    store.close()
