"""The operations staff run (validate, consolidate, rank, the one-click run) over a master on disk.

The CLI and the Excel adapters call these; the domain work is in validate/consolidate/rank/notice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .consolidate import board, summary_of
from .issues import Code, ERROR, Issue
from .notice import DAILY, LEADER, WEEKLY, Notice, build_leader_notices, build_notice
from .milestones import (
    build_plan, done_formula, late_or_at_risk, parse_milestones, reached_dates, week_formula, week_marks, week_starts,
)
from .milestones import KEYS as PLAN_KEYS
from .milestones import previous_rows as plan_rows
from .notice_archive import (
    all_issued, archive_lines, milestone_reports, new_problems, register_reports, uncorrected_returns,
)
from .register import KEYS as REGISTER_KEYS
from .register import build_register, open_items, previous_rows
from .notice_issue import issue_notice, notice_header
from .rank import add_streaks, compute_ranking, streak_periods, whole_line, whole_text
from .cityresult import gap_sentences, published
from .roster import daily_roster, roster_rows, work_groups
from .consolidate import DUE_SOON, NET_LAND, NOT_REPORTED, NOT_TODAY, ONGOING, OVERDUE, STALLED, has_flag
from .schema import (
    FIGURE_KEYS, LABEL_DATE, LABEL_UNIT, LEDGER_BY_KEY, METRICS, SHEET_MILESTONES, SHEET_RANKING, SUMMARY_FIELDS,
    cell_address,
    column_letter,
)
from .settings import Settings, SettingsError
from .store import REJECTED, Store
from .validate import Checked, GroupState, RegistryIndex, check_ledger, clean_text
from .workbook.layout import (
    BOARD, CHART_UNITS, CITY_RESULT, HISTORY, LOG, NOTICE_NAME, MILESTONES, MILESTONES_TITLE, RANKING, RANKING_KEYS, REGISTER,
    REGISTER_TITLE, REPORT, SORT_KEYS, SORTED_TABLES, TIMELINE, TIMELINE_TITLE, TIMELINE_WEEKS,
    STATUS, STATUS_COUNTS,
    SUMMARY, TREND,
)
from .workbook.lock import MasterLock
from .workbook.master import Formula, Link, MasterUnusable
from .workbook.book import Book
from .workbook.package import MasterBook
from .workbook.returned import returned_name, write_returned_copy
from .values import parse_date
from .workbook.guard import Limits, Rejection
from .workbook.reader import Grid, Ledger, UnreadableFile, locate_ledger, read_grid
from .workbook.xmlscan import UncachedFormula
from .faults import crash_point
from .fs import copy_whole, fit_name, os_reason, skip_reason
from .text import xml_safe
from .workbook.formulas import SORT_KEY_SCALE, SummaryRange, ranking_rows, sort_key_rows, sorted_rows

log = logging.getLogger(__name__)

# Outcome of one inbox file in this run; SKIPPED: an inbox entry that is not a readable submission.
NEW_ACCEPTED, NEW_REJECTED, DUPLICATE, KNOWN, SKIPPED = "已接收", "已退回", "重复", "已处理", "未读取"


@dataclass
class FileOutcome:
    file: str
    sha256: str
    status: str  # one of the five above
    group: str = ""
    report_date: dt.date | None = None
    rows: int = 0
    issues: list[Issue] = field(default_factory=list)
    accepted: bool = False  # whether the content is (or was) accepted
    same_as: str = ""  # for a duplicate, the file first seen with this content
    returned: str = ""  # the marked-up copy, relative to the master's folder
    pasted: bool = False  # a sheet pasted into the master, not a file

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity != ERROR]

    def reason(self) -> str:
        first = self.errors[0] if self.errors else None
        return f"{first.title}（{first.sheet}!{first.cell}）" if first and first.cell else (first.title if first else "")

    def to_dict(self) -> dict:
        return {
            "file": self.file, "sha256": self.sha256, "status": self.status, "group": self.group,
            "report_date": self.report_date.isoformat() if self.report_date else None, "rows": self.rows,
            "accepted": self.accepted, "errors": len(self.errors), "warnings": len(self.warnings),
            "same_as": self.same_as, "returned": self.returned, "issues": [i.to_dict() for i in self.issues],
        }


@dataclass
class JobResult:
    master: Path
    as_of: dt.date
    period_start: dt.date
    inbox: Path | None
    files: list[FileOutcome]
    summary: pd.DataFrame
    ranking: pd.DataFrame
    notice: list[str]
    ignored: list[str]
    seconds: float = 0.0
    wrote: bool = False
    trend: pd.DataFrame | None = None
    notice_doc: Notice | None = None
    issued: str = ""  # what issuing did (期数, file), in Chinese
    notice_sheet: list[str] | None = None  # the 通报 sheet: the notice, then the archive list
    register: pd.DataFrame | None = None  # 督办台账 (register.py), when the master has one
    plan: pd.DataFrame | None = None  # 节点计划 (milestones.py), when the master has one
    leaders: list[Notice] = field(default_factory=list)  # 专报, one per 责任领导 (notice --by-leader)
    roster: pd.DataFrame | None = None  # 今日报送情况 (roster.daily_roster)
    whole: str = ""  # the 全县 line on the city's basis (rank.whole_text)
    city: list[str] = field(default_factory=list)  # the city's published result and the gaps (cityresult.py)
    cutoff: dt.time | None = None

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def to_dict(self) -> dict:
        ranking = []
        for row in self.ranking.itertuples(index=False):
            entry = {"unit": row.unit, "list": row.list_text}
            for key, label in METRICS:
                value, rank = getattr(row, key), getattr(row, f"{key}_rank")
                entry[key] = None if pd.isna(value) else float(value)
                entry[f"{key}_rank"] = None if pd.isna(rank) else int(rank)
                entry[f"{key}_list"] = getattr(row, f"{key}_flag", "")
                entry[f"{key}_below_average"] = getattr(row, f"{key}_below", "") == "是"
                entry[f"{key}_streak"] = int(getattr(row, f"{key}_streak", 0))
            ranking.append(entry)
        return {
            "master": str(self.master), "as_of": self.as_of.isoformat(), "period_start": self.period_start.isoformat(),
            "inbox": str(self.inbox) if self.inbox else None, "wrote_master": self.wrote,
            "files_read": len(self.files) - self.count(SKIPPED), "accepted": self.count(NEW_ACCEPTED),
            "rejected": self.count(NEW_REJECTED),
            "duplicates": self.count(DUPLICATE), "already_processed": self.count(KNOWN), "ignored": self.ignored,
            "skipped": {f.file: f.issues[0].message for f in self.files if f.status == SKIPPED},
            "seconds": round(self.seconds, 3), "files": [f.to_dict() for f in self.files], "ranking": ranking,
            "roster": [] if self.roster is None else [
                {"group": g, "status": s, "timeliness": t} for g, s, t in
                self.roster[["group", "status", "timeliness"]].itertuples(index=False)],
        }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_inbox(inbox: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Submission files in the inbox, first received first, and (name, reason) of every other entry:
    hidden and temporary files, folders, other types, links out of the inbox or to nothing."""
    if not inbox.is_dir():
        return [], []
    root = inbox.resolve()
    files, skipped = [], []
    for path in inbox.iterdir():
        reason = skip_reason(path, root)
        if reason is None:
            try:
                info = path.stat()
                files.append((info.st_mtime_ns, info.st_ctime_ns, path.name, path))
                continue
            except OSError as exc:
                reason = f"无法读取（{os_reason(exc)}），未读取。请检查该文件。"
        skipped.append((xml_safe(path.name), reason))
    # First received first (file time, then the time it was put in the folder): a copy forwarded later
    # is the duplicate, not the original, and of two reports for one day the later arrival wins.
    return [path for *_, path in sorted(files)], sorted(skipped)


def locate_file(path: Path, limits: Limits | None = None) -> Ledger | Checked:
    """Read one submission and find its ledger; a file refused or unreadable is a rejected Checked."""
    try:
        grid = read_grid(path, limits)
    except Rejection as refused:
        return _refused(path.name, "", refused.code, **refused.fields)
    except UnreadableFile as exc:
        return _refused(path.name, "", Code.FILE_UNREADABLE, detail=str(exc))
    except OSError as exc:  # gone or locked between the scan and the read: this file only
        return _refused(path.name, "", Code.FILE_UNREADABLE, detail=f"无法读取：{os_reason(exc)}")
    if not grid.sheet:
        return _refused(path.name, "", Code.SHEET_MISSING)
    return locate_grid(grid, path.name, limits)


def locate_grid(grid: Grid, name: str, limits: Limits | None = None) -> Ledger | Checked:
    """The ledger of a grid, within the limits of 设置 (a sheet too big to check is refused whole)."""
    limits = limits or Limits()
    height, width = len(grid.rows), max((len(row) for row in grid.rows), default=0)
    if height > limits.max_rows:
        return _refused(name, grid.sheet, Code.TOO_MANY_ROWS, value=str(height), expected=str(limits.max_rows))
    if width > limits.max_cols:
        return _refused(name, grid.sheet, Code.TOO_MANY_COLUMNS, value=str(width), expected=str(limits.max_cols))
    ledger = locate_ledger(grid, name)
    for r, row in enumerate(grid.rows, start=1):
        for c, value in enumerate(row, start=1):
            # A formula never computed (a template's self-check saved by a program) is not typed content.
            if isinstance(value, str) and not isinstance(value, UncachedFormula) \
                    and len(value) > limits.max_cell_chars:
                ledger.too_long[cell_address(r, c)] = (len(value), limits.max_cell_chars)
    return ledger


def _refused(file: str, sheet: str, code: str, **fields: str) -> Checked:
    checked = Checked(file=file, sheet=sheet)
    checked.issues.append(Issue(code, file=file, sheet=sheet, **fields))
    return checked


PARALLEL_FROM = 24  # files; below this, starting worker processes costs more than it saves


# What the reader processes check against: set before they fork, so they inherit it unpickled.
_CHECKING: tuple | None = None


def _locate_one(source: Source, limits: Limits) -> Ledger | Checked:
    return _safely(source.name, lambda: source.locate(limits))


def _read_one(source: Source, limits: Limits) -> tuple[Ledger | Checked, Checked | None]:
    """In a reader process: a file located, and checked against the states as they were at the start."""
    item = _locate_one(source, limits)
    if isinstance(item, Checked) or _CHECKING is None:
        return item, None
    index, states, as_of, jump_ratio = _CHECKING
    return item, _safely(source.name, lambda: check_ledger(item, index, states, as_of, jump_ratio))


def _read_all(sources: list[Source], limits: Limits, workers: int, checking,
              progress: Progress = None) -> list[tuple[Ledger | Checked, Checked | None]]:
    """Read and locate every new submission; on several cores when there are many files, where each
    is also checked on the spot against the states before this run (the caller re-checks the files of
    a group that sent more than one, whose later files depend on the earlier)."""
    global _CHECKING
    if workers > 1 and len(sources) >= PARALLEL_FROM:
        import concurrent.futures
        import multiprocessing

        _CHECKING = checking()
        try:
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_orphan_guard,
                                                        initargs=(os.getpid(),)) as pool:
                read = []
                for item in pool.map(_read_one, sources, [limits] * len(sources), chunksize=8):
                    read.append(item)
                    _tell(progress, READING, len(read), len(sources))
                    crash_point("reading")
                return read
        except (OSError, ValueError, concurrent.futures.process.BrokenProcessPool):
            log.warning("parallel reading unavailable; reading one file at a time")
        finally:
            _CHECKING = None
    read = []
    for source in sources:
        read.append((_locate_one(source, limits), None))
        _tell(progress, READING, len(read), len(sources))
    return read


def _orphan_guard(parent: int) -> None:
    """In a reader process: exit as soon as the run that started it is gone (killed, crashed)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _safely(name: str, work):
    """Run one file's reading or checking; an unexpected failure rejects that file, never the run."""
    try:
        return work()
    except Exception:
        log.exception("could not process %s", name)
        return _refused(name, "", Code.FILE_UNREADABLE, detail="文件内容无法处理")


def _claimed_group(item: Ledger | Checked) -> str:
    """The work group a ledger says it is from, as check_ledger reads it ("" for a refused file)."""
    return "" if isinstance(item, Checked) else clean_text(item.identity.get(LABEL_UNIT, (None, ""))[0])


def _claimed_date(item: Ledger | Checked) -> dt.date:
    if isinstance(item, Checked):
        return dt.date.max
    return parse_date(item.identity.get(LABEL_DATE, (None, ""))[0]) or dt.date.max


@dataclass
class Source:
    """One submission: a file in the inbox, or a ledger sheet pasted into the master itself."""

    name: str
    sha256: str
    path: Path | None = None
    grid: Grid | None = None  # a pasted sheet's values, already read
    mtime_ns: int | None = None  # when the file was written: the later of two reports for a day wins

    @property
    def pasted(self) -> bool:
        return self.path is None

    def locate(self, limits: Limits | None = None) -> Ledger | Checked:
        if self.grid is not None:
            return locate_grid(self.grid, self.name, limits)
        return locate_file(self.path, limits)


def inbox_sources(paths: list[Path]) -> tuple[list[Source], list[tuple[str, str]]]:
    """The inbox files as sources, and (name, reason) of those that cannot be read at all."""
    sources, unreadable = [], []
    for path in paths:
        try:
            # The name as shown and stored: without characters no XML part may hold (a file system allows them).
            sources.append(Source(xml_safe(path.name), sha256_of(path), path, mtime_ns=path.stat().st_mtime_ns))
        except OSError as exc:
            unreadable.append((xml_safe(path.name), f"无法读取（{os_reason(exc)}），未读取。请检查该文件的权限后重新放入。"))
    return sources, unreadable


def skipped_outcome(name: str, reason: str) -> FileOutcome:
    return FileOutcome(name, "", SKIPPED, issues=[Issue(Code.INBOX_ENTRY_SKIPPED, file=name, detail=reason)])


# Rejections caused by something outside the file: the statistics date, the 项目清单 HQ keeps, and what
# the group's earlier reports say. Content rejected only for these is checked again when it comes back
# (the same bytes or a renamed copy); content accepted, or rejected for a reason inside it, is decided.
OUTSIDE_THE_FILE = frozenset({Code.DATE_FUTURE, Code.DATE_STALE, Code.UNIT_UNKNOWN, Code.PROJECT_UNKNOWN,
                              Code.PROJECT_NOT_ASSIGNED, Code.CUMULATIVE_DECREASED})


def _decided_by_the_file(known: dict, sha256: str, store: Store) -> bool:
    """Whether stored content stays as decided: accepted, or rejected for a reason inside the file."""
    if known["status"] != REJECTED:
        return True
    errors = [i.code for i in store.issues_of([sha256]) if i.is_error]
    return not errors or not set(errors) <= OUTSIDE_THE_FILE


def _grid_digest(grid: Grid) -> str:
    """A pasted sheet's identity: its name and values."""
    return hashlib.sha256(json.dumps([grid.sheet, grid.rows], default=str, ensure_ascii=False).encode()).hexdigest()


def _intake(sources: list[Source], store: Store, registry: pd.DataFrame, as_of: dt.date, settings: Settings,
            folders: dict[str, Path] | None, workers: int = 1, progress: Progress = None) -> list[FileOutcome]:
    """Check every new submission in report-date order, recording each in the store as it goes."""
    now = dt.datetime.now()
    outcomes: dict[str, FileOutcome] = {}
    pending: list[Source] = []
    first_of: dict[str, str] = {}
    rechecked: set[str] = set()
    for source in sources:
        known = store.known(source.sha256)
        if known is not None and _decided_by_the_file(known, source.sha256, store):
            outcomes[source.name] = _known_outcome(source, known, store, folders)
        elif source.sha256 in first_of:  # identical content under two names in one drop: the first counts
            outcomes[source.name] = FileOutcome(source.name, source.sha256, DUPLICATE,
                                                same_as=first_of[source.sha256])
        else:
            first_of[source.sha256] = source.name
            if known is not None:
                rechecked.add(source.sha256)
            if folders is not None and source.path is not None:
                folder = folders["archive"] / now.strftime("%Y-%m-%d")
                folder.mkdir(parents=True, exist_ok=True)
                copy_whole(source.path, folder / fit_name(f"{source.sha256[:12]}_{source.name}"))
            pending.append(source)
    # Read every file first, then check in report-date order so that history rules see earlier days.
    limits = Limits.from_settings(settings)
    index = RegistryIndex(registry) if pending else None
    known: dict[str, dict[str, GroupState]] = {}

    def checking() -> tuple:  # for reader processes that also check: every group's state, before they fork
        known["states"] = store.group_states()
        return index, known["states"], as_of, settings.jump_ratio

    read = _read_all(pending, limits, workers, checking, progress)
    # Read one at a time (a few files): only the groups they claim to be from need their state.
    states = known["states"] if "states" in known else store.group_states({_claimed_group(i) for i, _ in read})
    # Report-date order; within a date, arrival order (pending keeps the inbox's), never the file name:
    # a correction that sorts before its original by name must still be applied after it.
    located = [(source, item, early) for source, (item, early) in zip(pending, read)]
    arrival = {id(source): i for i, source in enumerate(pending)}
    located.sort(key=lambda entry: (_claimed_date(entry[1]), arrival[id(entry[0])]))
    # How many files each group sent in this drop: a group's later file depends on its earlier one.
    senders = Counter(_claimed_group(item) for _, item, _ in located)
    for done, (source, item, early) in enumerate(located, start=1):
        _tell(progress, CHECKING, done, len(located))
        if isinstance(item, Checked):
            checked = item
        elif early is not None and senders[early.group] == 1:
            checked = early  # the group's only file this run: the states it was checked against still hold
        else:
            checked = _safely(source.name, lambda: check_ledger(item, index, states, as_of, settings.jump_ratio))
        older = False
        if checked.accepted:
            earlier = store.accepted_arrival(checked.group, checked.report_date)
            # A copy written before the accepted one (an original forwarded late) never replaces it.
            older = earlier is not None and earlier[1] is not None and source.mtime_ns is not None \
                and source.mtime_ns < earlier[1]
            if earlier:
                checked.issues.append(Issue(Code.ARRIVED_LATE if older else Code.SUPERSEDES, file=source.name,
                                            group=checked.group, value=checked.report_date.isoformat(),
                                            expected=earlier[0]))
        if source.mtime_ns is not None:
            store.note_arrival(source.sha256, source.mtime_ns)
        if not (source.sha256 in rechecked and not checked.accepted):  # rejected again: stored as it was
            store.record(checked, source.sha256, now, older)
        if checked.accepted and senders[checked.group] > 1 and not older:
            _advance(states, checked)
        # Content rejected before for a reason outside it, and again now: no new rejection to announce.
        again = source.sha256 in rechecked and not checked.accepted
        outcome = FileOutcome(
            source.name, source.sha256, NEW_ACCEPTED if checked.accepted else (KNOWN if again else NEW_REJECTED),
            checked.group,
            checked.report_date, len(checked.rows), checked.issues, checked.accepted, pasted=source.pasted)
        if not checked.accepted and folders is not None and source.path is not None and checked.sheet:
            copy = _returned_copy(source, checked, folders["returned"])
            outcome.returned = _link_path(copy, folders["master"]) if isinstance(copy, Path) else ""
        outcomes[source.name] = outcome
    for source in sources:
        outcome = outcomes[source.name]
        if outcome.status in (DUPLICATE, KNOWN):
            store.note_file_name(outcome.sha256, source.name, now)
    return [outcomes[source.name] for source in sources]


def _returned_copy(source: Source, checked: Checked, folder: Path) -> Path | None:
    """The marked-up copy of a rejected file; an OS error (disk full, no permission) stops the run."""
    try:
        return write_returned_copy(source.path, checked.issues, checked.sheet, folder)
    except OSError:
        raise
    except Exception:
        log.exception("could not write the returned copy of %s", source.name)
        return None


def _link_path(path: Path, base: Path) -> str:
    """A file as a hyperlink from the master: relative when it is beside it, else absolute."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def _advance(states: dict[str, GroupState], checked: Checked) -> None:
    """The group's last accepted state after accepting `checked` (a same-day resubmission replaces it)."""
    current = states.get(checked.group)
    if current is not None and checked.report_date < current.report_date:
        return
    before = current.before if current is not None and current.report_date == checked.report_date else current
    totals = checked.rows.groupby("project_id")[list(FIGURE_KEYS)].sum()
    states[checked.group] = GroupState(checked.report_date, totals.to_dict("index"), before)


def _known_outcome(source: Source, known: dict, store: Store, folders: dict[str, Path] | None) -> FileOutcome:
    name, sha = source.name, source.sha256
    report_date = dt.date.fromisoformat(known["report_date"]) if known["report_date"] else None
    accepted = known["status"] != REJECTED
    if known["file_name"] != name:
        return FileOutcome(name, sha, DUPLICATE, known["group_name"] or "", report_date, accepted=accepted,
                           same_as=known["file_name"])
    outcome = FileOutcome(name, sha, KNOWN, known["group_name"] or "", report_date, issues=store.issues_of([sha]),
                          accepted=accepted, pasted=source.pasted)
    if not accepted and folders is not None:
        copy = folders["returned"] / returned_name(name)
        outcome.returned = _link_path(copy, folders["master"]) if copy.exists() else ""
    return outcome


# What a run is doing, as staff read it in the terminal and on Excel's status bar.
READING = "读取报送文件"
CHECKING = "校验报送文件"
SUMMING = "汇总和排名"
WRITING = "写入母表"
SAVING = "保存母表"
Progress = Callable[[str, int, int], None] | None


def _tell(progress: Progress, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def execute(master: Path, *, inbox: Path | None = None, as_of: dt.date | None = None, intake: bool = True,
            write: bool = True, write_ranking: bool = True, command: str = "run", workers: int | None = None,
            progress: Progress = None, notice_kind: str = DAILY, issue: bool = False, reissue: bool = False
            ) -> JobResult:
    """The pipeline behind every command, on a master file; `write=False` changes neither master nor store."""
    started = time.perf_counter()
    master = Path(master)
    lock = MasterLock(master) if write else None
    if lock is not None:
        lock.__enter__()
    try:
        book = MasterBook.open(master)
        # Several reader processes only from the headless command on a fork-capable OS: inside Excel the
        # interpreter may be embedded, and spawning would start Excel's executable, not Python.
        if workers is None:
            workers = min(4, os.cpu_count() or 1) if hasattr(os, "fork") else 1
        return run_job(book, master.parent, inbox=inbox, as_of=as_of, intake=intake, write=write,
                       write_ranking=write_ranking, command=command, started=started, workers=workers,
                       progress=progress, notice_kind=notice_kind, issue=issue, reissue=reissue)
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)


def run_job(book: Book, base_dir: Path, *, inbox: Path | None = None, as_of: dt.date | None = None, intake: bool = True,
            write: bool = True, write_ranking: bool = True, command: str = "run",
            started: float | None = None, workers: int = 1, progress: Progress = None, notice_kind: str = DAILY,
            issue: bool = False, reissue: bool = False) -> JobResult:
    """The pipeline on an open master: any workbook.book.Book — a MasterBook (file) or a LiveBook (open in
    Excel, via xlwings). Folders in 设置 are relative to base_dir. `progress(stage, done, total)` hears
    what the run is doing (total 0 when there is nothing to count)."""
    started = time.perf_counter() if started is None else started
    as_of = as_of or dt.date.today()
    settings = book.settings()
    inbox = Path(inbox) if inbox else (base_dir / settings.inbox)
    store = Store(base_dir / settings.store)
    try:
        registry = _registry(book, store)
        if write:
            store.begin_run(as_of, command)
        files: list[FileOutcome] = []
        ignored: list[str] = []
        if intake:
            paths, skipped = scan_inbox(inbox)
            sources, unreadable = inbox_sources(paths)
            skipped += unreadable
            ignored = [name for name, _ in skipped]
            pasted = [Source(f"{book.path.name}›{grid.sheet}", _grid_digest(grid), grid=grid)
                      for grid in book.pasted_grids()]
            folders = {"master": base_dir, "archive": base_dir / settings.archive,
                       "returned": base_dir / settings.returned} if write else None
            _tell(progress, READING, 0, len(sources) + len(pasted))
            files = _intake(sources + pasted, store, registry, as_of, settings, folders, workers, progress)
            files += [skipped_outcome(name, reason) for name, reason in skipped]
        store.refresh_derived()  # the one write of derived tables; every read below sees this run's rows
        _tell(progress, SUMMING, 0, 0)
        period_start = settings.period_start_for(as_of)
        summary = store_summary(store, registry, as_of, settings)
        previous = previous_ranking(store, registry, period_start, settings)
        # Only the lists of the periods a streak can reach are read: the cost follows the streak, not the history.
        periods = streak_periods(store.published_dates(settings.rank_unit, as_of), as_of, settings.period_days)
        ranking = add_streaks(compute_ranking(summary, settings, previous),
                              store.lists_on(settings.rank_unit, periods), as_of, settings.period_days)
        rejected = uncorrected_returns(store.db, as_of)  # every run, until the group corrects it
        roster = daily_roster(work_groups(registry), store.submissions_for(as_of), as_of, settings.report_cutoff)
        line = whole_line(summary, settings)
        whole = whole_text(line, settings)
        city = []
        if CITY_RESULT.name in getattr(book, "tables", {}):  # masters built before it have no such table
            city = gap_sentences(published(*book.table_rows(CITY_RESULT.name)), summary, line, settings)
        weekly = notice_kind == WEEKLY
        register = None
        if REGISTER.name in getattr(book, "tables", {}):  # masters built before it have no 督办台账
            register = build_register(register_reports(store.db, as_of), registry, as_of,
                                      previous_rows(*book.table_rows(REGISTER.name)))
        plan = None
        if MILESTONES.name in getattr(book, "tables", {}):  # masters built before it have no 节点计划
            plan = build_plan(registry, parse_milestones(settings.milestones),
                              reached_dates(milestone_reports(store.db, as_of), registry), as_of,
                              settings.due_soon_days, plan_rows(*book.table_rows(MILESTONES.name)))
        notice = build_notice(summary, ranking, rejected, as_of, period_start, settings.rank_unit,
                              roster=roster, cutoff=settings.report_cutoff, due_soon_days=settings.due_soon_days,
                              whole=whole, city=city, kind=notice_kind, header=notice_header(settings),
                              start_summary=store_summary(store, registry, period_start, settings) if weekly else None,
                              unit_key=settings.rank_unit_key,
                              supervision=open_items(register) if register is not None else None,
                              milestones=late_or_at_risk(plan) if plan is not None else None,
                              new_problems=new_problems(store.db, registry, period_start if weekly
                                                        else as_of - dt.timedelta(days=1), as_of))
        leaders = []
        if notice_kind == LEADER:
            leaders = build_leader_notices(
                summary, as_of, notice_header(settings),
                supervision=open_items(register) if register is not None else None,
                milestones=late_or_at_risk(plan) if plan is not None else None, due_soon_days=settings.due_soon_days)
            notice = Notice("", as_of=as_of, kind=LEADER)
        issued_note = ""
        if issue and write and notice_kind != LEADER:
            issued_note = issue_notice(store, notice, base_dir, settings, reissue)
        result = JobResult(book.path, as_of, period_start, inbox if intake else None, files, summary, ranking,
                           notice.lines(), ignored, trend=store.acquisition_trend(as_of), notice_doc=notice,
                           roster=roster, cutoff=settings.report_cutoff, whole=whole, city=city)
        result.issued = issued_note
        result.leaders = leaders
        if leaders:
            result.notice = [line for item in leaders for line in item.lines() + [""]]
        result.register = register
        result.plan = plan
        result.notice_sheet = result.notice + (["", "通报存档（已发出的通报、督查日报）："] + archive_lines(store.db)
                                                if all_issued(store.db) else [])
        if write:
            result.seconds = time.perf_counter() - started
            _tell(progress, WRITING, 0, 0)
            _write_master(book, result, store, settings, intake, write_ranking)
            crash_point("written")
            # Order matters for a crash at any point: the backup exists before the store names it,
            # and the store is complete before the master shows it (a rerun rebuilds the master).
            saved = book.back_up(settings)
            crash_point("backed-up")
            if saved is not None:  # relative to the master: moving the campaign folder keeps rollback working
                store.set_backup(_relative(Path(saved), base_dir))
            store.commit()
            _tell(progress, SAVING, 0, 0)
            crash_point("committed")
            book.save()
            crash_point("replaced")
            result.wrote = True
        else:
            store.db.rollback()
    finally:
        store.close()
    result.seconds = time.perf_counter() - started
    return result


def _registry(book, store: Store) -> pd.DataFrame:
    """The 项目清单: as read by an earlier run when its cells are unchanged (a province registry of
    50,000 projects takes seconds to read), else read now and kept with the run."""
    key = book.registry_key()
    registry = store.kept_frame("registry", key) if key else None
    if registry is None:
        registry = book.registry()
        if key:
            store.keep_frame("registry", key, registry)
    return registry


def store_summary(store: Store, registry: pd.DataFrame, as_of: dt.date, settings: Settings) -> pd.DataFrame:
    """The 汇总 table as of a date from the history store (per-project lines read by index)."""
    lines = store.project_lines(registry["project_id"], settings.period_start_for(as_of), as_of)
    return summary_of(registry, lines, as_of, settings)


def previous_ranking(store: Store, registry: pd.DataFrame, period_start: dt.date,
                     settings: Settings) -> pd.DataFrame | None:
    """The ranks at the start of the period: as published then if a run kept them, else recomputed
    from the history as it stood; None before anything was reported."""
    published = store.ranking_snapshot(period_start, settings.rank_unit)
    if not published.empty:
        return published
    basis = _ranking_basis(registry, settings)
    derived = store.derived_ranking(period_start, settings.rank_unit, basis)
    if derived is not None:
        return derived
    if not store.reported_by(period_start):
        return None
    ranking = compute_ranking(store_summary(store, registry, period_start, settings), settings)
    store.save_derived_ranking(period_start, settings.rank_unit, basis, ranking)
    return ranking


def _ranking_basis(registry: pd.DataFrame, settings: Settings) -> str:
    """What a recomputed ranking depends on besides the history: the registry and the settings."""
    digest = hashlib.sha256(repr(settings).encode())
    digest.update(pd.util.hash_pandas_object(registry, index=False).to_numpy().tobytes())
    digest.update(repr(list(registry.columns)).encode())
    return digest.hexdigest()


def roll_back(master: Path) -> tuple[dict, int]:
    """Undo the last run: the master back from its backup, the run's submissions forgotten by the store.

    The master as it stands is backed up first (run["undo_backup"]), so that a rollback can itself be
    undone; a forgotten submission no longer in the inbox is put back from 归档 (run["restored"]), so
    the next run reads it again instead of losing its rows.
    """
    master = Path(master)
    with MasterLock(master):
        book = MasterBook.open(master)
        settings = book.settings()
        store = Store(master.parent / settings.store)
        temp = master.with_name(f".~{master.name}.rollback.tmp")
        try:
            run = store.last_run()
            if run is None:
                raise SettingsError("没有可以撤销的运行记录。")
            saved = _backup_path(master, settings, run["backup"])
            if saved is None:
                raise MasterUnusable(f"找不到上次运行前的母表备份（{Path(run['backup'] or '未记录').name}），无法撤销。"
                                     f"请检查“{settings.backups}”文件夹。")
            MasterBook.open(saved)  # the backup must itself be a usable master
            shutil.copy2(saved, temp)  # before the undo backup below may prune old copies
            run["undo_backup"] = book.back_up(settings)
            forgotten_files = store.submissions_of_run(run["run_id"])
            forgotten = store.roll_back(run["run_id"])
            run["restored"] = _restore_from_archive(master.parent, settings, forgotten_files)
            store.commit()
            os.replace(temp, master)
        finally:
            temp.unlink(missing_ok=True)
            store.close()
    return run, forgotten


def _backup_path(master: Path, settings: Settings, recorded: str | None) -> Path | None:
    """The backup a run recorded, found relative to the master (the campaign folder may have moved)."""
    if not recorded:
        return None
    path = Path(recorded)
    for candidate in (master.parent / path, master.parent / settings.backups / path.name):
        if candidate.is_file():
            return candidate
    return None


def _relative(path: Path, base: Path) -> str:
    """A path as stored: relative to the master's folder when it is inside it."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix() if path.resolve().is_relative_to(
            base.resolve()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _restore_from_archive(base_dir: Path, settings: Settings, files: list[tuple[str, str]]) -> list[str]:
    """Put back into the inbox, from 归档, each forgotten submission whose content is no longer there."""
    inbox = base_dir / settings.inbox
    archive = base_dir / settings.archive
    present: set[str] | None = None
    restored = []
    for sha, name in files:
        copies = sorted(archive.glob(f"*/{sha[:12]}_*")) if archive.is_dir() else []
        if not copies:
            continue  # a sheet pasted into the master, or an archive staff emptied
        if present is None:
            present = {sha256_of(p) for p in scan_inbox(inbox)[0]} if inbox.is_dir() else set()
        if sha in present:
            continue
        inbox.mkdir(parents=True, exist_ok=True)
        target = inbox / name
        if target.exists():
            target = inbox / fit_name(f"{Path(name).stem}（恢复）{Path(name).suffix}")
        copy_whole(copies[0], target)
        present.add(sha)
        restored.append(target.name)
    return restored


def _write_master(book: Book, result: JobResult, store: Store, settings: Settings, intake: bool,
                  write_ranking: bool) -> None:
    summary = result.summary
    book.write_table(SUMMARY.name, _summary_rows(summary))
    plan, done = float(summary["plan_mu"].sum()), float(summary["acquired_mu"].sum())
    rate = f"{done / plan:.2%}" if plan else "—"
    book.write_cell("SummaryTitle", f"汇总（截至 {result.as_of.isoformat()}）：{len(summary)} 个项目，"
                                    f"计划征地 {plan:,.2f} 亩，累计 {done:,.2f} 亩，完成率 {rate}")
    if intake:
        book.write_table(REPORT.name, _report_rows(result.files))
        errors = sum(len(f.errors) for f in result.files)
        warnings = sum(len(f.warnings) for f in result.files)
        skipped = result.count(SKIPPED)
        book.write_cell("ReportTitle", f"校验报告（{dt.datetime.now():%Y-%m-%d %H:%M}）：收件箱 {len(result.files) - skipped} "
                                       f"个文件，{errors} 个错误，{warnings - skipped} 个警告"
                                       + (f"；另有 {skipped} 项未读取，原因见下" if skipped else ""))
    since = result.as_of - dt.timedelta(days=settings.history_days)
    logged = _log_rows(store, since, settings.history_rows)
    book.write_table(LOG.name, logged)
    book.write_cell("LogTitle", f"报送记录（{_window_text(settings, len(logged))}收到的文件，"
                                f"截至 {result.as_of.isoformat()}；全部记录在 {settings.store}）")
    history = _history_rows(store, since, result.as_of, settings.history_rows)
    book.write_table(HISTORY.name, history)
    book.write_cell("HistoryTitle", f"历史（{_window_text(settings, len(history))}的数据，截至 {result.as_of.isoformat()}；"
                                    f"全部数据在 {settings.store}，"
                                    "可用 xladdin history 导出）")
    first_row, first_col = book.table_origin(SUMMARY.name)
    summary_range = SummaryRange(first_col, first_row, first_row + max(1, len(summary)) - 1)
    if write_ranking:
        rank_first_row, rank_first_col = book.table_origin(RANKING.name)
        ranking = result.ranking
        previous = {row["unit"]: {key: row[f"{key}_prev"] for key, _ in METRICS} for row in ranking.to_dict("records")}
        streaks = {row["unit"]: {key: row[f"{key}_streak"] for key, _ in METRICS} for row in ranking.to_dict("records")}
        rows = ranking_rows(list(ranking["unit"]), previous, summary_range, settings, rank_first_row, rank_first_col,
                            streaks)
        # Each formula carries the value the ranking computed, so that a preview shows the figures.
        computed = ranking.set_index("unit")
        book.write_table(RANKING.name, [
            [Formula(v, computed.at[row[0], key] if key in computed.columns else None)
             if isinstance(v, str) and v.startswith("=") and i else v
             for i, (key, v) in enumerate(zip(RANKING_KEYS, row))] for row in rows])
        store.save_ranking(result.as_of, settings.rank_unit, ranking)
        _write_sorted(book, ranking, rank_first_row, rank_first_col, result.as_of, settings)
        book.write_cell("RankingTitle", f"红黑榜（按{settings.rank_unit}，截至 {result.as_of.isoformat()}）")
        book.write_cell("RankingPeriod", f"本期：{result.period_start.isoformat()} 至 {result.as_of.isoformat()}；"
                                         f"红榜最多 {settings.red_k} 名、黑榜最多 {settings.black_k} 名，且各不超过参与排名单位数的三分之一"
                                         "（至少 1 名）；边界上并列的整组不列入；为 0 的不上红榜。"
                                         "数值和排名都是公式，点击单元格可查看计算方法。")
        book.write_cell("RankingWhole", result.whole)
        book.write_lines(NOTICE_NAME, result.notice_sheet or result.notice)
    book.write_table(BOARD.name, _board_rows(summary))
    if result.plan is not None:
        _write_plan(book, result)
    if result.register is not None:
        register = result.register
        book.write_table(REGISTER.name, [[row[k] for k in REGISTER_KEYS] for row in register.to_dict("records")])
        counts = register["status"].value_counts()
        book.write_cell(REGISTER_TITLE, f"督办台账（截至 {result.as_of.isoformat()}）：" + "，".join(
            f"{word} {int(counts.get(word, 0))} 项" for word in ("新增", "持续", "待确认销号", "已销号"))
            + f"，逾期 {int(register['alert'].str.startswith('逾期').sum())} 项")
    counts = "，".join(f"{word} {int(has_flag(summary['status'], word).sum())} 个"
                       for word in (OVERDUE, DUE_SOON, STALLED, NOT_TODAY))
    book.write_cell("BoardTitle", f"作战图（截至 {result.as_of.isoformat()}）：{counts}"
                                  f"（临期＝剩余不足 {settings.due_soon_days} 天；一个项目可同时属于几类）")
    status_range = summary_range.column("status")
    # Statuses are flags joined by 、: a project counts under every flag it carries.
    statuses = summary["status"].fillna("").astype(str)
    book.write_table(STATUS_COUNTS.name, [[word, Formula(f'=COUNTIF({status_range},"*{word}*")',
                                                         int(statuses.str.contains(word, regex=False).sum()))]
                                          for word in (NET_LAND, ONGOING, STALLED, DUE_SOON, OVERDUE, NOT_REPORTED,
                                                       NOT_TODAY)])
    trend = result.trend if result.trend is not None else pd.DataFrame(columns=["report_date", "acquired_mu"])
    plan = float(summary["plan_mu"].sum())
    book.write_table(TREND.name, [[d, float(v), plan] for d, v in zip(trend["report_date"], trend["acquired_mu"])])
    if write_ranking:
        rank_row, rank_col = book.table_origin(RANKING.name)
        position = {key: rank_col + i for i, key in enumerate(RANKING_KEYS)}
        rows = []
        for i, unit in enumerate(result.ranking["unit"]):
            r = rank_row + i
            value = f"'{SHEET_RANKING}'!{column_letter(position['acquisition_rate'])}{r}"
            flag = f"'{SHEET_RANKING}'!{column_letter(position['acquisition_rate_flag'])}{r}"
            figure, listed = result.ranking["acquisition_rate"].iloc[i], result.ranking["acquisition_rate_flag"].iloc[i]
            rows.append([unit, Formula(f'=IF({flag}="红榜",{value},"")', figure if listed == "红榜" else ""),
                         Formula(f'=IF({flag}="黑榜",{value},"")', figure if listed == "黑榜" else ""),
                         Formula(f'=IF(AND({flag}<>"红榜",{flag}<>"黑榜",ISNUMBER({value})),{value},"")',
                                 figure if listed not in ("红榜", "黑榜") and figure == figure else "")])
        book.write_table(CHART_UNITS.name, rows)
        book.write_cell("ChartsTitle", f"图表（截至 {result.as_of.isoformat()}）")
    book.write_table(STATUS.name, _status_rows(result))


def _write_sorted(book: Book, ranking: pd.DataFrame, first_row: int, first_col: int, as_of: dt.date,
                  settings: Settings) -> None:
    """The 红黑榜 as read out (sheet 红黑榜（排序）): per metric its ranked units by rank, as formulas over
    tblRanking carrying the values the ranking computed. Masters built before the sheet have none."""
    tables = getattr(book, "tables", {})
    if any(name not in tables for name in (SORT_KEYS.name, *(spec.name for spec in SORTED_TABLES.values()))):
        return
    keys_row, keys_col = book.table_origin(SORT_KEYS.name)
    units = len(ranking)
    keys = sort_key_rows(units, first_row, first_col, keys_row)
    book.write_table(SORT_KEYS.name, [
        [Formula(row[0], unit)] + [Formula(f, float(ranking[f"{key}_rank"].iloc[i]) + (keys_row + i) / SORT_KEY_SCALE
                                           if pd.notna(ranking[f"{key}_rank"].iloc[i]) else "")
                                   for f, (key, _) in zip(row[1:], METRICS)]
        for i, (unit, row) in enumerate(zip(ranking["unit"], keys))])
    for key, spec in SORTED_TABLES.items():
        # The same order as the formulas: by rank, ties in the 红黑榜's order, units not ranked left out.
        ranked = ranking[ranking[f"{key}_rank"].notna()].sort_values(f"{key}_rank", kind="stable")
        rows = sorted_rows(units, len(ranked), key, first_row, first_col, keys_row, keys_col)
        book.write_table(spec.name, [
            [Formula(f, v) for f, v in zip(row, (int(r[f"{key}_rank"]), r["unit"], r[key], r[f"{key}_flag"]))]
            for row, (_, r) in zip(rows, ranked.iterrows())])
    book.write_cell("SortedTitle", f"红黑榜（排序，按{settings.rank_unit}，截至 {as_of.isoformat()}）")


def _write_plan(book: Book, result: JobResult) -> None:
    """节点计划 (values, and 完成日期 as a formula so an entered date counts at once) and, where the master has
    it, the 作战图时间表 (one row per project, COUNTIFS over the 节点计划 per week)."""
    plan = result.plan
    first_row, first_col = book.table_origin(MILESTONES.name)
    letter = {key: column_letter(first_col + i) for i, key in enumerate(PLAN_KEYS)}
    rows = []
    for i, row in enumerate(plan.to_dict("records")):
        values = [row[k] for k in PLAN_KEYS]
        values[-1] = Formula(done_formula(first_row + i, letter["entered"], letter["derived"]),
                             row["done"] if row["done"] is not None else "")
        rows.append(values)
    book.write_table(MILESTONES.name, rows)
    late = late_or_at_risk(plan)["status"].astype(str)
    book.write_cell(MILESTONES_TITLE, f"节点计划（截至 {result.as_of.isoformat()}）：{len(plan)} 个节点，"
                                      f"已逾期 {int(late.str.startswith('已逾期').sum())} 个，"
                                      f"临期 {int(late.str.startswith('临期').sum())} 个，"
                                      f"未排期 {int((plan['status'] == '未排期').sum())} 个")
    if TIMELINE.name not in getattr(book, "tables", {}):
        return
    last_row = first_row + max(1, len(plan)) - 1
    ranges = {key: f"'{SHEET_MILESTONES}'!${letter[key]}${first_row}:${letter[key]}${last_row}"
              for key in ("project_id", "planned", "done")}
    ranges["project"] = ranges.pop("project_id")
    top, left = book.table_origin(TIMELINE.name)
    week_row = top - 2  # the Mondays sit in the row above the header
    fixed = len(TIMELINE.columns) - TIMELINE_WEEKS
    registry_rows = plan.drop_duplicates("project_id")
    deadlines = dict(zip(result.summary["project_id"], result.summary["deadline"]))
    timeline = []
    mondays = week_starts(dt.date.today())  # what the sheet's TODAY() row shows when it is opened today
    for i, record in enumerate(registry_rows.to_dict("records")):
        r = top + i
        project_cell = f"${column_letter(left)}{r}"
        weeks = [Formula(week_formula(project_cell, f"{column_letter(left + fixed + k)}${week_row}", ranges),
                         week_marks(plan, record["project_id"], mondays[k])) for k in range(TIMELINE_WEEKS)]
        timeline.append([record["project_id"], record["project_name"], record["leader"],
                         deadlines.get(record["project_id"]), *weeks])
    book.write_table(TIMELINE.name, timeline)
    late = late_or_at_risk(plan)["status"].astype(str)
    book.write_cell(TIMELINE_TITLE, f"作战图时间表（截至 {result.as_of.isoformat()}）：{len(timeline)} 个项目，"
                                    f"节点已逾期 {int(late.str.startswith('已逾期').sum())} 个，"
                                    f"临期 {int(late.str.startswith('临期').sum())} 个")


def _summary_rows(summary: pd.DataFrame) -> list[list[object]]:
    return _plain_rows(summary[[key for key, _, _ in SUMMARY_FIELDS]])


def _plain_rows(frame: pd.DataFrame) -> list[list[object]]:
    """A frame as rows of Python values, NaN as None (one vectorised pass, not a call per cell)."""
    values = frame.astype(object)
    return values.where(values.notna(), None).to_numpy().tolist()


def _board_rows(summary: pd.DataFrame) -> list[list[object]]:
    return _plain_rows(board(summary)[["project_id", "project_name", "leader", "group", "deadline", "days_left",
                                        "acquisition_rate", "status", "problems"]])


def _report_rows(files: list[FileOutcome]) -> list[list[object]]:
    rows = []
    order = sorted(files, key=lambda f: (f.group or "～", f.report_date or dt.date.min, f.file))
    for f in order:
        verdict = {NEW_ACCEPTED: "已接收", NEW_REJECTED: "已退回", DUPLICATE: "重复", KNOWN: "已接收" if f.accepted
                   else "已退回", SKIPPED: "未读取"}[f.status]
        if f.status == SKIPPED:
            rows.append([f.group, f.file, "", "", "", f.issues[0].code, verdict, "", "", "", f.issues[0].message])
            continue
        text = (f"与《{f.same_as}》内容相同，未重复处理" if f.status == DUPLICATE
                else f"{len(f.errors)} 个错误，{len(f.warnings)} 个警告" +
                ("；请按下列提示改正后重新报送" if not f.accepted else ""))
        if f.returned:
            text += f"；标注副本：{f.returned}"
        rows.append([f.group, Link(f.file, f.returned), "", "", "", "", verdict, "", "", "", text])
        for i in sorted(f.issues, key=lambda i: (i.severity != ERROR, _cell_order(i.cell))):
            in_place = (f.returned or f.pasted) and i.sheet and i.cell[:1].isalpha()
            where = Link(i.cell, f.returned, f"'{i.sheet}'!{i.cell}" if in_place else "")
            rows.append([f.group or i.group, f.file, i.sheet, where, i.severity, i.code, i.title, i.project,
                         i.value, i.expected, i.message])
    return rows


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, cell)


def _window_text(settings: Settings, shown: int) -> str:
    """How much of the store a windowed sheet shows: 最近 30 天 (中最新的 20000 行)."""
    capped = f"中最新的 {shown} 行" if shown >= settings.history_rows else ""
    return f"最近 {settings.history_days} 天{capped}"


def _log_rows(store: Store, since: dt.date, limit: int) -> list[list[object]]:
    log = store.submission_log(since, limit)
    rows = []
    for r in log.itertuples(index=False):
        status = r.status if r.seen_name == r.file_name else f"重复（同《{r.file_name}》）"
        date = dt.date.fromisoformat(r.report_date) if isinstance(r.report_date, str) and r.report_date else None
        rows.append([r.seen_name, r.group_name, date, r.reporter, status, r.errors, r.warnings, r.row_count,
                     r.seen_at.replace("T", " "), r.sha256])
    return rows


def _history_rows(store: Store, since: dt.date, as_of: dt.date, limit: int) -> list[list[object]]:
    recent = store.recent_rows(since, as_of, limit)
    return _plain_rows(_history_view(recent)) if not recent.empty else []


def _history_view(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored rows with the columns and labels of the 历史 sheet."""
    view = pd.DataFrame({
        "填报日期": rows["report_date"], "工作组": rows["group_name"], "项目编号": rows["project_id"],
        "地块名称": rows["plot"], **{LEDGER_BY_KEY[k].label: rows[k] for k in FIGURE_KEYS},
        "是否净地": rows["net_land"], "净地交付日期": rows["net_land_date"], "存在问题": rows["problems"],
        "下步措施": rows["next_steps"], "来源文件": rows["file_name"],
        "数据状态": ["已替代" if s else "有效" for s in rows["superseded"]],
    })
    assert list(view.columns) == HISTORY.labels
    return view


def history_frame(master: Path, *, group: str | None = None, project: str | None = None,
                  include_superseded: bool = False) -> pd.DataFrame:
    """Every stored row (oldest first) with the 历史 sheet's columns, filtered; read-only."""
    book = MasterBook.open(master)
    store = Store(master.parent / book.settings().store)
    try:
        rows = store.all_rows()
    finally:
        store.close()
    if group:
        rows = rows[rows["group_name"] == group]
    if project:
        rows = rows[rows["project_id"] == project]
    if not include_superseded:
        rows = rows[rows["superseded"] == 0]
    return _history_view(rows).reset_index(drop=True)


def _status_rows(result: JobResult) -> list[list[object]]:
    return [
        ["运行时间", dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")],
        ["统计截至", result.as_of.isoformat()],
        ["本期", f"{result.period_start.isoformat()} 至 {result.as_of.isoformat()}"],
        ["收件箱", str(result.inbox) if result.inbox else "（本次未读取收件箱）"],
        ["结果", summary_sentence(result)],
        ["用时", f"{result.seconds:.1f} 秒"],
        *([["全县", result.whole]] if result.whole else []),
        *[["市里通报", sentence] for sentence in result.city],
        *roster_rows(result.roster, result.as_of, result.cutoff),
    ]


def summary_sentence(result: JobResult) -> str:
    """One Chinese sentence saying what the run did."""
    if result.inbox is None:
        return f"已按 {result.as_of.isoformat()} 重新计算汇总和红黑榜。"
    parts = [f"读取 {len(result.files) - result.count(SKIPPED)} 个文件", f"新接收 {result.count(NEW_ACCEPTED)} 个",
             f"退回 {result.count(NEW_REJECTED)} 个"]
    if result.count(DUPLICATE):
        parts.append(f"重复 {result.count(DUPLICATE)} 个")
    if result.count(KNOWN):
        parts.append(f"此前已处理 {result.count(KNOWN)} 个")
    if result.count(SKIPPED):
        parts.append(f"未读取 {result.count(SKIPPED)} 个（见校验报告）")
    return "，".join(parts) + "。"

