"""Constants of core rules that a one-line slip would change without any other test noticing (a mutation
trial left these alive): each pinned here by a real input through the engine, at and just past its edge."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from xladdin.demo import MASTER_NAME
from xladdin.engine.model import NEW_ACCEPTED, NEW_REJECTED
from xladdin.engine.pipeline import execute
from xladdin.engine.rollback import roll_back
from xladdin.workbook.export import write_frame

from .conftest import AS_OF
from .ledgers import DATE, ledger

EVENING = dt.time(21, 30)


@pytest.fixture
def master(tmp_path, pristine_master) -> Path:
    return Path(shutil.copyfile(pristine_master, tmp_path / MASTER_NAME))  # what build_master makes, built once


def _run(master: Path, day: dt.date):
    return execute(master, as_of=day, now=dt.datetime.combine(day, EVENING), workers=1)


@pytest.mark.parametrize("drop", [0.01, 0.4, 0.5, 3.0])
def test_any_decrease_of_a_cumulative_figure_is_refused_however_small(master, drop):
    inbox = master.parent / "报送"
    ledger(inbox, "城南_1123.xlsx", date=DATE, acquired=10.5)
    assert _run(master, DATE).count(NEW_ACCEPTED) == 1
    ledger(inbox, "城南_1124.xlsx", date=AS_OF, acquired=round(10.5 - drop, 2))
    result = _run(master, AS_OF)
    (outcome,) = [f for f in result.files if f.file == "城南_1124.xlsx"]
    assert outcome.status == NEW_REJECTED
    assert "cumulative-decreased" in {i.code for i in outcome.errors}


def test_an_equal_figure_the_next_day_is_no_decrease(master):
    inbox = master.parent / "报送"
    ledger(inbox, "城南_1123.xlsx", date=DATE, acquired=10.5)
    _run(master, DATE)
    ledger(inbox, "城南_1124.xlsx", date=AS_OF, acquired=10.5)
    (outcome,) = [f for f in _run(master, AS_OF).files if f.file == "城南_1124.xlsx"]
    assert outcome.status == NEW_ACCEPTED


def _issue(master: Path, day: dt.date) -> str:
    result = execute(master, as_of=day, now=dt.datetime.combine(day, EVENING), intake=False, command="notice",
                     issue=True)
    return result.issued


def test_notice_numbers_restart_at_1_in_a_new_year(demo_copy):
    first = _issue(demo_copy, AS_OF)
    assert "已发出第1期督查日报" in first
    assert "已发出第2期督查日报" in _issue(demo_copy, AS_OF + dt.timedelta(days=1))
    new_year = dt.date(AS_OF.year + 1, 1, 4)
    issued = _issue(demo_copy, new_year)
    assert "已发出第1期督查日报" in issued and f"{new_year.year}年第1期" in issued
    assert "已发出第2期督查日报" in _issue(demo_copy, new_year + dt.timedelta(days=1))


@pytest.mark.parametrize("text", ["\t=1+1", "\rcmd", "=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)"])
def test_csv_export_neutralises_every_formula_start(tmp_path, text):
    out = write_frame(pd.DataFrame({"存在问题": [text, "正常文字"]}), tmp_path / "历史.csv", "历史")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert cells == ["'" + text, "正常文字"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rolling_back_restores_the_master_byte_for_byte_run_after_run(master):
    inbox = master.parent / "报送"
    pristine = _digest(master)
    ledger(inbox, "城南_1123.xlsx", date=DATE, acquired=9.0)
    _run(master, DATE)
    after_first = _digest(master)
    assert after_first != pristine
    ledger(inbox, "城南_1124.xlsx", date=AS_OF, acquired=12.0)
    _run(master, AS_OF)
    assert _digest(master) != after_first
    roll_back(master)
    assert _digest(master) == after_first
    roll_back(master)
    assert _digest(master) == pristine
