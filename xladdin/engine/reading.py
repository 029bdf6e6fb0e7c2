"""Reading and screening submissions: one file or pasted sheet located and checked, many in worker
processes (each gets the groups' states before it forks, so it can check as it reads)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import itertools
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from xladdin.base.faults import crash_point, strict
from xladdin.base.fs import os_reason
from xladdin.base.issues import Code, Issue
from xladdin.base.located import Ledger, UncachedFormula
from xladdin.base.schema import (
    LABEL_DATE,
    LABEL_UNIT,
    cell_address,
)
from xladdin.base.values import parse_date
from xladdin.domain.validate import Checked, check_ledger, clean_text
from xladdin.engine.model import READING, Progress, tell
from xladdin.workbook.guard import Limits, Rejection
from xladdin.workbook.reader import Grid, UnreadableFile, locate_ledger, read_grid

log = logging.getLogger(__name__)


@dataclass
class Source:
    """One submission: a file in the inbox, or a ledger sheet pasted into the master itself."""

    name: str
    sha256: str
    path: Path | None = None
    grid: Grid | None = None  # a pasted sheet's values, already read
    mtime_ns: int | None = None  # when the file was written: the later of two reports for a day wins

    @property
    def pasted(self) -> bool:
        return self.path is None

    def locate(self, limits: Limits | None = None) -> Ledger | Checked:
        if self.grid is not None:
            return locate_grid(self.grid, self.name, limits)
        return locate_file(self.path, limits)


def locate_file(path: Path, limits: Limits | None = None) -> Ledger | Checked:
    """Read one submission and find its ledger; a file refused or unreadable is a rejected Checked."""
    try:
        grid = read_grid(path, limits)
    except Rejection as refused:
        return _refused(path.name, "", refused.code, **refused.fields)
    except UnreadableFile as exc:
        return _refused(path.name, "", Code.FILE_UNREADABLE, detail=str(exc))
    except OSError as exc:  # gone or locked between the scan and the read: this file only
        return _refused(path.name, "", Code.FILE_UNREADABLE, detail=f"无法读取：{os_reason(exc)}")
    if not grid.sheet:
        return _refused(path.name, "", Code.SHEET_MISSING)
    return locate_grid(grid, path.name, limits)


def locate_grid(grid: Grid, name: str, limits: Limits | None = None) -> Ledger | Checked:
    """The ledger of a grid, within the limits of 设置 (a sheet too big to check is refused whole)."""
    limits = limits or Limits()
    height, width = len(grid.rows), max((len(row) for row in grid.rows), default=0)
    if height > limits.max_rows:
        return _refused(name, grid.sheet, Code.TOO_MANY_ROWS, value=str(height), expected=str(limits.max_rows))
    if width > limits.max_cols:
        return _refused(name, grid.sheet, Code.TOO_MANY_COLUMNS, value=str(width), expected=str(limits.max_cols))
    ledger = locate_ledger(grid, name)
    limit = limits.max_cell_chars
    # The longest text on the sheet, taken in C: the usual sheet has none too long, and no cell is visited.
    if max(map(len, filter(str.__instancecheck__, itertools.chain.from_iterable(grid.rows))), default=0) <= limit:
        return ledger
    for r, row in enumerate(grid.rows, start=1):
        for c, value in enumerate(row, start=1):
            # A formula never computed (a template's self-check saved by a program) is not typed content.
            if isinstance(value, str) and len(value) > limit and not isinstance(value, UncachedFormula):
                ledger.too_long[cell_address(r, c)] = (len(value), limit)
    return ledger


def _refused(file: str, sheet: str, code: str, **fields: str) -> Checked:
    checked = Checked(file=file, sheet=sheet)
    checked.issues.append(Issue(code, file=file, sheet=sheet, **fields))
    return checked


PARALLEL_FROM = 24  # files; below this, starting worker processes costs more than it saves


# In a reader process only: what it checks against (index, states, as-of date, jump ratio), set by
# _start_reader. The processes fork, so these arrive unpickled; the running process never sets it.
_CHECKING: tuple | None = None


def _locate_one(source: Source, limits: Limits) -> Ledger | Checked:
    return safely(source.name, lambda: source.locate(limits))


def _read_one(source: Source, limits: Limits) -> tuple[Ledger | Checked, Checked | None]:
    """In a reader process: a file located, and checked against the states as they were at the start."""
    item = _locate_one(source, limits)
    if isinstance(item, Checked) or _CHECKING is None:
        return item, None
    index, states, as_of, jump_ratio = _CHECKING
    return item, safely(source.name, lambda: check_ledger(item, index, states, as_of, jump_ratio))


def read_all(sources: list[Source], limits: Limits, workers: int, checking,
              progress: Progress = None) -> list[tuple[Ledger | Checked, Checked | None]]:
    """Read and locate every new submission; on several cores when there are many files, where each
    is also checked on the spot against the states before this run (the caller re-checks the files of
    a group that sent more than one, whose later files depend on the earlier)."""
    if workers > 1 and len(sources) >= PARALLEL_FROM:
        try:
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_start_reader,
                                                        initargs=(os.getpid(), checking())) as pool:
                read = []
                for item in pool.map(_read_one, sources, [limits] * len(sources), chunksize=8):
                    read.append(item)
                    tell(progress, READING, len(read), len(sources))
                    crash_point("reading")
                return read
        except (OSError, ValueError, concurrent.futures.process.BrokenProcessPool):
            log.warning("parallel reading unavailable; reading one file at a time")
    read = []
    for source in sources:
        read.append((_locate_one(source, limits), None))
        tell(progress, READING, len(read), len(sources))
    return read


def _start_reader(parent: int, against: tuple) -> None:
    """In a new reader process: keep what files are checked against, and exit as soon as the run that
    started it is gone (killed, crashed)."""
    global _CHECKING
    _CHECKING = against

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def safely(name: str, work):
    """Run one file's reading or checking; an unexpected failure rejects that file, never the run."""
    try:
        return work()
    except Exception:
        if strict():  # the test suite: a bug in a check is a failure, not a rejection
            raise
        log.exception("could not process %s", name)
        return _refused(name, "", Code.FILE_UNREADABLE, detail="文件内容无法处理")


def claimed_group(item: Ledger | Checked) -> str:
    """The work group a ledger says it is from, as check_ledger reads it ("" for a refused file)."""
    return "" if isinstance(item, Checked) else clean_text(item.identity.get(LABEL_UNIT, (None, ""))[0])


def claimed_date(item: Ledger | Checked) -> dt.date:
    if isinstance(item, Checked):
        return dt.date.max
    return parse_date(item.identity.get(LABEL_DATE, (None, ""))[0]) or dt.date.max
