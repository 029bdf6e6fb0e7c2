"""`xladdin excel-setup`: make a master's buttons and worksheet functions work on this PC.

Classic xlwings finds Python through the master's hidden `xlwings.conf` sheet, then the ribbon, then
the user's `~/.xlwings/xlwings.conf`; a key present on the sheet is final even when it is empty. This
step writes the running interpreter into the sheet (`Interpreter_Win`; `PYTHONPATH` only when xladdin is
not installed into that interpreter), drops empty rows that would shadow the user's own settings, keeps
every other row staff wrote, and checks what a Windows PC needs: pywin32, the xlwings DLL of the pinned
version beside the interpreter, macro settings, and the download mark that makes Office block macros.
Each problem comes with its fix in Chinese. On Linux and macOS it says what it cannot check there.
"""

from __future__ import annotations

import importlib.metadata
import ntpath
import os
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import xlwings

from xladdin.base.errors import MasterUnusable
from xladdin.base.schema import SHEET_CONF, SHEET_CONSOLE
from xladdin.workbook.build import INSTALLED_VENV, add_missing_buttons, write_launchers
from xladdin.workbook.lock import MasterLock
from xladdin.workbook.package import MasterBook
from xladdin.workbook.vba.modules import refresh_project

# The xlwings release whose DLL name (xlwings64-<version>.dll) the master's VBA module declares;
# pyproject.toml pins the same version (a test holds the three together).
XLWINGS_VERSION = "0.37.8"

OK, PROBLEM, UNCHECKED = "通过", "需处理", "无法检查"

# Excel's macro setting (Trust Center › 宏设置), HKCU\Software\Microsoft\Office\<v>\Excel\Security\VBAWarnings.
_VBA_WARNINGS = {1: "启用所有宏", 2: "禁用所有宏，并发出通知", 3: "禁用无数字签署的所有宏", 4: "禁用所有宏，并且不通知"}
_OFFICE_VERSIONS = ("16.0", "15.0", "14.0")


@dataclass
class Check:
    item: str
    state: str  # OK, PROBLEM or UNCHECKED
    detail: str
    fix: str = ""

    def to_dict(self) -> dict:
        return {"item": self.item, "state": self.state, "detail": self.detail, "fix": self.fix}


@dataclass
class SetupReport:
    master: Path
    checks: list[Check] = field(default_factory=list)
    conf_before: list[tuple[str, str]] = field(default_factory=list)
    conf_after: list[tuple[str, str]] = field(default_factory=list)
    written: bool = False
    macros_refreshed: bool = False  # our modules were (re)written into the master's VBA project
    launchers: list[Path] = field(default_factory=list)  # written beside the master

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.state == PROBLEM]

    def to_dict(self) -> dict:
        return {"master": str(self.master), "written": self.written, "ok": not self.problems,
                "conf": [list(row) for row in self.conf_after], "checks": [c.to_dict() for c in self.checks],
                "launchers": [p.name for p in self.launchers]}


# -- xlwings.conf ---------------------------------------------------------------------------------

def conf_rows(existing: list[tuple[str, str]], updates: dict[str, str]) -> list[tuple[str, str]]:
    """The sheet's rows after set-up: staff rows kept in their order, each update set in place (or
    appended), and every row whose value is empty dropped, since xlwings would take it as final."""
    rows: list[tuple[str, str]] = []
    seen = set()
    for key, value in existing:
        key = key.strip()
        if not key:
            continue
        upper = key.upper()
        match = next((k for k in updates if k.upper() == upper), None)
        if match is not None:
            value = updates[match]
            seen.add(match)
        if value.strip() and upper not in {k.upper() for k, _ in rows}:
            rows.append((key, value))
    rows.extend((k, v) for k, v in updates.items() if k not in seen and v.strip())
    return rows


def read_conf(grid: list[list[object]]) -> list[tuple[str, str]]:
    """(key, value) pairs of the xlwings.conf sheet's first two columns."""
    pairs = []
    for row in grid:
        key = "" if not row or row[0] is None else str(row[0])
        value = "" if len(row) < 2 or row[1] is None else row[1]
        if isinstance(value, bool):
            value = "True" if value else "False"
        pairs.append((key, str(value)))
    return pairs


def windows_interpreter(executable: Path) -> Path:
    """pythonw.exe beside python.exe when it exists (no console window on every click)."""
    windowed = executable.with_name("pythonw.exe")
    return windowed if executable.name.lower() == "python.exe" and windowed.exists() else executable


# Per-user folders, most specific first: a path under one is written with its variable, which xlwings expands
# (GetConfig calls ExpandEnvironmentStrings on every value), so each Windows user finds their own copy.
PER_USER_FOLDERS = ("LOCALAPPDATA", "APPDATA", "USERPROFILE")


def portable_path(path: str, environ: Mapping[str, str]) -> str:
    """A Windows path inside a per-user folder written as %LOCALAPPDATA%\\…, %APPDATA%\\… or %USERPROFILE%\\…
    (C:\\Users\\张三\\… works on 张三's login only); any other path unchanged."""
    if not path or path.startswith("%"):
        return path
    normal = ntpath.normpath(path)
    for variable in PER_USER_FOLDERS:
        base = environ.get(variable, "")
        if not base:
            continue
        base = ntpath.normpath(base).rstrip("\\")
        if ntpath.normcase(normal) == ntpath.normcase(base) or \
                ntpath.normcase(normal).startswith(ntpath.normcase(base) + "\\"):
            return f"%{variable}%" + normal[len(base):]
    return path


def where_it_works(interpreter: str) -> str:
    """Which PCs a master set up with this interpreter works on, in Chinese."""
    installed = INSTALLED_VENV + "\\"
    if interpreter.upper().startswith(installed.upper()):
        return (f"{interpreter}：母表可在每台运行过“安装.cmd”的电脑上使用（每个 Windows 用户各自的 {INSTALLED_VENV}），"
                "换一台电脑用母表前，先在那台电脑上双击一次“安装.cmd”。")
    if interpreter.startswith("%"):
        return (f"{interpreter}：母表可在每台按同一位置（各用户自己的文件夹）装有 Python 和 xladdin 的电脑上使用。")
    return (f"{interpreter}：母表只在 Python 装在这个位置且装有 xladdin 的电脑上可用；"
            "其他电脑请运行“安装.cmd”，或在那台电脑上再运行一次 excel-setup。")


def pythonpath_needed() -> str:
    """The folder holding the xladdin package when the interpreter would not find it by itself
    (run from a copy of the source, not installed); empty otherwise."""
    try:
        importlib.metadata.distribution("xladdin")
        return ""
    except importlib.metadata.PackageNotFoundError:
        return str(Path(__file__).resolve().parents[1])  # the folder holding the xladdin package


# -- checks ---------------------------------------------------------------------------------------

def environment_checks(master: Path, platform: str = sys.platform) -> list[Check]:
    """What this PC needs for the master's buttons, each with its fix; UNCHECKED where it cannot tell."""
    checks = []
    version = sys.version_info
    checks.append(Check("Python 版本", OK if version >= (3, 11) else PROBLEM, f"{version.major}.{version.minor}",
                        "请安装 Python 3.11 或更新版本。"))
    checks.append(Check(
        "xlwings 版本", OK if xlwings.__version__ == XLWINGS_VERSION else PROBLEM, xlwings.__version__,
        f"母表的宏按 xlwings {XLWINGS_VERSION} 编写：请运行 pip install xlwings=={XLWINGS_VERSION}。"))
    if platform != "win32":
        checks.append(Check("Windows 上的 Excel", UNCHECKED, f"本机为 {platform}，没有 Windows 版 Excel",
                            "pywin32、xlwings 动态库和宏设置只能在 Windows 电脑上检查：请在那台电脑上再运行一次本命令。"))
        return checks
    checks.append(_pywin32_check())
    checks.append(_dll_check(xlwings.__version__))
    checks.extend(_macro_setting_checks())
    checks.append(_download_mark_check(master))
    return checks


def _pywin32_check() -> Check:
    try:
        import pywintypes  # noqa: F401
        import win32com.client  # noqa: F401
    except ImportError:
        return Check("pywin32", PROBLEM, "未安装", "请运行 pip install pywin32（或重新运行 安装.cmd）。")
    return Check("pywin32", OK, "已安装")


def _dll_check(version: str) -> Check:
    bits = 64 if struct.calcsize("P") == 8 else 32
    name = f"xlwings{bits}-{version}.dll"
    executable = Path(sys.executable)
    places = [executable.parent, executable.parent.parent, Path(sys.prefix)]
    found = next((p / name for p in places if (p / name).is_file()), None)
    if found:
        return Check("xlwings 动态库", OK, str(found))
    return Check("xlwings 动态库", PROBLEM, f"在 {executable.parent} 及其上级文件夹中找不到 {name}",
                 f"请在本环境中重新安装：pip install --force-reinstall xlwings=={version}。")


def _registry_value(root, key: str, name: str):
    import winreg

    try:
        with winreg.OpenKey(root, key) as handle:
            return winreg.QueryValueEx(handle, name)[0]
    except OSError:
        return None


def _macro_setting_checks() -> list[Check]:
    try:
        import winreg
    except ImportError:
        return [Check("宏设置", UNCHECKED, "读不到注册表")]
    checks = []
    for version in _OFFICE_VERSIONS:
        base = rf"Software\Microsoft\Office\{version}\Excel\Security"
        policy = rf"Software\Policies\Microsoft\Office\{version}\Excel\Security"
        value = _registry_value(winreg.HKEY_CURRENT_USER, policy, "VBAWarnings")
        if value is None:
            value = _registry_value(winreg.HKEY_CURRENT_USER, base, "VBAWarnings")
        if value is None:
            continue
        text = _VBA_WARNINGS.get(int(value), f"代码 {value}")
        state = OK if int(value) in (1, 2) else PROBLEM
        checks.append(Check(f"Excel {version} 宏设置", state, text,
                            "文件 → 选项 → 信任中心 → 信任中心设置 → 宏设置：选“禁用所有宏，并发出通知”，"
                            "打开母表时点“启用内容”；或把母表所在文件夹加入“受信任位置”。"))
        break
    if not checks:
        checks.append(Check("宏设置", UNCHECKED, "注册表中没有 Excel 的宏设置（可能未安装 Excel，或为默认设置）"))
    return checks


def _download_mark_check(master: Path) -> Check:
    """Files from a browser or chat app carry a Zone.Identifier stream; Office then blocks their macros."""
    stream = f"{master}:Zone.Identifier"
    try:
        with open(stream, encoding="utf-8", errors="replace") as handle:
            handle.read()
    except OSError:
        return Check("下载标记", OK, "母表没有“来自网络”的标记")
    try:
        os.remove(stream)
    except OSError:
        return Check("下载标记", PROBLEM, "母表带有“来自网络”的标记，Office 会阻止其中的宏",
                     "右键母表 → 属性 → 勾选“解除锁定” → 确定。")
    return Check("下载标记", OK, "已去掉母表“来自网络”的标记（否则 Office 会阻止其中的宏）")


def _refresh_macros(book, write: bool) -> tuple[Check, bool]:
    """The master's VBA project with our modules as this version writes them (an older master gets the
    buttons' Subs and the function wrappers); staff modules kept. Returns the check and whether the
    project was replaced (only when writing). A project that cannot be read raises VbaProjectError
    (exit 3) and nothing is written."""
    old = book.parts.get("xl/vbaProject.bin")
    if old is None:
        return Check("母表中的宏", PROBLEM, f"{book.path.name} 不带宏（不是 .xlsm 母表）",
                     "用 xladdin init 新建 .xlsm 母表，再把项目清单复制过去。"), False
    new = refresh_project(old)
    if new == old:
        return Check("母表中的宏", OK, "按钮的宏和函数都在，已是最新"), False
    if not write:
        return Check("母表中的宏", PROBLEM, "母表缺少按钮的宏或函数，或是旧版本",
                     "去掉 --check 再运行一次，就会写入（您自己的宏模块保留不动）。"), False
    book.parts["xl/vbaProject.bin"] = new
    return Check("母表中的宏", OK, "已写入按钮的宏和函数（您自己的宏模块保留不动）"), True


def _add_buttons(book, write: bool) -> tuple[Check, bool]:
    """控制台's buttons as this version has them: a master built before a button (撤回报送) gets it below the
    others (staff shapes kept). Returns the check and whether any was added (only when writing)."""
    parts = dict(book.parts) if not write else book.parts
    added = add_missing_buttons(parts, book.sheet_parts[SHEET_CONSOLE]) if SHEET_CONSOLE in book.sheet_parts else []
    if not added:
        return Check("控制台的按钮", OK, "按钮齐全"), False
    if not write:
        return Check("控制台的按钮", PROBLEM, f"控制台缺少按钮：{'、'.join(added)}",
                     "去掉 --check 再运行一次，就会添加（其他按钮和图形保留不动）。"), False
    return Check("控制台的按钮", OK, f"已在控制台添加按钮：{'、'.join(added)}"), True


# -- the operation --------------------------------------------------------------------------------

def excel_setup(master: Path, *, interpreter: Path | None = None, platform: str = sys.platform,
                write: bool = True, environ: Mapping[str, str] | None = None) -> SetupReport:
    """Check this PC and write its interpreter into the master's xlwings.conf sheet; with `write`, put the
    launchers (一键汇总.cmd, 启动报送平台.cmd) beside the master.

    `interpreter` is the Windows path of the Python that Excel should start (default: this one, when
    run on Windows); a path in the user's own folders is written with its variable (%LOCALAPPDATA%\\…,
    from `environ`, default this process's), so that the master works for every user who installed there.
    Raises MasterUnusable when the master is missing, open or not a master.
    """
    environ = os.environ if environ is None else environ
    master = Path(master)
    report = SetupReport(master)
    with MasterLock(master):
        book = MasterBook.open(master)
        if SHEET_CONF not in book.sheet_parts:
            raise MasterUnusable(f"母表 {master.name} 没有隐藏的 {SHEET_CONF} 工作表，宏找不到 Python。"
                                 "请用 xladdin init 新建母表，再把项目清单复制过去。")
        report.checks = environment_checks(master, platform)
        check, report.macros_refreshed = _refresh_macros(book, write)
        report.checks.append(check)
        check, buttons_added = _add_buttons(book, write)
        report.checks.append(check)
        grid = book.sheet_grid(SHEET_CONF)
        report.conf_before = [(k, v) for k, v in read_conf(grid) if k.strip()]
        updates: dict[str, str] = {}
        if interpreter is not None:
            updates["Interpreter_Win"] = portable_path(str(interpreter), environ)
        elif platform == "win32":
            updates["Interpreter_Win"] = portable_path(str(windows_interpreter(Path(sys.executable))), environ)
        if platform == "win32" or interpreter is not None:
            updates["PYTHONPATH"] = portable_path(pythonpath_needed(), environ)
        report.conf_after = conf_rows(report.conf_before, updates)
        if "Interpreter_Win".upper() not in {k.upper() for k, _ in report.conf_after}:
            report.checks.append(Check(
                "Python 位置", UNCHECKED, "母表未指定 Python，将使用 xlwings 功能区或用户配置中的设置",
                "在要使用母表的 Windows 电脑上运行 xladdin excel-setup 母表，或用 --interpreter 指定 pythonw.exe 的完整路径。"))
        else:
            written = next(v for k, v in report.conf_after if k.upper() == "INTERPRETER_WIN")
            report.checks.append(Check("Python 位置", OK, where_it_works(written)))
        conf_changed = report.conf_after != report.conf_before
        if conf_changed:
            typed = [[k, {"TRUE": True, "FALSE": False}.get(v.strip().upper(), v)] for k, v in report.conf_after]
            book.write_rows(SHEET_CONF, 1, 1, typed, len(grid))
        if write and (conf_changed or report.macros_refreshed or buttons_added):
            book.save()
            report.written = True
    if write:
        report.launchers = _place_launchers(master)
        if report.launchers:
            report.checks.append(Check("母表旁的启动文件", OK, "、".join(p.name for p in report.launchers
                                                                   if p.suffix == ".cmd")))
    return report


def _place_launchers(master: Path) -> list[Path]:
    """一键汇总.cmd and 启动报送平台.cmd beside the master, naming it (WPS and the 报送平台 need no Excel);
    none when the folder cannot be written (the master's own set-up is done)."""
    try:
        return write_launchers(master.parent, master.name)
    except (OSError, UnicodeEncodeError):
        return []
