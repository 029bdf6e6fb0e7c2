"""The xlwings door: macros on xlwings' remote engine, worksheet functions through xlwings Server's
call path, and a master ready for classic xlwings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from xladdin.demo import MASTER_NAME

from .xlwings_payload import payload_for

import xlwings as xw  # noqa: E402  (the payload module set the licence key first)


def remote_book(master, overrides):
    return xw.Book(json=payload_for(master, overrides))


def folders(base) -> dict[str, object]:
    return {"收件箱文件夹": str(base / "报送"), "历史库文件": str(base / "历史库.sqlite"),
            "归档文件夹": str(base / "归档"), "退回文件夹": str(base / "退回"), "备份文件夹": str(base / "备份")}


@pytest.fixture
def fresh(tmp_path):
    """A demo campaign ending today: macros take no date, they run as of today as staff would."""
    import datetime as dt

    from xladdin.demo import build_demo

    build_demo(tmp_path, dt.date.today())
    return tmp_path


def actions_of(book) -> list[dict]:
    return book.json()["actions"]


def test_run_macro_on_the_remote_engine_writes_each_region_once(fresh):
    from xladdin import excel

    book = remote_book(fresh / MASTER_NAME, folders(fresh))
    book.set_mock_caller()
    message = excel.xladdin_run()
    assert "新接收 77 个" in message and "退回 8 个" in message
    actions = actions_of(book)
    writes = [a for a in actions if a["func"] == "setValues"]
    sheets = [s["name"] for s in payload_for(fresh / MASTER_NAME)["sheets"]]
    by_sheet = {}
    for action in writes:
        by_sheet.setdefault(sheets[action["sheet_position"]], []).append(action)
    # One write per managed table, plus the named title cells (红黑榜: title, period, 全县 line).
    assert len(by_sheet["汇总"]) == 2 and len(by_sheet["红黑榜"]) == 4 and len(by_sheet["校验报告"]) == 2
    summary = next(a for a in by_sheet["汇总"] if a["row_count"] > 1)
    assert (summary["start_row"], summary["start_column"], summary["row_count"]) == (3, 0, 18)
    assert summary["values"][0][0] == "SJ-01" and summary["values"][0][8] == pytest.approx(
        summary["values"][0][8])
    ranking = next(a for a in by_sheet["红黑榜"] if a["row_count"] > 1)
    assert ranking["values"][0][0] == "高铁新区工作组" and ranking["values"][0][1].startswith("=IF(")
    assert any(a["func"] == "resizeTable" for a in actions)
    assert any(a["func"] == "alert" and "新接收" in a["args"][0] for a in actions)
    # A submitted text beginning with "=" would be written as text, never as a formula.
    assert not any(isinstance(v, str) and v.startswith("=") and not v.startswith(("=IF(", "=TRIM(", "=COUNTIF("))
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
]


def test_worksheet_functions_through_the_xlwings_server_call_path():
    import json

    done = subprocess.run([sys.executable, "-c", UDF_SCRIPT], input=json.dumps(CALLS), capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)
    out = json.loads(done.stdout)
    results = [r["result"] if isinstance(r, dict) else r for r in out["results"]]
    assert results == [
        [[0.25]], [[""]], [[""]], [["请填数字"]], [["请填数字"]],
        [[2]], [[3]], [[""]],
        [[1], [2], [2], [""], [""], [4]],
        [["红榜"]], [["黑榜"]], [[""]],
        [[2]], [["红榜"]], [["红黑榜中没有“丙组”"]], [["找不到红黑榜表"]],
        [[2 / 3]], [[7]], [[0]], [[""]],
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

    scripts = {name for name in dir(excel) if name.startswith("xladdin_")}
    macros = [m.split("!")[-1] for m in __import__("re").findall(r"<x:FmlaMacro>([^<]+)</x:FmlaMacro>", vml)]
    assert macros and set(macros) <= scripts and len(macros) == len(BUTTONS)


def test_launchers_run_the_headless_job(fresh):
    from xladdin.workbook.build import write_launchers

    write_launchers(fresh, MASTER_NAME)
    cmd = (fresh / "一键汇总.cmd").read_text(encoding="gbk")
    assert MASTER_NAME in cmd and "xladdin" in cmd
    script = fresh / "一键汇总.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert "新接收 77 个" in done.stdout
    shutil.rmtree(fresh / "归档")
