"""The validator's row rules as Excel formulas, so that a fill-in ledger checks itself without Python.

Each rule names its issue code in the catalogue: the text a row shows is the catalogue's title and the
rule counts as a 需修改 only when the catalogue's severity is an error, so the ledger's verdict and the
validator's come from one table. The tolerances are the validator's own constants.
Formulas use functions of Excel 2007 and earlier only (IF, AND, OR, N, ISTEXT, SUMIF, COUNTIFS,
SUMPRODUCT, ASC, TRIM, SUBSTITUTE), so that Excel 2010, WPS and LibreOffice compute them alike; text is read
through `fold`, as the validator reads it after NFKC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from xladdin.base.issues import CATALOGUE, ERROR, Code
from xladdin.base.schema import FIGURE_KEYS, LEDGER_BY_KEY, PLAN_OF, YES
from xladdin.domain.validate import FAR_FACTOR, FAR_FLOOR, JUMP_FLOOR, SLIP_FLOOR, TOLERANCE

EPS = f"1E{round(math.log10(TOLERANCE))}"  # the validator's tolerance (a power of ten), as the formulas write it


def fold(reference: str) -> str:
    """What an input method types, read as the validator reads it (NFKC): full-width digits, letters and
    punctuation half-width (ASC, in Excel, WPS and LibreOffice), the ideographic space (U+3000) and the
    no-break space (U+00A0) an ordinary space, which TRIM then removes. The two spaces are literal characters
    in the formula: UNICHAR is Excel 2013, and CHAR(160) depends on the PC's code page."""
    return f'SUBSTITUTE(SUBSTITUTE(ASC({reference}),"\u3000"," "),"\u00a0"," ")'


def trimmed(reference: str) -> str:
    """A cell's text folded and trimmed: what the validator compares (clean_key, parse_yesno)."""
    return f"TRIM({fold(reference)})"


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


@dataclass(frozen=True)
class RowRule:
    """One validator rule on a ledger row: its catalogue code, the figure it is about, the condition."""

    code: str
    condition: Callable[[Refs], str]  # "" where the template lacks what the rule needs: the rule is left out
    key: str = ""  # the figure column the rule is about; empty for rules on the whole row

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", Code(self.code))  # a misspelt code fails at import, as in the validator

    @property
    def is_error(self) -> bool:
        return CATALOGUE[self.code].severity == ERROR

    def text(self) -> str:
        title = CATALOGUE[self.code].title
        return f"{_short(self.key)}{title}" if self.key else title


def _short(key: str) -> str:
    """A figure's label without 累计 and its unit, as a reason names it: 征地面积, 拆除房屋."""
    label = LEDGER_BY_KEY[key].label
    return label.removeprefix("累计").split("(")[0]


def value_formula(refs: Refs, key: str) -> str:
    """A figure as the validator reads it: the number, or text that is a number once trimmed and the column's
    unit dropped (a 文本型数字, warned); 0 for a blank cell or text that is no number (不是数字, an error)."""
    cell, text = refs.cell(key), number_text(refs, key)
    return f"=IF(ISNUMBER({cell}),{cell},IF(ISERROR(VALUE({text})),0,VALUE({text})))"


def number_text(refs: Refs, key: str) -> str:
    """A figure typed as text, as parse_number reads it: folded, without spaces and the column's unit."""
    unit = LEDGER_BY_KEY[key].unit
    text = trimmed(refs.cell(key))
    return f'SUBSTITUTE(SUBSTITUTE({text},"{unit}","")," ","")' if unit else f'SUBSTITUTE({text}," ","")'


def _not_number(key: str) -> Callable[[Refs], str]:
    return lambda r: f"AND(ISTEXT({r.cell(key)}),NOT({r.blank(key)}),ISERROR(VALUE({number_text(r, key)})))"


def _text_number(key: str) -> Callable[[Refs], str]:
    return lambda r: f"AND(ISTEXT({r.cell(key)}),NOT({r.blank(key)}),NOT(ISERROR(VALUE({number_text(r, key)}))))"


def _far_above(key: str) -> Callable[[Refs], str]:
    floor = FAR_FLOOR[LEDGER_BY_KEY[key].kind]
    return lambda r: (f"AND({r.blank('plot')},ISNUMBER({r.plan_cell(key)}),"
                      f"{r.num(key)}>{FAR_FACTOR:g}*{r.plan_cell(key)}+{floor:g})")


def _above(key: str) -> Callable[[Refs], str]:
    floor = FAR_FLOOR[LEDGER_BY_KEY[key].kind]
    return lambda r: (f"AND({r.blank('plot')},ISNUMBER({r.plan_cell(key)}),{r.num(key)}>{r.plan_cell(key)}+{EPS},"
                      f"{r.num(key)}<={FAR_FACTOR:g}*{r.plan_cell(key)}+{floor:g})")


def _decreased(key: str) -> Callable[[Refs], str]:
    """The project's total (all its plots) below last time's, judged on the project's first row."""
    def condition(r: Refs) -> str:
        pid, ids, prev = r.cell("project_id"), r.span(r.column["project_id"]), r.span(r.previous[key])
        first = f"${r.column['project_id']}${r.first}:{pid}"
        return (f"AND(NOT({r.blank('project_id')}),COUNTIF({first},{pid})=1,COUNTIFS({ids},{pid},{prev},\"<>\")>0,"
                f"SUMIF({ids},{pid},{r.span(r.figure(key))})+{EPS}<SUMIF({ids},{pid},{prev}))")
    return condition


def _jumped(key: str) -> Callable[[Refs], str]:
    """The project's total (all its plots) grown by more than the validator's jump bound since last time."""
    floor, slip = JUMP_FLOOR[LEDGER_BY_KEY[key].kind], SLIP_FLOOR[LEDGER_BY_KEY[key].kind]

    def condition(r: Refs) -> str:
        pid, ids, prev = r.cell("project_id"), r.span(r.column["project_id"]), r.span(r.previous[key])
        first, plan = f"${r.column['project_id']}${r.first}:{pid}", r.plan_cell(key)
        gain = f"(SUMIF({ids},{pid},{r.span(r.figure(key))})-SUMIF({ids},{pid},{prev}))"
        # The validator's two bounds: a share of the plan, and the slip of a digit (the template knows only
        # the last report, so the day before's gain is unknown here, as for a project's second report).
        return (f"AND(NOT({r.blank('project_id')}),COUNTIF({first},{pid})=1,COUNTIFS({ids},{pid},{prev},\"<>\")>0,"
                f"OR(AND(ISNUMBER({plan}),{plan}>0,{gain}>MAX({r.jump_ratio:g}*{plan},{floor:g})+{EPS}),"
                f"{gain}>{slip:g}+{EPS}))")
    return condition


def _unknown(r: Refs) -> str:
    """A code typed into a row that no project of the registry has (known only from the whole registry)."""
    if not r.id_groups:
        return ""
    return f"AND(NOT({r.blank('project_id')}),{r.listed()}=0)"


def _not_assigned(r: Refs) -> str:
    """A code of the registry that belongs to another group (any code not the group's own, when the
    template lists only those)."""
    if not r.ids:
        return ""
    if not r.id_groups:
        return f"AND(NOT({r.blank('project_id')}),{r.listed()}=0)"
    return (f"AND(NOT({r.blank('project_id')}),LEN({trimmed(r.unit)})>0,{r.listed()}>0,"
            f"SUMPRODUCT(EXACT({r.ids},{r.code()})*({r.id_groups}={trimmed(r.unit)}))=0)")


def _net_land_incomplete(r: Refs) -> str:
    acquired, demolished = r.plan_cell("acquired_mu"), r.plan_cell("houses_demolished")
    return (f'AND({trimmed(r.cell("net_land"))}="{YES}",{r.blank("plot")},'
            f'OR(AND(ISNUMBER({acquired}),{r.num("acquired_mu")}+{EPS}<{acquired}),'
            f'AND(ISNUMBER({demolished}),{r.num("houses_demolished")}<{demolished})))')


def _row_rules() -> tuple[RowRule, ...]:
    rules: list[RowRule] = [
        RowRule("project-id-missing", lambda r: (
            f"AND({r.blank('project_id')},SUMPRODUCT(LEN({trimmed(r.rest())}))>0)")),
        RowRule("row-duplicate", lambda r: (
            f"AND(NOT({r.blank('project_id')}),SUMPRODUCT((${r.column['project_id']}${r.first}:"
            f"{r.cell('project_id')}={r.cell('project_id')})*(${r.column['plot']}${r.first}:{r.cell('plot')}="
            f"{r.cell('plot')}))>1)")),
        RowRule("project-unknown", _unknown),
        RowRule("project-not-assigned", _not_assigned),
    ]
    for key in FIGURE_KEYS:
        rules.append(RowRule("not-a-number", _not_number(key), key))
        rules.append(RowRule("text-number", _text_number(key), key))
        rules.append(RowRule("negative", lambda r, k=key: f"{r.num(k)}<0", key))
        if LEDGER_BY_KEY[key].kind == "count":
            rules.append(RowRule("not-whole", lambda r, k=key: f"{r.num(k)}<>INT({r.num(k)})", key))
    rules += [
        RowRule("demolished-exceeds-agreed", lambda r: f"{r.num('houses_demolished')}>{r.num('houses_agreed')}"),
        RowRule("cleared-exceeds-acquired", lambda r: f"{r.num('cleared_mu')}>{r.num('acquired_mu')}+{EPS}"),
    ]
    for key in PLAN_OF:
        if key in FIGURE_KEYS:
            rules.append(RowRule("far-above-plan", _far_above(key), key))
            rules.append(RowRule("above-plan", _above(key), key))
    rules += [
        RowRule("net-land-incomplete", _net_land_incomplete),
        RowRule("net-land-date-missing", lambda r: (
            f'AND({trimmed(r.cell("net_land"))}="{YES}",{r.blank("net_land_date")})')),
        RowRule("net-land-date-unexpected", lambda r: (
            f'AND({trimmed(r.cell("net_land"))}<>"{YES}",NOT({r.blank("net_land_date")}))')),
    ]
    rules += [RowRule("cumulative-decreased", _decreased(key), key) for key in FIGURE_KEYS]
    rules += [RowRule("jump-large", _jumped(key), key) for key in PLAN_OF if key in FIGURE_KEYS]
    return tuple(rules)


ROW_RULES = _row_rules()


def _applying(refs: Refs) -> list[tuple[RowRule, str]]:
    """The rules the template can check on this row, errors first, each with its condition."""
    ordered = [r for r in ROW_RULES if r.is_error] + [r for r in ROW_RULES if not r.is_error]
    return [(rule, condition) for rule in ordered if (condition := rule.condition(refs))]


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


HEAD_RULES: tuple[tuple[Code, Callable[[HeadRefs], str]], ...] = (
    (Code("unit-missing"), lambda h: f"LEN({trimmed(h.unit)})=0"),
    (Code("date-missing"), lambda h: f"NOT(ISNUMBER({h.date}))"),
    (Code("date-future"), lambda h: f"AND(ISNUMBER({h.date}),{h.date}>TODAY())"),
    (Code("date-stale"), lambda h: f"AND(ISNUMBER({h.date}),ISNUMBER({h.last_date}),{h.date}<{h.last_date})"),
)


def head_reasons_formula(head: HeadRefs) -> str:
    return "=" + "&".join(f'IF({cond(head)},"{CATALOGUE[code].title}；","")' for code, cond in HEAD_RULES)


def head_count(head: HeadRefs) -> str:
    return "+".join(f"IF({cond(head)},1,0)" for code, cond in HEAD_RULES if CATALOGUE[code].severity == ERROR)


def verdict_formula(head: HeadRefs, errors_range: str) -> str:
    """可以报送 when no rule that the validator counts as an error is broken, else 有 N 处需修改."""
    total = f"({head_count(head)}+SUM({errors_range}))"
    return f'=IF({total}=0,"可以报送","有 "&{total}&" 处需修改")'
