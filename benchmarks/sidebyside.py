"""One campaign run three times in one process (a first run, a second click with nothing new, then a click
after staff changed one cell of 设置, which must compute again), with the
节点计划 region's cost separated out when NOPLAN=1 (build_plan and reached_dates stubbed where the tree
being measured has them: before the milestones rework that region's quadratic dominated a city run).
SRC=DIR measures the package in DIR instead of the installed one (e.g. an earlier commit:
`git archive COMMIT xladdin | tar -x -C DIR`).

    python -m benchmarks.bench --make /tmp/c/city 100 100 0
    python benchmarks/sidebyside.py /tmp/c/city time     # or prof / prof2 / prof3: cProfile of run 1 / 2 / 3
    python benchmarks/sidebyside.py /tmp/c/city cold     # run 1 and 2 each in a cold process (peak of each)
    python benchmarks/sidebyside.py /tmp/c/city naive    # bench.py's naive script on the same files
    python benchmarks/sidebyside.py /tmp/c/city cli      # `python -m xladdin.cli run` twice, as staff run it
"""

import cProfile
import datetime as dt
import importlib
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

NOW = dt.datetime(2026, 11, 24, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def main() -> None:
    if os.environ.get("SRC"):  # measure another tree: drop the editable install's finder
        sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
        sys.path.insert(0, os.environ["SRC"])
    src, mode = Path(sys.argv[1]), sys.argv[2]
    work = src.parent / f"work-{src.name}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    if mode in ("cold", "naive", "cli"):
        _subprocesses(work, mode)
        return
    pipeline = importlib.import_module("xladdin.engine.pipeline")
    if os.environ.get("NOPLAN"):
        for name, stub in (("build_plan", lambda *a, **k: None), ("reached_dates", lambda *a, **k: {})):
            if hasattr(pipeline, name):
                setattr(pipeline, name, stub)
    engine = importlib.import_module("xladdin.engine.operations").Engine

    def go():
        return engine.on_file(work / "母表.xlsm", now=NOW).run(as_of=dt.date(2026, 11, 24), workers=1)

    for label, profiled in (("first", "prof"), ("second", "prof2"), ("after a 设置 edit", "prof3")):
        if profiled == "prof3":
            edit_setting(work / "母表.xlsm")
        start, cpu = time.perf_counter(), time.process_time()
        if mode == profiled:
            cProfile.runctx("go()", globals(), {"go": go}, str(src.parent / f"{label}.prof"))
        else:
            go()
        print(label, f"{time.perf_counter() - start:.2f} s wall, {time.process_time() - cpu:.2f} s CPU, "
              f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", flush=True)


def _subprocesses(work: Path, mode: str) -> None:
    """Cold processes, CPU (imports counted) and peak RSS from wait4: bench.py's naive script, or a first
    run and a second click each in its own process (through the engine, or through the command)."""
    if mode == "naive":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from benchmarks.bench import NAIVE

        scripts = [("naive", NAIVE)]
    elif mode == "cli":
        scripts = [(f"cli {label}", ["-m", "xladdin.cli", "run", str(work / "母表.xlsm"), "--as-of",
                                     NOW.date().isoformat()]) for label in ("first", "second")]
    else:
        run = (
            "import datetime as dt, os, pathlib, sys\n"
            "if os.environ.get('SRC'):\n"
            "    sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
            "    sys.path.insert(0, os.environ['SRC'])\n"
            "from xladdin.engine.operations import Engine\n"
            f"now = dt.datetime.fromisoformat({NOW.isoformat()!r})\n"
            f"Engine.on_file(pathlib.Path({str(work / '母表.xlsm')!r}), now=now).run(as_of=dt.date(2026, 11, 24), "
            "workers=1)\n")
        scripts = [("cold first", run), ("cold second", run)]
    for label, script in scripts:
        start = time.perf_counter()
        command = script if isinstance(script, list) else ["-c", script, str(work)]
        process = subprocess.Popen([sys.executable, *command], stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        print(label, f"{time.perf_counter() - start:.2f} s wall, {usage.ru_utime + usage.ru_stime:.2f} s CPU, "
              f"peak {usage.ru_maxrss / 1024:.0f} MiB, exit {os.waitstatus_to_exitcode(status)}", flush=True)


def edit_setting(master: Path, label: str = "临期天数") -> None:
    """Staff change one cell of 设置 (the setting `label`, one more than it was) and save: that sheet's part
    changes, every other part stays byte for byte."""
    book = importlib.import_module("xladdin.workbook.package").MasterBook.open(master)
    name = importlib.import_module("xladdin.workbook.layout").SETTINGS.name
    row = next(r for r, values in book.table_rows(name)[1] if values[0] == label)
    column = importlib.import_module("xladdin.base.schema").column_letter(book.table_origin(name)[1] + 1)
    part = book.sheet_parts["设置"]
    with zipfile.ZipFile(master) as archive:
        parts = {info: archive.read(info) for info in archive.infolist()}
    for info, data in parts.items():
        if info.filename == part:
            xml = data.decode("utf-8")
            cell = re.search(rf'<c r="{column}{row}"[^>]*>(?:<f>[^<]*</f>)?<v>([0-9.]+)</v>', xml)
            parts[info] = (xml[:cell.start(1)] + f"{float(cell.group(1)) + 1:g}" + xml[cell.end(1):]).encode("utf-8")
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts.items():
            archive.writestr(info, data)


if __name__ == "__main__":
    main()
