"""Guard: doubling the projects must not more than double the run (not a timed test: run it by hand).

    python -m benchmarks.growth                  # 50 -> 100 groups of 100 projects
    python -m benchmarks.growth --files 20 --rows 50 --repeat 3

Generates two campaigns (FILES and 2×FILES groups of ROWS projects, one ledger each), times a cold
`xladdin run` on each (medians of --repeat, CPU seconds from wait4, which the other engineers' load on a
shared machine disturbs less than wall time), and exits 1 when the larger run costs more than
`--limit` (default 2.0, plus 10% for noise) times the smaller: the cost must grow with the work, not faster.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench import timed_cli
from tests.campaigns import AS_OF


def cost(files: int, rows: int, repeat: int, base: Path) -> float:
    template = base / f"{files}x{rows}"
    subprocess.run([sys.executable, "-m", "benchmarks.bench", "--make", str(template), str(files), str(rows), "0"],
                   check=True)
    cpus = []
    for i in range(repeat):
        work = base / f"run-{files}-{i}"
        shutil.copytree(template, work)
        _, _, cpu = timed_cli(["run", str(work / "母表.xlsm"), "--as-of", AS_OF.isoformat(), "--json"])
        cpus.append(cpu)
        shutil.rmtree(work)
    return statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=2.0)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="xladdin-growth-"))
    try:
        small = cost(args.files, args.rows, args.repeat, base)
        large = cost(2 * args.files, args.rows, args.repeat, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    ratio = large / small
    print(f"{args.files}x{args.rows}: {small:.2f} s CPU; {2 * args.files}x{args.rows}: {large:.2f} s CPU; "
          f"ratio {ratio:.2f} (limit {args.limit:.2f} + 10%)")
    if ratio > args.limit * 1.1:
        print("FAILED: doubling the projects more than doubled the run")
        sys.exit(1)


if __name__ == "__main__":
    main()
