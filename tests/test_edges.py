"""Trust at the edges (issue 15): what staff keep is never overwritten, no figure lands under another
heading, one bad inbox entry never stops the day."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.cli import main
from xladdin.demo import MASTER_NAME, registry_frame, registry_rows
from xladdin.jobs import execute
from xladdin.workbook.build import build_master
from xladdin.workbook.layout import NOTICE_NAME, TABLES
from xladdin.workbook.ledger import build_ledger
from xladdin.workbook.package import MasterBook, parse_range
from xladdin.workbook.room import RegionBlocked

from .conftest import AS_OF
from .test_validate import GROUP, good_rows

DATE = AS_OF - dt.timedelta(days=1)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def master(tmp_path) -> Path:
    return build_master(tmp_path / MASTER_NAME, registry_rows(AS_OF))


def ledger(directory: Path, name: str, date=DATE, acquired=10.5, group=GROUP, **changes) -> Path:
    registry = registry_frame()
    rows = good_rows(registry)
    for row in rows:
        row["acquired_mu"] = acquired
        row.update(changes)
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    build_ledger(group, registry[registry["group"] == group], date, rows).save(path)
    return path


def staff_edit(path: Path, edit) -> None:
    """Change the master as staff would in Excel (here through openpyxl, keeping the VBA project)."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    edit(wb)
    wb.save(path)


def table_of(wb, name):
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws, ws.tables[name]
    raise AssertionError(name)


# -- 1. content next to a managed region ------------------------------------------------------------

GROWING = sorted(set(TABLES) - {"tblSettings", "tblRegistry"})


@pytest.mark.parametrize("distance", [1, 40])
@pytest.mark.parametrize("name", GROWING)
def test_a_table_never_grows_over_a_note_near_or_far(master, name, distance):
    def note(wb):
        ws, table = table_of(wb, name)
        c1, _, c2, r2 = parse_range(table.ref)
        ws.cell(r2 + distance, c2 if distance > 1 else c1).value = "工作人员备注"
    staff_edit(master, note)
    book = MasterBook.open(master)
    width = len(TABLES[name].columns)
    with pytest.raises(RegionBlocked) as refused:
        book.write_table(name, [["x"] * width for _ in range(60)])
    assert TABLES[name].sheet in str(refused.value)
    # Fewer rows than the distance: the table stops short of the note and is written.
    if distance > 1:
        book = MasterBook.open(master)
        book.write_table(name, [["x"] * width for _ in range(distance - 1)])


def test_the_notice_text_never_grows_over_a_note(master):
    book = MasterBook.open(master)
    sheet, (col, top, _, bottom) = book._name_target(NOTICE_NAME)
    staff_edit(master, lambda wb: wb[sheet].cell(bottom + 3, col, "领导批示：请抓紧"))
    book = MasterBook.open(master)
    with pytest.raises(RegionBlocked) as refused:
        book.write_lines(NOTICE_NAME, [f"第{i}行" for i in range(10)])
    assert sheet in str(refused.value) and f"{bottom + 3}" in str(refused.value)


def test_a_merged_range_below_a_table_blocks_it_too(master):
    def merge(wb):
        ws, table = table_of(wb, "tblReport")
        _, _, _, r2 = parse_range(table.ref)
        ws.merge_cells(start_row=r2 + 5, start_column=3, end_row=r2 + 6, end_column=5)
    staff_edit(master, merge)
    with pytest.raises(RegionBlocked):
        MasterBook.open(master).write_table("tblReport", [["x"] * 11 for _ in range(20)])


def test_a_run_whose_history_would_cover_a_note_exits_2_and_changes_nothing(master):
    ledger(master.parent / "报送", "城南_1123.xlsx")
    assert invoke("run", master, "--as-of", AS_OF.isoformat()).exit_code == 0

    def note(wb):
        ws, table = table_of(wb, "tblHistory")
        _, _, _, r2 = parse_range(table.ref)
        ws.cell(r2 + 2, 2).value = "下周复核"
    staff_edit(master, note)
    ledger(master.parent / "报送", "城南_1124.xlsx", date=AS_OF, acquired=12.0)
    before = digest(master)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 2
    assert "历史" in result.output and "移到" in result.output
    assert digest(master) == before
    # Nothing of the refused run was stored: once the note is moved right, the same inbox goes through.
    def move(wb):
        ws, table = table_of(wb, "tblHistory")
        _, _, c2, r2 = parse_range(table.ref)
        ws.cell(r2 + 2, 2).value = None
        ws.cell(r2 + 2, c2 + 2).value = "下周复核"
    staff_edit(master, move)
    result = execute(master, as_of=AS_OF)
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 12.0
    wb = openpyxl.load_workbook(master)
    ws, table = table_of(wb, "tblHistory")
    _, _, c2, r2 = parse_range(table.ref)
    assert any(ws.cell(r, c2 + 2).value == "下周复核" for r in range(1, r2 + 5))


# -- 2. a staff column inside a managed table --------------------------------------------------------

@pytest.mark.parametrize("name", ["tblSummary", "tblHistory", "tblReport", "tblBoard", "tblRanking", "tblLog"])
def test_a_column_inserted_inside_a_table_is_refused_never_overwritten(master, name):
    def insert(wb):
        ws, table = table_of(wb, name)
        c1, r1, c2, r2 = parse_range(table.ref)
        ws.insert_cols(c1 + 2)
        ws.cell(r1, c1 + 2).value = "备注"
        ws.cell(r1 + 1, c1 + 2).value = "我的说明"
    staff_edit(master, insert)
    ledger(master.parent / "报送", "城南_1123.xlsx")
    before = digest(master)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 2, result.output
    assert TABLES[name].sheet in result.output and "备注" in result.output
    assert digest(master) == before


def test_a_column_added_to_a_table_in_excel_or_a_renamed_heading_is_refused(master):
    def widen(wb):  # Excel's way: the table itself grows by a column typed beside it
        ws, table = table_of(wb, "tblBoard")
        c1, r1, c2, r2 = parse_range(table.ref)
        ws.cell(r1, c2 + 1).value = "跟踪人"
        table.ref = f"{openpyxl.utils.get_column_letter(c1)}{r1}:{openpyxl.utils.get_column_letter(c2 + 1)}{r2}"
        table._initialise_columns()
    staff_edit(master, widen)
    before = digest(master)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 2 and "跟踪人" in result.output and digest(master) == before

    def rename(wb):
        ws, table = table_of(wb, "tblSummary")
        c1, r1, _, _ = parse_range(table.ref)
        ws.cell(r1, c1 + 3).value = "我改的名字"
    staff_edit(master, rename)
    result = invoke("rank", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 2 and "我改的名字" in result.output


# -- 6. which sheet is the ledger -----------------------------------------------------------------

def _with_second_sheet(path: Path, title: str, acquired: float | None) -> None:
    """Add a copy of the ledger sheet named `title` (figures changed), or a sheet without a header."""
    wb = openpyxl.load_workbook(path)
    copy = wb.copy_worksheet(wb["进度台账"])
    copy.title = title
    for row in copy.iter_rows(min_row=5):
        if acquired is None:
            for cell in row:
                cell.value = None
        elif row[4].value is not None:
            row[4].value = acquired
    if acquired is None:
        for row in copy.iter_rows():
            for cell in row:
                cell.value = None
        copy["A1"] = "填写说明：累计数只增不减"
    wb.save(path)


@pytest.mark.parametrize("second", ["进度台账 (2)", "进度台账(新)", "进度台账-更正"])
def test_two_ledger_sheets_in_one_file_are_refused_naming_both(master, second):
    path = ledger(master.parent / "报送", "城南_1123.xlsx")
    _with_second_sheet(path, second, 30.0)
    result = execute(master, as_of=AS_OF)
    outcome = result.files[0]
    assert outcome.status == "已退回"
    assert [i.code for i in outcome.errors] == ["sheet-ambiguous"]
    assert "进度台账" in outcome.errors[0].message and second in outcome.errors[0].message


def test_a_ledger_sheet_beside_a_same_named_instructions_sheet_is_the_one_read(master):
    path = ledger(master.parent / "报送", "城南_1123.xlsx", acquired=11.0)
    _with_second_sheet(path, "进度台账说明", None)
    result = execute(master, as_of=AS_OF)
    assert result.files[0].status == "已接收"
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 11.0


@pytest.mark.parametrize("copied", ["汇总 (2)", "历史(3)", "我的汇总"])
def test_sheets_staff_copied_from_the_master_are_never_read_as_ledgers(master, copied):
    ledger(master.parent / "报送", "城南_1123.xlsx")
    execute(master, as_of=AS_OF)
    source = {"汇总 (2)": "汇总", "历史(3)": "历史", "我的汇总": "汇总"}[copied]

    def copy(wb):
        sheet = wb.copy_worksheet(wb[source])
        sheet.title = copied
    staff_edit(master, copy)
    result = execute(master, as_of=AS_OF)
    assert not [f.file for f in result.files if f.pasted or "›" in f.file]
    assert not any(copied in line for line in result.notice)
