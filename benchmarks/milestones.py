"""Benchmark: the 节点计划 / 作战图时间表 part of a run, as projects and days of history grow.

    python -m benchmarks.milestones                       # 10x100, 20x100, 40x100 projects; 30 and 90 days
    python -m benchmarks.milestones --sizes 100x100x30 --profile   # a city, with a cProfile summary

For each size (files x rows x days) it generates a campaign (tests/campaigns.py), seeds the store with
that many days of history, consolidates once (so the run under test has nothing new), then runs
`xladdin rank` on it under cProfile and reports the CPU seconds spent in the milestone functions
(domain/milestones.py, the store's reached dates, presentation._write_plan) against the whole run.
Growth is what it shows: doubling the projects should double the milestone part, not quadruple it,
and 90 days of history should cost what 30 do.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
from pathlib import Path

from tests.campaigns import AS_OF, generate, seed_history

# The milestone part's entry points, none calling another: reading the reached dates (before: every
# project report into pandas; after: the store's first dates by key), the plan, and writing it.
MILESTONE_ENTRIES = {"reached_dates", "milestone_reports", "milestone_firsts", "build_plan", "_write_plan"}


def milestone_seconds(stats: pstats.Stats) -> float:
    """Cumulative seconds of the milestone entry points (their callees included)."""
    return sum(row[3] for (_, _, name), row in stats.stats.items() if name in MILESTONE_ENTRIES)


def measure(files: int, rows: int, days: int, profile: bool) -> dict:
    from xladdin.engine.pipeline import execute

    base = Path(tempfile.mkdtemp(prefix="xladdin-ms-"))
    try:
        master = generate(base, files, rows)
        if days:
            seed_history(master, days)
        execute(master, as_of=AS_OF, command="consolidate", issue=False)
        profiler = cProfile.Profile()
        profiler.enable()
        execute(master, as_of=AS_OF, intake=False, command="rank", issue=False)
        profiler.disable()
        stats = pstats.Stats(profiler)
        whole = max(v[3] for v in stats.stats.values())
        result = {"size": f"{files}x{rows}x{days}", "projects": files * rows, "days": days,
                  "milestones_s": round(milestone_seconds(stats), 2), "run_s": round(whole, 2)}
        if profile:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            result["profile"] = out.getvalue()
        return result
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=["10x100x30", "20x100x30", "40x100x30", "20x100x90"])
    parser.add_argument("--profile", action="store_true", help="print the top of the cProfile of each run")
    args = parser.parse_args()
    print(f"{'size':>12} {'projects':>9} {'days':>5} {'milestones s':>13} {'run s':>7}")
    for size in args.sizes:
        files, rows, days = (int(x) for x in size.split("x"))
        result = measure(files, rows, days, args.profile)
        print(f"{result['size']:>12} {result['projects']:>9} {result['days']:>5} {result['milestones_s']:>13} "
              f"{result['run_s']:>7}", flush=True)
        if args.profile:
            print(result["profile"])


if __name__ == "__main__":
    main()
