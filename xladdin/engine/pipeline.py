"""The one pipeline every operation runs: intake, summary, ranking, notice, then the master written and
the store committed in the order a crash at any point survives."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from xladdin.base import clock
from xladdin.base.errors import SettingsError
from xladdin.base.faults import crash_point
from xladdin.base.fs import relative
from xladdin.base.lazy import pandas as pd
from xladdin.domain.cityresult import gap_sentences, published
from xladdin.domain.consolidate import campaign_counts, quantity_totals, summary_of, with_milestone_progress
from xladdin.domain.milestones import Plan, key_plots, late_or_at_risk
from xladdin.domain.rank import add_streaks, compute_ranking, streak_periods, whole_line, whole_text
from xladdin.domain.register import build_register, open_items, previous_rows, update_threads
from xladdin.domain.roster import daily_roster, weekly_tally, work_groups
from xladdin.domain.settings import Settings
from xladdin.domain.validate import former_pairs
from xladdin.engine.binding import open_store
from xladdin.engine.intake import Source, check_sources, grid_digest, inbox_sources, scan_inbox, skipped_outcome
from xladdin.engine.model import (
    READING,
    SAVING,
    SUMMING,
    WRITING,
    FileOutcome,
    JobResult,
    Progress,
    RunRequest,
    tell,
)
from xladdin.engine.plan import milestone_plan
from xladdin.engine.presentation import status_figure_rows, write_master, write_run_status
from xladdin.engine.renumber import renumber_projects
from xladdin.engine.runcache import KeptResult, keep_result, kept_result, reusable, run_key, settled, with_run
from xladdin.engine.withdraw import withdraw_one
from xladdin.notices.archive import (
    all_issued,
    archive_lines,
    new_problems,
    register_reports,
    uncorrected_returns,
)
from xladdin.notices.compose import LEADER, WEEKLY, Accountability, Notice, NoticeInputs, build_notice
from xladdin.notices.issue import issue_leader_reports, issue_notice, notice_header
from xladdin.notices.leader import build_leader_notices
from xladdin.store.history import KEPT_REGIONS, Store
from xladdin.workbook.book import Book
from xladdin.workbook.layout import (
    CITY_RESULT,
    MILESTONES,
    REGISTER,
)
from xladdin.workbook.lock import MasterLock
from xladdin.workbook.package import MasterBook

log = logging.getLogger(__name__)
REGIONS_KEPT = KEPT_REGIONS  # the store's record of the master's regions as the last run saved them


def execute(master: Path, request: RunRequest | None = None, **fields) -> JobResult:
    """The pipeline behind every command, on a master file: `request`, or a RunRequest of the `fields`."""
    started = time.perf_counter()
    request = request or RunRequest(**fields)
    master = Path(master)
    lock = MasterLock(master) if request.write else None
    if lock is not None:
        lock.__enter__()
    try:
        book = MasterBook.open(master)
        # Several reader processes only from the headless command on a fork-capable OS: inside Excel the
        # interpreter may be embedded, and spawning would start Excel's executable, not Python.
        if request.workers is None:
            request = replace(request, workers=min(4, os.cpu_count() or 1) if hasattr(os, "fork") else 1)
        return run_job(book, master.parent, request, started=started)
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)


def run_job(book: Book, base_dir: Path, request: RunRequest | None = None, *, started: float | None = None,
            **fields) -> JobResult:
    """The pipeline on an open master: any workbook.book.Book — a MasterBook (file) or a LiveBook (open in
    Excel, via xlwings). Folders in 设置 are relative to base_dir. `request.progress(stage, done, total)`
    hears what the run is doing (total 0 when there is nothing to count). The clock is read here, once."""
    started = time.perf_counter() if started is None else started
    request = request or RunRequest(**fields)
    settings = book.settings()
    now = request.now or clock.now(settings.zone)
    as_of = request.as_of or now.date()
    intake, write, progress, notice_kind = request.intake, request.write, request.progress, request.notice_kind
    workers = request.workers or 1
    inbox = Path(request.inbox) if request.inbox else (base_dir / settings.inbox)
    refuse_unusable_period_or_inbox(settings, as_of, inbox if intake else None, book.path, bool(request.inbox))
    store = open_store(book, base_dir / settings.store, write)
    try:
        registry = RunRegistry(book, store)
        if write:
            store.begin_run(as_of, request.command, now)
        renumbered = renumber_projects(store, registry.former_pairs(), now)  # before intake: files meet the moved history
        withdrawn = withdraw_one(store, request.withdraw, now) if request.withdraw and write else None
        files, ignored = [], []
        if intake:
            folders = {"master": base_dir, "archive": base_dir / settings.archive,
                       "returned": base_dir / settings.returned} if write else None
            files, ignored = _take_in(book, inbox, store, registry, as_of, now, settings, folders, workers, progress)
        store.refresh_derived()  # the one write of derived tables; every read below sees this run's rows
        tell(progress, SUMMING, 0, 0)
        # The figures the last run kept, when the store (read in this transaction) and the master are as it
        # left them and this run asks the same (engine/runcache.py); else computed, as always.
        master_digest = getattr(book, "file_digest", None)  # a master file (the live workbook has none)
        reuse = master_digest is not None and reusable(request)
        kept = kept_result(store, run_key(store.generation(), master_digest, request, as_of)) if reuse else None
        result = with_run(kept, book.path) if kept is not None else _figures(book, store, registry.frame(), as_of,
                                                                             settings, notice_kind)
        result.files, result.ignored, result.inbox = files, ignored, inbox if intake else None
        result.now = now
        result.withdrawn, result.renumbered = withdrawn, renumbered
        if request.issue and write and notice_kind == LEADER:
            result.issued = issue_leader_reports(result.leaders, as_of, base_dir, settings)
        elif request.issue and write:
            result.issued = issue_notice(store, result.notice_doc, base_dir, settings, request.reissue, now)
            result.notice = result.notice_doc.lines()  # now with its number (期数)
        result.notice_sheet = result.notice + (["", "通报存档（已发出的通报、督查日报）："] + archive_lines(store)
                                                if all_issued(store) else [])
        if write:
            result.seconds = time.perf_counter() - started
            _write_and_commit(book, result, store, settings, base_dir, request, progress, kept=kept, keep=reuse)
        else:
            store.discard()
    finally:
        store.close()
    result.seconds = time.perf_counter() - started
    return result


def _take_in(book: Book, inbox: Path, store: Store, registry: RunRegistry, as_of: dt.date, now: dt.datetime,
             settings: Settings, folders: dict[str, Path] | None, workers: int, progress: Progress) -> tuple[list[FileOutcome], list[str]]:
    """Every file of the inbox and every ledger pasted into the master, checked (and, with `folders`,
    recorded, archived or returned); the inbox entries not read, by name."""
    paths, skipped = scan_inbox(inbox)
    sources, unreadable = inbox_sources(paths)
    skipped += unreadable
    pasted = [Source(f"{book.path.name}›{grid.sheet}", grid_digest(grid), grid=grid) for grid in book.pasted_grids()]
    tell(progress, READING, 0, len(sources) + len(pasted))
    files = check_sources(sources + pasted, store, registry.frame, as_of, now, settings, folders, workers, progress)
    files += [skipped_outcome(name, reason) for name, reason in skipped]
    return files, [name for name, _ in skipped]


def check_files(book: Book, base_dir: Path, paths: list[Path], *, as_of: dt.date, now: dt.datetime,
                returned: bool = False, timeout: float = 5.0, registry: pd.DataFrame | None = None
                ) -> list[FileOutcome]:
    """The files given (not the inbox), each read, screened and checked against the registry and the store
    as `validate` checks the inbox files, in the order given, at `now`; nothing is stored. With `returned`, the
    marked-up copy of each rejected file is written to 退回 (as a run writes it). `registry`: the book's, when
    the caller has read it already."""
    settings = book.settings()
    store = Store(base_dir / settings.store, timeout=timeout)
    try:
        store.reserve()  # checking writes (then rolls back): wait for a run that is writing, never fail halfway
        registry = _registry(book, store) if registry is None else registry
        renumber_projects(store, former_pairs(registry), now)  # discarded below with the rest
        sources, unreadable = inbox_sources(paths)
        folders = {"master": base_dir, "returned": base_dir / settings.returned} if returned else None
        files = check_sources(sources, store, registry, as_of, now, settings, folders)
        store.discard()
    finally:
        store.close()
    return files + [skipped_outcome(name, reason) for name, reason in unreadable]


def refuse_unusable_period_or_inbox(settings: Settings, as_of: dt.date, inbox: Path | None, master: Path,
                                    from_command: bool) -> None:
    """Settings a run would otherwise quietly work around (exit 2, before anything is read or written): a
    本期起始日期 not before the as-of date (本期 fell back to 本期天数 unsaid), an inbox that holds the master
    (收件箱文件夹 "." read the master and its neighbours as ledgers every run)."""
    if settings.period_start is not None and settings.period_start >= as_of:
        raise SettingsError(f"设置“本期起始日期”为 {settings.period_start.isoformat()}，不早于统计日期 {as_of.isoformat()}，"
                            "本期无从算起，请在“设置”表中改为统计日期之前的日期（或留空，按“本期天数”计）后重新运行。")
    if inbox is None:
        return
    try:
        holds_master = master.resolve().is_relative_to(inbox.resolve())
    except OSError:
        return
    if holds_master:
        where, fix = (f"--inbox {inbox}", "请改用单独的文件夹") if from_command else (
            f"设置“收件箱文件夹”为“{settings.inbox}”", "请在“设置”表中改为单独的文件夹（如“报送”）")
        raise SettingsError(f"{where}，是母表所在的文件夹（或其上级），母表、备份和模板都会被当作台账读取，"
                            f"{fix}并把台账放进去后重新运行。")


def _figures(book: Book, store: Store, registry: pd.DataFrame, as_of: dt.date, settings: Settings,
             notice_kind: str) -> JobResult:
    """What the run publishes as of the date: summary, 红黑榜, roster, 全县 line, city gap, 督办台账,
    节点计划 and the notice (the 专报 per leader instead when `notice_kind` is LEADER)."""
    period_start = settings.period_start_for(as_of)
    summary = store_summary(store, registry, as_of, settings)
    plan, plan_sheet = None, None
    if MILESTONES.name in book.tables:  # masters built before it have no 节点计划
        plan, plan_sheet = milestone_plan(book, store, registry, as_of, settings)
        # A 节点 reached in the period is progress (the 红黑榜 formulas count 汇总 › 本期有进展).
        summary = with_milestone_progress(summary, _reached(plan), period_start, as_of)
    previous = previous_ranking(store, registry, period_start, settings)
    # Only the lists of the periods a streak can reach are read: the cost follows the streak, not the history.
    periods = streak_periods(store.published_dates(settings.rank_unit, as_of), as_of, settings.period_days)
    ranking = add_streaks(compute_ranking(summary, settings, previous),
                          store.lists_on(settings.rank_unit, periods), as_of, settings.period_days)
    roster = daily_roster(work_groups(registry), store.submissions_for(as_of, settings.zone), as_of,
                          settings.report_cutoff)
    tally = _tally(store, registry, period_start, as_of, settings)
    line = whole_line(summary, settings)
    whole = whole_text(line, settings)
    start_summary = store_summary(store, registry, period_start, settings)
    campaign = settings.campaign_start
    totals = quantity_totals(summary, store_summary(store, registry, as_of - dt.timedelta(days=1), settings),
                             start_summary,
                             store_summary(store, registry, campaign, settings) if campaign and campaign < as_of
                             else None)
    counts = campaign_counts(summary)
    city = []
    if CITY_RESULT.name in book.tables:  # masters built before it have no such table
        city = gap_sentences(published(*book.table_rows(CITY_RESULT.name)), summary, line, settings)
    register = None
    if REGISTER.name in book.tables:  # masters built before it have no 督办台账
        register = _register(store, registry, as_of, settings, previous_rows(*book.table_rows(REGISTER.name)))
    supervision = open_items(register) if register is not None else None
    milestones = late_or_at_risk(plan) if plan is not None else None
    leaders, returns = [], uncorrected_returns(store, as_of)
    plots = key_plots(plan, registry) if plan is not None else None
    if notice_kind == LEADER:
        leaders = build_leader_notices(summary, as_of, notice_header(settings), supervision=supervision,
                                       milestones=milestones)  # 临期 comes with the summary's flags
        notice = Notice("", as_of=as_of, kind=LEADER)
    else:
        weekly = notice_kind == WEEKLY
        notice = build_notice(NoticeInputs(
            summary, ranking, returns, as_of, period_start, settings.unit_name,
            roster=roster, cutoff=settings.report_cutoff, due_soon_days=settings.due_soon_days, whole=whole,
            city=city, kind=notice_kind, header=notice_header(settings),
            start_summary=start_summary if weekly else None,
            unit_key=settings.rank_unit_key, supervision=supervision, milestones=milestones, tally=tally,
            named=settings.notice_named, accountability=Accountability(
                settings.accountability_periods, settings.accountability_overdue, settings.accountability_words),
            totals=totals, counts=counts, settings=settings, key_plots=plots,
            new_problems=new_problems(store, registry, period_start if weekly else as_of - dt.timedelta(days=1),
                                      as_of)))
    result = JobResult(book.path, as_of, period_start, None, [], summary, ranking, notice.lines(), [],
                       trend=store.acquisition_trend(as_of), notice_doc=notice, roster=roster,
                       cutoff=settings.report_cutoff, whole=whole, city=city)
    result.leaders, result.register, result.plan, result.tally = leaders, register, plan, tally
    result.settings, result.totals, result.counts = settings, totals, counts
    result.returns = returns
    result.key_plots = plots
    result.plan_sheet = plan_sheet
    if leaders:
        result.notice = [line for item in leaders for line in item.lines() + [""]]
    return result


def _tally(store: Store, registry: pd.DataFrame, period_start: dt.date, as_of: dt.date,
           settings: Settings) -> pd.DataFrame:
    """本期报送 per work group: each day after the period start up to as_of, as the day's roster judges it."""
    dates = [period_start + dt.timedelta(days=n) for n in range(1, (as_of - period_start).days + 1)]
    frames = [store.submissions_for(date, settings.zone) for date in dates]
    submissions = pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(
        not f.empty for f in frames) else frames[0] if frames else pd.DataFrame()
    return weekly_tally(work_groups(registry), submissions, dates, settings.report_cutoff)


def _register(store: Store, registry: pd.DataFrame, as_of: dt.date, settings: Settings,
              previous: list[dict]) -> pd.DataFrame:
    """The 督办台账: staff's merges and splits applied to the store's threading, new wordings threaded and
    kept, then the items as of the date (notes on requests that could not be done in attrs["notes"])."""
    reports = register_reports(store, as_of)
    threads = store.problem_threads()
    moves, new, shown, notes = update_threads(reports, threads, previous, settings.register_similarity,
                                              store.item_ids_used())
    store.move_threads(moves)
    store.add_threads(new, shown)
    register = build_register(reports, registry, as_of, previous, threads={**threads, **moves, **new},
                              silent_days=settings.silent_days, threshold=settings.register_similarity)
    register.attrs["notes"] = notes
    return register


def _write_and_commit(book: Book, result: JobResult, store: Store, settings: Settings, base_dir: Path,
                      request: RunRequest, progress: Progress, kept: KeptResult | None = None,
                      keep: bool = False) -> None:
    """The master written, backed up and saved, the store committed — in the order a crash at any point
    survives: the backup exists before the store names it, and the store is complete before the master
    shows it (a rerun rebuilds the master). With `kept` (figures the last run kept, on the master and store
    it left) only what differs from run to run is written; with `keep` the figures are kept for the next run,
    under the key of the store and master this run leaves (recorded after the save, as the regions are)."""
    tell(progress, WRITING, 0, 0)
    keep = keep and (kept is not None or settled(result))  # figures kept were settled when kept
    keep_unchanged = getattr(book, "keep_unchanged", None)  # the file's regions (the live workbook has none)
    if keep_unchanged is not None:
        keep_unchanged(store.kept_text(REGIONS_KEPT))
    if kept is not None:
        write_run_status(book, result, request.intake, kept.status_rows)
    else:
        write_master(book, result, store, settings, request.intake, request.write_ranking)
    crash_point("written")
    saved = book.back_up(settings, result.now)
    crash_point("backed-up")
    if saved is not None:  # relative to the master: moving the campaign folder keeps rollback working
        store.set_backup(relative(Path(saved), base_dir))
    check = getattr(book, "check_unchanged", None)
    if check is not None:  # staff saved the master during the run: stop before the store records anything
        check()
    store.refresh_derived()
    generation = store.generation() if keep else ""  # of everything this run wrote, read before its commit
    store.commit()
    tell(progress, SAVING, 0, 0)
    crash_point("committed")
    book.save()
    crash_point("replaced")
    if keep_unchanged is not None:  # after the save: a record never describes a master that was not written
        store.keep_text(REGIONS_KEPT, book.region_record())
        if keep:
            keep_result(store, run_key(generation, book.file_digest, request, result.as_of),
                        None if kept is not None else result, status_figure_rows(result) if kept is None else None)
        store.commit()
    result.wrote = True


def _reached(plan: Plan) -> dict[str, list[dt.date]]:
    """Per project the dates its 节点 were reached (节点计划 › 完成)."""
    reached: dict[str, list[dt.date]] = {}
    for block in plan.blocks:
        dates = [node[7] for node in block.nodes if isinstance(node[7], dt.date)]
        if dates:
            reached.setdefault(block.project_id, []).extend(dates)
    return reached


class RunRegistry:
    """A run's 项目清单, read (or taken as an earlier run kept it) when first asked for: a second click with
    nothing new needs only its 原编号 pairs, read from the kept copy's text without building a frame."""

    def __init__(self, book: Book, store: Store):
        self.book, self.store, self._frame = book, store, None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = _registry(self.book, self.store)
        return self._frame

    def former_pairs(self) -> list[tuple[str, str]]:
        """(原编号, 项目编号) of the rows that name a 原编号, as validate.former_pairs reads them from the frame."""
        key = self._frame is None and self.book.registry_key()
        columns = self.store.kept_frame_columns("registry", key, ("project_id", "former_id")) if key else None
        if columns is None:
            return former_pairs(self.frame())
        if columns["former_id"] is None:  # a registry kept by an older version
            return []
        return [(old, new) for new, old in zip(columns["project_id"], columns["former_id"])
                if isinstance(old, str) and old]


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
