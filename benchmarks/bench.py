"""Benchmark: the one-click job against the file-reading floor and the naive pandas script.

    python -m benchmarks.bench                 # county, city and province sizes
    python -m benchmarks.bench --sizes 100x100 # one size

For each size (files x rows, days of history already in the store) it generates a campaign, then
times, on the same files, each in a cold interpreter so that all pay the same start-up: (1) the floor:
python-calamine reading every ledger sheet (one process), plus one save of a master of the same size,
taken as strictly as it can be: the master the run wrote, read and deflated again (fastest level) part
by part, with no spreadsheet library and no XML to generate; and the same with the save done by
openpyxl (a write-only workbook of the master's cells, openpyxl's fastest); (2) `xladdin run`, with its CPU seconds
(above its wall time when both cores work); (3) `xladdin validate`; (4) the naive analyst script
(pandas.read_excel with openpyxl per file, concat, to_excel); (5) `xladdin run` again after 1% of the files are new (the
others already processed). Medians of --repeat runs; peak memory of the run subprocess.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from tests.campaigns import AS_OF, generate, seed_history  # noqa: F401  (shared with the tests)

SIZES = {"county": (10, 50, 0), "city": (100, 100, 0), "province": (1000, 50, 90)}


FLOOR = """
import sys, glob, zipfile, python_calamine
for path in sorted(glob.glob(sys.argv[1] + "/报送/*.xlsx")):
    book = python_calamine.CalamineWorkbook.from_path(path)
    book.get_sheet_by_name("进度台账").to_python(skip_empty_area=False)
    book.close()
with zipfile.ZipFile(sys.argv[1] + "/母表.xlsm") as source, \\
        zipfile.ZipFile(sys.argv[1] + "/floor-copy.xlsm", "w", zipfile.ZIP_DEFLATED) as copy:
    for info in source.infolist():
        copy.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
"""

# The same floor with the save done by openpyxl, the library the add-in's templates use: its fastest
# way (a write-only workbook) to save the master's cells, values as the run left them. Reading the
# master to know its cells is not timed; the script prints the seconds that are.
FLOOR_OPENPYXL = """
import sys, glob, time
started = time.perf_counter()
import openpyxl, python_calamine
for path in sorted(glob.glob(sys.argv[1] + "/报送/*.xlsx")):
    book = python_calamine.CalamineWorkbook.from_path(path)
    book.get_sheet_by_name("进度台账").to_python(skip_empty_area=False)
    book.close()
prepared = time.perf_counter()
master = python_calamine.CalamineWorkbook.from_path(sys.argv[1] + "/母表.xlsm")
sheets = {name: master.get_sheet_by_name(name).to_python() for name in master.sheet_names}
resumed = time.perf_counter()
out = openpyxl.Workbook(write_only=True)
for name, rows in sheets.items():
    sheet = out.create_sheet(name)
    for row in rows:
        sheet.append(row)
out.save(sys.argv[1] + "/floor-openpyxl.xlsx")
print(time.perf_counter() - resumed + prepared - started)
"""

NAIVE = """
import sys, glob, pandas as pd
frames = [pd.read_excel(path, sheet_name="进度台账", header=3, engine="openpyxl")
          for path in sorted(glob.glob(sys.argv[1] + "/报送/*.xlsx"))]
pd.concat(frames).to_excel(sys.argv[1] + "/naive.xlsx", index=False)
"""


def timed_script(script: str, directory: Path) -> float:
    """Seconds of a cold interpreter running `script` on the campaign: the same start-up cost as `run`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(directory)], check=True, capture_output=True)
    return time.perf_counter() - start


def floor(directory: Path) -> float:
    return timed_script(FLOOR, directory)


def floor_openpyxl(directory: Path) -> float:
    """Seconds of FLOOR_OPENPYXL's timed part, imports included (the interpreter's own start, a few
    hundredths of a second, is not)."""
    done = subprocess.run([sys.executable, "-c", FLOOR_OPENPYXL, str(directory)], check=True, capture_output=True,
                          text=True)
    return float(done.stdout.strip().splitlines()[-1])


def naive(directory: Path) -> float:
    return timed_script(NAIVE, directory)


def timed_cli(args: list[str]) -> tuple[float, float, float]:
    """Seconds, peak RSS (MiB) and CPU seconds of one cold `xladdin` subprocess, its own figures (with
    its reader processes' CPU), read from wait4 for that process alone."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "xladdin.cli", *args], stdout=subprocess.DEVNULL,
                                   stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise subprocess.CalledProcessError(process.returncode, args, stderr=errors.read())
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _refresh_some(directory: Path, count: int) -> int:
    """Resubmit `count` ledgers with one more mu acquired on their first project: new content, same day."""
    changed = 0
    for path in sorted((directory / "报送").glob("*.xlsx"))[:count]:
        wb = openpyxl.load_workbook(path)
        ws = wb["进度台账"]
        ws["E5"].value = float(ws["E5"].value or 0) + 1
        wb.save(path.with_name(path.stem + "_更新.xlsx"))
        changed += 1
    return changed


def measure(label: str, files: int, rows: int, days: int, repeat: int, cache: Path | None = None) -> dict:
    results = {"size": label, "files": files, "rows": rows, "days": days}
    floors, runs, validates, naives, peaks, increments, cpus, library = [], [], [], [], [], [], [], []
    base = Path(tempfile.mkdtemp(prefix=f"xladdin-bench-{label}-"))
    try:
        template = (cache / f"{files}x{rows}x{days}") if cache else base / "template"
        t = time.perf_counter()
        if not (template / "母表.xlsm").exists():
            shutil.rmtree(template, ignore_errors=True)
            template.mkdir(parents=True)
            # In a child process: a forked child starts with its parent's memory, and wait4 reports the
            # largest a child ever was, so this process must stay small for the runs' peaks to be theirs.
            subprocess.run([sys.executable, "-m", "benchmarks.bench", "--make", str(template), str(files), str(rows),
                            str(days)], check=True)
        results["generate_s"] = time.perf_counter() - t
        for i in range(repeat):
            work = base / f"run{i}"
            shutil.copytree(template, work)
            seconds, _, _ = timed_cli(["validate", str(work / "母表.xlsm"), "--as-of", AS_OF.isoformat(), "--json"])
            validates.append(seconds)
            seconds, peak, cpu = timed_cli(["run", str(work / "母表.xlsm"), "--as-of", AS_OF.isoformat(), "--json"])
            runs.append(seconds)
            peaks.append(peak)
            cpus.append(cpu)
            floors.append(floor(work))  # on the master as the run left it: the size it had to write
            library.append(floor_openpyxl(work))
            naives.append(naive(work))
            fresh = _refresh_some(work, max(1, files // 100))
            seconds, _, _ = timed_cli(["run", str(work / "母表.xlsm"), "--as-of", AS_OF.isoformat(), "--json"])
            increments.append(seconds)
            assert fresh
            shutil.rmtree(work)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results["peaks"] = [round(p) for p in peaks]
    results.update(floor_s=statistics.median(floors), run_s=statistics.median(runs),
                   validate_s=statistics.median(validates), naive_s=statistics.median(naives), peak_mib=max(peaks),
                   incremental_s=statistics.median(increments), cpu_s=statistics.median(cpus),
                   floor_openpyxl_s=statistics.median(library))
    results["run/floor_openpyxl"] = results["run_s"] / results["floor_openpyxl_s"]
    results["incr/run"] = results["incremental_s"] / results["run_s"]
    results["run/floor"] = results["run_s"] / results["floor_s"]
    results["naive/run"] = results["naive_s"] / results["run_s"]
    results["files/s"] = files / results["run_s"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), help="county city province, or FILESxROWS[xDAYS]")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="keep generated campaigns here and reuse them (a province "
                        "takes minutes to generate)")
    parser.add_argument("--make", nargs=4, metavar=("DIR", "FILES", "ROWS", "DAYS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        directory, files, rows, days = Path(args.make[0]), *map(int, args.make[1:])
        master = generate(directory, files, rows)
        if days:
            seed_history(master, days)
        return
    table = []
    for size in args.sizes:
        if size in SIZES:
            files, rows, days = SIZES[size]
        else:
            parts = [int(p) for p in size.split("x")]
            files, rows, days = (*parts, 0)[:3]
        table.append(measure(size, files, rows, days, args.repeat, args.cache))
        print(_format([table[-1]]), flush=True)
    print()
    print(_format(table))
    print(f"\nmachine: {os.cpu_count()} cores; medians of {args.repeat} runs; peak MiB of each run: "
          + "; ".join(f"{r['size']} {r['peaks']}" for r in table))


def _format(table: list[dict]) -> str:
    header = ("size", "files", "rows", "days", "floor_s", "floor_openpyxl_s", "validate_s", "run_s", "cpu_s", "naive_s",
              "run/floor", "run/floor_openpyxl", "naive/run",
              "incremental_s", "incr/run", "files/s", "peak_mib")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in table:
        cells = [f"{r[h]:.2f}" if isinstance(r[h], float) else str(r[h]) for h in header]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
