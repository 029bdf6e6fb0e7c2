"""Checks of one located ledger against the registry and the group's last accepted report.

Never raises on bad data: every problem becomes an Issue pinned to a cell. The rules on a row's cells and
figures are declared once in domain/rules.py, which compiles each scope's conditions into one function at
import; here they are called and their issues pinned.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from dataclasses import InitVar, dataclass, field

from xladdin.base.issues import Code, Issue
from xladdin.base.lazy import pandas as pd
from xladdin.base.located import Ledger, UncachedFormula
from xladdin.base.schema import (
    FIGURE_KEYS,
    LABEL_DATE,
    LABEL_UNIT,
    LEDGER_BY_KEY,
    LEDGER_FIELDS,
    NO,
    PLAN_OF,
    cell_address,
)
from xladdin.base.text import clean_key, show_invisible, xml_safe
from xladdin.base.values import (
    display,
    excel_error,
    format_number,
    is_blank,
    parse_date,
    parse_number,
    parse_yesno,
)
from xladdin.domain import rules as declared
from xladdin.domain.rules import (  # noqa: F401 - the rules' constants, as callers have imported them from here
    FAR_FACTOR,
    FAR_FLOOR,
    JUMP_FLOOR,
    SLIP_FACTOR,
    SLIP_FLOOR,
    TOLERANCE,
)

NAN = float("nan")
INF = math.inf
UNUSABLE = object()  # a figure cell already reported, to be read as unknown rather than blank
# A 地块 cell that names a total line, not a plot: 小计, 合计, 总计, 其中… (never added to the plots).
TOTAL_WORDS = ("小计", "合计", "总计", "共计", "汇总")
ROW_COLUMNS = ("project_id", "plot", *FIGURE_KEYS, "net_land", "net_land_date", "problems", "next_steps", "row")


@dataclass
class GroupState:
    """What HQ last accepted from a group: the report date and each project's cumulative figures,
    and the report before that one (a resubmission for the same day is compared with it)."""

    report_date: dt.date
    figures: dict[str, dict[str, float]]  # project_id -> figure key -> project total
    before: "GroupState | None" = None


@dataclass
class ProjectState:
    """What HQ last accepted of one project, whichever group sent it: the date, the group, its cumulative
    figures (plots summed), and the report before that date."""

    report_date: dt.date
    figures: dict[str, float]
    group: str = ""
    before: "ProjectState | None" = None


class History(dict):
    """Each group's last accepted report (GroupState by group: its date, for 填报日期早于上次报送) and each
    project's (`projects`, ProjectState by project): a row is compared with its project's last accepted
    figures whoever sent them. A plain dict of GroupState (as older callers pass) is read as both."""

    def __init__(self, groups=(), projects: dict[str, ProjectState] | None = None):
        super().__init__(groups)
        self.projects: dict[str, ProjectState] = projects if projects is not None else {}


def project_states(states: dict[str, GroupState]) -> dict[str, ProjectState]:
    """The project states a History carries; from the group states alone for a plain dict."""
    if isinstance(states, History):
        return states.projects
    out: dict[str, ProjectState] = {}
    for group, state in states.items():
        before = state.before
        for project, figures in state.figures.items():
            earlier = None
            if before is not None and project in before.figures:
                earlier = ProjectState(before.report_date, before.figures[project], group)
            out[project] = ProjectState(state.report_date, figures, group, earlier)
    return out


def is_total_line(plot: str) -> bool:
    """A 地块 cell that names a total (小计/合计/其中合计…) rather than a plot."""
    text = plot.replace(" ", "")
    return any(word in text for word in TOTAL_WORDS) and len(text) <= 12


@dataclass
class Checked:
    """The outcome of checking one submission."""

    file: str
    sheet: str
    group: str = ""
    report_date: dt.date | None = None
    reporter: str = ""
    issues: list[Issue] = field(default_factory=list)
    # The typed rows as tuples in ROW_COLUMNS order: what the run records and sums, with no frame per file.
    records: list[tuple] = field(default_factory=list)
    # A frame given instead (tests, older callers) becomes records; reading `rows` builds the frame on demand.
    rows: InitVar[pd.DataFrame | None] = None

    def __post_init__(self, rows: pd.DataFrame | None) -> None:
        if isinstance(rows, pd.DataFrame):
            self.records = list(rows[list(ROW_COLUMNS)].itertuples(index=False, name=None))

    def column(self, key: str) -> list:
        """One ROW_COLUMNS column of the typed rows."""
        i = ROW_COLUMNS.index(key)
        return [record[i] for record in self.records]

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    @property
    def warnings(self) -> int:
        return len(self.issues) - self.errors

    @property
    def accepted(self) -> bool:
        return self.errors == 0


def _rows_frame(self: Checked) -> pd.DataFrame:
    """The typed rows as a frame (ROW_COLUMNS), built when someone asks: the run itself never does."""
    return pd.DataFrame(self.records, columns=list(ROW_COLUMNS))


# Set after the dataclass is made, so that its __init__ still takes `rows=` (the InitVar above).
Checked.rows = property(_rows_frame)


class RegistryIndex:
    """Dictionary lookups over the registry, built once per run: checks ask per cell."""

    def __init__(self, registry: pd.DataFrame, renumbered: dict[str, str] | None = None):
        self.frame = registry
        self.group_of: dict[str, str] = dict(zip(registry["project_id"], registry["group"]))
        self.renumbered = current_ids(registry, renumbered or {})
        # Plans by project and key, looked up per checked row: a province registry has 50,000 projects
        # and a day's files name all of them, a few files a few hundred.
        self._position = {project: i for i, project in enumerate(registry["project_id"])}
        # A plan column an older registry lacks (计划拆除地上附着物) is no plan: nothing is checked against it.
        self._plans = {key: registry[key].astype(float).tolist() if key in registry.columns
                       else [math.nan] * len(registry) for key in sorted(set(PLAN_OF.values()))}
        self._by_project: dict[str, dict[str, float]] = {}
        self.groups: list[str] = list(dict.fromkeys(registry["group"]))
        self._group_set = set(self.groups)
        self._group_keys = {clean_key(g).replace(" ", ""): g for g in self.groups}
        self.projects_of: dict[str, list[str]] = {}
        for project, group in self.group_of.items():
            self.projects_of.setdefault(group, []).append(project)

    def group_named(self, text: str) -> str | None:
        """The registry's work group a 填报单位 names, look-alike characters and spaces aside."""
        if text in self._group_set:
            return text
        return self._group_keys.get(clean_key(text).replace(" ", ""))

    def plan(self, project: str, key: str) -> float | None:
        return self.plans_of(project).get(key)

    def plans_of(self, project: str) -> dict[str, float]:
        """A project's plans by key (a plan not given is absent), looked up once per project and kept."""
        plans = self._by_project.get(project)
        if plans is None:
            i = self._position.get(project)
            plans = {} if i is None else {key: values[i] for key, values in self._plans.items()
                                          if not math.isnan(values[i])}
            self._by_project[project] = plans
        return plans


def former_pairs(registry: pd.DataFrame) -> list[tuple[str, str]]:
    """(原编号, 项目编号) of the registry rows that name a 原编号 (none in a registry without the column)."""
    if "former_id" not in registry.columns:  # a registry kept by an older version
        return []
    return [(old, new) for new, old in zip(registry["project_id"], registry["former_id"])
            if isinstance(old, str) and old]


def current_ids(registry: pd.DataFrame, renumbered: dict[str, str]) -> dict[str, str]:
    """Old 项目编号 -> the registry's 项目编号 it became: the 项目清单's 原编号 column, and the renumberings
    the store recorded (`renumbered`, old -> new, followed along a chain A -> B -> C), for the old codes
    that are no longer in the registry and whose new code is."""
    steps = dict(renumbered)
    steps.update(former_pairs(registry))
    ids = set(registry["project_id"])
    current = {}
    for old in steps:
        new, seen = steps[old], {old}
        while new not in ids and new in steps and new not in seen:
            seen.add(new)
            new = steps[new]
        if old not in ids and new in ids:
            current[old] = new
    return current


def clean_id(value: object) -> str:
    """A project code as text: full-width folded, spaces dropped, 1001.0 read as 1001."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_key(str(value)).replace(" ", "")


def clean_text(value: object) -> str:
    """Submitted text as kept: trimmed, without the characters no XML part may hold."""
    return "" if is_blank(value) else xml_safe(str(value)).strip()


def check_ledger(
    ledger: Ledger,
    registry: pd.DataFrame | RegistryIndex,
    states: dict[str, GroupState],
    as_of: dt.date,
    jump_ratio: float = 0.3,
) -> Checked:
    """Every rule over one ledger, in the order a clerk reads it: who and when, the sheet, each row, what
    is missing, then the figures against the group's earlier reports. A registry frame is indexed by
    project_id."""
    if not isinstance(registry, RegistryIndex):
        registry = RegistryIndex(registry)
    out = Checked(file=ledger.file, sheet=ledger.sheet)

    def issue(code: str, cell: str = "", **kw: str) -> None:
        out.issues.append(Issue(code, file=ledger.file, sheet=ledger.sheet, cell=cell, group=out.group, **kw))

    def cell(row: int, key: str) -> str:
        return cell_address(row, ledger.columns[key]) if key in ledger.columns else f"第{row}行"

    state = _check_identity(ledger, registry, states, as_of, out, issue)
    if not _check_sheet(ledger, issue):
        return out
    seen: dict[tuple[str, str], int] = {}
    reported = _Reported(states)
    typed = [_typed_row(row, raw, ledger, registry, out.group, seen, cell, issue, reported)
             for row, raw in ledger.rows]
    typed = _without_total_lines(typed, ledger.columns, registry, cell, issue)
    out.records = list(map(_AS_RECORD, typed))
    if out.group:
        present = {record["project_id"] for record in typed}
        for project in registry.projects_of.get(out.group, []):
            if project not in present:
                issue(Code.PROJECT_MISSING, cell_address(ledger.header_row, 1), project=project)
    dated = out.report_date is not None and out.report_date <= as_of
    stale = state is not None and dated and out.report_date < state.report_date
    if dated and typed and not stale:  # a stale file is refused for its date alone, not also as decreased
        _check_history(typed, ledger.columns, out.report_date, out.group, project_states(states), registry,
                       jump_ratio, cell, issue)
    return out


def _check_identity(ledger: Ledger, registry: RegistryIndex, states: dict[str, GroupState], as_of: dt.date,
                    out: Checked, issue) -> GroupState | None:
    """The 填报单位 and 填报日期 above the table (set on `out`); the group's state the date is checked against."""
    groups = registry.groups
    unit_value, unit_cell = ledger.identity.get(LABEL_UNIT, (None, ""))
    unit = clean_text(unit_value)
    unit = registry.group_named(unit) or unit
    if not unit:
        issue(Code.UNIT_MISSING, unit_cell or "A1")
    elif unit not in groups:
        issue(Code.UNIT_UNKNOWN, unit_cell, value=show_invisible(str(unit_value).strip()),
              expected=groups[0] if groups else "")
    else:
        out.group = unit
    date_value, date_cell = ledger.identity.get(LABEL_DATE, (None, ""))
    report_date = parse_date(date_value)
    state = states.get(out.group)
    if report_date is None:
        issue(Code.DATE_MISSING, date_cell or "A1", value=display(date_value) or "空")
    elif report_date > as_of:
        issue(Code.DATE_FUTURE, date_cell, value=report_date.isoformat(), expected=as_of.isoformat())
    elif state is not None and report_date < state.report_date:
        issue(Code.DATE_STALE, date_cell, value=report_date.isoformat(), expected=state.report_date.isoformat())
    out.report_date = report_date
    out.reporter = clean_text(ledger.identity.get("填报人", (None, ""))[0])
    return state


def _check_sheet(ledger: Ledger, issue) -> bool:
    """What the reader noticed in the sheet, the header and its columns; False when no row can be read."""
    for code in ledger.warnings:
        issue(code)
    for where, formula in ledger.unsafe.items():
        issue(Code.UNSAFE_FORMULA, where, value=formula)
    for where, (length, limit) in ledger.too_long.items():
        issue(Code.CELL_TOO_LONG, where, value=str(length), expected=str(limit))
    if not ledger.header_row:
        issue(Code.HEADER_MISSING, "A1")
        return False
    for key, col in ledger.duplicate_columns:
        issue(Code.COLUMN_DUPLICATE, cell_address(ledger.header_row, col), column=LEDGER_BY_KEY[key].label)
    for f in LEDGER_FIELDS:
        if f.required and f.key not in ledger.columns:
            issue(Code.COLUMN_MISSING, cell_address(ledger.header_row, 1), column=f.label)
    for text, col in ledger.extra_columns:
        issue(Code.COLUMN_EXTRA, cell_address(ledger.header_row, col), value=text)
    if "project_id" not in ledger.columns:
        return False
    if not ledger.rows:
        issue(Code.NO_ROWS, cell_address(ledger.header_row + 1, 1))
        return False
    return True


_AS_RECORD = operator.itemgetter(*ROW_COLUMNS)  # a typed row as its record tuple
_IS_UNCACHED = UncachedFormula.__instancecheck__


class _Reported:
    """Every project the states know (reported before): built only when a row names a project the registry
    lacks, so that an ordinary file never walks the whole history."""

    def __init__(self, states: dict[str, GroupState]):
        self._states, self._projects = states, None

    def __contains__(self, project: str) -> bool:
        if self._projects is None:
            states = self._states
            self._projects = set(project_states(states)).union(*(state.figures for state in states.values()))
        return project in self._projects


# The same cells come back in every file of a run and every day (codes, plots, 是/否, dates, unchanged text):
# each read once per process. Pure functions of a cell's value (typed: 1, 1.0 and True differ); every value
# a reader gives (text, numbers, dates, None) is hashable.
_cached = functools.lru_cache(maxsize=1 << 16, typed=True)


_project_code = _cached(clean_id)
_plot_key = _cached(lambda value: clean_key(clean_text(value)))
_kept_text = _cached(clean_text)
_yesno = _cached(parse_yesno)
_date = _cached(parse_date)


def _typed_row(row: int, raw: dict, ledger: Ledger, registry: RegistryIndex, group: str,
               seen: dict[tuple[str, str], int], cell, issue, reported=None) -> dict[str, object]:
    """One row of the table, typed (ROW_COLUMNS), after every rule on the row itself."""
    if any(map(_IS_UNCACHED, raw.values())):
        raw = dict(raw)  # the ledger stays as read: a group's later file may be checked again
        for key, value in list(raw.items()):
            if isinstance(value, UncachedFormula):
                issue(Code.FORMULA_NO_VALUE, cell(row, key), column=LEDGER_BY_KEY[key].label, value=display(value))
                raw[key] = None if not LEDGER_BY_KEY[key].numeric else UNUSABLE
    if row in ledger.hidden_rows:
        issue(Code.ROW_HIDDEN, cell(row, "project_id"), value=str(row))
    project = _project_code(raw.get("project_id"))
    if project in registry.renumbered:  # an old code (原编号): the project it became, its history with it
        issue(Code.PROJECT_RENUMBERED, cell(row, "project_id"), project=registry.renumbered[project], value=project)
        project = registry.renumbered[project]
    plot = _plot_key(raw.get("plot"))
    record: dict[str, object] = {"project_id": project, "plot": plot, "row": row}
    if not project:
        issue(Code.PROJECT_ID_MISSING, cell(row, "project_id"))
    elif project not in registry.group_of and project in (reported or {}):  # reported before: taken off since
        issue(Code.PROJECT_REMOVED, cell(row, "project_id"), project=project)
    elif project not in registry.group_of:
        issue(Code.PROJECT_UNKNOWN, cell(row, "project_id"), value=show_invisible(display(raw.get("project_id"))))
    elif group and registry.group_of[project] != group:
        issue(Code.PROJECT_NOT_ASSIGNED, cell(row, "project_id"), project=project,
              expected=registry.group_of[project])
    if project and (project, plot) in seen:
        issue(Code.ROW_DUPLICATE, cell(row, "project_id"), project=project, value=plot or "（未填）")
    seen[(project, plot)] = row
    for key in FIGURE_KEYS:
        value = raw.get(key, NAN)
        # The usual cells, as _figure would take them: a number that breaks no rule (plain_number), a blank.
        if value.__class__ is float and 0.0 <= value < INF and (key not in _COUNTS or value.is_integer()):
            record[key] = value
        elif value is None or value.__class__ is str and not value.strip():
            record[key] = 0.0
        else:
            # A column a ledger may lack (new in the template) counts 0; a required one is missing.
            record[key] = (_figure(value, key, cell(row, key), project, issue) if key in raw
                           else NAN if LEDGER_BY_KEY[key].required else 0.0)
    net, net_date_raw = raw.get("net_land"), raw.get("net_land_date")
    yes_no, net_date = _yesno(net), _date(net_date_raw)
    record["net_land"] = yes_no or NO
    record["net_land_date"] = net_date
    record["problems"] = _kept_text(raw.get("problems"))
    record["next_steps"] = _kept_text(raw.get("next_steps"))
    # Every declared rule of the typed row in one call: between its figures, against its plans (a project
    # line: plots are checked by their sum, _without_total_lines), its 是否净地 and dates; reported in the
    # order a clerk reads the row, the status rules after what is wrong in those two cells.
    rules, check = _ROW
    fired = check(record, registry.plans_of(project))
    for i in fired:
        rule = rules[i]
        if rule.scope != "status":
            _row_issue(rule, record, row, cell, issue, registry)
    if yes_no is None and not is_blank(net):
        issue(Code.YESNO_INVALID, cell(row, "net_land"), project=project, value=display(net))
    if not is_blank(net_date_raw) and net_date is None:
        issue(Code.DATE_INVALID, cell(row, "net_land_date"), project=project, column="净地交付日期",
              value=display(net_date_raw))
    for i in fired:
        if rules[i].scope == "status":
            _row_issue(rules[i], record, row, cell, issue, registry)
    return record


def _row_issue(rule: declared.Rule, record: dict, row: int, cell, issue, registry: RegistryIndex) -> None:
    project = record["project_id"]
    issue(rule.code, cell(row, rule.pinned), project=project,
          **rule.message_fields(r=record, p=registry.plans_of(project)))


_COUNTS = frozenset(f.key for f in LEDGER_FIELDS if f.kind == "count")


def _figure(raw: object, key: str, where: str, project: str, issue) -> float:
    """The figure in a cell; NaN when it is unusable, so that no later rule fires on it."""
    f = LEDGER_BY_KEY[key]
    if raw is UNUSABLE:
        return NAN
    if is_blank(raw):
        return 0.0
    error = excel_error(raw)
    if error:
        issue(Code.EXCEL_ERROR, where, project=project, column=f.label, value=error)
        return NAN
    number, was_text = parse_number(raw, f.unit)
    rules, check = _CELL[key]
    unreadable = number is None
    for i in check(0.0 if unreadable else number, was_text or unreadable, unreadable):
        rule = rules[i]
        issue(rule.code, where, project=project, **rule.message_fields(n=number, raw=raw))
        if rule.unusable:
            return NAN
    return number


# Each scope's declared rules, compiled once (domain/rules.py).
_CELL = {key: declared.checks("cell", key) for key in FIGURE_KEYS}
_ROW = declared.checks(("row", "plan", "status"))
_PLAN = declared.checks("plan")
_HISTORY = {key: declared.checks("history", key) for key in FIGURE_KEYS}


def _check_plan(figures: dict, project: str, row: int, cell, issue, registry: RegistryIndex, plots: int = 0) -> None:
    """A project's figures (one row, or the sum of its `plots` 地块 rows: every figure key and plot "")
    against its plans."""
    plans = registry.plans_of(project)
    if plans:
        _plan_issues(figures, project, plans, row, cell, issue, plots)


def _plan_issues(figures: dict, project: str, plans: dict[str, float], row: int, cell, issue, plots: int = 0) -> None:
    rules, check = _PLAN
    for i in check(figures, plans):
        rule = rules[i]
        fields = rule.message_fields(r=figures, p=plans)
        if plots:
            fields["column"] += f"（{plots} 个地块合计）"
        issue(rule.code, cell(row, rule.pinned), project=project, **fields)


def _project_before(state: ProjectState | None, report_date: dt.date) -> ProjectState | None:
    """The project's last accepted report before `report_date` (a same-day correction is compared with the
    day before; a day sent late, with the report before it), as far as the state reaches."""
    while state is not None and state.report_date >= report_date:
        state = state.before
    return state


def _check_history(typed: list[dict], columns: dict[str, int], report_date: dt.date, group: str,
                   projects: dict[str, ProjectState], registry: RegistryIndex, jump_ratio: float, cell,
                   issue) -> None:
    """Cumulative figures never fall below the project's last accepted report, whichever group sent it;
    a large jump (or the slip of a digit) is worth a look.

    A project reported plot by plot is compared by its total (plain dictionaries: a ledger is a few
    dozen rows, where a pandas groupby would cost more than the check)."""
    present = [key for key in FIGURE_KEYS if key in columns]
    totals: dict[str, dict[str, float]] = {}
    first_row: dict[str, int] = {}
    keys: set[tuple[str, str]] = set()
    doubled: set[str] = set()
    for record in typed:
        project = record["project_id"]
        if project not in projects:
            continue  # never accepted before: nothing to compare with
        if (project, record["plot"]) in keys:
            doubled.add(project)
        keys.add((project, record["plot"]))
        sums = totals.get(project)
        if sums is None:
            totals[project], first_row[project] = {key: record[key] for key in present}, record["row"]
            continue
        for key in present:  # NaN (unusable) cells are skipped; a total stays NaN only if all are
            value = record[key]
            if value == value:
                sums[key] = value if sums[key] != sums[key] else sums[key] + value
    for project, figures in totals.items():
        if project in doubled:
            continue  # a duplicated row already rejects the file; its sum would only mislead
        last = _project_before(projects.get(project), report_date)
        if last is None or not last.figures:
            continue
        since = None
        earlier = last.before
        plans = registry.plans_of(project)
        last_figures = last.figures
        steps = None
        for key in present:
            now, then = float(figures[key]), float(last_figures.get(key, 0.0))
            if now - then <= 0.0 and now + TOLERANCE >= then:
                continue  # nothing gained: no history rule can fire (the usual unchanged figure)
            if steps is None:  # the gain of the report before, where the store knows it
                steps = {} if earlier is None or not earlier.figures else {
                    k: float(last_figures.get(k, 0.0)) - float(earlier.figures.get(k, 0.0)) for k in present}
            rules, check = _HISTORY[key]
            for i in check(figures, plans, last_figures, steps, jump_ratio):
                rule = rules[i]
                fields = rule.message_fields(r=figures, p=plans, q=last_figures, w=steps, ratio=jump_ratio)
                if "{detail}" in rule.message and "detail" not in fields:  # whose figures it fell below
                    if since is None:
                        since = last.report_date.isoformat() + (
                            f"（{last.group}）" if last.group and last.group != group else "")
                    fields["detail"] = since
                issue(rule.code, cell(int(first_row[project]), key), project=project, **fields)


def _without_total_lines(typed: list[dict], columns: dict[str, int], registry: RegistryIndex, cell,
                         issue) -> list[dict]:
    """The data rows: a project's total line (a 地块 named 小计/合计, or the project line above its 地块
    lines) is checked against the sum of its 地块 and left out, so a project is counted once; the sum of a
    project's 地块 is checked against its plan like a single row."""
    by_project: dict[str, list[dict]] = {}
    for record in typed:
        if record["project_id"]:
            by_project.setdefault(record["project_id"], []).append(record)
    dropped: set[int] = set()
    present = [key for key in FIGURE_KEYS if key in columns]
    for project, records in by_project.items():
        if len(records) < 2:
            if records[0]["plot"] and is_total_line(records[0]["plot"]):
                records[0]["plot"] = ""  # a lone 合计 line is the project line
                _check_plan(records[0], project, int(records[0]["row"]), cell, issue, registry)
            continue
        plots = [r for r in records if r["plot"] and not is_total_line(r["plot"])]
        if not plots:
            continue  # two project lines: ROW_DUPLICATE already refuses the file
        sums = {key: sum(p[key] for p in plots if p[key] == p[key]) for key in present}
        # A 小计/合计 line is a total; so is the project line above 其中… 地块, or one that equals their sum.
        # A project line that does not is one more part of the project (a plot added below it).
        totals = [r for r in records if r["plot"] and is_total_line(r["plot"])]
        totals += [r for r in records if not r["plot"] and (
            any(p["plot"].startswith("其中") for p in plots)
            or all(abs(r[key] - sums[key]) <= 1e-6 for key in present if r[key] == r[key]))]
        for total in totals:
            dropped.add(id(total))
            wrong = [key for key in present if total[key] == total[key]
                     and abs(total[key] - sum(p[key] for p in plots if p[key] == p[key])) > 1e-6]
            if wrong:
                key = wrong[0]
                issue(Code.TOTAL_MISMATCH, cell(int(total["row"]), key), project=project,
                      column=LEDGER_BY_KEY[key].label, value=format_number(total[key]),
                      expected=format_number(sum(p[key] for p in plots if p[key] == p[key])),
                      detail=total["plot"] or "项目")
            else:
                issue(Code.TOTAL_LINE, cell(int(total["row"]), "project_id"), project=project,
                      value=str(total["row"]), detail=total["plot"] or "项目")
        parts = [r for r in records if not any(r is t for t in totals)]
        if len(parts) > 1:  # the project's parts together against its plan, like a single row
            plots = parts
            summed = {key: sum(p[key] for p in plots if p[key] == p[key]) for key in present}
            _check_plan(dict.fromkeys(FIGURE_KEYS, NAN) | summed | {"plot": ""},
                        project, int(plots[0]["row"]), cell, issue, registry, plots=len(plots))
    return [record for record in typed if id(record) not in dropped]
