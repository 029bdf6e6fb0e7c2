"""One store per master: the history store a run opens is the one its master names.

The master carries an id (a hidden defined name) and its store records the same id (store_meta). A run
never starts from zero beside a master that has history: a missing store, an empty one, or one that
belongs to another master stops it (MasterUnusable, exit 3) before anything is written; rebuilding the
store from 归档 is an explicit command (`xladdin rebuild`). Checking (validate) never creates a store.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from xladdin.base.errors import MasterUnusable
from xladdin.store.history import Store
from xladdin.workbook.layout import HISTORY, LOG

REBUILD_HINT = "如历史库确已丢失，请运行 xladdin rebuild 母表文件 从“归档”文件夹重建"


# A cell only a run fills: 报送记录's SHA-256 and 历史's 来源文件 (staff notes in these tables are not history).
_WRITTEN_BY_RUNS = ((LOG, "SHA-256"), (HISTORY, "来源文件"))


def master_has_history(book) -> bool:
    """Whether the master shows what a run wrote: a 报送记录 row with its hash, or a 历史 row with its file."""
    for spec, label in _WRITTEN_BY_RUNS:
        if spec.name not in book.tables:
            continue
        try:
            header, rows = book.table_rows(spec.name)
            column = [str(h).strip() for h in header].index(label)
        except (KeyError, ValueError, IndexError):
            continue
        if any(column < len(values) and str(values[column] or "").strip() for _, values in rows):
            return True
    return False


def master_id_of(book) -> str | None:
    reader = getattr(book, "master_id", None)
    return reader() if reader is not None else None


def open_store(book, path: Path, write: bool) -> Store:
    """The master's store, checked to be its own; with `write`, a new master's store is created and both
    are bound (the id goes into the master with the run's save). Without `write` a missing store is an
    empty one in memory: checking never creates the file."""
    name = path.name
    mine = master_id_of(book)
    if not path.exists():
        if mine or master_has_history(book):
            raise MasterUnusable(f"找不到母表 {book.path.name} 的历史库 {name}（母表已有汇总历史）。"
                                 f"本次没有运行，母表未改动。请把历史库放回母表所在文件夹，{REBUILD_HINT}。")
        if not write:
            return Store.in_memory()
        store = Store(path)
        _bind(book, store, None)
        return store
    store = Store(path)
    try:
        theirs = store.master_id()
        if theirs and mine and theirs != mine:
            raise MasterUnusable(f"历史库 {name} 属于另一个母表，不是 {book.path.name} 的历史库。"
                                 f"本次没有运行，母表和历史库均未改动。请换回本母表自己的历史库，{REBUILD_HINT}。")
        if not theirs and store.is_empty() and (mine or master_has_history(book)):
            raise MasterUnusable(f"历史库 {name} 是空的，但母表 {book.path.name} 已有汇总历史。"
                                 f"本次没有运行，母表未改动。请把原来的历史库放回，{REBUILD_HINT}。")
        if not theirs and mine:
            raise MasterUnusable(f"历史库 {name} 不是母表 {book.path.name} 的历史库（没有本母表的标识）。"
                                 f"本次没有运行，母表和历史库均未改动。请换回本母表自己的历史库，{REBUILD_HINT}。")
        if theirs and not mine and not _save_was_lost(book, store, path.parent):
            raise MasterUnusable(f"历史库 {name} 属于另一个母表，不是 {book.path.name} 的历史库。"
                                 f"本次没有运行，母表和历史库均未改动。请换回本母表自己的历史库，{REBUILD_HINT}。")
        if write and (theirs != mine or not theirs):
            _bind(book, store, theirs)
    except BaseException:
        store.close()
        raise
    return store


def _save_was_lost(book, store: Store, base: Path) -> bool:
    """Whether a store naming a master, beside a master naming none, is this master's own whose save of
    the id was lost: its last run was from Excel (no backup: staff save the workbook), or the backup that
    run took is this very file (the run stopped after the store was committed, before the master was saved)."""
    run = store.last_run()
    if run is None or not run["backup"]:
        return True
    saved = Path(run["backup"]) if Path(run["backup"]).is_absolute() else base / run["backup"]
    try:
        return saved.read_bytes() == Path(book.path).read_bytes()
    except OSError:
        return False


def _bind(book, store: Store, known: str | None) -> None:
    """Write one id into both (the store's in this run's transaction, the master's with its save): a store
    written before stores were bound, or a master whose save of the id was lost (a crash, Excel not saved)."""
    value = known or uuid.uuid4().hex
    if not known:
        store.bind(value)
    writer = getattr(book, "set_master_id", None)
    if writer is not None:
        writer(value)
