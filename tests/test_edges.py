"""Trust at the edges (issue 15): what staff keep is never overwritten, no figure lands under another
heading, one bad inbox entry never stops the day."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.base.schema import parse_range
from xladdin.cli import main
from xladdin.demo import MASTER_NAME, registry_frame
from xladdin.engine.pipeline import execute
from xladdin.workbook.layout import NOTICE_NAME, TABLES
from xladdin.workbook.ledger import build_ledger
from xladdin.workbook.package import MasterBook
from xladdin.workbook.room import RegionBlocked

from .conftest import AS_OF
from .ledgers import GROUP, good_rows, ledger

DATE = AS_OF - dt.timedelta(days=1)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def master(tmp_path, pristine_master) -> Path:
    return Path(shutil.copyfile(pristine_master, tmp_path / MASTER_NAME))  # what build_master makes, built once


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
    (sheet, ref), = openpyxl.load_workbook(master).defined_names[NOTICE_NAME].destinations
    col, top, _, bottom = parse_range(ref.replace("$", ""))
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
        table.tableColumns = []  # openpyxl names them from the header cells when it saves
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


# -- 7. formula injection in every output ---------------------------------------------------------

INJECTED = ["=1+2", "+1+2", "-2+3", "@SUM(1,2)", '=HYPERLINK("http://example.com","点此")', "\t=1+2", "\r=1+2"]


def _accepted_with_problems(master: Path, texts: list[str]) -> None:
    registry = registry_frame()
    rows = good_rows(registry)
    for row, text in zip(rows * 3, texts):
        row["problems"] = text
    path = master.parent / "报送" / "城南_1123.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, rows)
    for r in wb.active.iter_rows():
        for cell in r:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                cell.data_type = "s"  # typed as text (Excel: a leading apostrophe)
    wb.save(path)
    assert execute(master, as_of=AS_OF).files[0].status == "已接收"


def test_history_export_writes_formula_like_text_as_text_in_xlsx_and_csv(master, tmp_path):
    texts = INJECTED[:4]
    _accepted_with_problems(master, texts)
    xlsx, csv_path = tmp_path / "导出" / "历史.xlsx", tmp_path / "导出" / "历史.csv"
    assert invoke("history", master, "--out", xlsx).exit_code == 0
    ws = openpyxl.load_workbook(xlsx)["历史"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value in texts]
    assert {c.value for c in cells} == set(texts) and all(c.data_type == "s" for c in cells)
    assert invoke("history", master, "--out", csv_path).exit_code == 0
    import csv

    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        values = [v for row in csv.reader(handle) for v in row]
    assert {"'" + t for t in texts} <= set(values)
    assert not any(v.startswith(("=", "+", "@")) for v in values)


@pytest.mark.libreoffice
def test_libreoffice_reads_formula_like_text_of_the_history_export_back_as_text(master, tmp_path):
    from .conftest import recalculate

    _accepted_with_problems(master, INJECTED[:4])
    xlsx = tmp_path / "导出" / "历史.xlsx"
    assert invoke("history", master, "--out", xlsx).exit_code == 0
    back = openpyxl.load_workbook(recalculate(xlsx, tmp_path / "lo"))["历史"]
    shown = [c.value for row in back.iter_rows() for c in row]
    assert "=1+2" in shown and 3 not in shown


def test_the_returned_copy_of_a_rejected_csv_keeps_formula_like_text_as_text(master):
    registry = registry_frame()
    wb = build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, good_rows(registry))
    rows = [["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row]
            for row in wb.active.iter_rows(values_only=True)]
    rows[4][14] = "=1+2"
    rows[5][14] = "@SUM(A1:A3)"
    rows[6][14] = '=HYPERLINK("http://example.com","看这里")'
    rows[4][4] = "很多"  # not a number: rejected
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    inbox = master.parent / "报送"
    inbox.mkdir()
    (inbox / "城南_1123.csv").write_text(buffer.getvalue(), encoding="utf-8")
    result = execute(master, as_of=AS_OF)
    assert result.files[0].status == "已退回" and result.files[0].returned
    copy = openpyxl.load_workbook(master.parent / result.files[0].returned)
    cells = [c for ws in copy.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    risky = [c for c in cells if c.value.startswith(("=", "@"))]
    assert {c.value for c in risky} >= {"=1+2", "@SUM(A1:A3)"} and all(c.data_type == "s" for c in risky)


# -- 9 and 11. every inbox entry is read or listed with a reason ------------------------------------

def test_entries_that_are_not_readable_submissions_are_listed_and_the_run_goes_on(master, tmp_path):
    inbox = master.parent / "报送"
    good = ledger(inbox, "城南_1123.xlsx", acquired=9.0)
    outside = tmp_path / "outside.csv"
    outside.write_text("root:x:0:0\n")
    (inbox / "指向系统文件.csv").symlink_to(outside)
    (inbox / "悬空链接.xlsx").symlink_to(inbox / "不存在.xlsx")
    (inbox / "循环A.xlsx").symlink_to(inbox / "循环B.xlsx")
    (inbox / "循环B.xlsx").symlink_to(inbox / "循环A.xlsx")
    (inbox / "伪装成文件的文件夹.xlsx").mkdir()
    (inbox / "子文件夹").mkdir()
    (inbox / "子文件夹" / "城南_1122.xlsx").write_bytes(good.read_bytes())
    import os

    os.mkfifo(inbox / "管道.xlsx")
    (inbox / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (inbox / ".隐藏的台账.xlsx").write_bytes(good.read_bytes())
    (inbox / "~$城南_1123.xlsx").write_bytes(b"owner")
    (inbox / ".~lock.城南_1123.xlsx#").write_text("lock")
    (inbox / "城南台账.ods").write_bytes(b"PK\3\4")
    (inbox / "城南台账.et").write_bytes(b"\xd0\xcf\x11\xe0")
    (inbox / "城南_1123.xlsx.download").write_bytes(good.read_bytes()[:100])
    (inbox / "说明.docx").write_bytes(b"PK")
    result = execute(master, as_of=AS_OF)
    skipped = {f.file: f.issues[0].message for f in result.files if f.status == "未读取"}
    expected = {"指向系统文件.csv", "悬空链接.xlsx", "循环A.xlsx", "循环B.xlsx", "伪装成文件的文件夹.xlsx", "子文件夹",
                "管道.xlsx", ".DS_Store", ".隐藏的台账.xlsx", "~$城南_1123.xlsx", ".~lock.城南_1123.xlsx#",
                "城南台账.ods", "城南台账.et", "城南_1123.xlsx.download", "说明.docx"}
    assert set(skipped) == expected
    assert {f.issues[0].code for f in result.files if f.status == "未读取"} == {"inbox-entry-skipped"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in reason) for reason in skipped.values())
    assert "收件箱以外" in skipped["指向系统文件.csv"] and "另存为 .xlsx" in skipped["城南台账.ods"]
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.0
    archived = [p.name for p in (master.parent / "归档").rglob("*")]
    assert not any("系统文件" in name for name in archived)
    assert not (master.parent / "退回").exists() or not any("系统文件" in p.name for p in (master.parent / "退回").iterdir())
    wb = openpyxl.load_workbook(master)
    ws, table = table_of(wb, "tblReport")
    listed = {row[1].value: row[10].value for row in ws[table.ref][1:]}
    assert expected <= set(listed) and listed["管道.xlsx"] == skipped["管道.xlsx"]


def test_a_file_the_process_cannot_open_is_listed_and_the_rest_goes_through(master, monkeypatch):
    inbox = master.parent / "报送"
    ledger(inbox, "城南_1123.xlsx", acquired=9.0)
    ledger(inbox, "锁住的台账.xlsx", group="工业园区工作组")
    import builtins

    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):
        if str(file).endswith("锁住的台账.xlsx"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", guarded_open)
    result = execute(master, as_of=AS_OF)
    outcome = {f.file: f for f in result.files}
    assert outcome["锁住的台账.xlsx"].status == "未读取" and "没有权限" in outcome["锁住的台账.xlsx"].issues[0].message
    assert outcome["城南_1123.xlsx"].status == "已接收"


def test_a_name_too_long_for_the_archive_copy_is_archived_under_a_shorter_name(master):
    inbox = master.parent / "报送"
    name = "城南片区工作组" * 11 + "台账.xlsx"  # 250 bytes: the archive's prefix would pass 255
    assert 240 < len(name.encode()) <= 255
    ledger(inbox, name, acquired=9.5)
    ledger(inbox, "很长" * 40 + ".csv", group="工业园区工作组").write_text("不是台账")
    result = execute(master, as_of=AS_OF)
    outcome = {f.file: f for f in result.files}
    assert outcome[name].status == "已接收"
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.5
    assert all(len(p.name.encode()) <= 255 for p in (master.parent / "归档").rglob("*"))
    assert outcome["很长" * 40 + ".csv"].status == "已退回"


def test_history_out_into_a_missing_folder_creates_it_and_a_bad_target_exits_2(master, tmp_path):
    ledger(master.parent / "报送", "城南_1123.xlsx")
    execute(master, as_of=AS_OF)
    out = tmp_path / "没有的" / "文件夹" / "历史.csv"
    result = invoke("history", master, "--out", out)
    assert result.exit_code == 0 and out.is_file()
    blocker = tmp_path / "是文件"
    blocker.write_text("x")
    result = invoke("history", master, "--out", blocker / "历史.xlsx")
    assert result.exit_code == 2 and "Traceback" not in result.output and "无法写出" in result.output
    result = invoke("history", master, "--out", tmp_path / "历史.ods")
    assert result.exit_code == 2 and ".xlsx" in result.output


# -- 10. OS errors end in exit 3, lock released, nothing half-written -------------------------------

@pytest.mark.parametrize("where,error", [
    ("backup", 28), ("backup", 13), ("returned", 13), ("returned", 28), ("save", 28), ("archive", 36)])
def test_an_os_error_ends_in_exit_3_with_the_lock_released_and_no_partial_file(master, monkeypatch, where, error):
    import os

    inbox = master.parent / "报送"
    ledger(inbox, "城南_1123.xlsx")
    ledger(inbox, "退回的.xlsx", group="工业园区工作组", acquired=-1)
    before = digest(master)

    def failing(*args, **kwargs):
        raise OSError(error, os.strerror(error), str(args[-1]))

    def partial_copy(src, dst, *args, **kwargs):
        Path(dst).write_bytes(b"half")  # a partial file, then the failure
        failing(src, dst)
    if where == "backup":
        import xladdin.workbook.master as master_module
        monkeypatch.setattr(master_module.shutil, "copy2", partial_copy)
    elif where == "returned":
        import openpyxl.workbook.workbook as wbmod
        monkeypatch.setattr(wbmod.Workbook, "save", lambda self, target: (Path(target).write_bytes(b"half"),
                                                                          failing(target)))
    elif where == "save":
        import xladdin.workbook.package as package_module
        monkeypatch.setattr(package_module.os, "fsync", failing)
    else:
        import xladdin.base.fs as fs_module
        monkeypatch.setattr(fs_module.shutil, "copy2", partial_copy)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 3, result.output
    assert {28: "磁盘已满", 13: "没有权限", 36: "太长"}[error] in result.output
    assert digest(master) == before
    assert not (master.parent / f".~{master.name}.lock").exists()
    leftovers = [p for p in master.parent.rglob("*") if p.is_file() and (p.name.endswith(".tmp") or
                                                                           p.read_bytes() == b"half")]
    assert leftovers == []
    monkeypatch.undo()
    assert invoke("run", master, "--as-of", AS_OF.isoformat()).exit_code == 0  # and the next run goes through


@pytest.mark.parametrize("content", ["", "not a pid", "999999999", None])
def test_an_empty_unreadable_or_dead_lock_file_is_stale(master, content):
    lock = master.parent / f".~{master.name}.lock"
    if content is None:
        lock.write_bytes(b"\xff\xfe\x00garbage")
    else:
        lock.write_text(content)
    assert invoke("run", master, "--as-of", AS_OF.isoformat()).exit_code == 0
    assert not lock.exists()


def test_a_master_open_in_libreoffice_counts_as_open(master):
    (master.parent / f".~lock.{master.name}#").write_text("某人,host,/home/x,25.11.2026 19:00,file:///x;")
    before = digest(master)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 3 and "LibreOffice" in result.output and digest(master) == before


# -- 8. characters XML cannot hold ---------------------------------------------------------------

BAD = ["\ufffe", "\uffff", "\x01", "\x0b", "\x1f", "\x00"]


def test_characters_xml_cannot_hold_never_reach_the_master_from_a_csv_or_a_file_name(master, tmp_path):
    registry = registry_frame()
    wb = build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, good_rows(registry))
    rows = [["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row]
            for row in wb.active.iter_rows(values_only=True)]
    for i, ch in enumerate(BAD[:4]):
        rows[4 + i][14] = f"征地{ch}推进"
    rows[4][3] = "A\ufffe地块"
    rows[1][6] = "张三\uffff"  # 填报人
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    inbox = master.parent / "报送"
    inbox.mkdir()
    (inbox / "城南_1123.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (inbox / "坏名字\x01\x1f.csv").write_text("不是台账\ufffe", encoding="utf-8")  # rejected, named in 校验报告
    result = execute(master, as_of=AS_OF)
    status = {f.file: f.status for f in result.files}
    assert status.pop("城南_1123.csv") == "已接收" and list(status.values()) == ["已退回"]  # the bad name: not a ledger
    wb = openpyxl.load_workbook(master)  # openpyxl refuses a part holding any of them
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "征地推进" in texts and any("坏名字" in t for t in texts)
    assert not any(ch in t for t in texts for ch in BAD)
    out = tmp_path / "历史.xlsx"
    assert invoke("history", master, "--out", out).exit_code == 0
    openpyxl.load_workbook(out)


@pytest.mark.parametrize("where", ["历史", "汇总", "项目清单", "staff"])
@pytest.mark.parametrize("bad", ["\ufffe", "&#xFFFF;", "&#1;", "\x02"])
def test_a_master_already_carrying_them_is_repaired_by_the_next_run(master, where, bad):
    import zipfile

    ledger(master.parent / "报送", "城南_1123.xlsx")
    execute(master, as_of=AS_OF)
    staff_edit(master, lambda wb: wb.create_sheet("我的记录").cell(1, 1, "自己的备注"))
    book = MasterBook.open(master)
    part = {"staff": book.sheet_parts["我的记录"]}.get(
        where, book.sheet_parts.get(where))
    with zipfile.ZipFile(master) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    xml = parts[part].decode()
    at = xml.index("</t>") if "</t>" in xml else xml.index("</v>")
    parts[part] = (xml[:at] + bad + xml[at:]).encode()
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(Exception):
        openpyxl.load_workbook(master)
    ledger(master.parent / "报送", "城南_1124.xlsx", date=AS_OF, acquired=11.0)
    assert invoke("run", master, "--as-of", AS_OF.isoformat()).exit_code == 0
    wb = openpyxl.load_workbook(master, keep_vba=True)
    assert wb["我的记录"]["A1"].value == "自己的备注"


# -- 8b. identifiers that look alike --------------------------------------------------------------

@pytest.mark.parametrize("spelled", ["SJ\u201306", "SJ\u221206", "SJ\uff0d06", "SJ-06\u200b", "\ufeffSJ-06",
                                     "ＳＪ－０６", "SJ\u00ad-06", "SJ-06\u2060"])
def test_a_project_code_that_looks_right_is_matched(master, spelled):
    path = ledger(master.parent / "报送", "城南_1123.xlsx", acquired=9.0)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "SJ-06":
                cell.value = spelled
    wb.save(path)
    result = execute(master, as_of=AS_OF)
    assert result.files[0].status == "已接收", [i.message for i in result.files[0].errors]
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.0


def test_plots_that_look_alike_are_one_plot_and_a_unit_with_a_zero_width_space_is_its_group(master):
    path = ledger(master.parent / "报送", "城南_1123.xlsx", acquired=9.0)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    rows = [r for r in ws.iter_rows(min_row=5) if r[1].value == "SJ-06"]
    ws.insert_rows(rows[0][0].row + 1)
    for c, cell in enumerate(rows[0]):
        ws.cell(rows[0][0].row + 1, c + 1).value = cell.value
    ws.cell(rows[0][0].row, 4).value = "A地块"
    ws.cell(rows[0][0].row + 1, 4).value = "Ａ地块\u200b"
    ws["B2"] = GROUP[:2] + "\u200b" + GROUP[2:]
    wb.save(path)
    result = execute(master, as_of=AS_OF)
    codes = [i.code for i in result.files[0].errors]
    assert codes == ["row-duplicate"]  # one plot written twice, not two plots


def test_a_code_that_still_does_not_match_shows_what_was_invisible(master):
    path = ledger(master.parent / "报送", "城南_1123.xlsx")
    wb = openpyxl.load_workbook(path)
    for row in wb.active.iter_rows():
        for cell in row:
            if cell.value == "SJ-06":
                cell.value = "SJ\u3000-6\u200b"
    wb["进度台账"]["B2"] = "城南\u200c片区组"
    wb.save(path)
    result = execute(master, as_of=AS_OF)
    issues = {i.code: i for i in result.files[0].errors}
    assert "[U+200B]" in issues["project-unknown"].message and "[U+3000]" in issues["project-unknown"].message
    assert "[U+200C]" in issues["unit-unknown"].message


# -- 4. corrections within one inbox: the later arrival wins, never the name ------------------------

def _aged(path: Path, seconds_ago: int) -> Path:
    import os
    import time

    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))
    return path


@pytest.mark.parametrize("original,correction", [
    ("城南_1123.xlsx", "城南_1123_更正.xlsx"),   # the correction sorts after the original by name
    ("城南_1123_原稿.xlsx", "城南_1123.xlsx"),   # ... and before it
    ("城南_1123(1).xlsx", "城南_1123.xlsx"),     # a chat app's renamed copy is the original
    ("b.xlsx", "a.xlsx"),
])
def test_of_two_reports_for_one_day_the_later_arrival_wins_whatever_the_names(master, original, correction):
    inbox = master.parent / "报送"
    _aged(ledger(inbox, original, acquired=5.0), 3600)
    _aged(ledger(inbox, correction, acquired=9.0), 60)
    result = execute(master, as_of=AS_OF)
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.0
    assert {i.code for i in {f.file: f for f in result.files}[correction].issues} >= {"supersedes"}


def test_an_original_forwarded_after_its_correction_was_accepted_does_not_replace_it(master):
    inbox = master.parent / "报送"
    _aged(ledger(inbox, "城南_1123_更正.xlsx", acquired=9.0), 60)
    execute(master, as_of=AS_OF)
    _aged(ledger(inbox, "城南_1123.xlsx", acquired=5.0), 3600)  # written earlier, arrives in a later run
    result = execute(master, as_of=AS_OF)
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.0
    late = {f.file: f for f in result.files}["城南_1123.xlsx"]
    assert [i.code for i in late.warnings] == ["arrived-late"] and "城南_1123_更正.xlsx" in late.warnings[0].message
    # A correction written after the accepted one, arriving later, still replaces it.
    _aged(ledger(inbox, "城南_1123_再更正.xlsx", acquired=10.0), 0)
    result = execute(master, as_of=AS_OF)
    assert result.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 10.0


# -- 5. rejections caused by something outside the file are checked again --------------------------

@pytest.mark.parametrize("again", ["same bytes", "renamed copy"])
def test_a_ledger_dated_after_the_statistics_date_is_accepted_once_that_date_comes(master, again):
    inbox = master.parent / "报送"
    path = ledger(inbox, "城南_1124.xlsx", date=AS_OF, acquired=9.0)
    first = execute(master, as_of=DATE)
    assert [i.code for i in first.files[0].errors] == ["date-future"]
    if again == "renamed copy":
        path.rename(inbox / "城南_1124(1).xlsx")
    second = execute(master, as_of=AS_OF)
    assert second.files[0].status == "已接收", second.files[0].status
    assert second.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.0


def test_a_project_not_yet_in_the_registry_is_accepted_once_hq_enters_it(master):
    inbox = master.parent / "报送"
    path = ledger(inbox, "城南_1123.xlsx", acquired=9.0)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    last = max(r[0].row for r in ws.iter_rows() if r[1].value == "SJ-06")
    ws.insert_rows(last + 1)
    for c in range(1, 17):
        ws.cell(last + 1, c).value = ws.cell(last, c).value
    ws.cell(last + 1, 2).value = "SJ-99"
    ws.cell(last + 1, 3).value = "新增项目"
    wb.save(path)
    first = execute(master, as_of=AS_OF)
    assert [i.code for i in first.files[0].errors] == ["project-unknown"]
    again = execute(master, as_of=AS_OF)  # nothing changed: still rejected, not announced again
    assert again.files[0].status == "已处理" and not again.files[0].accepted

    def enter(wb):
        ws, table = table_of(wb, "tblRegistry")
        c1, r1, c2, r2 = parse_range(table.ref)
        for c in range(c1, c2 + 1):
            ws.cell(r2 + 1, c).value = ws.cell(r2, c).value
        header = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
        ws.cell(r2 + 1, c1 + header.index("项目编号")).value = "SJ-99"
        ws.cell(r2 + 1, c1 + header.index("项目名称")).value = "新增项目"
        ws.cell(r2 + 1, c1 + header.index("责任工作组")).value = GROUP
        table.ref = f"{openpyxl.utils.get_column_letter(c1)}{r1}:{openpyxl.utils.get_column_letter(c2)}{r2 + 1}"
    staff_edit(master, enter)
    third = execute(master, as_of=AS_OF)
    assert third.files[0].status == "已接收", [i.message for i in third.files[0].errors]
    assert "SJ-99" in set(third.summary["project_id"])


def test_content_rejected_for_a_reason_inside_it_stays_a_duplicate(master):
    inbox = master.parent / "报送"
    path = ledger(inbox, "城南_1123.xlsx", acquired=-3.0)
    assert execute(master, as_of=AS_OF).files[0].status == "已退回"
    (inbox / "城南_1123 - 副本.xlsx").write_bytes(path.read_bytes())
    result = {f.file: f for f in execute(master, as_of=AS_OF).files}
    assert result["城南_1123 - 副本.xlsx"].status == "重复" and result["城南_1123.xlsx"].status == "已处理"


# -- 3. rollback --------------------------------------------------------------------------------

def test_rollback_backs_up_the_master_first_and_puts_removed_inbox_files_back_from_the_archive(master):
    from xladdin.engine.rollback import roll_back

    inbox = master.parent / "报送"
    execute(master, as_of=DATE)
    first = ledger(inbox, "城南_1123.xlsx", acquired=9.0)
    other = ledger(inbox, "工业园区_1123.xlsx", group="工业园区工作组")
    execute(master, as_of=AS_OF)
    first.unlink()  # staff tidy the inbox after the run
    other.rename(inbox / "工业园区_1123_已处理.xlsx")  # or rename a file: its content is still there
    staff_edit(master, lambda wb: wb.create_sheet("运行后的笔记").cell(1, 1, "不能丢"))
    run, forgotten = roll_back(master)
    assert forgotten == 2
    assert openpyxl.load_workbook(run["undo_backup"])["运行后的笔记"]["A1"].value == "不能丢"
    assert run["restored"] == ["城南_1123.xlsx"]
    assert sorted(p.name for p in inbox.iterdir()) == ["城南_1123.xlsx", "工业园区_1123_已处理.xlsx"]
    again = execute(master, as_of=AS_OF)
    assert again.summary.set_index("project_id").at["SJ-06", "acquired_mu"] == 9.0
    assert again.count("已接收") == 2


def test_rollback_still_works_after_the_campaign_folder_moved(master, tmp_path_factory):
    import shutil


    execute(master, as_of=DATE)
    ledger(master.parent / "报送", "城南_1123.xlsx", acquired=9.0)
    execute(master, as_of=AS_OF)
    moved = tmp_path_factory.mktemp("elsewhere") / "搬家后"
    shutil.move(str(master.parent), str(moved))
    result = invoke("rollback", moved / MASTER_NAME)
    assert result.exit_code == 0, result.output
    assert "撤销前的母表已另存为" in result.output
    assert "SJ-06" not in set(execute(moved / MASTER_NAME, as_of=AS_OF, intake=False, write=False).summary.query(
        "acquired_mu > 0")["project_id"])


def test_a_full_disk_under_the_history_store_ends_in_exit_3_too(master, monkeypatch):
    import sqlite3

    from xladdin.store.history import Store

    ledger(master.parent / "报送", "城南_1123.xlsx")
    before = digest(master)

    def full(self):
        raise sqlite3.OperationalError("database or disk is full")
    monkeypatch.setattr(Store, "commit", full)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 3 and "磁盘已满" in result.output and "历史库" in result.output
    assert digest(master) == before and not (master.parent / f".~{master.name}.lock").exists()


def test_runs_can_be_rolled_back_one_after_another_as_far_as_backups_are_kept(demo_copy):
    """Each rollback keeps the master it replaces (撤销前), counted apart from the runs' backups, so that the
    next rollback still finds the backup its run took."""
    from xladdin.domain.settings import Settings

    master = demo_copy
    keep = Settings().backup_count
    for days in range(keep):  # as many runs as backups are kept (the copy has none of the demo's)
        execute(master, as_of=AS_OF - dt.timedelta(days=days), intake=False, command="notice", notice_kind="daily",
                issue=True)
    for _ in range(keep):
        result = CliRunner().invoke(main, ["rollback", str(master)])
        assert result.exit_code == 0, result.output
    backups = master.parent / "备份"
    undo = list(backups.glob(f"{master.stem}.撤销前.*"))
    runs = list(backups.glob(f"{master.stem}.[0-9]*{master.suffix}"))
    assert len(undo) == keep and 0 < len(runs) <= keep
