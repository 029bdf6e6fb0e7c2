"""One book interface, two implementations, one behaviour: the same campaign run headless on the file
(package.MasterBook) and in Excel through xlwings' remote engine (live.LiveBook) writes the same
regions, the same links and the same notice extent, each formula in the form its medium expects."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import openpyxl
import pytest
import xlwings as xw  # noqa: E402  (the payload module set the licence key first)

from xladdin.base.schema import parse_range
from xladdin.demo import MASTER_NAME
from xladdin.workbook.book import Book
from xladdin.workbook.layout import (
    MILESTONES,
    NOTICE_NAME,
    REGISTER,
    SORT_KEYS,
    SORTED_TABLES,
    TABLES,
    TIMELINE,
    table_spec,
)
from xladdin.workbook.live import LiveBook
from xladdin.workbook.package import MasterBook

from .xlwings_payload import payload_for

# One worker runs this module (pytest-xdist --dist loadgroup): its module fixture (both_doors) is built once.
pytestmark = pytest.mark.xdist_group("book_doors")

TIMED_STATUS_ROWS = {"运行时间", "用时"}  # the console's status rows that hold the clock


def _plain(value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00(\.000Z)?", value):
        return value[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 9)
    if isinstance(value, str) and value.startswith("'="):
        return value[1:]  # a text written through the object model carries Excel's text marker
    return value


@pytest.fixture(scope="module")
def both_doors(tmp_path_factory, pristine_demos):
    """The demo campaign twice, run once per door as of the same day."""
    base = tmp_path_factory.mktemp("doors")
    today = dt.date.today()
    file_dir, live_dir = base / "file", base / "live"
    shutil.copytree(pristine_demos(today), file_dir)
    shutil.copytree(file_dir, live_dir)
    from xladdin.engine.pipeline import execute

    execute(file_dir / MASTER_NAME, as_of=today, command="run")

    book = xw.Book(json=payload_for(live_dir / MASTER_NAME))
    book.set_mock_caller()
    live = LiveBook(book, base_dir=live_dir)
    from xladdin.engine.pipeline import run_job

    run_job(live, live_dir, as_of=today, command="run")
    return file_dir / MASTER_NAME, live_dir / MASTER_NAME, book.json()["actions"]


def test_both_books_implement_the_written_interface(tmp_path):
    from xladdin.workbook.build import build_master

    master = build_master(tmp_path / MASTER_NAME)
    book = xw.Book(json=payload_for(master))
    for implementation in (MasterBook.open(master), LiveBook(book, base_dir=tmp_path)):
        assert isinstance(implementation, Book)
        for name in ("settings", "registry", "registry_key", "pasted_grids", "table_rows", "table_origin",
                     "write_table", "write_cell", "write_lines", "back_up", "save"):
            assert callable(getattr(implementation, name)), (type(implementation).__name__, name)


def _file_tables(path):
    workbook = openpyxl.load_workbook(path)
    found = {}
    for ws in workbook.worksheets:
        for table in ws.tables.values():
            c1, r1, c2, r2 = parse_range(table.ref)
            found[table.name] = [[ws.cell(r, c) for c in range(c1, c2 + 1)] for r in range(r1 + 1, r2 + 1)]
    return workbook, found


def _live_tables(master, actions):
    payload = payload_for(master)
    sheets = [s["name"] for s in payload["sheets"]]
    origin = {}
    for sheet in payload["sheets"]:
        for table in sheet["tables"]:
            c1, r1, _, _ = parse_range(table["range_address"].replace("$", ""))
            origin[(sheet["name"], r1, c1 - 1)] = table["name"]  # header row (0-based = first data row - 1)
    found = {}
    for action in actions:
        if action["func"] != "setValues":
            continue
        key = (sheets[action["sheet_position"]], action["start_row"], action["start_column"])
        if key in origin:
            found[origin[key]] = action["values"]
    return found


def test_every_table_holds_the_same_rows_through_both_doors(both_doors):
    file_master, live_master, actions = both_doors
    _, file_tables = _file_tables(file_master)
    live_tables = _live_tables(live_master, actions)
    # inputs are read, never written; 督办台账 and 节点计划 are both (staff edit them), and with the 作战图时间表
    # every new master has them
    written = {REGISTER.name, MILESTONES.name, TIMELINE.name}
    written |= {SORT_KEYS.name, *(spec.name for spec in SORTED_TABLES.values())}  # 红黑榜（排序）
    assert set(live_tables) == (set(TABLES) | written) - {"tblSettings", "tblRegistry"}
    formulas = 0
    for name, live_rows in live_tables.items():
        file_rows = file_tables[name]
        assert len(live_rows) >= len(file_rows), name
        assert all(v is None or v == "" for row in live_rows[len(file_rows):] for v in row), name  # cleared
        for file_row, live_row in zip(file_rows, live_rows):
            if name == "tblRunStatus" and file_row[0].value in TIMED_STATUS_ROWS:
                continue
            for spec_column, cell, live_value in zip(table_spec(name).columns, file_row, live_row):
                value = cell.value
                if spec_column.label.endswith("时间"):  # when a file was received: the clock of each run
                    assert isinstance(value, (str, dt.datetime)) and live_value, (name, cell.coordinate)
                    continue
                if isinstance(value, str) and value.startswith("=") and cell.data_type == "f":
                    formulas += 1
                    # The file carries the file format's prefixes; the object model never sees them.
                    assert "_xlfn." not in str(live_value), (name, cell.coordinate, live_value)
                    assert value.replace("_xlfn.", "") == live_value, (name, cell.coordinate)
                else:
                    value, live_value = (v.replace(str(m.parent), "<campaign>") if isinstance(v, str) else v
                                         for v, m in ((value, file_master), (live_value, live_master)))
                    assert _plain(value) == _plain(live_value), (name, cell.coordinate, value, live_value)
    assert formulas > 0
    ranking = [c.value for row in file_tables["tblRanking"] for c in row]
    assert any("_xlfn.RANK.EQ(" in str(v) for v in ranking)


def test_links_are_links_through_both_doors(both_doors):
    file_master, live_master, actions = both_doors
    workbook, _ = _file_tables(file_master)
    sheets = [s["name"] for s in payload_for(live_master)["sheets"]]
    file_links = {}
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.hyperlink is not None:
                    address = (cell.hyperlink.target or "").replace("/", "\\")
                    if cell.hyperlink.location:
                        address += "#" + cell.hyperlink.location
                    file_links[(ws.title, cell.row, cell.column)] = (address, cell.value)
    live_links = {(sheets[a["sheet_position"]], a["start_row"] + 1, a["start_column"] + 1): (a["args"][0], a["args"][1])
                  for a in actions if a["func"] == "addHyperlink"}
    assert file_links and live_links == file_links
    assert all(sheet == "校验报告" for sheet, _, _ in live_links)


def test_the_notice_region_ends_at_the_last_line_through_both_doors(both_doors):
    file_master, live_master, actions = both_doors
    workbook = openpyxl.load_workbook(file_master)
    file_ref = workbook.defined_names[NOTICE_NAME].attr_text
    renamed = [a["args"] for a in actions if a["func"] == "setNameRefersTo" and a["args"][0] == NOTICE_NAME]
    assert renamed and renamed[-1][3] == "=" + file_ref
    sheet, _, ref = file_ref.rpartition("!")
    c1, r1, c2, r2 = parse_range(ref.replace("$", ""))
    lines = [workbook[sheet.strip("'")].cell(r, c1).value for r in range(r1, r2 + 1)]
    assert lines[0] and lines[-1] and workbook[sheet.strip("'")].cell(r2 + 1, c1).value is None


def test_a_shorter_notice_clears_the_old_lines_and_shrinks_the_region(tmp_path):
    from xladdin.workbook.build import build_master

    master = build_master(tmp_path / MASTER_NAME)
    long, short = [f"第{i}行" for i in range(1, 9)], ["只剩一行", "第二行"]
    file_book = MasterBook.open(master)
    file_book.write_lines(NOTICE_NAME, long)
    file_book.save()
    book = xw.Book(json=payload_for(master))
    live = LiveBook(book, base_dir=tmp_path)
    live.write_lines(NOTICE_NAME, short)
    assert not book.json()["actions"]  # checked now, written by save()
    live.save()
    written = [a for a in book.json()["actions"] if a["func"] == "setValues"][-1]
    assert [row[0] or None for row in written["values"]] == short + [None] * (len(long) - len(short))
    renamed = [a["args"][3] for a in book.json()["actions"] if a["func"] == "setNameRefersTo"]
    assert renamed == ["='通报'!$A$3:$A$4"]
    file_book = MasterBook.open(master)
    file_book.write_lines(NOTICE_NAME, short)
    file_book.save()
    workbook = openpyxl.load_workbook(master)
    assert workbook.defined_names[NOTICE_NAME].attr_text == "'通报'!$A$3:$A$4"
    assert [workbook["通报"].cell(r, 1).value for r in range(3, 11)] == short + [None] * 6
