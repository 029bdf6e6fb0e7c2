"""控制台 › 撤回报送 (issue 27, item 5): the button's VBA asks which submission and why, then runs the same
engine operation as `xladdin withdraw`; the macro is tested on xlwings' remote engine, as Excel would call it."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
import xlwings as xw

from xladdin.base.issues import CATALOGUE, Code
from xladdin.demo import MASTER_NAME
from xladdin.engine.withdraw import signed_in_user
from xladdin.store.history import ACCEPTED, WITHDRAWN
from xladdin.workbook.build import BUTTONS
from xladdin.workbook.layout import LOG
from xladdin.workbook.live import ACCEPTED_WORD
from xladdin.workbook.master import MASTER_ID_NAME
from xladdin.workbook.package import MasterBook
from xladdin.workbook.vba.modules import LOG_SHEET, LOG_TABLE, WITHDRAW_ASK, buttons_code

from .test_excel import actions_of, folders
from .xlwings_payload import payload_for

REASON = "多报 18 亩，应为 12.5 亩"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, pristine_demos):
    """The demo campaign ending today after its one-click run: accepted submissions to withdraw (the worker's
    today-dated demo, which test_engine and test_excel copy too)."""
    from xladdin.engine.pipeline import execute

    directory = tmp_path_factory.mktemp("withdraw-button")
    shutil.copytree(pristine_demos(dt.date.today()), directory, dirs_exist_ok=True)  # copy2: file times kept
    execute(directory / MASTER_NAME, workers=1)
    return directory


@pytest.fixture
def fresh(campaign, tmp_path):
    """A copy of the campaign for one test (a withdrawal changes master and store)."""
    return Path(shutil.copytree(campaign, tmp_path / "campaign"))


def store_rows(directory, query: str, params: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(directory / "历史库.sqlite")
    try:
        return db.execute(query, params).fetchall()
    finally:
        db.close()


def an_accepted_submission(directory) -> tuple[str, str, str]:
    """(file name, group, report date) of the newest accepted submission whose name no other one shares."""
    return store_rows(directory, "SELECT file_name, group_name, report_date FROM submissions s WHERE status=? AND"
                                 " (SELECT COUNT(*) FROM submissions t WHERE t.file_name=s.file_name)=1"
                                 " ORDER BY report_date DESC, file_name LIMIT 1", (ACCEPTED,))[0]


def book_on(directory, sheet: str = "控制台", cell: str = "A1"):
    """The master as the Office.js client would send it, `sheet` active with `cell` selected."""
    payload = payload_for(directory / MASTER_NAME, folders(directory))
    payload["book"]["active_sheet_index"] = [s["name"] for s in payload["sheets"]].index(sheet)
    payload["book"]["selection"] = cell
    # Classic Excel sees the hidden name binding the master to its store (payload_for lists ranges only).
    master_id = MasterBook.open(directory / MASTER_NAME).master_id()
    payload["names"].append({"name": MASTER_ID_NAME, "refers_to": f'="{master_id}"', "sheet_index": None,
                             "address": None, "scope_sheet_name": None, "scope_sheet_index": None, "book_scope": True})
    book = xw.Book(json=payload)
    book.set_mock_caller()
    return book, payload


def alerts(book) -> list[str]:
    return [a["args"][0] for a in actions_of(book) if a["func"] == "alert"]


def log_rows_written(book, payload) -> list[list]:
    position = [s["name"] for s in payload["sheets"]].index(LOG.sheet)
    return [row for a in actions_of(book) if a["func"] == "setValues" and a["sheet_position"] == position
            for row in a["values"]]


def test_the_button_withdraws_the_named_submission_and_rewrites_the_master(fresh):
    from xladdin import excel

    name, group, date = an_accepted_submission(fresh)
    book, payload = book_on(fresh)
    message = excel.xladdin_withdraw(name, REASON, "王科长")
    assert alerts(book) == [message]
    assert message.startswith(f"已撤回 {group} {date} 的报送《{name}》")
    assert store_rows(fresh, "SELECT file_name, who, why FROM withdrawals") == [(name, "王科长", REASON)]
    assert store_rows(fresh, "SELECT status FROM submissions WHERE file_name=?", (name,)) == [(WITHDRAWN,)]
    # 报送记录 is rewritten with the submission's new status, as the command's run writes it.
    assert any(row[0] == name and WITHDRAWN in row for row in log_rows_written(book, payload))


def test_the_row_selected_on_the_log_is_the_submission_when_none_is_named(fresh):
    from xladdin import excel

    name, _, _ = an_accepted_submission(fresh)
    payload = payload_for(fresh / MASTER_NAME, folders(fresh))
    values = next(s for s in payload["sheets"] if s["name"] == LOG.sheet)["values"]
    row = next(i for i, line in enumerate(values, start=1) if line[0] == name)
    book, _ = book_on(fresh, LOG.sheet, f"C{row}")
    message = excel.xladdin_withdraw("", REASON)
    assert "已撤回" in message and name in message
    assert store_rows(fresh, "SELECT file_name, who, why FROM withdrawals") == [(name, signed_in_user(), REASON)]


@pytest.mark.parametrize("case", ["nothing-selected", "no-reason", "unknown-name"])
def test_a_withdrawal_that_cannot_be_done_is_one_alert_and_changes_nothing(fresh, case):
    from xladdin import excel

    name, _, _ = an_accepted_submission(fresh)
    book, _ = book_on(fresh)
    before = store_rows(fresh, "SELECT sha256, status FROM submissions ORDER BY sha256")
    if case == "nothing-selected":  # the button run from 控制台 without naming one: the log's row is asked for
        message = excel.xladdin_withdraw("", REASON)
        assert "报送记录" in message and "撤回报送" in message
    elif case == "no-reason":
        message = excel.xladdin_withdraw(name, "  ")
        assert "原因" in message
    else:
        message = excel.xladdin_withdraw("没有这个文件.xlsx", REASON)
        assert "没有这个文件.xlsx" in message and "报送记录" in message
    assert alerts(book) == [message]
    assert not [a for a in actions_of(book) if a["func"] in ("setValues", "resizeTable", "addHyperlink")]
    assert store_rows(fresh, "SELECT sha256, status FROM submissions ORDER BY sha256") == before
    assert store_rows(fresh, "SELECT COUNT(*) FROM withdrawals") == [(0,)]


def test_the_refusal_of_a_decrease_points_to_the_button_staff_see():
    captions = {macro: caption for caption, macro in BUTTONS}
    assert f"“{captions[WITHDRAW_ASK]}”按钮" in CATALOGUE[Code.CUMULATIVE_DECREASED].template
    assert "xladdin withdraw" in CATALOGUE[Code.CUMULATIVE_DECREASED].template


def test_the_asking_module_names_the_log_as_the_master_has_it_in_any_code_page():
    assert (LOG_SHEET, LOG_TABLE) == (LOG.sheet, LOG.name)
    assert ACCEPTED_WORD == ACCEPTED  # the status the selected row must show
    western = buttons_code("cp1252")
    western.encode("cp1252")  # a project in a Western code page still takes the module
    assert "ChrW(" in western and "VB_Description" not in western and "InputBox(" in western
    assert f'"{LOG_SHEET}"' in buttons_code("cp936")


def test_excel_setup_gives_a_master_built_before_the_button_its_button_once(tmp_path):
    import hashlib
    import re
    import zipfile

    from xladdin.excel_setup import OK, PROBLEM, excel_setup
    from xladdin.workbook.build import build_master

    from .test_vba_project import button_macros

    master = build_master(tmp_path / "母表.xlsm")
    with zipfile.ZipFile(master) as archive:  # as an earlier version built it: no 撤回报送 shape
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            if info.filename.endswith(".vml"):
                data = re.sub(rb'<v:shape id="_x0000_s\d+"(?:(?!</v:shape>).)*' + WITHDRAW_ASK.encode() + rb".*?</v:shape>",
                              b"", data, flags=re.S)
            archive.writestr(info, data)
    assert WITHDRAW_ASK not in button_macros(master)
    digest = hashlib.sha256(master.read_bytes()).hexdigest()

    checked = excel_setup(master, interpreter=r"C:\P\pythonw.exe", platform="linux", write=False)
    assert [(c.state, c.detail) for c in checked.checks if c.item == "控制台的按钮"] == [
        (PROBLEM, "控制台缺少按钮：撤回报送")]
    assert hashlib.sha256(master.read_bytes()).hexdigest() == digest

    report = excel_setup(master, interpreter=r"C:\P\pythonw.exe", platform="linux")
    assert report.written and [(c.state, c.detail) for c in report.checks if c.item == "控制台的按钮"] == [
        (OK, "已在控制台添加按钮：撤回报送")]
    assert sorted(button_macros(master)) == sorted(macro for _, macro in BUTTONS)
    again = excel_setup(master, interpreter=r"C:\P\pythonw.exe", platform="linux")
    assert not again.written and sorted(button_macros(master)) == sorted(macro for _, macro in BUTTONS)
