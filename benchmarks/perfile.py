"""The marginal cost of one more file, side by side with its plain python-calamine read (issue 29,
item 4): the same ledger read N times in one process, then taken through what a run does with each
new file (screened, read, located, checked against the registry and the group's state, recorded in
an in-memory store), all timed in alternation so that the machine's load falls on both alike.

    python -m benchmarks.bench --make /tmp/c/county 10 50 0
    python -m benchmarks.perfile /tmp/c/county [--repeat 200] [--prof]
    SRC=/tmp/c/base python -m benchmarks.perfile /tmp/c/county     # an earlier commit's tree

It prints the median per-file time of each stage and the ratio path/read (target ≤ 3, goal ≤ 2).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

if os.environ.get("SRC"):  # measure another tree (git archive COMMIT xladdin | tar -x -C DIR): not the editable one
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, os.environ["SRC"])

import python_calamine

from xladdin.domain.validate import RegistryIndex, check_ledger
from xladdin.engine.intake import _record
from xladdin.engine.reading import Source, locate_file
from xladdin.store.history import Store
from xladdin.workbook.guard import Limits
from xladdin.workbook.package import MasterBook

AS_OF = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def plain_read(path: Path) -> list:
    """What an analyst's script pays at least: open the workbook, take the sheet's values."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(book.sheet_names[0]).to_python(skip_empty_area=False)
    finally:
        book.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("campaign", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--prof", action="store_true", help="cProfile the whole path instead of timing it")
    args = parser.parse_args()
    files = sorted((args.campaign / "报送").glob("*.xlsx"))
    registry = MasterBook.open(args.campaign / "母表.xlsm").registry()
    index, limits = RegistryIndex(registry), Limits()
    store = Store.in_memory()
    store.begin_run(AS_OF, "run", NOW)
    states = store.history()
    serial = iter(range(10**9))

    def record(path: Path, checked) -> None:
        # a date of its own each time: the usual new file, not a same-day resubmission
        checked.report_date = AS_OF - dt.timedelta(days=next(serial) % 3000 + 1)
        source = Source(path.name, f"{next(serial):064x}", path, mtime_ns=path.stat().st_mtime_ns)
        _record(source, checked, store, NOW, False, False, states, None)  # the group's one file

    def path_of(path: Path, recorded: bool = True):
        ledger = locate_file(path, limits)
        checked = check_ledger(ledger, index, states, AS_OF)
        if recorded:
            record(path, checked)
        return checked

    assert path_of(files[0], recorded=False).accepted, "the campaign's ledger should be accepted"
    if args.prof:
        profile = cProfile.Profile()
        profile.enable()
        for i in range(args.repeat):
            path_of(files[i % len(files)])
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return
    times = {"read": [], "locate": [], "check": [], "record": [], "path": []}
    for i in range(args.repeat):
        path = files[i % len(files)]
        t0 = time.process_time()
        plain_read(path)
        t1 = time.process_time()
        ledger = locate_file(path, limits)
        t2 = time.process_time()
        checked = check_ledger(ledger, index, states, AS_OF)
        t3 = time.process_time()
        record(path, checked)
        t4 = time.process_time()
        times["read"].append(t1 - t0)
        times["locate"].append(t2 - t1)
        times["check"].append(t3 - t2)
        times["record"].append(t4 - t3)
        times["path"].append(t4 - t1)
    median = {k: statistics.median(v) * 1000 for k, v in times.items()}
    low = {k: min(v) * 1000 for k, v in times.items()}
    rows = len(plain_read(files[0]))
    print(f"{len(files)} files of {rows} sheet rows, {args.repeat} rounds (median CPU ms per file: the machine is shared)")
    for k, v in median.items():
        print(f"  {k:8s} {v:7.3f} ms   (fastest {low[k]:.3f} ms)")
    print(f"  path/read {median['path'] / median['read']:.2f}   (fastest {low['path'] / low['read']:.2f})")


if __name__ == "__main__":
    main()
