"""The validator's row rules as Excel formulas, so that a fill-in ledger checks itself without Python.

The rules and their thresholds are declared once, in domain/rules.py; this module writes them into the
template's cells (Refs: where a row's cells are). Each rule names its issue code in the catalogue: the text a row shows is the catalogue's title and the
rule counts as a 需修改 only when the catalogue's severity is an error, so the ledger's verdict and the
validator's come from one table. The tolerances are the validator's own constants.
Formulas use functions of Excel 2007 and earlier only (IF, AND, OR, N, ISTEXT, SUMIF, COUNTIFS,
SUMPRODUCT, ASC, TRIM, SUBSTITUTE), so that Excel 2010, WPS and LibreOffice compute them alike; text is read
through `fold`, as the validator reads it after NFKC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from xladdin.base.issues import CATALOGUE, ERROR, Code
from xladdin.base.schema import LEDGER_BY_KEY, PLAN_OF
from xladdin.domain import rules as declared
from xladdin.domain.rules import EPS, fold, trimmed  # noqa: F401 - the template's reading of text, kept importable

@dataclass(frozen=True)
class Refs:
    """Where one ledger row's cells are: A1 references for the row, and whole-column ranges."""

    row: int
    first: int
    last: int
    column: dict[str, str]  # ledger key -> column letter
    previous: dict[str, str]  # figure key -> letter of the hidden 上次报送 column
    plan: dict[str, str]  # plan key -> letter of the hidden 计划 column
    unit: str = ""  # the 填报单位 cell
    ids: str = ""  # the registry's project codes on the hidden 项目编号 sheet (absolute range)
    id_groups: str = ""  # their work groups, same size; empty when `ids` lists only this group's projects
    jump_ratio: float = 0.3  # 设置's 单日增幅提醒比例, as the validator reads it
    value: dict[str, str] | None = None  # figure key -> letter of the hidden column reading it as a number

    def cell(self, key: str) -> str:
        return f"{self.column[key]}{self.row}"

    def rest(self) -> str:
        """The row's cells after the project code (a cell holding only spaces counts as blank there)."""
        return f"{self.column['project_name']}{self.row}:{self.column[list(LEDGER_BY_KEY)[-1]]}{self.row}"

    def figure(self, key: str) -> str:
        """The column a figure's value is read from: the hidden 按数读 column when there is one."""
        return self.value[key] if self.value and key in self.value else self.column[key]

    def num(self, key: str) -> str:
        return f"N({self.figure(key)}{self.row})"

    def number_text(self, key: str) -> str:
        return number_text(self, key)

    def blank(self, key: str) -> str:
        return f"LEN({trimmed(self.cell(key))})=0"

    def span(self, letter: str) -> str:
        return f"${letter}${self.first}:${letter}${self.last}"

    def plan_cell(self, key: str) -> str:
        return f"{self.plan[PLAN_OF[key]]}{self.row}"

    def code(self) -> str:
        """The row's project code as the validator reads it: text, without spaces (clean_id)."""
        return f'SUBSTITUTE({trimmed(self.cell("project_id"))}," ","")'

    def listed(self) -> str:
        """How often the row's project code is in the template's list of codes: case-sensitive like the
        validator (EXACT), no wildcards."""
        return f"SUMPRODUCT(EXACT({self.ids},{self.code()})*1)"


def value_formula(refs: Refs, key: str) -> str:
    """A figure as the validator reads it: the number, or text that is a number once trimmed and the column's
    unit dropped (a 文本型数字, warned); 0 for a blank cell or text that is no number (不是数字, an error)."""
    cell, text = refs.cell(key), number_text(refs, key)
    return f"=IF(ISNUMBER({cell}),{cell},IF(ISERROR(VALUE({text})),0,VALUE({text})))"


END = "|"  # marks the end of a figure's text, so that its unit is dropped only there


def number_text(refs: Refs, key: str) -> str:
    """A figure typed as text, as parse_number reads it: folded, without spaces, the column's unit dropped
    at the end only ("12.5亩" is 12.5; "亩8" is no number, as the validator reads it)."""
    unit = LEDGER_BY_KEY[key].unit
    text = f'SUBSTITUTE({trimmed(refs.cell(key))}," ","")'
    return f'SUBSTITUTE(SUBSTITUTE({text}&"{END}","{unit}{END}",""),"{END}","")' if unit else text


ROW_RULES = declared.ROW_RULES  # the rules the template checks on each row, in the table's order


def _applying(refs: Refs) -> list[tuple[declared.Rule, str]]:
    """The rules the template can check on this row, errors first, each with its condition."""
    ordered = [r for r in ROW_RULES if r.is_error] + [r for r in ROW_RULES if not r.is_error]
    return [(rule, condition) for rule in ordered if (condition := rule.template_formula(refs))]


SEPARATOR = "；"  # ends every reason; no catalogue title holds one, so counting them counts the reasons
EXCEL_FORMULA_LIMIT = 8192  # characters: Excel refuses a longer formula (LibreOffice does not)


def reasons_formula(refs: Refs, errors: bool) -> str:
    """The row's reasons of one severity in Chinese (a warning marked （提醒）), each ending in ；; empty
    when there is none. Errors and warnings are two cells so that neither formula nears Excel's limit."""
    parts = [f'IF({condition},"{rule.text()}{"" if rule.is_error else "（提醒）"}{SEPARATOR}","")'
             for rule, condition in _applying(refs) if rule.is_error == errors]
    return "=" + "&".join(parts)


def shown_formula(errors_cell: str, warnings_cell: str) -> str:
    """What the 自查结果 column shows: the errors, then the warnings."""
    return f"={errors_cell}&{warnings_cell}"


def count_formula(reasons_cell: str) -> str:
    """How many reasons a reasons cell holds."""
    return f'=LEN({reasons_cell})-LEN(SUBSTITUTE({reasons_cell},"{SEPARATOR}",""))'


@dataclass(frozen=True)
class HeadRefs:
    """The identity cells above the table: 填报单位, 填报日期, and the hidden last report date."""

    unit: str
    date: str
    last_date: str


HEAD_RULES: tuple[tuple[Code, Callable[[HeadRefs], str]], ...] = tuple(
    (rule.code, rule.formula) for rule in declared.HEAD_RULES)


def head_reasons_formula(head: HeadRefs) -> str:
    return "=" + "&".join(f'IF({cond(head)},"{CATALOGUE[code].title}；","")' for code, cond in HEAD_RULES)


def head_count(head: HeadRefs) -> str:
    return "+".join(f"IF({cond(head)},1,0)" for code, cond in HEAD_RULES if CATALOGUE[code].severity == ERROR)


def verdict_formula(head: HeadRefs, errors_range: str) -> str:
    """可以报送 when no rule that the validator counts as an error is broken, else 有 N 处需修改."""
    total = f"({head_count(head)}+SUM({errors_range}))"
    return f'=IF({total}=0,"可以报送","有 "&{total}&" 处需修改")'
