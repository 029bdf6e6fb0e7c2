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

from xladdin.base.errors import MasterUnusable
from xladdin.base.fs import fit_name, os_reason
from xladdin.base.issues import CATALOGUE, ERROR
from xladdin.notices.compose import KIND_WORDS
from xladdin.store import sql
from xladdin.store.history import ACCEPTED, REJECTED, SUPERSEDED

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


def uncorrected_returns(store, as_of: dt.date) -> list[tuple[str, dt.date, str]]:
    """(group, report date, reason in words) of every ledger sent back, for a report date up to as_of, for
    which nothing was accepted since: listed in every notice until the group corrects it."""
    rows = store.rows(sql.UNCORRECTED_RETURNS, {"rejected": REJECTED, "accepted": ACCEPTED, "superseded": SUPERSEDED,
                                                "as_of": as_of.isoformat()})
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


def new_problems(store, registry, since: dt.date, as_of: dt.date) -> list[tuple[str, str, str, str]]:
    """(project name, group, problem, latest 下步措施) for problems a project first reported after `since`
    and up to as_of (a problem reported again with the same words is not new)."""
    names = dict(zip(registry["project_id"], registry["project_name"]))
    groups = dict(zip(registry["project_id"], registry["group"]))
    rows = store.rows(sql.PROBLEMS_UNTIL, {"as_of": as_of.isoformat()})  # the first report of each run
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


def next_number(store, kind: str, year: int) -> int:
    top = store.one(sql.NEXT_NOTICE_NUMBER, (kind, year, WITHDRAWN))[0]
    return (top or 0) + 1


def issued_for(store, kind: str, as_of: dt.date) -> Issued | None:
    """The notice of this kind in force for a date (the last issued), if any."""
    row = store.one(sql.NOTICE_IN_FORCE, (kind, as_of.isoformat(), ACTIVE))
    return None if row is None else _issued(row)


def all_issued(store) -> list[Issued]:
    return [_issued(r) for r in store.rows(sql.ALL_NOTICES)]


def _issued(row) -> Issued:
    kind, year, number, as_of, issued_at, file, text, state = row
    return Issued(kind, year, number, dt.date.fromisoformat(as_of), issued_at, file, text, state)


def record_issue(store, kind: str, year: int, number: int, as_of: dt.date, issued_at: dt.datetime, file: str,
                 text: str) -> None:
    store.write(sql.INSERT_NOTICE, (kind, year, number, as_of.isoformat(),
                                    issued_at.isoformat(timespec="seconds"), file, text, ACTIVE, store.run_id))


def archive_name(kind: str, year: int, number: int, as_of: dt.date) -> str:
    """The Word file of a notice in 通报存档: 通报2026年第3期（截至2026-11-24）.docx."""
    return f"{KIND_WORDS[kind]}{year}年第{number}期（截至{as_of.isoformat()}）.docx"


def void(store, base_dir: Path, kind: str, year: int, number: int) -> list[str]:
    """Mark the notices of this 期 作废 by the store's run and rename their files …-作废 (undone if the run is
    not committed); returns the new names."""
    renamed = []
    for notice_id, file in store.rows(sql.NOTICES_OF_NUMBER, (kind, year, number, ACTIVE)):
        path = base_dir / file
        new = _move(store, base_dir, file, f"{path.stem}{VOID_SUFFIX}{path.suffix}")
        store.write(sql.VOID_NOTICE, (VOID, new, store.run_id, notice_id))
        renamed.append(new)
    return renamed


def withdraw_run(store, base_dir: Path, run_id: int) -> tuple[list[str], list[str]]:
    """Undo what a rolled-back run did to the archive: the notices it issued become 已撤销 (file renamed
    …-已撤销, kept; their numbers free for the next notice) and those it voided are 有效 again under their
    own names. The renames are undone if the rollback is not committed. Returns the withdrawn notices'
    and the restored notices' file names."""
    withdrawn, restored = [], []
    for notice_id, file in store.rows(sql.NOTICES_ISSUED_BY_RUN, (run_id, ACTIVE)):
        path = base_dir / file
        new = _move(store, base_dir, file, f"{path.stem}{WITHDRAWN_SUFFIX}{path.suffix}")
        store.write(sql.SET_NOTICE_STATE, (WITHDRAWN, new, notice_id))
        withdrawn.append(new)
    for notice_id, kind, year, number, as_of, file in store.rows(sql.NOTICES_VOIDED_BY_RUN, (run_id,)):
        new = _move(store, base_dir, file, archive_name(kind, year, number, dt.date.fromisoformat(as_of)))
        store.write(sql.SET_NOTICE_STATE, (ACTIVE, new, notice_id))
        restored.append(new)
    return withdrawn, restored


def free_path(path: Path) -> Path:
    """path, or the first of path（2）, path（3）, … that no file has."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(fit_name(f"{path.stem}（{n}）{path.suffix}"))
    return candidate


def _move(store, base_dir: Path, file: str, name: str) -> str:
    """The archived file `file` (relative to base_dir) renamed to `name`, or the first free variant of it;
    undone if the store's transaction is not committed. Returns the new relative name; a file staff moved
    or deleted is left alone (the store records the name it would have had)."""
    path = base_dir / file
    target = path.with_name(name)
    if target == path:
        return file
    target = free_path(target)
    if path.exists():
        try:
            path.replace(target)
        except OSError as exc:
            raise MasterUnusable(f"通报存档中的《{path.name}》无法改名（{os_reason(exc)}）。如已在 Word 中打开，"
                                 "请关闭后重试；母表和历史库均未改动。") from None
        store.on_rollback(lambda: target.replace(path) if target.exists() and not path.exists() else None)
    return str(Path(file).with_name(target.name))


def archive_lines(store) -> list[str]:
    """The 通报存档 list for the 通报 sheet: one line per issued notice, newest first."""
    lines = []
    for item in reversed(all_issued(store)):
        lines.append(f"{item.year}年第{item.number}期{KIND_WORDS.get(item.kind, '')}（统计截至{item.as_of.month}月"
                     f"{item.as_of.day}日，{item.issued_at[:10]}发出，{item.state}）：{item.file}")
    return lines


def register_reports(store, as_of: dt.date):
    """project_id, report_date (date), problems, next_steps of the project reports up to as_of that the
    register is built from: of each project that named a problem, the first and the last report of every run
    of unchanged 存在问题 and 下步措施 (the store's problem_runs) — every first and last mention, the 下步措施 of
    the last and the project's latest report, read by key whatever the number of days between them."""
    frame = store.frame(sql.REGISTER_REPORTS_UNTIL, {"as_of": as_of.isoformat()})
    frame["report_date"] = [dt.date.fromisoformat(d) for d in frame["report_date"]]
    return frame
