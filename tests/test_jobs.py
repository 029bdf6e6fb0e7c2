"""Reading and checking on several cores gives what one file at a time gives."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from benchmarks.bench import AS_OF, generate
from xladdin.jobs import NEW_ACCEPTED, NEW_REJECTED, PARALLEL_FROM, execute
from xladdin.workbook.ledger import build_ledger


def campaign(directory):
    """PARALLEL_FROM groups' files for AS_OF, plus the day before from one group with larger figures:
    its AS_OF file then decreases, which only a check after the day before can see."""
    master = generate(directory, PARALLEL_FROM + 2, 3)
    group = "第0001工作组"
    earlier = [{"project_id": f"P0000-{r:03d}", "project_name": "", "acquired_mu": 49.0, "houses_agreed": 0,
                "houses_demolished": 0, "crops": 0, "fixtures": 0, "graves": 0, "cleared_mu": 0.0, "net_land": "否"}
               for r in range(3)]
    day_before = AS_OF - dt.timedelta(days=1)
    build_ledger(group, pd.DataFrame(columns=["group"]), day_before, earlier).save(
        directory / "报送" / f"{group}_{day_before:%m%d}.xlsx")
    return master


def outcomes(master, workers):
    result = execute(master, as_of=AS_OF, workers=workers)
    return {f.file: (f.status, sorted(i.code for i in f.issues)) for f in result.files}


def test_two_workers_decide_every_file_as_one_does(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    serial = outcomes(campaign(tmp_path / "one"), 1)
    parallel = outcomes(campaign(tmp_path / "two"), 2)
    assert parallel == serial
    # The group that sent two days: its later file is checked against the earlier one, and falls below it.
    assert serial["第0001工作组_1123.xlsx"][0] == NEW_ACCEPTED
    status, codes = serial["第0001工作组_1124.xlsx"]
    assert status == NEW_REJECTED and "cumulative-decreased" in codes
    assert sum(s == NEW_ACCEPTED for s, _ in serial.values()) == PARALLEL_FROM + 2
