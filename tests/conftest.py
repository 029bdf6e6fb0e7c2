"""Shared fixtures: the demo campaign built once, small registries and ledgers, LibreOffice recalculation."""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings PRO engines (remote, calamine) in tests
# An exception inside a file's check fails the test instead of becoming one more rejected file (base/faults.py);
# set before anything runs, so that the runs tests start as subprocesses inherit it.
os.environ["XLADDIN_STRICT"] = "1"

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xladdin.demo import MANIFEST_NAME, MASTER_NAME, build_demo, registry_frame, registry_rows
from xladdin.engine.pipeline import execute
from xladdin.workbook.build import build_master

AS_OF = dt.date(2026, 11, 24)
# Hypothesis: a quick profile by default (a fifth of the examples), every example in CI (HYPOTHESIS_PROFILE=ci,
# set by .ci/run). Property tests take their counts through examples().
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")


def examples(ci_count: int) -> int:
    """How many examples a property test tries: its full count in CI, a fifth (at least 20) otherwise."""
    return ci_count if PROFILE == "ci" else max(20, ci_count // 5)

RUN_AT = dt.datetime.combine(AS_OF, dt.time(21, 30))  # the demo's run: the 9 pm meeting of its last day
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _deselect(config, items, marker: str, line: str) -> None:
    """Tests with this marker left out of the run, which says so in one line (they are not counted as passed)."""
    skipped = [item for item in items if item.get_closest_marker(marker)]
    if not skipped:
        return
    items[:] = [item for item in items if not item.get_closest_marker(marker)]
    config.hook.pytest_deselected(items=skipped)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line.format(count=len(skipped)), yellow=True, bold=True)


# CI (and the README's test command, through .ci/run) installs every tool the tests use: there a missing tool
# fails the test that needs it instead of skipping it, so a check is never counted without being run.
REQUIRE_TOOLS = os.environ.get("XLADDIN_REQUIRE_TOOLS", "") not in ("", "0")


def needs(*tools: str) -> None:
    """Skip the calling test when one of `tools` is not on PATH (a developer's machine); fail it under CI."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        message = f"needs {', '.join(missing)} (installed by the README's test command)"
        if REQUIRE_TOOLS:
            pytest.fail(message)
        pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    """Without LibreOffice the recalculation tests are deselected (CI installs LibreOffice, so CI runs them);
    the tests that download from the package index run only when XLADDIN_NETWORK_TESTS=1."""
    if not SOFFICE and REQUIRE_TOOLS:
        raise pytest.UsageError("LibreOffice (soffice) not found, and XLADDIN_REQUIRE_TOOLS is set: install it with "
                                "the README's test command.")
    if not SOFFICE:
        _deselect(config, items, "libreoffice", "LibreOffice (soffice) not found: {count} recalculation tests "
                  "deselected. Install it with: apt-get install -y libreoffice-calc-nogui")
    if os.environ.get("XLADDIN_NETWORK_TESTS") != "1":
        _deselect(config, items, "network", "{count} tests that download from the package index deselected. "
                  "Run them with: XLADDIN_NETWORK_TESTS=1 .venv/bin/python -m pytest -m network")
    # LibreOffice's recalculations are the longest single tests: queued first (pytest-xdist hands tests out in
    # this order), so that no worker is left starting one while the other has finished.
    items.sort(key=lambda item: item.get_closest_marker("libreoffice") is None)


@pytest.fixture(scope="session")
def pristine_master(tmp_path_factory) -> Path:
    """A master of the demo registry before any run, built once per worker: copy it (a test's `master`
    fixture does), never change it."""
    return build_master(tmp_path_factory.mktemp("master") / MASTER_NAME, registry_rows(AS_OF))


@pytest.fixture(scope="session")
def pristine_demos(tmp_path_factory):
    """Demo campaigns before any run, built once per worker and end date (never change one: copy it with
    demo_at). The store's id is bound to a master by its first run, so copies are as independent as builds."""
    built: dict[dt.date, Path] = {}

    def folder(end: dt.date) -> Path:
        if end not in built:
            built[end] = tmp_path_factory.mktemp(f"pristine-{end:%Y%m%d}")
            build_demo(built[end], end)
        return built[end]

    return folder


@pytest.fixture
def demo_at(pristine_demos):
    """demo_at(directory, end): what build_demo(directory, end) makes (master, inbox with its file times,
    launchers, manifest), copied from the worker's pristine build; returns the manifest as build_demo does."""

    def copy(directory: Path, end: dt.date = AS_OF) -> dict:
        shutil.copytree(pristine_demos(end), directory, dirs_exist_ok=True)  # copy2: file times kept
        return json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))

    return copy


@pytest.fixture(scope="session")
def demo(tmp_path_factory, pristine_demos):
    """The demo campaign after one run: (directory, manifest, result)."""
    directory = tmp_path_factory.mktemp("demo")
    shutil.copytree(pristine_demos(AS_OF), directory, dirs_exist_ok=True)
    result = execute(directory / MASTER_NAME, as_of=AS_OF, now=RUN_AT)
    manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    return directory, manifest, result


@pytest.fixture
def demo_copy(demo, tmp_path) -> Path:
    """The demo master and its history store after the first run, copied for a test to change."""
    directory, _, _ = demo
    for name in (MASTER_NAME, "历史库.sqlite"):
        shutil.copy(directory / name, tmp_path / name)
    return tmp_path / MASTER_NAME


@pytest.fixture(scope="session")
def small_campaign(tmp_path_factory) -> Path:
    """A generated campaign of 3 groups of 3 projects with eight earlier days in its store, after one run as
    of AS_OF: for tests of what a run or a notice does, where the demo's size proves nothing. Copy it with
    small_copy, never change it."""
    from .campaigns import generate, seed_history

    master = generate(tmp_path_factory.mktemp("small"), 3, 3)
    seed_history(master, 8)
    execute(master, as_of=AS_OF, now=RUN_AT)
    return master


@pytest.fixture
def small_copy(small_campaign, tmp_path) -> Path:
    """The small campaign's master and history store after its run, copied for a test to change."""
    for name in (small_campaign.name, "历史库.sqlite"):
        shutil.copy(small_campaign.parent / name, tmp_path / name)
    return tmp_path / small_campaign.name


@pytest.fixture
def registry() -> pd.DataFrame:
    frame = registry_frame()
    frame["deadline"] = AS_OF + dt.timedelta(days=30)
    return frame


# Workbooks table_frame loaded lately, by path, mode and the SHA-1 of their bytes: a test reading several tables
# of one file (a recalculated master has a dozen) loads it once, and a file changed since is loaded again.
_LOADED: dict[tuple, openpyxl.Workbook] = {}


def _loaded(path: Path, data_only: bool) -> openpyxl.Workbook:
    data = Path(path).read_bytes()
    key = (str(path), data_only, hashlib.sha1(data).digest())
    if key not in _LOADED:
        while len(_LOADED) >= 4:
            del _LOADED[next(iter(_LOADED))]
        _LOADED[key] = openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)
    return _LOADED[key]


def table_frame(path: Path, table: str, data_only: bool = False) -> pd.DataFrame:
    """An Excel table of a workbook as a DataFrame with its header labels (the workbook only read)."""
    wb = _loaded(path, data_only)
    for ws in wb.worksheets:
        if table in ws.tables:
            cells = list(ws[ws.tables[table].ref])
            header = [c.value for c in cells[0]]
            rows = [[c.value for c in row] for row in cells[1:]]
            return pd.DataFrame(rows, columns=header)
    raise AssertionError(f"table {table} not found in {path}")


# This worker's LibreOffice profile (set by _libreoffice_profile): made by its first conversion, reused by the
# next ones. One per worker, used by one LibreOffice at a time (the VBA probe keeps a profile of its own).
_PROFILE: list[Path] = []
# The system Python with LibreOffice's `uno` module (Debian's python3-uno), which drives tests/lo_server.py.
UNO_PYTHON = os.environ.get("XLADDIN_UNO_PYTHON", "/usr/bin/python3")


class _Office:
    """This worker's LibreOffice, started by its first conversion and kept until the session ends: each start
    costs LibreOffice more than most conversions. Without python3-uno, every conversion starts soffice."""

    process: subprocess.Popen | None = None

    @classmethod
    def uno(cls) -> bool:
        if not hasattr(cls, "_uno"):
            cls._uno = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0
        return cls._uno

    ready = False

    @classmethod
    def start(cls) -> None:
        """Starts LibreOffice without waiting for it (it loads while the worker collects and sets up)."""
        if cls.process is None or cls.process.poll() is not None:
            cls.process = subprocess.Popen([UNO_PYTHON, str(Path(__file__).with_name("lo_server.py")),
                                            str(libreoffice_profile())], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True, encoding="utf-8")
            cls.ready = False

    @classmethod
    def request(cls, files: list[Path], fmt: str, out_dir: Path) -> None:
        cls.start()
        if not cls.ready:
            ready = cls.process.stdout.readline()
            assert ready.strip() == '{"ready": true}', f"LibreOffice did not start: {ready!r}"
            cls.ready = True
        cls.process.stdin.write(json.dumps({"files": [str(f) for f in files], "format": fmt,
                                            "outdir": str(out_dir)}) + "\n")
        cls.process.stdin.flush()
        answer = json.loads(cls.process.stdout.readline() or '{"error": "LibreOffice stopped"}')
        assert answer.get("ok"), f"LibreOffice did not convert {[f.name for f in files]}: {answer}"

    @classmethod
    def close(cls) -> None:
        if cls.process is not None:
            cls.process.stdin.close()
            try:
                cls.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                cls.process.kill()
            cls.process = None


@pytest.fixture(scope="session", autouse=True)
def _libreoffice_profile(request, tmp_path_factory):
    _PROFILE[:] = [tmp_path_factory.getbasetemp() / "lo-profile"]
    if SOFFICE and _Office.uno() and any(item.get_closest_marker("libreoffice") for item in request.session.items):
        _Office.start()  # this session converts: LibreOffice starts while the first tests set up
    yield
    _Office.close()


def libreoffice_profile() -> Path:
    """The folder to give LibreOffice as -env:UserInstallation=file://… in a test (see _PROFILE)."""
    return _PROFILE[0]


def convert(files, fmt: str, out_dir: Path) -> list[Path]:
    """What `soffice --convert-to FMT --outdir OUT_DIR FILES…` makes (same load arguments and export filter),
    through this worker's LibreOffice; returns OUT_DIR/STEM.FMT for each file, each checked to exist."""
    files = [Path(f) for f in files]
    soffice = SOFFICE
    assert soffice, "LibreOffice is required for this test: apt-get install -y libreoffice-calc-nogui"
    if _Office.uno():
        _Office.request(files, fmt, Path(out_dir))
    else:
        calc = ["--calc"] if files[0].suffix.lower() in (".xlsx", ".xlsm", ".xls") else []
        subprocess.run([soffice, f"-env:UserInstallation=file://{libreoffice_profile()}", "--headless", *calc,
                        "--convert-to", fmt, "--outdir", str(out_dir), *map(str, files)], check=True,
                       capture_output=True, timeout=300)
    converted = [Path(out_dir) / f"{f.stem}.{fmt}" for f in files]
    missing = [c.name for c in converted if not c.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return converted


def recalculate(path: Path, out_dir: Path) -> Path:
    """Recalculate every formula with LibreOffice; returns the .xlsx it wrote."""
    return convert([path], "xlsx", out_dir)[0]
