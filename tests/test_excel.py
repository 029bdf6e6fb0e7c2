"""The xlwings door: macros on xlwings' remote engine, worksheet functions through xlwings Server's
call path, and a master ready for classic xlwings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest
import xlwings as xw  # noqa: E402  (the payload module set the licence key first)

from xladdin.demo import MASTER_NAME

from .xlwings_payload import payload_for


def remote_book(master, overrides):
    return xw.Book(json=payload_for(master, overrides))


def folders(base) -> dict[str, object]:
    return {"收件箱文件夹": str(base / "报送"), "历史库文件": str(base / "历史库.sqlite"),
            "归档文件夹": str(base / "归档"), "退回文件夹": str(base / "退回"), "备份文件夹": str(base / "备份")}


@pytest.fixture
def fresh(tmp_path, demo_at):
    """A demo campaign ending today: macros take no date, they run as of today as staff would."""
    import datetime as dt

    demo_at(tmp_path, dt.date.today())
    return tmp_path


def expected_counts(directory) -> tuple[int, int]:
    """(accepted, rejected) files of the demo inbox, as its manifest says they must be."""
    import json

    from xladdin.demo import MANIFEST_NAME

    files = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    return (sum(f["expected"] == "accepted" for f in files), sum(f["expected"] == "rejected" for f in files))


def actions_of(book) -> list[dict]:
    return book.json()["actions"]


def test_run_macro_on_the_remote_engine_writes_each_region_once(fresh):
    from xladdin import excel

    book = remote_book(fresh / MASTER_NAME, folders(fresh))
    book.set_mock_caller()
    message = excel.xladdin_run()
    accepted, rejected = expected_counts(fresh)
    assert f"新接收 {accepted} 个" in message and f"退回 {rejected} 个" in message
    actions = actions_of(book)
    writes = [a for a in actions if a["func"] == "setValues"]
    sheets = [s["name"] for s in payload_for(fresh / MASTER_NAME)["sheets"]]
    by_sheet = {}
    for action in writes:
        by_sheet.setdefault(sheets[action["sheet_position"]], []).append(action)
    # One write per managed table, plus the named title cells (汇总: title and totals; 红黑榜: title, period,
    # 全县 line).
    assert len(by_sheet["汇总"]) == 3 and len(by_sheet["红黑榜"]) == 4 and len(by_sheet["校验报告"]) == 2
    assert len(by_sheet["红黑榜（排序）"]) == 6  # a table per metric, the sort keys, the title
    summary = next(a for a in by_sheet["汇总"] if a["row_count"] > 1)
    assert (summary["start_row"], summary["start_column"], summary["row_count"]) == (3, 0, 18)
    # The figures the macro wrote are those the headless engine computes from the same inbox and store.
    import datetime as dt

    from xladdin.base.schema import SUMMARY_FIELDS
    from xladdin.engine.pipeline import execute

    headless = execute(fresh / MASTER_NAME, as_of=dt.date.today(), write=False).summary
    keys = [key for key, _, _ in SUMMARY_FIELDS]
    assert [row[0] for row in summary["values"]] == list(headless["project_id"])
    for key in ("plan_mu", "acquired_mu", "acquisition_rate", "houses_demolished"):
        column = keys.index(key)
        assert [row[column] for row in summary["values"]] == pytest.approx(list(headless[key])), key
    ranking = next(a for a in by_sheet["红黑榜"] if a["row_count"] > 1)
    assert ranking["values"][0][0] == "高铁新区工作组" and ranking["values"][0][1].startswith("=IF(")
    assert any(a["func"] == "resizeTable" for a in actions)
    assert any(a["func"] == "alert" and "新接收" in a["args"][0] for a in actions)
    # A submitted text beginning with "=" would be written as text, never as a formula.
    assert not any(isinstance(v, str) and v.startswith("=") and not v.startswith(("=IF(", "=TRIM(", "=COUNTIF(", "=REPT(",
                                                                                    "=IFERROR(", "='红黑榜'!"))
                   for a in writes for row in a["values"] for v in row)


def test_submitted_text_that_looks_like_a_formula_is_written_as_text():
    from xladdin.workbook.live import to_excel_value
    from xladdin.workbook.master import Formula

    assert to_excel_value("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert to_excel_value("-待定") == "'-待定" and to_excel_value("正常") == "正常"
    assert to_excel_value(Formula("=SUM(A1:A2)")) == "=SUM(A1:A2)"


def test_number_of_actions_does_not_grow_with_rows(fresh, tmp_path):
    from xladdin import excel

    small = remote_book(fresh / MASTER_NAME, {**folders(fresh), "收件箱文件夹": str(tmp_path / "empty")})
    small.set_mock_caller()
    excel.xladdin_rank()
    big = remote_book(fresh / MASTER_NAME, folders(fresh))
    big.set_mock_caller()
    excel.xladdin_run()
    count = lambda book: len([a for a in actions_of(book) if a["func"] == "setValues"])  # noqa: E731
    assert count(big) <= count(small) + 2  # 校验报告 and its title: written only when the inbox is read


def test_validate_macro_writes_nothing_but_an_alert(fresh):
    from xladdin import excel

    book = remote_book(fresh / MASTER_NAME, folders(fresh))
    book.set_mock_caller()
    excel.xladdin_validate()
    assert {a["func"] for a in actions_of(book)} <= {"alert", "setCalculation", "setScreenUpdating",
                                                    "screenUpdating", "calculation"}
    assert not (fresh / "归档").exists()


def test_a_settings_mistake_is_an_alert_not_a_traceback(fresh):
    from xladdin import excel

    book = remote_book(fresh / MASTER_NAME, {**folders(fresh), "排名单位": "村"})
    book.set_mock_caller()
    message = excel.xladdin_run()
    assert "排名单位" in message
    assert [a["args"][0] for a in actions_of(book) if a["func"] == "alert"] == [message]


UDF_SCRIPT = r'''
import asyncio, json, os, sys
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
os.environ["XLWINGS_ON_SERVER"] = "true"
import xlwings as xw, xlwings.server
import xladdin.excel as module

def call(name, *args):
    body = {"client": "Office.js", "func_name": name, "args": list(args), "caller_address": "[M.xlsm]S!B2",
            "session_id": "t", "culture_info_name": "zh-CN", "date_format": "yyyy/M/d",
            "version": xw.__version__, "runtime": "1.4"}
    try:
        return asyncio.run(xlwings.server.custom_functions_call(body, module))
    except Exception as exc:
        return "PYTHON ERROR: " + repr(exc)

meta = xlwings.server.custom_functions_meta(module)
calls = json.loads(sys.stdin.read())
print(json.dumps({"meta": meta, "results": [call(name, *args) for name, args in calls]}, ensure_ascii=False,
                 default=str))
'''

TABLE = [["排名单位", "征地完成率", "征地完成率排名", "征地完成率榜", "征地完成率名次变化"],
         ["甲组", 0.5, 2, "", "↑1"], ["乙组", 0.9, 1, "红榜", "—"]]
CALLS = [
    ("COMPLETION_RATE", [[[30]], [[120]]]),
    ("COMPLETION_RATE", [[[30]], [[0]]]),
    ("COMPLETION_RATE", [[[30]], [[None]]]),
    ("COMPLETION_RATE", [[["约30"]], [[120]]]),
    ("COMPLETION_RATE", [[["#DIV/0!"]], [[120]]]),
    ("RANK_OF", [[[0.5]], [[0.9], [0.5], [0.5], [None], ["文字"], [0.1]]]),
    ("RANK_OF", [[[0.1]], [[0.9], [0.5], [0.5], [0.1]], [[True]]]),
    ("RANK_OF", [[[None]], [[0.9]]]),
    ("RANKS", [[[0.9], [0.5], [0.5], [None], ["#N/A"], [0.1]]]),
    ("LIST_FLAG", [[[0.9]], [[0.9], [0.5], [0.4], [0.1]], [[1]], [[1]]]),
    ("LIST_FLAG", [[[0.1]], [[0.9], [0.5], [0.4], [0.1]], [[1]], [[1]]]),
    ("LIST_FLAG", [[[0.5]], [[0.5], [0.5]]]),
    ("RANK_LOOKUP", [[["甲组"]], [["征地完成率"]], TABLE]),
    ("RANK_LOOKUP", [[["乙组"]], [["征地"]], TABLE, [["榜"]]]),
    ("RANK_LOOKUP", [[["丙组"]], [["征地完成率"]], TABLE]),
    ("RANK_LOOKUP", [[["甲组"]], [["征地完成率"]], [[1, 2]]]),
    ("PROGRESS_RATIO", [[[5], [3], [2], [None]], [[4], [3], [1], [None]]]),
    ("DAYS_LEFT", [[["2026-12-01"]], [["2026-11-24"]]]),
    ("DAYS_LEFT", [[[46350]], [[46350]]]),
    ("DAYS_LEFT", [[[None]]]),
    # Error cells: every function answers in words, never a number computed as if the cell were blank.
    ("COMPLETION_RATE", [[[30]], [["#REF!"]]]),
    ("RANK_OF", [[[0.5]], [[0.9], ["#VALUE!"], [0.1]]]),
    ("RANKS", [[[0.9], [0.5], [0.1]]]),
    ("LIST_FLAG", [[["#N/A"]], [[0.9], [0.5], [0.1]]]),
    ("PROGRESS_RATIO", [[[5], ["#NUM!"]], [[4], [3]]]),
    ("DAYS_LEFT", [[["#NAME?"]]]),
]


def test_worksheet_functions_through_the_xlwings_server_call_path():
    import json

    done = subprocess.run([sys.executable, "-c", UDF_SCRIPT], input=json.dumps(CALLS), capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)
    out = json.loads(done.stdout)
    results = [r["result"] if isinstance(r, dict) else r for r in out["results"]]
    assert results == [
        [[0.25]], [[""]], [[""]], [["请填数字"]], [["引用的单元格是错误值#DIV/0!，请先改正它"]],
        [[2]], [[3]], [[""]],
        [["引用的单元格是错误值#N/A，请先改正它"]] * 6,
        [["红榜"]], [["黑榜"]], [[""]],
        [[2]], [["红榜"]], [["红黑榜中没有“丙组”"]], [["找不到红黑榜表"]],
        [[2 / 3]], [[7]], [[0]], [[""]],
        [["引用的单元格是错误值#REF!，请先改正它"]], [["引用的单元格是错误值#VALUE!，请先改正它"]],
        [[1], [2], [3]], [["引用的单元格是错误值#N/A，请先改正它"]],
        [["引用的单元格是错误值#NUM!，请先改正它"]], [["引用的单元格是错误值#NAME?，请先改正它"]],
    ]
    functions = {f["name"]: f for f in out["meta"]["functions"]}
    assert set(functions) == {"COMPLETION_RATE", "RANK_OF", "RANKS", "LIST_FLAG", "RANK_LOOKUP", "PROGRESS_RATIO",
                              "DAYS_LEFT"}
    for function in functions.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in function["description"]), function["name"]
        for parameter in function["parameters"]:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in parameter.get("description", "")), parameter


def test_master_is_ready_for_classic_xlwings(tmp_path):
    from xlwings.utils import read_config_sheet

    from xladdin.workbook.build import BUTTONS, build_master

    master = build_master(tmp_path / MASTER_NAME)
    with zipfile.ZipFile(master) as archive:
        names = archive.namelist()
        assert "xl/vbaProject.bin" in names and len(archive.read("xl/vbaProject.bin")) > 10000
        vml = next(archive.read(n).decode() for n in names if n.startswith("xl/drawings/vmlDrawing"))
    book = xw.Book(str(master), mode="r")
    config = read_config_sheet(book)
    assert config["UDF Modules"] == "xladdin.excel"
    import xladdin.excel as excel

    from xladdin.workbook.vba.modules import WITHDRAW_ASK

    scripts = {name for name in dir(excel) if name.startswith("xladdin_")}
    macros = [m.split("!")[-1] for m in __import__("re").findall(r"<x:FmlaMacro>([^<]+)</x:FmlaMacro>", vml)]
    # every button runs a Python macro, 撤回报送 through the VBA Sub that asks which submission and why first
    assert macros and set(macros) - {WITHDRAW_ASK} <= scripts and len(macros) == len(BUTTONS)


def test_launchers_run_the_headless_job(fresh):
    from xladdin.workbook.build import write_launchers

    write_launchers(fresh, MASTER_NAME)
    cmd = (fresh / "一键汇总.cmd").read_text(encoding="gbk")
    assert MASTER_NAME in cmd and "xladdin" in cmd
    script = fresh / "一键汇总.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    accepted, rejected = expected_counts(fresh)
    assert f"新接收 {accepted} 个" in done.stdout and f"退回 {rejected} 个" in done.stdout
    shutil.rmtree(fresh / "归档")


ARGUMENTS_SCRIPT = r'''
import inspect, json, os
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
os.environ["XLWINGS_ON_SERVER"] = "true"
import xladdin.excel as module
found = {}
for name, function in inspect.getmembers(module, inspect.isfunction):
    if hasattr(function, "__xlfunc__"):
        found[name] = {"parameters": list(inspect.signature(function).parameters),
                       "args": function.__xlfunc__["args"], "doc": function.__doc__}
print(json.dumps(found, ensure_ascii=False))
'''


def test_every_worksheet_function_argument_receives_error_cells_as_errors():
    """Classic xlwings passes an error cell as None (a blank) unless the argument asks for error values:
    every argument of every worksheet function asks, so an error never turns into a number."""
    import json

    done = subprocess.run([sys.executable, "-c", ARGUMENTS_SCRIPT], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)
    functions = json.loads(done.stdout)
    assert len(functions) == 7
    for name, function in functions.items():
        assert [a["name"] for a in function["args"]] == function["parameters"]
        for argument in function["args"]:
            assert argument["options"].get("err_to_str") is True, (name, argument["name"])
    # Excel shows at most 255 characters of a description; the array entry is explained in it.
    assert len(functions["RANKS"]["doc"]) <= 255 and "Ctrl+Shift+Enter" in functions["RANKS"]["doc"]


def test_every_conditional_format_fill_carries_the_colour_both_excel_and_libreoffice_read(tmp_path, demo_at):
    """Excel takes a differential (dxf) solid fill's colour from bgColor, LibreOffice from fgColor: a fill
    with only one of them loses its colour in the other program (black-list text white on white)."""
    import re

    from xladdin.workbook.ledger import write_templates
    from xladdin.workbook.package import MasterBook

    demo_at(tmp_path, __import__("datetime").date(2026, 11, 24))
    master = tmp_path / MASTER_NAME
    templates = write_templates(MasterBook.open(master).registry(), tmp_path / "模板")
    for path in [master, *templates]:
        with zipfile.ZipFile(path) as archive:
            styles = archive.read("xl/styles.xml").decode()
            rules = sum(archive.read(n).decode().count("<conditionalFormatting") for n in archive.namelist()
                        if n.startswith("xl/worksheets/sheet"))
        dxfs = re.search(r"<dxfs[^>]*>(.*?)</dxfs>", styles, re.S)
        fills = re.findall(r"<patternFill\b.*?</patternFill>", dxfs.group(1) if dxfs else "", re.S)
        if path == master:
            assert rules and len(fills) >= 3, path.name  # 红榜, 黑榜 and the 作战图 warnings
        for fill in fills:
            colours = dict(re.findall(r"<(fgColor|bgColor)\b[^>]*\brgb=\"([0-9A-F]{8})\"", fill))
            assert set(colours) == {"fgColor", "bgColor"} and len(set(colours.values())) == 1, fill


def test_a_master_built_with_foreground_only_fills_is_repaired_by_the_next_run(tmp_path, demo_at):
    import datetime as dt
    import re

    from xladdin.engine.pipeline import execute

    manifest = demo_at(tmp_path, dt.date(2026, 11, 24))
    master = tmp_path / MASTER_NAME
    with zipfile.ZipFile(master) as archive:
        parts = {i: archive.read(i) for i in archive.infolist()}
    for info in parts:
        if info.filename == "xl/styles.xml":
            parts[info] = re.sub(rb"<bgColor\b[^>]*/>", b"", parts[info])
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts.items():
            archive.writestr(info, data)
    execute(master, as_of=dt.date.fromisoformat(manifest["as_of"]), intake=False, command="rank")
    with zipfile.ZipFile(master) as archive:
        styles = archive.read("xl/styles.xml").decode()
    dxfs = re.search(r"<dxfs[^>]*>(.*?)</dxfs>", styles, re.S).group(1)
    fills = re.findall(r"<patternFill\b.*?</patternFill>", dxfs, re.S)
    assert fills and all("<bgColor" in f and "<fgColor" in f for f in fills)
    assert '<bgColor rgb="00F8CBAD"/>' in dxfs


def test_in_excel_a_note_in_the_way_or_a_changed_heading_stops_the_run_before_any_write(fresh):
    """The live door refuses as the file writer does: nothing is written into the open workbook when a
    region would grow over staff content or a table's headings no longer read the add-in's columns."""
    from xladdin import excel

    os.chdir(fresh)
    for sheet, where, text in (("历史", (60, 2), "领导批示：本周重点督办"),  # below the 历史 table
                               ("汇总", (3, 5), "备注")):  # a heading staff renamed
        payload = payload_for(fresh / MASTER_NAME)
        values = next(s for s in payload["sheets"] if s["name"] == sheet)["values"]
        while len(values) < where[0]:
            values.append([""] * len(values[0]))
        values[where[0] - 1][where[1] - 1] = text
        book = xw.Book(json=payload)
        book.set_mock_caller()
        message = excel.xladdin_run()
        actions = actions_of(book)
        assert not [a for a in actions if a["func"] in ("setValues", "resizeTable", "addHyperlink",
                                                         "setNameRefersTo")], sheet
        assert f"“{sheet}”" in message and "母表未作任何改动" in message
        assert [a["args"][0] for a in actions if a["func"] == "alert"] == [message]


def test_templates_macro_writes_what_the_command_writes_from_the_history(fresh, monkeypatch, tmp_path_factory):
    """Both doors fill each group's ledger with its last accepted figures through one function."""
    import openpyxl
    from click.testing import CliRunner

    from xladdin import excel
    from xladdin.cli import main
    from xladdin.engine.pipeline import execute

    master = fresh / MASTER_NAME
    execute(master)
    command_out = tmp_path_factory.mktemp("command")
    assert CliRunner().invoke(main, ["templates", str(master), "--out", str(command_out)]).exit_code == 0
    monkeypatch.chdir(fresh)  # the remote engine's book has no folder: the macro writes beside the working directory
    book = remote_book(master, folders(fresh))
    book.set_mock_caller()
    assert "已生成 6 个工作组的填报模板" in excel.xladdin_templates()

    def figures(path):
        ws = openpyxl.load_workbook(path).active
        return [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_col=13)]

    made = sorted((fresh / "填报模板").glob("*.xlsx"))
    assert len(made) == 6
    for path in made:
        assert figures(path) == figures(command_out / path.name)
        assert any(isinstance(v, float) and v > 0 for row in figures(path) for v in row)
