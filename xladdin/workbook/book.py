"""What a master workbook must read and write for the engine: the one interface of both doors.

Two implementations, one behaviour:

- `package.MasterBook`, the file on disk (headless `xladdin`, any OS): patches the package's parts in
  place, saves atomically, backs up before a run, can be rolled back;
- `live.LiveBook`, the workbook open in Excel (classic xlwings, xlwings Server, xlwings Lite): one
  range read and one range write per region; Excel owns the file, so it neither saves nor backs up
  (staff save as usual; rollback works on the saved file only).

Every region is found by an Excel table or a defined name (workbook/layout.py), never by an address.
The values the engine hands over are plain Python values plus two kinds of its own (master.py):

- `Formula`: a formula in the file's form (`_xlfn.RANK.EQ(`); the file writer stores it as is, the live
  book gives Excel the object model's form (`RANK.EQ(`);
- `Link`: text with a hyperlink to a file (relative to the master) and/or a place in the workbook; both
  doors leave a clickable link in the cell.

Any other text is written as text, even when it starts with `=`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol, runtime_checkable

from xladdin.base.lazy import pandas as pd
from xladdin.domain.settings import Settings
from xladdin.workbook.reader import Grid

Row = list[object]


@runtime_checkable
class Book(Protocol):
    """A master workbook as the engine reads and writes it."""

    path: Path  # the master's file (its folder anchors the relative paths of 设置)
    tables: dict  # the master's Excel tables by name; a master built by an earlier version may lack
                  # the newer ones (督办台账, 节点计划, …), and a run then leaves their part out

    # -- reading ----------------------------------------------------------------------------------

    def settings(self) -> Settings:
        """The 设置 table, parsed; SettingsError (exit 2) names a bad value."""

    def registry(self) -> pd.DataFrame:
        """The 项目清单 table, indexed by project_id; SettingsError names every bad cell."""

    def registry_key(self) -> str | None:
        """A digest of everything the registry is read from, so a run may reuse the registry it read
        before; None when the book cannot tell (the live workbook), and then it is always read."""

    def pasted_grids(self) -> list[Grid]:
        """Sheets staff pasted into the master that hold a ledger: submissions too."""

    def table_rows(self, name: str) -> tuple[list[str], list[tuple[int, Row]]]:
        """A table's header labels and its non-blank data rows with their sheet row numbers."""

    def table_origin(self, name: str) -> tuple[int, int]:
        """(first data row, first column) of a table, 1-based: formulas address cells from it."""

    # -- writing ----------------------------------------------------------------------------------

    def write_table(self, name: str, rows: list[Row], spec=None, formulas=None) -> None:
        """Replace a table's data rows and resize the table; its header and everything else stay.
        `spec` (a layout.TableSpec): the columns where they follow 设置 (the 节点计划's nodes).
        `formulas` (column index -> master.ColumnFormula): columns of one formula down the table, whose
        values the rows carry (the 作战图时间表's weeks)."""

    def write_above(self, name: str, values: list[object], offset: int = 0) -> None:
        """Write values across the row just above a table's heading, from `offset` columns right of its
        first column (the 作战图时间表's Mondays); each cell keeps its format, a cell without one takes
        its left neighbour's."""

    def write_cell(self, name: str, value: object) -> None:
        """Write one value at a named cell; nothing when staff removed the name."""

    def write_lines(self, name: str, lines: list[str]) -> None:
        """Write lines down a named one-column region, clear the old region's lines below them, and
        resize the name to the new extent; nothing when staff removed the name."""

    def back_up(self, settings: Settings, now: dt.datetime) -> Path | None:
        """Copy the master as it is before the run; None where the door cannot (the live workbook)."""

    def save(self) -> None:
        """Make the writes durable: an atomic replace of the file, or nothing (Excel saves)."""
