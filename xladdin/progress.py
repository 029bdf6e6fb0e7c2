"""What a long run is doing: a rich bar on stderr in the terminal, a line on Excel's status bar."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

SHOW_AFTER = 1.0  # seconds: a quick run prints nothing extra


def stage_text(stage: str, done: int, total: int) -> str:
    """One line as the status bar shows it: xladdin：校验报送文件 12/40……"""
    count = f" {done}/{total}" if total else ""
    return f"xladdin：{stage}{count}……"


class TerminalProgress:
    """A progress bar on stderr that appears only once a run has lasted a second, and only on a terminal."""

    def __init__(self, console=None):
        self.console = console or Console(stderr=True, highlight=False)
        self.started = time.monotonic()
        self.bar = None
        self.task = None
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.console.is_terminal:
            return
        with self.lock:
            if self.bar is None:
                self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                    MofNCompleteColumn(), console=self.console, transient=True)
                self.task = self.bar.add_task(stage, total=total or None)
                wait = max(0.0, SHOW_AFTER - (time.monotonic() - self.started))
                self.timer = threading.Timer(wait, self._show)
                self.timer.daemon = True
                self.timer.start()
            self.bar.update(self.task, description=stage, completed=done, total=total or None)

    def _show(self) -> None:
        with self.lock:
            if self.bar is not None and not self.shown:
                self.bar.start()
                self.shown = True

    def close(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
            if self.shown:
                self.bar.stop()
            self.bar = None
