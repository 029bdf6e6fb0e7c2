"""One writer at a time: a lock file beside the master, and Excel's own owner file respected."""

from __future__ import annotations

import os
from pathlib import Path

from .master import MasterUnusable, require_master


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class MasterLock:
    """Held while a run writes the master; a second run stops with MasterUnusable (exit 3)."""

    def __init__(self, master: Path):
        self.master = Path(master)
        self.path = self.master.with_name(f".~{self.master.name}.lock")
        self.held = False

    def __enter__(self) -> "MasterLock":
        require_master(self.master)
        for owner in {f"~${self.master.name}", f"~${self.master.name[2:]}"}:
            if (self.master.parent / owner).exists():
                raise MasterUnusable(f"母表 {self.master.name} 正在被 Excel 或 WPS 打开。请先保存并关闭母表，"
                                     "或在 Excel 中点“一键汇总”按钮。")
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                raise MasterUnusable(f"另一次汇总正在写入母表 {self.master.name}。请等它结束后再运行。") from None
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            self.held = True
            return self
        raise MasterUnusable(f"无法锁定母表 {self.master.name}。")

    def _stale(self) -> bool:
        try:
            pid = int(self.path.read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        return pid > 0 and not _alive(pid)

    def __exit__(self, *exc) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
