"""The offline bundle for intranet Windows PCs: it resolves for win_amd64 from its own folder, without
an index, and 安装.cmd takes its steps in order, stopping at the first that fails."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from xladdin.bundle import INSTALLER, make_bundle, requirements, wheel_names


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    make_bundle(out, ("3.11",))  # downloads from the package index, as the command does
    return out


def _name(requirement: str) -> str:
    import re

    return re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_bundle_holds_a_windows_wheel_of_everything_xladdin_needs(bundle):
    names = wheel_names(bundle / "wheels")
    assert {"xladdin", "pywin32"} | {_name(r) for r in requirements()} <= names
    xlwings = [p.name for p in (bundle / "wheels").glob("xlwings-*.whl")]
    assert xlwings and all("win_amd64" in n and "cp311" in n for n in xlwings)
    own = next((bundle / "wheels").glob("xladdin-*.whl"))
    with zipfile.ZipFile(own) as archive:
        assert {"xladdin/excel.py", "xladdin/cli.py", "xladdin/excel_setup.py"} <= set(archive.namelist())
    assert (bundle / "指挥部母表.xlsm").is_file()


def test_the_bundle_resolves_for_windows_without_an_index(bundle, tmp_path):
    report = tmp_path / "report.json"
    # --isolated: no pip configuration of this machine (its find-links) may help the resolver.
    subprocess.run([sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed",
                    "--no-index", "--find-links", str(bundle / "wheels"), "--only-binary=:all:",
                    "--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp",
                    "--target", str(tmp_path / "target"), "--report", str(report), "--quiet", "xladdin", "pywin32"],
                   check=True, capture_output=True)
    installed = {item["metadata"]["name"].lower().replace("_", "-") for item in json.loads(report.read_text())["install"]}
    assert {"xladdin", "xlwings", "pywin32", "pandas", "python-calamine"} <= installed
    assert {_name(r) for r in requirements()} <= installed


def test_the_installer_takes_its_steps_in_order_and_stops_on_failure(bundle):
    raw = (bundle / INSTALLER).read_bytes()
    text = raw.decode("gbk")  # cmd.exe on a Chinese Windows reads the ANSI code page
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    lines = text.splitlines()

    def first(fragment: str) -> int:
        return next(i for i, line in enumerate(lines) if fragment in line)

    find, venv = first("py -3.11"), first("-m venv")
    install, setup = first("pip install --no-index"), first("excel-setup")
    assert find < venv < install < setup
    assert '--find-links "%~dp0wheels"' in lines[install]
    for step in (venv, install):
        assert lines[step].rstrip().endswith("|| goto :failed")
    assert lines.index(":failed") > setup and "exit /b 1" in text
