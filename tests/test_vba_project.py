"""The master's VBA project, checked by readers that are not this package: oletools' olevba, olefile and
LibreOffice (over UNO), plus the rewrite that keeps staff modules."""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser, decompress_stream

from xladdin.base.errors import MasterUnusable
from xladdin.demo import MASTER_NAME
from xladdin.workbook.build import BUTTONS, build_master
from xladdin.workbook.layout import MANAGED_SHEETS
from xladdin.workbook.vba import cfb
from xladdin.workbook.vba.modules import (
    BUTTONS_MODULE,
    SELFTEST,
    SELFTEST_RESULT,
    WITHDRAW_ASK,
    WITHDRAW_MACRO,
    WRAPPER_MODULE,
    document_module,
    refresh_master_project,
    refresh_project,
    wrapper_module,
)
from xladdin.workbook.vba.ovba import compress, decompress
from xladdin.workbook.vba.project import CLASS, MODULE, Module, build_project
from xladdin.workbook.vba.rewrite import VbaProjectError, read_modules

from .conftest import examples

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
FMLA_MACRO = re.compile(r"<x:FmlaMacro>\[0\]!([A-Za-z_][A-Za-z0-9_]*)</x:FmlaMacro>")
PROCEDURE = re.compile(r"^(?:Public\s+)?(Sub|Function)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)", re.M)


def vba_bin(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/vbaProject.bin")


def olevba_modules(source) -> dict[str, str]:
    """Module name -> source, as olevba extracts them (path of a workbook, or a vbaProject.bin's bytes)."""
    parser = VBA_Parser("vbaProject.bin", data=source) if isinstance(source, bytes) else VBA_Parser(str(source))
    try:
        return {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def procedures(modules: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    """Procedure name -> (module, Sub/Function, parameter list)."""
    found = {}
    for module, code in modules.items():
        for kind, name, params in PROCEDURE.findall(code):
            found[name] = (module, kind, params)
    return found


def button_macros(path: Path) -> list[str]:
    """The macros the saved drawings bind buttons to, read from the package's VML."""
    with zipfile.ZipFile(path) as archive:
        return [m for name in archive.namelist() if name.endswith(".vml")
                for m in FMLA_MACRO.findall(archive.read(name).decode("utf-8"))]


def docstrings() -> dict[str, str]:
    """Each macro's docstring, and each worksheet function's description (worksheet.DESCRIPTIONS, which
    excel.py's @described sets as its docstring)."""
    from xladdin.domain.worksheet import DESCRIPTIONS, description

    tree = ast.parse((ROOT / "xladdin" / "excel.py").read_text(encoding="utf-8"))
    return {n.name: description(n.name) if n.name in DESCRIPTIONS else ast.get_docstring(n)
            for n in tree.body if isinstance(n, ast.FunctionDef)}


def decorated(decorator: str) -> dict[str, list[tuple[str, bool]]]:
    """Every function of xladdin/excel.py under @xw.<decorator> with its (parameter, has default) list, read
    from the source rather than through xlwings."""
    tree = ast.parse((ROOT / "xladdin" / "excel.py").read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(ast.unparse(d) in (f"xw.{decorator}", f"xw.{decorator}()")
                                                     for d in node.decorator_list):
            args = node.args.args
            first_default = len(args) - len(node.args.defaults)
            found[node.name] = [(a.arg, i >= first_default) for i, a in enumerate(args)]
    return found


def with_project(master: Path, project: bytes, target: Path) -> Path:
    """A copy of master whose xl/vbaProject.bin is project."""
    with zipfile.ZipFile(master) as archive:
        infos = archive.infolist()
        parts = {i.filename: archive.read(i) for i in infos}
    parts["xl/vbaProject.bin"] = project
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename])
    return target


def decrypt(text: str, project_id: str) -> bytes:
    """[MS-OVBA] 2.4.3.3, written here from the specification, independently of the package's encrypt."""
    data = bytes.fromhex(text)
    seed, version_enc, key_enc = data[0], data[1], data[2]
    assert seed ^ version_enc == 2
    assert seed ^ key_enc == sum(project_id.encode()) & 0xFF
    plain1, enc1, enc2 = key_enc ^ seed, key_enc, version_enc
    out = []
    for byte in data[3:]:
        plain = byte ^ ((enc2 + plain1) & 0xFF)
        out.append(plain)
        plain1, enc2, enc1 = plain, enc1, byte
    ignored = (seed & 6) // 2
    length = struct.unpack("<I", bytes(out[ignored:ignored + 4]))[0]
    body = bytes(out[ignored + 4:])
    assert len(body) == length
    return body


def project_properties(project: bytes) -> dict[str, str]:
    with olefile.OleFileIO(io.BytesIO(project)) as ole:
        text = ole.openstream("PROJECT").read().decode("ascii")
    return dict(line.split("=", 1) for line in text.split("\r\n") if "=" in line and not line.startswith("["))


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    return build_master(tmp_path_factory.mktemp("vba") / MASTER_NAME)


# -- the demo master, as olevba reads it -----------------------------------------------------------------

def test_every_button_of_the_demo_master_names_a_sub_that_olevba_finds(demo):
    directory, _, _ = demo
    path = directory / MASTER_NAME
    buttons = button_macros(path)
    assert sorted(buttons) == sorted(macro for _, macro in BUTTONS)
    # one button per @xw.script of xladdin.excel: directly, or through the Sub of ours that asks first
    scripts = decorated("script")
    assert set(buttons) == set(scripts) - {WITHDRAW_MACRO} | {WITHDRAW_ASK}
    modules = olevba_modules(path)
    found = procedures(modules)

    def body(macro: str) -> str:
        return modules[found[macro][0]].split(f"Sub {macro}(", 1)[1].split("End Sub", 1)[0]

    for macro in [*buttons, WITHDRAW_MACRO]:
        assert found[macro][1] == "Sub", macro
        if macro == WITHDRAW_ASK:
            continue
        # each runs its Python macro of the UDF module named in xlwings.conf, the book found by the caller
        arguments = ", ".join(name for name, _ in scripts[macro])
        assert (f'XLPy.CallUDF "xladdin.excel", "{macro}", Array({arguments}), ThisWorkbook, Application.Caller'
                in body(macro))
    # 撤回报送 asks which and why (InputBox), then calls the withdraw macro with them and Excel's user name.
    asks = body(WITHDRAW_ASK)
    assert found[WITHDRAW_ASK][0] == BUTTONS_MODULE and asks.count("InputBox(") == 2
    assert f"{WITHDRAW_MACRO} submission, why, Application.UserName" in asks
    assert [name for name, _ in scripts[WITHDRAW_MACRO]][:3] == ["submission", "why", "who"]


def test_the_wrappers_call_the_module_that_xlwings_conf_names(master):
    import openpyxl

    conf = openpyxl.load_workbook(master, read_only=True)["xlwings.conf"]
    udf_modules = {row[0]: row[1] for row in conf.iter_rows(values_only=True)}["UDF Modules"]
    code = olevba_modules(master)[WRAPPER_MODULE]
    called = set(re.findall(r'XLPy\.CallUDF\(?"([^"]+)"', code))
    assert called == {udf_modules}


def test_every_worksheet_function_has_the_wrapper_import_functions_would_write(master):
    functions = decorated("func")
    assert {"COMPLETION_RATE", "RANK_LOOKUP", "RANKS"} <= set(functions)
    found = procedures(olevba_modules(master))
    for name, params in functions.items():
        module, kind, vba_params = found[name]
        assert (module, kind) == (WRAPPER_MODULE, "Function"), name
        expected = ", ".join(("Optional " if optional else "") + arg for arg, optional in params)
        assert vba_params == expected, name


def test_every_wrapper_carries_its_chinese_description_for_the_insert_function_dialog(master):
    code = olevba_modules(master)[WRAPPER_MODULE].replace("\r\n", "\n")
    described = dict(re.findall(r'^Attribute (\w+)\.VB_Description = "(.*)"$', code, re.M))
    docs = docstrings()
    for name in [*decorated("func"), *decorated("script")]:
        assert described[name] == " ".join(docs[name].split()), name
        assert re.search(rf"^(Function|Sub) {name}\(.*\)\nAttribute {name}\.VB_Description", code, re.M), name


def test_nothing_is_left_over_from_the_quickstart_project(master):
    modules = olevba_modules(master)
    assert "Module1" not in modules
    assert not any("SampleCall" in code for code in modules.values())
    sheets = [f"Sheet{i}" for i in range(1, len(MANAGED_SHEETS) + 1)]  # a code module per sheet, xlwings.conf too
    assert sorted(modules) == sorted(["ThisWorkbook", *sheets, "xlwings",
                                      "Dictionary", WRAPPER_MODULE, BUTTONS_MODULE])


def test_the_xlwings_module_is_the_installed_one_and_its_dll_matches_the_pin(master):
    installed = (Path(xlwings.__file__).parent / "xlwings.bas").read_text(encoding="ascii")
    module = olevba_modules(master)["xlwings"]
    assert module.replace("\r\n", "\n").strip() == installed.replace("\r\n", "\n").strip()
    dlls = set(re.findall(r'"xlwings(?:32|64)-([0-9.]+)\.dll"', module))
    pin = [d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
           if d.startswith("xlwings")]
    assert dlls == {xlwings.__version__}
    assert pin == [f"xlwings=={xlwings.__version__}"]


def test_sheets_and_workbook_carry_the_code_names_of_the_document_modules(master):
    import openpyxl

    wb = openpyxl.load_workbook(master, keep_vba=True)
    modules = olevba_modules(master)
    assert wb.code_name == "ThisWorkbook" and "ThisWorkbook" in modules
    names = [ws.sheet_properties.codeName for ws in wb.worksheets]
    assert all(names) and len(set(names)) == len(names)
    assert set(names) == {m for m in modules if m.startswith("Sheet")}
    for name in names:
        assert '"0{00020820-0000-0000-C000-000000000046}"' in modules[name]


def test_building_twice_gives_the_same_project_bytes(master, tmp_path):
    again = build_master(tmp_path / MASTER_NAME)
    assert vba_bin(again) == vba_bin(master)


# -- the container and the streams ---------------------------------------------------------------------

def test_the_project_is_source_only_with_no_performance_cache(master):
    project = vba_bin(master)
    with olefile.OleFileIO(io.BytesIO(project)) as ole:
        assert ole.openstream("VBA/_VBA_PROJECT").read() == struct.pack("<HHBH", 0x61CC, 0xFFFF, 0, 0)
        streams = ["/".join(p) for p in ole.listdir()]
        assert not any("SRP" in s for s in streams)
        for name in olevba_modules(master):
            raw = ole.openstream(f"VBA/{name}").read()
            # the whole stream is one compressed container: source from offset 0, nothing in front of it
            assert bytes(decompress_stream(bytearray(raw))).startswith(f'Attribute VB_Name = "{name}"'.encode())
        assert "PROJECTwm" in streams
    assert project_properties(project)["Name"] == '"VBAProject"'


def test_protection_fields_decrypt_to_an_unprotected_visible_project(master):
    # the decryptor is first checked on the project Excel wrote for xlwings' quickstart
    quickstart = project_properties(vba_bin(QUICKSTART))
    qid = quickstart["ID"].strip('"')
    assert decrypt(quickstart["CMG"].strip('"'), qid) == bytes(4)
    assert decrypt(quickstart["DPB"].strip('"'), qid) == b"\0"
    assert decrypt(quickstart["GC"].strip('"'), qid) == b"\xff"
    ours = project_properties(vba_bin(master))
    pid = ours["ID"].strip('"')
    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", pid)
    assert decrypt(ours["CMG"].strip('"'), pid) == bytes(4)
    assert decrypt(ours["DPB"].strip('"'), pid) == b"\0"
    assert decrypt(ours["GC"].strip('"'), pid) == b"\xff"


def _check_red_black(ole: olefile.OleFileIO) -> int:
    """Every storage's children form a binary search tree in [MS-CFB] 2.6.4 order that is a valid
    red-black tree; returns the number of entries checked."""
    entries = ole.direntries
    checked = 0

    def key(entry):
        return len(entry.name.encode("utf-16-le")), [ord(c.upper()) for c in entry.name]

    def walk(sid, low, high) -> int:
        nonlocal checked
        if sid == olefile.NOSTREAM:
            return 1
        entry = entries[sid]
        checked += 1
        assert (low is None or key(low) < key(entry)) and (high is None or key(entry) < key(high))
        for child in (entry.sid_left, entry.sid_right):
            if entry.color == 0 and child != olefile.NOSTREAM:
                assert entries[child].color == 1, "a red node has a red child"
        left = walk(entry.sid_left, low, entry)
        right = walk(entry.sid_right, entry, high)
        assert left == right, "black heights differ"
        return left + (entry.color == 1)

    for entry in entries:
        if entry is not None and entry.sid_child != olefile.NOSTREAM:
            assert entries[entry.sid_child].color == 1, "a tree's root is black"
            walk(entry.sid_child, None, None)
    return checked


def test_olefile_reads_the_compound_file_and_its_trees_are_valid(master):
    with olefile.OleFileIO(io.BytesIO(vba_bin(master))) as ole:
        assert _check_red_black(ole) == len(ole.listdir(streams=True, storages=True))
        assert ole.get_size("VBA/xlwings") > 4096 > ole.get_size("VBA/dir")  # a regular and a mini stream


@pytest.mark.parametrize("count", [1, 2, 3, 7, 40, 129])
def test_compound_files_of_any_size_read_back_with_olefile(count):
    streams = {f"S{i:03d}{'x' * (i % 5)}": bytes([i % 251]) * (i * 97 % 9000) for i in range(count)}
    data = cfb.write(cfb.Storage({"Inner": cfb.Storage(dict(streams)), **streams}))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        for name, content in streams.items():
            assert ole.openstream(name).read() == content
            assert ole.openstream(f"Inner/{name}").read() == content
        _check_red_black(ole)


@settings(max_examples=examples(60), deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(alphabet="Sub End()=\r\n xyz\"'.1", max_size=12000)))
def test_compression_is_read_back_by_oletools(data):
    raw = data.encode() if isinstance(data, str) else data
    compressed = compress(raw)
    assert bytes(decompress_stream(bytearray(compressed))) == raw
    assert decompress(compressed) == raw


def test_decompression_reads_what_excel_compressed():
    with olefile.OleFileIO(io.BytesIO(vba_bin(QUICKSTART))) as ole:
        for name in ("VBA/dir", "VBA/xlwings"):  # streams whose compressed data starts at offset 0
            raw = ole.openstream(name).read()
            assert decompress(raw) == bytes(decompress_stream(bytearray(raw)))


def test_reading_an_excel_written_project_agrees_with_olevba():
    project = vba_bin(QUICKSTART)
    expected = olevba_modules(project)
    modules = read_modules(project)
    assert [m.name for m in modules] == list(expected)
    for module in modules:  # several start after a performance cache: the dir stream's offsets are honoured
        text = module.text(1252).replace("\r\n", "\n").strip()
        assert text == expected[module.name].replace("\r\n", "\n").strip(), module.name
    kinds = {m.name: m.kind for m in modules}
    assert (kinds["ThisWorkbook"], kinds["Sheet1"], kinds["Module1"], kinds["Dictionary"]) == (
        "document", "document", "module", "class")


# -- rewriting an existing project -----------------------------------------------------------------------

STAFF_MODULE = ('Attribute VB_Name = "StaffTools"\r\n'
                "' 指挥部自己写的宏：每天九点提醒\r\n"
                "Sub RemindAtNine()\r\n"
                '    MsgBox "请各工作组在21:00前报送台账", vbInformation, "提醒"\r\n'
                "End Sub\r\n").encode("cp936")
STAFF_WORKBOOK = ('Attribute VB_Name = "ThisWorkbook"\r\n'
                  'Attribute VB_Base = "0{00020819-0000-0000-C000-000000000046}"\r\n'
                  "Attribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n"
                  "Attribute VB_PredeclaredId = True\r\nAttribute VB_Exposed = True\r\n"
                  "Attribute VB_TemplateDerived = False\r\nAttribute VB_Customizable = True\r\n"
                  "Private Sub Workbook_Open()\r\n    StaffTools.RemindAtNine\r\nEnd Sub\r\n").encode("cp936")


def staff_project(stale_wrappers: bool = True) -> bytes:
    """A master's project as staff left it: their module, their Workbook_Open, and our wrappers of an older
    release (one function fewer)."""
    wrappers = wrapper_module()
    if stale_wrappers:
        code = wrappers.code.split(b"Function DAYS_LEFT(")[0]
        wrappers = Module(wrappers.name, MODULE, code)
    staff = Module("StaffTools", MODULE, STAFF_MODULE)
    return build_project([Module("ThisWorkbook", "document", STAFF_WORKBOOK), document_module("Sheet1"), staff,
                          wrappers])


def raw_sources(project: bytes) -> dict[str, bytes]:
    """Module stream -> decompressed bytes, read with olefile and oletools only."""
    with olefile.OleFileIO(io.BytesIO(project)) as ole:
        return {p[1]: bytes(decompress_stream(bytearray(ole.openstream(p).read())))
                for p in ole.listdir() if p[0] == "VBA" and p[1] not in ("dir", "_VBA_PROJECT")}


def test_rewriting_keeps_staff_modules_with_identical_source_and_renews_ours():
    before = staff_project()
    after = refresh_project(before)
    old, new = raw_sources(before), raw_sources(after)
    assert new["StaffTools"] == old["StaffTools"] == STAFF_MODULE
    assert new["ThisWorkbook"] == STAFF_WORKBOOK and new["Sheet1"] == old["Sheet1"]
    assert b"Function DAYS_LEFT(" not in old[WRAPPER_MODULE] and b"Function DAYS_LEFT(" in new[WRAPPER_MODULE]
    modules = olevba_modules(after)
    assert list(modules)[:4] == ["ThisWorkbook", "Sheet1", "StaffTools", WRAPPER_MODULE]
    assert {"xlwings", "Dictionary"} <= set(modules)
    assert "请各工作组在21:00前报送台账" in modules["StaffTools"]
    items = [line for line in olefile.OleFileIO(io.BytesIO(after)).openstream("PROJECT").read().split(b"\r\n")
             if line.split(b"=")[0] in (b"Document", b"Module", b"Class")]
    assert len(items) == len(set(items)) == len(modules)  # each module listed once in the PROJECT stream
    assert refresh_project(after) == after  # a second rewrite changes nothing


def test_rewriting_the_quickstart_project_drops_only_its_leftover():
    before = vba_bin(QUICKSTART)
    old = olevba_modules(before)
    with olefile.OleFileIO(io.BytesIO(before)) as ole:
        with pytest.raises(Exception):  # Excel's sheet modules carry a performance cache before the source
            decompress_stream(bytearray(ole.openstream("VBA/Sheet1").read()))
    after = refresh_project(before)
    new = raw_sources(after)  # decompressed from offset 0: the caches are gone
    assert "Module1" in old and "Module1" not in new
    for name in ("ThisWorkbook", "Sheet1", "Sheet2"):
        assert new[name].decode("cp1252").replace("\r\n", "\n").strip() == old[name].replace("\r\n", "\n").strip()
    # the project's own references (MSForms, Office) are kept as they were
    with olefile.OleFileIO(io.BytesIO(after)) as ole:
        directory = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    assert b"Microsoft Forms 2.0 Object Library" in directory and b"MSO.DLL" in directory
    assert set(procedures(olevba_modules(after))) >= {"xladdin_run", "COMPLETION_RATE"}
    # its code page (1252) cannot hold the Chinese descriptions: the wrappers come without them
    assert "VB_Description" not in olevba_modules(after)[WRAPPER_MODULE]


def test_a_staff_module_survives_a_rewrite_of_the_master_file(master, tmp_path):
    path = with_project(master, staff_project(), tmp_path / "staff.xlsm")
    with zipfile.ZipFile(path) as archive:
        others = {n: archive.read(n) for n in archive.namelist() if n != "xl/vbaProject.bin"}
    refresh_master_project(path)
    with zipfile.ZipFile(path) as archive:
        assert {n: archive.read(n) for n in archive.namelist() if n != "xl/vbaProject.bin"} == others
    assert "RemindAtNine" in procedures(olevba_modules(path))


def _corrupt_projects(master: Path) -> dict[str, bytes]:
    good = vba_bin(master)
    with olefile.OleFileIO(io.BytesIO(good)) as ole:
        tree = {"/".join(p): ole.openstream(p).read() for p in ole.listdir()}

    def rebuilt(**changes) -> bytes:
        streams = {**tree, **changes}
        vba = {k.split("/", 1)[1]: v for k, v in streams.items() if k.startswith("VBA/") and v is not None}
        top = {k: v for k, v in streams.items() if "/" not in k and v is not None}
        return cfb.write(cfb.Storage({**top, "VBA": cfb.Storage(vba)}))

    return {
        "not a compound file": b"PK\x03\x04 this is no vbaProject.bin",
        "truncated": good[: len(good) // 3],
        "no dir stream": rebuilt(**{"VBA/dir": None}),
        "dir not compressed": rebuilt(**{"VBA/dir": b"\x02" + tree["VBA/dir"][1:]}),
        "module stream missing": rebuilt(**{"VBA/xlwings": None}),
        "no PROJECT stream": rebuilt(PROJECT=None),
    }


def test_a_corrupt_project_is_reported_in_chinese_and_the_master_is_left_as_it_was(master, tmp_path):
    for reason, project in _corrupt_projects(master).items():
        with pytest.raises(VbaProjectError) as caught:
            refresh_project(project)
        assert isinstance(caught.value, MasterUnusable), reason  # the command line's exit 3
        assert "宏工程" in str(caught.value) and "没有改动母表" in str(caught.value), reason
        assert caught.value.detail, reason  # what went wrong, for the log
        path = with_project(master, project, tmp_path / "corrupt.xlsm")
        before = path.read_bytes()
        with pytest.raises(VbaProjectError):
            refresh_master_project(path)
        assert path.read_bytes() == before, reason


# -- LibreOffice -------------------------------------------------------------------------------------------

UNO_PYTHON = os.environ.get("XLADDIN_UNO_PYTHON", "/usr/bin/python3")


def _libreoffice(tmp_path: Path, requests: list[dict]) -> list[dict]:
    assert shutil.which("soffice"), "LibreOffice is required for this test: apt-get install -y libreoffice-calc-nogui"
    check = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True)
    assert check.returncode == 0, f"{UNO_PYTHON} cannot import uno: apt-get install -y python3-uno"
    done = subprocess.run([UNO_PYTHON, str(Path(__file__).with_name("lo_vba_probe.py")), str(tmp_path / "lo-profile"),
                           json.dumps(requests)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.libreoffice
def test_libreoffice_imports_every_module_and_runs_the_self_test(master, tmp_path):
    variant_modules = [m for m in read_modules(vba_bin(master)) if m.name not in ("xlwings", "Dictionary")]
    assert [m.kind for m in variant_modules].count(CLASS) == 0
    variant = with_project(master, build_project(variant_modules), tmp_path / "variant.xlsm")
    call = f"{WRAPPER_MODULE}.{SELFTEST}"
    full, without_xlwings = _libreoffice(tmp_path, [{"path": str(master), "call": call},
                                                    {"path": str(variant), "call": call}])
    assert full["vba_mode"] and sorted(full["modules"]) == sorted(olevba_modules(master))
    assert sorted(without_xlwings["modules"]) == sorted(m.name for m in variant_modules)
    assert without_xlwings.get("result") == SELFTEST_RESULT, without_xlwings
    # LibreOffice cannot compile the xlwings module (Windows API declarations), and a library holding a
    # module it cannot compile fails whole: what it does with the full project is printed, not asserted.
    print(f"LibreOffice, full project, {call}: {full.get('result', full.get('error'))!r}", file=sys.stderr)


def test_a_staff_user_form_keeps_its_designer_storage_and_package_line():
    form_clsid = bytes(range(16))
    designer = cfb.Storage({"\x03VBFrame": b"VERSION 5.00\r\nBegin {C62A69F0} UserForm1\r\nEnd\r\n", "f": b"\x00\x04",
                            "o": b"\x01\x02\x03"}, clsid=form_clsid)
    form_code = b'Attribute VB_Name = "UserForm1"\r\nPrivate Sub UserForm_Click()\r\n    Me.Hide\r\nEnd Sub\r\n'
    plain = build_project([document_module("ThisWorkbook"), Module("UserForm1", "designer", form_code)])
    package = b"Package={AC9F2F90-E877-11CE-9F68-00AA00574A4F}"
    with olefile.OleFileIO(io.BytesIO(plain)) as ole:
        vba = {p[1]: ole.openstream(p).read() for p in ole.listdir() if p[0] == "VBA"}
        project = ole.openstream("PROJECT").read().replace(b"BaseClass=UserForm1", package + b"\r\nBaseClass=UserForm1")
        wm = ole.openstream("PROJECTwm").read()
    with_form = cfb.write(cfb.Storage({"PROJECT": project, "PROJECTwm": wm, "UserForm1": designer,
                                       "VBA": cfb.Storage(vba)}))
    after = refresh_project(with_form)
    with olefile.OleFileIO(io.BytesIO(after)) as ole:
        assert ole.getclsid("UserForm1") == olefile.OleFileIO(io.BytesIO(with_form)).getclsid("UserForm1")
        for name, content in designer.entries.items():
            assert ole.openstream(f"UserForm1/{name}").read() == content
        lines = ole.openstream("PROJECT").read().split(b"\r\n")
    assert lines.index(package) + 1 == lines.index(b"BaseClass=UserForm1")
    assert raw_sources(after)["UserForm1"] == form_code
    assert "UserForm_Click" in olevba_modules(after)["UserForm1"]


def test_a_staff_module_named_like_ours_is_replaced_with_our_kind_of_module():
    # an old standard module called Dictionary becomes xlwings' class, listed as a class in PROJECT
    before = build_project([document_module("ThisWorkbook"),
                            Module("Dictionary", MODULE, b'Attribute VB_Name = "Dictionary"\r\nSub Old()\r\nEnd Sub\r\n')])
    after = refresh_project(before)
    lines = olefile.OleFileIO(io.BytesIO(after)).openstream("PROJECT").read().split(b"\r\n")
    assert b"Class=Dictionary" in lines and b"Module=Dictionary" not in lines
    assert {m.name: m.kind for m in read_modules(after)}["Dictionary"] == CLASS
