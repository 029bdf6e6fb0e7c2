"""History and the submission log in SQLite beside the master: every accepted row, nothing deleted."""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from pathlib import Path

import pandas as pd

from .issues import Issue
from .schema import FIGURE_KEYS, METRICS
from .consolidate import RISE, lines_of, project_reports
from .validate import ROW_COLUMNS, Checked, GroupState
from .workbook.master import MasterUnusable

ACCEPTED, REJECTED, SUPERSEDED = "已接收", "已退回", "已替代"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS submissions (
    sha256 TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    received_at TEXT NOT NULL,
    group_name TEXT,
    report_date TEXT,
    reporter TEXT,
    status TEXT NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    row_count INTEGER NOT NULL,
    issues TEXT NOT NULL,
    run_id INTEGER,
    superseded_run INTEGER
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    as_of TEXT NOT NULL,
    command TEXT NOT NULL,
    backup TEXT,
    rolled_back INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS file_names (
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    run_id INTEGER,
    PRIMARY KEY (sha256, file_name)
);
CREATE TABLE IF NOT EXISTS ledger_rows (
    sha256 TEXT NOT NULL,
    group_name TEXT NOT NULL,
    report_date TEXT NOT NULL,
    project_id TEXT NOT NULL,
    plot TEXT NOT NULL,
    {", ".join(f"{k} REAL NOT NULL" for k in FIGURE_KEYS)},
    net_land TEXT NOT NULL,
    net_land_date TEXT,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    sheet_row INTEGER NOT NULL,
    superseded INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER,
    superseded_run INTEGER
);
CREATE TABLE IF NOT EXISTS ranking_snapshots (
    as_of TEXT NOT NULL,
    unit_kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    rank REAL,
    flag TEXT NOT NULL,
    run_id INTEGER,
    PRIMARY KEY (as_of, unit_kind, unit, metric)
);
-- Ranks recomputed for a date no run published (the start of a period), kept until the history up to
-- that date changes; basis names the registry and settings they were computed with.
CREATE TABLE IF NOT EXISTS derived_ranks (
    as_of TEXT NOT NULL,
    unit_kind TEXT NOT NULL,
    basis TEXT NOT NULL,
    unit TEXT NOT NULL,
    metric TEXT NOT NULL,
    rank REAL,
    PRIMARY KEY (as_of, unit_kind, unit, metric)
);
-- Each report date's acquired steps summed over projects (the 图表 trend), kept in step with
-- project_reports from the earliest date a refresh touched.
CREATE TABLE IF NOT EXISTS daily_steps (
    report_date TEXT PRIMARY KEY,
    acquired_step REAL NOT NULL
) WITHOUT ROWID;
-- Frames a run can reuse while what they were read from is unchanged (the registry, by the digest
-- of its sheet): one per kind, replaced when its key changes.
CREATE TABLE IF NOT EXISTS kept_frames (
    kind TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    frame BLOB NOT NULL
);
-- When each inbox file was written (its modification time): of two reports of one group for one day,
-- the later arrival wins, whichever run reads it.
CREATE TABLE IF NOT EXISTS arrivals (
    sha256 TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ledger_rows_key ON ledger_rows (group_name, report_date, project_id, plot);
CREATE INDEX IF NOT EXISTS ledger_rows_sha ON ledger_rows (sha256);
CREATE INDEX IF NOT EXISTS ledger_rows_project ON ledger_rows (project_id, report_date);
-- One row per project and report date (plot rows summed), kept in step with ledger_rows as submissions
-- are recorded, so that a run reads per-project lines by index instead of loading the whole history.
-- acquired_step: acquired_mu minus the project's report before; rose: any figure above that report.
CREATE TABLE IF NOT EXISTS project_reports (
    project_id TEXT NOT NULL,
    report_date TEXT NOT NULL,
    {", ".join(f"{k} REAL NOT NULL" for k in FIGURE_KEYS)},
    net_land TEXT NOT NULL,
    net_land_date TEXT,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    acquired_step REAL NOT NULL DEFAULT 0,
    rose INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, report_date)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS project_rises ON project_reports (project_id, report_date) WHERE rose=1;
CREATE INDEX IF NOT EXISTS report_steps ON project_reports (report_date, acquired_step);
CREATE INDEX IF NOT EXISTS submissions_group ON submissions (group_name, report_date, status);
CREATE INDEX IF NOT EXISTS submissions_date ON submissions (report_date);
"""
# By name: a store from before a figure existed has that column last (_add_new_figures).
_LEDGER_ROW_COLUMNS = ", ".join(("sha256", "group_name", "report_date", "project_id", "plot", *FIGURE_KEYS, "net_land",
                                 "net_land_date", "problems", "next_steps", "sheet_row", "superseded", "run_id",
                                 "superseded_run"))
_REPORT_COLUMNS = ("project_id", "report_date", *FIGURE_KEYS, "net_land", "net_land_date", "problems", "next_steps")
_LINE_FIGURES = ", ".join(f"l.{k}" for k in FIGURE_KEYS)
_BASE_FIGURES = ", ".join(f"b.{k} AS base_{k}" for k in (*FIGURE_KEYS, "net_land"))


# The store's layout; _migrate brings every earlier one up to it.
SCHEMA_VERSION = 1


class Store:
    """The SQLite history store; changes stay in one transaction until commit()."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: a day's rows land all over a long history
        self.db.executescript(_SCHEMA)
        self.run_id: int | None = None
        self._stale: set[tuple[str, str]] = set()  # (project, report date) whose project_reports row is due
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store written by an earlier version to SCHEMA_VERSION, one step per version, and say
        so in PRAGMA user_version (the first released store, version 0, is tests/data/v1-demo's)."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise MasterUnusable(f"历史库 {self.path.name} 由更新版本的 xladdin 写成（版本 {version}）。"
                                 "请升级 xladdin 后再运行。")
        if version < 1:  # 累计拆除地上附着物: 0 in every earlier row
            self._add_new_figures()
        if version < SCHEMA_VERSION:
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.commit()
        self._bring_up_to_date()  # derived tables missing (an older store, or rows put in by hand): rebuilt

    def _add_new_figures(self) -> None:
        """Columns for figures newer than the store (累计拆除地上附着物): 0 in every earlier row, as the
        ledgers of that time lacked them."""
        for table in ("ledger_rows", "project_reports"):
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for key in FIGURE_KEYS:
                if key not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {key} REAL NOT NULL DEFAULT 0")
        self.db.commit()

    def _bring_up_to_date(self) -> None:
        """Fill what a store written by an older xladdin lacks: project_reports, then daily_steps."""
        def empty(table: str) -> bool:
            return not self.db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]

        if not empty("project_reports"):
            if empty("daily_steps"):
                with self.db:
                    self._sum_steps("''")
        elif self.db.execute("SELECT EXISTS (SELECT 1 FROM ledger_rows WHERE superseded=0)").fetchone()[0]:
            with self.db:
                self.rebuild_reports()

    def begin_run(self, as_of: dt.date, command: str) -> int:
        """Open a run: every change it makes carries its id, so that it can be rolled back."""
        cur = self.db.execute("INSERT INTO runs (started_at, as_of, command) VALUES (?,?,?)",
                              (dt.datetime.now().isoformat(timespec="seconds"), as_of.isoformat(), command))
        self.run_id = cur.lastrowid
        return self.run_id

    def set_backup(self, backup: Path | str) -> None:
        self.db.execute("UPDATE runs SET backup=? WHERE run_id=?", (str(backup), self.run_id))

    def last_run(self) -> dict | None:
        """The newest run that has not been rolled back."""
        row = self.db.execute("SELECT run_id, started_at, as_of, command, backup FROM runs WHERE rolled_back=0"
                              " ORDER BY run_id DESC LIMIT 1").fetchone()
        return None if row is None else dict(zip(("run_id", "started_at", "as_of", "command", "backup"), row))

    def submissions_of_run(self, run_id: int) -> list[tuple[str, str]]:
        """(sha256, file name) of the submissions a run stored."""
        return self.db.execute("SELECT sha256, file_name FROM submissions WHERE run_id=?", (run_id,)).fetchall()

    def roll_back(self, run_id: int) -> int:
        """Undo everything a run stored; returns how many submissions it forgets."""
        forgotten = self.db.execute("SELECT COUNT(*) FROM submissions WHERE run_id=?", (run_id,)).fetchone()[0]
        touched = self.db.execute("SELECT DISTINCT report_date, project_id FROM ledger_rows WHERE run_id=? OR "
                                  "superseded_run=?", (run_id, run_id)).fetchall()
        self.db.execute("DELETE FROM ledger_rows WHERE run_id=?", (run_id,))
        self.db.execute("UPDATE ledger_rows SET superseded=0, superseded_run=NULL WHERE superseded_run=?", (run_id,))
        self.db.execute("DELETE FROM submissions WHERE run_id=?", (run_id,))
        self.db.execute("UPDATE submissions SET status=?, superseded_run=NULL WHERE superseded_run=?",
                        (ACCEPTED, run_id))
        self.db.execute("DELETE FROM file_names WHERE run_id=?", (run_id,))
        self.db.execute("DELETE FROM ranking_snapshots WHERE run_id=?", (run_id,))
        self.db.execute("UPDATE runs SET rolled_back=1 WHERE run_id=?", (run_id,))
        self._stale.update((project, date) for date, project in touched)
        self.refresh_derived()
        return forgotten

    def close(self) -> None:
        self.db.close()

    def commit(self) -> None:
        self.refresh_derived()
        self.db.commit()

    def known(self, sha256: str) -> dict | None:
        """The stored record of a file with this content, or None."""
        cur = self.db.execute("SELECT file_name, status, group_name, report_date FROM submissions WHERE sha256=?",
                              (sha256,))
        row = cur.fetchone()
        return None if row is None else dict(zip(("file_name", "status", "group_name", "report_date"), row))

    def accepted_for(self, group: str, report_date) -> str | None:
        """The file name of the group's accepted submission for that date, if any."""
        row = self.db.execute("SELECT file_name FROM submissions WHERE group_name=? AND report_date=? AND status=?",
                              (group, report_date.isoformat(), ACCEPTED)).fetchone()
        return row[0] if row else None

    def accepted_arrival(self, group: str, report_date) -> tuple[str, int | None] | None:
        """(file name, modification time) of the group's accepted submission for that date, if any."""
        row = self.db.execute("SELECT s.file_name, a.mtime_ns FROM submissions s LEFT JOIN arrivals a USING (sha256)"
                              " WHERE s.group_name=? AND s.report_date=? AND s.status=?",
                              (group, report_date.isoformat(), ACCEPTED)).fetchone()
        return None if row is None else (row[0], row[1])

    def note_arrival(self, sha256: str, mtime_ns: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO arrivals VALUES (?,?)", (sha256, mtime_ns))

    def note_file_name(self, sha256: str, file_name: str, seen_at: dt.datetime) -> None:
        self.db.execute("INSERT OR IGNORE INTO file_names VALUES (?,?,?,?)",
                        (sha256, file_name, seen_at.isoformat(timespec="seconds"), self.run_id))

    def record(self, checked: Checked, sha256: str, received_at: dt.datetime, older: bool = False) -> None:
        """Store a checked submission; an accepted one supersedes the group's earlier one for that date,
        unless it is `older` than the one accepted (a late copy of an original): then it is kept superseded."""
        status = (SUPERSEDED if older else ACCEPTED) if checked.accepted else REJECTED
        date = checked.report_date.isoformat() if checked.report_date else None
        if checked.accepted and not older:
            self.db.execute(
                "UPDATE submissions SET status=?, superseded_run=? WHERE group_name=? AND report_date=? AND status=?",
                (SUPERSEDED, self.run_id, checked.group, date, ACCEPTED))
            self.db.execute("UPDATE ledger_rows SET superseded=1, superseded_run=? WHERE group_name=? AND "
                            "report_date=? AND superseded=0", (self.run_id, checked.group, date))
        if checked.accepted:
            columns = [checked.rows[c].tolist() for c in ROW_COLUMNS]  # column by column: no frame per file
            rows = [
                (sha256, checked.group, date, project, plot, *map(float, values[:len(FIGURE_KEYS)]), net_land,
                 net_date.isoformat() if net_date else None, problems, next_steps, int(row), self.run_id)
                for project, plot, *values, net_land, net_date, problems, next_steps, row in zip(*columns)
            ]
            marks = ",".join("?" * (len(FIGURE_KEYS) + 10))
            self.db.executemany(f"INSERT INTO ledger_rows ({_LEDGER_ROW_COLUMNS})"
                                f" VALUES ({marks}, {int(older)}, ?, NULL)", rows)
            projects = self.db.execute("SELECT DISTINCT project_id FROM ledger_rows WHERE group_name=? AND "
                                       "report_date=?", (checked.group, date)).fetchall()
            self._stale.update((p, date) for p, in projects)
        self.db.execute(
            "INSERT OR REPLACE INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,NULL)",
            (sha256, checked.file, received_at.isoformat(timespec="seconds"), checked.group or None, date,
             checked.reporter, status, checked.errors, checked.warnings, len(checked.rows),
             json.dumps([i.to_dict() for i in checked.issues], ensure_ascii=False), self.run_id))
        self.note_file_name(sha256, checked.file, received_at)

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
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS touched (project_id TEXT, report_date TEXT,"
                        " PRIMARY KEY (project_id, report_date))")
        self.db.execute("DELETE FROM touched")
        self.db.executemany("INSERT INTO touched VALUES (?,?)", sorted(self._stale))
        self._stale.clear()
        self.db.execute("DELETE FROM derived_ranks WHERE as_of>=(SELECT MIN(report_date) FROM touched)")
        self.db.execute("DELETE FROM project_reports WHERE (project_id, report_date) IN (SELECT * FROM touched)")
        # CROSS JOIN keeps the small temp table outside: without statistics SQLite would scan every row.
        self._compute_reports("SELECT l.* FROM touched t CROSS JOIN ledger_rows l ON l.project_id=t.project_id AND"
                              " l.report_date=t.report_date WHERE l.superseded=0")
        self._derive_steps("SELECT t.project_id, MIN(t.report_date) AS since FROM touched t WHERE EXISTS (SELECT 1"
                           " FROM project_reports r WHERE r.project_id=t.project_id AND r.report_date>t.report_date)"
                           " GROUP BY t.project_id")
        self._sum_steps("(SELECT MIN(report_date) FROM touched)")

    def rebuild_reports(self) -> None:
        """project_reports afresh from ledger_rows (for a store written before it existed)."""
        self.db.execute("DELETE FROM project_reports")
        self.db.execute("DELETE FROM derived_ranks")
        self._compute_reports("SELECT * FROM ledger_rows WHERE superseded=0")
        self._derive_steps("SELECT DISTINCT project_id, '' AS since FROM project_reports")
        self._sum_steps("''")

    def _compute_reports(self, rows: str) -> None:
        """Insert the project reports of the ledger rows `rows` selects: a project reported in one row
        on a date is that row (in SQL); one reported plot by plot is summed and its text joined by
        consolidate.project_reports. Each report's step is taken against the report before it."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS fresh_rows AS SELECT * FROM ledger_rows WHERE 0")
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS fresh_reports AS SELECT"
                        f" {', '.join(_REPORT_COLUMNS)} FROM project_reports WHERE 0")
        self.db.execute("DELETE FROM fresh_rows")
        self.db.execute("DELETE FROM fresh_reports")
        self.db.execute(f"INSERT INTO fresh_rows {rows}")
        single = ", ".join(f"MAX({c})" for c in _REPORT_COLUMNS[2:])
        self.db.execute(f"INSERT INTO fresh_reports SELECT project_id, report_date, {single} FROM fresh_rows"
                        " GROUP BY project_id, report_date HAVING COUNT(*)=1")
        split = pd.read_sql_query(
            "SELECT f.* FROM fresh_rows f JOIN (SELECT project_id, report_date FROM fresh_rows GROUP BY project_id,"
            " report_date HAVING COUNT(*)>1) USING (project_id, report_date)"
            " ORDER BY f.report_date, f.group_name, f.sheet_row", self.db)
        if not split.empty:
            reports = project_reports(_with_dates(split))
            reports["report_date"] = [d.isoformat() for d in reports["report_date"]]
            reports["net_land_date"] = [d.isoformat() if isinstance(d, dt.date) else None
                                        for d in reports["net_land_date"]]
            self.db.executemany(f"INSERT INTO fresh_reports VALUES ({','.join('?' * len(_REPORT_COLUMNS))})",
                                reports[list(_REPORT_COLUMNS)].astype(object).to_numpy().tolist())
        figures = [f"n.{k} - COALESCE(p.{k}, 0)" for k in FIGURE_KEYS]
        rose = " OR ".join(f"{f} > {RISE}" for f in figures)
        self.db.execute(
            f"INSERT INTO project_reports ({', '.join(_REPORT_COLUMNS)}, acquired_step, rose)"
            f" SELECT {', '.join(f'n.{c}' for c in _REPORT_COLUMNS)}, n.acquired_mu - COALESCE(p.acquired_mu, 0),"
            f" ({rose}) FROM fresh_reports n LEFT JOIN project_reports p ON p.project_id=n.project_id AND"
            f" p.report_date=(SELECT MAX(q.report_date) FROM project_reports q WHERE q.project_id=n.project_id"
            f" AND q.report_date<n.report_date) ORDER BY n.project_id, n.report_date")
        self.db.execute("DELETE FROM fresh_rows")
        self.db.execute("DELETE FROM fresh_reports")

    def _sum_steps(self, since: str) -> None:
        """daily_steps afresh from the date `since` gives on (every later date's steps may have changed)."""
        self.db.execute(f"DELETE FROM daily_steps WHERE report_date>={since}")
        self.db.execute(f"INSERT INTO daily_steps SELECT report_date, SUM(acquired_step) FROM project_reports"
                        f" WHERE report_date>={since} GROUP BY report_date")

    def _derive_steps(self, starts: str) -> None:
        """acquired_step and rose of the reports of the projects `starts` selects, from the date it gives
        each on, each against the project's report before it (found by key: a day's reports cost the same
        however long the history)."""
        figures = ", ".join(f"r.{k} - COALESCE(p.{k}, 0) AS {k}" for k in FIGURE_KEYS)
        rose = " OR ".join(f"d.{k} > {RISE}" for k in FIGURE_KEYS)
        self.db.execute(
            f"WITH m AS MATERIALIZED ({starts}),"
            f" s AS MATERIALIZED (SELECT r.project_id, r.report_date, (SELECT MAX(q.report_date) FROM"
            f" project_reports q WHERE q.project_id=r.project_id AND q.report_date<r.report_date) AS prev"
            f" FROM m JOIN project_reports r ON r.project_id=m.project_id AND r.report_date>=m.since),"
            f" d AS MATERIALIZED (SELECT s.project_id, s.report_date, {figures} FROM s JOIN project_reports r"
            f" ON r.project_id=s.project_id AND r.report_date=s.report_date LEFT JOIN project_reports p"
            f" ON p.project_id=s.project_id AND p.report_date=s.prev)"
            f" UPDATE project_reports SET acquired_step=d.acquired_mu, rose=({rose}) FROM d"
            f" WHERE project_reports.project_id=d.project_id AND project_reports.report_date=d.report_date")

    def project_lines(self, projects, period_start: dt.date, as_of: dt.date) -> pd.DataFrame:
        """consolidate.lines_of for these projects as of a date, each found by index in project_reports."""
        self._require_fresh()
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (project_id TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM wanted")
        self.db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((p,) for p in projects))
        latest = "SELECT MAX(report_date) FROM project_reports r WHERE r.project_id=w.project_id AND r.report_date"
        frame = pd.read_sql_query(
            f"WITH d AS MATERIALIZED (SELECT w.project_id, ({latest}<=:as_of) AS latest, ({latest}<=:start) AS base,"
            f" ({latest}<=:as_of AND r.rose=1) AS risen, (SELECT MIN(report_date) FROM project_reports r"
            f" WHERE r.project_id=w.project_id) AS first FROM wanted w),"
            f" e AS MATERIALIZED (SELECT d.*, (SELECT MAX(report_date) FROM project_reports r WHERE r.project_id=d.project_id"
            f" AND r.report_date<:as_of) AS prev FROM d WHERE d.latest IS NOT NULL)"
            f" SELECT e.project_id, e.latest AS report_date, COALESCE(e.risen, e.first) AS last_rise, {_LINE_FIGURES},"
            f" l.net_land, l.net_land_date, l.problems, l.next_steps, p.acquired_mu AS prev_acquired_mu,"
            f" p.houses_demolished AS prev_houses_demolished, e.base IS NOT NULL AS has_base, {_BASE_FIGURES}"
            f" FROM e JOIN project_reports l ON l.project_id=e.project_id AND l.report_date=e.latest"
            f" LEFT JOIN project_reports p ON p.project_id=e.project_id AND p.report_date=e.prev"
            f" LEFT JOIN project_reports b ON b.project_id=e.project_id AND b.report_date=e.base",
            self.db, params={"as_of": as_of.isoformat(), "start": period_start.isoformat()})
        frame = _with_dates(frame).set_index("project_id")
        frame["last_rise"] = [dt.date.fromisoformat(v) for v in frame["last_rise"]]
        previous = frame[["prev_acquired_mu", "prev_houses_demolished"]].dropna()
        previous.columns = ["acquired_mu", "houses_demolished"]
        baseline = frame.loc[frame["has_base"] == 1, [f"base_{k}" for k in (*FIGURE_KEYS, "net_land")]]
        baseline.columns = [*FIGURE_KEYS, "net_land"]
        return lines_of(frame, previous, baseline, frame["last_rise"], period_start, as_of)

    def reported_by(self, date: dt.date) -> bool:
        """Whether any project has an accepted report on or before the date."""
        self._require_fresh()
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM project_reports WHERE report_date<=?)",
                               (date.isoformat(),)).fetchone()[0] == 1

    def acquisition_trend(self, as_of: dt.date) -> pd.DataFrame:
        """Total cumulative acquisition (亩) on each report date, as consolidate.acquisition_trend: the
        running sum of every project's step on each date."""
        self._require_fresh()
        frame = pd.read_sql_query("SELECT report_date, acquired_step AS acquired_mu FROM daily_steps"
                                  " WHERE report_date<=? ORDER BY report_date", self.db, params=(as_of.isoformat(),))
        frame["report_date"] = [dt.date.fromisoformat(v) for v in frame["report_date"]]
        frame["acquired_mu"] = frame["acquired_mu"].cumsum().round(6)
        return frame

    def group_states(self, groups=None) -> dict[str, GroupState]:
        """Each group's latest accepted report (date and project totals) and the one before it; only
        for `groups` when given (a run with a few new files needs a few groups, not every one).

        Each group's two newest dates are found by walking its submissions newest first by index and
        stopping at the second: the cost follows the number of groups, not the length of the history."""
        sums = ", ".join(f"SUM(r.{k})" for k in FIGURE_KEYS)
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS chosen_groups (group_name TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM chosen_groups")
        if groups is None:
            self.db.execute("INSERT INTO chosen_groups SELECT DISTINCT group_name FROM submissions"
                            " WHERE group_name IS NOT NULL")
        else:
            self.db.executemany("INSERT OR IGNORE INTO chosen_groups VALUES (?)", ((g,) for g in groups))
        newest = (f"SELECT s.report_date FROM submissions s WHERE s.group_name=c.group_name AND s.status='{ACCEPTED}'"
                  " AND EXISTS (SELECT 1 FROM ledger_rows r WHERE r.group_name=s.group_name AND"
                  " r.report_date=s.report_date AND r.superseded=0)")
        rows = self.db.execute(
            f"WITH latest AS MATERIALIZED (SELECT c.group_name, ({newest} ORDER BY s.report_date DESC LIMIT 1)"
            f" AS report_date FROM chosen_groups c),"
            f" dates AS MATERIALIZED (SELECT group_name, report_date, 1 AS age FROM latest WHERE report_date IS NOT NULL"
            f" UNION ALL SELECT c.group_name, ({newest} AND s.report_date<c.report_date ORDER BY s.report_date DESC"
            f" LIMIT 1), 2 FROM latest c WHERE c.report_date IS NOT NULL)"
            f" SELECT d.age, r.group_name, r.report_date, r.project_id, {sums} FROM dates d CROSS JOIN ledger_rows r"
            f" ON r.group_name=d.group_name AND r.report_date=d.report_date WHERE r.superseded=0"
            f" GROUP BY d.age, r.group_name, r.report_date, r.project_id ORDER BY d.age DESC").fetchall()
        states: dict[str, GroupState] = {}
        earlier: dict[str, GroupState] = {}
        for age, group, date, project, *figures in rows:
            target = earlier if age == 2 else states
            state = target.get(group)
            if state is None:
                state = target[group] = GroupState(dt.date.fromisoformat(date), {}, earlier.get(group))
            state.figures[project] = dict(zip(FIGURE_KEYS, figures))
        return states

    def last_reports(self) -> dict[str, tuple[dt.date, list[dict]]]:
        """Each group's latest accepted report: its date and its rows (plot by plot, in sheet order), the
        figures a fill-in template starts from."""
        out: dict[str, tuple[dt.date, list[dict]]] = {}
        columns = ("project_id", "plot", *FIGURE_KEYS, "net_land", "net_land_date", "problems", "next_steps")
        for group, state in self.group_states().items():
            rows = self.db.execute(
                f"SELECT {', '.join(columns)} FROM ledger_rows WHERE group_name=? AND report_date=? AND superseded=0"
                " ORDER BY sheet_row", (group, state.report_date.isoformat())).fetchall()
            records = [dict(zip(columns, row)) for row in rows]
            for record in records:
                if record["net_land_date"]:
                    record["net_land_date"] = dt.date.fromisoformat(record["net_land_date"][:10])
            out[group] = (state.report_date, records)
        return out

    def accepted_rows(self, until: dt.date | None = None) -> pd.DataFrame:
        """Every accepted, not superseded row, with report dates as dates."""
        query = "SELECT * FROM ledger_rows WHERE superseded=0"
        params: tuple = ()
        if until is not None:
            query += " AND report_date<=?"
            params = (until.isoformat(),)
        frame = pd.read_sql_query(query + " ORDER BY report_date, group_name, sheet_row", self.db, params=params)
        return _with_dates(frame)

    def all_rows(self) -> pd.DataFrame:
        """Every row ever accepted, superseded ones included (for export)."""
        frame = pd.read_sql_query(
            "SELECT r.*, s.file_name FROM ledger_rows r JOIN submissions s USING (sha256)"
            " ORDER BY r.report_date, r.group_name, r.sheet_row", self.db)
        return _with_dates(frame)

    def recent_rows(self, since: dt.date, until: dt.date, limit: int) -> pd.DataFrame:
        """The newest accepted rows (superseded included) reported after `since` up to `until`, newest
        first, at most `limit` of them: the window the 历史 sheet shows.

        The rows sort by (date, group) first, so they lie in the newest (date, group) pairs, taken from
        the small submissions table until their rows fill the limit and then read by index, rather than
        sorting every row of the window (1.5 million at province size)."""
        pairs = self.db.execute(
            "SELECT DISTINCT report_date, group_name FROM submissions WHERE status!=? AND report_date>? AND"
            " report_date<=? AND group_name IS NOT NULL ORDER BY report_date DESC, group_name",
            (REJECTED, since.isoformat(), until.isoformat())).fetchall()
        chosen, count = [], 0
        for date, group in pairs:
            if count >= limit:
                break
            chosen.append((group, date))
            count += self.db.execute("SELECT COUNT(*) FROM ledger_rows WHERE group_name=? AND report_date=?",
                                     (group, date)).fetchone()[0]
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS recent_pairs (group_name TEXT, report_date TEXT,"
                        " PRIMARY KEY (group_name, report_date))")
        self.db.execute("DELETE FROM recent_pairs")
        self.db.executemany("INSERT INTO recent_pairs VALUES (?,?)", chosen)
        frame = pd.read_sql_query(
            "SELECT r.*, s.file_name FROM recent_pairs c CROSS JOIN ledger_rows r ON r.group_name=c.group_name AND"
            " r.report_date=c.report_date JOIN submissions s USING (sha256)"
            " ORDER BY r.report_date DESC, r.group_name, r.sheet_row LIMIT ?", self.db, params=(limit,))
        return _with_dates(frame)

    def submission_log(self, since: dt.date | None = None, limit: int = -1) -> pd.DataFrame:
        """File names seen with the status of their content, newest report first: those reported (or,
        without a report date, received) after `since`, at most `limit` of them (-1: all)."""
        day = "COALESCE(s.report_date, substr(f.seen_at, 1, 10))"
        return pd.read_sql_query(
            f"SELECT f.file_name AS seen_name, f.seen_at, s.* FROM file_names f JOIN submissions s USING (sha256)"
            f" WHERE {day}>? ORDER BY {day} DESC, s.group_name, f.seen_at DESC, f.file_name LIMIT ?", self.db,
            params=(since.isoformat() if since else "", limit))

    def save_ranking(self, as_of: dt.date, unit_kind: str, ranking: pd.DataFrame) -> None:
        """Keep the ranking published for a date, so that later periods can show movement."""
        self.db.execute("DELETE FROM ranking_snapshots WHERE as_of=? AND unit_kind=?", (as_of.isoformat(), unit_kind))
        self.db.executemany("INSERT INTO ranking_snapshots VALUES (?,?,?,?,?,?,?,?)",
                            [(as_of.isoformat(), unit_kind, unit, key, value, rank, flag, self.run_id)
                             for unit, key, value, rank, flag in _rank_records(ranking)])

    def ranking_snapshot(self, as_of: dt.date, unit_kind: str) -> pd.DataFrame:
        """The ranks published for a date: one row per unit, columns {metric}_rank."""
        return _wide_ranks(pd.read_sql_query(
            "SELECT unit, metric, rank FROM ranking_snapshots WHERE as_of=? AND unit_kind=?", self.db,
            params=(as_of.isoformat(), unit_kind)))

    def submissions_for(self, report_date: dt.date) -> pd.DataFrame:
        """Every submission stored for a report date: group_name, report_date, received_at, status, file_name.

        received_at is when the file was written into the inbox (its modification time, kept in arrivals)
        where known, else when a run first read it (a sheet pasted into the master has no file time)."""
        frame = pd.read_sql_query("SELECT s.group_name, s.report_date, s.received_at AS read_at, a.mtime_ns, s.status,"
                                  " s.file_name FROM submissions s LEFT JOIN arrivals a USING (sha256)"
                                  " WHERE s.report_date=?", self.db, params=(report_date.isoformat(),))
        frame["report_date"] = report_date
        # An unreadable time is NaT: never late.
        read_at = pd.to_datetime(frame.pop("read_at"), format="ISO8601", errors="coerce")
        written = [dt.datetime.fromtimestamp(ns / 1e9) if pd.notna(ns) else None for ns in frame.pop("mtime_ns")]
        frame["received_at"] = [w if w is not None else r for w, r in zip(written, read_at)]
        frame["received_at"] = pd.to_datetime(frame["received_at"])
        return frame.sort_values("received_at", kind="stable").reset_index(drop=True)[
            ["group_name", "report_date", "received_at", "status", "file_name"]]

    def published_dates(self, unit_kind: str, before: dt.date) -> list[dt.date]:
        """The dates a ranking by this kind of unit was published, before a date."""
        return [dt.date.fromisoformat(d) for d, in self.db.execute(
            "SELECT DISTINCT as_of FROM ranking_snapshots WHERE unit_kind=? AND as_of<?",
            (unit_kind, before.isoformat()))]

    def lists_on(self, unit_kind: str, dates: list[dt.date]) -> pd.DataFrame:
        """The lists published on these dates: as_of (date), unit, metric, flag (one query, these dates only)."""
        marks = ",".join("?" * len(dates))
        frame = pd.read_sql_query(f"SELECT as_of, unit, metric, flag FROM ranking_snapshots WHERE unit_kind=?"
                                  f" AND as_of IN ({marks or 'NULL'})", self.db,
                                  params=(unit_kind, *(d.isoformat() for d in dates)))
        frame["as_of"] = [dt.date.fromisoformat(v) for v in frame["as_of"]]
        return frame

    def derived_ranking(self, as_of: dt.date, unit_kind: str, basis: str) -> pd.DataFrame | None:
        """Ranks recomputed earlier for a date no run published, if the history up to that date, the
        registry and the settings (`basis`) are still what they were computed from."""
        self._require_fresh()  # refresh_derived dropped those a recorded or rolled-back report made out of date
        frame = pd.read_sql_query("SELECT unit, metric, rank FROM derived_ranks WHERE as_of=? AND unit_kind=?"
                                  " AND basis=?", self.db, params=(as_of.isoformat(), unit_kind, basis))
        return None if frame.empty else _wide_ranks(frame)

    def save_derived_ranking(self, as_of: dt.date, unit_kind: str, basis: str, ranking: pd.DataFrame) -> None:
        self.db.execute("DELETE FROM derived_ranks WHERE as_of=? AND unit_kind=?", (as_of.isoformat(), unit_kind))
        self.db.executemany("INSERT INTO derived_ranks VALUES (?,?,?,?,?,?)",
                            [(as_of.isoformat(), unit_kind, basis, unit, key, rank)
                             for unit, key, _, rank, _ in _rank_records(ranking)])

    def kept_frame(self, kind: str, key: str) -> pd.DataFrame | None:
        """The frame kept under this kind if it was kept with this key (None if not, or unreadable)."""
        row = self.db.execute("SELECT frame FROM kept_frames WHERE kind=? AND key=?", (kind, key)).fetchone()
        if row is None:
            return None
        try:
            return _frame_from_json(row[0])
        except (ValueError, KeyError, TypeError):  # written by another version: read it afresh
            return None

    def keep_frame(self, kind: str, key: str, frame: pd.DataFrame) -> None:
        self.db.execute("INSERT OR REPLACE INTO kept_frames VALUES (?,?,?)", (kind, key, _frame_to_json(frame)))

    def issues_of(self, sha256s: list[str]) -> list[Issue]:
        """The stored issues of these submissions, in order."""
        found: list[Issue] = []
        for sha in sha256s:
            row = self.db.execute("SELECT issues FROM submissions WHERE sha256=?", (sha,)).fetchone()
            if row is None:
                continue
            for record in json.loads(row[0]):
                for derived in ("severity", "title", "message"):
                    record.pop(derived, None)
                found.append(Issue(**record))
        return found


def _frame_to_json(frame: pd.DataFrame) -> str:
    """A frame of text, number and date columns as JSON (not pickle: a store is data, never code)."""
    columns = []
    for name in frame.columns:
        values = frame[name].astype(object).tolist()
        dates = all(v is None or isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values)
        values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else
                  v.isoformat() if dates else v for v in values]
        columns.append({"name": name, "dtype": str(frame[name].dtype), "dates": dates, "values": values})
    return json.dumps({"index": frame.index.astype(object).tolist(), "index_dtype": str(frame.index.dtype),
                       "columns": columns}, ensure_ascii=False)


def _frame_from_json(text: str) -> pd.DataFrame:
    data = json.loads(text)
    frame = pd.DataFrame(index=pd.Index(data["index"], dtype=data["index_dtype"]))
    for column in data["columns"]:
        values = column["values"]
        if column["dates"]:
            values = [None if v is None else dt.date.fromisoformat(v) for v in values]
        frame[column["name"]] = pd.Series(values, index=frame.index, dtype=column["dtype"])
    return frame


def _rank_records(ranking: pd.DataFrame) -> list[tuple]:
    """(unit, metric, value, rank, flag) of every unit and metric of a ranking, NaN as None."""
    records = []
    for row in ranking.to_dict("records"):
        for key in (*(key for key, _ in METRICS), "composite"):
            value, rank = row[key], row[f"{key}_rank"]
            records.append((row["unit"], key, None if pd.isna(value) else value, None if pd.isna(rank) else rank,
                            row.get(f"{key}_flag", "")))
    return records


def _wide_ranks(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored (unit, metric, rank) rows as one row per unit with columns {metric}_rank."""
    if frame.empty:
        return pd.DataFrame(columns=["unit"])
    wide = frame.pivot(index="unit", columns="metric", values="rank")
    return wide.rename(columns=lambda m: f"{m}_rank").reset_index().rename_axis(None, axis=1)


def _with_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """ISO text columns as datetime.date objects (None where empty)."""
    for column in ("report_date", "net_land_date"):
        frame[column] = [dt.date.fromisoformat(v) if isinstance(v, str) and v else None for v in frame[column]]
    return frame
