"""Generated campaigns the tests (and benchmarks/) run on: a master of many groups with one ledger
each, earlier days of history in its store, and the demo campaign soaked day after day."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
from pathlib import Path

import pandas as pd
import python_calamine

from xladdin.base.schema import FIGURE_KEYS, REGISTRY_FIELDS
from xladdin.demo import GROUPS, REPORTERS, daily_ledgers, registry_frame, registry_rows, spoil, trajectories
from xladdin.engine.model import NEW_ACCEPTED, NEW_REJECTED
from xladdin.engine.pipeline import execute
from xladdin.store.history import Store
from xladdin.workbook.build import build_master
from xladdin.workbook.ledger import build_ledger

AS_OF = dt.date(2026, 11, 24)


def generate(directory: Path, files: int, rows: int) -> Path:
    """A master whose registry has `files` groups of `rows` projects, and one ledger per group."""
    rows_of_registry, ledgers = [], []
    for g in range(files):
        group = f"第{g + 1:04d}工作组"
        projects = []
        for r in range(rows):
            pid = f"P{g:04d}-{r:03d}"
            plan = 50.0 + (g * 7 + r * 13) % 200
            rows_of_registry.append([{"project_id": pid, "project_name": f"项目{pid}", "project_type":
                                   "工业用地" if r % 4 == 0 else "基础设施", "level": "县级", "group": group,
                                   "leader": "", "township": f"乡镇{g % 12}", "plan_mu": plan, "plan_houses": 20,
                                   "plan_crops": 30, "plan_fixtures": 40, "plan_graves": 10,
                                   "plan_fixtures_removed": 40,
                                   "deadline": AS_OF + dt.timedelta(days=30)}.get(f.key) for f in REGISTRY_FIELDS])
            frac = ((g + r) % 10) / 10
            projects.append({"project_id": pid, "project_name": f"项目{pid}", "acquired_mu": round(plan * frac, 2),
                             "houses_agreed": int(20 * frac), "houses_demolished": int(16 * frac),
                             "crops": int(30 * frac), "fixtures": int(40 * frac), "graves": int(10 * frac),
                             "cleared_mu": round(plan * frac * 0.8, 2), "net_land": "否"})
        ledgers.append((group, projects))
    master = build_master(directory / "母表.xlsm", rows_of_registry)
    inbox = directory / "报送"
    inbox.mkdir()
    registry = pd.DataFrame(columns=["group"])
    for group, projects in ledgers:
        build_ledger(group, registry, AS_OF, projects).save(inbox / f"{group}_{AS_OF:%m%d}.xlsx")
    return master


def seed_history(master: Path, days: int) -> None:
    """Fill the store with `days` earlier days of every group, as if the campaign had run that long."""
    store = Store(master.parent / "历史库.sqlite")
    inbox = master.parent / "报送"
    rows, submissions, names = [], [], []
    for path in sorted(inbox.glob("*.xlsx")):
        sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("进度台账")
        values = sheet.to_python(skip_empty_area=False)
        group = values[1][1]
        for day in range(days, 0, -1):
            date = (AS_OF - dt.timedelta(days=day)).isoformat()
            sha = f"seed-{group}-{date}"
            submissions.append((sha, f"{group}_{date}.xlsx", date, group, date, "", "已接收", 0, 0, 0, "[]"))
            names.append((sha, f"{group}_{date}.xlsx", date))
            for r, row in enumerate(values[4:], start=5):
                if not row[1]:
                    continue
                figures = [float(v or 0) * (1 - day / (days + 5)) for v in row[4:4 + len(FIGURE_KEYS)]]
                figures = [round(f) if k not in ("acquired_mu", "cleared_mu") else round(f, 2)
                           for f, k in zip(figures, FIGURE_KEYS)]
                rows.append((sha, group, date, row[1], "", *figures, "否", None, "", "", r, 0))
    with store.db:
        store.db.executemany("INSERT INTO submissions (sha256, file_name, received_at, group_name, report_date, "
                             "reporter, status, errors, warnings, row_count, issues) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             submissions)
        store.db.executemany("INSERT INTO file_names (sha256, file_name, seen_at) VALUES (?,?,?)", names)
        columns = ("sha256, group_name, report_date, project_id, plot, " + ", ".join(FIGURE_KEYS) +
                   ", net_land, net_land_date, problems, next_steps, sheet_row, superseded")
        marks = ",".join("?" * len(rows[0]))
        store.db.executemany(f"INSERT INTO ledger_rows ({columns}) VALUES ({marks})", rows)
        store.rebuild_reports()  # as the runs of those days would have left it
    store.close()


def soak(directory: Path, days: int, seed: int = 1) -> dict:
    """The demo campaign run day after day with random wrong files (about one in ten), some corrected
    the same evening, some forwarded twice; totals, and how many accepted files the store's history
    does not match row for row."""
    rng = random.Random(seed)
    end = dt.date(2026, 11, 24) + dt.timedelta(days=days)
    start = end - dt.timedelta(days=days - 1)
    master = build_master(directory / "母表.xlsm", registry_rows(end))
    inbox = directory / "报送"
    inbox.mkdir()
    registry = registry_frame()
    paths = trajectories(rng)
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
