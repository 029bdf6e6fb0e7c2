"""What renumbering a project (项目清单 › 原编号) costs in a long history (not a timed test: run it by hand).

    python -m benchmarks.renumber                     # 20 groups x 50 projects x 180 days
    python -m benchmarks.renumber --groups 100 --days 90

Fills a store with every group's daily report (one row per project), then, in one run's transaction, moves
one project's history to a new code and brings the derived tables up to date (what a run does before it
reads the inbox), checks 100 原编号 that name nothing stored (every later run checks each 原编号 again), and
rolls that run back. The move and its rollback touch one project's reports, not the history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd

from xladdin.base.schema import FIGURE_KEYS
from xladdin.domain.validate import ROW_COLUMNS, Checked
from xladdin.store.history import Store

AS_OF = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 21)
PROJECTS = 50


def _report(group: str, day: int, value: float) -> Checked:
    rows = pd.DataFrame([{"project_id": f"{group}-P{i}", "plot": "", **{k: value for k in FIGURE_KEYS},
                          "net_land": "否", "net_land_date": None, "problems": "征地款未到位" if i % 5 == 0 else "",
                          "next_steps": "", "row": 5 + i} for i in range(PROJECTS)], columns=list(ROW_COLUMNS))
    return Checked(file=f"{group}_{day}.xlsx", sheet="进度台账", group=group,
                   report_date=AS_OF - dt.timedelta(days=day), rows=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()
    store = Store(Path(tempfile.mkdtemp()) / "历史库.sqlite")
    try:
        store.begin_run(AS_OF, "run", NOW)
        for day in range(args.days, 0, -1):
            for g in range(args.groups):
                store.record(_report(f"组{g}", day, float(args.days - day)), f"{g}-{day}", NOW)
        store.commit()
        rows = store.db.execute("SELECT COUNT(*) FROM ledger_rows").fetchone()[0]
        run = store.begin_run(AS_OF, "run", NOW)
        started = time.perf_counter()
        assert store.renumber_clash("组0-P0", "新-P0") is None
        moved = store.renumber("组0-P0", "新-P0", NOW)
        store.refresh_derived()
        move = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(100):
            store.renumber_clash(f"旧-{i}", f"组1-P{i % PROJECTS}")
            store.renumber(f"旧-{i}", f"组1-P{i % PROJECTS}", NOW)
        nothing = time.perf_counter() - started
        store.commit()
        started = time.perf_counter()
        store.roll_back(run)
        store.commit()
        back = time.perf_counter() - started
    finally:
        store.close()
    print(f"{rows:,} rows ({args.groups} groups × {PROJECTS} projects × {args.days} days): one project renumbered "
          f"({moved} submissions) and the derived tables refreshed {move:.3f} s; 100 原编号 with nothing stored "
          f"{nothing * 1000:.1f} ms; rollback of that run {back:.3f} s")


if __name__ == "__main__":
    main()
