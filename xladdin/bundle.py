"""An offline install bundle for Windows PCs on an intranet.

On a machine with access to a package index (any OS), `xladdin offline-bundle OUT` collects the
win_amd64 wheels of xladdin and of everything it needs, for each Python version asked for, into
OUT/wheels, with the shipped master and `安装.cmd`. On the PC, double-clicking `安装.cmd` (or dropping the
master onto it) finds the PC's own Python 3.11+, makes a venv, installs from the folder with
`--no-index` and runs `xladdin excel-setup` on the master.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

from xladdin.workbook.shipped import LEDGER_FILE, MASTER_FILE, build_shipped

PLATFORM = "win_amd64"
PYTHONS = ("3.11", "3.12", "3.13")
# Needed on Windows only, so a marker hides them from a resolver running elsewhere: asked for by name.
WINDOWS_ONLY = ("pywin32", "colorama")
INSTALLER = "安装.cmd"
VENV = r"%LOCALAPPDATA%\xladdin\venv"


class BundleError(Exception):
    """The bundle could not be made (message in Chinese)."""


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


def _pip(*arguments: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise BundleError(f"pip {arguments[0]} 失败：\n{tail}")


def installer_script() -> str:
    """安装.cmd: each step says what it does, and stops with the reason when it fails."""
    lines = [
        "@echo off",
        "setlocal",
        'cd /d "%~dp0"',
        "echo 第 1 步：查找本机的 Python 3.11 或更新版本",
        "set PY=",
        *[f'if not defined PY py -{v} -c "import sys" >nul 2>nul && set "PY=py -{v}"' for v in reversed(PYTHONS)],
        'if not defined PY python -c "import sys; sys.exit(sys.version_info < (3, 11))" >nul 2>nul && set "PY=python"',
        "if not defined PY (",
        "  echo 没有找到 Python 3.11 或更新版本。请先安装 Python（安装时勾选 Add python.exe to PATH），再双击本文件。",
        "  goto :failed",
        ")",
        f'set "VENV={VENV}"',
        "echo 第 2 步：在 %VENV% 建立运行环境",
        '%PY% -m venv "%VENV%" || goto :failed',
        "echo 第 3 步：从本文件夹安装 xladdin（不需要联网）",
        '"%VENV%\\Scripts\\python.exe" -m pip install --no-index --find-links "%~dp0wheels" --upgrade xladdin pywin32'
        " || goto :failed",
        "echo 第 4 步：设置母表，让按钮找到 Python",
        'set "MASTER=%~1"',
        f'if "%MASTER%"=="" set "MASTER=%~dp0{MASTER_FILE}"',
        '"%VENV%\\Scripts\\xladdin.exe" excel-setup "%MASTER%"',
        "if errorlevel 3 goto :failed",
        "echo.",
        "echo 安装完成。打开母表，点“启用内容”，再点“一键汇总”。其他母表：把母表拖到本文件上即可设置。",
        "pause",
        "exit /b 0",
        ":failed",
        "echo 安装没有完成，请把本窗口截图发给技术支持。",
        "pause",
        "exit /b 1",
    ]
    return "\r\n".join(lines) + "\r\n"


def make_bundle(out: Path, pythons: tuple[str, ...] = PYTHONS) -> list[Path]:
    """Collect the wheels, the shipped workbooks and 安装.cmd into out; returns the wheels."""
    root = project_root()
    if root is None:
        raise BundleError("找不到 xladdin 的源代码（pyproject.toml）：请在源代码目录中安装后再运行。")
    wheels = out / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)
    wheels.mkdir(parents=True)
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels), str(root))
    wanted = [*requirements(), *WINDOWS_ONLY]
    for version in pythons:
        _pip("download", "--quiet", "--only-binary=:all:", "--platform", PLATFORM, "--python-version", version,
             "--implementation", "cp", "--dest", str(wheels), *wanted)
    build_shipped(out)
    (out / INSTALLER).write_bytes(installer_script().encode("gbk"))
    return sorted(wheels.glob("*.whl"))


def wheel_names(folder: Path) -> set[str]:
    """Distribution names of the wheels in a folder, normalised as pip does."""
    return {re.sub(r"[-_.]+", "-", p.name.split("-")[0]).lower() for p in folder.glob("*.whl")}


__all__ = ["BundleError", "INSTALLER", "LEDGER_FILE", "MASTER_FILE", "make_bundle", "installer_script",
           "wheel_names"]
