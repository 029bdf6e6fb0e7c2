"""The 报送平台's operations (the `xladdin serve` and `xladdin codes` doors call them through Engine): the access
codes, an upload received into the inbox and answered at once by the very check `validate` runs on an inbox
file, a group's uploads, the roster of the day as the uploads make it, the inbox, and the last run's board.

An upload is checked under the name the server gives it, as the file it will be in the inbox, together with
the group's earlier uploads that no run has decided yet (in arrival order, as `validate` reads the inbox), so
its status and issues are those `xladdin validate --json` gives for it. A file that is not a readable ledger
(unreadable, hostile, too big, no 进度台账), a ledger from another group, or a copy of a file already sent is
refused and nothing is stored; anything else is put in the inbox whole, its time the upload time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from xladdin.base.clock import local_time
from xladdin.base.fs import SUPPORTED_SUFFIXES, copy_whole, fit_name
from xladdin.base.issues import Code
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import SHEET_NOTICE
from xladdin.domain.roster import daily_roster, work_groups
from xladdin.engine.intake import scan_inbox, sha256_of
from xladdin.engine.model import DUPLICATE, SKIPPED, FileOutcome
from xladdin.engine.pipeline import check_files
from xladdin.notices.archive import ACTIVE, all_issued
from xladdin.store.history import ACCEPTED, REJECTED, Store
from xladdin.workbook.book import Book
from xladdin.workbook.layout import RANKING

ADMIN = ""  # the holder of HQ's 管理码 in the store (a work group is held by its name)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed without mistakes
GROUP_CODE_LENGTH, ADMIN_CODE_LENGTH = 10, 15
# scrypt's cost: 8 MB and about 0.1 s per code checked (a guess at a 50-bit code costs as much)
SCRYPT = {"n": 2**13, "r": 8, "p": 1, "dklen": 32}

# Codes of files refused whole: not a readable ledger at all, so the platform keeps nothing of them.
REFUSED_WHOLE = frozenset({Code.FILE_UNREADABLE, Code.FILE_TOO_LARGE, Code.PASSWORD_PROTECTED, Code.SHEET_MISSING,
                           Code.TOO_MANY_ROWS, Code.TOO_MANY_COLUMNS})
# What a group is told at once.
RECEIVED, RETURNED, REFUSED, REPEATED = "已接收（待汇总）", "退回", "拒收", "重复"
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|\.\.")
WINDOWS_RESERVED = re.compile(r'[<>:"|?*\x00-\x1f\x7f/\\]')


# -- access codes -------------------------------------------------------------------------------------------

@dataclass
class IssuedCode:
    """A holder's code as `xladdin codes` shows it: the code itself only when it was just issued."""

    holder: str
    code: str | None
    issued_at: str
    new: bool

    @property
    def role(self) -> str:
        return "管理码" if self.holder == ADMIN else "报送码"

    def to_dict(self) -> dict:
        return {"holder": self.holder or "指挥部", "role": self.role, "code": self.code, "issued_at": self.issued_at,
                "new": self.new}


def normalize_code(text: str) -> str:
    """A code as typed (any case, full-width characters, spaces and dashes) in the form it is hashed."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in folded if ch.isalnum())


def hash_code(code: str, salt: str) -> str:
    return hashlib.scrypt(normalize_code(code).encode("utf-8"), salt=bytes.fromhex(salt), **SCRYPT).hex()


def new_code(length: int) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
    return "-".join(raw[i:i + 5] for i in range(0, length, 5))


def issue_codes(store: Store, groups: list[str], now: dt.datetime, renew: bool = False) -> list[IssuedCode]:
    """HQ's 管理码 and each group's 报送码: issued where missing (all of them again with `renew`); only the
    hash is stored, so a code is shown once, when issued."""
    salt = store.code_salt(secrets.token_hex(16))
    held = store.access_codes()
    issued = []
    for holder in [ADMIN, *groups]:
        if holder in held and not renew:
            issued.append(IssuedCode(holder, None, held[holder][1], False))
            continue
        code = new_code(ADMIN_CODE_LENGTH if holder == ADMIN else GROUP_CODE_LENGTH)
        store.set_access_code(holder, hash_code(code, salt), now)
        issued.append(IssuedCode(holder, code, now.isoformat(timespec="seconds"), True))
    store.commit()
    return issued


def code_holder(store: Store, code: str) -> tuple[str, str] | None:
    """(holder, code hash) of a code, or None when no one holds it."""
    salt = store.stored_code_salt()
    if salt is None or not normalize_code(code):
        return None
    digest = hash_code(code, salt)
    holder = store.holder_of(digest)
    return None if holder is None else (holder, digest)


# -- uploads ------------------------------------------------------------------------------------------------

@dataclass
class Upload:
    """What the platform answers for one upload: the engine's outcome for the file, whether it was kept."""

    verdict: str  # RECEIVED, RETURNED, REFUSED or REPEATED
    outcome: FileOutcome
    stored: bool = False
    upload_id: int | None = None
    message: str = ""  # why it was refused or not kept again (Chinese), else ""
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.outcome.to_dict() | {"verdict": self.verdict, "stored": self.stored, "upload_id": self.upload_id,
                                         "message": self.message}


def name_refusal(client_name: str) -> str | None:
    """Why a file name sent by a client is refused (Chinese), or None: a path, control characters, `..`,
    or not a ledger's type."""
    if not client_name or UNSAFE_NAME.search(client_name):
        return "文件名不能含有“..”“/”“\\”或控制字符。请把台账改成普通文件名（如 城南片区工作组台账.xlsx）后重新上传。"
    suffix = Path(client_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return (f"只接收台账文件（.xlsx、.xlsm、.xls、.csv），此文件是“{suffix or '无扩展名'}”。"
                "请用 Excel 或 WPS 另存为 .xlsx 后重新上传。")
    return None


def server_name(group: str, at: dt.datetime, sha256: str, suffix: str) -> str:
    """The name an upload is kept under in the inbox: the group, the time, the start of its SHA-256."""
    safe = WINDOWS_RESERVED.sub("_", group).strip(" .") or "工作组"
    return fit_name(f"{safe}_{at:%Y%m%d-%H%M%S}_{sha256[:8]}{suffix.lower()}")


def receive_upload(book: Book, base_dir: Path, staged: Path, client_name: str, group: str, address: str,
                   at: dt.datetime, timeout: float = 60.0, registry: pd.DataFrame | None = None) -> Upload:
    """Check a file a group uploaded (`staged`, any name) as the inbox file it would be and keep it there if it
    is a ledger of that group not sent before: written whole under a server-made name with the upload time as
    its time, and recorded (group, time, address, SHA-256, verdict). The caller checks `client_name` first
    (name_refusal) and lets one upload through at a time."""
    settings = book.settings()
    inbox = base_dir / settings.inbox
    sha256 = sha256_of(staged)
    name = server_name(group, at, sha256, Path(client_name).suffix)
    stamp = int(at.replace(tzinfo=settings.zone).timestamp() * 1e9)  # `at` is HQ time (设置 › 时区)
    with tempfile.TemporaryDirectory(prefix="xladdin-upload-") as folder:
        candidate = Path(folder) / name
        shutil.copyfile(staged, candidate)
        os.utime(candidate, ns=(stamp, stamp))  # the upload time is its arrival time (报送截止时间 applies)
        store = Store(base_dir / settings.store, timeout=timeout)
        try:
            earlier = [inbox / u["file_name"] for u in reversed(store.uploads(group, limit=20))
                       if u["decided"] is None and (inbox / u["file_name"]).is_file()]
        finally:
            store.close()
        outcome = check_files(book, base_dir, [*earlier, candidate], as_of=at.date(), now=at, returned=True,
                              timeout=timeout, registry=registry)[-1]
        refusal = _refusal(outcome, group)
        if refusal is not None:
            verdict, message = refusal
            if outcome.returned:
                (base_dir / outcome.returned).unlink(missing_ok=True)
                outcome.returned = ""
            return Upload(verdict, outcome, message=message)
        inbox.mkdir(parents=True, exist_ok=True)
        copy_whole(candidate, inbox / name)  # whole or absent; the copy keeps the upload time
    status = ACCEPTED if outcome.accepted else REJECTED
    store = Store(base_dir / settings.store, timeout=timeout)
    try:
        store.note_arrival(sha256, stamp)
        upload_id = store.record_upload(name, client_name, group, at, address, sha256, staged.stat().st_size, status,
                                        outcome.report_date, outcome.to_dict())
        store.commit()
    except BaseException:
        (inbox / name).unlink(missing_ok=True)  # not recorded: not kept either
        raise
    finally:
        store.close()
    return Upload(RECEIVED if outcome.accepted else RETURNED, outcome, stored=True, upload_id=upload_id)


def _refusal(outcome: FileOutcome, group: str) -> tuple[str, str] | None:
    """(verdict, message) when an upload is not kept, else None."""
    if outcome.status == SKIPPED:
        return REFUSED, outcome.issues[0].message
    whole = [i for i in outcome.errors if i.code in REFUSED_WHOLE]
    if whole:
        return REFUSED, whole[0].message
    if outcome.group and outcome.group != group:
        return REFUSED, (f"这份台账的填报单位是“{outcome.group}”，不是本组（{group}）。"
                         "请上传本组的台账；如填报单位写错了，请改正后重新上传。")
    if outcome.status == DUPLICATE:
        return REPEATED, f"与此前报送的《{outcome.same_as}》内容完全相同，未重复保存。如需更正，请修改台账后重新上传。"
    return None


def uploads_of(store: Store, group: str | None, since: dt.date | None, limit: int = 200) -> list[dict]:
    """A group's uploads (everyone's with None) since a date, newest first, each with its standing now:
    待汇总 / 已汇总 / 已退回 / 已替代."""
    found = store.uploads(group, since, limit)
    for upload in found:
        decided = upload["decided"]
        upload["standing"] = decided if decided else ("待汇总" if upload["status"] == ACCEPTED else "请改正后重新上传")
        upload["verdict"] = RECEIVED if upload["status"] == ACCEPTED else RETURNED
    return found


# -- what HQ sees -------------------------------------------------------------------------------------------

def live_roster(book: Book, base_dir: Path, as_of: dt.date, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    """今日报送情况 for a date as the uploads make it now: every group of the registry, from what runs stored
    and the uploads since (each counted once, by the group that sent it, at its upload time)."""
    settings = book.settings()
    store = Store(base_dir / settings.store)
    try:
        if registry is None:
            key = book.registry_key()
            registry = store.kept_frame("registry", key) if key else None  # read only: a run keeps it
        groups = work_groups(registry if registry is not None else book.registry())
        stored = store.submissions_for(as_of, settings.zone)
        uploaded = store.uploads_for(as_of)
    finally:
        store.close()
    stored = stored[~stored["file_name"].isin(set(uploaded["file_name"]))]
    frame = pd.concat([stored, uploaded], ignore_index=True) if not uploaded.empty else stored
    if not frame.empty:
        frame["received_at"] = pd.to_datetime(frame["received_at"])
    return daily_roster(groups, frame, as_of, settings.report_cutoff)


def inbox_files(book: Book, base_dir: Path, done: int = 10) -> dict:
    """The inbox's submission files, newest first: every one no run has read yet (waiting) and the last `done`
    read ones; each with its name, size, time, the group that uploaded it (platform uploads) and its standing."""
    settings = book.settings()
    zone = settings.zone
    paths, _ = scan_inbox(base_dir / settings.inbox)
    store = Store(base_dir / settings.store)
    waiting, read = [], []
    try:
        for path in reversed(paths):
            known = store.status_of_name(path.name)
            if known is not None and len(read) >= done:
                continue
            try:
                info = path.stat()
            except OSError:
                continue
            upload = store.upload_of_file(path.name)
            (read if known else waiting).append({
                "file_name": path.name, "size": info.st_size, "standing": known or "待汇总",
                "time": local_time(info.st_mtime, zone).strftime("%m-%d %H:%M"),
                "group": upload["group_name"] if upload else ""})
    finally:
        store.close()
    return {"waiting": waiting, "shown_done": read, "total": len(paths)}


def last_board(book: Book, base_dir: Path) -> dict:
    """The last run as the master shows it: when, the 红黑榜 (unit, the four rates and ranks, the lists), the
    通报 sheet's text, and the notices issued to 通报存档 (newest first)."""
    settings = book.settings()
    store = Store(base_dir / settings.store)
    try:
        run = store.last_run()
        issued = [n for n in all_issued(store) if n.state == ACTIVE]
    finally:
        store.close()
    header, rows = book.table_rows(RANKING.name) if RANKING.name in book.tables else ([], [])
    ranking = [values[:10] for _, values in rows if values and values[0] not in (None, "")]
    notice = [str(row[0]) for row in book.sheet_grid(SHEET_NOTICE)[1:] if row and row[0] not in (None, "")]
    return {"run": run, "ranking_header": header[:10], "ranking": ranking, "notice": notice,
            "issued": list(reversed(issued)), "archive": settings.notice_archive}
