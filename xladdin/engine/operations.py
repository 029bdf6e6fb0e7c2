"""The named operations of xladdin, on one engine object: every door (the `xladdin` command, the Excel
macros, a future web door) calls these names and nothing below them.

    Engine.on_file(master).run(as_of=...)      # headless: the file, locked, backed up, saved atomically
    Engine.on_book(live_book).run()            # in Excel: the open workbook (workbook/live.py)

What each operation does, in words (the flags live here and nowhere else):

| operation   | reads the inbox | writes the master     | rewrites the 红黑榜 |
|-------------|-----------------|-----------------------|---------------------|
| validate    | yes             | no (nothing at all)   | no                  |
| consolidate | yes             | yes                   | no                  |
| rank        | no              | yes                   | yes                 |
| notice      | no              | yes                   | yes (and the 通报)  |
| run         | yes             | yes                   | yes                 |
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xladdin.domain.level import LEVELS
from xladdin.engine.model import JobResult, Progress, RunRequest
from xladdin.engine.pipeline import execute, run_job
from xladdin.notices.compose import DAILY

if TYPE_CHECKING:
    import pandas as pd

    from xladdin.domain.settings import Settings
    from xladdin.engine import platform
    from xladdin.workbook.book import Book

# What only some operations use is imported by them: a run (above all a second click with nothing new) does
# not load the 报送平台, the writers of templates and new masters (openpyxl, xlwings), rebuild or rollback.


def _one_reader(method):
    """The master as last read is shared: one thread reads it at a time (its reader is not thread-safe)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._reading:
            return method(self, *args, **kwargs)
    return wrapper


@dataclass(frozen=True)
class Operation:
    intake: bool = True
    write: bool = True
    write_ranking: bool = True


OPERATIONS = {
    "validate": Operation(write=False),
    "consolidate": Operation(write_ranking=False),
    "rank": Operation(intake=False),
    "notice": Operation(intake=False),
    "run": Operation(),
}


class Engine:
    """One master, on disk or open in Excel, and the operations staff run on it."""

    def __init__(self, master: Path | None = None, book: Book | None = None, base_dir: Path | None = None,
                 now: dt.datetime | None = None):
        if (master is None) == (book is None):
            raise ValueError("an engine works on a master file or on an open book")
        self.now = now  # None: each job reads the clock once, in 设置's time zone
        self.master = Path(master) if master is not None else None
        self.book = book
        self.base_dir = base_dir if base_dir is not None else (self.master.parent if self.master else Path.cwd())
        self._read: tuple | None = None  # (the file's size and time, its book, its registry or None): reused while unchanged
        self._reading = threading.RLock()

    @classmethod
    def on_file(cls, master: Path, now: dt.datetime | None = None) -> "Engine":
        return cls(master=master, now=now)

    @classmethod
    def on_book(cls, book: Book, base_dir: Path, now: dt.datetime | None = None) -> "Engine":
        return cls(book=book, base_dir=base_dir, now=now)

    # -- the job operations ------------------------------------------------------------------------

    def _job(self, name: str, *, inbox: Path | None = None, as_of: dt.date | None = None,
             progress: Progress = None, workers: int | None = None, **notice: object) -> JobResult:
        operation = OPERATIONS[name]
        request = RunRequest(command=name, as_of=as_of, now=self.now, inbox=inbox, intake=operation.intake,
                             write=operation.write, write_ranking=operation.write_ranking, progress=progress,
                             workers=workers if self.book is None else 1, **notice)
        if self.book is not None:
            return run_job(self.book, self.base_dir, request)
        return execute(self.master, request)

    def validate(self, *, inbox: Path | None = None, as_of: dt.date | None = None, progress: Progress = None,
                 workers: int | None = None) -> JobResult:
        """Check every inbox file; change nothing (neither the master nor the history store)."""
        return self._job("validate", inbox=inbox, as_of=as_of, progress=progress, workers=workers)

    def consolidate(self, *, inbox: Path | None = None, as_of: dt.date | None = None, progress: Progress = None,
                    workers: int | None = None) -> JobResult:
        """Validate, store the accepted rows, rewrite 汇总, 历史, 校验报告, 报送记录 (not the 红黑榜)."""
        return self._job("consolidate", inbox=inbox, as_of=as_of, progress=progress, workers=workers)

    def rank(self, *, as_of: dt.date | None = None, progress: Progress = None) -> JobResult:
        """Rewrite 汇总 and the 红黑榜 for a date from the history, without reading the inbox."""
        return self._job("rank", as_of=as_of, progress=progress)

    def notice(self, *, as_of: dt.date | None = None, kind: str = DAILY, issue: bool = False, reissue: bool = False,
               progress: Progress = None) -> JobResult:
        """Rewrite 汇总, the 红黑榜 and the charts from the history, and write the notice of its kind (the
        督查日报, the weekly 通报 or the 专报 per leader) on the 通报 sheet; with `issue`, number it and
        archive it in 通报存档 (`reissue` replaces the 期 already issued for the date, keeping its file)."""
        return self._job("notice", as_of=as_of, progress=progress, notice_kind=kind, issue=issue, reissue=reissue)

    def run(self, *, inbox: Path | None = None, as_of: dt.date | None = None, progress: Progress = None,
            workers: int | None = None) -> JobResult:
        """The one-click job: validate, consolidate, rank, the 通报 and the status on 控制台."""
        return self._job("run", inbox=inbox, as_of=as_of, progress=progress, workers=workers)

    def withdraw(self, submission: str, *, who: str, why: str, as_of: dt.date | None = None,
                 progress: Progress = None) -> JobResult:
        """Take one accepted submission (by file name or hash) out of the history, recorded with who and
        why, and rewrite 汇总 and the 红黑榜 from the others (the inbox is not read); `rollback` undoes it."""
        request = RunRequest(command="withdraw", as_of=as_of, now=self.now, intake=False, progress=progress,
                             withdraw=(submission, who, why), workers=1)
        if self.book is not None:
            return run_job(self.book, self.base_dir, request)
        return execute(self.master, request)

    def rebuild(self, *, as_of: dt.date | None = None) -> dict:
        """A new history store from 归档 (the old one kept beside it), then 汇总 and the 红黑榜 rewritten
        from it: the explicit way back when the store is lost."""
        from xladdin.engine.rebuild import rebuild_store

        report = rebuild_store(self._file(), as_of, self.now)
        report["result"] = self.rank(as_of=report["as_of"])
        return report

    # -- the other operations ----------------------------------------------------------------------

    def rollback(self) -> tuple[dict, int]:
        """Undo the last run on the file (the open workbook is undone by closing it without saving)."""
        from xladdin.engine.rollback import roll_back

        return roll_back(self._file())

    def history(self, *, group: str | None = None, project: str | None = None,
                include_superseded: bool = False) -> pd.DataFrame:
        """The stored history of accepted rows."""
        from xladdin.engine.history import history_frame

        return history_frame(self._file(), group=group, project=project, include_superseded=include_superseded)

    def templates(self, out: Path | None = None) -> list[Path]:
        """One fill-in ledger per work group, starting from its last accepted report."""
        from xladdin.engine.templates import write_group_templates
        from xladdin.workbook.package import MasterBook

        book = self.book if self.book is not None else MasterBook.open(self._file())
        return write_group_templates(book, self.base_dir, out)

    @staticmethod
    def init(directory: Path, name: str, level: str = LEVELS[0], projects: Path | None = None) -> Path:
        """A new master DIRECTORY/NAME of that level (设置 › 指挥部级别), its 项目清单 imported from
        `projects` (xlsx or csv; SettingsError and nothing written when any row is wrong), its inbox
        folder and the launchers beside it."""
        from xladdin.domain.settings import Settings
        from xladdin.workbook.build import build_master, write_launchers
        from xladdin.workbook.projectlist import read_project_list

        rows = read_project_list(Path(projects), level) if projects is not None else None
        path = Path(directory) / name
        Path(directory).mkdir(parents=True, exist_ok=True)
        build_master(path, rows, level=level)
        (Path(directory) / Settings().inbox).mkdir(exist_ok=True)  # 设置's default, beside the master
        write_launchers(Path(directory), name)
        return path

    # -- the 报送平台 (xladdin serve, xladdin codes): on the master file -------------------------------------

    @_one_reader
    def settings(self) -> Settings:
        return self._master().settings()

    @_one_reader
    def groups(self) -> list[str]:
        """The work groups of the 项目清单 (责任工作组): those that report, and hold a 报送码."""
        from xladdin.domain.roster import work_groups

        return work_groups(self._registry())

    @_one_reader
    def codes(self, *, now: dt.datetime | None = None, renew: bool = False) -> list[platform.IssuedCode]:
        """The 管理码 and every group's 报送码: issued where missing (at `now`, else the clock's), all replaced
        with `renew`."""
        from xladdin.base import clock
        from xladdin.domain.roster import work_groups
        from xladdin.engine import platform
        from xladdin.store.history import Store

        book = self._master()
        settings = book.settings()
        store = Store(self.base_dir / settings.store)
        try:
            return platform.issue_codes(store, work_groups(self._registry()), now or self.now or clock.now(settings.zone),
                                        renew)
        finally:
            store.close()

    def code_holder(self, code: str) -> tuple[str, str] | None:
        """(holder, code hash) of an access code ('' holds the 管理码), or None: not a code in force."""
        from xladdin.engine import platform
        from xladdin.store.history import Store

        store = Store(self.base_dir / self.settings().store)  # the hash (slow on purpose) outside the reader's lock
        try:
            return platform.code_holder(store, code)
        finally:
            store.close()

    @_one_reader
    def code_hashes(self) -> dict[str, str]:
        """holder -> the hash of the code in force (a session of an older code has ended)."""
        from xladdin.store.history import Store

        store = Store(self.base_dir / self.settings().store)
        try:
            return {holder: code_hash for holder, (code_hash, _) in store.access_codes().items()}
        finally:
            store.close()

    @_one_reader
    def accept_upload(self, staged: Path, *, client_name: str, group: str, address: str,
                      at: dt.datetime) -> platform.Upload:
        """A group's upload checked as `validate` checks an inbox file and, if it is that group's ledger, kept
        in the inbox under a server-made name with the upload time (the caller admits one at a time)."""
        from xladdin.engine import platform

        return platform.receive_upload(self._master(), self.base_dir, staged, client_name, group, address, at,
                                       registry=self._registry())

    @_one_reader
    def uploads(self, group: str | None, since: dt.date | None = None) -> list[dict]:
        """A group's uploads (everyone's with None), newest first, with what a run made of each since."""
        from xladdin.engine import platform
        from xladdin.store.history import Store

        store = Store(self.base_dir / self.settings().store)
        try:
            return platform.uploads_of(store, group, since)
        finally:
            store.close()

    @_one_reader
    def upload(self, upload_id: int) -> dict | None:
        from xladdin.store.history import Store

        store = Store(self.base_dir / self.settings().store)
        try:
            return store.upload(upload_id)
        finally:
            store.close()

    @_one_reader
    def roster(self, as_of: dt.date) -> pd.DataFrame:
        """今日报送情况 for a date, live: runs' submissions and the uploads since."""
        from xladdin.engine import platform

        return platform.live_roster(self._master(), self.base_dir, as_of, registry=self._registry())

    @_one_reader
    def inbox_files(self) -> list[dict]:
        from xladdin.engine import platform

        return platform.inbox_files(self._master(), self.base_dir)

    @_one_reader
    def board(self) -> dict:
        """The last run: 红黑榜, the 通报 sheet's text, the notices in 通报存档."""
        from xladdin.engine import platform

        return platform.last_board(self._master(), self.base_dir)

    def _master(self) -> Book:
        """The master as last read, read again when the file has changed (a run saved it, staff edited it)."""
        from xladdin.workbook.package import MasterBook

        if self.book is not None:
            return self.book
        info = self._file().stat()
        signature = (info.st_size, info.st_mtime_ns, info.st_ino)
        if self._read is None or self._read[0] != signature:
            self._read = (signature, MasterBook.open(self._file()), None)
        return self._read[1]

    def _registry(self) -> pd.DataFrame:
        """The master's 项目清单, read once per version of the file."""
        book = self._master()
        if self.book is not None:
            return book.registry()
        if self._read[2] is None:
            self._read = (self._read[0], book, book.registry())
        return self._read[2]

    def _file(self) -> Path:
        if self.master is None:
            raise ValueError("this operation works on the master file, not on the open workbook")
        return self.master
