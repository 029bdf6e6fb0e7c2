"""The roots of the exit codes. Every failure a door turns into an exit code derives from one of these;
the layer that detects it raises it, whichever layer that is (the store, the workbook, the settings).

- SettingsError  → exit 2: a usage or settings error staff must fix (the message names the setting).
- MasterUnusable → exit 3: the master cannot be used (missing, locked, corrupt, its store missing or
  foreign, an OS error writing it); nothing was written.
"""

from __future__ import annotations

USAGE_EXIT = 2
UNUSABLE_EXIT = 3


class SettingsError(Exception):
    """A setting staff must fix; the message is Chinese and names the setting (exit 2)."""

    exit_code = USAGE_EXIT


class MasterUnusable(Exception):
    """The master workbook cannot be used (missing, locked, corrupt); nothing was written (exit 3)."""

    exit_code = UNUSABLE_EXIT
