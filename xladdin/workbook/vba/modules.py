"""The modules of the master's VBA project: xlwings' own (from the installed package), the wrappers that
xlwings' Import Functions generates for xladdin.excel (with xlwings' generator), and document modules.

Our generated module is named `xlwings_udfs`, the name Import Functions gives its module: a user who runs
Import Functions anyway gets the same module replaced, not a second copy of every Sub and function name.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import re
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import xlwings

from xladdin.workbook.vba.project import (
    CLASS,
    CODEPAGE,
    DOCUMENT,
    MODULE,
    SHEET_BASE,
    WORKBOOK_BASE,
    Module,
    build_project,
    encoding,
)
from xladdin.workbook.vba.rewrite import replace_in_package, rewrite_project

UDF_MODULES = "xladdin.excel"        # the xlwings.conf "UDF Modules" value the wrappers call into
WRAPPER_MODULE = "xlwings_udfs"
XLWINGS_MODULE = "xlwings"
DICTIONARY_CLASS = "Dictionary"
WORKBOOK_CODE_NAME = "ThisWorkbook"
SELFTEST = "xladdin_selftest"
SELFTEST_RESULT = f"xladdin-selftest {6 * 7}"  # the VBA function computes the number
# The buttons that ask before they call Python (buttons_code): our module's name, the Sub a button names and
# what it asks. 报送记录 and its table are named as layout.LOG names them (a test holds them equal).
BUTTONS_MODULE = "xladdin_buttons"
WITHDRAW_ASK = "xladdin_withdraw_ask"
WITHDRAW_MACRO = "xladdin_withdraw"  # xladdin.excel's @xw.script: submission, why, who, book
LOG_SHEET, LOG_TABLE = "报送记录", "tblLog"
WITHDRAW_TITLE = "撤回报送"
WITHDRAW_HELP = "撤回报送：问明撤回哪一份已接收的报送和原因，撤回后按其余报送重算汇总和红黑榜。"
WITHDRAW_WHICH = ("要撤回哪一份已接收的报送？请填“报送记录”表中的文件名（同名的有几份时填 SHA-256 的前 12 位）；"
                  "先在“报送记录”中选中那一行，这里会自动填入。")
WITHDRAW_WHY = "撤回的原因（记入历史库），例如：多报 18 亩，应为 12.5 亩。"
# The class attributes the VBA editor adds when it imports a .cls file (the quickstart project carries them).
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"


def _xlwings_dir() -> Path:
    return Path(xlwings.__file__).parent


def _crlf(text: str, codec: str = "ascii") -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode(codec)


def xlwings_module() -> Module:
    """The standalone xlwings module, exactly as the installed xlwings ships it."""
    return Module(XLWINGS_MODULE, MODULE, _crlf((_xlwings_dir() / "xlwings.bas").read_text(encoding="ascii")))


def dictionary_class() -> Module:
    """xlwings' Dictionary class (its .cls file), in the form a module stream holds: no VERSION/BEGIN header,
    the class attributes the VBA editor adds on import."""
    lines = (_xlwings_dir() / "addin" / "Dictionary.cls").read_text(encoding="ascii").splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Attribute VB_Name"))
    body = [lines[first], f'Attribute VB_Base = "{CLASS_BASE}"']
    for line in lines[first + 1:]:
        body.append(line)
        if line.startswith("Attribute VB_Exposed"):
            body += ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return Module(DICTIONARY_CLASS, CLASS, _crlf("\n".join(body) + "\n"))


def document_module(code_name: str) -> Module:
    """An empty document module for the workbook (ThisWorkbook) or a sheet (its code name)."""
    base = WORKBOOK_BASE if code_name == WORKBOOK_CODE_NAME else SHEET_BASE
    text = (f'Attribute VB_Name = "{code_name}"\nAttribute VB_Base = "{base}"\n'
            "Attribute VB_GlobalNameSpace = False\nAttribute VB_Creatable = False\n"
            "Attribute VB_PredeclaredId = True\nAttribute VB_Exposed = True\n"
            "Attribute VB_TemplateDerived = False\nAttribute VB_Customizable = True\n")
    return Module(code_name, DOCUMENT, _crlf(text))


def _classic_udfs():
    """xlwings.udfs, the module of Import Functions; off Windows it is loaded with pywin32 stubbed out, and
    nothing of the stubs stays in sys.modules."""
    try:
        from xlwings import udfs

        return udfs
    except ImportError:
        pass
    stubs = {name: types.ModuleType(name) for name in ("pythoncom", "pywintypes", "win32com", "win32com.client")}
    stubs["pythoncom"].CoInitialize = lambda: None
    stubs["pywintypes"].com_error = Exception
    stubs["win32com.client"].Dispatch = None
    stubs["win32com"].client = stubs["win32com.client"]
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location("xlwings.udfs", _xlwings_dir() / "udfs.py")
        udfs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(udfs)
        return udfs
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@contextmanager
def _classic_decorators(udfs):
    """xw.func/arg/ret/script/sub as on Windows, so that a module executed meanwhile gets __xlfunc__."""
    names = {"func": udfs.xlfunc, "arg": udfs.xlarg, "ret": udfs.xlret, "script": udfs.xlsub, "sub": udfs.xlsub}
    missing = object()
    saved = {name: getattr(xlwings, name, missing) for name in names}  # on a server there is no xw.sub
    for name, decorator in names.items():
        setattr(xlwings, name, decorator)
    try:
        yield
    finally:
        for name, decorator in saved.items():
            if decorator is missing:
                delattr(xlwings, name)
            else:
                setattr(xlwings, name, decorator)


class _Workbook:
    """What generate_vba_wrapper asks of the workbook: its name (an .xlam would call ActiveWorkbook)."""

    Name = "master.xlsm"


@functools.cache
def _generated(module_name: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The VBA that xlwings' Import Functions writes for module_name (one Sub per @xw.script, one Function
    per @xw.func), generated by xlwings itself from a fresh execution of the module under its Windows
    decorators; and each procedure's description (the docstring Import Functions passes to MacroOptions)."""
    udfs = _classic_udfs()
    spec = importlib.util.find_spec(module_name)
    with _classic_decorators(udfs):
        module = importlib.util.module_from_spec(spec)  # not registered: the imported module stays as it is
        spec.loader.exec_module(module)
    out = io.StringIO()
    udfs.generate_vba_wrapper(module_name, module, out, _Workbook())
    docs = tuple((f.__xlfunc__["name"], " ".join(f.__xlfunc__["ret"]["doc"].split())[:255])
                 for f in vars(module).values() if hasattr(f, "__xlfunc__"))
    return out.getvalue(), docs


def wrapper_code(module_name: str = UDF_MODULES, descriptions: bool = True) -> str:
    """Our generated module: Import Functions' header and wrappers, each procedure's description as the
    VB_Description attribute that MacroOptions would store (shown by Excel's Insert Function dialog), and the
    self-test function."""
    code, docs = _generated(module_name)
    if descriptions:
        for name, doc in docs:
            attribute = f'Attribute {name}.VB_Description = "{doc.replace(chr(34), chr(34) * 2)}"\n'
            code = re.sub(rf"^((?:Function|Sub) {name}\(.*\)\n)", lambda m, a=attribute: m[1] + a, code, count=1,
                          flags=re.M)
    header = (f'Attribute VB_Name = "{WRAPPER_MODULE}"\n'
              # the two lines Import Functions writes above the wrappers (xlwings/udfs.py, import_udfs)
              "'Autogenerated code by xlwings - changes will be lost with next import!\n"
              """#Const App = "Microsoft Excel" 'Adjust when using outside of Excel\n""")
    selftest = (f"Function {SELFTEST}()\n"
                "    ' Run headless by LibreOffice in xladdin's tests: this module compiles and runs.\n"
                f'    {SELFTEST} = "xladdin-selftest " & (6 * 7)\n'
                "End Function\n")
    return header + code + selftest


def wrapper_module(codepage: int = CODEPAGE) -> Module:
    """Our generated module in the project's code page; without the (Chinese) descriptions when that code
    page cannot hold them."""
    try:
        code = _crlf(wrapper_code(), encoding(codepage))
    except UnicodeEncodeError:
        code = _crlf(wrapper_code(descriptions=False), encoding(codepage))
    return Module(WRAPPER_MODULE, MODULE, code)


def vba_text(text: str, codec: str) -> str:
    """A VBA string expression for text: a literal where the project's code page holds it, else built from
    ChrW codes (a project in another code page still shows the Chinese)."""
    try:
        text.encode(codec)
        return '"' + text.replace('"', '""') + '"'
    except UnicodeEncodeError:
        return " & ".join(f"ChrW({ord(ch)})" for ch in text)


def buttons_code(codec: str = encoding(CODEPAGE)) -> str:
    """Our module of the buttons that ask before they call their Python macro: 撤回报送 asks which submission
    (offering the row last selected on 报送记录, whichever sheet the button is on) and why, then calls
    xladdin_withdraw (the wrapper of xladdin.excel.xladdin_withdraw) with them and Excel's user name. In a
    project whose code page cannot hold Chinese the texts are built from ChrW codes and the description left out."""
    def t(text: str) -> str:
        return vba_text(text, codec)

    try:
        WITHDRAW_HELP.encode(codec)
        described = f"Attribute {WITHDRAW_ASK}.VB_Description = {t(WITHDRAW_HELP)}\n"
    except UnicodeEncodeError:
        described = ""
    return (f'Attribute VB_Name = "{BUTTONS_MODULE}"\n'
            "' Written by xladdin (excel-setup rewrites it): buttons that ask staff before calling Python.\n"
            f"Sub {WITHDRAW_ASK}()\n" + described +
            "    Dim here As Object, logSheet As Object, logTable As Object, sel As Object\n"
            "    Dim picked As String, submission As String, why As String, inside As Boolean\n"
            "    Set here = ActiveSheet\n"
            "    On Error Resume Next\n"
            "    Application.ScreenUpdating = False\n"
            f"    Set logSheet = ThisWorkbook.Worksheets({t(LOG_SHEET)})\n"
            f"    Set logTable = logSheet.ListObjects({t(LOG_TABLE)})\n"
            "    logSheet.Activate\n"
            "    Set sel = ActiveWindow.RangeSelection\n"
            "    inside = False\n"  # an error inside an If's condition would run its body: assigned first
            "    inside = Not (Application.Intersect(sel, logTable.DataBodyRange) Is Nothing)\n"
            "    If inside Then picked = CStr(logSheet.Cells(sel.Row, logTable.Range.Column).Value)\n"
            "    here.Activate\n"
            "    Application.ScreenUpdating = True\n"
            "    On Error GoTo 0\n"
            f"    submission = Trim(InputBox({t(WITHDRAW_WHICH)}, {t(WITHDRAW_TITLE)}, picked))\n"
            "    If Len(submission) = 0 Then Exit Sub\n"
            f"    why = Trim(InputBox({t(WITHDRAW_WHY)}, {t(WITHDRAW_TITLE)}))\n"
            "    If Len(why) = 0 Then Exit Sub\n"
            f"    {WITHDRAW_MACRO} submission, why, Application.UserName\n"
            "End Sub\n")


def buttons_module(codepage: int = CODEPAGE) -> Module:
    return Module(BUTTONS_MODULE, MODULE, _crlf(buttons_code(encoding(codepage)), encoding(codepage)))


def our_modules(codepage: int = CODEPAGE) -> list[Module]:
    """The modules this package owns in a master's project, rewritten whenever it writes the project. Their
    names are xlwings' own (and xladdin_buttons): a staff module of one of these names could not live beside
    xlwings anyway."""
    return [xlwings_module(), dictionary_class(), wrapper_module(codepage), buttons_module(codepage)]


def quickstart_leftovers() -> tuple[Module, ...]:
    """Module1 of xlwings' quickstart project (SampleCall), which earlier masters carried unchanged."""
    code = (b'Attribute VB_Name = "Module1"\r\nSub SampleCall()\r\n'
            b'    mymodule = Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name, ".", -1, vbTextCompare) - 1))\r\n'
            b'    RunPython "import " & mymodule & ";" & mymodule & ".main()"\r\nEnd Sub\r\n')
    return (Module("Module1", MODULE, code),)


def master_project(sheet_code_names: list[str]) -> bytes:
    """A new master's vbaProject.bin: ThisWorkbook, one document module per sheet code name, then xlwings'
    module and class and the generated wrappers."""
    modules = [document_module(WORKBOOK_CODE_NAME)] + [document_module(n) for n in sheet_code_names]
    return build_project(modules + our_modules())


def refresh_project(existing: bytes) -> bytes:
    """An existing master's project with our modules rewritten from the installed xlwings and xladdin.excel;
    staff modules, document modules and references kept. VbaProjectError when it cannot be read."""
    return rewrite_project(existing, our_modules, quickstart_leftovers())


def refresh_master_project(path: Path) -> None:
    """Rewrite our modules in the project of the .xlsm at path, keeping staff modules and every other part of
    the file as it is; VbaProjectError (a MasterUnusable: exit 3) leaves the file untouched."""
    replace_in_package(Path(path), refresh_project)
