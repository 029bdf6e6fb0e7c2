"""Nothing lost: staff content survives runs byte for byte; crashes, concurrency, rollback, archive."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import zipfile

import openpyxl
import pandas as pd
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from xladdin.base.faults import POINTS, VARIABLE
from xladdin.base.schema import SUMMARY_FIELDS, column_letter
from xladdin.demo import MASTER_NAME
from xladdin.engine.pipeline import execute
from xladdin.engine.rollback import roll_back
from xladdin.workbook.package import MasterBook

from .campaigns import generate
from .conftest import AS_OF, recalculate, table_frame

# One worker runs this module (pytest-xdist --dist loadgroup): its module fixture (reference_run) is built once.
pytestmark = pytest.mark.xdist_group("fidelity")

BUTTON_VML = """<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="9"/>
 </o:shapelayout><v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">
 </v:shapetype><v:shape id="_x0000_s9217" type="#_x0000_t201" style="position:absolute;margin-left:300pt;
 margin-top:20pt;width:96pt;height:30pt;z-index:1" o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]"
 o:insetmode="auto"><v:textbox style="mso-direction-alt:auto"><div style="text-align:center"><font face="宋体"
 size="220">一键汇总</font></div></v:textbox><x:ClientData ObjectType="Button"><x:Anchor>5, 0, 1, 0, 7, 0, 3, 0
 </x:Anchor><x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill><x:FmlaMacro>[0]!RunAll</x:FmlaMacro>
 <x:TextHAlign>Center</x:TextHAlign><x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape></xml>"""
CTRL_PROP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<formControlPr '
             'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" objectType="Button" '
             'lockText="1"/>')


def add_staff_content(master):
    """What staff do to their master over weeks, done with openpyxl, then a form button added the way
    Excel stores one (a VML shape calling a macro, and its control properties)."""
    wb = openpyxl.load_workbook(master, keep_vba=True)
    notes = wb.create_sheet("领导批示")
    notes["A1"] = "请各组加快进度，本周内完成城南片区清表。"
    summary = wb["汇总"]
    summary.column_dimensions["B"].width = 40
    summary["J4"].number_format = "0.0%"
    chart = BarChart()
    chart.title = "各项目累计征地"
    chart.add_data(Reference(summary, min_col=9, min_row=3, max_row=21), titles_from_data=True)
    summary.add_chart(chart, "AH3")
    wb["红黑榜"]["L1"].comment = Comment("黑榜单位周五前书面说明原因", "指挥长")
    for row in wb["控制台"]["D3:F5"]:
        for cell in row:
            cell.fill = PatternFill("solid", fgColor="FFFF00")
    wb["历史"].freeze_panes = "C4"
    validation = DataValidation(type="list", formula1='"已阅,未阅"')
    validation.add("B20")
    wb["控制台"].add_data_validation(validation)
    wb.save(master)
    _add_button(master)


def _add_button(master):
    with zipfile.ZipFile(master) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    sheet = "xl/worksheets/sheet1.xml"  # 控制台
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    xml = parts[sheet].decode()
    at = xml.index("<tableParts")
    parts[sheet] = (xml[:at] + '<legacyDrawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                    'relationships" r:id="rIdBtn1"/>' + xml[at:]).encode()
    parts[rels] = parts[rels].replace(b"</Relationships>", (
        b'<Relationship Id="rIdBtn1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'vmlDrawing" Target="../drawings/vmlDrawing9.vml"/><Relationship Id="rIdBtn2" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/ctrlProp" Target="../ctrlProps/ctrlProp1.xml"/>'
        b'</Relationships>'))
    parts["xl/drawings/vmlDrawing9.vml"] = BUTTON_VML.encode()
    parts["xl/ctrlProps/ctrlProp1.xml"] = CTRL_PROP.encode()
    types = parts["[Content_Types].xml"].decode()
    if 'Extension="vml"' not in types:
        types = types.replace("<Default ", '<Default Extension="vml" ContentType="application/vnd.openxmlformats-'
                              'officedocument.vmlDrawing"/><Default ', 1)
    types = types.replace("</Types>", '<Override PartName="/xl/ctrlProps/ctrlProp1.xml" ContentType="application/'
                          'vnd.ms-excel.controlproperties+xml"/></Types>')
    parts["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def package_parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def owned_parts(path) -> set[str]:
    """The parts the add-in may change: managed sheets, their rels and tables, its charts, workbook.xml."""
    book = MasterBook.open(path)
    sheets = {book.tables[name].sheet for name in book.tables} | {"通报"}
    owned = {"xl/workbook.xml"}
    for sheet in sheets:
        part = book.sheet_parts[sheet]
        folder, name = part.rsplit("/", 1)
        owned |= {part, f"{folder}/_rels/{name}.rels"}
    owned |= {table.part for table in book.tables.values()}
    # The add-in's own charts, over 图表: their ranges follow the tables they plot.
    owned |= {name for name, data in book.parts.items() if name.startswith("xl/charts/") and "'图表'!".encode() in data}
    return owned


@pytest.fixture
def fresh_demo(tmp_path, demo_at):
    """A demo campaign that has not run yet."""
    demo_at(tmp_path, AS_OF)
    return tmp_path


@pytest.mark.libreoffice
def test_staff_content_survives_two_runs_and_other_parts_stay_byte_identical(fresh_demo, tmp_path):
    master = fresh_demo / MASTER_NAME
    add_staff_content(master)
    before = package_parts(master)
    execute(master, as_of=AS_OF)
    (fresh_demo / "报送" / "late.xlsx").write_bytes((fresh_demo / "报送" / "高铁新区工作组_1124.xlsx").read_bytes())
    execute(master, as_of=AS_OF)
    after = package_parts(master)
    changed = {name for name in before if before[name] != after.get(name)}
    assert set(before) <= set(after)
    assert changed <= owned_parts(master), changed - owned_parts(master)
    for part in ("xl/vbaProject.bin", "xl/drawings/vmlDrawing9.vml", "xl/ctrlProps/ctrlProp1.xml"):
        assert after[part] == before[part]
    assert b'r:id="rIdBtn1"' in after["xl/worksheets/sheet1.xml"]  # the button is still on 控制台
    wb = openpyxl.load_workbook(master)
    assert wb["领导批示"]["A1"].value.startswith("请各组")
    assert wb["汇总"].column_dimensions["B"].width == 40
    assert [name for name, data in after.items() if name.startswith("xl/charts/chart") and
            "各项目累计征地".encode() in data]  # the staff chart is still in the package
    assert wb["红黑榜"]["L1"].comment.text == "黑榜单位周五前书面说明原因"
    assert wb["控制台"]["E4"].fill.fgColor.rgb.endswith("FFFF00")
    assert wb["历史"].freeze_panes == "C4"
    assert any("B20" in str(dv.sqref) for dv in wb["控制台"].data_validations.dataValidation)
    summary = wb["汇总"]
    assert all(summary.cell(r, 10).number_format == "0.0%" for r in range(4, 22))  # staff format kept
    assert summary["A4"].value == "SJ-01" and summary.tables["tblSummary"].ref == f"A3:{column_letter(len(SUMMARY_FIELDS))}21"
    converted = recalculate(master, tmp_path)  # LibreOffice still opens it and computes the ranking
    ranking = table_frame(converted, "tblRanking", data_only=True)
    assert ranking["征地完成率排名"].notna().all()


def _cli_run(master, crash_at: str | None = None, **kwargs) -> subprocess.Popen:
    """`xladdin run` on a master in a new process, killed or stopped at a named crash point."""
    env = {**os.environ, VARIABLE: crash_at} if crash_at else {k: v for k, v in os.environ.items() if k != VARIABLE}
    return subprocess.Popen([sys.executable, "-m", "xladdin.cli", "run", str(master), "--as-of", AS_OF.isoformat()],
                            env=env, **kwargs)


# Where each crash point leaves the master: the old one until the atomic replace, the new one after.
SIDE = {"reading": "old", "written": "old", "backed-up": "old", "committed": "old", "temp-written": "old",
        "replaced": "new"}


def test_every_crash_point_has_its_expected_side():
    assert set(SIDE) == set(POINTS)


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, pristine_demos):
    """The demo campaign before a run (a pristine copy) and the summary a complete run gives."""
    base = tmp_path_factory.mktemp("crash")
    shutil.copytree(pristine_demos(AS_OF), base / "pristine")
    reference = base / "reference"
    shutil.copytree(base / "pristine", reference)
    assert _cli_run(reference / MASTER_NAME, stdout=subprocess.DEVNULL).wait() == 0
    return base / "pristine", table_frame(reference / MASTER_NAME, "tblSummary")


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_each_crash_point_leaves_the_old_or_the_new_master_and_the_next_run_repairs_it(
        reference_run, tmp_path, point):
    pristine_dir, expected = reference_run
    work = tmp_path / "campaign"
    shutil.copytree(pristine_dir, work)
    master = work / MASTER_NAME
    pristine = hashlib.sha256(master.read_bytes()).hexdigest()
    process = _cli_run(master, point, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert process.wait() == -signal.SIGKILL  # it reached the point
    MasterBook.open(master)  # always a usable package
    if SIDE[point] == "old":
        assert hashlib.sha256(master.read_bytes()).hexdigest() == pristine
    else:
        pd.testing.assert_frame_equal(table_frame(master, "tblSummary"), expected)
    for saved in (work / "备份").glob("*.xlsm") if (work / "备份").exists() else []:
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == pristine
    # The next run repairs whatever the kill interrupted (its lock file names a process that is gone).
    execute(master, as_of=AS_OF)
    pd.testing.assert_frame_equal(table_frame(master, "tblSummary"), expected)
    assert not (work / f".~{master.name}.lock").exists()
    assert not list(work.glob(".~*.tmp"))  # nor the temporary master a kill mid-save left


def test_two_concurrent_runs_one_writes_the_other_exits_3(tmp_path):
    master = generate(tmp_path, 6, 5)
    lock = tmp_path / f".~{master.name}.lock"
    first = _cli_run(master, "committed:stop", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status = os.waitpid(first.pid, os.WUNTRACED)  # frozen mid-run, holding the lock
    assert os.WIFSTOPPED(status) and lock.exists()
    before = hashlib.sha256(master.read_bytes()).hexdigest()
    second = _cli_run(master, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, error = second.communicate()
    assert second.returncode == 3 and "另一次汇总" in error
    assert hashlib.sha256(master.read_bytes()).hexdigest() == before  # the second wrote nothing
    first.send_signal(signal.SIGCONT)
    first.communicate()
    assert first.returncode == 0
    assert hashlib.sha256(master.read_bytes()).hexdigest() != before  # the first did write
    assert not lock.exists()


def test_rollback_restores_the_master_and_forgets_the_run(fresh_demo):
    master = fresh_demo / MASTER_NAME
    pristine = master.read_bytes()
    execute(master, as_of=AS_OF)
    after_first = master.read_bytes()
    extra = fresh_demo / "报送" / "城南片区工作组_1124_补充.xlsx"
    wb = openpyxl.load_workbook(fresh_demo / "报送" / "城南片区工作组_1124.xlsx")
    wb["进度台账"]["P5"] = "resubmitted"  # different content: a new submission superseding the first
    wb.save(extra)
    second = execute(master, as_of=AS_OF)
    assert [f.status for f in second.files if f.file == extra.name] == ["已接收"]
    run, forgotten = roll_back(master)
    assert forgotten == 1 and master.read_bytes() == after_first
    again = execute(master, as_of=AS_OF, write=False)
    assert [f.status for f in again.files if f.file == extra.name] == ["已接收"]  # new again, not known
    roll_back(master)  # a check with write=False is not a run: this undoes the first run
    assert master.read_bytes() == pristine
    with pytest.raises(Exception, match="没有可以撤销"):
        roll_back(master)


def test_every_new_submission_is_archived_before_it_is_read(demo):
    directory, manifest, result = demo
    archived = list((directory / "归档").rglob("*"))
    contents = {f.sha256 for f in result.files}
    assert len([p for p in archived if p.is_file()]) == len(contents)
    for path in archived:
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest()[:12] == path.name[:12]


# Run as a child subreaper: the reader processes a killed run orphans become this script's children,
# so it can wait for every one of them to exit (and count them) without guessing how long that takes.
SUBREAPER = r"""
import ctypes, json, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
run = subprocess.Popen([sys.executable, "-m", "xladdin.cli", "run", sys.argv[1], "--as-of", sys.argv[2]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
run.wait()
readers = 0
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
    readers += 1
print(json.dumps({"run": run.returncode, "readers": readers}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child subreaper is a Linux feature")
def test_a_killed_run_leaves_no_reader_processes_behind(fresh_demo):
    import json

    master = fresh_demo / MASTER_NAME
    done = subprocess.run([sys.executable, "-c", SUBREAPER, str(master), AS_OF.isoformat()], capture_output=True,
                          text=True, timeout=600, env={**os.environ, VARIABLE: "reading"}, check=True)
    outcome = json.loads(done.stdout)
    assert outcome["run"] == -signal.SIGKILL  # killed while its readers were working
    assert outcome["readers"] >= 1  # they were there, became orphans, and every one of them exited


def test_an_empty_text_is_written_as_a_blank_cell(demo):
    """A project with no 存在问题 gets a blank cell, not an empty string: COUNTA, ISBLANK and Ctrl+arrow
    treat it as the empty cell staff see."""
    directory, _, result = demo
    book = MasterBook.open(directory / MASTER_NAME)
    assert (result.summary["problems"] == "").any()
    for sheet, part in book.sheet_parts.items():
        assert '<t xml:space="preserve"></t>' not in book.parts[part].decode("utf-8"), sheet
    ws = openpyxl.load_workbook(directory / MASTER_NAME)["汇总"]
    header = next(r for r in ws.iter_rows() if any(c.value == "存在问题" for c in r))
    column = next(c.column for c in header if c.value == "存在问题")
    values = [ws.cell(r, column).value for r in range(header[0].row + 1, ws.max_row + 1)]
    assert None in values and "" not in values
