"""History and the submission log in SQLite beside the master: every accepted row, nothing deleted.

The tables are in store_schema, the statements in store_sql, the frame conversions in store_frames.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path

from xladdin.base.clock import local_time
from xladdin.base.issues import Code, Issue
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import FIGURE_KEYS
from xladdin.domain.consolidate import RISE, lines_of, project_reports
from xladdin.domain.validate import ROW_COLUMNS, Checked, GroupState, History, ProjectState
from xladdin.store import sql
from xladdin.store.frames import frame_from_json, frame_to_json, json_columns, rank_records, wide_ranks, with_dates
from xladdin.store.schema import SCHEMA, SCHEMA_VERSION, migrate

__all__ = ["ACCEPTED", "REJECTED", "SCHEMA_VERSION", "SUPERSEDED", "WITHDRAWN", "Store"]

ACCEPTED, REJECTED, SUPERSEDED, WITHDRAWN = "已接收", "已退回", "已替代", "已撤回"
MASTER_ID = "master_id"
CHANGED, GENERATION = "changed", "generation"  # store_meta keys: the watch triggers' flag, the generation
KEPT_REGIONS, KEPT_FIGURES = sql.UNWATCHED_KINDS  # kept_frames kinds: the master's regions, a run's figures


def _figures_key(rows) -> list[tuple]:
    """A submission's rows as comparable values: project, plot, figures (rounded off float noise), 净地."""
    return sorted((str(p), str(plot), *(round(float(v), 6) for v in values), str(net))
                  for p, plot, *values, net in rows)


class Store:
    """The SQLite history store; changes stay in one transaction until commit()."""

    def __init__(self, path: Path, timeout: float = 5.0):
        self.path = path
        # timeout: how long a statement waits for another writer (a run, an upload) before it fails
        self.db = sqlite3.connect(path, timeout=timeout)
        self.db.execute(sql.PRAGMA_CACHE_SIZE)
        self.db.executescript(f"BEGIN;{SCHEMA}COMMIT;")  # one transaction: a new store is one sync, not one a table
        self.run_id: int | None = None
        self._stale: set[tuple[str, str]] = set()  # (project, report date) whose project_reports row is due
        self._undo: list = []  # what to do to files (renames in 通报存档) if this transaction is not committed
        migrate(self.db, path.name)
        self._watch_changes()
        self._bring_up_to_date()  # derived tables missing (an older store, or rows put in by hand): rebuilt

    def _watch_changes(self) -> None:
        """Triggers that flag every change to the tables a run reads (store/sql.py's watch_trigger), on
        every table there is, those a later schema adds or rebuilds included (created once, kept in the file)."""
        wanted = dict(sql.watch_trigger(table, event) for table, in self.db.execute(sql.WATCHED_TABLES).fetchall()
                      for event in sql.WATCH_EVENTS)
        present = {name for name, in self.db.execute(sql.TRIGGER_NAMES)}
        self._watching = present == set(wanted)
        if not self._watching:
            try:
                with self.db:
                    self.reserve()  # DDL opens no transaction of its own: one for all, not a sync per trigger
                    for name in present - set(wanted):
                        self.db.execute(sql.DROP_TRIGGER.format(name))
                    for name in set(wanted) - present:
                        self.db.execute(wanted[name])
                self._watching = True
            except sqlite3.OperationalError:  # read-only, or another writer held it: this opening is unwatched
                pass

    def generation(self) -> str:
        """A token that names the store's contents: the same while no watched table changed, a new one
        (never drawn before, in this store or another) after any change, whoever made it (a run, an upload,
        a rollback). Read inside a transaction, it names what that transaction sees."""
        if not self._watching:  # changes may have gone unflagged: a token no kept result was kept under
            return uuid.uuid4().hex
        flag = self.db.execute(sql.META_VALUE, (CHANGED,)).fetchone()
        token = self.db.execute(sql.META_VALUE, (GENERATION,)).fetchone()
        if token is None or flag is None or flag[0] != "0":
            token = (uuid.uuid4().hex,)
            self.db.execute(sql.SET_META, (GENERATION, token[0]))
            self.db.execute(sql.SET_META, (CHANGED, "0"))
        return token[0]

    def _bring_up_to_date(self) -> None:
        """Fill what a store written by an older xladdin lacks: project_reports, then daily_steps and
        problem_runs."""
        def some(query: str) -> bool:
            return self.db.execute(query).fetchone()[0] == 1

        if some(sql.ANY_PROJECT_REPORT):
            if not some(sql.ANY_DAILY_STEP):
                with self.db:
                    self._sum_steps("")
            if not some(sql.ANY_PROBLEM_RUN):
                with self.db:
                    self._find_problem_runs(sql.EVERY_RUN_START)
        elif some(sql.ANY_ACCEPTED_ROW):
            with self.db:
                self.rebuild_reports()

    def reserve(self) -> None:
        """Take the write lock now, waiting (up to the timeout) for a writer that holds it: a transaction that
        reads before it writes would otherwise be refused at once when another writer holds the store."""
        if not self.db.in_transaction:
            self.db.execute(sql.BEGIN_WRITING)

    @classmethod
    def in_memory(cls) -> "Store":
        """An empty store that lives only as long as the run (validate on a master with no store yet:
        checking never creates one)."""
        return cls(Path(":memory:"))

    def master_id(self) -> str | None:
        """The id of the master this store belongs to; None for a store written before stores were bound."""
        row = self.db.execute(sql.META_VALUE, (MASTER_ID,)).fetchone()
        return row[0] if row else None

    def bind(self, master_id: str) -> None:
        """Record the master this store belongs to (in this transaction)."""
        self.db.execute(sql.SET_META, (MASTER_ID, master_id))

    def is_empty(self) -> bool:
        """Whether no submission was ever stored."""
        return self.db.execute(sql.ANY_SUBMISSION).fetchone()[0] == 0

    def find_accepted(self, name: str) -> list[tuple[str, str, str, str]]:
        """(sha256, file name, group, report date) of accepted submissions a name, a hash or a hash's first
        characters (at least 8) identify, newest first."""
        rows = self.db.execute(sql.ACCEPTED_SUBMISSIONS_NAMED, (ACCEPTED, name, name, name)).fetchall()
        if not rows and len(name) >= 8 and all(c in "0123456789abcdef" for c in name.lower()):
            rows = self.db.execute(sql.SHA_PREFIX_ACCEPTED, (ACCEPTED, name.lower())).fetchall()
        return rows

    def withdraw(self, sha256: str, file_name: str, who: str, why: str, now: dt.datetime) -> None:
        """Take one accepted submission out of the history (its rows superseded by this run, its status
        已撤回), recorded with who and why; the history is recomputed from the others (refresh_derived),
        and a rollback of this run puts it back."""
        touched = self.db.execute(sql.PROJECTS_OF_SUBMISSION, (sha256,)).fetchall()
        self.db.execute(sql.WITHDRAW_ROWS, (self.run_id, sha256))
        self.db.execute(sql.WITHDRAW_SUBMISSION, (WITHDRAWN, self.run_id, sha256))
        self.db.execute(sql.INSERT_WITHDRAWAL, (sha256, file_name, who, why, now.isoformat(timespec="seconds"),
                                                self.run_id))
        self._stale.update(touched)

    def renumber_clash(self, old: str, new: str) -> str | None:
        """A report date on which both codes hold accepted rows (or a submission with rows under both): the
        two histories cannot be joined into one. None when they can."""
        row = self.db.execute(sql.RENUMBER_CLASH, (new, old)).fetchone()
        return None if row is None else row[0]

    def renumber(self, old: str, new: str, now: dt.datetime) -> int:
        """Move the history stored under project code `old` to `new` (a project HQ renumbered): its rows, its
        督办 wordings (keeping their 编号) and, recomputed, its reports, steps, problem runs and reached
        dates; recorded with this run so that a rollback moves exactly these back. Returns how many
        submissions' rows moved (0: nothing stored under `old`, nothing done). renumber_clash must be None."""
        submissions = [sha for sha, in self.db.execute(sql.SUBMISSIONS_OF_PROJECT, (old,))]
        if not submissions:
            return 0
        wordings = [w for w, in self.db.execute(sql.MOVABLE_WORDINGS, (old, new))]
        self._touch_both(old, new)
        self.db.execute(sql.MOVE_PROJECT_ROWS, (new, old))
        self.db.execute(sql.MOVE_WORDINGS, (new, old, json.dumps(wordings, ensure_ascii=False)))
        self.db.execute(sql.INSERT_RENUMBER, (old, new, now.isoformat(timespec="seconds"), self.run_id,
                                              json.dumps(submissions), json.dumps(wordings, ensure_ascii=False)))
        return len(submissions)

    def note_renumbers(self, pairs: list[tuple[str, str]], now: dt.datetime) -> None:
        """Record renumberings (old code, new code) made before this store (a rebuild): nothing moves, files
        still sending an old code are read as the project it became."""
        self.db.executemany(sql.INSERT_RENUMBER, [(old, new, now.isoformat(timespec="seconds"), self.run_id, "[]", "[]")
                                                  for old, new in pairs])

    def renumbers(self) -> dict[str, str]:
        """Every renumbering recorded (old code -> new code), in the order made."""
        return dict(self.db.execute(sql.RENUMBERS).fetchall())

    def _undo_renumbers(self, run_id: int) -> None:
        """Move back what the run's renumberings moved, last first."""
        for old, new, submissions, wordings in self.db.execute(sql.RENUMBERS_OF_RUN, (run_id,)).fetchall():
            self._touch_both(old, new)
            self.db.execute(sql.MOVE_ROWS_BACK, (old, new, submissions))
            self.db.execute(sql.MOVE_WORDINGS, (old, new, wordings))
        self.db.execute(sql.DELETE_RENUMBERS_OF_RUN, (run_id,))

    def _touch_both(self, old: str, new: str) -> None:
        """Every report of either code is due again (refresh_derived), and their reached dates are found
        afresh: which code holds which rows is about to change."""
        dates = {date for date, in self.db.execute(sql.DATES_OF_PROJECTS, (old, new))}
        self._stale.update((project, date) for project in (old, new) for date in dates)
        self.db.execute(sql.DELETE_FIRSTS_OF_PROJECTS, (old, new))

    def begin_run(self, as_of: dt.date, command: str, now: dt.datetime) -> int:
        """Open a run at the run's `now`: every change it makes carries its id, so that it can be rolled back."""
        started = now.isoformat(timespec="seconds")
        cur = self.db.execute(sql.INSERT_RUN, (started, as_of.isoformat(), command))
        self.run_id = cur.lastrowid
        return self.run_id

    def set_backup(self, backup: Path | str) -> None:
        self.db.execute(sql.SET_RUN_BACKUP, (str(backup), self.run_id))

    def last_run(self) -> dict | None:
        """The newest run that has not been rolled back."""
        row = self.db.execute(sql.LAST_RUN).fetchone()
        return None if row is None else dict(zip(("run_id", "started_at", "as_of", "command", "backup"), row))

    def submissions_of_run(self, run_id: int) -> list[tuple[str, str]]:
        """(sha256, file name) of the submissions a run stored."""
        return self.db.execute(sql.SUBMISSIONS_OF_RUN, (run_id,)).fetchall()

    def roll_back(self, run_id: int) -> int:
        """Undo everything a run stored; returns how many submissions it forgets."""
        forgotten = self.db.execute(sql.COUNT_SUBMISSIONS_OF_RUN, (run_id,)).fetchone()[0]
        touched = self.db.execute(sql.REPORTS_TOUCHED_BY_RUN, (run_id, run_id)).fetchall()
        self.db.execute(sql.DELETE_ROWS_OF_RUN, (run_id,))
        self.db.execute(sql.RESTORE_ROWS_SUPERSEDED_BY_RUN, (run_id,))
        self.db.execute(sql.DELETE_SUBMISSIONS_OF_RUN, (run_id,))
        self.db.execute(sql.RESTORE_SUBMISSIONS_SUPERSEDED_BY_RUN, (ACCEPTED, run_id))
        self.db.execute(sql.DELETE_WITHDRAWALS_OF_RUN, (run_id,))
        self.db.execute(sql.DELETE_FILE_NAMES_OF_RUN, (run_id,))
        self.db.execute(sql.DELETE_RANKINGS_OF_RUN, (run_id,))
        self.db.execute(sql.RESTORE_THREADS_MOVED_BY_RUN, (run_id,))
        self.db.execute(sql.DELETE_THREADS_OF_RUN, (run_id,))
        self._undo_renumbers(run_id)
        self.db.execute(sql.MARK_RUN_ROLLED_BACK, (run_id,))
        self._stale.update((project, date) for date, project in touched)
        self.refresh_derived()
        return forgotten

    def problem_threads(self) -> dict[tuple[str, str], str]:
        """(project_id, wording key) -> 督办 item 编号, for every wording threaded so far."""
        return {(p, w): i for p, w, i in self.db.execute(sql.PROBLEM_THREADS)}

    def item_ids_used(self) -> set[str]:
        """Every 督办 编号 given so far, those staff merged away included (a 编号 is never given twice)."""
        return {i for i, in self.db.execute(sql.PROBLEM_ITEM_IDS) if i}

    def add_threads(self, threads: dict[tuple[str, str], str], shown: dict[tuple[str, str], str]) -> None:
        """Record new wordings' items (shown: the wording as written), by this run."""
        self.db.executemany(sql.INSERT_PROBLEM_THREAD, [(p, w, i, shown.get((p, w), w), self.run_id)
                                                       for (p, w), i in threads.items()])

    def move_threads(self, moves: dict[tuple[str, str], str]) -> None:
        """Staff's merges and splits: wordings moved to another item by this run (a rollback moves them back)."""
        self.db.executemany(sql.MOVE_PROBLEM_THREAD, [(i, self.run_id, p, w) for (p, w), i in moves.items()])

    # -- the one way in for the store's other readers and writers (notices/archive.py): named statements of
    # store/sql.py only, bound values, in this store's transaction --------------------------------------

    def rows(self, statement: str, params: tuple | dict = ()) -> list[tuple]:
        """The rows a named statement of store/sql.py reads."""
        return self.db.execute(statement, params).fetchall()

    def one(self, statement: str, params: tuple | dict = ()) -> tuple | None:
        """The first row a named statement reads, or None."""
        return self.db.execute(statement, params).fetchone()

    def frame(self, statement: str, params: tuple | dict = ()) -> pd.DataFrame:
        """A named statement's rows as a frame, its columns named as the statement names them."""
        return pd.read_sql_query(statement, self.db, params=params)

    def write(self, statement: str, params: tuple | dict = ()) -> None:
        """Carry out a named statement that changes the store, in this run's transaction."""
        self.db.execute(statement, params)

    def discard(self) -> None:
        """Drop what this transaction changed (validate, and a run that is not committed)."""
        self.db.rollback()

    def on_rollback(self, undo) -> None:
        """Register how to undo a change to a file that belongs to this transaction (a renamed notice):
        done when the store is closed without a commit, in reverse order."""
        self._undo.append(undo)

    def close(self) -> None:
        try:
            for undo in reversed(self._undo):
                undo()
        finally:
            self._undo.clear()
            self.db.close()

    def commit(self) -> None:
        self.refresh_derived()
        self.db.commit()
        self._undo.clear()

    def known(self, sha256: str) -> dict | None:
        """The stored record of a file with this content, or None."""
        row = self.db.execute(sql.SUBMISSION, (sha256,)).fetchone()
        return None if row is None else dict(zip(("file_name", "status", "group_name", "report_date"), row))

    def accepted_for(self, group: str, report_date) -> str | None:
        """The file name of the group's accepted submission for that date, if any."""
        row = self.db.execute(sql.FILE_NAME_OF_REPORT, (group, report_date.isoformat(), ACCEPTED)).fetchone()
        return row[0] if row else None

    def accepted_arrival(self, group: str, report_date) -> tuple[str, int | None] | None:
        """(file name, modification time) of the group's accepted submission for that date, if any."""
        row = self.db.execute(sql.ARRIVAL_OF_REPORT, (group, report_date.isoformat(), ACCEPTED)).fetchone()
        return None if row is None else (row[0], row[1])

    def note_arrival(self, sha256: str, mtime_ns: int) -> None:
        self.db.execute(sql.NOTE_ARRIVAL, (sha256, mtime_ns))

    def note_file_name(self, sha256: str, file_name: str, seen_at: dt.datetime) -> None:
        self.db.execute(sql.NOTE_FILE_NAME, (sha256, file_name, seen_at.isoformat(timespec="seconds"), self.run_id))

    def record(self, checked: Checked, sha256: str, received_at: dt.datetime, older: bool = False) -> None:
        """Store a checked submission; an accepted one supersedes the group's earlier one for that date,
        unless it is `older` than the one accepted (a late copy of an original): then it is kept superseded."""
        status = (SUPERSEDED if older else ACCEPTED) if checked.accepted else REJECTED
        date = checked.report_date.isoformat() if checked.report_date else None
        replaced: list[tuple[str, str]] = []
        first = False  # the first rows of the group's report for that date: only its own projects change
        if checked.accepted and not older:
            mine = set(checked.column("project_id"))
            named = json.dumps(sorted(mine), ensure_ascii=False)
            replaced = self.db.execute(sql.ACCEPTED_OF_REPORT, (checked.group, date, ACCEPTED)).fetchall()
            self.db.execute(sql.SUPERSEDE_SUBMISSIONS, (SUPERSEDED, self.run_id, checked.group, date, ACCEPTED))
            first = self.db.execute(sql.SUPERSEDE_ROWS, (self.run_id, checked.group, date)).rowcount == 0 \
                and not replaced
            self._take_over(checked, date, named)
            self._carry_over(checked, sha256, date, named, replaced)
        if checked.accepted:
            rows = [
                (sha256, checked.group, date, project, plot, *map(float, values[:len(FIGURE_KEYS)]), net_land,
                 net_date.isoformat() if net_date else None, problems, next_steps, int(row), int(older), self.run_id)
                for project, plot, *values, net_land, net_date, problems, next_steps, row in checked.records
            ]
            self.db.executemany(sql.INSERT_LEDGER_ROW, rows)
            if first:  # nothing superseded or carried over: the report's projects are this file's
                self._stale.update((p, date) for p in mine)
            else:
                projects = self.db.execute(sql.PROJECTS_OF_REPORT, (checked.group, date)).fetchall()
                self._stale.update((p, date) for p, in projects)
        self.db.execute(
            sql.INSERT_SUBMISSION,
            (sha256, checked.file, received_at.isoformat(timespec="seconds"), checked.group or None, date,
             checked.reporter, status, checked.errors, checked.warnings, len(checked.records),
             json.dumps([i.to_dict() for i in checked.issues], ensure_ascii=False), self.run_id))
        self.note_file_name(sha256, checked.file, received_at)

    def _take_over(self, checked: Checked, date: str, named: str) -> None:
        """A project reported on this date by another group (a project moved, a group renamed) is not
        added to this report: the group the registry now names supersedes it, and the file says so."""
        others = self.db.execute(sql.OTHER_GROUPS_OF_PROJECTS, (date, checked.group, named)).fetchall()
        if not others:
            return
        self.db.execute(sql.SUPERSEDE_OTHER_GROUPS, (self.run_id, date, checked.group, named))
        for project, group in others:
            checked.issues.append(Issue(Code.PROJECT_TAKEN_OVER, file=checked.file, sheet=checked.sheet,
                                        group=checked.group, project=project, value=date, expected=group))
            self._stale.add((project, date))

    def _carry_over(self, checked: Checked, sha256: str, date: str, named: str,
                    replaced: list[tuple[str, str]]) -> None:
        """A same-day correction that leaves some of the group's projects out keeps their rows (copied
        under it) instead of letting them fall back a day, and says which."""
        for old_sha, old_name in replaced:
            carried = [p for p, in self.db.execute(sql.CARRIED_PROJECTS, (old_sha, named))]
            if not carried:
                continue
            self.db.execute(sql.CARRY_OVER_ROWS, (sha256, self.run_id, old_sha, named))
            shown = "、".join(carried[:5]) + (f" 等 {len(carried)} 个" if len(carried) > 5 else "")
            checked.issues.append(Issue(Code.PARTIAL_CORRECTION, file=checked.file, sheet=checked.sheet,
                                        group=checked.group, value=date, expected=old_name, detail=shown))

    def resaved_from(self, checked: Checked) -> str | None:
        """The file name of an earlier decided submission of the same group and date whose figures equal
        this one's (an old file opened and saved again), when a different report has been accepted since;
        None otherwise."""
        if not checked.accepted or checked.report_date is None:
            return None
        net = ROW_COLUMNS.index("net_land")
        mine = _figures_key((*record[:2 + len(FIGURE_KEYS)], record[net]) for record in checked.records)
        decided = self.db.execute(sql.DECIDED_OF_REPORT,
                                  (checked.group, checked.report_date.isoformat(), REJECTED)).fetchall()
        current = [sha for sha, _, status in decided if status == ACCEPTED]
        if not current or _figures_key(self.db.execute(sql.FIGURES_OF_SUBMISSION, (current[0],))) == mine:
            return None
        for sha, name, status in decided:
            if status != ACCEPTED and _figures_key(self.db.execute(sql.FIGURES_OF_SUBMISSION, (sha,))) == mine:
                return name
        return None

    def _require_fresh(self) -> None:
        """Reads never write: the derived tables are refreshed by one explicit call (refresh_derived)
        after rows are recorded or rolled back, and a read before it is a programming error."""
        if self._stale:
            raise RuntimeError("Store.refresh_derived() must run after recording and before reading")

    def refresh_derived(self) -> None:
        """Bring project_reports up to date for every (project, date) recorded or rolled back since the
        last time: those reports afresh, each step against the report before it, and again the steps of
        any later report of such a project (a corrected or late day changes what follows it)."""
        if not self._stale:
            return
        self.db.execute(sql.CREATE_TEMP_TOUCHED)
        self.db.execute(sql.CLEAR_TOUCHED)
        self.db.executemany(sql.INSERT_TOUCHED, sorted(self._stale))
        self._stale.clear()
        since = self.db.execute(sql.FIRST_TOUCHED_DATE).fetchone()[0]
        self.db.execute(sql.DELETE_DERIVED_RANKS_SINCE, (since,))
        self.db.execute(sql.DELETE_TOUCHED_REPORTS)
        self._compute_reports(sql.COPY_TOUCHED_ROWS)
        self.db.execute(sql.DERIVE_STEPS_AFTER_TOUCHED, {"rise": RISE})
        self._sum_steps(since)
        self.db.execute(sql.INSERT_TOUCHED_PLOTS)
        self.db.execute(sql.REFRESH_PROJECT_FIRSTS)
        self.db.execute(sql.REFRESH_PLOT_FIRSTS)
        self._find_problem_runs(sql.TOUCHED_RUN_STARTS)

    def rebuild_reports(self) -> None:
        """project_reports afresh from ledger_rows (for a store written before it existed)."""
        self.db.execute(sql.DELETE_EVERY_REPORT)
        self.db.execute(sql.DELETE_EVERY_DERIVED_RANK)
        self._compute_reports(sql.COPY_ACCEPTED_ROWS)
        self.db.execute(sql.DERIVE_EVERY_STEP, {"rise": RISE})
        self._sum_steps("")
        self.db.execute(sql.DELETE_EVERY_FIRST)
        self.db.execute(sql.FILL_PLOT_FIRSTS)
        self.db.execute(sql.DELETE_EVERY_PROBLEM_RUN)
        self._find_problem_runs(sql.EVERY_RUN_START)

    def _compute_reports(self, copy_rows: str) -> None:
        """Insert the project reports of the ledger rows copied by `copy_rows` (sql.COPY_TOUCHED_ROWS or
        sql.COPY_ACCEPTED_ROWS): a project reported in one row on a date is that row (in SQL); one reported
        plot by plot is summed and its text joined by consolidate.project_reports. Each report's step is
        taken against the report before it."""
        self.db.execute(sql.CREATE_TEMP_FRESH_ROWS)
        self.db.execute(sql.CREATE_TEMP_FRESH_REPORTS)
        self.db.execute(sql.CLEAR_FRESH_ROWS)
        self.db.execute(sql.CLEAR_FRESH_REPORTS)
        self.db.execute(copy_rows)
        self.db.execute(sql.FRESH_SINGLE_ROW_REPORTS)
        split = pd.read_sql_query(sql.FRESH_SPLIT_ROWS, self.db)
        if not split.empty:
            reports = project_reports(with_dates(split))
            reports["report_date"] = [d.isoformat() for d in reports["report_date"]]
            reports["net_land_date"] = [d.isoformat() if isinstance(d, dt.date) else None
                                        for d in reports["net_land_date"]]
            self.db.executemany(sql.INSERT_FRESH_REPORT,
                                reports[list(sql.REPORT_COLUMNS)].astype(object).to_numpy().tolist())
        self.db.execute(sql.INSERT_PROJECT_REPORTS, {"rise": RISE})
        self.db.execute(sql.CLEAR_FRESH_ROWS)
        self.db.execute(sql.CLEAR_FRESH_REPORTS)

    def _find_problem_runs(self, choose_starts: str) -> None:
        """problem_runs afresh for the projects `choose_starts` selects (sql.TOUCHED_RUN_STARTS: each touched
        project from the report before its first touched date on, so that a new day reads two reports per
        project however long the history; sql.EVERY_RUN_START: every project from its first report)."""
        self.db.execute(sql.CREATE_TEMP_RUN_STARTS)
        self.db.execute(sql.CLEAR_RUN_STARTS)
        self.db.execute(choose_starts)
        self.db.execute(sql.SET_RUN_PREV)
        self.db.execute(sql.SET_RUN_ANCHOR)
        self.db.execute(sql.UNSET_PREV_WITHOUT_ANCHOR)
        self.db.execute(sql.DELETE_RUNS_FROM_STARTS)
        self.db.execute(sql.INSERT_RUNS_FROM_STARTS)
        self.db.execute(sql.CLEAR_RUN_STARTS)

    def _sum_steps(self, since: str) -> None:
        """daily_steps afresh from the report date `since` on (every later date's steps may have changed)."""
        self.db.execute(sql.DELETE_DAILY_STEPS_SINCE, (since,))
        self.db.execute(sql.SUM_DAILY_STEPS_SINCE, (since,))

    def project_lines(self, projects, period_start: dt.date, as_of: dt.date) -> pd.DataFrame:
        """consolidate.lines_of for these projects as of a date, each found by index in project_reports."""
        self._require_fresh()
        self.db.execute(sql.CREATE_TEMP_WANTED)
        self.db.execute(sql.CLEAR_WANTED)
        self.db.executemany(sql.INSERT_WANTED, ((p,) for p in projects))
        frame = pd.read_sql_query(sql.PROJECT_LINES, self.db,
                                  params={"as_of": as_of.isoformat(), "start": period_start.isoformat()})
        frame = with_dates(frame).set_index("project_id")
        frame["last_rise"] = [dt.date.fromisoformat(v) for v in frame["last_rise"]]
        previous = frame[["prev_acquired_mu", "prev_houses_demolished"]].dropna()
        previous.columns = ["acquired_mu", "houses_demolished"]
        baseline = frame.loc[frame["has_base"] == 1, [f"base_{k}" for k in (*FIGURE_KEYS, "net_land")]]
        baseline.columns = [*FIGURE_KEYS, "net_land"]
        return lines_of(frame, previous, baseline, frame["last_rise"], period_start, as_of)

    def milestone_firsts(self, plans, as_of: dt.date) -> tuple[dict, dict, dict]:
        """The first report dates on or before as_of that milestones were reached, looked up by key:
        `plans` (project, figure key, plan) for each figure a milestone is reached by (key net_land with
        plan None for 净地). Returns ({(project, key): date}, {(project, 地块): date it became 净地},
        {project: its 地块 first reported on or before as_of, in the order first reported}).

        A first date not known yet is found once from that project's reports (by index) and kept; the
        reports a run records or rolls back move only those of their projects (refresh_derived): a run
        costs the same however many days the store holds."""
        self._require_fresh()
        self.db.execute(sql.CREATE_TEMP_WANTED_FIRSTS)
        self.db.execute(sql.CLEAR_WANTED_FIRSTS)
        self.db.executemany(sql.INSERT_WANTED_FIRST, plans)
        self.db.execute(sql.DELETE_CHANGED_FIRSTS)
        self.db.execute(sql.INSERT_MISSING_FIRSTS)
        project = {(p, k): dt.date.fromisoformat(d)
                   for p, k, d in self.db.execute(sql.PROJECT_FIRSTS_UNTIL, (as_of.isoformat(),))}
        plot, plots = {}, {}
        for p, name, d in self.db.execute(sql.PLOT_FIRSTS_UNTIL, {"as_of": as_of.isoformat()}):
            plots.setdefault(p, []).append(name)
            if d:
                plot[(p, name)] = dt.date.fromisoformat(d)
        return project, plot, plots

    def reported_by(self, date: dt.date) -> bool:
        """Whether any project has an accepted report on or before the date."""
        self._require_fresh()
        return self.db.execute(sql.ANY_REPORT_UNTIL, (date.isoformat(),)).fetchone()[0] == 1

    def acquisition_trend(self, as_of: dt.date) -> pd.DataFrame:
        """Total cumulative acquisition (亩) on each report date, as consolidate.acquisition_trend: the
        running sum of every project's step on each date."""
        self._require_fresh()
        frame = pd.read_sql_query(sql.DAILY_STEPS_UNTIL, self.db, params=(as_of.isoformat(),))
        frame["report_date"] = [dt.date.fromisoformat(v) for v in frame["report_date"]]
        frame["acquired_mu"] = frame["acquired_mu"].cumsum().round(6)
        return frame

    def group_states(self, groups=None) -> dict[str, GroupState]:
        """Each group's latest accepted report (date and project totals) and the one before it; only
        for `groups` when given (a run with a few new files needs a few groups, not every one).

        Each group's two newest dates are found by walking its submissions newest first by index and
        stopping at the second: the cost follows the number of groups, not the length of the history."""
        self.db.execute(sql.CREATE_TEMP_CHOSEN_GROUPS)
        self.db.execute(sql.CLEAR_CHOSEN_GROUPS)
        if groups is None:
            self.db.execute(sql.CHOOSE_EVERY_GROUP)
        else:
            self.db.executemany(sql.CHOOSE_GROUP, ((g,) for g in groups))
        rows = self.db.execute(sql.GROUP_TOTALS, {"accepted": ACCEPTED}).fetchall()
        states: dict[str, GroupState] = {}
        earlier: dict[str, GroupState] = {}
        for age, group, date, project, *figures in rows:
            target = earlier if age == 2 else states
            state = target.get(group)
            if state is None:
                state = target[group] = GroupState(dt.date.fromisoformat(date), {}, earlier.get(group))
            state.figures[project] = dict(zip(FIGURE_KEYS, figures))
        return states

    def history(self, groups=None, projects=None) -> History:
        """What a submission is checked against: each group's last accepted report (group_states) and
        each project's two newest reports, whichever group sent them; only for `groups` and `projects`
        when given."""
        return History(self.group_states(groups), self.project_states(projects))

    def project_states(self, projects=None) -> dict[str, ProjectState]:
        """Each project's latest accepted report (date, group, figures with plots summed) and the one
        before it, from project_reports (by index: the cost follows the projects asked for)."""
        self._require_fresh()
        self.db.execute(sql.CREATE_TEMP_CHOSEN_PROJECTS)
        self.db.execute(sql.CLEAR_CHOSEN_PROJECTS)
        if projects is None:
            self.db.execute(sql.CHOOSE_EVERY_PROJECT)
        else:
            self.db.executemany(sql.CHOOSE_PROJECT, ((p,) for p in projects))
        earlier: dict[str, ProjectState] = {}
        states: dict[str, ProjectState] = {}
        for age, project, date, group, *figures in self.db.execute(sql.PROJECT_STATES).fetchall():
            state = ProjectState(dt.date.fromisoformat(date), dict(zip(FIGURE_KEYS, figures)), group or "")
            if age == 2:
                earlier[project] = state
            else:
                state.before = earlier.get(project)
                states[project] = state
        return states

    def last_reports(self) -> dict[str, tuple[dt.date, list[dict]]]:
        """Each group's latest accepted report: its date and its rows (plot by plot, in sheet order), the
        figures a fill-in template starts from."""
        out: dict[str, tuple[dt.date, list[dict]]] = {}
        for group, state in self.group_states().items():
            rows = self.db.execute(sql.REPORT_ROWS, (group, state.report_date.isoformat())).fetchall()
            records = [dict(zip(sql.REPORT_ROW_COLUMNS, row)) for row in rows]
            for record in records:
                if record["net_land_date"]:
                    record["net_land_date"] = dt.date.fromisoformat(record["net_land_date"][:10])
            out[group] = (state.report_date, records)
        return out

    def accepted_rows(self, until: dt.date | None = None) -> pd.DataFrame:
        """Every accepted, not superseded row, with report dates as dates."""
        if until is None:
            return with_dates(pd.read_sql_query(sql.ACCEPTED_ROWS, self.db))
        return with_dates(pd.read_sql_query(sql.ACCEPTED_ROWS_UNTIL, self.db, params=(until.isoformat(),)))

    def all_rows(self) -> pd.DataFrame:
        """Every row ever accepted, superseded ones included (for export)."""
        return with_dates(pd.read_sql_query(sql.EVERY_ROW, self.db))

    def recent_rows(self, since: dt.date, until: dt.date, limit: int) -> pd.DataFrame:
        """The newest accepted rows (superseded included) reported after `since` up to `until`, newest
        first, at most `limit` of them: the window the 历史 sheet shows.

        The rows sort by (date, group) first, so they lie in the newest (date, group) pairs, taken from
        the small submissions table until their rows fill the limit and then read by index, rather than
        sorting every row of the window (1.5 million at province size)."""
        pairs = self.db.execute(sql.RECENT_REPORTS, (REJECTED, since.isoformat(), until.isoformat())).fetchall()
        chosen, count = [], 0
        for date, group in pairs:
            if count >= limit:
                break
            chosen.append((group, date))
            count += self.db.execute(sql.COUNT_ROWS_OF_REPORT, (group, date)).fetchone()[0]
        self.db.execute(sql.CREATE_TEMP_RECENT_PAIRS)
        self.db.execute(sql.CLEAR_RECENT_PAIRS)
        self.db.executemany(sql.INSERT_RECENT_PAIR, chosen)
        return with_dates(pd.read_sql_query(sql.RECENT_ROWS, self.db, params=(limit,)))

    def submission_log(self, since: dt.date | None = None, limit: int = -1) -> pd.DataFrame:
        """File names seen with the status of their content, newest report first: those reported (or,
        without a report date, received) after `since`, at most `limit` of them (-1: all)."""
        return pd.read_sql_query(sql.SUBMISSION_LOG, self.db, params=(since.isoformat() if since else "", limit))

    def save_ranking(self, as_of: dt.date, unit_kind: str, ranking: pd.DataFrame) -> None:
        """Keep the ranking published for a date, so that later periods can show movement."""
        self.db.execute(sql.DELETE_RANKING, (as_of.isoformat(), unit_kind))
        self.db.executemany(sql.INSERT_RANKING,
                            [(as_of.isoformat(), unit_kind, unit, key, value, rank, flag, self.run_id)
                             for unit, key, value, rank, flag in rank_records(ranking)])

    def ranking_snapshot(self, as_of: dt.date, unit_kind: str) -> pd.DataFrame:
        """The ranks published for a date: one row per unit, columns {metric}_rank."""
        return wide_ranks(pd.read_sql_query(sql.RANKING_SNAPSHOT, self.db, params=(as_of.isoformat(), unit_kind)))

    def submissions_for(self, report_date: dt.date, zone: dt.tzinfo) -> pd.DataFrame:
        """Every submission stored for a report date: group_name, report_date, received_at, status, file_name.

        received_at is when the file was written into the inbox (its modification time, kept in arrivals)
        where known, as wall-clock time in `zone` (设置's), else when a run first read it (a sheet pasted into the
        master has no file time)."""
        frame = pd.read_sql_query(sql.SUBMISSIONS_OF_DATE, self.db, params=(report_date.isoformat(),))
        frame["report_date"] = report_date
        # An unreadable time is NaT: never late.
        read_at = pd.to_datetime(frame.pop("read_at"), format="ISO8601", errors="coerce")
        written = [local_time(ns / 1e9, zone) if pd.notna(ns) else None for ns in frame.pop("mtime_ns")]
        frame["received_at"] = [w if w is not None else r for w, r in zip(written, read_at)]
        frame["received_at"] = pd.to_datetime(frame["received_at"])
        return frame.sort_values("received_at", kind="stable").reset_index(drop=True)[
            ["group_name", "report_date", "received_at", "status", "file_name"]]

    def published_dates(self, unit_kind: str, before: dt.date) -> list[dt.date]:
        """The dates a ranking by this kind of unit was published, before a date."""
        dates = self.db.execute(sql.PUBLISHED_DATES, (unit_kind, before.isoformat()))
        return [dt.date.fromisoformat(d) for d, in dates]

    def lists_on(self, unit_kind: str, dates: list[dt.date]) -> pd.DataFrame:
        """The lists published on these dates: as_of (date), unit, metric, flag (one query, these dates only)."""
        frame = pd.read_sql_query(sql.LISTS_ON, self.db,
                                  params=(unit_kind, json.dumps([d.isoformat() for d in dates])))
        frame["as_of"] = [dt.date.fromisoformat(v) for v in frame["as_of"]]
        return frame

    def derived_ranking(self, as_of: dt.date, unit_kind: str, basis: str) -> pd.DataFrame | None:
        """Ranks recomputed earlier for a date no run published, if the history up to that date, the
        registry and the settings (`basis`) are still what they were computed from."""
        self._require_fresh()  # refresh_derived dropped those a recorded or rolled-back report made out of date
        frame = pd.read_sql_query(sql.DERIVED_RANKING, self.db, params=(as_of.isoformat(), unit_kind, basis))
        return None if frame.empty else wide_ranks(frame)

    def save_derived_ranking(self, as_of: dt.date, unit_kind: str, basis: str, ranking: pd.DataFrame) -> None:
        self.db.execute(sql.DELETE_DERIVED_RANKING, (as_of.isoformat(), unit_kind))
        self.db.executemany(sql.INSERT_DERIVED_RANKING, [(as_of.isoformat(), unit_kind, basis, unit, key, rank)
                                                         for unit, key, _, rank, _ in rank_records(ranking)])

    def kept_frame(self, kind: str, key: str) -> pd.DataFrame | None:
        """The frame kept under this kind if it was kept with this key (None if not, or unreadable)."""
        row = self.db.execute(sql.KEPT_FRAME, (kind, key)).fetchone()
        if row is None:
            return None
        try:
            return frame_from_json(row[0])
        except (ValueError, KeyError, TypeError):  # written by another version: read it afresh
            return None

    def kept_frame_columns(self, kind: str, key: str, names: tuple[str, ...]) -> dict[str, list | None] | None:
        """Columns of the frame kept under this kind with this key, as plain lists (None if not kept, or
        unreadable): a reader that needs a few never loads pandas."""
        row = self.db.execute(sql.KEPT_FRAME, (kind, key)).fetchone()
        if row is None:
            return None
        try:
            return json_columns(row[0], names)
        except (ValueError, KeyError, TypeError):  # written by another version: read it afresh
            return None

    def keep_frame(self, kind: str, key: str, frame: pd.DataFrame) -> None:
        self.db.execute(sql.KEEP_FRAME, (kind, key, frame_to_json(frame)))

    def kept_blob(self, kind: str, key: str) -> bytes | None:
        """The bytes kept under this kind with this key, or None."""
        row = self.db.execute(sql.KEPT_FRAME, (kind, key)).fetchone()
        return None if row is None else bytes(row[0])

    def keep_blob(self, kind: str, key: str, blob: bytes | None = None) -> None:
        """Keep bytes under this kind with this key; with no bytes, give the ones kept the new key."""
        if blob is None:
            self.db.execute(sql.REKEY_KEPT, (key, kind))
        else:
            self.db.execute(sql.KEEP_FRAME, (kind, key, sqlite3.Binary(blob)))

    def kept_text(self, kind: str) -> str | None:
        """A text kept under this kind (the master's region record), or None."""
        row = self.db.execute(sql.KEPT_FRAME, (kind, kind)).fetchone()
        return None if row is None else (row[0].decode("utf-8") if isinstance(row[0], bytes) else str(row[0]))

    def keep_text(self, kind: str, text: str) -> None:
        self.db.execute(sql.KEEP_FRAME, (kind, kind, text))

    def issues_of(self, sha256s: list[str]) -> list[Issue]:
        """The stored issues of these submissions, in order."""
        found: list[Issue] = []
        for sha in sha256s:
            row = self.db.execute(sql.SUBMISSION_ISSUES, (sha,)).fetchone()
            if row is None:
                continue
            for record in json.loads(row[0]):
                for derived in ("severity", "title", "message"):
                    record.pop(derived, None)
                found.append(Issue(**record))
        return found

    # -- the 报送平台: uploads and access codes --------------------------------------------------------

    def record_upload(self, file_name: str, client_name: str, group: str, uploaded_at: dt.datetime, address: str,
                      sha256: str, size: int, status: str, report_date: dt.date | None, outcome: dict) -> int:
        """Keep an upload the platform stored in the inbox; returns its id (the caller commits)."""
        cur = self.db.execute(sql.INSERT_UPLOAD, (
            file_name, client_name, group, uploaded_at.isoformat(timespec="seconds"), address, sha256, size, status,
            report_date.isoformat() if report_date else None, json.dumps(outcome, ensure_ascii=False)))
        return cur.lastrowid

    def uploads(self, group: str | None = None, since: dt.date | None = None, limit: int = -1) -> list[dict]:
        """Uploads, newest first: a group's (or everyone's) since a date; `decided` is what a run made of the
        content since (None while it waits), `outcome` the verdict answered at upload."""
        start = since.isoformat() if since else ""
        rows = (self.db.execute(sql.UPLOADS_OF_GROUP, (group, start, limit)) if group is not None
                else self.db.execute(sql.EVERY_UPLOAD, (start, limit))).fetchall()
        return [self._upload(row) for row in rows]

    def upload(self, upload_id: int) -> dict | None:
        row = self.db.execute(sql.UPLOAD_BY_ID, (upload_id,)).fetchone()
        return None if row is None else self._upload(row)

    def upload_of_file(self, file_name: str) -> dict | None:
        row = self.db.execute(sql.UPLOAD_BY_FILE, (file_name,)).fetchone()
        return None if row is None else self._upload(row)

    @staticmethod
    def _upload(row) -> dict:
        record = dict(zip(sql.UPLOAD_COLUMNS, row))
        record["outcome"] = json.loads(record["outcome"])
        return record

    def uploads_for(self, report_date: dt.date) -> pd.DataFrame:
        """The uploads that count for a report date, as submissions_for has them (received_at: upload time;
        status: a run's word for the content, else the verdict at upload)."""
        frame = pd.read_sql_query(sql.UPLOADS_OF_DATE, self.db, params=(report_date.isoformat(),))
        frame["report_date"] = report_date
        frame["received_at"] = pd.to_datetime(frame.pop("uploaded_at"), format="ISO8601", errors="coerce")
        return frame[["group_name", "report_date", "received_at", "status", "file_name"]]

    def code_salt(self, new: str) -> str:
        """The salt every access code is hashed with: `new` kept the first time (the caller commits)."""
        self.db.execute(sql.SET_CODE_SALT, (new,))
        return self.db.execute(sql.CODE_SALT).fetchone()[0]

    def stored_code_salt(self) -> str | None:
        row = self.db.execute(sql.CODE_SALT).fetchone()
        return row[0] if row else None

    def set_access_code(self, holder: str, code_hash: str, issued_at: dt.datetime) -> None:
        self.db.execute(sql.SET_ACCESS_CODE, (holder, code_hash, issued_at.isoformat(timespec="seconds")))

    def access_codes(self) -> dict[str, tuple[str, str]]:
        """holder ('' for HQ's 管理码, else the work group) -> (code hash, issued at)."""
        return {holder: (code_hash, issued) for holder, code_hash, issued in self.db.execute(sql.ACCESS_CODES)}

    def holder_of(self, code_hash: str) -> str | None:
        row = self.db.execute(sql.HOLDER_OF_CODE, (code_hash,)).fetchone()
        return None if row is None else row[0]

    def status_of_name(self, file_name: str) -> str | None:
        """What a run decided about the content first seen under this file name, or None (not read yet)."""
        row = self.db.execute(sql.STATUS_OF_NAME, (file_name,)).fetchone()
        return None if row is None else row[0]
