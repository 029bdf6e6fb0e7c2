"""Named crash points, for the tests of what a run killed at a known moment leaves behind.

`XLADDIN_CRASH_AT=<point>` kills the process (SIGKILL, as a power cut or the task manager would) when
it reaches that point; `<point>:stop` stops it there instead (SIGSTOP), so that a test can act while
the run is frozen mid-way and then let it go on (SIGCONT). Unset, as in every real run, nothing happens.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "XLADDIN_CRASH_AT"
POINTS = (
    "reading",      # the reader processes are running (the parent has a first file back)
    "written",      # every region written in memory; nothing durable yet
    "backed-up",    # the master copied into 备份; the store not committed
    "committed",    # the store committed; the master not saved
    "temp-written",  # the new master written beside the old one, before the atomic replace
    "replaced",     # the new master in place, the lock not yet released
)


def crash_point(name: str) -> None:
    """Kill (or stop) this process here when XLADDIN_CRASH_AT names this point."""
    wanted = os.environ.get(VARIABLE)
    if not wanted or wanted.split(":")[0] != name:
        return
    os.kill(os.getpid(), signal.SIGSTOP if wanted.endswith(":stop") else signal.SIGKILL)


STRICT_VARIABLE = "XLADDIN_STRICT"


def strict() -> bool:
    """`XLADDIN_STRICT=1` (the test suite sets it): an unexpected exception inside a file's reading or
    checking is raised instead of rejecting the file, so that a validator bug fails a test rather than
    passing as one more rejection. Unset, as in every real run, one bad file never stops the run."""
    return os.environ.get(STRICT_VARIABLE, "") not in ("", "0")
