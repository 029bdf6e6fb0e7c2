"""The master workbook on disk: build it, read its settings and registry, write managed regions, save safely.

Every region is found through an Excel table or a defined name (layout.py), never a fixed address,
so rows, sheets, notes and formatting that staff add around them are kept.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.hyperlink import Hyperlink

from ..schema import REGISTRY_FIELDS, REGISTRY_LABEL_INDEX, normalize_label, cell_address
from ..settings import DEFAULTS, Settings, SettingsError, parse_settings
from ..values import display, is_blank, parse_date, parse_number
from .layout import NOTICE_NAME, REGISTRY, SETTINGS, TABLES, TITLE_CELLS, TableSpec


class MasterUnusable(Exception):
    """The master workbook cannot be used (missing, locked, corrupt); nothing was written."""


def require_master(path: Path) -> Path:
    """The master's path if it is a file; MasterUnusable (exit 3) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise MasterUnusable(f"找不到母表文件：{path}。请检查路径，或先运行 xladdin init 新建母表。")
    return path


class Formula(str):
    """A formula the add-in writes; any other text starting with '=' is written as text."""


class Link(str):
    """Text written with a hyperlink to a file (relative to the master) and/or a place in it."""

    def __new__(cls, text: str, target: str = "", location: str = ""):
        link = super().__new__(cls, text)
        link.target, link.location = target, location
        return link


def xlwings_vba_source() -> Path:
    """The standalone xlwings workbook whose VBA project the master carries (no add-in needed)."""
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


class MasterBook:
    """An open master workbook (openpyxl, VBA project kept)."""

    def __init__(self, path: Path, workbook: openpyxl.Workbook):
        self.path = path
        self.wb = workbook

    @classmethod
    def open(cls, path: Path) -> "MasterBook":
        path = require_master(path)
        try:
            workbook = openpyxl.load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", keep_links=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise MasterUnusable(f"母表文件已损坏或不是 Excel 文件：{path.name}（{type(exc).__name__}）。"
                                 "请从“备份”文件夹恢复最近的母表。") from None
        book = cls(path, workbook)
        missing = [spec.name for spec in TABLES.values() if book._find_table(spec.name) is None]
        if missing:
            raise MasterUnusable(f"母表缺少受管理的表格 {', '.join(missing)}，可能被删除或改名。"
                                 "请从“备份”文件夹恢复，或用 xladdin init 新建母表后复制项目清单。")
        return book

    # -- finding regions ------------------------------------------------------------------------

    def _find_table(self, name: str):
        for ws in self.wb.worksheets:
            if name in ws.tables:
                return ws, ws.tables[name]
        return None

    def _table(self, name: str):
        found = self._find_table(name)
        if found is None:
            raise MasterUnusable(f"母表缺少表格 {name}。")
        return found

    def table_rows(self, name: str) -> tuple[list[str], list[tuple[int, list[object]]]]:
        """Header labels and (sheet row, values) of a table's data rows, blank rows skipped."""
        ws, table = self._table(name)
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        header = [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]
        rows = []
        for r, values in enumerate(ws.iter_rows(min_row=min_row + 1, max_row=max_row, min_col=min_col,
                                                max_col=max_col, values_only=True), start=min_row + 1):
            if not all(is_blank(v) for v in values):
                rows.append((r, list(values)))
        return [str(h) if h is not None else "" for h in header], rows

    def table_origin(self, name: str) -> tuple[int, int]:
        """(first data row, first column) of a table."""
        _, table = self._table(name)
        min_col, min_row, _, _ = range_boundaries(table.ref)
        return min_row + 1, min_col

    def _name_target(self, name: str):
        defined = self.wb.defined_names.get(name)
        if defined is None:
            return None
        for sheet, ref in defined.destinations:
            return self.wb[sheet], ref.replace("$", "")
        return None

    # -- reading settings and registry ----------------------------------------------------------

    def settings(self) -> Settings:
        _, rows = self.table_rows(SETTINGS.name)
        return parse_settings({str(v[0]).strip(): v[1] for _, v in rows if v[0] is not None})

    def registry(self) -> pd.DataFrame:
        """The 项目清单 as a DataFrame indexed by project_id; SettingsError names every bad cell."""
        from ..validate import clean_id, clean_text

        ws, table = self._table(REGISTRY.name)
        header, rows = self.table_rows(REGISTRY.name)
        first_col = range_boundaries(table.ref)[0]
        columns = {REGISTRY_LABEL_INDEX.get(normalize_label(h)): i for i, h in enumerate(header)}
        missing = [f.label for f in REGISTRY_FIELDS if f.required and f.key not in columns]
        if missing:
            raise SettingsError(f"项目清单缺少列：{'、'.join(missing)}。请恢复这些列。")
        problems: list[str] = []
        records = []
        seen: set[str] = set()
        for r, values in rows:
            record: dict[str, object] = {}
            for f in REGISTRY_FIELDS:
                i = columns.get(f.key)
                raw = values[i] if i is not None else None
                where = f"项目清单!{cell_address(r, first_col + i)}" if i is not None else f"项目清单第{r}行"
                if f.numeric:
                    number, _ = parse_number(raw, f.unit) if not is_blank(raw) else (0.0, False)
                    if number is None or number < 0:
                        problems.append(f"{where}：“{f.label}”应为不小于 0 的数字（现为“{display(raw)}”）")
                    record[f.key] = number or 0.0
                elif f.kind == "date":
                    record[f.key] = parse_date(raw)
                    if not is_blank(raw) and record[f.key] is None:
                        problems.append(f"{where}：“{f.label}”不是日期（现为“{display(raw)}”）")
                else:
                    record[f.key] = clean_id(raw) if f.key == "project_id" else clean_text(raw)
                    if f.required and not record[f.key]:
                        problems.append(f"{where}：“{f.label}”不能为空")
            if record["project_id"] in seen:
                problems.append(f"项目清单第{r}行：项目编号“{record['project_id']}”重复")
            seen.add(str(record["project_id"]))
            records.append(record)
        if problems:
            more = f"（另有 {len(problems) - 5} 处）" if len(problems) > 5 else ""
            raise SettingsError("项目清单有误，请改正后再运行：\n" + "\n".join(problems[:5]) + more)
        if not records:
            raise SettingsError("项目清单为空。请先在“项目清单”表中录入项目（每个项目一行）。")
        return pd.DataFrame.from_records(records, columns=[f.key for f in REGISTRY_FIELDS]).set_index(
            "project_id", drop=False).rename_axis(None)

    # -- writing --------------------------------------------------------------------------------

    def write_table(self, name: str, rows: list[list[object]]) -> None:
        """Replace a table's data rows, resizing the table; header and everything around it stay."""
        spec: TableSpec = TABLES[name]
        ws, table = self._table(name)
        min_col, header_row, max_col, old_last = range_boundaries(table.ref)
        width = len(spec.columns)
        for c, column in enumerate(spec.columns):
            ws.cell(header_row, min_col + c).value = column.label
        new_last = header_row + max(1, len(rows))
        for r in range(header_row + 1, max(old_last, new_last) + 1):
            values = rows[r - header_row - 1] if r - header_row - 1 < len(rows) else None
            for c, column in enumerate(spec.columns):
                cell = ws.cell(r, min_col + c)
                _put(cell, None if values is None else values[c])
                if r <= new_last:
                    cell.number_format = column.number_format
        last_col = openpyxl.utils.get_column_letter(min_col + width - 1)
        table.ref = f"{openpyxl.utils.get_column_letter(min_col)}{header_row}:{last_col}{new_last}"
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref
        if max_col != min_col + width - 1:
            table.tableColumns = []
            table._initialise_columns()
            for column, spec_column in zip(table.tableColumns, spec.columns):
                column.name = spec_column.label

    def write_cell(self, name: str, value: object) -> None:
        target = self._name_target(name)
        if target is None:
            return  # staff deleted a title cell's name: nothing to write there
        ws, ref = target
        _put(ws[ref.split(":")[0]], value)

    def write_lines(self, name: str, lines: list[str]) -> None:
        """Write lines down a named one-column region, resizing the name to the new extent."""
        target = self._name_target(name)
        if target is None:
            return
        ws, ref = target
        min_col, min_row, _, max_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        last = min_row + max(1, len(lines)) - 1
        for r in range(min_row, max(max_row, last) + 1):
            _put(ws.cell(r, min_col), lines[r - min_row] if r - min_row < len(lines) else None)
        letter = openpyxl.utils.get_column_letter(min_col)
        self.wb.defined_names[name] = DefinedName(
            name, attr_text=f"{_quote(ws.title)}!${letter}${min_row}:${letter}${last}")

    def save(self, settings: Settings | None = None) -> None:
        """Write to a temporary file beside the master, back the old one up, then atomically replace it."""
        self.wb.calculation.fullCalcOnLoad = True
        temp = self.path.with_name(f".~{self.path.name}.{os.getpid()}.tmp")
        try:
            self.wb.save(temp)
            if settings is not None and self.path.exists():
                _backup(self.path, self.path.parent / settings.backups, settings.backup_count)
            os.replace(temp, self.path)
        finally:
            if temp.exists():
                temp.unlink()


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _put(cell, value: object) -> None:
    """Write one value: formulas only when the add-in made them, submitted text always as text."""
    if isinstance(value, float) and pd.isna(value):
        value = None
    if cell.hyperlink is not None:
        cell.hyperlink = None
    if isinstance(value, Link):
        if value.target or value.location:
            cell.hyperlink = Hyperlink(ref=cell.coordinate, target=value.target or None,
                                       location=value.location or None)
        value = str(value)
    if isinstance(value, Formula):
        cell.value = str(value)
        return
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"  # a submitted "=..." stays text, never a formula
        return
    cell.value = value


def _backup(path: Path, folder: Path, keep: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    shutil.copy2(path, folder / f"{path.stem}.{stamp}{path.suffix}")
    backups = sorted(folder.glob(f"{path.stem}.*{path.suffix}"))
    for old in backups[:-keep]:
        old.unlink()


def default_settings_rows() -> list[list[object]]:
    return [[key, value, note] for key, value, note in DEFAULTS]


__all__ = ["MasterBook", "MasterUnusable", "Formula", "NOTICE_NAME", "TITLE_CELLS", "default_settings_rows"]
