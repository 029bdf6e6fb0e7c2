"""`xladdin excel-setup`: the interpreter written into xlwings.conf, no empty key left to shadow the
user's settings, staff rows kept, and every problem of the PC reported with its fix."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest
from click.testing import CliRunner

from xladdin.base.schema import SHEET_CONF
from xladdin.cli import main
from xladdin.excel_setup import OK, PROBLEM, UNCHECKED, XLWINGS_VERSION, conf_rows, excel_setup, portable_path
from xladdin.workbook.build import BUTTONS, INSTALLED_VENV, RUN_LAUNCHER, SERVE_LAUNCHER, build_master
from xladdin.workbook.package import MasterBook


@pytest.mark.parametrize("existing, updates, expected", [
    # An empty key is dropped: xlwings would take it as final and ignore the ribbon's interpreter.
    ([("Interpreter_Win", ""), ("PYTHONPATH", ""), ("UDF Modules", "xladdin.excel")], {},
     [("UDF Modules", "xladdin.excel")]),
    # The interpreter replaces the old row in place; staff rows stay where they were.
    ([("My Setting", "x"), ("INTERPRETER_WIN", r"C:\old\pythonw.exe"), ("UDF Modules", "xladdin.excel")],
     {"Interpreter_Win": r"C:\Py311\pythonw.exe", "PYTHONPATH": ""},
     [("My Setting", "x"), ("INTERPRETER_WIN", r"C:\Py311\pythonw.exe"), ("UDF Modules", "xladdin.excel")]),
    # A key missing from the sheet is appended; an empty update is not written at all.
    ([("UDF Modules", "xladdin.excel")], {"Interpreter_Win": r"D:\venv\Scripts\pythonw.exe", "PYTHONPATH": r"D:\src"},
     [("UDF Modules", "xladdin.excel"), ("Interpreter_Win", r"D:\venv\Scripts\pythonw.exe"), ("PYTHONPATH", r"D:\src")]),
    # A key that appears twice keeps its first value, and blank rows disappear.
    ([("Show Console", "False"), ("", ""), ("show console", "True")], {}, [("Show Console", "False")]),
])
def test_conf_rows(existing, updates, expected):
    assert conf_rows(existing, updates) == expected


def _conf(master):
    book = MasterBook.open(master)
    return [(str(r[0]), r[1]) for r in book.sheet_grid(SHEET_CONF) if r and r[0] not in (None, "")]


def test_setup_writes_the_interpreter_keeps_staff_rows_and_touches_nothing_else(tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    assert all(value not in ("", None) for _, value in _conf(master))  # no empty key shipped
    book = MasterBook.open(master)
    rows = [[k, v] for k, v in _conf(master)] + [["Interpreter_Win", None], ["Staff Key", "保留"]]
    book.write_rows(SHEET_CONF, 1, 1, rows, len(rows))
    book.save()
    with zipfile.ZipFile(master) as archive:
        before = {n: archive.read(n) for n in archive.namelist()}

    report = excel_setup(master, interpreter=r"C:\Python311\pythonw.exe", platform="linux")
    assert report.written
    conf = dict(_conf(master))
    assert conf["Interpreter_Win"] == r"C:\Python311\pythonw.exe" and conf["Staff Key"] == "保留"
    assert conf["UDF Modules"] == "xladdin.excel" and conf["Use UDF Server"] is True
    assert "PYTHONPATH" not in conf  # xladdin is installed: nothing to add to the path
    with zipfile.ZipFile(master) as archive:
        after = {n: archive.read(n) for n in archive.namelist()}
    conf_part = MasterBook.open(master).sheet_parts[SHEET_CONF]
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed <= {conf_part, "xl/workbook.xml", "xl/sharedStrings.xml"}
    assert before["xl/vbaProject.bin"] == after["xl/vbaProject.bin"]

    again = excel_setup(master, interpreter=r"C:\Python311\pythonw.exe", platform="linux")
    assert not again.written  # nothing left to change


def test_on_linux_it_says_what_it_cannot_check(tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    result = CliRunner().invoke(main, ["excel-setup", str(master), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    states = {c["item"]: c["state"] for c in report["checks"]}
    assert states["xlwings 版本"] == OK and states["Windows 上的 Excel"] == UNCHECKED
    assert not report["written"]  # no interpreter to write on a PC without Windows


def test_on_a_windows_pc_without_pywin32_or_the_dll_each_problem_has_its_fix(tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    report = excel_setup(master, platform="win32", write=False)
    problems = {c.item: c for c in report.problems}
    assert {"pywin32", "xlwings 动态库"} <= set(problems)
    assert "pip install pywin32" in problems["pywin32"].fix
    assert f"xlwings=={XLWINGS_VERSION}" in problems["xlwings 动态库"].fix
    assert all(c.fix for c in report.checks if c.state == PROBLEM)


def test_a_master_open_in_excel_is_not_touched(tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    (tmp_path / "~$母表.xlsm").write_bytes(b"owner")
    before = master.read_bytes()
    result = CliRunner().invoke(main, ["excel-setup", str(master), "--interpreter", r"C:\P\pythonw.exe"])
    assert result.exit_code == 3 and "关闭" in result.output
    assert master.read_bytes() == before


def _with_project(master, project: bytes) -> None:
    with zipfile.ZipFile(master) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            archive.writestr(info, project if info.filename == "xl/vbaProject.bin" else data)


def _procedures(master) -> dict[str, str]:
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(master))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_a_master_made_by_the_first_version_gets_its_buttons_macros(tmp_path):
    """Version one copied xlwings' quickstart project (no Sub for any button, a leftover SampleCall):
    excel-setup writes the buttons' Subs and the wrappers, once."""
    from pathlib import Path

    import xlwings

    master = build_master(tmp_path / "母表.xlsm")
    with zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm") as archive:
        _with_project(master, archive.read("xl/vbaProject.bin"))
    assert not any("Sub xladdin_run" in code for code in _procedures(master).values())

    report = excel_setup(master, interpreter=r"C:\P\pythonw.exe", platform="linux")
    assert report.written and report.macros_refreshed
    code = "\n".join(_procedures(master).values())
    for _, macro in BUTTONS:
        assert f"Sub {macro}(" in code
    assert "Function COMPLETION_RATE(" in code and "SampleCall" not in code
    again = excel_setup(master, interpreter=r"C:\P\pythonw.exe", platform="linux")
    assert not again.written and not again.macros_refreshed


def test_a_corrupt_vba_project_is_reported_and_never_replaced(tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    _with_project(master, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    before = master.read_bytes()
    result = CliRunner().invoke(main, ["excel-setup", str(master), "--interpreter", r"C:\P\pythonw.exe"])
    assert result.exit_code == 3, result.output
    assert "宏" in result.output and master.read_bytes() == before


ZHANG = {"LOCALAPPDATA": r"C:\Users\张三\AppData\Local", "APPDATA": r"C:\Users\张三\AppData\Roaming",
         "USERPROFILE": r"C:\Users\张三"}


@pytest.mark.parametrize("path, written", [
    # What 安装.cmd installs: every user of every PC has it at %LOCALAPPDATA%\xladdin\venv.
    (r"C:\Users\张三\AppData\Local\xladdin\venv\Scripts\pythonw.exe", r"%LOCALAPPDATA%\xladdin\venv\Scripts\pythonw.exe"),
    # Windows paths are case-insensitive; the per-user python.org install is under LOCALAPPDATA too.
    (r"c:\users\张三\appdata\local\Programs\Python\Python313\pythonw.exe",
     r"%LOCALAPPDATA%\Programs\Python\Python313\pythonw.exe"),
    (r"C:\Users\张三\AppData\Roaming\Python\pythonw.exe", r"%APPDATA%\Python\pythonw.exe"),
    (r"C:\Users\张三\miniconda3\pythonw.exe", r"%USERPROFILE%\miniconda3\pythonw.exe"),
    # A folder that only begins like the user's is another user's; a machine-wide Python stays as it is.
    (r"C:\Users\张三丰\AppData\Local\xladdin\venv\Scripts\pythonw.exe",
     r"C:\Users\张三丰\AppData\Local\xladdin\venv\Scripts\pythonw.exe"),
    (r"C:\Python311\pythonw.exe", r"C:\Python311\pythonw.exe"),
    (r"%LOCALAPPDATA%\xladdin\venv\Scripts\pythonw.exe", r"%LOCALAPPDATA%\xladdin\venv\Scripts\pythonw.exe"),
])
def test_a_path_in_the_users_own_folders_is_written_with_its_variable(path, written):
    assert portable_path(path, ZHANG) == written


def test_on_windows_the_master_names_the_installed_python_for_every_user_and_gets_its_launchers(tmp_path, monkeypatch):
    master = build_master(tmp_path / "母表.xlsm")
    monkeypatch.setattr(sys, "executable", r"C:\Users\张三\AppData\Local\xladdin\venv\Scripts\pythonw.exe")
    report = excel_setup(master, platform="win32", environ=ZHANG)
    conf = dict(_conf(master))
    assert conf["Interpreter_Win"] == INSTALLED_VENV + r"\Scripts\pythonw.exe"
    assert "张三" not in "".join(str(v) for v in conf.values())
    where = next(c for c in report.checks if c.item == "Python 位置")
    assert where.state == OK and "安装.cmd" in where.detail  # which PCs: every one 安装.cmd set up
    for launcher in (RUN_LAUNCHER, SERVE_LAUNCHER):
        text = (tmp_path / launcher).read_bytes().decode("gbk")
        assert f'"{master.name}"' in text and INSTALLED_VENV + r"\Scripts\xladdin.exe" in text
    assert {p.name for p in report.launchers} >= {RUN_LAUNCHER, SERVE_LAUNCHER}


def test_a_python_elsewhere_is_said_to_work_only_where_it_is_installed(tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    report = excel_setup(master, interpreter=r"D:\Python313\pythonw.exe", platform="linux", environ=ZHANG)
    where = next(c for c in report.checks if c.item == "Python 位置")
    assert r"D:\Python313\pythonw.exe" in where.detail and "只在" in where.detail
    assert not excel_setup(master, interpreter=r"D:\Python313\pythonw.exe", platform="linux", environ=ZHANG,
                           write=False).launchers  # --check writes nothing, beside the master either
