"""The inbox: scanning it, reading and screening each submission (in worker processes when there are
many), checking it against the registry and each group's state, archiving it and writing returned copies."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from xladdin.base.faults import strict
from xladdin.base.fs import copy_whole, fit_name, os_reason, skip_reason
from xladdin.base.issues import Code, Issue
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import (
    FIGURE_KEYS,
)
from xladdin.base.text import xml_safe
from xladdin.domain.settings import Settings
from xladdin.domain.validate import Checked, GroupState, ProjectState, RegistryIndex, check_ledger
from xladdin.engine.model import (
    CHECKING,
    DUPLICATE,
    KNOWN,
    NEW_ACCEPTED,
    NEW_REJECTED,
    SKIPPED,
    FileOutcome,
    Progress,
    tell,
)
from xladdin.engine.reading import Source, claimed_date, claimed_group, read_all, safely
from xladdin.store.history import REJECTED, Store
from xladdin.workbook.guard import Limits
from xladdin.workbook.reader import Grid
from xladdin.workbook.returned import returned_name, write_returned_copy

log = logging.getLogger(__name__)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan_inbox(inbox: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Submission files in the inbox, first received first, and (name, reason) of every other entry:
    hidden and temporary files, folders, other types, links out of the inbox or to nothing."""
    if not inbox.is_dir():
        return [], []
    root = inbox.resolve()
    files, skipped = [], []
    for path in inbox.iterdir():
        reason = skip_reason(path, root)
        if reason is None:
            try:
                info = path.stat()
                files.append((info.st_mtime_ns, info.st_ctime_ns, path.name, path))
                continue
            except OSError as exc:
                reason = f"无法读取（{os_reason(exc)}），未读取。请检查该文件。"
        skipped.append((xml_safe(path.name), reason))
    # First received first (file time, then the time it was put in the folder): a copy forwarded later
    # is the duplicate, not the original, and of two reports for one day the later arrival wins.
    return [path for *_, path in sorted(files)], sorted(skipped)




def inbox_sources(paths: list[Path]) -> tuple[list[Source], list[tuple[str, str]]]:
    """The inbox files as sources, and (name, reason) of those that cannot be read at all."""
    sources, unreadable = [], []
    for path in paths:
        try:
            # The name as shown and stored: without characters no XML part may hold (a file system allows them).
            sources.append(Source(xml_safe(path.name), sha256_of(path), path, mtime_ns=path.stat().st_mtime_ns))
        except OSError as exc:
            unreadable.append((xml_safe(path.name), f"无法读取（{os_reason(exc)}），未读取。请检查该文件的权限后重新放入。"))
    return sources, unreadable


def skipped_outcome(name: str, reason: str) -> FileOutcome:
    return FileOutcome(name, "", SKIPPED, issues=[Issue(Code.INBOX_ENTRY_SKIPPED, file=name, detail=reason)])


# Rejections caused by something outside the file: the statistics date, the 项目清单 HQ keeps, and what
# the group's earlier reports say. Content rejected only for these is checked again when it comes back
# (the same bytes or a renamed copy); content accepted, or rejected for a reason inside it, is decided.
OUTSIDE_THE_FILE = frozenset({Code.DATE_FUTURE, Code.DATE_STALE, Code.UNIT_UNKNOWN, Code.PROJECT_UNKNOWN,
                              Code.PROJECT_NOT_ASSIGNED, Code.CUMULATIVE_DECREASED})


def _decided_by_the_file(known: dict, sha256: str, store: Store) -> bool:
    """Whether stored content stays as decided: accepted, or rejected for a reason inside the file."""
    if known["status"] != REJECTED:
        return True
    errors = [i.code for i in store.issues_of([sha256]) if i.is_error]
    return not errors or not set(errors) <= OUTSIDE_THE_FILE


def grid_digest(grid: Grid) -> str:
    """A pasted sheet's identity: its name and values."""
    return hashlib.sha256(json.dumps([grid.sheet, grid.rows], default=str, ensure_ascii=False).encode()).hexdigest()


def check_sources(sources: list[Source], store: Store, registry: pd.DataFrame | Callable[[], pd.DataFrame],
                  as_of: dt.date, now: dt.datetime,
                  settings: Settings, folders: dict[str, Path] | None, workers: int = 1, progress: Progress = None
                  ) -> list[FileOutcome]:
    """Check every new submission in report-date order, recording each in the store as it goes (stamped with
    the run's `now`). `registry` may be a function giving it: asked only when a file is new."""
    outcomes, pending, rechecked = _sort_out(sources, store, folders, now)
    # Read every file first, then check in report-date order so that history rules see earlier days.
    limits = Limits.from_settings(settings)
    index = RegistryIndex(registry() if callable(registry) else registry, store.renumbers()) if pending else None
    known: dict[str, dict[str, GroupState]] = {}

    def checking() -> tuple:  # for reader processes that also check: every group's state, before they fork
        known["states"] = store.history()
        return index, known["states"], as_of, settings.jump_ratio

    read = read_all(pending, limits, workers, checking, progress)
    # Read one at a time (a few files): only the groups they claim to be from need their state.
    states = known["states"] if "states" in known else _history_of(store, index, {claimed_group(i) for i, _ in read})
    # Report-date order; within a date, arrival order (pending keeps the inbox's), never the file name:
    # a correction that sorts before its original by name must still be applied after it.
    located = [(source, item, early) for source, (item, early) in zip(pending, read)]
    arrival = {id(source): i for i, source in enumerate(pending)}
    located.sort(key=lambda entry: (claimed_date(entry[1]), arrival[id(entry[0])]))
    # How many files each group sent in this drop: a group's later file depends on its earlier one.
    senders = Counter(claimed_group(item) for _, item, _ in located)
    for done, (source, item, early) in enumerate(located, start=1):
        tell(progress, CHECKING, done, len(located))
        if isinstance(item, Checked):
            checked = item
        elif early is not None and senders[early.group] == 1:
            checked = early  # the group's only file this run: the states it was checked against still hold
        else:
            checked = safely(source.name, lambda: check_ledger(item, index, states, as_of, settings.jump_ratio))
        outcomes[source.name] = _record(source, checked, store, now, source.sha256 in rechecked,
                                        senders[checked.group] > 1, states, folders)
    for source in sources:
        outcome = outcomes[source.name]
        if outcome.status in (DUPLICATE, KNOWN):
            store.note_file_name(outcome.sha256, source.name, now)
    return [outcomes[source.name] for source in sources]


def _sort_out(sources: list[Source], store: Store, folders: dict[str, Path] | None, now: dt.datetime
              ) -> tuple[dict[str, FileOutcome], list[Source], set[str]]:
    """What is decided without reading: files already decided by their content (known) and copies of a
    file in the same drop (duplicates); the rest pending, archived first when writing. Also the contents
    that were rejected before for a reason outside them, to be checked again."""
    outcomes: dict[str, FileOutcome] = {}
    pending: list[Source] = []
    first_of: dict[str, str] = {}
    rechecked: set[str] = set()
    for source in sources:
        known = store.known(source.sha256)
        if known is not None and _decided_by_the_file(known, source.sha256, store):
            outcomes[source.name] = _known_outcome(source, known, store, folders)
        elif source.sha256 in first_of:  # identical content under two names in one drop: the first counts
            outcomes[source.name] = FileOutcome(source.name, source.sha256, DUPLICATE,
                                                same_as=first_of[source.sha256])
        else:
            first_of[source.sha256] = source.name
            if known is not None:
                rechecked.add(source.sha256)
            if folders is not None and "archive" in folders and source.path is not None:
                folder = folders["archive"] / now.strftime("%Y-%m-%d")
                folder.mkdir(parents=True, exist_ok=True)
                copy_whole(source.path, folder / fit_name(f"{source.sha256[:12]}_{source.name}"))
            pending.append(source)
    return outcomes, pending, rechecked


def _record(source: Source, checked: Checked, store: Store, now: dt.datetime, rechecked: bool, one_of_several: bool,
            states: dict[str, GroupState], folders: dict[str, Path] | None) -> FileOutcome:
    """One checked file stored (unless rejected again as before), the group's state advanced for its next
    file in this drop, a returned copy written for a rejection; its outcome."""
    older = False
    if checked.accepted:
        earlier = store.accepted_arrival(checked.group, checked.report_date)
        # A copy written before the accepted one (an original forwarded late) never replaces it.
        older = earlier is not None and earlier[1] is not None and source.mtime_ns is not None \
            and source.mtime_ns < earlier[1]
        resaved = store.resaved_from(checked) if earlier and not older else None
        if resaved:  # an old file opened and saved again is not a new report: it never replaces a correction
            older = True
            checked.issues.append(Issue(Code.RESAVED_COPY, file=source.name, group=checked.group,
                                        value=checked.report_date.isoformat(), expected=earlier[0], detail=resaved))
        elif earlier:
            checked.issues.append(Issue(Code.ARRIVED_LATE if older else Code.SUPERSEDES, file=source.name,
                                        group=checked.group, value=checked.report_date.isoformat(),
                                        expected=earlier[0]))
    if source.mtime_ns is not None:
        store.note_arrival(source.sha256, source.mtime_ns)
    # Content rejected before for a reason outside it, and again now: stored as it was, nothing new to announce.
    again = rechecked and not checked.accepted
    if not again:
        store.record(checked, source.sha256, now, older)
    if checked.accepted and one_of_several and not older:
        _advance(states, checked)
    outcome = FileOutcome(
        source.name, source.sha256, NEW_ACCEPTED if checked.accepted else (KNOWN if again else NEW_REJECTED),
        checked.group, checked.report_date, len(checked.records), checked.issues, checked.accepted,
        pasted=source.pasted)
    if not checked.accepted and folders is not None and source.path is not None and checked.sheet:
        copy = _returned_copy(source, checked, folders["returned"])
        outcome.returned = _link_path(copy, folders["master"]) if isinstance(copy, Path) else ""
    return outcome


def _returned_copy(source: Source, checked: Checked, folder: Path) -> Path | None:
    """The marked-up copy of a rejected file; an OS error (disk full, no permission) stops the run."""
    try:
        return write_returned_copy(source.path, checked.issues, checked.sheet, folder)
    except OSError:
        raise
    except Exception:
        if strict():  # the test suite: a bug in the marked-up copy is a failure
            raise
        log.exception("could not write the returned copy of %s", source.name)
        return None


def _link_path(path: Path, base: Path) -> str:
    """A file as a hyperlink from the master: relative when it is beside it, else absolute."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def _history_of(store: Store, index: RegistryIndex | None, groups: set[str]):
    """What the files of these groups are checked against: the groups' last reports and those of every
    project the registry gives them (history belongs to the project, whoever reported it before)."""
    projects = [p for g in groups for p in index.projects_of.get(g, [])] if index is not None else []
    return store.history(groups, projects)


def _advance(states: dict[str, GroupState], checked: Checked) -> None:
    """The group's and its projects' last accepted states after accepting `checked` (a same-day
    resubmission replaces them)."""
    totals = _project_totals(checked)
    projects = getattr(states, "projects", None)
    if projects is not None:
        for project, figures in totals.items():
            last = projects.get(project)
            if last is not None and checked.report_date < last.report_date:
                continue
            before = last.before if last is not None and last.report_date == checked.report_date else last
            projects[project] = ProjectState(checked.report_date, figures, checked.group, before)
    current = states.get(checked.group)
    if current is not None and checked.report_date < current.report_date:
        return
    before = current.before if current is not None and current.report_date == checked.report_date else current
    states[checked.group] = GroupState(checked.report_date, totals, before)


def _project_totals(checked: Checked) -> dict[str, dict[str, float]]:
    """Each project's figures summed over its rows (地块), NaN skipped, as a groupby's sum gives them, in
    project order: a dozen rows per file, summed in plain Python (fsum: rounded once, as pandas' compensated
    sum is)."""
    parts: dict[str, list[list[float]]] = {}
    width = len(FIGURE_KEYS)
    for project, _plot, *values in checked.records:
        parts.setdefault(project, []).append(values[:width])
    return {project: {key: math.fsum(row[i] for row in rows if row[i] == row[i])
                      for i, key in enumerate(FIGURE_KEYS)}
            for project, rows in sorted(parts.items())}


def _known_outcome(source: Source, known: dict, store: Store, folders: dict[str, Path] | None) -> FileOutcome:
    name, sha = source.name, source.sha256
    report_date = dt.date.fromisoformat(known["report_date"]) if known["report_date"] else None
    accepted = known["status"] != REJECTED
    if known["file_name"] != name:
        return FileOutcome(name, sha, DUPLICATE, known["group_name"] or "", report_date, accepted=accepted,
                           same_as=known["file_name"])
    outcome = FileOutcome(name, sha, KNOWN, known["group_name"] or "", report_date, issues=store.issues_of([sha]),
                          accepted=accepted, pasted=source.pasted)
    if not accepted and folders is not None:
        copy = folders["returned"] / returned_name(name)
        outcome.returned = _link_path(copy, folders["master"]) if copy.exists() else ""
    return outcome
