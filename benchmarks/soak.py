"""Soak run: the demo campaign day after day, with random bad files mixed in.

    python -m benchmarks.soak --days 60

Each simulated day every work group drops its ledger (about one in ten wrong, in a random way;
sometimes a corrected resubmission or a forwarded duplicate follows) and the one-click job runs as of
that day. At the end the store's accepted history must equal, row for row, the accepted files.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.campaigns import soak


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
