"""The history store's tables (SCHEMA), its layout version (SCHEMA_VERSION, kept in PRAGMA user_version)
and the steps that bring a store written by an earlier xladdin up to them."""

from __future__ import annotations

import sqlite3

from xladdin.base.errors import MasterUnusable
from xladdin.base.schema import FIGURE_KEYS
from xladdin.store.sql import FILL_PLOT_FIRSTS

# The store's layout; migrate brings every earlier one up to it.
SCHEMA_VERSION = 5

_FIGURE_COLUMNS = ", ".join(f"{k} REAL NOT NULL" for k in FIGURE_KEYS)

SCHEMA = f"""
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
    {_FIGURE_COLUMNS},
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
    {_FIGURE_COLUMNS},
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
-- Each run of unchanged 存在问题 and 下步措施 text in a project's reports (first and last report date of
-- the run), kept in step with project_reports for the projects a refresh touched: the 督办台账 and the
-- notices' new problems read the runs of the projects that ever named a problem, not every day's report.
CREATE TABLE IF NOT EXISTS problem_runs (
    project_id TEXT NOT NULL,
    first_date TEXT NOT NULL,
    last_date TEXT NOT NULL,
    problems TEXT NOT NULL,
    next_steps TEXT NOT NULL,
    PRIMARY KEY (project_id, first_date)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS problem_runs_named ON problem_runs (project_id, first_date) WHERE problems<>'';
-- Every notice issued (督查日报 and 通报, numbered per kind and year): its Word file in 通报存档, its text,
-- its state (有效, 作废 when re-issued, 已撤销 when the run that issued it was rolled back), the run that
-- issued it and the run that voided it (a rollback of that run makes it 有效 again).
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
    run_id INTEGER,
    voided_run INTEGER
);
-- 督办台账 threading (domain/register.py): each wording a project has written in 存在问题 (normalised, the
-- key) belongs to one item (编号); shown is the wording as first written. Written by the run that first met it
-- (run_id); moved by staff's 并入编号/拆出表述 in a later run (moved_run, prior_item: a rollback moves it back).
CREATE TABLE IF NOT EXISTS problem_threads (
    project_id TEXT NOT NULL,
    wording TEXT NOT NULL,
    item_id TEXT NOT NULL,
    shown TEXT NOT NULL,
    run_id INTEGER,
    prior_item TEXT,
    moved_run INTEGER,
    PRIMARY KEY (project_id, wording)
) WITHOUT ROWID;
-- The first report date each project reached a milestone's figure (key: a figure, measured against
-- threshold, the plan in the 项目清单 then) or 净地 (key net_land), plot ''; and each 地块's first
-- 是否净地 = 是 (plot its name, seen its first report date). first_date NULL: not reached yet. Kept in
-- step with the reports of touched projects (Store.refresh_derived), found by key by a run.
CREATE TABLE IF NOT EXISTS milestone_firsts (
    project_id TEXT NOT NULL,
    plot TEXT NOT NULL,
    key TEXT NOT NULL,
    threshold REAL,
    first_date TEXT,
    seen TEXT,
    PRIMARY KEY (project_id, plot, key)
) WITHOUT ROWID;
-- What the store is: the id of the master it belongs to (written into the master too, as a hidden
-- defined name), so that a store from another master, or none, is never taken for its history.
CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Submissions HQ withdrew (an accepted overstatement): who, why, when, and the run that did it.
CREATE TABLE IF NOT EXISTS withdrawals (
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    who TEXT NOT NULL,
    why TEXT NOT NULL,
    at TEXT NOT NULL,
    run_id INTEGER
);
-- Projects renumbered (项目清单 › 原编号): the run that moved the history of old_id to new_id, when, the
-- submissions whose rows it moved and the 督办 wordings it moved (JSON arrays), so that a rollback of that
-- run moves exactly those back.
CREATE TABLE IF NOT EXISTS renumbers (
    old_id TEXT NOT NULL,
    new_id TEXT NOT NULL,
    at TEXT NOT NULL,
    run_id INTEGER,
    submissions TEXT NOT NULL,
    wordings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_group ON submissions (group_name, report_date, status);
CREATE INDEX IF NOT EXISTS submissions_date ON submissions (report_date);
-- The 报送平台 (xladdin serve): every ledger a work group uploaded and the platform kept in the inbox, under
-- the name the server gave it; who sent it (the signed-in group), when, from which address, its SHA-256, and
-- the verdict it was answered with at once (status, report date, the outcome as JSON). A run later decides
-- it like any inbox file (submissions, by sha256).
CREATE TABLE IF NOT EXISTS uploads (
    upload_id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL UNIQUE,
    client_name TEXT NOT NULL,
    group_name TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    address TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    report_date TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_group ON uploads (group_name, uploaded_at);
CREATE INDEX IF NOT EXISTS uploads_sha ON uploads (sha256);
-- The 报送平台's access codes, hashed (scrypt with the store's salt): a work group's 报送码 (holder = the
-- group) and HQ's 管理码 (holder = ''). Only the hash is kept: a lost code is replaced, never shown again.
CREATE TABLE IF NOT EXISTS access_codes (
    holder TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS code_salt (
    one INTEGER PRIMARY KEY CHECK (one=1),
    salt TEXT NOT NULL
);
"""

USER_VERSION = "PRAGMA user_version"
SET_USER_VERSION = f"PRAGMA user_version={SCHEMA_VERSION}"
TABLE_COLUMNS = "SELECT name FROM pragma_table_info(?)"
# (table, column): the ALTER that gives a store from before that column the column. A figure's is 0 in
# the earlier rows; notices.voided_run is empty (nothing an earlier version voided can be rolled back).
ADD_COLUMN = {(table, key): f"ALTER TABLE {table} ADD COLUMN {key} REAL NOT NULL DEFAULT 0"
              for table in ("ledger_rows", "project_reports") for key in FIGURE_KEYS}
ADD_COLUMN["notices", "voided_run"] = "ALTER TABLE notices ADD COLUMN voided_run INTEGER"


def migrate(db: sqlite3.Connection, name: str) -> None:
    """Bring a store (file `name`) written by an earlier version to SCHEMA_VERSION, one step per version,
    and say so in PRAGMA user_version (the first released store, version 0, is tests/data/v1-demo's)."""
    version = db.execute(USER_VERSION).fetchone()[0]
    if version > SCHEMA_VERSION:
        raise MasterUnusable(f"历史库 {name} 由更新版本的 xladdin 写成（版本 {version}）。"
                             "请升级 xladdin 后再运行。")
    if version < 1:  # 累计拆除地上附着物: 0 in every earlier row
        _add_new_figures(db)
    if version < 2:  # notices record the run that voided them (a store of version 1 may have the table)
        if "voided_run" not in {name for name, in db.execute(TABLE_COLUMNS, ("notices",))}:
            db.execute(ADD_COLUMN["notices", "voided_run"])
    # version 3: new tables only, each created empty by SCHEMA: problem_threads (the first run threads the whole
    # history), problem_runs (refreshed from the first touched date), the 报送平台's uploads, access_codes and
    # code_salt
    if version < 4:  # milestone_firsts: the 地块 reported so far (project first dates are found when asked)
        db.execute(FILL_PLOT_FIRSTS)
    # version 5: renumbers only (created empty by SCHEMA: nothing was renumbered before it)
    if version < SCHEMA_VERSION:
        db.execute(SET_USER_VERSION)
        db.commit()


def _add_new_figures(db: sqlite3.Connection) -> None:
    """Columns for figures newer than the store (累计拆除地上附着物): 0 in every earlier row, as the
    ledgers of that time lacked them."""
    for table in ("ledger_rows", "project_reports"):
        have = {name for name, in db.execute(TABLE_COLUMNS, (table,))}
        for key in FIGURE_KEYS:
            if key not in have:
                db.execute(ADD_COLUMN[table, key])
    db.commit()
