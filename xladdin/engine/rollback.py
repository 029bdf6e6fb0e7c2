"""Undoing the last run, and reading the stored history back."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from xladdin.base import clock
from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.fs import copy_whole, fit_name
from xladdin.base.schema import (
    FIGURE_KEYS,
    LEDGER_BY_KEY,
)
from xladdin.domain.settings import Settings
from xladdin.engine.intake import scan_inbox, sha256_of
from xladdin.notices.archive import withdraw_run
from xladdin.store.history import Store
from xladdin.workbook.layout import (
    HISTORY,
)
from xladdin.workbook.lock import MasterLock
from xladdin.workbook.package import MasterBook

log = logging.getLogger(__name__)

UNDO_LABEL = "撤销前"  # the backups a rollback takes of the master it replaces


def roll_back(master: Path) -> tuple[dict, int]:
    """Undo the last run: the master back from its backup, the run's submissions forgotten by the store.

    The master as it stands is backed up first (run["undo_backup"]), so that a rollback can itself be
    undone; a forgotten submission no longer in the inbox is put back from 归档 (run["restored"]), so
    the next run reads it again instead of losing its rows; a notice the run issued is withdrawn
    (run["withdrawn"]: its file renamed …-已撤销, its number free again) and one it voided is in force
    again (run["reinstated"]). A run of the Excel buttons left no backup (Excel owns that file): its
    store part is undone and the master left as it is (run["master_restored"] False).
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
            # A run from the Excel buttons has no backup: Excel saved (or did not save) the master itself.
            run["master_restored"] = run["backup"] is not None
            if run["master_restored"]:
                saved = _backup_path(master, settings, run["backup"])
                if saved is None:
                    raise MasterUnusable(f"找不到上次运行前的母表备份（{Path(run['backup']).name}），无法撤销。"
                                         f"请检查“{settings.backups}”文件夹。")
                MasterBook.open(saved)  # the backup must itself be a usable master
                shutil.copy2(saved, temp)  # before the undo backup below may prune old copies
                run["undo_backup"] = book.back_up(settings, clock.now(settings.zone), label=UNDO_LABEL)
            forgotten_files = store.submissions_of_run(run["run_id"])
            forgotten = store.roll_back(run["run_id"])
            run["withdrawn"], run["reinstated"] = withdraw_run(store, master.parent, run["run_id"])
            run["restored"] = _restore_from_archive(master.parent, settings, forgotten_files)
            store.commit()
            if run["master_restored"]:
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


def relative(path: Path, base: Path) -> str:
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


def history_view(rows: pd.DataFrame) -> pd.DataFrame:
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
    return history_view(rows).reset_index(drop=True)
