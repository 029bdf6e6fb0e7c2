"""What notices need from the history store beyond figures: ledgers returned and never corrected, problems
first reported in a period, and the archive of issued notices (期数, text, file) in the store's notices table.

The archive is kept in the same SQLite file and the same transaction as the run that issues a notice; rolling
that run back withdraws the notice (已撤销, its number free again) and restores one it voided.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import store_sql as sql
from .fs import fit_name
from .issues import CATALOGUE, ERROR
from .notice import KIND_WORDS
from .store import ACCEPTED, REJECTED, SUPERSEDED

ACTIVE, VOID, WITHDRAWN = "有效", "作废", "已撤销"
VOID_SUFFIX, WITHDRAWN_SUFFIX = "-作废", "-已撤销"


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


def uncorrected_returns(db, as_of: dt.date) -> list[tuple[str, dt.date, str]]:
    """(group, report date, reason in words) of every ledger sent back, for a report date up to as_of, for
    which nothing was accepted since: listed in every notice until the group corrects it."""
    rows = db.execute(sql.UNCORRECTED_RETURNS, {"rejected": REJECTED, "accepted": ACCEPTED, "superseded": SUPERSEDED,
                                                "as_of": as_of.isoformat()}).fetchall()
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
    rows = db.execute(sql.PROBLEMS_UNTIL, (as_of.isoformat(),)).fetchall()
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
    top = db.execute(sql.NEXT_NOTICE_NUMBER, (kind, year, WITHDRAWN)).fetchone()[0]
    return (top or 0) + 1


def issued_for(db, kind: str, as_of: dt.date) -> Issued | None:
    """The notice of this kind in force for a date (the last issued), if any."""
    row = db.execute(sql.NOTICE_IN_FORCE, (kind, as_of.isoformat(), ACTIVE)).fetchone()
    return None if row is None else _issued(row)


def all_issued(db) -> list[Issued]:
    return [_issued(r) for r in db.execute(sql.ALL_NOTICES)]


def _issued(row) -> Issued:
    kind, year, number, as_of, issued_at, file, text, state = row
    return Issued(kind, year, number, dt.date.fromisoformat(as_of), issued_at, file, text, state)


def record_issue(db, kind: str, year: int, number: int, as_of: dt.date, file: str, text: str,
                 run_id: int | None) -> None:
    db.execute(sql.INSERT_NOTICE, (kind, year, number, as_of.isoformat(),
                                   dt.datetime.now().isoformat(timespec="seconds"), file, text, ACTIVE, run_id))


def void(db, base_dir: Path, kind: str, year: int, number: int, run_id: int | None) -> list[str]:
    """Mark the notices of this 期 作废 by run `run_id` and rename their files …-作废; returns the new names."""
    renamed = []
    for notice_id, file in db.execute(sql.NOTICES_OF_NUMBER, (kind, year, number, ACTIVE)).fetchall():
        new = _rename(base_dir, file, VOID_SUFFIX)
        db.execute(sql.VOID_NOTICE, (VOID, new, run_id, notice_id))
        renamed.append(new)
    return renamed


def withdraw_run(db, base_dir: Path, run_id: int) -> list[str]:
    """Undo what a rolled-back run did to the archive: the notices it issued become 已撤销 (file renamed
    …-已撤销, kept; their numbers free for the next notice) and those it voided are 有效 again under their
    old file names. Returns the withdrawn notices' new file names."""
    withdrawn = []
    for notice_id, file in db.execute(sql.NOTICES_ISSUED_BY_RUN, (run_id, ACTIVE)).fetchall():
        new = _rename(base_dir, file, WITHDRAWN_SUFFIX)
        db.execute(sql.SET_NOTICE_STATE, (WITHDRAWN, new, notice_id))
        withdrawn.append(new)
    for notice_id, file in db.execute(sql.NOTICES_VOIDED_BY_RUN, (run_id,)).fetchall():
        old = Path(file)
        db.execute(sql.SET_NOTICE_STATE, (ACTIVE, _rename(base_dir, file, "", old.stem.removesuffix(VOID_SUFFIX)),
                                          notice_id))
    return withdrawn


def _rename(base_dir: Path, file: str, suffix: str, stem: str | None = None) -> str:
    """The archived file `file` (relative to base_dir) renamed to stem+suffix (a free name); the new relative
    name, also when the file is gone."""
    path = base_dir / file
    target = path.with_name(f"{stem if stem is not None else path.stem}{suffix}{path.suffix}")
    if target.exists() and target != path:
        target = path.with_name(fit_name(f"{target.stem}（{dt.datetime.now():%H%M%S}）{target.suffix}"))
    if path.exists():
        path.replace(target)
    return str(Path(file).with_name(target.name))


def archive_lines(db) -> list[str]:
    """The 通报存档 list for the 通报 sheet: one line per issued notice, newest first."""
    lines = []
    for item in reversed(all_issued(db)):
        lines.append(f"{item.year}年第{item.number}期{KIND_WORDS.get(item.kind, '')}（统计截至{item.as_of.month}月"
                     f"{item.as_of.day}日，{item.issued_at[:10]}发出，{item.state}）：{item.file}")
    return lines


def register_reports(db, as_of: dt.date):
    """project_id, report_date (date), problems, next_steps of every project report up to as_of."""
    frame = pd.read_sql_query(sql.REGISTER_REPORTS_UNTIL, db, params=(as_of.isoformat(),))
    frame["report_date"] = [dt.date.fromisoformat(d) for d in frame["report_date"]]
    return frame


def milestone_reports(db, as_of: dt.date):
    """Per project and report date up to as_of: the figures milestones are reached by, and net_land."""
    frame = pd.read_sql_query(sql.MILESTONE_REPORTS_UNTIL, db, params=(as_of.isoformat(),))
    frame["report_date"] = [dt.date.fromisoformat(d) for d in frame["report_date"]]
    return frame
