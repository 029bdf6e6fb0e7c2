"""An offline install bundle for Windows PCs on an intranet.

On a machine with access to a package index (any OS), `xladdin offline-bundle OUT` collects the
win_amd64 wheels of xladdin and of everything it needs, at exactly the versions of constraints.txt (what CI
tested), for every Python version those wheels exist for (the file's `# pythons:` line), into OUT/wheels,
with the shipped master, its launchers and `安装.cmd`. On the PC, double-clicking `安装.cmd` (or dropping
the master onto it) finds a 64-bit Python of one of those versions, makes a venv, installs from the folder
with `--no-index` and runs `xladdin excel-setup` on the master, which puts the launchers beside it.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from xladdin.workbook.build import INSTALLED_VENV, RUN_LAUNCHER, write_launchers
from xladdin.workbook.shipped import LEDGER_FILE, MASTER_FILE, build_shipped

PLATFORM = "win_amd64"
CONSTRAINTS = "constraints.txt"
PYTHONS_LINE = "# pythons:"  # in constraints.txt: the Pythons every pinned package has a win_amd64 wheel for
# Needed on Windows only, so a marker hides them from a resolver running elsewhere: asked for by name.
WINDOWS_ONLY = ("pywin32", "colorama")
INSTALLER = "安装.cmd"
VENV = INSTALLED_VENV
# What pip prints when it cannot reach the index (its own last lines then only say no version was found).
_OFFLINE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
            "Name or service not known", "Network is unreachable", "ConnectTimeoutError", "ProxyError",
            "Max retries exceeded", "Could not fetch URL", "getaddrinfo failed", "Connection refused")
_MISSING = ("No matching distribution found for", "ResolutionImpossible", "conflicting dependencies")


class BundleError(Exception):
    """The bundle could not be made (message in Chinese)."""


class Bundle(NamedTuple):
    wheels: list[Path]
    pythons: tuple[str, ...]  # newest first, as 安装.cmd probes them


def project_root() -> Path | None:
    """The source tree xladdin runs from (a wheel of it is built from there), if there is one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def requirements() -> list[str]:
    """xladdin's own requirements (no extras), as installed."""
    found = []
    for requirement in importlib.metadata.requires("xladdin") or []:
        if "extra ==" in requirement:
            continue
        found.append(requirement.split(";")[0].strip())
    return found


def supported_pythons(constraints: Path) -> tuple[str, ...]:
    """The Python versions constraints.txt was checked for (its `# pythons:` line)."""
    for line in constraints.read_text(encoding="utf-8").splitlines():
        if line.startswith(PYTHONS_LINE):
            return tuple(line[len(PYTHONS_LINE):].split())
    return ()


_PYTHON_MARKER = re.compile(r'python_version\s*(==|!=)\s*"([\d.]+)"')


def pins_for(constraints: Path, python: str) -> list[str]:
    """The lines of constraints.txt that hold for a PC with this Python, markers evaluated and dropped: pip
    evaluates a constraint's marker for the Python it runs on, not for --python-version. The file's markers
    are those scripts/constraints.py writes: python_version == or != a version, joined by `and`."""
    pins = []
    for line in constraints.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement, _, marker = line.partition(";")
        tests = _PYTHON_MARKER.findall(marker)
        if marker.strip() and len(tests) != marker.count("python_version"):
            raise BundleError(f"{CONSTRAINTS} 中“{line}”的条件看不懂：请用 python scripts/constraints.py 重新生成。")
        if all((python == version) == (op == "==") for op, version in tests):
            pins.append(requirement.strip())
    return pins


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_pythons(asked: tuple[str, ...], supported: tuple[str, ...]) -> tuple[str, ...]:
    """The versions to bundle, newest first: all supported ones when none is asked; BundleError naming the
    supported versions for one that is not."""
    for version in asked:
        if version not in supported:
            shown = "、".join(supported)
            if not re.fullmatch(r"3\.\d+", version):
                raise BundleError(f"“{version}”不是 Python 版本号：请写成 3.13 这样，可选 {shown}。")
            older = _version_key(version) < _version_key(supported[0])
            why = "xladdin 需要 3.11 或更新的 Python" if older else "还没有它能用的全部 Windows 安装包"
            raise BundleError(f"不能为 Python {version} 收集安装包（{why}）：请用 --python 选 {shown} 中的版本，"
                              "或不写 --python 收集全部。")
    return tuple(sorted(asked or supported, key=_version_key, reverse=True))


def _pip(*arguments: str, python: str = "") -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments],
                          capture_output=True, text=True)
    if done.returncode == 0:
        return
    output = f"{done.stdout}\n{done.stderr}"
    if any(marker in output for marker in _OFFLINE) or not _index_reachable():
        raise BundleError("连不上软件包索引（PyPI 或内网镜像）：请在能上网的电脑上运行本命令，"
                          "或用 pip config set global.index-url 设好镜像地址后重试。")
    missing = re.search(r"No matching distribution found for (\S+)", output)
    if python and (missing or any(marker in output for marker in _MISSING)):
        what = missing.group(1) if missing else "其中几个包"
        raise BundleError(f"索引上没有 {what} 适合 Windows 64 位 Python {python} 的安装包（constraints.txt 固定的版本）："
                          "请换一个能访问完整 PyPI 的镜像，或去掉这个 --python 版本。")
    last = next((line.strip() for line in reversed(output.splitlines()) if line.strip().startswith("ERROR")), "")
    raise BundleError(f"pip {arguments[0]} 没有成功（{last or '原因见 pip 的输出'}）：请检查网络和磁盘空间后重试。")


def _index_reachable() -> bool:
    """Whether pip finds a small package every index has (asked after a failure: pip itself only says that no
    version of what it wanted was found when it reached no index at all)."""
    with tempfile.TemporaryDirectory() as folder:
        return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "--quiet",
                               "--no-deps", "--only-binary=:all:", "--dest", folder, "defusedxml"],
                              capture_output=True).returncode == 0


def _probe(version: str) -> str:
    """A line of 安装.cmd that takes `py -<version>` when it is a 64-bit Python."""
    return (f'if not defined PY py -{version} -c "import struct, sys; sys.exit(struct.calcsize(\'P\') != 8)"'
            f' >nul 2>nul && set "PY=py -{version}"')


def installer_script(pythons: tuple[str, ...]) -> str:
    """安装.cmd: each step says what it does; it takes only a 64-bit Python of a bundled version, and every
    way it can stop ends in one Chinese sentence with the fix."""
    shown = "、".join(sorted(pythons, key=_version_key))
    newest = max(pythons, key=_version_key)
    accepted = ", ".join(f"({v.replace('.', ', ')})" for v in pythons)
    lines = [
        "@echo off",
        "setlocal",
        'cd /d "%~dp0"',
        'tasklist /fi "imagename eq EXCEL.EXE" 2>nul | find /i "EXCEL.EXE" >nul && goto :excel_open',
        ":find",
        f"echo 第 1 步：查找本机的 64 位 Python（{shown}）",
        'set "PY="',
        *[_probe(v) for v in sorted(pythons, key=_version_key, reverse=True)],
        'if not defined PY python -c "import struct, sys; sys.exit(struct.calcsize(\'P\') != 8 or '
        f'sys.version_info[:2] not in ({accepted},))" >nul 2>nul && set "PY=python"',
        "if defined PY goto :venv",
        f"echo 本机没有能用的 Python：本安装包只带 64 位 Python {shown} 的安装包。",
        "python -c \"import struct, sys; print('  PATH 中的 python:', sys.version.split()[0], "
        "struct.calcsize('P') * 8, 'bit')\" 2>nul",
        f"echo 请从 python.org 下载安装 64 位的 Python {newest}（Windows installer 64-bit，安装时勾选"
        " Add python.exe to PATH），再双击本文件。",
        "goto :failed",
        ":venv",
        f'set "VENV={VENV}"',
        "echo 第 2 步：用 %PY% 在 %VENV% 建立运行环境",
        '%PY% -m venv --clear "%VENV%" || goto :venv_failed',
        "echo 第 3 步：从本文件夹安装 xladdin（不需要联网）",
        '"%VENV%\\Scripts\\python.exe" -m pip install --disable-pip-version-check --quiet --no-index'
        ' --find-links "%~dp0wheels" xladdin pywin32 || goto :pip_failed',
        "echo 第 4 步：设置母表，让按钮找到 Python，并在母表旁放好“一键汇总.cmd”“启动报送平台.cmd”",
        'set "MASTER=%~1"',
        f'if "%MASTER%"=="" set "MASTER=%~dp0{MASTER_FILE}"',
        '"%VENV%\\Scripts\\xladdin.exe" excel-setup "%MASTER%"',
        "if errorlevel 3 goto :master_failed",
        "if errorlevel 2 goto :problems",
        "if errorlevel 1 goto :failed",
        "echo.",
        f"echo 安装完成。打开母表，点“启用内容”，再点“一键汇总”；用 WPS 时双击母表旁的“{RUN_LAUNCHER}”。"
        "其他母表：把母表拖到本文件上即可设置。",
        "pause",
        "exit /b 0",
        ":excel_open",
        "echo Excel 正在运行：请保存并关闭所有 Excel 窗口（母表的函数正在用已安装的 Python），然后按任意键继续。",
        "pause",
        "goto :find",
        ":venv_failed",
        "echo 无法在 %VENV% 建立运行环境：请关闭 Excel、WPS 和“一键汇总”“报送平台”的窗口，再双击本文件。",
        "goto :failed",
        ":pip_failed",
        "echo 从本文件夹安装失败（%PY%）：安装包不完整，请把整个离线安装包文件夹重新拷过来，再双击本文件。",
        "goto :failed",
        ":master_failed",
        "echo xladdin 已安装，但母表没有设置好（原因见上）：按上面的提示处理后，再双击本文件或把母表拖到本文件上。",
        "goto :failed",
        ":problems",
        "echo.",
        "echo xladdin 已安装，但上面标为“需处理”的几项还没解决：按“办法”处理后，再双击本文件或把母表拖到本文件上。",
        "pause",
        "exit /b 2",
        ":failed",
        "echo 安装没有完成。如仍不明白，请把本窗口截图发给技术支持。",
        "pause",
        "exit /b 1",
    ]
    return "\r\n".join(lines) + "\r\n"


def make_bundle(out: Path, pythons: tuple[str, ...] = ()) -> Bundle:
    """Collect the wheels, the shipped workbooks, their launchers and 安装.cmd into out, for the Pythons asked
    (default: every one constraints.txt was checked for).
    The wheels are gathered in a folder beside and moved into place only when complete: a failed run
    leaves the folder as it was (no empty or partial wheels/)."""
    root = project_root()
    if root is None:
        raise BundleError("找不到 xladdin 的源代码（pyproject.toml）：请在源代码目录中安装后再运行。")
    constraints = root / CONSTRAINTS
    if not constraints.is_file():
        raise BundleError(f"源代码目录中没有 {CONSTRAINTS}：请运行 python scripts/constraints.py 生成后再运行。")
    pythons = check_pythons(tuple(pythons), supported_pythons(constraints))
    existed = out.exists()
    staging = out / "wheels.partial"
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(staging), str(root))
        wanted = [*requirements(), *WINDOWS_ONLY]
        for version in pythons:
            pinned = staging / f"constraints-{version}.txt"
            pinned.write_text("\n".join(pins_for(constraints, version)) + "\n", encoding="utf-8")
            _pip("download", "--quiet", "--only-binary=:all:", "--platform", PLATFORM, "--python-version", version,
                 "--implementation", "cp", "--dest", str(staging), "-c", str(pinned), *wanted, python=version)
            pinned.unlink()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        raise
    wheels = out / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)
    staging.rename(wheels)
    build_shipped(out)
    write_launchers(out, MASTER_FILE)
    (out / INSTALLER).write_bytes(installer_script(pythons).encode("gbk"))  # cmd.exe reads the ANSI code page
    return Bundle(sorted(wheels.glob("*.whl")), pythons)


def wheel_names(folder: Path) -> set[str]:
    """Distribution names of the wheels in a folder, normalised as pip does."""
    return {re.sub(r"[-_.]+", "-", p.name.split("-")[0]).lower() for p in folder.glob("*.whl")}


__all__ = ["Bundle", "BundleError", "pins_for", "INSTALLER", "LEDGER_FILE", "MASTER_FILE", "make_bundle", "installer_script",
           "supported_pythons", "wheel_names"]
