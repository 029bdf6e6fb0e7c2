"""Issue 27's unclear messages, each now one Chinese sentence saying what happened and what to do: a run that
meets another's open store transaction, a 本期起始日期 not before the as-of date (it was silently ignored), an
inbox that holds the master (收件箱文件夹 "." read the master as a ledger every run)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.cli import main
from xladdin.demo import MASTER_NAME

from .conftest import AS_OF


@pytest.fixture
def campaign(demo, tmp_path):
    directory, _, _ = demo
    shutil.copytree(directory, tmp_path / "campaign")
    return tmp_path / "campaign"


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split()).replace(" ", "")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set(master, label, value):
    wb = openpyxl.load_workbook(master, keep_vba=True)
    row = next(r for r in wb["设置"].iter_rows() if r[0].value == label)
    row[1].value = value
    wb.save(master)


def _one_sentence(text: str) -> bool:
    body = text.split("错误：", 1)[-1]
    return body.count("。") == 1 and body.rstrip().endswith("。")


@pytest.mark.parametrize("statement", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])  # an upload's write, a rebuild's
def test_a_run_meeting_another_runs_open_store_transaction_says_so(campaign, statement):
    master = campaign / MASTER_NAME
    before = _digest(master)
    other = sqlite3.connect(campaign / "历史库.sqlite", isolation_level=None)
    other.execute(statement)
    try:
        code, text = _run("run", master, "--as-of", AS_OF.isoformat())
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert code == 3 and "另一次运行" in text and "databaseislocked" not in text and "腾出磁盘空间" not in text
    assert _one_sentence(text) and _digest(master) == before


@pytest.mark.parametrize("days_after", [3, 0])  # after the as-of date (the reproduction), or on it
def test_a_period_start_not_before_the_as_of_date_stops_the_run(campaign, days_after):
    import datetime as dt

    master = campaign / MASTER_NAME
    start = AS_OF + dt.timedelta(days=days_after)
    _set(master, "本期起始日期", start)
    before = _digest(master)
    for command in ("run", "validate"):
        code, text = _run(command, master, "--as-of", AS_OF.isoformat())
        assert code == 2 and "本期起始日期" in text and start.isoformat() in text and _one_sentence(text), text
    assert _digest(master) == before


@pytest.mark.parametrize("setting", [".", "..", "./"])  # the master's folder, or the folder above it
def test_an_inbox_that_holds_the_master_stops_the_run(campaign, setting):
    master = campaign / MASTER_NAME
    _set(master, "收件箱文件夹", setting)
    before = _digest(master)
    code, text = _run("run", master, "--as-of", AS_OF.isoformat())
    assert code == 2 and "收件箱文件夹" in text and "母表所在的文件夹" in text and _one_sentence(text), text
    assert _digest(master) == before


def test_an_inbox_option_naming_the_masters_folder_stops_too(campaign):
    code, text = _run("validate", campaign / MASTER_NAME, "--inbox", campaign, "--as-of", AS_OF.isoformat())
    assert code == 2 and "--inbox" in text and "母表所在的文件夹" in text


def _bordered(last_row):
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)  # one object: 128,000 new ones cost 5 s

    def mutate(ws):
        for r in range(9, last_row + 1):
            for c in range(1, 17):
                ws.cell(r, c).border = border
    return mutate


def _filled(last_row):
    from openpyxl.styles import PatternFill

    def mutate(ws):
        for r in range(9, last_row + 1):
            ws.cell(r, 5).fill = PatternFill("solid", fgColor="FFFF00")
            ws.cell(r, 15).value = ""  # an empty string typed, as a paste leaves
    return mutate


@pytest.mark.parametrize("mutate", [_bordered(8000), _filled(6000)])  # borders (the reproduction), a fill
def test_a_short_ledger_formatted_far_down_is_counted_by_its_rows_with_data(tmp_path, registry, mutate):
    from .ledgers import check

    checked = check(tmp_path, registry, mutate=mutate)
    assert checked.accepted and "too-many-rows" not in {i.code for i in checked.issues}, checked.issues


@pytest.mark.parametrize("change", ["renumbered", "removed"])
def test_a_project_taken_off_the_registry_but_still_in_a_template_is_named_as_such(campaign, change):
    from xladdin.engine.pipeline import execute

    from .ledgers import DATE, ledger

    master = campaign / MASTER_NAME
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["项目清单"]
    row = next(r for r in ws.iter_rows() if any(c.value == "SJ-06" for c in r))
    cell = next(c for c in row if c.value == "SJ-06")
    if change == "renumbered":
        cell.value = "SJ-60"
    else:  # the row emptied (staff deleting a project's cells), the table as it was
        for c in row:
            c.value = None
    wb.save(master)
    ledger(campaign / "报送", "城南_旧模板.xlsx", date=DATE + __import__("datetime").timedelta(days=1), acquired=30.0)
    result = execute(master, as_of=AS_OF + __import__("datetime").timedelta(days=1))
    outcome = next(f for f in result.files if f.file == "城南_旧模板.xlsx")
    removed = [i for i in outcome.issues if i.code == "project-removed"]
    assert [i.cell for i in removed] == ["B5"] and "SJ-06" in removed[0].message
    assert "project-unknown" not in {i.code for i in outcome.issues}
