"""Each ledger rule written once: its code, the columns it reads, its thresholds and a small expression from
which both the validator's Python check and the fill-in template's Excel formula are rendered.

The table RULES is the complete list of what check_ledger reports. A rule is one of
- RENDERED: its condition is an expression (Figure, Plan, Blank, Total, Previous… combined with + - * < > & |
  ~); `python()` compiles it once, at import, into straight-line code that check_ledger calls per row, and
  `formula(refs)` writes it as an Excel 2007 formula (IF/AND/OR/N/ISNUMBER/SUMIF/COUNTIFS only, so Excel 2010,
  WPS and LibreOffice agree);
- LOOKUP: it reads beyond the row (the registry, the rows above): the validator looks it up in Python and the
  template carries the formula written here over its hidden lists;
- PYTHON_ONLY: no formula can hold it (the sheet's layout, the store's history, what the reader saw in the
  file), with the reason.
The message template and the severity are the issue catalogue's (base/issues.py: one home for every code,
file rules included); a rule names its code and says which figures fill the message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from xladdin.base.issues import CATALOGUE, ERROR, Code
from xladdin.base.schema import FIGURE_KEYS, LEDGER_BY_KEY, PLAN_OF, YES
from xladdin.base.values import display, format_number

NAN = float("nan")
TOLERANCE = 1e-9  # figures closer than this are equal (floats of typed decimals)
EPS = f"1E{round(math.log10(TOLERANCE))}"  # the tolerance as the formulas write it (a power of ten)
# Above twice the plan is impossible, except on tiny plans where one more house doubles it.
FAR_FACTOR = 2
FAR_FLOOR = {"area": 1.0, "count": 2.0}
# A jump smaller than this is never flagged, whatever the plan: one house of a three-house plan is normal.
JUMP_FLOOR = {"area": 1.0, "count": 3.0}
# The slip of a digit (12.5 typed 30.5: +18 亩 in a day) stays under a share of a large plan: a day's gain
# above this, and above SLIP_FACTOR times the project's gain the day before (any, when that is unknown), is
# worth a look whatever the plan.
SLIP_FLOOR = {"area": 10.0, "count": 10.0}
SLIP_FACTOR = 5.0

RENDERED, LOOKUP, PYTHON_ONLY = "rendered", "lookup", "python only"
# Where check_ledger evaluates a rendered rule, and what its compiled function takes:
# cell: one figure cell as read (n: its number, 0 when it reads as none, as in the template; t: not a number
# cell; u: no number at all); row: a typed row (r);
# plan: a project's figures, one row or its 地块 summed (r), against its plans (p); status: a typed row's
# 是否净地 and dates (r, p); history: a project's total (r) against its last accepted figures (q), the gain
# before that (w: by figure, only where known) and 设置's jump ratio.
SCOPE_ARGS = {"cell": "n, t, u", "row": "r", "plan": "r, p", "status": "r, p", "history": "r, p, q, w, ratio"}


def fold(reference: str) -> str:
    """What an input method types, read as the validator reads it (NFKC): full-width digits, letters and
    punctuation half-width (ASC, in Excel, WPS and LibreOffice), the ideographic space (U+3000) and the
    no-break space (U+00A0) an ordinary space, which TRIM then removes. The two spaces are literal characters
    in the formula: UNICHAR is Excel 2013, and CHAR(160) depends on the PC's code page."""
    return f'SUBSTITUTE(SUBSTITUTE(ASC({reference}),"\u3000"," "),"\u00a0"," ")'


def trimmed(reference: str) -> str:
    """A cell's text folded and trimmed: what the validator compares (clean_key, parse_yesno)."""
    return f"TRIM({fold(reference)})"


# ---------------------------------------------------------------------------------------------------------
# Expressions: each node renders as Python source (`py`) and as an Excel formula over a Refs (`xl`).

TRUE, FALSE = "TRUE", "FALSE"  # what a condition the template cannot know folds to


class Expr:
    def __add__(self, other): return Arith("+", self, _wrap(other))
    def __sub__(self, other): return Arith("-", self, _wrap(other))
    def __mul__(self, other): return Arith("*", self, _wrap(other))
    def __rmul__(self, other): return Arith("*", _wrap(other), self)
    def __gt__(self, other): return Compare(">", self, _wrap(other))
    def __lt__(self, other): return Compare("<", self, _wrap(other))
    def __ge__(self, other): return Compare(">=", self, _wrap(other))
    def __le__(self, other): return Compare("<=", self, _wrap(other))
    def __and__(self, other): return And((self, other))
    def __or__(self, other): return Or((self, other))
    def __invert__(self): return Not(self)

    def differs(self, other) -> "Compare":
        return Compare("<>", self, _wrap(other))

    def py(self) -> str:
        raise NotImplementedError

    def xl(self, refs) -> str:
        raise NotImplementedError

    def xl_parts(self, refs) -> list[str]:
        """The terms this node adds to an AND around it."""
        return [self.xl(refs)]

    def keys(self) -> set[str]:
        """The ledger columns the expression reads."""
        return set()


def _wrap(value) -> Expr:
    return value if isinstance(value, Expr) else Const(value)


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: float

    def py(self) -> str:
        return repr(float(self.value))

    def xl(self, refs) -> str:
        return EPS if self.value == TOLERANCE else f"{self.value:g}"


TOL = Const(TOLERANCE)


@dataclass(frozen=True, eq=False)
class Ratio(Expr):
    """设置's 单日增幅提醒比例: a run's setting, not a constant of the rule."""

    def py(self) -> str:
        return "ratio"

    def xl(self, refs) -> str:
        return f"{refs.jump_ratio:g}"


@dataclass(frozen=True, eq=False)
class Figure(Expr):
    """A figure of the row (in a cell rule: the cell's number)."""

    key: str

    def py(self) -> str:
        return f"r[{self.key!r}]"

    def xl(self, refs) -> str:
        return refs.num(self.key)

    def keys(self) -> set[str]:
        return {self.key}


@dataclass(frozen=True, eq=False)
class Number(Expr):
    """The number a figure cell reads as (a cell rule)."""

    key: str

    def py(self) -> str:
        return "n"

    def xl(self, refs) -> str:
        return refs.num(self.key)

    def keys(self) -> set[str]:
        return {self.key}


@dataclass(frozen=True, eq=False)
class TypedText(Expr):
    """A figure cell holding something other than a number (text, not blank)."""

    key: str

    def py(self) -> str:
        return "t"

    def xl_parts(self, refs) -> list[str]:
        return [f"ISTEXT({refs.cell(self.key)})", f"NOT({refs.blank(self.key)})"]

    def xl(self, refs) -> str:
        return f"AND({','.join(self.xl_parts(refs))})"

    def keys(self) -> set[str]:
        return {self.key}


@dataclass(frozen=True, eq=False)
class Unreadable(Expr):
    """A figure cell's text that is no number once folded, trimmed and its unit dropped (parse_number)."""

    key: str

    def py(self) -> str:
        return "u"

    def xl(self, refs) -> str:
        return f"ISERROR(VALUE({refs.number_text(self.key)}))"

    def keys(self) -> set[str]:
        return {self.key}


@dataclass(frozen=True, eq=False)
class Plan(Expr):
    """The registry's plan that bounds a figure: read only after Known(plan), as in Excel after ISNUMBER (the
    Python plans hold only the plans the registry gives)."""

    key: str

    def py(self) -> str:
        return f"p[{PLAN_OF[self.key]!r}]"

    def xl(self, refs) -> str:
        return refs.plan_cell(self.key)


@dataclass(frozen=True, eq=False)
class Total(Expr):
    """A project's figure summed over its rows (its 地块)."""

    key: str

    def py(self) -> str:
        return f"r[{self.key!r}]"

    def xl(self, refs) -> str:
        pid, ids = refs.cell("project_id"), refs.span(refs.column["project_id"])
        return f"SUMIF({ids},{pid},{refs.span(refs.figure(self.key))})"

    def keys(self) -> set[str]:
        return {self.key, "project_id"}


@dataclass(frozen=True, eq=False)
class Previous(Expr):
    """The project's figure in its last accepted report (the template's hidden 上次报送 column)."""

    key: str

    def py(self) -> str:
        return f"q.get({self.key!r}, 0.0)"

    def xl(self, refs) -> str:
        pid, ids = refs.cell("project_id"), refs.span(refs.column["project_id"])
        return f"SUMIF({ids},{pid},{refs.span(refs.previous[self.key])})"

    def keys(self) -> set[str]:
        return {self.key, "project_id"}


@dataclass(frozen=True, eq=False)
class Step(Expr):
    """The project's gain in the report before the last (known to the store, never to the template)."""

    key: str

    def py(self) -> str:
        return f"w[{self.key!r}]"

    def xl(self, refs) -> str:
        raise ValueError("the template knows only the last report")


@dataclass(frozen=True, eq=False)
class Known(Expr):
    """A plan the registry gives, or a step the store knows."""

    of: Plan | Step

    def py(self) -> str:
        if isinstance(self.of, Plan):
            return f"({PLAN_OF[self.of.key]!r} in p)"
        return f"({self.of.key!r} in w)"

    def xl(self, refs) -> str:
        return FALSE if isinstance(self.of, Step) else f"ISNUMBER({self.of.xl(refs)})"


@dataclass(frozen=True, eq=False)
class Blank(Expr):
    """A text or date cell left empty (spaces count as empty)."""

    key: str

    def py(self) -> str:
        return f"(not r[{self.key!r}])"

    def xl(self, refs) -> str:
        return refs.blank(self.key)

    def keys(self) -> set[str]:
        return {self.key}


@dataclass(frozen=True, eq=False)
class Says(Expr):
    """A text cell that reads (folded and trimmed) as `text`."""

    key: str
    text: str
    negate: bool = False

    def py(self) -> str:
        return f"(r[{self.key!r}] {'!=' if self.negate else '=='} {self.text!r})"

    def xl(self, refs) -> str:
        return f'{trimmed(refs.cell(self.key))}{"<>" if self.negate else "="}"{self.text}"'

    def keys(self) -> set[str]:
        return {self.key}


@dataclass(frozen=True, eq=False)
class Call(Expr):
    name: str  # MAX or INT
    args: tuple[Expr, ...]

    def py(self) -> str:
        return f"{ {'MAX': 'max', 'INT': '_floor'}[self.name]}({', '.join(a.py() for a in self.args)})"

    def xl(self, refs) -> str:
        return f"{self.name}({','.join(a.xl(refs) for a in self.args)})"

    def keys(self) -> set[str]:
        return set().union(*(a.keys() for a in self.args))


def Max(*args) -> Call:
    return Call("MAX", tuple(map(_wrap, args)))


def Int(arg) -> Call:
    return Call("INT", (_wrap(arg),))


@dataclass(frozen=True, eq=False)
class Arith(Expr):
    op: str
    left: Expr
    right: Expr

    def py(self) -> str:
        return f"({self.left.py()} {self.op} {self.right.py()})"

    def xl(self, refs) -> str:
        text = f"{self.left.xl(refs)}{self.op}{self.right.xl(refs)}"
        return f"({text})" if self.op == "-" else text  # + and * are only ever written unambiguously here

    def keys(self) -> set[str]:
        return self.left.keys() | self.right.keys()


@dataclass(frozen=True, eq=False)
class Compare(Expr):
    op: str
    left: Expr
    right: Expr

    def py(self) -> str:
        return f"({self.left.py()} {'!=' if self.op == '<>' else self.op} {self.right.py()})"

    def xl(self, refs) -> str:
        return f"{self.left.xl(refs)}{self.op}{self.right.xl(refs)}"

    def keys(self) -> set[str]:
        return self.left.keys() | self.right.keys()


@dataclass(frozen=True, eq=False)
class And(Expr):
    terms: tuple[Expr, ...]

    def __and__(self, other):
        return And((*self.terms, other))

    def py(self) -> str:
        return "(" + " and ".join(t.py() for t in self.terms) + ")"

    def xl_parts(self, refs) -> list[str]:
        parts = []
        for term in self.terms:
            rendered = term.xl_parts(refs)
            if FALSE in rendered:
                return [FALSE]
            parts += [p for p in rendered if p != TRUE]
        return parts

    def xl(self, refs) -> str:
        parts = self.xl_parts(refs)
        return (TRUE if not parts else parts[0] if len(parts) == 1 or parts == [FALSE]
                else f"AND({','.join(parts)})")

    def keys(self) -> set[str]:
        return set().union(*(t.keys() for t in self.terms))


@dataclass(frozen=True, eq=False)
class Or(Expr):
    terms: tuple[Expr, ...]

    def __or__(self, other):
        return Or((*self.terms, other))

    def py(self) -> str:
        return "(" + " or ".join(t.py() for t in self.terms) + ")"

    def xl(self, refs) -> str:
        parts = []
        for term in self.terms:  # a term the template knows to hold decides: the rest is never rendered
            rendered = term.xl(refs)
            if rendered == TRUE:
                return TRUE
            if rendered != FALSE:
                parts.append(rendered)
        return FALSE if not parts else parts[0] if len(parts) == 1 else f"OR({','.join(parts)})"

    def keys(self) -> set[str]:
        return set().union(*(t.keys() for t in self.terms))


@dataclass(frozen=True, eq=False)
class Not(Expr):
    term: Expr

    def py(self) -> str:
        return f"(not {self.term.py()})"

    def xl(self, refs) -> str:
        rendered = self.term.xl(refs)
        return FALSE if rendered == TRUE else TRUE if rendered == FALSE else f"NOT({rendered})"

    def keys(self) -> set[str]:
        return self.term.keys()


_NAMESPACE = {"NAN": NAN, "_floor": math.floor}


def compiled(source: str, args: str) -> Callable:
    """Python source of an expression made a function of `args`, once."""
    return eval(f"lambda {args}: {source}", dict(_NAMESPACE))  # noqa: S307 - our own rendered source


# ---------------------------------------------------------------------------------------------------------
# The declarations.

Fields = Callable[..., dict]  # keyword facts (r, p, q, w, ratio, n, raw) -> the message's fields


@dataclass(frozen=True)
class Case:
    """One way a rule fires, with what its message then says."""

    when: Expr
    fields: Fields | None = None
    holds: Callable = field(init=False, repr=False, compare=False)  # `when` compiled, for the message only

    def __post_init__(self) -> None:
        object.__setattr__(self, "holds", compiled(self.when.py(), FACTS))


FACTS = "r=None, p=None, q=None, w=None, ratio=None, n=None, t=None, u=None, raw=None"


@dataclass(frozen=True)
class Rule:
    """One ledger rule: its issue code, how it is checked, the columns it reads and the cell it is pinned to."""

    code: Code
    kind: str
    scope: str = ""  # RENDERED: where check_ledger evaluates it (SCOPE_ARGS)
    when: Expr | None = None  # RENDERED: the condition (default: any of the cases)
    key: str = ""  # the figure column a per-column rule is about (its reason in the template names it)
    at: str = ""  # the column of the cell the issue is pinned to (default: key)
    fields: Fields | None = None  # the message's fields when the rule fires (beside each case's own)
    cases: tuple[Case, ...] = ()  # ways it fires, each with its message's fields (the first holding one's)
    join_cases: str = ""  # instead: the details of all holding cases, joined by this
    unusable: bool = False  # a cell rule after which the figure is unknown: no later rule reads it
    formula: Callable | None = None  # LOOKUP: the template's formula over a Refs ("" where it cannot be written)
    head: bool = False  # a rule on the identity cells above the table (HeadRefs)
    reads: tuple[str, ...] = ()  # LOOKUP and PYTHON_ONLY: the columns or cells it reads
    why: str = ""  # LOOKUP and PYTHON_ONLY: why it is not one expression of the row
    python: str = ""  # where the Python check is (LOOKUP and PYTHON_ONLY)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", Code(self.code))  # a misspelt code fails at import

    @property
    def condition(self) -> Expr:
        return self.when if self.when is not None else Or(tuple(c.when for c in self.cases))

    @property
    def severity(self) -> str:
        return CATALOGUE[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def message(self) -> str:
        """The Chinese message template (str.format fields) staff see."""
        return CATALOGUE[self.code].template

    @property
    def columns(self) -> tuple[str, ...]:
        """The ledger columns the rule reads."""
        if self.kind != RENDERED:
            return self.reads
        return tuple(sorted(self.condition.keys()))

    @property
    def pinned(self) -> str:
        return self.at or self.key

    def text(self) -> str:
        """The reason the template shows: the catalogue's title, after the figure it is about."""
        title = CATALOGUE[self.code].title
        return f"{_short(self.key)}{title}" if self.key else title

    def template_formula(self, refs) -> str:
        """The condition as an Excel formula over `refs`; "" where the template lacks what it needs."""
        if self.kind == LOOKUP:
            return self.formula(refs) if self.formula else ""
        if self.kind != RENDERED:
            return ""
        condition = self.condition
        if self.scope == "history":  # judged on the project's first row, when a last report is known
            condition = And((_FirstRowWithLast(self.key), condition))
        return condition.xl(refs)

    def message_fields(self, **facts) -> dict:
        """The message's fields once the rule has fired on `facts` (the names of SCOPE_ARGS, and raw)."""
        out = {"column": LEDGER_BY_KEY[self.key].label} if self.key else {}
        if self.fields:
            out |= self.fields(**facts)
        holding = [case for case in self.cases if case.fields and case.holds(**facts)]
        if holding:
            if self.join_cases:
                out["detail"] = self.join_cases.join(case.fields(**facts)["detail"] for case in holding)
            else:
                out |= holding[0].fields(**facts)
        return out


@dataclass(frozen=True, eq=False)
class _FirstRowWithLast(Expr):
    """The template judges a project's total once, on its first row, and only when a last report is known."""

    key: str

    def xl_parts(self, refs) -> list[str]:
        pid, ids = refs.cell("project_id"), refs.span(refs.column["project_id"])
        first = f"${refs.column['project_id']}${refs.first}:{pid}"
        return [f"NOT({refs.blank('project_id')})", f"COUNTIF({first},{pid})=1",
                f"COUNTIFS({ids},{pid},{refs.span(refs.previous[self.key])},\"<>\")>0"]

    def xl(self, refs) -> str:
        return f"AND({','.join(self.xl_parts(refs))})"



def _short(key: str) -> str:
    """A figure's label without 累计 and its unit, as a reason names it: 征地面积, 拆除房屋."""
    return LEDGER_BY_KEY[key].label.removeprefix("累计").split("(")[0]


def _n(value) -> str:
    return format_number(value)


def _kind(key: str) -> str:
    return LEDGER_BY_KEY[key].kind


def _cell_rules(key: str) -> list[Rule]:
    """What one figure cell may be: text that is no number, a number typed as text, negative, not whole."""
    rules = [
        Rule(Code.NOT_A_NUMBER, RENDERED, "cell", TypedText(key) & Unreadable(key), key=key, unusable=True,
             fields=lambda raw=None, **_: {"value": display(raw)}),
        Rule(Code.TEXT_NUMBER, RENDERED, "cell", TypedText(key) & ~Unreadable(key), key=key,
             fields=lambda raw=None, n=None, **_: {"value": display(raw), "expected": _n(n)}),
        Rule(Code.NEGATIVE, RENDERED, "cell", Number(key) < 0, key=key, unusable=True,
             fields=lambda n=None, **_: {"value": _n(n)}),
    ]
    if _kind(key) == "count":
        rules.append(Rule(Code.NOT_WHOLE, RENDERED, "cell", Number(key).differs(Int(Number(key))), key=key,
                          fields=lambda n=None, **_: {"value": _n(n)}))
    return rules


def _plan_rules(key: str) -> list[Rule]:
    """A project's figure against its plan: a little above is worth a look (plans get adjusted), twice the
    plan is not a real figure."""
    figure, plan, floor = Figure(key), Plan(key), FAR_FLOOR[_kind(key)]
    on_project = Blank("plot") & Known(plan)

    def said(r=None, p=None, **_) -> dict:
        return {"value": _n(r[key]), "expected": _n(p[PLAN_OF[key]])}

    return [
        Rule(Code.FAR_ABOVE_PLAN, RENDERED, "plan", on_project & (figure > FAR_FACTOR * plan + floor), key=key,
             fields=said),
        Rule(Code.ABOVE_PLAN, RENDERED, "plan",
             on_project & (figure > plan + TOL) & (figure <= FAR_FACTOR * plan + floor), key=key, fields=said),
    ]


def _decreased(key: str) -> Rule:
    """Cumulative figures never fall below the project's last accepted report, whichever group sent it."""
    return Rule(Code.CUMULATIVE_DECREASED, RENDERED, "history", Total(key) + TOL < Previous(key), key=key,
                fields=lambda r=None, q=None, **_: {"value": _n(r[key]), "expected": _n(q.get(key, 0.0))})


def _jumped(key: str) -> Rule:
    """A day's gain above a share of the plan, or above the slip of a digit (and SLIP_FACTOR times the gain
    the day before, when the store knows it: the template knows only the last report)."""
    gain, plan, step = Total(key) - Previous(key), Plan(key), Step(key)
    floor, slip = JUMP_FLOOR[_kind(key)], SLIP_FLOOR[_kind(key)]

    def share(r=None, q=None, ratio=None, **_) -> dict:
        return {"value": _n(r[key] - q.get(key, 0.0)), "expected": f"计划数的 {ratio:.0%}"}

    def digit(r=None, q=None, w=None, **_) -> dict:
        usual = f"，上次只增加 {_n(max(w[key], 0.0))}" if key in w else ""
        return {"value": _n(r[key] - q.get(key, 0.0)), "expected": f"单日 {_n(slip)}{usual}"}

    return Rule(Code.JUMP_LARGE, RENDERED, "history", key=key, cases=(
        Case(Known(plan) & (plan > 0) & (gain > Max(Ratio() * plan, floor) + TOL), share),
        Case((gain > Const(slip) + TOL) & (~Known(step) | (gain > SLIP_FACTOR * Max(step, 0.0) + TOL)), digit),
    ))


def _net_land_rules() -> list[Rule]:
    """是否净地 “是” with work left on a project line, or without its date; a date without 是."""
    acquired, demolished = Figure("acquired_mu"), Figure("houses_demolished")
    plan_mu, plan_houses = Plan("acquired_mu"), Plan("houses_demolished")
    land_left = Known(plan_mu) & (acquired + TOL < plan_mu)
    houses_left = Known(plan_houses) & (demolished < plan_houses)
    return [
        Rule(Code.NET_LAND_INCOMPLETE, RENDERED, "status",
             Says("net_land", YES) & Blank("plot") & Or((land_left, houses_left)), at="net_land", join_cases="，",
             cases=(Case(land_left, lambda r=None, p=None, **_: {
                        "detail": f"累计征地 {_n(r['acquired_mu'])} 亩未达计划 {_n(p['plan_mu'])} 亩"}),
                    Case(houses_left, lambda r=None, p=None, **_: {
                        "detail": f"拆除房屋 {_n(r['houses_demolished'])} 栋未达计划 {_n(p['plan_houses'])} 栋"}))),
        Rule(Code.NET_LAND_DATE_MISSING, RENDERED, "status", Says("net_land", YES) & Blank("net_land_date"),
             at="net_land_date"),
        Rule(Code.NET_LAND_DATE_UNEXPECTED, RENDERED, "status",
             Says("net_land", YES, negate=True) & ~Blank("net_land_date"), at="net_land_date",
             fields=lambda r=None, **_: {"value": r["net_land_date"].isoformat()}),
    ]


def _code_rules() -> list[Rule]:
    """A typed project code: the validator looks it up (validate._typed_row), the template in its hidden lists."""

    def missing(r) -> str:
        return f"AND({r.blank('project_id')},SUMPRODUCT(LEN({trimmed(r.rest())}))>0)"

    def duplicate(r) -> str:
        pid, plot = r.column["project_id"], r.column["plot"]
        return (f"AND(NOT({r.blank('project_id')}),SUMPRODUCT((${pid}${r.first}:{r.cell('project_id')}="
                f"{r.cell('project_id')})*(${plot}${r.first}:{r.cell('plot')}={r.cell('plot')}))>1)")

    def unknown(r) -> str:
        """Known only from the whole registry: a template listing only the group's codes cannot tell."""
        return f"AND(NOT({r.blank('project_id')}),{r.listed()}=0)" if r.id_groups else ""

    def not_assigned(r) -> str:
        """A code of another group (any code not the group's own, when the template lists only those)."""
        if not r.ids:
            return ""
        if not r.id_groups:
            return f"AND(NOT({r.blank('project_id')}),{r.listed()}=0)"
        return (f"AND(NOT({r.blank('project_id')}),LEN({trimmed(r.unit)})>0,{r.listed()}>0,"
                f"SUMPRODUCT(EXACT({r.ids},{r.code()})*({r.id_groups}={trimmed(r.unit)}))=0)")

    where, registry = "validate._typed_row", "a registry lookup: the template looks in its hidden 项目编号 sheet"
    return [
        Rule(Code.PROJECT_ID_MISSING, LOOKUP, formula=missing, at="project_id", python=where,
             reads=("project_id", "project_name", "plot", *FIGURE_KEYS, "net_land", "net_land_date", "problems",
                    "next_steps"), why="the whole row: the reader keeps only rows with something typed"),
        Rule(Code.ROW_DUPLICATE, LOOKUP, formula=duplicate, at="project_id", python=where,
             reads=("project_id", "plot"), why="compares the row with the rows above it"),
        Rule(Code.PROJECT_UNKNOWN, LOOKUP, formula=unknown, at="project_id", python=where, reads=("project_id",),
             why=registry),
        Rule(Code.PROJECT_NOT_ASSIGNED, LOOKUP, formula=not_assigned, at="project_id", python=where,
             reads=("project_id", "填报单位"), why=registry),
    ]


def _head_rules() -> list[Rule]:
    """填报单位 and 填报日期 above the table (validate._check_identity; the template's formulas over HeadRefs)."""
    where = "validate._check_identity"
    return [
        Rule(Code.UNIT_MISSING, LOOKUP, head=True, python=where, reads=("填报单位",), why="a cell above the table",
             formula=lambda h: f"LEN({trimmed(h.unit)})=0"),
        Rule(Code.DATE_MISSING, LOOKUP, head=True, python=where, reads=("填报日期",), why="a cell above the table",
             formula=lambda h: f"NOT(ISNUMBER({h.date}))"),
        Rule(Code.DATE_FUTURE, LOOKUP, head=True, python=where, reads=("填报日期",),
             why="the validator compares with the run's 统计日期, the template with TODAY()",
             formula=lambda h: f"AND(ISNUMBER({h.date}),{h.date}>TODAY())"),
        Rule(Code.DATE_STALE, LOOKUP, head=True, python=where, reads=("填报日期",),
             why="the group's last accepted date: the store's, written into the template when it is made",
             formula=lambda h: f"AND(ISNUMBER({h.date}),ISNUMBER({h.last_date}),{h.date}<{h.last_date})"),
    ]


def _python_only() -> list[Rule]:
    """What no formula of the row can hold, and why."""
    reader = "what the reader found in the file, not a value of a cell"
    sheet = "the sheet's header, not a row"
    rows = [
        (Code.UNSAFE_FORMULA, "validate._check_sheet", (), reader),
        (Code.CELL_TOO_LONG, "validate._check_sheet", (), reader),
        (Code.HEADER_MISSING, "validate._check_sheet", (), sheet),
        (Code.COLUMN_DUPLICATE, "validate._check_sheet", (), sheet),
        (Code.COLUMN_MISSING, "validate._check_sheet", (), sheet),
        (Code.COLUMN_EXTRA, "validate._check_sheet", (), sheet),
        (Code.NO_ROWS, "validate._check_sheet", (), "the table as a whole"),
        (Code.UNIT_UNKNOWN, "validate._check_identity", ("填报单位",),
         "the registry's groups, look-alike characters folded: the template is made for one group"),
        (Code.PROJECT_REMOVED, "validate._typed_row", ("project_id",),
         "the store's history: a code reported before and since taken off the registry"),
        (Code.PROJECT_RENUMBERED, "validate._typed_row", ("project_id",),
         "项目清单's 原编号 and the store's recorded renumberings, followed along chains: a template cannot know them"),
        (Code.FORMULA_NO_VALUE, "validate._typed_row", FIGURE_KEYS, "a formula's cached value is missing: " + reader),
        (Code.ROW_HIDDEN, "validate._typed_row", (), "a row's hidden flag: " + reader),
        (Code.EXCEL_ERROR, "validate._figure", FIGURE_KEYS, "an error cell makes every formula reading it an error"),
        (Code.YESNO_INVALID, "validate._typed_row", ("net_land",), "the template offers 是/否 in a drop-down"),
        (Code.DATE_INVALID, "validate._typed_row", ("net_land_date",),
         "the template's date cells take dates only (data validation); Excel reads typed text by the PC's locale"),
        (Code.TOTAL_LINE, "validate._without_total_lines", ("project_id", "plot", *FIGURE_KEYS),
         "a project's lines compared with each other: what is a 小计/合计 line is a judgement on words"),
        (Code.TOTAL_MISMATCH, "validate._without_total_lines", ("project_id", "plot", *FIGURE_KEYS),
         "a project's lines compared with each other: what is a 小计/合计 line is a judgement on words"),
        (Code.PROJECT_MISSING, "check_ledger", ("project_id",), "the group's projects of the registry, not a row"),
    ]
    return [Rule(code, PYTHON_ONLY, python=where, reads=tuple(reads), why=why) for code, where, reads, why in rows]


def _declare() -> tuple[Rule, ...]:
    """Every rule check_ledger reports; the row rules in the order the template lists a row's reasons (its
    errors, then its warnings, each in this order)."""
    rules = _code_rules()
    for key in FIGURE_KEYS:
        rules += _cell_rules(key)
    rules += [
        Rule(Code.DEMOLISHED_EXCEEDS_AGREED, RENDERED, "row", Figure("houses_demolished") > Figure("houses_agreed"),
             at="houses_demolished",
             fields=lambda r=None, **_: {"value": _n(r["houses_demolished"]), "expected": _n(r["houses_agreed"])}),
        Rule(Code.CLEARED_EXCEEDS_ACQUIRED, RENDERED, "row", Figure("cleared_mu") > Figure("acquired_mu") + TOL,
             at="cleared_mu",
             fields=lambda r=None, **_: {"value": _n(r["cleared_mu"]), "expected": _n(r["acquired_mu"])}),
    ]
    for key in PLAN_OF:
        if key in FIGURE_KEYS:
            rules += _plan_rules(key)
    rules += _net_land_rules()
    rules += [_decreased(key) for key in FIGURE_KEYS]
    rules += [_jumped(key) for key in PLAN_OF if key in FIGURE_KEYS]
    return (*rules, *_head_rules(), *_python_only())


RULES = _declare()
ROW_RULES = tuple(r for r in RULES if not r.head and r.kind != PYTHON_ONLY)  # what the template checks per row
HEAD_RULES = tuple(r for r in RULES if r.head)


def _terms(condition: Expr) -> list[str]:
    """A condition's conjuncts as Python source (an AND of ANDs flattened)."""
    if isinstance(condition, And):
        return [term for part in condition.terms for term in _terms(part)]
    return [condition.py()]


def _branches(items: list[tuple[int, list[str], bool]], depth: int) -> list[str]:
    """Nested ifs firing each item (position, conjuncts, unusable) in order; consecutive items that start
    with the same conjunct test it once (the plan rules all start "a project line with a plan")."""
    pad, lines, i = "    " * depth, [], 0
    while i < len(items):
        position, terms, unusable = items[i]
        j = i
        while terms and j + 1 < len(items) and items[j + 1][1][:1] == terms[:1]:
            j += 1
        if j > i:
            lines.append(f"{pad}if {terms[0]}:")
            lines += _branches([(p, t[1:], u) for p, t, u in items[i:j + 1]], depth + 1)
        else:
            fire = f"return fired + ({position},)" if unusable else f"fired += ({position},)"
            lines += [f"{pad}if {' and '.join(terms)}:", f"{pad}    {fire}"] if terms else [f"{pad}{fire}"]
        i = j + 1
    return lines


def checks(scope: str | tuple[str, ...], key: str | None = None, rules: tuple[Rule, ...] | None = None
           ) -> tuple[tuple[Rule, ...], Callable]:
    """The rendered rules of a scope, or of scopes taking the same facts (about one figure `key`, if given),
    and one function, compiled once, that returns the positions of those that hold (a cell's rules stop after
    one that makes the figure unusable)."""
    scopes = (scope,) if isinstance(scope, str) else scope
    chosen = tuple(r for r in (RULES if rules is None else rules) if r.kind == RENDERED and r.scope in scopes
                   and (key is None or r.key == key))
    args = sorted({SCOPE_ARGS[s] for s in scopes}, key=len)[-1]  # row's (r) is a prefix of plan's (r, p)
    lines = [f"def check({args}):", "    fired = ()"]  # a row breaks no rule: nothing is allocated
    lines += _branches([(i, _terms(rule.condition), rule.unusable) for i, rule in enumerate(chosen)], 1)
    lines.append("    return fired")
    namespace = dict(_NAMESPACE)
    exec(compile("\n".join(lines), f"<rules:{scope}>", "exec"), namespace)  # noqa: S102 - our own rendered source
    return chosen, namespace["check"]
