"""What notices need from the history store beyond figures: ledgers returned and never corrected, problems
first reported in a period, and the archive of issued notices (期数, text, file) with its own table.

The archive is kept in the same SQLite file and the same transaction as the run that issues a notice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .issues import CATALOGUE, ERROR
from .notice import KIND_WORDS

ACTIVE, VOID = "有效", "作废"
VOID_SUFFIX = "-作废"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    notice_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    number INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    file TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    run_id INTEGER
);
"""


@dataclass
class Issued:
    kind: str
    year: int
    number: int
    as_of: dt.date
    issued_at: str
    file: str
    text: str
    state: str


def _ensure(db) -> None:
    db.execute(_SCHEMA)  # execute, not executescript: that would commit the run's open transaction


def uncorrected_returns(db, as_of: dt.date) -> list[tuple[str, dt.date, str]]:
    """(group, report date, reason in words) of every ledger sent back, for a report date up to as_of, for
    which nothing was accepted since: listed in every notice until the group corrects it."""
    rows = db.execute(
        "SELECT s.group_name, s.report_date, s.issues, s.received_at FROM submissions s WHERE s.status='已退回'"
        " AND s.report_date IS NOT NULL AND s.report_date<=? AND NOT EXISTS (SELECT 1 FROM submissions a"
        " WHERE a.status IN ('已接收','已替代') AND a.group_name IS s.group_name AND a.report_date=s.report_date"
        " AND a.received_at>=s.received_at) ORDER BY s.report_date, s.group_name, s.received_at",
        (as_of.isoformat(),)).fetchall()
    latest: dict[tuple, tuple[str, dt.date, str]] = {}
    for group, date, issues, _ in rows:  # the latest rejection of a group's date stands for it
        latest[(group, date)] = (group or "", dt.date.fromisoformat(date), _reason(issues))
    return list(latest.values())


def _reason(issues_json: str) -> str:
    """The kinds of error, as the catalogue titles them (never a cell address or a file name)."""
    titles = []
    for record in json.loads(issues_json or "[]"):
        kind = CATALOGUE.get(record.get("code"))
        if kind is not None and kind.severity == ERROR:
            titles.append(kind.title)
    titles = list(dict.fromkeys(titles))
    return "、".join(titles[:3]) + ("等" if len(titles) > 3 else "") if titles else "不符合报送要求"


def new_problems(db, registry, since: dt.date, as_of: dt.date) -> list[tuple[str, str, str, str]]:
    """(project name, group, problem, latest 下步措施) for problems a project first reported after `since`
    and up to as_of (a problem reported again with the same words is not new)."""
    names = dict(zip(registry["project_id"], registry["project_name"]))
    groups = dict(zip(registry["project_id"], registry["group"]))
    rows = db.execute("SELECT project_id, report_date, problems, next_steps FROM project_reports WHERE report_date<=?"
                      " ORDER BY project_id, report_date", (as_of.isoformat(),)).fetchall()
    seen: dict[str, set[str]] = {}
    found: dict[tuple[str, str], str] = {}
    for project, date, problems, steps in rows:
        known = seen.setdefault(project, set())
        for problem in (p.strip() for p in (problems or "").replace("；", "\n").splitlines()):
            if not problem:
                continue
            if problem not in known and date > since.isoformat() and project in names:
                found[(project, problem)] = steps or ""
            known.add(problem)
    return [(str(names[p]), str(groups[p]), problem, steps) for (p, problem), steps in found.items()]


def next_number(db, kind: str, year: int) -> int:
    _ensure(db)
    top = db.execute("SELECT MAX(number) FROM notices WHERE kind=? AND year=?", (kind, year)).fetchone()[0]
    return (top or 0) + 1


def issued_for(db, kind: str, as_of: dt.date) -> Issued | None:
    """The notice of this kind in force for a date (the last issued), if any."""
    _ensure(db)
    row = db.execute("SELECT kind, year, number, as_of, issued_at, file, text, state FROM notices WHERE kind=?"
                     " AND as_of=? AND state=? ORDER BY notice_id DESC LIMIT 1", (kind, as_of.isoformat(), ACTIVE)
                     ).fetchone()
    return None if row is None else _issued(row)


def all_issued(db) -> list[Issued]:
    _ensure(db)
    return [_issued(r) for r in db.execute("SELECT kind, year, number, as_of, issued_at, file, text, state"
                                           " FROM notices ORDER BY notice_id")]


def _issued(row) -> Issued:
    kind, year, number, as_of, issued_at, file, text, state = row
    return Issued(kind, year, number, dt.date.fromisoformat(as_of), issued_at, file, text, state)


def record_issue(db, kind: str, year: int, number: int, as_of: dt.date, file: str, text: str,
                 run_id: int | None) -> None:
    _ensure(db)
    db.execute("INSERT INTO notices (kind, year, number, as_of, issued_at, file, text, state, run_id)"
               " VALUES (?,?,?,?,?,?,?,?,?)", (kind, year, number, as_of.isoformat(),
                                               dt.datetime.now().isoformat(timespec="seconds"), file, text, ACTIVE,
                                               run_id))


def void(db, base_dir: Path, kind: str, year: int, number: int) -> list[str]:
    """Mark the notices of this 期 作废 and rename their files …-作废; returns the new file names."""
    _ensure(db)
    renamed = []
    for notice_id, file in db.execute("SELECT notice_id, file FROM notices WHERE kind=? AND year=? AND number=?"
                                      " AND state=?", (kind, year, number, ACTIVE)).fetchall():
        path = base_dir / file
        target = path.with_name(f"{path.stem}{VOID_SUFFIX}{path.suffix}")
        if path.exists():
            path.replace(target)
        new = str(Path(file).with_name(target.name))
        db.execute("UPDATE notices SET state=?, file=? WHERE notice_id=?", (VOID, new, notice_id))
        renamed.append(new)
    return renamed


def archive_lines(db) -> list[str]:
    """The 通报存档 list for the 通报 sheet: one line per issued notice, newest first."""
    lines = []
    for item in reversed(all_issued(db)):
        lines.append(f"{item.year}年第{item.number}期{KIND_WORDS.get(item.kind, '')}（统计截至{item.as_of.month}月"
                     f"{item.as_of.day}日，{item.issued_at[:10]}发出，{item.state}）：{item.file}")
    return lines


def register_reports(db, as_of: dt.date):
    """project_id, report_date (date), problems, next_steps of every project report up to as_of."""
    frame = pd.read_sql_query("SELECT project_id, report_date, problems, next_steps FROM project_reports"
                              " WHERE report_date<=?", db, params=(as_of.isoformat(),))
    frame["report_date"] = [dt.date.fromisoformat(d) for d in frame["report_date"]]
    return frame


def milestone_reports(db, as_of: dt.date):
    """Per project and report date up to as_of: the figures milestones are reached by, and net_land."""
    frame = pd.read_sql_query("SELECT project_id, report_date, acquired_mu, houses_agreed, houses_demolished,"
                              " cleared_mu, net_land FROM project_reports WHERE report_date<=?", db,
                              params=(as_of.isoformat(),))
    frame["report_date"] = [dt.date.fromisoformat(d) for d in frame["report_date"]]
    return frame
