"""One clock: a run reads the time once, in 设置's time zone, and stamps everything with it; nothing else
in the package reads the wall clock."""

from __future__ import annotations

import ast
import datetime as dt
import os
import sqlite3
import time
from pathlib import Path

import openpyxl
import pytest

from xladdin.base import clock
from xladdin.demo import registry_frame
from xladdin.domain.settings import SettingsError, parse_settings
from xladdin.engine.pipeline import execute
from xladdin.workbook.build import build_master

from .conftest import AS_OF, table_frame
from .ledgers import GROUP, ledger

PACKAGE = Path(__file__).resolve().parents[1] / "xladdin"
BEIJING = dt.timezone(dt.timedelta(hours=8))
WALL_CLOCK = {("datetime", "now"), ("datetime", "today"), ("datetime", "utcnow"), ("date", "today"),
              ("time", "time"), ("time", "localtime"), ("time", "ctime")}


def test_only_the_clock_module_reads_the_wall_clock():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "clock.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, (ast.Name, ast.Attribute)):
                owner = node.func.value.attr if isinstance(node.func.value, ast.Attribute) else node.func.value.id
                if (owner, node.func.attr) in WALL_CLOCK:
                    readers.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert readers == []


@pytest.mark.parametrize("text, hours", [("UTC+8", 8), ("UTC+08:00", 8), ("北京时间", 8), ("+8", 8),
                                         ("GMT-5", -5), ("UTC＋5:30", 5.5), ("UTC", 0)])
def test_a_time_zone_is_read_as_staff_type_it(text, hours):
    zone = clock.parse_zone(text)
    assert zone.utcoffset(None) == dt.timedelta(hours=hours)


@pytest.mark.parametrize("text", ["北京", "UTC+25", "明天", ""])
def test_a_time_zone_that_is_none_is_a_settings_error_naming_it(text):
    if text == "":
        assert parse_settings({"时区": text}).time_zone == clock.DEFAULT_ZONE  # blank takes the default
        return
    with pytest.raises(SettingsError, match="时区"):
        parse_settings({"时区": text})


def test_now_is_the_zone_s_wall_clock_whatever_the_machine_s_zone(monkeypatch):
    monkeypatch.delenv(clock.NOW_VARIABLE, raising=False)
    for machine in ("UTC", "America/New_York"):
        monkeypatch.setenv("TZ", machine)
        time.tzset()
        expected = dt.datetime.now(dt.timezone.utc).astimezone(BEIJING).replace(tzinfo=None)
        assert abs(clock.now("UTC+8") - expected) < dt.timedelta(seconds=5)
    monkeypatch.delenv("TZ")
    time.tzset()


def test_a_fixed_clock_replays_a_run(monkeypatch):
    monkeypatch.setenv(clock.NOW_VARIABLE, "2026-11-24T21:30:00")
    assert clock.now() == dt.datetime(2026, 11, 24, 21, 30)


def _received(path: Path, hour: int, minute: int, day: dt.date) -> None:
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BEIJING).timestamp()
    os.utime(path, (moment, moment))


@pytest.mark.parametrize("machine", ["UTC", "America/New_York"])
def test_a_file_received_at_20_30_beijing_time_is_on_time_on_any_machine(tmp_path, monkeypatch, machine):
    monkeypatch.setenv("TZ", machine)
    time.tzset()
    try:
        registry = registry_frame()
        master = build_master(tmp_path / "母表.xlsm", registry.values.tolist())
        day = AS_OF - dt.timedelta(days=1)
        early = ledger(tmp_path / "报送", "城南.xlsx", date=day)
        _received(early, 20, 30, day)
        run_at = dt.datetime.combine(day, dt.time(21, 40))
        execute(master, as_of=day, now=run_at, workers=1)
        log = table_frame(master, "tblLog")
        mine = log[log.iloc[:, 0].astype(str).str.contains("城南")]
        assert not mine.empty
        roster = dict(table_frame(master, "tblRunStatus").itertuples(index=False, name=None))
        line = next(v for k, v in roster.items() if k == GROUP)
        assert "20:30" in line and "逾时" not in line, line
        status = dict(table_frame(master, "tblRunStatus").itertuples(index=False, name=None))
        assert status["运行时间"] == "2026-11-23 21:40:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_every_stamp_of_a_run_is_its_one_now(tmp_path):
    registry = registry_frame()
    master = build_master(tmp_path / "母表.xlsm", registry.values.tolist())
    ledger(tmp_path / "报送", "城南.xlsx", date=AS_OF)
    run_at = dt.datetime(2031, 1, 2, 3, 4, 5)  # far from the wall clock: anything read from it shows
    result = execute(master, as_of=AS_OF, now=run_at, workers=1, command="notice", issue=True)
    assert result.now == run_at
    db = sqlite3.connect(tmp_path / "历史库.sqlite")
    stamps = [row[0] for row in db.execute("SELECT started_at FROM runs")]
    stamps += [row[0] for row in db.execute("SELECT received_at FROM submissions")]
    stamps += [row[0] for row in db.execute("SELECT issued_at FROM notices")]
    db.close()
    assert stamps and set(stamps) == {run_at.isoformat()}
    assert [p.name for p in (tmp_path / "归档").iterdir()] == ["2031-01-02"]
    backups = [p.name for p in (tmp_path / "备份").iterdir()]
    assert backups == ["母表.20310102-030405-01.xlsm"]
    assert "2031-01-02 03:04" in str(_named_value(master, "ReportTitle"))


def _named_value(path: Path, name: str) -> object:
    wb = openpyxl.load_workbook(path)
    ((sheet, ref),) = list(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")].value


def test_a_backup_name_is_never_reused_when_a_run_repeats_a_second(tmp_path):
    from xladdin.workbook.master import backup

    master = tmp_path / "母表.xlsm"
    folder = tmp_path / "备份"
    second = dt.datetime(2026, 11, 24, 21, 30)
    made = []
    for content in (b"one", b"two", b"three"):
        master.write_bytes(content)
        made.append(backup(master, folder, keep=1, now=second))  # keeps one: the earlier copies are pruned
    assert [p.name for p in made] == ["母表.20261124-213000-01.xlsm", "母表.20261124-213000-02.xlsm",
                                      "母表.20261124-213000-03.xlsm"]
    assert [p.read_bytes() for p in folder.glob("*.xlsm")] == [b"three"]  # the newest, under its own name
