"""A renumbered project keeps its history (issue 27, item 1): 项目清单 › 原编号 moves what the store holds under
the old code to the new one, inside the run's transaction, and a rollback of that run moves it back."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from xladdin.engine.model import NEW_ACCEPTED, NEW_REJECTED
from xladdin.store.history import Store
from xladdin.store.schema import SCHEMA_VERSION

from .test_project_history import D1, D2, D3, SOUTH, STORE, acquired, codes, digest, drop, invoke, outcome, run, south
from .test_project_history import master as master  # noqa: F401  (the fixture)

PROBLEM = "征地补偿款未到位"


def edit_registry(master: Path, project: str, **labels) -> None:
    """Staff change a 项目清单 row in Excel (through openpyxl, keeping the VBA project): each label's cell
    of the row whose 项目编号 is `project` set to its value (None empties the whole row)."""
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["项目清单"]
    table = ws.tables["tblRegistry"]
    first = ws[table.ref.split(":")[0]]
    header = [c.value for c in ws[first.row]][first.column - 1:]
    for r in range(first.row + 1, ws.max_row + 1):
        if ws.cell(r, first.column).value != project:
            continue
        if not labels:
            for c in range(len(header)):
                ws.cell(r, first.column + c).value = None
        for label, value in labels.items():
            ws.cell(r, first.column + header.index(label)).value = value
    wb.save(master)


def name_person(master: Path, project: str, person: str) -> str:
    """Staff type a 责任人 for the project's first 节点 on its row of 节点计划 (heading "报批·责任人"); returns
    that 节点."""
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["节点计划"]
    first = ws[ws.tables["tblMilestones"].ref.split(":")[0]]
    header = [c.value for c in ws[first.row]][first.column - 1:]
    label = next(h for h in header if str(h).endswith("·责任人"))
    for r in range(first.row + 1, ws.max_row + 1):
        if ws.cell(r, first.column).value == project:
            ws.cell(r, first.column + header.index(label)).value = person
            break
    wb.save(master)
    return label.rpartition("·")[0]


def renumber(master: Path, old: str, new: str) -> None:
    edit_registry(master, old, 项目编号=new, 原编号=old)


def _with_new_code(rows: list[dict], old: str, new: str) -> list[dict]:
    return [dict(r, project_id=new) if r["project_id"] == old else r for r in rows]


def line(result, project: str) -> dict:
    return result.summary.set_index("project_id").loc[project].to_dict()


def stored(master: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(master.parent / STORE)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def test_a_renumbered_project_goes_on_from_its_history_instead_of_a_days_gain(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0, SJ_06=40.0))
    run(master, D1)
    renumber(master, "SJ-06", "SJ-60")
    drop(master, "城南_d2.xlsx", SOUTH, D2, _with_new_code(south(21.0, SJ_06=41.0), "SJ-06", "SJ-60"))
    result = run(master, D2)
    assert outcome(result, "城南_d2.xlsx").status == NEW_ACCEPTED
    assert result.renumbered == [("SJ-06", "SJ-60", 1)]
    assert result.to_dict()["renumbered"] == [{"old": "SJ-06", "new": "SJ-60", "submissions": 1}]
    assert "SJ-60" in result.summary["project_id"].tolist() and "SJ-06" not in result.summary["project_id"].tolist()
    sj60 = line(result, "SJ-60")
    assert sj60["acquired_mu"] == pytest.approx(41.0)
    assert sj60["acquired_delta"] == pytest.approx(1.0)  # not 41: the day's gain, against D1 under the old code
    assert stored(master, "SELECT DISTINCT project_id FROM ledger_rows WHERE project_id LIKE 'SJ-06%'") == []
    assert stored(master, "SELECT old_id, new_id FROM renumbers") == [("SJ-06", "SJ-60")]
    # 累计数只增不减 holds across the renumbering: a lower figure under the new code is refused.
    drop(master, "城南_d3.xlsx", SOUTH, D3, _with_new_code(south(21.0, SJ_06=30.0), "SJ-06", "SJ-60"))
    refused = run(master, D3)
    assert outcome(refused, "城南_d3.xlsx").status == NEW_REJECTED
    assert "cumulative-decreased" in codes(refused, "城南_d3.xlsx")
    assert acquired(refused, "SJ-60") == pytest.approx(41.0)


def test_history_problems_and_milestones_follow_the_new_code(master):
    first = south(20.0, SJ_06=126.4)
    first[0].update(problems=PROBLEM, next_steps="协调财政")  # 126.4 亩: the 征收 节点 reached on D1
    drop(master, "城南_d1.xlsx", SOUTH, D1, first)
    before = run(master, D1)
    item = before.register.set_index("problem").loc[PROBLEM]
    milestone = name_person(master, "SJ-06", "李四")  # staff named who answers for SJ-06's first 节点
    renumber(master, "SJ-06", "SJ-60")
    drop(master, "城南_d2.xlsx", SOUTH, D2, _with_new_code(first, "SJ-06", "SJ-60"))
    result = run(master, D2)
    after = result.register.set_index("problem").loc[PROBLEM]
    assert (after["item_id"], after["first_seen"], after["status"]) == (item["item_id"], D1, "持续")
    sj60 = line(result, "SJ-60")
    assert sj60["acquired_delta"] == 0.0 and sj60["last_report"] == D2
    # The 节点 reached on D1 (under the old code) keeps that date.
    frame = result.plan.frame()
    plan = frame[frame["project_id"] == "SJ-60"]
    reached = {d for d in plan["done"] if isinstance(d, dt.date)}
    assert reached and min(reached) == D1
    typed = plan.loc[(plan["milestone"] == milestone) & (plan["plot"].fillna("") == ""), "person"]
    assert typed.tolist() == ["李四"]  # what staff typed under the old code stays with the project
    history = stored(master, "SELECT report_date, project_id FROM ledger_rows WHERE superseded=0"
                             " AND project_id IN ('SJ-06', 'SJ-60') ORDER BY report_date")
    assert history == [(D1.isoformat(), "SJ-60"), (D2.isoformat(), "SJ-60")]


def test_a_ledger_still_sending_the_old_code_is_taken_as_the_new_project_and_told_so(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    renumber(master, "SJ-07", "SJ-70")
    drop(master, "城南_d2_旧模板.xlsx", SOUTH, D2, south(22.0))  # the template from before: SJ-07
    result = run(master, D2)
    file = outcome(result, "城南_d2_旧模板.xlsx")
    assert file.status == NEW_ACCEPTED
    told = [i for i in file.issues if i.code == "project-renumbered"]
    assert [(i.cell, i.sheet) for i in told] == [("B6", "进度台账")]
    assert "SJ-70" in told[0].message and "SJ-07" in told[0].message
    assert line(result, "SJ-70")["acquired_delta"] == pytest.approx(2.0)
    assert "project-missing" not in codes(result, "城南_d2_旧模板.xlsx")


def test_a_chain_over_two_runs_keeps_one_history_and_old_templates_find_the_last_code(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    renumber(master, "SJ-06", "SJ-60")
    drop(master, "城南_d2.xlsx", SOUTH, D2, _with_new_code(south(21.0), "SJ-06", "SJ-60"))
    assert run(master, D2).renumbered == [("SJ-06", "SJ-60", 1)]
    renumber(master, "SJ-60", "SJ-61")  # the row's 原编号 is now SJ-60; SJ-06 is written nowhere any more
    drop(master, "城南_d3.xlsx", SOUTH, D3, south(23.0))  # a template from before both: SJ-06
    result = run(master, D3)
    assert result.renumbered == [("SJ-60", "SJ-61", 2)]
    told = [i for i in outcome(result, "城南_d3.xlsx").issues if i.code == "project-renumbered"]
    assert [(i.value, i.project) for i in told] == [("SJ-06", "SJ-61")]
    sj61 = line(result, "SJ-61")
    assert (sj61["acquired_mu"], sj61["acquired_delta"]) == (pytest.approx(23.0), pytest.approx(2.0))
    assert stored(master, "SELECT COUNT(*) FROM ledger_rows WHERE project_id='SJ-61'") == [(3,)]


def test_a_former_id_unknown_to_the_store_moves_nothing_and_harms_nothing(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    edit_registry(master, "SJ-07", 原编号="旧-2019-07")
    drop(master, "城南_d2.xlsx", SOUTH, D2, south(21.0))
    result = run(master, D2)
    assert result.renumbered == [] and outcome(result, "城南_d2.xlsx").status == NEW_ACCEPTED
    assert line(result, "SJ-07")["acquired_delta"] == pytest.approx(1.0)
    assert stored(master, "SELECT COUNT(*) FROM renumbers") == [(0,)]


@pytest.mark.parametrize("case", ["still-a-project", "named-twice", "its-own-code"])
def test_a_former_id_that_cannot_be_is_exit_2_naming_its_cell(master, case):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    if case == "still-a-project":
        edit_registry(master, "SJ-07", 原编号="SJ-06")  # SJ-06 still has its own row
    elif case == "named-twice":
        renumber(master, "SJ-06", "SJ-60")
        edit_registry(master, "XJ-03", 原编号="SJ-06")
    else:
        edit_registry(master, "SJ-07", 原编号="SJ-07")
    drop(master, "城南_d2.xlsx", SOUTH, D2, south(21.0))
    pristine = digest(master), stored(master, "SELECT COUNT(*) FROM runs")
    result = invoke("run", master, "--as-of", D2.isoformat())
    assert result.exit_code == 2, result.output
    assert "项目清单!" in result.output and "原编号" in result.output
    assert (digest(master), stored(master, "SELECT COUNT(*) FROM runs")) == pristine


def test_two_codes_that_both_reported_one_day_are_not_joined(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    edit_registry(master, "SJ-06")  # the row emptied: HQ says SJ-06 is now SJ-07
    edit_registry(master, "SJ-07", 原编号="SJ-06")
    pristine = digest(master)
    result = invoke("run", master, "--as-of", D2.isoformat())
    assert result.exit_code == 2, result.output
    assert "SJ-06" in result.output and "SJ-07" in result.output and D1.isoformat() in result.output
    assert digest(master) == pristine
    assert stored(master, "SELECT DISTINCT project_id FROM ledger_rows ORDER BY 1")[:2] == [("SJ-06",), ("SJ-07",)]


TABLES = {
    "ledger_rows": "SELECT * FROM ledger_rows ORDER BY sha256, project_id, plot, sheet_row",
    "submissions": "SELECT * FROM submissions ORDER BY sha256",
    "project_reports": "SELECT * FROM project_reports ORDER BY project_id, report_date",
    "problem_runs": "SELECT * FROM problem_runs ORDER BY project_id, first_date",
    "problem_threads": "SELECT * FROM problem_threads ORDER BY project_id, wording",
    "daily_steps": "SELECT * FROM daily_steps ORDER BY report_date",
    "plot_firsts": "SELECT * FROM milestone_firsts WHERE plot<>'' ORDER BY project_id, plot",
    "renumbers": "SELECT * FROM renumbers",
}


def test_rolling_back_the_run_that_renumbered_restores_master_and_store(master):
    first = south(20.0)
    first[0].update(problems=PROBLEM)
    drop(master, "城南_d1.xlsx", SOUTH, D1, first)
    run(master, D1)
    renumber(master, "SJ-06", "SJ-60")
    drop(master, "城南_d2.xlsx", SOUTH, D2, _with_new_code(south(21.0), "SJ-06", "SJ-60"))
    before = digest(master), {name: stored(master, query) for name, query in TABLES.items()}
    assert run(master, D2).renumbered
    assert stored(master, "SELECT COUNT(*) FROM ledger_rows WHERE project_id='SJ-06'") == [(0,)]
    result = invoke("rollback", master)
    assert result.exit_code == 0, result.output
    assert (digest(master), {name: stored(master, query) for name, query in TABLES.items()}) == before
    # The next run renumbers again, from the same state.
    again = run(master, D2)
    assert again.renumbered == [("SJ-06", "SJ-60", 1)] and line(again, "SJ-60")["acquired_delta"] == pytest.approx(1.0)


def test_a_store_of_version_4_opens_and_is_brought_to_the_current_version(tmp_path):
    path = tmp_path / "store.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE renumbers")
    db.execute("PRAGMA user_version=4")
    db.commit()
    db.close()
    store = Store(path)
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert store.renumbers() == {}
    finally:
        store.close()


def test_validate_checks_against_the_moved_history_and_moves_nothing(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    renumber(master, "SJ-06", "SJ-60")
    drop(master, "城南_d2.xlsx", SOUTH, D2, _with_new_code(south(21.0, SJ_06=15.0), "SJ-06", "SJ-60"))
    before = {name: stored(master, query) for name, query in TABLES.items()}
    result = invoke("validate", master, "--as-of", D2.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    assert "cumulative-decreased" in result.output  # 15 < 20 under the old code: the history was consulted
    assert {name: stored(master, query) for name, query in TABLES.items()} == before


def test_a_rebuilt_store_reads_every_archived_file_under_the_code_the_project_has_now(master):
    drop(master, "城南_d1.xlsx", SOUTH, D1, south(20.0))
    run(master, D1)
    renumber(master, "SJ-06", "SJ-60")
    drop(master, "城南_d2.xlsx", SOUTH, D2, _with_new_code(south(21.0), "SJ-06", "SJ-60"))
    run(master, D2)
    renumber(master, "SJ-60", "SJ-61")
    drop(master, "城南_d3.xlsx", SOUTH, D3, _with_new_code(south(23.0), "SJ-06", "SJ-61"))
    run(master, D3)
    result = invoke("rebuild", master, "--as-of", D3.isoformat())
    assert result.exit_code == 0, result.output
    # 城南_d1 (SJ-06) and 城南_d2 (SJ-60) sent codes the 项目清单 no longer names; the old store's renumberings
    # take them to SJ-61, so the project's history is whole again.
    assert stored(master, "SELECT report_date, project_id FROM ledger_rows WHERE superseded=0 AND project_id"
                          " LIKE 'SJ-6%' ORDER BY report_date") == [
        (D1.isoformat(), "SJ-61"), (D2.isoformat(), "SJ-61"), (D3.isoformat(), "SJ-61")]
    assert line(run(master, D3), "SJ-61")["acquired_delta"] == pytest.approx(2.0)
