"""The run lock on Windows: whether the run that wrote a lock file still runs is asked through
OpenProcess and WaitForSingleObject, never with os.kill (which on Windows terminates the process)."""

from __future__ import annotations

import os
import sys

import pytest

from xladdin.base.errors import MasterUnusable
from xladdin.workbook import lock
from xladdin.workbook.build import build_master
from xladdin.workbook.lock import MasterLock

WAIT_OBJECT_0, WAIT_TIMEOUT = 0, 0x102
ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER = 5, 87


class FakeKernel32:
    """The three kernel32 calls, answering for a table of processes: pid -> 'running', 'exited', 'other user'."""

    def __init__(self, processes: dict[int, str]):
        self.processes = processes
        self.error = 0
        self.open_handles: set[int] = set()
        self.calls: list[tuple] = []

    def OpenProcess(self, access, inherit, pid):  # noqa: N802 (the Windows name)
        self.calls.append(("OpenProcess", access, inherit, pid))
        state = self.processes.get(pid)
        if state is None:
            self.error = ERROR_INVALID_PARAMETER
            return None
        if state == "other user":
            self.error = ERROR_ACCESS_DENIED
            return None
        handle = 1000 + pid
        self.open_handles.add(handle)
        return handle

    def WaitForSingleObject(self, handle, milliseconds):  # noqa: N802
        self.calls.append(("WaitForSingleObject", handle, milliseconds))
        assert milliseconds == 0, "the liveness test must not wait"
        return WAIT_TIMEOUT if self.processes[handle - 1000] == "running" else WAIT_OBJECT_0

    def CloseHandle(self, handle):  # noqa: N802
        self.open_handles.discard(handle)
        return True


@pytest.fixture
def windows(monkeypatch):
    """sys.platform is win32, kernel32 is faked, and any os.kill fails the test."""
    fake = FakeKernel32({})
    monkeypatch.setattr(lock, "_kernel32", lambda: (fake, lambda: fake.error))
    monkeypatch.setattr(sys, "platform", "win32")

    def kill(pid, signal):
        raise AssertionError(f"os.kill({pid}, {signal}) on Windows sends a console event or terminates the process")

    monkeypatch.setattr(os, "kill", kill)
    return fake


@pytest.mark.parametrize("state, alive", [("running", True), ("exited", False), ("other user", True), (None, False)])
def test_windows_liveness_asks_the_process_without_touching_it(windows, state, alive):
    if state is not None:
        windows.processes[4242] = state
    assert lock._alive(4242) is alive
    opened = [c for c in windows.calls if c[0] == "OpenProcess"]
    assert opened and opened[0][3] == 4242
    access = opened[0][1]
    assert access & 0x00100000 and not access & 0x0001  # SYNCHRONIZE, never PROCESS_TERMINATE
    assert not windows.open_handles  # every handle opened is closed


def test_a_lock_left_by_an_exited_run_is_stale_on_windows(windows, tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    windows.processes[4242] = "exited"
    windows.processes[os.getpid()] = "running"
    held = master.with_name(f".~{master.name}.lock")
    held.write_text("4242")
    with MasterLock(master) as taken:
        assert taken.held and held.read_text().split("\n")[0] == str(os.getpid())  # pid, then the host
    assert not held.exists()


def test_a_lock_of_a_running_run_is_respected_on_windows(windows, tmp_path):
    master = build_master(tmp_path / "母表.xlsm")
    windows.processes[4243] = "running"
    held = master.with_name(f".~{master.name}.lock")
    held.write_text("4243")
    with pytest.raises(MasterUnusable, match="另一次汇总正在写入母表"):
        with MasterLock(master):
            pass
    assert held.read_text() == "4243"  # left for its run to remove


def test_elsewhere_liveness_is_signal_zero(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, signal: sent.append((pid, signal)))
    assert lock._alive(4242) and sent == [(4242, 0)]
