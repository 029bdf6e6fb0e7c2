"""Every statement the history store runs on its tables (store_schema has the tables), named for what it does.

Values are always bound (? or :name); column lists that follow FIGURE_KEYS are filled in here, once, at import.
Temporary tables (CREATE_TEMP_*) hold the keys a statement works through, so that it reads by index.
"""

from __future__ import annotations

import hashlib

from xladdin.base.schema import FIGURE_KEYS

PRAGMA_CACHE_SIZE = "PRAGMA cache_size=-65536"  # 64 MiB of pages: a day's rows land all over a long history

ANY_PROJECT_REPORT = "SELECT EXISTS (SELECT 1 FROM project_reports)"
ANY_DAILY_STEP = "SELECT EXISTS (SELECT 1 FROM daily_steps)"
ANY_ACCEPTED_ROW = "SELECT EXISTS (SELECT 1 FROM ledger_rows WHERE superseded=0)"
ANY_PROBLEM_RUN = "SELECT EXISTS (SELECT 1 FROM problem_runs)"

# What the store is: the master it belongs to.
META_VALUE = "SELECT value FROM store_meta WHERE key=?"
SET_META = "INSERT OR REPLACE INTO store_meta VALUES (?,?)"
ANY_SUBMISSION = "SELECT EXISTS (SELECT 1 FROM submissions)"

# Withdrawing one accepted submission (its rows out of the history, recorded with who and why).
ACCEPTED_SUBMISSIONS_NAMED = ("SELECT sha256, file_name, group_name, report_date FROM submissions WHERE status=?"
                              " AND (sha256=? OR file_name=? OR sha256 IN (SELECT sha256 FROM file_names"
                              " WHERE file_name=?)) ORDER BY received_at DESC")
SHA_PREFIX_ACCEPTED = ("SELECT sha256, file_name, group_name, report_date FROM submissions WHERE status=?"
                       " AND sha256 LIKE ? || '%'")
WITHDRAW_SUBMISSION = "UPDATE submissions SET status=?, superseded_run=? WHERE sha256=?"
WITHDRAW_ROWS = "UPDATE ledger_rows SET superseded=1, superseded_run=? WHERE sha256=? AND superseded=0"
PROJECTS_OF_SUBMISSION = "SELECT DISTINCT project_id, report_date FROM ledger_rows WHERE sha256=?"
INSERT_WITHDRAWAL = "INSERT INTO withdrawals VALUES (?,?,?,?,?,?)"
OLD_WITHDRAWALS = "SELECT sha256, file_name, who, why FROM withdrawals ORDER BY at"
DELETE_WITHDRAWALS_OF_RUN = "DELETE FROM withdrawals WHERE run_id=?"

# Renumbering a project (项目清单 › 原编号): its rows, 督办 wordings and reached dates move to the new code.
SUBMISSIONS_OF_PROJECT = "SELECT DISTINCT sha256 FROM ledger_rows WHERE project_id=? ORDER BY sha256"
DATES_OF_PROJECTS = "SELECT DISTINCT report_date FROM ledger_rows WHERE project_id IN (?,?)"
# A date both codes hold accepted rows on, or a submission with rows under both: their history cannot be joined.
RENUMBER_CLASH = ("SELECT o.report_date FROM ledger_rows o JOIN ledger_rows n ON n.project_id=? AND"
                  " (n.sha256=o.sha256 OR (n.report_date=o.report_date AND n.superseded=0 AND o.superseded=0))"
                  " WHERE o.project_id=? ORDER BY o.report_date LIMIT 1")
MOVE_PROJECT_ROWS = "UPDATE ledger_rows SET project_id=? WHERE project_id=?"
# The old code's wordings the new code has not written (one the new code has keeps the new code's item).
MOVABLE_WORDINGS = ("SELECT o.wording FROM problem_threads o WHERE o.project_id=? AND NOT EXISTS (SELECT 1"
                    " FROM problem_threads n WHERE n.project_id=? AND n.wording=o.wording) ORDER BY o.wording")
MOVE_WORDINGS = ("UPDATE problem_threads SET project_id=? WHERE project_id=? AND wording IN"
                 " (SELECT value FROM json_each(?))")
DELETE_FIRSTS_OF_PROJECTS = "DELETE FROM milestone_firsts WHERE project_id IN (?,?)"
INSERT_RENUMBER = "INSERT INTO renumbers VALUES (?,?,?,?,?,?)"
RENUMBERS = "SELECT old_id, new_id FROM renumbers ORDER BY rowid"
RENUMBERS_OF_RUN = "SELECT old_id, new_id, submissions, wordings FROM renumbers WHERE run_id=? ORDER BY rowid DESC"
MOVE_ROWS_BACK = ("UPDATE ledger_rows SET project_id=? WHERE project_id=? AND sha256 IN"
                  " (SELECT value FROM json_each(?))")
DELETE_RENUMBERS_OF_RUN = "DELETE FROM renumbers WHERE run_id=?"

# Runs and rolling one back.
INSERT_RUN = "INSERT INTO runs (started_at, as_of, command) VALUES (?,?,?)"
SET_RUN_BACKUP = "UPDATE runs SET backup=? WHERE run_id=?"
LAST_RUN = ("SELECT run_id, started_at, as_of, command, backup FROM runs WHERE rolled_back=0"
            " ORDER BY run_id DESC LIMIT 1")
SUBMISSIONS_OF_RUN = "SELECT sha256, file_name FROM submissions WHERE run_id=?"
COUNT_SUBMISSIONS_OF_RUN = "SELECT COUNT(*) FROM submissions WHERE run_id=?"
REPORTS_TOUCHED_BY_RUN = "SELECT DISTINCT report_date, project_id FROM ledger_rows WHERE run_id=? OR superseded_run=?"
DELETE_ROWS_OF_RUN = "DELETE FROM ledger_rows WHERE run_id=?"
RESTORE_ROWS_SUPERSEDED_BY_RUN = "UPDATE ledger_rows SET superseded=0, superseded_run=NULL WHERE superseded_run=?"
DELETE_SUBMISSIONS_OF_RUN = "DELETE FROM submissions WHERE run_id=?"
RESTORE_SUBMISSIONS_SUPERSEDED_BY_RUN = "UPDATE submissions SET status=?, superseded_run=NULL WHERE superseded_run=?"
DELETE_FILE_NAMES_OF_RUN = "DELETE FROM file_names WHERE run_id=?"
DELETE_RANKINGS_OF_RUN = "DELETE FROM ranking_snapshots WHERE run_id=?"
MARK_RUN_ROLLED_BACK = "UPDATE runs SET rolled_back=1 WHERE run_id=?"

# Submissions and their rows.
SUBMISSION = "SELECT file_name, status, group_name, report_date FROM submissions WHERE sha256=?"
FILE_NAME_OF_REPORT = "SELECT file_name FROM submissions WHERE group_name=? AND report_date=? AND status=?"
ARRIVAL_OF_REPORT = ("SELECT s.file_name, a.mtime_ns FROM submissions s LEFT JOIN arrivals a USING (sha256)"
                       " WHERE s.group_name=? AND s.report_date=? AND s.status=?")
# Written only when the time differs: every run notes every inbox file again, and a write of the same time
# would make the store look changed (Store.generation).
NOTE_ARRIVAL = ("INSERT INTO arrivals VALUES (?,?) ON CONFLICT (sha256) DO UPDATE SET mtime_ns=excluded.mtime_ns"
                " WHERE mtime_ns IS NOT excluded.mtime_ns")
NOTE_FILE_NAME = "INSERT OR IGNORE INTO file_names VALUES (?,?,?,?)"
SUPERSEDE_SUBMISSIONS = ("UPDATE submissions SET status=?, superseded_run=? WHERE group_name=? AND report_date=?"
                         " AND status=?")
SUPERSEDE_ROWS = ("UPDATE ledger_rows SET superseded=1, superseded_run=? WHERE group_name=? AND report_date=?"
                  " AND superseded=0")
# By name: a store from before a figure existed has that column last (store_schema._add_new_figures).
_LEDGER_ROW_COLUMNS = ("sha256", "group_name", "report_date", "project_id", "plot", *FIGURE_KEYS, "net_land",
                       "net_land_date", "problems", "next_steps", "sheet_row", "superseded", "run_id")
INSERT_LEDGER_ROW = (f"INSERT INTO ledger_rows ({', '.join(_LEDGER_ROW_COLUMNS)}, superseded_run)"
                     f" VALUES ({','.join('?' * len(_LEDGER_ROW_COLUMNS))}, NULL)")
ACCEPTED_OF_REPORT = "SELECT sha256, file_name FROM submissions WHERE group_name=? AND report_date=? AND status=?"
# A same-day correction that leaves projects out keeps their rows: copied under the correction (its sha256
# and run), from the submissions it supersedes; the projects it names come as one JSON array.
CARRY_OVER_ROWS = (f"INSERT INTO ledger_rows ({', '.join(_LEDGER_ROW_COLUMNS)}, superseded_run)"
                   f" SELECT ?, {', '.join(_LEDGER_ROW_COLUMNS[1:-2])}, 0, ?, NULL FROM ledger_rows"
                   " WHERE sha256=? AND project_id NOT IN (SELECT value FROM json_each(?)) ORDER BY sheet_row")
CARRIED_PROJECTS = ("SELECT DISTINCT project_id FROM ledger_rows WHERE sha256=? AND project_id NOT IN"
                    " (SELECT value FROM json_each(?)) ORDER BY project_id")
# A project is never summed across two groups on one day: the group now responsible supersedes the other.
OTHER_GROUPS_OF_PROJECTS = ("SELECT DISTINCT project_id, group_name FROM ledger_rows WHERE report_date=?"
                            " AND group_name<>? AND superseded=0 AND project_id IN (SELECT value FROM json_each(?))"
                            " ORDER BY project_id")
SUPERSEDE_OTHER_GROUPS = ("UPDATE ledger_rows SET superseded=1, superseded_run=? WHERE report_date=? AND group_name<>?"
                          " AND superseded=0 AND project_id IN (SELECT value FROM json_each(?))")
# Every decided submission of a group and date with its rows, to tell a re-saved old file from a new report.
DECIDED_OF_REPORT = ("SELECT s.sha256, s.file_name, s.status FROM submissions s WHERE s.group_name=? AND"
                     " s.report_date=? AND s.status<>? ORDER BY s.received_at")
FIGURES_OF_SUBMISSION = f"SELECT project_id, plot, {', '.join(FIGURE_KEYS)}, net_land FROM ledger_rows WHERE sha256=?"
PROJECTS_OF_REPORT = "SELECT DISTINCT project_id FROM ledger_rows WHERE group_name=? AND report_date=?"
INSERT_SUBMISSION = "INSERT OR REPLACE INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,NULL)"
SUBMISSION_ISSUES = "SELECT issues FROM submissions WHERE sha256=?"

# project_reports, daily_steps and derived_ranks kept in step with ledger_rows.
CREATE_TEMP_TOUCHED = ("CREATE TEMP TABLE IF NOT EXISTS touched (project_id TEXT, report_date TEXT,"
                       " PRIMARY KEY (project_id, report_date))")
CLEAR_TOUCHED = "DELETE FROM touched"
INSERT_TOUCHED = "INSERT INTO touched VALUES (?,?)"
FIRST_TOUCHED_DATE = "SELECT MIN(report_date) FROM touched"
DELETE_DERIVED_RANKS_SINCE = "DELETE FROM derived_ranks WHERE as_of>=?"
DELETE_TOUCHED_REPORTS = "DELETE FROM project_reports WHERE (project_id, report_date) IN (SELECT * FROM touched)"
DELETE_EVERY_REPORT = "DELETE FROM project_reports"
DELETE_EVERY_DERIVED_RANK = "DELETE FROM derived_ranks"

# The ledger rows a refresh or a rebuild computes project reports from, copied into fresh_rows.
CREATE_TEMP_FRESH_ROWS = "CREATE TEMP TABLE IF NOT EXISTS fresh_rows AS SELECT * FROM ledger_rows WHERE 0"
CLEAR_FRESH_ROWS = "DELETE FROM fresh_rows"
# CROSS JOIN keeps the small temp table outside: without statistics SQLite would scan every row.
COPY_TOUCHED_ROWS = ("INSERT INTO fresh_rows SELECT l.* FROM touched t CROSS JOIN ledger_rows l"
                     " ON l.project_id=t.project_id AND l.report_date=t.report_date WHERE l.superseded=0")
COPY_ACCEPTED_ROWS = "INSERT INTO fresh_rows SELECT * FROM ledger_rows WHERE superseded=0"

# Their project reports: those of one row in SQL, those of several plots joined in Python (INSERT_FRESH_REPORT).
REPORT_COLUMNS = ("project_id", "report_date", *FIGURE_KEYS, "net_land", "net_land_date", "problems", "next_steps")
CREATE_TEMP_FRESH_REPORTS = ("CREATE TEMP TABLE IF NOT EXISTS fresh_reports AS SELECT"
                             f" {', '.join(REPORT_COLUMNS)} FROM project_reports WHERE 0")
CLEAR_FRESH_REPORTS = "DELETE FROM fresh_reports"
FRESH_SINGLE_ROW_REPORTS = ("INSERT INTO fresh_reports SELECT project_id, report_date,"
                            f" {', '.join(f'MAX({c})' for c in REPORT_COLUMNS[2:])} FROM fresh_rows"
                            " GROUP BY project_id, report_date HAVING COUNT(*)=1")
FRESH_SPLIT_ROWS = ("SELECT f.* FROM fresh_rows f JOIN (SELECT project_id, report_date FROM fresh_rows"
                    " GROUP BY project_id, report_date HAVING COUNT(*)>1) USING (project_id, report_date)"
                    " ORDER BY f.report_date, f.group_name, f.sheet_row")
INSERT_FRESH_REPORT = f"INSERT INTO fresh_reports VALUES ({','.join('?' * len(REPORT_COLUMNS))})"
# Each fresh report with its step against the project's report before it; :rise is consolidate.RISE.
INSERT_PROJECT_REPORTS = (
    f"INSERT INTO project_reports ({', '.join(REPORT_COLUMNS)}, acquired_step, rose)"
    f" SELECT {', '.join(f'n.{c}' for c in REPORT_COLUMNS)}, n.acquired_mu - COALESCE(p.acquired_mu, 0),"
    f" ({' OR '.join(f'n.{k} - COALESCE(p.{k}, 0) > :rise' for k in FIGURE_KEYS)})"
    " FROM fresh_reports n LEFT JOIN project_reports p ON p.project_id=n.project_id AND"
    " p.report_date=(SELECT MAX(q.report_date) FROM project_reports q WHERE q.project_id=n.project_id"
    " AND q.report_date<n.report_date) ORDER BY n.project_id, n.report_date")


def _derive_steps(starts: str) -> str:
    """The statement setting acquired_step and rose of the reports of the projects `starts` selects, from
    the date it gives each on, each against the project's report before it (found by key: a day's
    reports cost the same however long the history); :rise is consolidate.RISE."""
    figures = ", ".join(f"r.{k} - COALESCE(p.{k}, 0) AS {k}" for k in FIGURE_KEYS)
    rose = " OR ".join(f"d.{k} > :rise" for k in FIGURE_KEYS)
    return (f"WITH m AS MATERIALIZED ({starts}),"
            " s AS MATERIALIZED (SELECT r.project_id, r.report_date, (SELECT MAX(q.report_date) FROM"
            " project_reports q WHERE q.project_id=r.project_id AND q.report_date<r.report_date) AS prev"
            " FROM m JOIN project_reports r ON r.project_id=m.project_id AND r.report_date>=m.since),"
            f" d AS MATERIALIZED (SELECT s.project_id, s.report_date, {figures} FROM s JOIN project_reports r"
            " ON r.project_id=s.project_id AND r.report_date=s.report_date LEFT JOIN project_reports p"
            " ON p.project_id=s.project_id AND p.report_date=s.prev)"
            f" UPDATE project_reports SET acquired_step=d.acquired_mu, rose=({rose}) FROM d"
            " WHERE project_reports.project_id=d.project_id AND project_reports.report_date=d.report_date")


# A corrected or late day changes the steps of the project's later reports.
DERIVE_STEPS_AFTER_TOUCHED = _derive_steps(
    "SELECT t.project_id, MIN(t.report_date) AS since FROM touched t WHERE EXISTS (SELECT 1"
    " FROM project_reports r WHERE r.project_id=t.project_id AND r.report_date>t.report_date)"
    " GROUP BY t.project_id")
DERIVE_EVERY_STEP = _derive_steps("SELECT DISTINCT project_id, '' AS since FROM project_reports")
DELETE_DAILY_STEPS_SINCE = "DELETE FROM daily_steps WHERE report_date>=?"
SUM_DAILY_STEPS_SINCE = ("INSERT INTO daily_steps SELECT report_date, SUM(acquired_step) FROM project_reports"
                         " WHERE report_date>=? GROUP BY report_date")

# problem_runs for the projects in touched (from the report before each one's first touched date on),
# or for every project: run_starts holds each project's report before that date (prev, NULL: from its
# first report) and the first date of the run that report belongs to (anchor).
CREATE_TEMP_RUN_STARTS = ("CREATE TEMP TABLE IF NOT EXISTS run_starts (project_id TEXT PRIMARY KEY, since TEXT,"
                          " prev TEXT, anchor TEXT)")
CLEAR_RUN_STARTS = "DELETE FROM run_starts"
TOUCHED_RUN_STARTS = ("INSERT INTO run_starts (project_id, since) SELECT project_id, MIN(report_date) FROM touched"
                      " GROUP BY project_id")
EVERY_RUN_START = "INSERT INTO run_starts (project_id, since) SELECT DISTINCT project_id, '' FROM project_reports"
SET_RUN_PREV = ("UPDATE run_starts SET prev=(SELECT MAX(r.report_date) FROM project_reports r WHERE"
                " r.project_id=run_starts.project_id AND r.report_date<run_starts.since)")
SET_RUN_ANCHOR = ("UPDATE run_starts SET anchor=(SELECT first_date FROM (SELECT p.first_date, p.last_date FROM"
                  " problem_runs p WHERE p.project_id=run_starts.project_id AND p.first_date<=run_starts.prev"
                  " ORDER BY p.first_date DESC LIMIT 1) WHERE last_date>=run_starts.prev) WHERE prev IS NOT NULL")
UNSET_PREV_WITHOUT_ANCHOR = "UPDATE run_starts SET prev=NULL WHERE anchor IS NULL"  # no run holds it: afresh
DELETE_RUNS_FROM_STARTS = (
    "DELETE FROM problem_runs WHERE (project_id, first_date) IN (SELECT p.project_id, p.first_date"
    " FROM run_starts s CROSS JOIN problem_runs p ON p.project_id=s.project_id AND p.first_date>=COALESCE(s.anchor, ''))")
INSERT_RUNS_FROM_STARTS = (
    "INSERT INTO problem_runs WITH span AS MATERIALIZED (SELECT r.project_id, r.report_date, r.problems,"
    " r.next_steps, s.anchor FROM run_starts s CROSS JOIN project_reports r ON r.project_id=s.project_id AND"
    " r.report_date>=COALESCE(s.prev, '')),"
    " marked AS (SELECT *, CASE WHEN (LAG(problems) OVER w) IS problems AND (LAG(next_steps) OVER w) IS next_steps"
    " THEN 0 ELSE 1 END AS change FROM span WINDOW w AS (PARTITION BY project_id ORDER BY report_date)),"
    " numbered AS (SELECT *, SUM(change) OVER (PARTITION BY project_id ORDER BY report_date) AS run FROM marked)"
    " SELECT project_id, CASE WHEN run=1 AND anchor IS NOT NULL THEN anchor ELSE MIN(report_date) END,"
    " MAX(report_date), problems, next_steps FROM numbered GROUP BY project_id, run")
DELETE_EVERY_PROBLEM_RUN = "DELETE FROM problem_runs"

# Reading project reports.
CREATE_TEMP_WANTED = "CREATE TEMP TABLE IF NOT EXISTS wanted (project_id TEXT PRIMARY KEY)"
CLEAR_WANTED = "DELETE FROM wanted"
INSERT_WANTED = "INSERT OR IGNORE INTO wanted VALUES (?)"
_LATEST = "SELECT MAX(report_date) FROM project_reports r WHERE r.project_id=w.project_id AND r.report_date"
# Each wanted project's latest report up to :as_of, the one before it, its report at :start (the
# baseline of the period) and the date it last rose.
PROJECT_LINES = (
    f"WITH d AS MATERIALIZED (SELECT w.project_id, ({_LATEST}<=:as_of) AS latest, ({_LATEST}<=:start) AS base,"
    f" ({_LATEST}<=:as_of AND r.rose=1) AS risen, (SELECT MIN(report_date) FROM project_reports r"
    " WHERE r.project_id=w.project_id) AS first FROM wanted w),"
    " e AS MATERIALIZED (SELECT d.*, (SELECT MAX(report_date) FROM project_reports r WHERE r.project_id=d.project_id"
    " AND r.report_date<:as_of) AS prev FROM d WHERE d.latest IS NOT NULL)"
    " SELECT e.project_id, e.latest AS report_date, COALESCE(e.risen, e.first) AS last_rise,"
    f" {', '.join(f'l.{k}' for k in FIGURE_KEYS)},"
    " l.net_land, l.net_land_date, l.problems, l.next_steps, p.acquired_mu AS prev_acquired_mu,"
    " p.houses_demolished AS prev_houses_demolished, e.base IS NOT NULL AS has_base,"
    f" {', '.join(f'b.{k} AS base_{k}' for k in (*FIGURE_KEYS, 'net_land'))}"
    " FROM e JOIN project_reports l ON l.project_id=e.project_id AND l.report_date=e.latest"
    " LEFT JOIN project_reports p ON p.project_id=e.project_id AND p.report_date=e.prev"
    " LEFT JOIN project_reports b ON b.project_id=e.project_id AND b.report_date=e.base")
ANY_REPORT_UNTIL = "SELECT EXISTS (SELECT 1 FROM project_reports WHERE report_date<=?)"
DAILY_STEPS_UNTIL = ("SELECT report_date, acquired_step AS acquired_mu FROM daily_steps"
                     " WHERE report_date<=? ORDER BY report_date")

# Each chosen group's two newest accepted (:accepted) reports with rows, as project totals.
CREATE_TEMP_CHOSEN_GROUPS = "CREATE TEMP TABLE IF NOT EXISTS chosen_groups (group_name TEXT PRIMARY KEY)"
CLEAR_CHOSEN_GROUPS = "DELETE FROM chosen_groups"
CHOOSE_EVERY_GROUP = ("INSERT INTO chosen_groups SELECT DISTINCT group_name FROM submissions"
                      " WHERE group_name IS NOT NULL")
CHOOSE_GROUP = "INSERT OR IGNORE INTO chosen_groups VALUES (?)"
_NEWEST = ("SELECT s.report_date FROM submissions s WHERE s.group_name=c.group_name AND s.status=:accepted"
           " AND EXISTS (SELECT 1 FROM ledger_rows r WHERE r.group_name=s.group_name AND"
           " r.report_date=s.report_date AND r.superseded=0)")
GROUP_TOTALS = (
    f"WITH latest AS MATERIALIZED (SELECT c.group_name, ({_NEWEST} ORDER BY s.report_date DESC LIMIT 1)"
    " AS report_date FROM chosen_groups c),"
    " dates AS MATERIALIZED (SELECT group_name, report_date, 1 AS age FROM latest WHERE report_date IS NOT NULL"
    f" UNION ALL SELECT c.group_name, ({_NEWEST} AND s.report_date<c.report_date ORDER BY s.report_date DESC"
    " LIMIT 1), 2 FROM latest c WHERE c.report_date IS NOT NULL)"
    f" SELECT d.age, r.group_name, r.report_date, r.project_id, {', '.join(f'SUM(r.{k})' for k in FIGURE_KEYS)}"
    " FROM dates d CROSS JOIN ledger_rows r ON r.group_name=d.group_name AND r.report_date=d.report_date"
    " WHERE r.superseded=0 GROUP BY d.age, r.group_name, r.report_date, r.project_id ORDER BY d.age DESC")

# Each chosen project's two newest reports (whichever group sent them), with the group that sent each.
CREATE_TEMP_CHOSEN_PROJECTS = "CREATE TEMP TABLE IF NOT EXISTS chosen_projects (project_id TEXT PRIMARY KEY)"
CLEAR_CHOSEN_PROJECTS = "DELETE FROM chosen_projects"
CHOOSE_EVERY_PROJECT = "INSERT INTO chosen_projects SELECT DISTINCT project_id FROM project_reports"
CHOOSE_PROJECT = "INSERT OR IGNORE INTO chosen_projects VALUES (?)"
PROJECT_STATES = (
    "WITH latest AS MATERIALIZED (SELECT c.project_id, (SELECT MAX(r.report_date) FROM project_reports r"
    " WHERE r.project_id=c.project_id) AS report_date FROM chosen_projects c),"
    " dates AS MATERIALIZED (SELECT project_id, report_date, 1 AS age FROM latest WHERE report_date IS NOT NULL"
    " UNION ALL SELECT l.project_id, (SELECT MAX(r.report_date) FROM project_reports r WHERE"
    " r.project_id=l.project_id AND r.report_date<l.report_date), 2 FROM latest l WHERE l.report_date IS NOT NULL)"
    " SELECT d.age, d.project_id, d.report_date, (SELECT MIN(g.group_name) FROM ledger_rows g WHERE"
    " g.project_id=d.project_id AND g.report_date=d.report_date AND g.superseded=0),"
    f" {', '.join(f'r.{k}' for k in FIGURE_KEYS)} FROM dates d JOIN project_reports r"
    " ON r.project_id=d.project_id AND r.report_date=d.report_date ORDER BY d.age DESC")

# Reading ledger rows and submissions.
REPORT_ROW_COLUMNS = ("project_id", "plot", *FIGURE_KEYS, "net_land", "net_land_date", "problems", "next_steps")
REPORT_ROWS = (f"SELECT {', '.join(REPORT_ROW_COLUMNS)} FROM ledger_rows WHERE group_name=? AND report_date=?"
               " AND superseded=0 ORDER BY sheet_row")
ACCEPTED_ROWS = "SELECT * FROM ledger_rows WHERE superseded=0 ORDER BY report_date, group_name, sheet_row"
ACCEPTED_ROWS_UNTIL = ("SELECT * FROM ledger_rows WHERE superseded=0 AND report_date<=?"
                       " ORDER BY report_date, group_name, sheet_row")
EVERY_ROW = ("SELECT r.*, s.file_name FROM ledger_rows r JOIN submissions s USING (sha256)"
             " ORDER BY r.report_date, r.group_name, r.sheet_row")
# The (date, group) pairs of the 历史 window, newest first; the rows of those chosen, newest first.
RECENT_REPORTS = ("SELECT DISTINCT report_date, group_name FROM submissions WHERE status!=? AND report_date>? AND"
                  " report_date<=? AND group_name IS NOT NULL ORDER BY report_date DESC, group_name")
COUNT_ROWS_OF_REPORT = "SELECT COUNT(*) FROM ledger_rows WHERE group_name=? AND report_date=?"
CREATE_TEMP_RECENT_PAIRS = ("CREATE TEMP TABLE IF NOT EXISTS recent_pairs (group_name TEXT, report_date TEXT,"
                            " PRIMARY KEY (group_name, report_date))")
CLEAR_RECENT_PAIRS = "DELETE FROM recent_pairs"
INSERT_RECENT_PAIR = "INSERT INTO recent_pairs VALUES (?,?)"
RECENT_ROWS = ("SELECT r.*, s.file_name FROM recent_pairs c CROSS JOIN ledger_rows r ON r.group_name=c.group_name AND"
               " r.report_date=c.report_date JOIN submissions s USING (sha256)"
               " ORDER BY r.report_date DESC, r.group_name, r.sheet_row LIMIT ?")
_DAY = "COALESCE(s.report_date, substr(f.seen_at, 1, 10))"
SUBMISSION_LOG = (f"SELECT f.file_name AS seen_name, f.seen_at, a.mtime_ns, s.* FROM file_names f"
                  f" JOIN submissions s USING (sha256) LEFT JOIN arrivals a USING (sha256)"
                  f" WHERE {_DAY}>? ORDER BY {_DAY} DESC, s.group_name, f.seen_at DESC, f.file_name LIMIT ?")
SUBMISSIONS_OF_DATE = ("SELECT s.group_name, s.report_date, s.received_at AS read_at, a.mtime_ns, s.status,"
                       " s.file_name FROM submissions s LEFT JOIN arrivals a USING (sha256) WHERE s.report_date=?")

# Rankings published by runs, and ranks recomputed for dates no run published.
DELETE_RANKING = "DELETE FROM ranking_snapshots WHERE as_of=? AND unit_kind=?"
INSERT_RANKING = "INSERT INTO ranking_snapshots VALUES (?,?,?,?,?,?,?,?)"
RANKING_SNAPSHOT = "SELECT unit, metric, rank FROM ranking_snapshots WHERE as_of=? AND unit_kind=?"
PUBLISHED_DATES = "SELECT DISTINCT as_of FROM ranking_snapshots WHERE unit_kind=? AND as_of<?"
# The dates come as one JSON array of ISO dates.
LISTS_ON = ("SELECT as_of, unit, metric, flag FROM ranking_snapshots WHERE unit_kind=?"
            " AND as_of IN (SELECT value FROM json_each(?))")
DERIVED_RANKING = "SELECT unit, metric, rank FROM derived_ranks WHERE as_of=? AND unit_kind=? AND basis=?"
DELETE_DERIVED_RANKING = "DELETE FROM derived_ranks WHERE as_of=? AND unit_kind=?"
INSERT_DERIVED_RANKING = "INSERT INTO derived_ranks VALUES (?,?,?,?,?,?)"

# Frames kept between runs.
KEPT_FRAME = "SELECT frame FROM kept_frames WHERE kind=? AND key=?"
KEEP_FRAME = "INSERT OR REPLACE INTO kept_frames VALUES (?,?,?)"
REKEY_KEPT = "UPDATE kept_frames SET key=? WHERE kind=?"

# The store's generation (Store.generation): every change to a table a run's figures may read flags the store
# as changed in store_meta (one trigger per table and kind of change, on every table but those in UNWATCHED
# and the kept frames of UNWATCHED_KINDS); reading the generation after a change draws a new one. A trigger
# does nothing once the flag is set, so a run recording 10,000 rows writes it once (about 1 µs a row). The
# triggers name no column, so a later schema may drop or rename columns freely.
UNWATCHED = ("store_meta", "runs")  # the flag and generation themselves; every run's own log line
UNWATCHED_KINDS = ("regions", "figures")  # kept_frames that record what a run saved, written after it saved
WATCHED_TABLES = ("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite%'"
                  f" AND name NOT IN ({', '.join(repr(t) for t in UNWATCHED)})")
TRIGGER_NAMES = "SELECT name FROM sqlite_master WHERE type='trigger' AND name LIKE 'changed~_%' ESCAPE '~'"
WATCH_EVENTS = ("INSERT", "UPDATE", "DELETE")
DROP_TRIGGER = 'DROP TRIGGER IF EXISTS "{}"'  # a watch trigger of another definition (an earlier version's)


def watch_trigger(table: str, event: str) -> tuple[str, str]:
    """The trigger (name, statement) that flags the store as changed (store_meta's 'changed') when a row of
    `table` is inserted, updated or deleted (`event`); on kept_frames, not for the kinds that only record
    what a run saved. Named after its definition: a trigger defined otherwise by a later version replaces
    it (Store._watch_changes drops the old)."""
    row = "OLD" if event == "DELETE" else "NEW"
    conditions = ["(SELECT value FROM store_meta WHERE key='changed') IS NOT '1'"]
    if table == "kept_frames":
        conditions.append(f"{row}.kind NOT IN ({', '.join(repr(k) for k in UNWATCHED_KINDS)})")
    body = (f"AFTER {event} ON {table} WHEN {' AND '.join(conditions)}"
            " BEGIN INSERT OR REPLACE INTO store_meta VALUES ('changed', '1'); END")
    name = f"changed_{table}_{event.lower()}_{hashlib.sha1(body.encode()).hexdigest()[:8]}"
    return name, f"CREATE TRIGGER IF NOT EXISTS {name} {body}"

# Notices issued (notice_archive) and what they are written from.
NEXT_NOTICE_NUMBER = "SELECT MAX(number) FROM notices WHERE kind=? AND year=? AND state<>?"
NOTICE_IN_FORCE = ("SELECT kind, year, number, as_of, issued_at, file, text, state FROM notices WHERE kind=?"
                   " AND as_of=? AND state=? ORDER BY notice_id DESC LIMIT 1")
ALL_NOTICES = "SELECT kind, year, number, as_of, issued_at, file, text, state FROM notices ORDER BY notice_id"
INSERT_NOTICE = ("INSERT INTO notices (kind, year, number, as_of, issued_at, file, text, state, run_id)"
                 " VALUES (?,?,?,?,?,?,?,?,?)")
NOTICES_OF_NUMBER = "SELECT notice_id, file FROM notices WHERE kind=? AND year=? AND number=? AND state=?"
VOID_NOTICE = "UPDATE notices SET state=?, file=?, voided_run=? WHERE notice_id=?"
NOTICES_ISSUED_BY_RUN = "SELECT notice_id, file FROM notices WHERE run_id=? AND state=?"
NOTICES_VOIDED_BY_RUN = "SELECT notice_id, kind, year, number, as_of, file FROM notices WHERE voided_run=?"
SET_NOTICE_STATE = "UPDATE notices SET state=?, file=?, voided_run=NULL WHERE notice_id=?"
UNCORRECTED_RETURNS = (
    "SELECT s.group_name, s.report_date, s.issues, s.received_at FROM submissions s WHERE s.status=:rejected"
    " AND s.report_date IS NOT NULL AND s.report_date<=:as_of AND NOT EXISTS (SELECT 1 FROM submissions a"
    " WHERE a.status IN (:accepted, :superseded) AND a.group_name IS s.group_name AND a.report_date=s.report_date"
    " AND a.received_at>=s.received_at) ORDER BY s.report_date, s.group_name, s.received_at")
# The projects that named a problem up to :as_of, and their problem_runs that started by then.
_NAMED_RUNS = ("WITH named AS MATERIALIZED (SELECT DISTINCT project_id FROM problem_runs WHERE problems<>''"
               " AND first_date<=:as_of), named_runs AS MATERIALIZED (SELECT r.* FROM named n CROSS JOIN problem_runs r"
               " ON r.project_id=n.project_id AND r.first_date<=:as_of)")
# A problem is first named at the start of a run: the starts are every report a first mention can be in.
PROBLEMS_UNTIL = (f"{_NAMED_RUNS} SELECT project_id, first_date AS report_date, problems, next_steps FROM named_runs"
                  " ORDER BY project_id, first_date")
# The first and the last report (up to :as_of) of each run: first and last mention of every problem, the
# 下步措施 of the last, and each project's latest report, whatever the days between them.
REGISTER_REPORTS_UNTIL = (
    f"{_NAMED_RUNS}, ends AS (SELECT project_id, first_date, CASE WHEN last_date<=:as_of THEN last_date ELSE"
    " (SELECT MAX(q.report_date) FROM project_reports q WHERE q.project_id=named_runs.project_id AND"
    " q.report_date<=:as_of) END AS end_date, problems, next_steps FROM named_runs)"
    " SELECT project_id, first_date AS report_date, problems, next_steps FROM ends"
    " UNION ALL SELECT project_id, end_date, problems, next_steps FROM ends WHERE end_date>first_date")

# 督办台账 threading (problem_threads)
PROBLEM_THREADS = "SELECT project_id, wording, item_id FROM problem_threads"
PROBLEM_ITEM_IDS = "SELECT item_id FROM problem_threads UNION SELECT prior_item FROM problem_threads"
INSERT_PROBLEM_THREAD = ("INSERT OR IGNORE INTO problem_threads (project_id, wording, item_id, shown, run_id)"
                         " VALUES (?, ?, ?, ?, ?)")
MOVE_PROBLEM_THREAD = ("UPDATE problem_threads SET prior_item=item_id, item_id=?, moved_run=?"
                       " WHERE project_id=? AND wording=?")
DELETE_THREADS_OF_RUN = "DELETE FROM problem_threads WHERE run_id=?"
RESTORE_THREADS_MOVED_BY_RUN = ("UPDATE problem_threads SET item_id=prior_item, prior_item=NULL, moved_run=NULL"
                                " WHERE moved_run=?")
# The 报送平台: uploads kept in the inbox, and the access codes (hashed) that sign groups and HQ in.
INSERT_UPLOAD = ("INSERT INTO uploads (file_name, client_name, group_name, uploaded_at, address, sha256, size, status,"
                 " report_date, outcome) VALUES (?,?,?,?,?,?,?,?,?,?)")
# Each upload with what a run decided about its content since (NULL while it waits for the next run).
_UPLOAD_COLUMNS = ("SELECT u.upload_id, u.file_name, u.client_name, u.group_name, u.uploaded_at, u.address, u.sha256,"
                   " u.size, u.status, u.report_date, u.outcome, s.status AS decided FROM uploads u"
                   " LEFT JOIN submissions s USING (sha256)")
UPLOAD_COLUMNS = ("upload_id", "file_name", "client_name", "group_name", "uploaded_at", "address", "sha256", "size",
                  "status", "report_date", "outcome", "decided")
UPLOADS_OF_GROUP = f"{_UPLOAD_COLUMNS} WHERE u.group_name=? AND u.uploaded_at>=? ORDER BY u.upload_id DESC LIMIT ?"
EVERY_UPLOAD = f"{_UPLOAD_COLUMNS} WHERE u.uploaded_at>=? ORDER BY u.upload_id DESC LIMIT ?"
UPLOAD_BY_ID = f"{_UPLOAD_COLUMNS} WHERE u.upload_id=?"
UPLOAD_BY_FILE = f"{_UPLOAD_COLUMNS} WHERE u.file_name=?"
# The uploads that count for a report date (one that named no readable date counts for the day it came).
UPLOADS_OF_DATE = ("SELECT u.group_name, u.uploaded_at, COALESCE(s.status, u.status) AS status, u.file_name"
                   " FROM uploads u LEFT JOIN submissions s USING (sha256)"
                   " WHERE COALESCE(u.report_date, substr(u.uploaded_at, 1, 10))=?")
CODE_SALT = "SELECT salt FROM code_salt WHERE one=1"
SET_CODE_SALT = "INSERT OR IGNORE INTO code_salt VALUES (1, ?)"
SET_ACCESS_CODE = "INSERT OR REPLACE INTO access_codes VALUES (?,?,?)"
ACCESS_CODES = "SELECT holder, code_hash, issued_at FROM access_codes ORDER BY holder"
HOLDER_OF_CODE = "SELECT holder FROM access_codes WHERE code_hash=?"
STATUS_OF_NAME = ("SELECT s.status FROM file_names f JOIN submissions s USING (sha256) WHERE f.file_name=?"
                  " ORDER BY f.seen_at LIMIT 1")
BEGIN_WRITING = "BEGIN IMMEDIATE"  # the write lock taken at once, waiting for another writer (not upgraded later)

# milestone_firsts: the first report date each project reached each milestone figure (against the plan it
# was measured with) and each 地块 became 净地, kept in step with the reports of touched projects, so a
# run looks its reached dates up by key instead of reading every day of history.
_MILESTONE_FIGURES = ("acquired_mu", "houses_agreed", "houses_demolished", "cleared_mu")
_REACHED = (f"CASE m.key {' '.join(f'WHEN {k!r} THEN r.{k} >= m.threshold - 1e-9' for k in _MILESTONE_FIGURES)}"
            " WHEN 'net_land' THEN r.net_land='是' END")
ANY_MILESTONE_FIRST = "SELECT EXISTS (SELECT 1 FROM milestone_firsts)"
CREATE_TEMP_WANTED_FIRSTS = ("CREATE TEMP TABLE IF NOT EXISTS wanted_firsts (project_id TEXT, key TEXT, threshold REAL,"
                             " PRIMARY KEY (project_id, key))")
CLEAR_WANTED_FIRSTS = "DELETE FROM wanted_firsts"
INSERT_WANTED_FIRST = "INSERT OR REPLACE INTO wanted_firsts VALUES (?,?,?)"
# A plan changed in the 项目清单: the first date against the old plan no longer holds.
DELETE_CHANGED_FIRSTS = ("DELETE FROM milestone_firsts WHERE plot='' AND EXISTS (SELECT 1 FROM wanted_firsts w"
                         " WHERE w.project_id=milestone_firsts.project_id AND w.key=milestone_firsts.key"
                         " AND w.threshold IS NOT milestone_firsts.threshold)")
# Wanted and not yet known: found once from the project's reports (by index), then kept.
INSERT_MISSING_FIRSTS = (
    "INSERT INTO milestone_firsts (project_id, plot, key, threshold, first_date, seen)"
    " SELECT m.project_id, '', m.key, m.threshold, (SELECT MIN(r.report_date) FROM project_reports r"
    f" WHERE r.project_id=m.project_id AND {_REACHED}), NULL FROM wanted_firsts m WHERE NOT EXISTS"
    " (SELECT 1 FROM milestone_firsts f WHERE f.project_id=m.project_id AND f.plot='' AND f.key=m.key)")
PROJECT_FIRSTS_UNTIL = ("SELECT f.project_id, f.key, f.first_date FROM wanted_firsts w CROSS JOIN milestone_firsts f"
                        " ON f.project_id=w.project_id AND f.plot='' AND f.key=w.key"
                        " WHERE f.first_date IS NOT NULL AND f.first_date<=?")
# Every 地块 of the wanted projects (first reported on or before :as_of) with the date it became 净地.
PLOT_FIRSTS_UNTIL = ("SELECT f.project_id, f.plot, CASE WHEN f.first_date<=:as_of THEN f.first_date END"
                     " FROM (SELECT DISTINCT project_id FROM wanted_firsts) w CROSS JOIN milestone_firsts f"
                     " ON f.project_id=w.project_id AND f.plot<>'' WHERE f.seen<=:as_of ORDER BY f.project_id, f.seen, f.plot")
# After a refresh: the 地块 reported on the touched dates, then the first dates of the touched projects
# that may have moved (none yet, or on or after the earliest touched date) found again from that date on.
INSERT_TOUCHED_PLOTS = ("INSERT OR IGNORE INTO milestone_firsts (project_id, plot, key, threshold, first_date, seen)"
                        " SELECT l.project_id, l.plot, 'net_land', NULL, NULL, MIN(l.report_date) FROM touched t"
                        " CROSS JOIN ledger_rows l ON l.project_id=t.project_id AND l.report_date=t.report_date"
                        " WHERE l.superseded=0 AND l.plot<>'' GROUP BY l.project_id, l.plot")
_SINCE = "(SELECT MIN(t.report_date) FROM touched t WHERE t.project_id=m.project_id)"
REFRESH_PROJECT_FIRSTS = (
    f"UPDATE milestone_firsts AS m SET first_date=(SELECT MIN(r.report_date) FROM project_reports r"
    f" WHERE r.project_id=m.project_id AND r.report_date>={_SINCE} AND {_REACHED})"
    f" WHERE m.plot='' AND m.project_id IN (SELECT project_id FROM touched)"
    f" AND (m.first_date IS NULL OR m.first_date>={_SINCE})")
REFRESH_PLOT_FIRSTS = (
    "UPDATE milestone_firsts AS m SET first_date=(SELECT MIN(l.report_date) FROM ledger_rows l"
    f" WHERE l.project_id=m.project_id AND l.report_date>={_SINCE} AND l.plot=m.plot AND l.superseded=0"
    " AND l.net_land='是'), seen=MIN(m.seen, COALESCE((SELECT MIN(l.report_date) FROM ledger_rows l"
    " WHERE l.project_id=m.project_id AND l.plot=m.plot AND l.superseded=0), m.seen))"
    " WHERE m.plot<>'' AND m.project_id IN (SELECT project_id FROM touched)"
    f" AND (m.first_date IS NULL OR m.first_date>={_SINCE})")
DELETE_EVERY_FIRST = "DELETE FROM milestone_firsts"
# A store from before the table: every 地块 ever reported, once (project figures are found when asked).
FILL_PLOT_FIRSTS = ("INSERT OR IGNORE INTO milestone_firsts (project_id, plot, key, threshold, first_date, seen)"
                    " SELECT project_id, plot, 'net_land', NULL, MIN(CASE WHEN net_land='是' THEN report_date END),"
                    " MIN(report_date) FROM ledger_rows WHERE superseded=0 AND plot<>'' GROUP BY project_id, plot")
