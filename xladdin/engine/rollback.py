"""Undoing the last run: the master and its store back to the backup the run took, and the forgotten
submissions back into the inbox."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from xladdin.base import clock
from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.fs import copy_whole, fit_name
from xladdin.domain.settings import Settings
from xladdin.engine.intake import scan_inbox, sha256_of
from xladdin.notices.archive import withdraw_run
from xladdin.store.history import Store
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
