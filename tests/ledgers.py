"""Ledgers built in a test: one work group's clean rows, a ledger checked from its file, an inbox file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from xladdin.base.issues import flatten
from xladdin.demo import registry_frame
from xladdin.domain.validate import Checked, check_ledger
from xladdin.engine.reading import locate_file
from xladdin.workbook.ledger import build_ledger

from .conftest import AS_OF

GROUP = "城南片区工作组"  # SJ-06, SJ-07, XJ-03, XJ-06 in the demo registry
DATE = AS_OF - dt.timedelta(days=1)


def good_rows(registry) -> list[dict]:
    """Clean rows for every project of GROUP: accepted without an issue."""
    rows = []
    for p in registry[registry["group"] == GROUP].itertuples():
        rows.append({"project_id": p.project_id, "project_name": p.project_name, "acquired_mu": 10.5,
                     "houses_agreed": 2, "houses_demolished": 1, "crops": 1, "fixtures": 1, "graves": 0,
                     "cleared_mu": 8.0, "net_land": "否"})
    return rows


def check(tmp_path, registry, rows=None, *, unit=GROUP, date=DATE, states=None, mutate=None, name="t.xlsx",
          limits=None):
    """GROUP's ledger (rows, unit, date; `mutate(sheet)` edits it) saved as a file, located and checked."""
    wb = build_ledger(unit, registry[registry["group"] == GROUP], date, rows or good_rows(registry))
    if mutate:
        mutate(wb.active)
    path = tmp_path / name
    wb.save(path)
    located = locate_file(path, limits)
    if isinstance(located, Checked):
        return located
    return check_ledger(located, registry, states or {}, AS_OF)


def codes(checked) -> list[tuple[str, str]]:
    return flatten(checked.issues, ("code", "cell"))


def ledger(directory: Path, name: str, date=DATE, acquired=10.5, group=GROUP, **changes) -> Path:
    """A group's ledger file in `directory` with every project at `acquired` mu (cleared never above it)."""
    registry = registry_frame()
    rows = good_rows(registry) if group == GROUP else [
        {"project_id": p.project_id, "project_name": p.project_name, "acquired_mu": acquired, "houses_agreed": 2,
         "houses_demolished": 1, "crops": 1, "fixtures": 1, "graves": 0, "cleared_mu": 1.0, "net_land": "否"}
        for p in registry[registry["group"] == group].itertuples()]
    for row in rows:
        row["acquired_mu"] = acquired
        row["cleared_mu"] = max(0.0, min(row["cleared_mu"], acquired))  # cleared never above acquired
        row.update(changes)
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    build_ledger(group, registry[registry["group"] == group], date, rows).save(path)
    return path
