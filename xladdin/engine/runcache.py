"""A run's figures kept with the run: the next run that would compute the same ones takes them instead.

A run's figures (engine/pipeline.py's _figures) are a function of the history store, the master's cells
(设置, 项目清单, 节点计划, 督办台账, 市里通报, which tables exist), the statistics date, the notice kind and the
code. The key names all of them: the store's generation read inside the run's transaction (any change to a
watched table, by any writer, draws a new one: store/history.py), the digest of the master file's bytes as
opened (only a master byte for byte as the last run saved it matches), the request's date and kind, and
a digest of the code. A run that finds its key kept reuses the figures and writes only what differs
from run to run (控制台 and the 校验报告); every other run computes them as before and keeps them, under
the key of the store and master it leaves behind.
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
import enum
import functools
import hashlib
import io
import logging
import pickle
import sys
from pathlib import Path


import xladdin
from xladdin.base.faults import strict
from xladdin.base.lazy import installed_version, numpy as np, pandas as pd
from xladdin.engine.model import JobResult, RunRequest
from xladdin.store.history import KEPT_FIGURES, Store

log = logging.getLogger(__name__)
KEY_VERSION = "1"
# What is this run's own and never kept: its files, its clock, its timing, what it issued or withdrew, and
# the 节点计划 as it read the sheet (for the live workbook's comparison; a run taking kept figures reads none).
PER_RUN = {"master": None, "inbox": None, "files": [], "ignored": [], "now": None, "seconds": 0.0,
           "wrote": False, "withdrawn": None, "issued": "", "plan_sheet": None}


@functools.cache
def code_version() -> str:
    """A digest of the code that computes and writes the figures (every module of the package) and of the
    interpreter and libraries it runs on: a kept result never outlives an upgrade."""
    digest = hashlib.sha256(f"{xladdin.__version__}|{sys.version}|{installed_version('pandas')}|{installed_version('numpy')}".encode())
    root = Path(xladdin.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(generation: str, master_digest: str, request: RunRequest, as_of) -> str:
    """The key a run's figures are kept and found under (see the module's docstring)."""
    parts = (KEY_VERSION, code_version(), generation, master_digest, as_of.isoformat(), request.command,
             request.notice_kind, request.intake, request.write_ranking)
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def reusable(request: RunRequest) -> bool:
    """Whether a run may take kept figures: one that writes, and neither issues a notice (a numbered file,
    its 期数 in the text) nor withdraws a submission (the store changes anyway)."""
    return request.write and not request.issue and not request.withdraw


def settled(result: JobResult) -> bool:
    """Whether the next run, reading the master this run writes, computes these figures again. Not after a
    run that met a one-shot request of staff it could not carry out (督办台账's 并入编号 or 拆出表述): it says
    so once, on the title, and the table it writes no longer holds the request."""
    register = result.register
    return register is None or not register.attrs.get("notes")


# The fields of a result that hold frames (or notices and counts made of them): kept apart, in their own pickle,
# read back only when something asks for one. The rest is plain (dates, texts, 设置) and read at once: a second
# click writes 控制台 from it and from the rows kept with it, and never loads pandas.
FRAMES = ("summary", "ranking", "trend", "notice_doc", "register", "plan", "key_plots", "leaders", "roster", "tally",
          "totals", "counts")


class KeptResult(JobResult):
    """Kept figures as a run's result: the plain fields at once, the frames unpickled (through the restricted
    reader) when one is first read. `status_rows` are 控制台's rows of these figures, as the run that kept them
    wrote them."""

    def __init__(self, plain: dict, frames: bytes, status_rows: list, ranking: list[dict], roster: list[dict]):
        self.__dict__.update(plain)
        self.__dict__.update(_frames=frames, status_rows=status_rows, _ranking=ranking, _roster=roster)

    def __getattribute__(self, name: str):
        if name in FRAMES and name not in object.__getattribute__(self, "__dict__"):
            object.__getattribute__(self, "load_frames")()
        return object.__getattribute__(self, name)

    def load_frames(self) -> None:
        """Unpickle the frames now (the first read of one does it)."""
        fields = self.__dict__
        if not all(frame in fields for frame in FRAMES):
            full = _Unpickler(io.BytesIO(fields["_frames"])).load()
            for frame in FRAMES:
                fields.setdefault(frame, getattr(full, frame))

    def ranking_entries(self) -> list[dict]:
        return super().ranking_entries() if "ranking" in self.__dict__ else copy.deepcopy(self._ranking)

    def roster_entries(self) -> list[dict]:
        return super().roster_entries() if "roster" in self.__dict__ else copy.deepcopy(self._roster)


def kept_result(store: Store, key: str) -> KeptResult | None:
    """The figures kept under this key, or None (none kept, another key, or unreadable)."""
    blob = store.kept_blob(KEPT_FIGURES, key)
    if blob is None:
        return None
    try:
        kept = _Unpickler(io.BytesIO(blob)).load()
        result = KeptResult(kept["plain"], kept["frames"], kept["status"], kept["ranking"], kept["roster"])
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError,
            IndexError, KeyError) as exc:  # kept by another version, or not by a run: computed afresh
        if strict():  # the test suite: a result this code kept and cannot read back is a bug (a new type in it)
            raise
        log.warning("kept figures not reusable: %s", exc)
        return None
    if strict():  # the test suite: the frames too are read back now, so that a type the reader refuses fails here
        result.load_frames()
    return result


def keep_result(store: Store, key: str, result: JobResult | None, status_rows: list | None = None) -> None:
    """Keep a run's figures under `key` (without what is the run's own), with 控制台's rows of them
    (`status_rows`); with None, the figures already kept (the ones the run took) under the new key."""
    if result is None:
        store.keep_blob(KEPT_FIGURES, key)
        return
    kept = copy.copy(result)
    for name, value in PER_RUN.items():
        setattr(kept, name, copy.copy(value))
    plain = {f.name: getattr(kept, f.name) for f in dataclasses.fields(JobResult) if f.name not in FRAMES}
    blob = {"plain": plain, "frames": pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL),
            "status": status_rows, "ranking": kept.ranking_entries(), "roster": kept.roster_entries()}
    store.keep_blob(KEPT_FIGURES, key, pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL))


def with_run(kept: JobResult, master: Path) -> JobResult:
    """Kept figures as this run's result (its own fields filled in by the run)."""
    kept.master = master
    return kept


# The store sits beside the master and anyone who can change it can change the campaign; still, reading a
# kept result builds only the kinds of values a result holds (the package's and pandas' own classes, numpy's
# arrays and scalars, dates) and calls only their rebuilding functions, never an arbitrary one.
_PLAIN = ("datetime", "zoneinfo", "collections", "copyreg", "_codecs", "decimal")
_BUILTINS = {"list", "dict", "set", "frozenset", "tuple", "slice", "complex", "bytearray", "range", "object",
             "bool", "int", "float", "str", "bytes"}
_REBUILDERS = ("_reconstruct", "_frombuffer", "scalar", "_unpickle", "__pyx_unpickle", "_new_", "new_block",
               "encode", "_timedelta_unpickle")



@functools.cache
def _pandas_data() -> tuple[type, ...]:
    """pandas' data classes (asked only when a kept result holds pandas values: then it is loaded anyway)."""
    return (pd.DataFrame, pd.Series, pd.Index, pd.api.extensions.ExtensionArray, pd.api.extensions.ExtensionDtype,
            pd.Timestamp, pd.Timedelta, pd.Period, pd.Interval, pd.offsets.BaseOffset, pd.Flags, type(pd.NaT))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module == "builtins" and name in _BUILTINS:
            return getattr(builtins, name)
        if module in _PLAIN or module.startswith(("xladdin.", "pandas", "numpy")):
            found = super().find_class(module, name)
            if module.startswith("pandas"):  # its data classes (not its readers and writers)
                if isinstance(found, type) and (issubclass(found, _pandas_data()) or found.__module__.startswith(
                        ("pandas.core.internals", "pandas._libs.internals"))):
                    return found
            elif module.startswith("numpy"):
                if found in (np.ndarray, np.dtype) or isinstance(found, type) and issubclass(found, (np.generic, np.dtype)):
                    return found
            elif module.startswith("xladdin."):
                # its dataclasses, and its value types made of a builtin one (the 节点计划's Node is a tuple)
                if dataclasses.is_dataclass(found) or isinstance(found, type) and issubclass(
                        found, (str, tuple, enum.Enum)):
                    return found
            elif isinstance(found, type) and not issubclass(found, BaseException):
                return found
            if not module.startswith("xladdin.") and name.startswith(_REBUILDERS) and callable(found):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a kept result")
