"""The offline bundle for intranet Windows PCs: exactly the versions CI tests (constraints.txt), for every
Python those have Windows wheels for; 安装.cmd takes only such a Python, 64-bit, and every way it stops
says in Chinese what to do; the launchers find the venv 安装.cmd made. The tests marked `network` download
from the package index (XLADDIN_NETWORK_TESTS=1): the bundle resolves for each Python without an index."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from xladdin.bundle import (
    CONSTRAINTS,
    INSTALLER,
    VENV,
    BundleError,
    check_pythons,
    installer_script,
    make_bundle,
    pins_for,
    requirements,
    supported_pythons,
    wheel_names,
)
from xladdin.cli import main
from xladdin.workbook.build import INSTALLED_VENV, RUN_LAUNCHER, SERVE_LAUNCHER, launcher_cmd, write_launchers

ROOT = Path(__file__).parent.parent
PINS = ROOT / CONSTRAINTS
WEB_STACK = ("starlette", "uvicorn", "python-multipart", "jinja2")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(text).name).lower()


def _pins(python: str) -> dict[str, str]:
    """name -> pinned version for a PC with this Python (markers evaluated for it on Windows)."""
    pins = {}
    for line in PINS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        environment = {"python_version": python, "sys_platform": "win32", "platform_system": "Windows"}
        if requirement.marker is None or requirement.marker.evaluate(environment):
            assert _name(line) not in pins, f"{_name(line)} pinned twice for Python {python}"
            pins[_name(line)] = str(requirement.specifier).removeprefix("==")
    return pins


# -- constraints.txt ------------------------------------------------------------------------------

def test_the_constraints_cover_every_python_from_3_11_up_to_3_14_at_least():
    pythons = supported_pythons(PINS)
    assert pythons[:4] == ("3.11", "3.12", "3.13", "3.14")
    assert [int(v.split(".")[1]) for v in pythons] == list(range(11, 11 + len(pythons)))  # no gap


def test_each_python_gets_one_pin_per_package_as_the_markers_say():
    for python in supported_pythons(PINS):
        names = [_name(line) for line in pins_for(PINS, python)]
        assert len(names) == len(set(names)) and _pins(python) == {
            _name(line): line.split("==")[1] for line in pins_for(PINS, python)}
    assert all("python_version" in line for line in PINS.read_text().splitlines() if ";" in line and line[0] != "#")


def test_the_constraints_pin_every_dependency_within_what_pyproject_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    for python in supported_pythons(PINS):
        pins = _pins(python)
        for text in [*wanted, *(f"{name}" for name in (*WEB_STACK, "pywin32"))]:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"python_version": python}):
                continue
            name = _name(text)
            assert name in pins, f"{name} is not pinned in {CONSTRAINTS} (run scripts/constraints.py)"
            assert requirement.specifier.contains(pins[name], prereleases=True), \
                f"{name}=={pins[name]} is outside pyproject's {requirement.specifier}"


def test_this_venv_runs_the_pinned_versions():
    """CI installs with -c constraints.txt: what the tests run on is what the bundle carries."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name, version in _pins(python).items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # Windows-only, or a stack not installed here
        assert installed == version, f"{name} {installed} installed, {version} pinned"


def test_ci_installs_with_the_constraints():
    assert "-c constraints.txt" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# -- the Python versions asked for ----------------------------------------------------------------

@pytest.mark.parametrize("asked, said", [
    (("3.9",), "xladdin 需要 3.11 或更新的 Python"),
    (("3.99",), "还没有它能用的全部 Windows 安装包"),
    (("py3",), "不是 Python 版本号"),
])
def test_a_python_the_bundle_cannot_serve_is_refused_naming_those_it_can(asked, said):
    with pytest.raises(BundleError) as raised:
        check_pythons(asked, ("3.11", "3.12", "3.13", "3.14"))
    message = str(raised.value)
    assert said in message and "3.11、3.12、3.13、3.14" in message and "\n" not in message


def test_without_a_choice_every_supported_python_is_bundled_newest_first():
    assert check_pythons((), ("3.11", "3.12", "3.13", "3.14")) == ("3.14", "3.13", "3.12", "3.11")
    assert check_pythons(("3.12",), ("3.11", "3.12")) == ("3.12",)


def test_the_command_refuses_an_old_python_in_one_chinese_sentence(tmp_path):
    result = CliRunner().invoke(main, ["offline-bundle", str(tmp_path / "包"), "--python", "3.9"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) <= 2 and "3.11" in result.output and "pip" not in result.output.lower()
    assert not (tmp_path / "包").exists()


def test_without_a_package_index_it_says_so_and_leaves_no_wheels_folder(tmp_path, monkeypatch):
    """pip against an index that refuses connections: one Chinese sentence, and no empty wheels/ left."""
    for key, value in {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
                       "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INDEX": ""}.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "离线安装包"
    with pytest.raises(BundleError, match="连不上软件包索引") as raised:
        make_bundle(out, ("3.11",))
    assert "\n" not in str(raised.value)
    assert not out.exists()
    out.mkdir()
    (out / "wheels").mkdir()
    (out / "wheels" / "kept.whl").write_bytes(b"an earlier, complete bundle")
    with pytest.raises(BundleError):
        make_bundle(out, ("3.11",))
    assert [p.name for p in out.iterdir()] == ["wheels"] and (out / "wheels" / "kept.whl").is_file()


# -- 安装.cmd -------------------------------------------------------------------------------------

def _lines(script: str) -> list[str]:
    return script.splitlines()


def test_the_installer_probes_exactly_the_bundled_pythons_64_bit():
    pythons = ("3.15", "3.14", "3.13", "3.12", "3.11")
    lines = _lines(installer_script(pythons))
    probes = [line for line in lines if re.search(r"\bpy -3\.\d+ ", line)]
    assert [re.search(r"py -(3\.\d+) ", p).group(1) for p in probes] == list(pythons)  # newest first
    assert all("struct.calcsize('P') != 8" in p for p in probes)
    on_path = next(line for line in lines if line.startswith("if not defined PY python "))
    assert "struct.calcsize('P') != 8" in on_path
    accepted = re.search(r"not in (\(.*\))\)\"", on_path).group(1)
    assert eval(accepted) == tuple((3, int(v.split(".")[1])) for v in pythons)  # exactly those, no other
    assert not any(re.search(r"py -3\.(10|16)\b", line) for line in lines)


def test_the_installer_refuses_any_other_python_naming_what_to_install():
    lines = _lines(installer_script(("3.14", "3.13", "3.12", "3.11")))
    refusal = lines[lines.index("if defined PY goto :venv") + 1:]
    said = " ".join(line for line in refusal[:4] if line.startswith("echo "))
    assert "3.11、3.12、3.13、3.14" in said and "64 位的 Python 3.14" in said and "Add python.exe to PATH" in said


def test_the_installer_takes_its_steps_in_order_and_each_stop_says_what_to_do():
    raw = installer_script(("3.14", "3.13", "3.12", "3.11")).encode("gbk")  # cmd.exe reads the ANSI code page
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    lines = _lines(raw.decode("gbk"))

    def first(fragment: str) -> int:
        return next(i for i, line in enumerate(lines) if fragment in line)

    find, venv = first("py -3.14"), first("-m venv")
    install, setup, done = first("pip install"), first("excel-setup"), first("安装完成")
    assert find < venv < install < setup < done
    assert f'set "VENV={VENV}"' in lines and VENV == INSTALLED_VENV  # where the launchers look first
    assert '--no-index --find-links "%~dp0wheels"' in lines[install] and "--clear" in lines[venv]
    for step in (venv, install):
        assert re.search(r"\|\| goto :\w+$", lines[step])
    # excel-setup's exit codes: 3 the master unusable, 2 problems on this PC; never "安装完成" after either.
    checks = lines[setup + 1:done]
    assert checks[:3] == ["if errorlevel 3 goto :master_failed", "if errorlevel 2 goto :problems",
                          "if errorlevel 1 goto :failed"]
    labels = {line[1:] for line in lines if line.startswith(":")}
    for target in re.findall(r"goto :(\w+)", "\n".join(lines)):
        assert target in labels
    for label in ("venv_failed", "pip_failed", "master_failed", "problems"):
        said = lines[lines.index(f":{label}") + 1:]
        said = next(line for line in said if line.startswith("echo ") and len(line) > 6)
        assert re.search(r"[\u4e00-\u9fff]", said) and ("请" in said or "再双击" in said)
    excel = lines.index(":excel_open")
    assert "关闭" in lines[excel + 1] and first("EXCEL.EXE") < find  # close Excel before the venv is replaced


def test_no_echo_of_the_installer_or_launchers_breaks_cmd():
    """No ASCII parenthesis or redirection in an echo (cmd would read them as syntax)."""
    scripts = [installer_script(("3.14", "3.11")), launcher_cmd("说明", 'run "母表.xlsm"')]
    for line in (line for script in scripts for line in script.splitlines()):
        if line.startswith("echo "):
            assert not re.search(r"[()<>|&^]", line), line


# -- the launchers --------------------------------------------------------------------------------

def test_the_launchers_try_the_installed_venv_first_then_path_then_py(tmp_path):
    write_launchers(tmp_path, "指挥部母表.xlsm")
    for name, command in ((RUN_LAUNCHER, "run"), (SERVE_LAUNCHER, "serve")):
        raw = (tmp_path / name).read_bytes()
        assert b"\n" not in raw.replace(b"\r\n", b"")
        lines = raw.decode("gbk").splitlines()
        venv = next(i for i, line in enumerate(lines) if line.startswith('if exist "%XLADDIN%"'))
        path = next(i for i, line in enumerate(lines) if line.startswith("where xladdin"))
        py = next(i for i, line in enumerate(lines) if line.startswith("py -3 -c"))
        assert lines[venv - 1] == f'set "XLADDIN={INSTALLED_VENV}\\Scripts\\xladdin.exe"'
        assert venv < path < py
        runs = [line for line in lines if f' {command} "指挥部母表.xlsm" %*' in line]
        assert [r.split(f" {command} ")[0] for r in runs] == ['"%XLADDIN%"', "xladdin", "py -3 -m xladdin.cli"]
        refusal = lines[py + 1]
        assert refusal.startswith("echo ") and "安装.cmd" in refusal
        assert lines[-1] == "exit /b %RC%"


# -- what needs the package index -----------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    made = make_bundle(out)  # every supported Python, from the package index, as the command does
    return out, made


@pytest.mark.network
def test_the_bundle_holds_exactly_the_pinned_windows_wheels_for_every_supported_python(bundle):
    out, made = bundle
    assert made.pythons == tuple(reversed(supported_pythons(PINS)))
    names = wheel_names(out / "wheels")
    assert {"xladdin", "pywin32"} | {_name(r) for r in requirements()} <= names
    for python in made.pythons:
        tag = "cp" + python.replace(".", "")
        for name in ("xlwings", "pandas", "numpy", "pywin32", "python_calamine"):
            assert [p for p in (out / "wheels").glob(f"{name}-*-{tag}-*win_amd64.whl")], (name, python)
    for wheel in (out / "wheels").glob("*.whl"):
        name, version = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower(), wheel.name.split("-")[1]
        if name != "xladdin":
            assert any(_pins(p).get(name) == version for p in made.pythons), wheel.name
    own = next((out / "wheels").glob("xladdin-*.whl"))
    with zipfile.ZipFile(own) as archive:
        assert {"xladdin/excel.py", "xladdin/cli.py", "xladdin/excel_setup.py"} <= set(archive.namelist())
    for shipped in ("指挥部母表.xlsm", INSTALLER, RUN_LAUNCHER, SERVE_LAUNCHER):
        assert (out / shipped).is_file()
    installer = (out / INSTALLER).read_bytes().decode("gbk")
    assert {re.search(r"py -(3\.\d+) ", p).group(1) for p in installer.splitlines()
            if re.search(r"py -3\.\d+ ", p)} == set(made.pythons)


@pytest.mark.network
def test_the_bundle_resolves_for_each_windows_python_without_an_index(bundle, tmp_path):
    out, made = bundle
    for python in made.pythons:
        target = tmp_path / python
        # --isolated: no pip configuration of this machine (its find-links) may help the resolver.
        done = subprocess.run([sys.executable, "-m", "pip", "--isolated", "download", "--no-index", "--find-links",
                               str(out / "wheels"), "--only-binary=:all:", "--platform", "win_amd64",
                               "--python-version", python, "--implementation", "cp", "--dest", str(target),
                               "--quiet", "xladdin", "pywin32"], capture_output=True, text=True)
        assert done.returncode == 0, (python, done.stderr[-800:])
        resolved = {re.sub(r"[-_.]+", "-", p.name.split("-")[0]).lower(): p.name.split("-")[1]
                    for p in target.glob("*.whl")}
        assert {"xladdin", "xlwings", "pywin32", "pandas", "python-calamine"} <= set(resolved)
        assert {_name(r) for r in requirements()} <= set(resolved)
        pins = _pins(python)
        assert all(pins[name] == version for name, version in resolved.items() if name != "xladdin"), python
