"""Each ledger rule is declared once (domain/rules.py) and both the validator's check and the template's formula
are rendered from the declaration: the table is the complete list, every rendered rule is tripped and passed
by generated rows on which Python and LibreOffice agree, and a changed threshold changes both."""

from __future__ import annotations

import ast
import datetime as dt
import random
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from xladdin.base.issues import Code
from xladdin.base.schema import FIGURE_KEYS, LEDGER_BY_KEY, LEDGER_FIELDS, PLAN_KEYS, PLAN_OF, YES
from xladdin.base.values import parse_number
from xladdin.domain import rules, selfcheck, validate

from .test_selfcheck import _recalculated

ROOT = Path(__file__).resolve().parents[1]
RENDERED = [rule for rule in rules.RULES if rule.kind == rules.RENDERED]
FIRST = 2  # the harness sheet's first data row (the header is row 1)
RATIO = 0.3


def _codes_reported_by_the_validator() -> set[str]:
    """Every issue code validate.py names (Code.X): what check_ledger can report."""
    tree = ast.parse((ROOT / "xladdin" / "domain" / "validate.py").read_text("utf-8"))
    return {Code[node.attr].value for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code"}


def test_the_table_is_the_complete_list_of_what_the_validator_reports():
    declared = {rule.code for rule in rules.RULES}
    assert _codes_reported_by_the_validator() <= declared
    for rule in rules.RULES:
        assert rule.kind in (rules.RENDERED, rules.LOOKUP, rules.PYTHON_ONLY), rule.code
        assert rule.message and rule.severity  # the catalogue's, through the code
        if rule.kind == rules.RENDERED:
            assert rule.scope in rules.SCOPE_ARGS and rule.columns, rule.code
        else:
            assert rule.why and rule.python, rule.code  # says why it is not one expression, and where it is
        if rule.kind == rules.LOOKUP:
            assert rule.formula is not None, rule.code


def test_the_template_checks_every_rule_the_table_gives_a_formula(registry):
    """Its reasons are the declared row rules (no rule of its own), and each is a formula of the sheet."""
    assert selfcheck.ROW_RULES == tuple(r for r in rules.RULES if r.kind != rules.PYTHON_ONLY and not r.head)
    refs = selfcheck.Refs(**{**_refs(FIRST, FIRST + 10).__dict__, "ids": "'项目编号'!$A$2:$A$9",
                             "id_groups": "'项目编号'!$B$2:$B$9"})
    formulas = selfcheck.reasons_formula(refs, errors=True) + selfcheck.reasons_formula(refs, errors=False)
    for rule in selfcheck.ROW_RULES:
        condition = rule.template_formula(refs)
        assert condition and f'IF({condition},"{rule.text()}' in formulas, rule.code


def test_a_plain_number_breaks_no_cell_rule():
    """check_ledger takes a plain non-negative number (a whole one in a count column) without calling the cell
    rules: none of them could fire on it."""
    for key in FIGURE_KEYS:
        _, check = rules.checks("cell", key)
        for value in (0.0, 1.0, 3.0, 12.0, 1e6) + ((0.5, 12.25) if LEDGER_BY_KEY[key].kind == "area" else ()):
            number, was_text = parse_number(value)
            assert check(number, was_text, False) == (), (key, value)


# ---------------------------------------------------------------------------------------------------------
# One sheet of generated rows, every rendered rule a formula column, recalculated by LibreOffice once.

def _layout() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str], int]:
    """Column letters: the ledger's, the last report's, the plans', the values read; the first rule column."""
    ledger = {f.key: get_column_letter(c) for c, f in enumerate(LEDGER_FIELDS, start=1)}
    c = len(LEDGER_FIELDS) + 1
    previous = {key: get_column_letter(c + i) for i, key in enumerate(FIGURE_KEYS)}
    c += len(FIGURE_KEYS)
    plan = {key: get_column_letter(c + i) for i, key in enumerate(PLAN_KEYS)}
    c += len(PLAN_KEYS)
    value = {key: get_column_letter(c + i) for i, key in enumerate(FIGURE_KEYS)}
    return ledger, previous, plan, value, c + len(FIGURE_KEYS)


def _refs(row: int, last: int, jump_ratio: float = RATIO) -> selfcheck.Refs:
    ledger, previous, plan, value, _ = _layout()
    return selfcheck.Refs(row, FIRST, last, ledger, previous, plan, unit="$B$1", jump_ratio=jump_ratio, value=value)


def _random_row(rng: random.Random) -> dict:
    """A project line or a 地块 line with numbers that cross the rules' thresholds now and then."""
    figures = {}
    for key in FIGURE_KEYS:
        whole = LEDGER_BY_KEY[key].kind == "count"
        figures[key] = float(rng.choice([0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 21, 25, 40, 60, 101, 130] if whole else
                                        [0, 0.5, 2, 4, 4.5, 9.9, 10, 11, 20.5, 21.5, 25, 60, 101, 130.2]))
    if rng.random() < 0.3:
        figures["cleared_mu"] = figures["acquired_mu"] + rng.choice([0.0, 1e-12, 0.5, 5.0])
    plans = {key: float(rng.choice([4, 10, 20, 50, 100])) for key in PLAN_KEYS if rng.random() < 0.7}
    if rng.random() < 0.3 and "plan_mu" in plans:  # just at the plan, or at twice it and the floor
        figures["acquired_mu"] = plans["plan_mu"] + rng.choice([0.0, 1e-12, 2.0]) * rng.choice([1, 0])
    previous = {key: max(0.0, value - rng.choice([-5, -1e-12, 0, 0, 1, 3, 12, 30])) for key, value in figures.items()}
    return {"figures": figures, "plans": plans, "previous": previous,
            "plot": rng.choice(["", "", "", "东地块"]), "net_land": rng.choice([YES, "否", "否"]),
            "net_land_date": rng.choice([None, dt.date(2026, 11, 20)])}


CELL_VALUES = (3, 2.5, -1, -2.5, "12.5", " 7 ", "１２", "abc", "约5", "{unit}8", "9{unit}")


def _cell_rows() -> list[dict]:
    """Rows whose one figure cell holds what a clerk may type: text, a unit, full-width digits, a minus."""
    out = []
    for key in FIGURE_KEYS:
        unit = LEDGER_BY_KEY[key].unit
        for raw in CELL_VALUES:
            out.append({"cell": key, "raw": raw.format(unit=unit) if isinstance(raw, str) else raw})
    return out


def _python_holds(rule: rules.Rule, row: dict) -> bool:
    """The rule's compiled condition (what check_ledger calls) on the row's facts."""
    _, check = rules.checks(rule.scope, rule.key or None, rules=(rule,))
    if rule.scope == "cell":
        raw = row["raw"] if "cell" in row else row["figures"][rule.key]
        number, was_text = parse_number(raw, LEDGER_BY_KEY[rule.key].unit)
        return bool(check(0.0 if number is None else number, was_text or number is None, number is None))
    record = dict(row["figures"], plot=row["plot"], net_land=row["net_land"], net_land_date=row["net_land_date"])
    plans = row["plans"]
    args = {"row": (record,), "plan": (record, plans), "status": (record, plans),
            "history": (record, plans, row["previous"], {}, RATIO)}[rule.scope]
    return bool(check(*args))


def _write(ws, rows: list[dict]) -> int:
    """The rows as the template holds them, and a 0/1 formula column per rendered rule; the first rule column."""
    ledger, previous, plan, value, first_rule = _layout()
    for c, f in enumerate(LEDGER_FIELDS, start=1):
        ws.cell(1, c, f.label)
    last = FIRST + len(rows) - 1
    for i, row in enumerate(rows):
        r = FIRST + i
        refs = _refs(r, last)
        ws[f"{ledger['project_id']}{r}"] = f"T-{i:04d}"
        if "cell" in row:
            ws[f"{ledger[row['cell']]}{r}"] = row["raw"]
        else:
            for key, number in row["figures"].items():
                ws[f"{ledger[key]}{r}"] = number
                ws[f"{previous[key]}{r}"] = row["previous"][key]
            for key, number in row["plans"].items():
                ws[f"{plan[key]}{r}"] = number
            ws[f"{ledger['plot']}{r}"] = row["plot"] or None
            ws[f"{ledger['net_land']}{r}"] = row["net_land"]
            ws[f"{ledger['net_land_date']}{r}"] = row["net_land_date"]
        for key in FIGURE_KEYS:
            ws[f"{value[key]}{r}"] = selfcheck.value_formula(refs, key)
        for j, rule in enumerate(RENDERED):
            ws.cell(r, first_rule + j, f"=IF({rule.template_formula(refs)},1,0)")
    return first_rule


def _compared(rule: rules.Rule, row: dict) -> bool:
    """A cell rule is compared on the rows typed into its own column; the others on the rows of numbers."""
    if "cell" in row:
        return rule.scope == "cell" and rule.key == row["cell"]
    return True


@pytest.mark.libreoffice
def test_every_rendered_rule_is_tripped_and_passed_alike_by_python_and_libreoffice(tmp_path):
    rng = random.Random(28)
    rows = [_random_row(rng) for _ in range(240)] + _cell_rows()
    expected = {(i, j): _python_holds(rule, row) for i, row in enumerate(rows)
                for j, rule in enumerate(RENDERED) if _compared(rule, row)}
    for j, rule in enumerate(RENDERED):  # the generated rows reach both sides of every rule
        outcomes = {held for (i, k), held in expected.items() if k == j}
        assert outcomes == {True, False}, (rule.code, rule.key, outcomes)
    wb = openpyxl.Workbook()
    first_rule = _write(wb.active, rows)
    recalculated = _recalculated(tmp_path, {"rules": wb})["rules"]
    ws = openpyxl.load_workbook(recalculated, data_only=True).active
    wrong = [(RENDERED[j].code.value, RENDERED[j].key, i, held, ws.cell(FIRST + i, first_rule + j).value)
             for (i, j), held in expected.items() if ws.cell(FIRST + i, first_rule + j).value != int(held)]
    assert wrong == [], "\n".join(map(str, wrong))


# ---------------------------------------------------------------------------------------------------------
# A threshold changed in the declaration changes the check and the formula.

def test_a_threshold_changed_in_the_declaration_changes_the_check_and_the_formula(monkeypatch, registry):
    project = registry.iloc[0]
    plan = float(project["plan_mu"])
    figure = 2.5 * plan + 1.0  # above twice the plan and its floor, below three times
    refs = _refs(FIRST, FIRST)

    def far_rule(table):
        return next(r for r in table if r.code == Code.FAR_ABOVE_PLAN and r.key == "acquired_mu")

    def reported(table) -> set[str]:
        monkeypatch.setattr(validate, "_PLAN", rules.checks("plan", rules=table))
        figures = dict.fromkeys(FIGURE_KEYS, 0.0) | {"acquired_mu": figure, "plot": ""}
        issues = []
        validate._check_plan(figures, project["project_id"], 5, lambda row, key: f"{key}{row}",
                             lambda code, where, **kw: issues.append(code), validate.RegistryIndex(registry))
        return set(issues)

    before = rules._declare()
    assert reported(before) == {Code.FAR_ABOVE_PLAN}
    assert f"{refs.num('acquired_mu')}>2*{refs.plan_cell('acquired_mu')}+1" in far_rule(before).template_formula(refs)

    monkeypatch.setattr(rules, "FAR_FACTOR", 3)
    after = rules._declare()
    assert reported(after) == {Code.ABOVE_PLAN}  # the validator: now only a little above the plan
    formula = far_rule(after).template_formula(refs)
    assert f"{refs.num('acquired_mu')}>3*{refs.plan_cell('acquired_mu')}+1" in formula and ">2*" not in formula
    assert "<=3*" in next(r for r in after if r.code == Code.ABOVE_PLAN and r.key == "acquired_mu"
                          ).template_formula(refs)


def test_the_plan_a_figure_is_checked_against_is_the_schemas():
    """Each plan rule reads the plan column PLAN_OF names (agreements and demolition share 计划拆除房屋)."""
    refs = _refs(FIRST, FIRST)
    for rule in RENDERED:
        if rule.scope == "plan":
            assert refs.plan_cell(rule.key) in rule.template_formula(refs)
            assert repr(PLAN_OF[rule.key]) in rule.condition.py()
