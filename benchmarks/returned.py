"""The marked-up 退回 copy must cost in proportion to the issues (not a timed test: run it by hand).

    python -m benchmarks.returned                      # 1,000 and 4,900 wrong rows
    python -m benchmarks.returned --rows 500 1000 2000 --run

For each size, builds one ledger of 城南片区工作组 whose every row is wrong four ways (negative figures,
text in a count, cleared above acquired), checks it, and times `write_returned_copy` alone (the issue
count printed beside it). With --run it also times a cold `xladdin run` of the demo campaign with that
ledger dropped in its inbox (the whole run: reading, checking, the copy, the master and notices).
The cost per issue must stay flat as the rows grow; issue 27 measured 40 s for 1,000 wrong rows and no
end after 15 minutes for 4,900 before the copy was made linear.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.bench import timed_cli
from tests.campaigns import AS_OF


def wrong_ledger(path: Path, rows: int) -> Path:
    from tests.ledgers import DATE, GROUP, good_rows
    from xladdin.demo import registry_frame
    from xladdin.workbook.ledger import build_ledger

    registry = registry_frame()
    good = good_rows(registry)
    wrong = [dict(good[i % len(good)], acquired_mu=-1, houses_agreed=-2, cleared_mu=5, crops="abc")
             for i in range(rows)]
    build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, wrong).save(path)
    return path


def copy_seconds(path: Path, out: Path) -> tuple[int, float]:
    from xladdin.demo import registry_frame
    from xladdin.domain.validate import check_ledger
    from xladdin.engine.reading import locate_file
    from xladdin.workbook.returned import write_returned_copy

    checked = check_ledger(locate_file(path, None), registry_frame(), {}, AS_OF)
    start = time.perf_counter()
    write_returned_copy(path, checked.issues, checked.sheet, out)
    return len(checked.issues), time.perf_counter() - start


def run_seconds(path: Path, base: Path) -> float:
    from xladdin.demo import MASTER_NAME, build_demo

    campaign = base / f"run-{path.stem}"
    build_demo(campaign, AS_OF)
    shutil.copy(path, campaign / "报送" / "城南片区工作组_错行.xlsx")
    seconds, _, _ = timed_cli(["run", str(campaign / MASTER_NAME), "--as-of", AS_OF.isoformat(), "--json"])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 4900])
    parser.add_argument("--run", action="store_true", help="also time a whole `xladdin run` with the ledger")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="xladdin-returned-"))
    try:
        for rows in args.rows:
            path = wrong_ledger(base / f"wrong-{rows}.xlsx", rows)
            issues, seconds = copy_seconds(path, base / "退回")
            line = f"{rows} wrong rows, {issues} issues: copy {seconds:.2f} s ({1000 * seconds / issues:.2f} ms/issue)"
            if args.run:
                line += f"; whole run {run_seconds(path, base):.1f} s"
            print(line, flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
