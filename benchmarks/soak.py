"""Soak run: the demo campaign day after day, with random bad files mixed in.

    python -m benchmarks.soak --days 60

Each simulated day every work group drops its ledger (about one in ten wrong, in a random way;
sometimes a corrected resubmission or a forwarded duplicate follows) and the one-click job runs as of
that day. At the end the store's accepted history must equal, row for row, the accepted files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from xladdin.demo import GROUPS, REPORTERS, _trajectories, daily_ledgers, registry_frame, registry_rows, spoil
from xladdin.jobs import NEW_ACCEPTED, NEW_REJECTED, execute
from xladdin.schema import FIGURE_KEYS
from xladdin.store import Store
from xladdin.workbook.build import build_master
from xladdin.workbook.ledger import build_ledger


def soak(directory: Path, days: int, seed: int = 1) -> dict:
    rng = random.Random(seed)
    end = dt.date(2026, 11, 24) + dt.timedelta(days=days)
    start = end - dt.timedelta(days=days - 1)
    master = build_master(directory / "母表.xlsm", registry_rows(end))
    inbox = directory / "报送"
    inbox.mkdir()
    registry = registry_frame()
    paths = _trajectories(rng)
    expected: list[tuple[str, str, str, pd.DataFrame]] = []  # accepted files: (group, date, name, rows)
    totals = {"files": 0, "accepted": 0, "rejected": 0, "duplicates": 0, "seconds": 0.0, "wrong": 0}
    for day, date, g, group, rows in daily_ledgers(start, days, paths, rng):
        name = f"{group}_{date:%Y%m%d}.xlsx"
        kind = rng.choice(["cumulative down", "demolished > agreed", "unknown project", "text in number cell",
                           "negative number", "unknown unit", "duplicate row"]) \
            if rng.random() < 0.1 and day > 0 else None
        sent, unit = spoil(rows, kind, group)
        build_ledger(unit, registry[registry["group"] == group], date, sent,
                     reporter=REPORTERS[g]).save(inbox / name)
        totals["wrong"] += bool(kind)
        if kind is None:
            expected.append((group, date, name, rows))
        elif rng.random() < 0.5:  # the group corrects it the same evening
            fixed = f"{group}_{date:%Y%m%d}_更正.xlsx"
            build_ledger(group, registry[registry["group"] == group], date, rows,
                         reporter=REPORTERS[g]).save(inbox / fixed)
            expected.append((group, date, fixed, rows))
        if rng.random() < 0.03:
            shutil.copy(inbox / name, inbox / name.replace(".xlsx", "(转发).xlsx"))
        if g < len(GROUPS) - 1:
            continue  # the evening run comes once every group has sent its ledger
        started = time.perf_counter()
        result = execute(master, as_of=date)
        totals["seconds"] += time.perf_counter() - started
        totals["files"] += result.count(NEW_ACCEPTED) + result.count(NEW_REJECTED)
        totals["accepted"] += result.count(NEW_ACCEPTED)
        totals["rejected"] += result.count(NEW_REJECTED)
    # The store's active history equals the accepted files, row for row.
    store = Store(directory / "历史库.sqlite")
    history = store.accepted_rows()
    store.close()
    mismatches = 0
    for group, date, name, rows in expected:
        stored = history[(history["group_name"] == group) & (history["report_date"] == date)]
        sent = pd.DataFrame(rows)
        if len(stored) != len(sent):
            mismatches += 1
            continue
        for key in FIGURE_KEYS:
            if not (stored.sort_values("project_id")[key].to_numpy() ==
                    sent.sort_values("project_id")[key].astype(float).to_numpy()).all():
                mismatches += 1
                break
    totals.update(days=days, expected_files=len(expected), stored_rows=len(history),
                  expected_rows=sum(len(r) for *_, r in expected), mismatches=mismatches,
                  master_kb=round(master.stat().st_size / 1024))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xladdin-soak-") as work:
        totals = soak(Path(work), args.days)
    for key, value in totals.items():
        print(f"{key:>15}: {value:.1f}" if isinstance(value, float) else f"{key:>15}: {value}")
    if totals["mismatches"] or totals["stored_rows"] != totals["expected_rows"]:
        raise SystemExit("history does not equal the accepted files")


if __name__ == "__main__":
    main()
