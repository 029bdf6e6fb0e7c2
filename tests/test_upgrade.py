"""A master and history store written by the first released version (the demo as of 2026-11-24, kept
in tests/data/v1-demo) keep working: a run brings the managed tables to the current layout in place,
and every staff-visible figure still comes from the same stored rows."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xladdin.engine.pipeline import execute
from xladdin.workbook.layout import TABLES
from xladdin.workbook.room import RegionBlocked

V1 = Path(__file__).parent / "data" / "v1-demo"
MASTER = "指挥部母表.xlsm"
AS_OF = dt.date(2026, 11, 24)


@pytest.fixture
def v1(tmp_path):
    shutil.copy(V1 / MASTER, tmp_path / MASTER)
    with gzip.open(V1 / "历史库.sqlite.gz") as packed, open(tmp_path / "历史库.sqlite", "wb") as out:
        shutil.copyfileobj(packed, out)
    (tmp_path / "报送").mkdir()
    return tmp_path / MASTER


def _headings(path):
    workbook = openpyxl.load_workbook(path)
    found = {}
    for ws in workbook.worksheets:
        for table in ws.tables.values():
            first = ws[table.ref][0]
            found[table.name] = ([c.value for c in first], [c.name for c in table.tableColumns])
    return found


def test_a_first_version_master_is_brought_to_the_current_layout(v1):
    before = _headings(v1)
    outdated = [name for name, spec in TABLES.items() if before[name][0] != spec.labels]
    assert {"tblSummary", "tblRanking", "tblHistory"} <= set(outdated)  # the fixture is really old
    with zipfile.ZipFile(v1) as archive:
        project = archive.read("xl/vbaProject.bin")

    result = execute(v1, as_of=AS_OF, command="run")
    assert result.wrote
    after = _headings(v1)
    for name, spec in TABLES.items():
        if name == "tblRegistry":
            continue  # staff's input: read by heading, never rewritten
        cells, columns = after[name]
        assert cells == spec.labels and columns == spec.labels, name  # the part agrees with the cells
    with zipfile.ZipFile(v1) as archive:
        assert archive.read("xl/vbaProject.bin") == project  # staff's macros are never touched by a run
    summary = openpyxl.load_workbook(v1)["汇总"]
    ids = [summary.cell(r, 1).value for r in range(4, 4 + len(result.summary))]
    assert ids == list(result.summary["project_id"])
    column = TABLES["tblSummary"].labels.index("累计征地面积(亩)") + 1
    figures = [summary.cell(r, column).value for r in range(4, 4 + len(result.summary))]
    assert figures == pytest.approx(list(result.summary["acquired_mu"].astype(float)))
    # A second run finds the current layout and changes no heading.
    execute(v1, as_of=AS_OF, command="rank", intake=False)
    assert _headings(v1) == after


def test_a_staff_column_in_an_old_table_is_still_refused(v1):
    workbook = openpyxl.load_workbook(v1, keep_vba=True)
    ws = workbook["汇总"]
    ws.cell(3, 5).value = "我的备注"
    workbook.save(v1)
    before = v1.read_bytes()
    with pytest.raises(RegionBlocked, match="我的备注"):
        execute(v1, as_of=AS_OF, command="rank", intake=False)
    assert v1.read_bytes() == before


def test_a_wider_table_never_grows_over_staff_content_on_its_right(v1):
    workbook = openpyxl.load_workbook(v1, keep_vba=True)
    ws = workbook["红黑榜"]
    ref = ws.tables["tblRanking"].ref
    right = re.match(r"[A-Z]+\d+:([A-Z]+)\d+", ref).group(1)
    from openpyxl.utils import column_index_from_string, get_column_letter

    note = f"{get_column_letter(column_index_from_string(right) + 3)}5"
    ws[note] = "黑榜单位周五前书面说明"
    workbook.save(v1)
    before = v1.read_bytes()
    with pytest.raises(RegionBlocked, match=note):
        execute(v1, as_of=AS_OF, command="rank", intake=False)
    assert v1.read_bytes() == before


def test_in_excel_a_first_version_master_is_brought_to_the_current_layout_too(v1, monkeypatch):
    import xlwings as xw

    from xladdin.engine.pipeline import run_job
    from xladdin.workbook.live import LiveBook

    from .xlwings_payload import payload_for

    book = xw.Book(json=payload_for(v1))
    live = LiveBook(book, base_dir=v1.parent)
    run_job(live, v1.parent, as_of=AS_OF, command="rank", intake=False)
    payload = payload_for(v1)
    sheets = [s["name"] for s in payload["sheets"]]
    headers = {}
    for sheet in payload["sheets"]:
        for table in sheet["tables"]:
            headers[(sheet["name"], int(re.search(r"\$(\d+):", table["range_address"]).group(1)) - 1)] = table["name"]
    written = {}
    for action in book.json()["actions"]:
        key = (sheets[action["sheet_position"]] if action["sheet_position"] is not None else None, action["start_row"])
        if action["func"] == "setValues" and key in headers and action["row_count"] == 1:
            written[headers[key]] = action["values"][0]
    for name in ("tblSummary", "tblRanking", "tblHistory"):
        assert written[name][:len(TABLES[name].labels)] == TABLES[name].labels, name


def test_a_master_without_the_sorted_sheet_runs_and_leaves_the_view_out(v1):
    from xladdin.base.schema import SHEET_SORTED

    assert SHEET_SORTED not in openpyxl.load_workbook(v1, read_only=True).sheetnames
    result = execute(v1, as_of=AS_OF, command="run")
    assert result.wrote
    assert SHEET_SORTED not in openpyxl.load_workbook(v1, read_only=True).sheetnames


def test_the_first_versions_store_is_migrated_once_and_a_newer_one_refused(v1):
    import sqlite3

    from xladdin.base.errors import MasterUnusable
    from xladdin.store.history import SCHEMA_VERSION, Store

    path = v1.parent / "历史库.sqlite"
    before = sqlite3.connect(path)
    assert before.execute("PRAGMA user_version").fetchone()[0] == 0
    rows = before.execute("SELECT COUNT(*) FROM ledger_rows").fetchone()[0]
    columns = {r[1] for r in before.execute("PRAGMA table_info(ledger_rows)")}
    before.close()
    store = Store(path)
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.execute("SELECT COUNT(*) FROM ledger_rows").fetchone()[0] == rows  # nothing lost
        assert store.db.execute("SELECT COUNT(*) FROM project_reports").fetchone()[0] > 0
        added = {r[1] for r in store.db.execute("PRAGMA table_info(ledger_rows)")} - columns
        assert added and all(store.db.execute(f"SELECT MAX({c}) FROM ledger_rows").fetchone()[0] == 0 for c in added)
    finally:
        store.close()
    # a store of version 1 had the notices table, created by the notice archive, without voided_run
    one = sqlite3.connect(path)
    one.execute("ALTER TABLE notices DROP COLUMN voided_run")
    one.execute("INSERT INTO notices (kind, year, number, as_of, issued_at, file, text, state, run_id)"
                " VALUES ('weekly', 2026, 1, '2026-11-24', '2026-11-24T20:00:00', 'a.docx', '', '有效', 1)")
    one.execute("PRAGMA user_version=1")
    one.commit()
    one.close()
    store = Store(path)
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.execute("SELECT number, state, voided_run FROM notices").fetchall() == [(1, "有效", None)]
    finally:
        store.close()
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    newer.commit()
    newer.close()
    with pytest.raises(MasterUnusable, match="更新版本"):
        Store(path)
