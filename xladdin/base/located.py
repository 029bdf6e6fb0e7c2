"""A submission as located on its sheet, before it is checked: the records the domain (validate.py)
receives from the readers in workbook/ — plain data, so the domain never imports workbook I/O."""

from __future__ import annotations

from dataclasses import dataclass, field


class UncachedFormula(str):
    """A formula cell saved without its computed value (written by a program, never opened in Excel)."""


@dataclass
class Ledger:
    """A submission located on its sheet: identity cells, header columns and raw data rows."""

    file: str
    sheet: str
    identity: dict[str, tuple[object, str]] = field(default_factory=dict)  # label -> (value, cell)
    header_row: int = 0  # 1-based sheet row of the header, 0 when not found
    columns: dict[str, int] = field(default_factory=dict)  # field key -> 1-based column
    extra_columns: list[tuple[str, int]] = field(default_factory=list)
    duplicate_columns: list[tuple[str, int]] = field(default_factory=list)
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)  # (sheet row, key -> raw)
    hidden_rows: set[int] = field(default_factory=set)  # 1-based sheet rows
    warnings: list[str] = field(default_factory=list)
    unsafe: dict[str, str] = field(default_factory=dict)
    too_long: dict[str, tuple[int, int]] = field(default_factory=dict)  # cell -> (characters, limit)
