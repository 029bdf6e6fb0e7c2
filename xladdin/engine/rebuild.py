"""Rebuilding a master's history store from its 归档 folder: the explicit way back when the store is lost
(a run never rebuilds it silently). Every archived submission is checked again in the order it arrived
and recorded in a new store bound to the master; the old store, if any, is kept beside it, and the
withdrawals and renumberings it recorded are applied again."""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from pathlib import Path

from xladdin.base import clock
from xladdin.base.errors import SettingsError
from xladdin.engine.binding import master_id_of
from xladdin.engine.intake import check_sources, sha256_of
from xladdin.engine.model import NEW_ACCEPTED
from xladdin.engine.reading import Source
from xladdin.store import sql
from xladdin.store.history import ACCEPTED, Store
from xladdin.workbook.lock import MasterLock
from xladdin.workbook.package import MasterBook

_ARCHIVED = re.compile(r"[0-9a-f]{12}_(.+)")


def archived_sources(archive: Path) -> list[Source]:
    """Every file in the archive's date folders as a source under the name it was received by, first
    received first (file time: the archive copy keeps it)."""
    found = []
    if not archive.is_dir():
        return []
    for folder in sorted(p for p in archive.iterdir() if p.is_dir()):
        for path in folder.iterdir():
            if path.name.startswith(".") or path.is_symlink():
                continue
            match = _ARCHIVED.fullmatch(path.name)
            if match is None or not path.is_file():
                continue
            info = path.stat()
            found.append((info.st_mtime_ns, folder.name, path.name, match.group(1), path))
    found.sort()
    return [Source(name, sha256_of(path), path, mtime_ns=mtime) for mtime, _, _, name, path in found]


def rebuild_store(master: Path, as_of: dt.date | None = None, now: dt.datetime | None = None) -> dict:
    """A new history store for the master from 归档 (the old one kept as …重建前-时间); what it did."""
    master = Path(master)
    with MasterLock(master):
        book = MasterBook.open(master)
        settings = book.settings()
        now = now or clock.now(settings.zone)
        as_of = as_of or now.date()
        path = master.parent / settings.store
        archive = master.parent / settings.archive
        sources = archived_sources(archive)
        if not sources:
            raise SettingsError(f"“{settings.archive}”文件夹中没有归档的报送文件，无法重建历史库。"
                                "请检查设置中的“归档文件夹”。")
        temp = path.with_name(f".~{path.name}.rebuild.tmp")
        temp.unlink(missing_ok=True)
        store = Store(temp)
        try:
            store.begin_run(as_of, "rebuild", now)
            # Files sent under a code since renumbered (项目清单 › 原编号, a chain A -> B -> C) go to the code
            # the project has now, as they went when the old store read them.
            store.note_renumbers(_old_store_rows(path, sql.RENUMBERS), now)
            outcomes = check_sources(sources, store, book.registry(), as_of, now, settings, None)
            withdrawn = 0
            for sha, name, who, why in _old_withdrawals(path):
                if store.known(sha) and store.known(sha)["status"] == ACCEPTED:
                    store.withdraw(sha, name, who, why, now)
                    withdrawn += 1
            store.bind(master_id_of(book) or os.urandom(16).hex())
            store.commit()
        finally:
            store.close()
        kept = None
        if path.exists():
            kept = path.with_name(f"{path.stem}.重建前-{now.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
            os.replace(path, kept)
        os.replace(temp, path)
    return {"files": len(sources), "accepted": sum(1 for o in outcomes if o.status == NEW_ACCEPTED),
            "withdrawn": withdrawn, "kept": kept.name if kept else None, "as_of": as_of}


def _old_withdrawals(path: Path) -> list[tuple[str, str, str, str]]:
    """The withdrawals the old store recorded (none when it is missing or unreadable)."""
    return _old_store_rows(path, sql.OLD_WITHDRAWALS)


def _old_store_rows(path: Path, statement: str) -> list[tuple]:
    """What a named statement reads from the old store (none when it is missing, unreadable or older than
    what it reads)."""
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute(statement).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
