"""A 项目清单 an HQ already keeps, imported into a new master (`xladdin init DIR --projects FILE`).

The file is an .xlsx/.xlsm/.xls or a .csv (UTF-8 or GB18030). Its header row is found as a ledger's is:
the first row (of the first 20) whose cells match the registry's labels after normalize_label (full-width
brackets, spaces and line breaks folded; a unit left off). 责任工作组 may be headed 县（市、区） (a city's
list). Every problem is pinned to its row and column in the file, all of them at once, and the import
stops with SettingsError (exit 2) before anything is written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import python_calamine

from xladdin.base.errors import SettingsError
from xladdin.base.schema import REGISTRY_FIELDS, REGISTRY_LABEL_INDEX, column_letter, normalize_label
from xladdin.base.values import display, is_blank, parse_date, parse_number
from xladdin.domain.validate import clean_id, clean_text
from xladdin.workbook.master import ID_KEYS, former_id_problems

REGISTRY_KEYS = [f.key for f in REGISTRY_FIELDS]

HEADER_SCAN = 20
# Columns an imported list must have; the others are optional (blank: no plan, or 0 houses, graves...).
NEEDED = ("project_id", "project_name", "project_type", "group", "plan_mu")
# 项目级别 left out or blank: the level of the master's own projects (a city's list is of 市级 projects).
LEVEL_DEFAULT = {"县": "县级", "市": "市级"}


def _rows(path: Path) -> list[list[object]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SettingsError(f"项目清单文件 {path.name} 不是 UTF-8 或 GBK 编码的 CSV，请另存为 CSV UTF-8 或 Excel 文件。")
        return [list(row) for row in csv.reader(text.splitlines())]
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        raise SettingsError(f"项目清单文件应为 .xlsx、.xls 或 .csv（现为 {path.name}）。")
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        name = next((n for n in book.sheet_names if normalize_label(n) == "项目清单"), book.sheet_names[0])
        return [list(row) for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]
    except Exception as exc:  # calamine raises several types for broken files
        raise SettingsError(f"无法读取项目清单文件 {path.name}（{exc}）。请用 Excel 打开检查后另存。") from None


def read_project_list(path: Path, level: str = "县") -> list[list[object]]:
    """The registry rows (REGISTRY_FIELDS order) of a project-list file; SettingsError listing every
    problem as 第 r 行 X 列（表头）: what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise SettingsError(f"找不到项目清单文件：{path}")
    rows = _rows(path)
    best, header_at = {}, None
    for r, row in enumerate(rows[:HEADER_SCAN]):
        found = {}
        for c, cell in enumerate(row):
            key = REGISTRY_LABEL_INDEX.get(normalize_label(cell))
            if key is not None and key not in found:
                found[key] = c
        if len(found) > len(best):
            best, header_at = found, r
    missing = [f.label for f in REGISTRY_FIELDS if f.key in NEEDED and f.key not in best]
    if header_at is None or missing:
        raise SettingsError(f"项目清单文件 {path.name} 找不到表头列：{'、'.join(missing)}"
                            "（责任工作组也可写作 县（市、区））。请在表头行写明这些列。")
    problems: list[str] = []
    out: list[list[object]] = []
    seen: dict[str, int] = {}
    kept_rows: list[int] = []  # the file row (0-based) of each record

    def where(r: int, key: str) -> str:
        c = best[key]
        return f"第 {r + 1} 行 {column_letter(c + 1)} 列（{rows[header_at][c]}）"

    for r in range(header_at + 1, len(rows)):
        row = rows[r]
        cell = {key: row[c] if c < len(row) else None for key, c in best.items()}
        if all(is_blank(v) for v in cell.values()):
            continue
        record: list[object] = []
        for f in REGISTRY_FIELDS:
            raw = cell.get(f.key)
            if f.numeric:
                if is_blank(raw):
                    if f.key in NEEDED:
                        problems.append(f"{where(r, f.key)}：不能为空")
                    record.append(None if not f.required else 0.0)
                    continue
                number, _ = parse_number(raw, f.unit)
                if number is None or number < 0:
                    problems.append(f"{where(r, f.key)}：应为不小于 0 的数字（现为“{display(raw)}”）")
                record.append(number)
            elif f.kind == "date":
                date = parse_date(raw) if not is_blank(raw) else None
                if not is_blank(raw) and date is None:
                    problems.append(f"{where(r, f.key)}：不是日期（现为“{display(raw)}”）")
                record.append(date)
            else:
                text = clean_id(raw) if f.key in ID_KEYS else clean_text(raw)
                if f.key == "level" and not text:
                    text = LEVEL_DEFAULT.get(level, "")
                if f.key in NEEDED and not text:
                    problems.append(f"{where(r, f.key)}：不能为空")
                record.append(text)
        pid = record[0]
        if pid and pid in seen:
            problems.append(f"{where(r, 'project_id')}：项目编号“{pid}”与第 {seen[pid] + 1} 行重复")
        seen.setdefault(pid, r)
        out.append(record)
        kept_rows.append(r)
    if "former_id" in best:
        former = REGISTRY_KEYS.index("former_id")
        # rows counted from 1 as staff read them
        problems += former_id_problems([(r + 1, record[0], record[former]) for r, record in zip(kept_rows, out)],
                                       lambda line: where(line - 1, "former_id"))
    if problems:
        raise SettingsError(f"项目清单文件 {path.name} 有 {len(problems)} 处需改正，母表未建立：\n" + "\n".join(problems))
    if not out:
        raise SettingsError(f"项目清单文件 {path.name} 表头下没有项目。")
    return out
