"""One writer at a time: a lock file beside the master, and Excel's own owner file respected."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

from xladdin.base.errors import MasterUnusable
from xladdin.workbook.master import require_master

# Windows: rights to wait on a process and read its state; WaitForSingleObject's answer while it runs;
# OpenProcess's error for an id no process has.
_SYNCHRONIZE, _QUERY_LIMITED_INFORMATION = 0x00100000, 0x1000
_WAIT_TIMEOUT, _ERROR_ACCESS_DENIED = 0x102, 5


def _kernel32():
    """kernel32 through ctypes, with the handle types declared (a HANDLE is 64 bits on 64-bit Windows)."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.WaitForSingleObject.argtypes = (wintypes.HANDLE, wintypes.DWORD)
    kernel32.WaitForSingleObject.restype = wintypes.DWORD
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    kernel32.CloseHandle.restype = wintypes.BOOL
    return kernel32, ctypes.get_last_error


def _alive_on_windows(pid: int) -> bool:
    """Whether a process with this id runs, asked without touching it: os.kill on Windows would stop it
    (any signal but the two console events terminates the process)."""
    kernel32, last_error = _kernel32()
    handle = kernel32.OpenProcess(_SYNCHRONIZE | _QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return last_error() == _ERROR_ACCESS_DENIED  # another user's process: it exists
    try:
        return kernel32.WaitForSingleObject(handle, 0) == _WAIT_TIMEOUT  # not yet signalled: still running
    finally:
        kernel32.CloseHandle(handle)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return _alive_on_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def office_owner(master: Path) -> str | None:
    """Which office program holds the master open (its owner file beside it), or None."""
    master = Path(master)
    for owner in {f"~${master.name}", f"~${master.name[2:]}"}:
        if (master.parent / owner).exists():
            return "Excel 或 WPS"
    if (master.parent / f".~lock.{master.name}#").exists():
        return "LibreOffice"
    return None


def refuse_if_open(master: Path) -> None:
    """MasterUnusable (exit 3) when Excel, WPS or LibreOffice holds the master open."""
    owner = office_owner(master)
    if owner == "LibreOffice":
        raise MasterUnusable(f"母表 {master.name} 正在被 LibreOffice 打开。请先保存并关闭母表；"
                             f"如 LibreOffice 已关闭，请删除同一文件夹中的 .~lock.{master.name}# 文件。")
    if owner:
        raise MasterUnusable(f"母表 {master.name} 正在被 Excel 或 WPS 打开。请先保存并关闭母表，"
                             "或在 Excel 中点“一键汇总”按钮。")


def _host() -> str:
    return socket.gethostname() or "?"


class MasterLock:
    """Held while a run writes the master; a second run stops with MasterUnusable (exit 3)."""

    def __init__(self, master: Path):
        self.master = Path(master)
        self.path = self.master.with_name(f".~{self.master.name}.lock")
        self.held = False

    def __enter__(self) -> "MasterLock":
        require_master(self.master)
        refuse_if_open(self.master)
        for _ in range(2):
            try:
                self._create()
            except FileExistsError:
                if self._stale():
                    try:
                        self.path.rmdir() if self.path.is_dir() else self.path.unlink(missing_ok=True)
                    except OSError:
                        raise MasterUnusable(f"母表的锁文件 {self.path.name} 无法删除。请手动删除它后重新运行。") from None
                    continue
                raise MasterUnusable(f"另一次汇总{self._where()}正在写入母表 {self.master.name}。请等它结束后再运行"
                                     f"（如确认那次运行已中断，请删除同一文件夹中的 {self.path.name} 文件）。") from None
            self.held = True
            self._remove_leftovers()
            return self
        raise MasterUnusable(f"无法锁定母表 {self.master.name}。")

    def _remove_leftovers(self) -> None:
        """Delete the temporary masters of a run killed while saving or rolling back: with the lock
        held, no other run is writing one."""
        pattern = re.compile(rf"\.~{re.escape(self.master.name)}\.(\d+|rollback)\.tmp")
        for entry in self.master.parent.iterdir():
            if pattern.fullmatch(entry.name) and entry.is_file():
                entry.unlink(missing_ok=True)

    def _create(self) -> None:
        """Create the lock file holding this process's id, atomically: linked into place once written,
        so that a lock file is never seen empty while its run is alive (an empty one is stale)."""
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            temp.write_text(f"{os.getpid()}\n{_host()}")  # the host: on a shared folder another PC's pid means nothing
            try:
                os.link(temp, self.path)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: exclusive creation, then the id
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                with os.fdopen(fd, "w") as handle:
                    handle.write(f"{os.getpid()}\n{_host()}")
        finally:
            temp.unlink(missing_ok=True)

    def _stale(self) -> bool:
        """A lock file left by a run that is gone: its process is not alive, or it is empty,
        unreadable or holds no process id (a crash or a copy)."""
        try:
            pid_line, _, host = self.path.read_text().strip().partition("\n")
            pid = int(pid_line.strip())
        except (OSError, ValueError, UnicodeDecodeError):
            return True
        if host.strip() and host.strip() != _host():
            return False  # another PC's run: its process cannot be seen from here, so it is never stale
        return pid <= 0 or not _alive(pid)

    def _where(self) -> str:
        """（在电脑 X 上）when the lock was taken on another PC."""
        try:
            host = self.path.read_text().strip().partition("\n")[2].strip()
        except (OSError, UnicodeDecodeError):
            return ""
        return f"（在电脑 {host} 上）" if host and host != _host() else ""

    def __exit__(self, *exc) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
