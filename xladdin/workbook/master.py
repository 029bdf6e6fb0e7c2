"""What every master-workbook writer shares: the failure that means exit 3, value kinds the add-in
writes (formulas, links), reading 设置 and 项目清单 from table rows, backups."""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
from pathlib import Path

from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import REGISTRY_FIELDS, REGISTRY_LABEL_INDEX, cell_address, normalize_label
from xladdin.base.text import XML_ILLEGAL
from xladdin.base.values import display, is_blank, parse_date, parse_number, plain_number
from xladdin.domain.settings import Settings, parse_settings
from xladdin.domain.validate import clean_id, clean_text

MASTER_ID_NAME = "xladdin_master_id"  # the hidden defined name holding the id its history store records too

# Characters no XML part may hold (C0 controls, lone surrogates, U+FFFE and U+FFFF): one definition.
ILLEGAL_CHARACTERS_RE = XML_ILLEGAL


def require_master(path: Path) -> Path:
    """The master's path if it is a file; MasterUnusable (exit 3) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise MasterUnusable(f"找不到母表文件：{path}。请检查路径，或先运行 xladdin init 新建母表。")
    return path


class Formula(str):
    """A formula the add-in writes; any other text starting with '=' is written as text. `cached` is the
    value the add-in computed for it, stored beside it so that previews and Protected View show figures."""

    cached: object = None

    def __new__(cls, text: str, cached: object = None):
        formula = super().__new__(cls, text)
        formula.cached = cached
        return formula

    def __repr__(self) -> str:  # told apart from text with the same characters (a region's digest)
        return f"Formula({str.__repr__(self)}, {self.cached!r})"


class ColumnFormula:
    """One formula down a table column, as Excel's fill-down makes it: the formula of data row i is
    `template % {"r": first + i}`. Every relative row reference in `template` is `%(r)d` (one row for all
    of them) and every other reference is row-absolute, so the formulas differ by that row only; the
    table's rows carry each cell's computed value in this column. A package writes it as one shared
    formula (<f t="shared">: one text for the column, not one per cell); the live workbook writes each
    row's text.

    `args`: a text per row put in at `%(a)s` (a date the run worked out, say): then each cell has its own
    formula, still made from the one template without an object per cell."""

    __slots__ = ("template", "first", "args")

    def __init__(self, template: str, first: int, args: list[str] | None = None):
        self.template, self.first, self.args = template, first, args

    @property
    def shared(self) -> bool:
        """Whether the rows' formulas differ by their row only (one shared formula can stand for them)."""
        return self.args is None

    def at(self, i: int) -> str:
        """The formula of data row i (0 = the table's first), with its '='."""
        if self.args is None:
            return self.template % {"r": self.first + i}
        return self.template % {"r": self.first + i, "a": self.args[i]}

    def __repr__(self) -> str:  # what a region's digest records
        return f"ColumnFormula({self.template!r}, {self.first}, {self.args!r})"


class Link(str):
    """Text written with a hyperlink to a file (relative to the master) and/or a place in it."""

    def __new__(cls, text: str, target: str = "", location: str = ""):
        link = super().__new__(cls, text)
        link.target, link.location = target, location
        return link

    def __repr__(self) -> str:  # told apart from text with the same characters (a region's digest)
        return f"Link({str.__repr__(self)}, {self.target!r}, {self.location!r})"


def read_settings(rows: list[tuple[int, list[object]]]) -> Settings:
    """Settings from the 设置 table's (row, values) pairs."""
    return parse_settings({str(v[0]).strip(): v[1] for _, v in rows if v[0] is not None})


ID_KEYS = ("project_id", "former_id")  # read as project codes: full-width folded, spaces dropped, 1001.0 as 1001


def former_id_problems(rows: list[tuple[int, str, str]], where) -> list[str]:
    """What is wrong with the 原编号 of the registry rows (row, 项目编号, 原编号), each pinned by `where(row)`:
    a 原编号 that is still a 项目编号 of the list (history cannot belong to two projects), and one 原编号
    named by two rows (it cannot move to both)."""
    ids = {}
    for r, project, _ in rows:
        ids.setdefault(project, r)
    named: dict[str, int] = {}
    problems = []
    for r, project, former in rows:
        if not former:
            continue
        if former == project:
            problems.append(f"{where(r)}：原编号“{former}”与本行项目编号相同。原编号只在项目改了编号时填写旧编号，"
                            "未改编号请清空。")
        elif former in ids:
            problems.append(f"{where(r)}：原编号“{former}”仍是项目清单第{ids[former]}行的项目编号。"
                            "如该项目已改为本行编号，请删去旧编号那一行；如是两个项目，请清空本行原编号。")
        elif former in named:
            problems.append(f"{where(r)}：原编号“{former}”与第{named[former]}行的原编号相同，一个旧编号的历史"
                            "只能转给一个项目。请核对后只在一行保留。")
        named.setdefault(former, r)
    return problems


def read_registry(header: list[str], rows: list[tuple[int, list[object]]], first_col: int) -> pd.DataFrame:
    """The 项目清单 as a DataFrame indexed by project_id; SettingsError names every bad cell."""
    columns = {REGISTRY_LABEL_INDEX.get(normalize_label(h)): i for i, h in enumerate(header)}
    missing = [f.label for f in REGISTRY_FIELDS if f.required and f.key not in columns]
    if missing:
        raise SettingsError(f"项目清单缺少列：{'、'.join(missing)}。请恢复这些列。")
    found: list[tuple[int, int, str]] = []  # (row, field, problem): reported in the order of the sheet
    fields = [(f, columns.get(f.key)) for f in REGISTRY_FIELDS]
    numbers = [r for r, _ in rows]

    def where(r: int, i: int | None) -> str:
        return f"项目清单!{cell_address(r, first_col + i)}" if i is not None else f"项目清单第{r}行"

    data: dict[str, list] = {}
    for k, (f, i) in enumerate(fields):
        column = [v[i] if i < len(v) else None for _, v in rows] if i is not None else [None] * len(rows)
        if f.numeric:
            out = []
            for r, raw in zip(numbers, column):
                if plain_number(raw):  # the usual cell, taken as is
                    out.append(raw)
                elif not f.required and is_blank(raw):  # a plan older registries lack, or left blank
                    out.append(float("nan"))
                else:
                    number, _ = parse_number(raw, f.unit) if not is_blank(raw) else (0.0, False)
                    if number is None or number < 0:
                        found.append((r, k, f"{where(r, i)}：“{f.label}”应为不小于 0 的数字（现为“{display(raw)}”）"))
                    out.append(number or 0.0)
        elif f.kind == "date":
            out = [parse_date(raw) for raw in column]
            found += [(r, k, f"{where(r, i)}：“{f.label}”不是日期（现为“{display(raw)}”）")
                      for r, raw, date in zip(numbers, column, out) if date is None and not is_blank(raw)]
        else:  # names and codes repeat down a column: each distinct cell cleaned once
            clean = clean_id if f.key in ID_KEYS else clean_text
            cleaned: dict[tuple, str] = {}
            out = []
            for raw in column:
                key = (type(raw), raw)  # True == 1, but reads "True"
                try:
                    text = cleaned[key]
                except KeyError:
                    text = cleaned[key] = clean(raw)
                except TypeError:  # an unhashable cell value: cleaned as it is
                    text = clean(raw)
                out.append(text)
            if f.required:
                found += [(r, k, f"{where(r, i)}：“{f.label}”不能为空") for r, text in zip(numbers, out) if not text]
        data[f.key] = out
    seen: set[str] = set()
    for r, pid in zip(numbers, data["project_id"]):
        if pid in seen:
            found.append((r, len(fields), f"项目清单第{r}行：项目编号“{pid}”重复"))
        seen.add(str(pid))
    problems = [problem for _, _, problem in sorted(found, key=lambda item: item[:2])]
    former_at = columns.get("former_id")
    problems += former_id_problems(list(zip(numbers, data["project_id"], data["former_id"])),
                                   lambda r: where(r, former_at))
    if problems:
        more = f"（另有 {len(problems) - 5} 处）" if len(problems) > 5 else ""
        raise SettingsError("项目清单有误，请改正后再运行：\n" + "\n".join(problems[:5]) + more)
    if not rows:
        raise SettingsError("项目清单为空。请先在“项目清单”表中录入项目（每个项目一行）。")
    return pd.DataFrame(data, columns=[f.key for f in REGISTRY_FIELDS]).set_index(
        "project_id", drop=False).rename_axis(None)


def quote_sheet(sheet: str) -> str:
    """A sheet name as formulas and defined names quote it."""
    return "'" + sheet.replace("'", "''") + "'"


def put_cell(cell, value: object) -> None:
    """Write one value into an openpyxl cell: formulas only when the add-in made them, submitted text always as text."""
    if isinstance(value, float) and pd.isna(value):
        value = None
    if cell.hyperlink is not None:
        cell.hyperlink = None
    if isinstance(value, Link):
        if value.target or value.location:
            from openpyxl.worksheet.hyperlink import Hyperlink  # the cell is openpyxl's: it is loaded

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


def backup(path: Path, folder: Path, keep: int, now: dt.datetime, label: str = "") -> Path:
    """Copy the master into the backup folder, keep only the newest `keep` copies of its kind; returns the
    copy. A `label` names another kind (撤销前: the master as a rollback found it), counted on its own, so
    that rolling back several runs in a row never prunes the backups the earlier runs need."""
    folder.mkdir(parents=True, exist_ok=True)
    kind = f"{path.stem}.{label}." if label else f"{path.stem}."
    # Named by the run's clock and numbered after the copies of that second, so that a name is never reused
    # (a run's clock may repeat a second, and pruning may have removed a lower number); the order copies were
    # made in is their file time (_prune).
    stamp = now.strftime("%Y%m%d-%H%M%S")
    numbers = [int(p.name[len(kind + stamp) + 1:][:2]) for p in
               folder.glob(f"{glob.escape(kind + stamp)}-[0-9][0-9]{glob.escape(path.suffix)}")]
    copy = folder / f"{kind}{stamp}-{max(numbers, default=0) + 1:02d}{path.suffix}"
    temp = folder / f".{copy.name}.tmp"
    try:
        shutil.copy2(path, temp)
        made = _after_every(folder, kind, path.suffix, now)
        os.utime(temp, ns=(made, made))  # the order runs made the copies in (_prune)
        os.replace(temp, copy)  # a backup is either whole or absent
    finally:
        temp.unlink(missing_ok=True)
    _prune(folder, kind, path.suffix, copy, keep)
    return copy


def _prune(folder: Path, kind: str, suffix: str, copy: Path, keep: int) -> None:
    """Keep the newest `keep` backups of a kind, newest by the run that made them (their file times, which
    backup() makes increase run after run), not by name: a clock that was ahead names older copies later.
    The copy just made is never pruned."""
    backups = sorted(folder.glob(f"{glob.escape(kind)}[0-9]*{glob.escape(suffix)}"), key=_made)
    for old in [p for p in backups if p != copy][:max(0, len(backups) - keep)]:
        old.unlink(missing_ok=True)


def _made(path: Path) -> tuple[int, str]:
    try:
        return path.stat().st_mtime_ns, path.name
    except OSError:
        return 0, path.name


def _after_every(folder: Path, kind: str, suffix: str, now: dt.datetime) -> int:
    """A file time (ns) for a new backup: the run's `now`, or just after the newest backup of its kind when
    that is later (a clock set back), so that file times follow the order the runs made them."""
    stamp = int(now.timestamp() * 1e9)
    times = [_made(p)[0] for p in folder.glob(f"{glob.escape(kind)}[0-9]*{glob.escape(suffix)}")]
    return max([stamp] + [t + 1_000_000_000 for t in times])
