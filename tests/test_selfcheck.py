"""The fill-in ledger: it starts from the group's last accepted figures, and its own formulas (recalculated
by LibreOffice) reach the validator's verdict on the same file."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import openpyxl
import pytest

from xladdin.issues import CATALOGUE
from xladdin.reading import locate_file
from xladdin.schema import FIGURE_KEYS, LABEL_DATE, LEDGER_FIELDS
from xladdin.selfcheck import HEAD_RULES, ROW_RULES
from xladdin.validate import Checked, GroupState, check_ledger
from xladdin.workbook.ledger import FIRST_ROW, HEADER_ROW, IDENTITY_CELLS, LastReport, build_ledger

from .conftest import AS_OF
from .test_validate import GROUP, good_rows

LAST_DATE = AS_OF - dt.timedelta(days=2)
DATE = AS_OF - dt.timedelta(days=1)
COLUMN = {f.key: c for c, f in enumerate(LEDGER_FIELDS, start=1)}


def last_report(registry) -> LastReport:
    return LastReport(LAST_DATE, [{k: v for k, v in row.items() if k != "project_name"}
                                  for row in good_rows(registry)])


def template(registry):
    return build_ledger(GROUP, registry[registry["group"] == GROUP], self_check=True, last=last_report(registry))


def row_of(ws, project: str) -> int:
    for r in range(FIRST_ROW, ws.max_row + 1):
        if ws.cell(r, COLUMN["project_id"]).value == project:
            return r
    raise AssertionError(project)


def states(registry) -> dict[str, GroupState]:
    figures = {row["project_id"]: {k: float(row.get(k) or 0) for k in FIGURE_KEYS} for row in last_report(registry).rows}
    return {GROUP: GroupState(LAST_DATE, figures)}


def test_the_template_starts_from_the_last_accepted_figures_with_the_date_blank(registry):
    ws = template(registry).active
    date_r, date_c = IDENTITY_CELLS[LABEL_DATE]
    assert ws.cell(date_r, date_c + 1).value is None
    for sent in last_report(registry).rows:
        r = row_of(ws, sent["project_id"])
        for key in FIGURE_KEYS:
            assert ws.cell(r, COLUMN[key]).value == sent.get(key)
    header = [c.value for c in ws[HEADER_ROW]]
    hidden = [h for i, h in enumerate(header, start=1)
              if h and ws.column_dimensions[openpyxl.utils.get_column_letter(i)].hidden]
    assert any(h.startswith("上次报送") for h in hidden) and any(h.startswith("计划") for h in hidden)


def test_a_template_sent_back_with_only_the_date_filled_is_accepted_without_noise(tmp_path, registry):
    wb = template(registry)
    date_r, date_c = IDENTITY_CELLS[LABEL_DATE]
    wb.active.cell(date_r, date_c + 1).value = DATE
    wb.save(tmp_path / "t.xlsx")
    located = locate_file(tmp_path / "t.xlsx")
    assert not located.extra_columns
    checked = check_ledger(located, registry, states(registry), AS_OF)
    assert checked.accepted and checked.issues == []


def test_every_rule_of_the_template_is_a_code_of_the_validators_catalogue():
    for rule in ROW_RULES:
        assert rule.code in CATALOGUE
    assert {code for code, _ in HEAD_RULES} <= set(CATALOGUE)


def _set(cell_of, project, key, value):
    return lambda ws: ws.cell(row_of(ws, project) if project else cell_of(ws), COLUMN[key]).__setattr__(
        "value", value)


def _spare(ws) -> int:
    return max(r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, COLUMN["project_id"]).value) + 1


CASES = {
    "clean": [],
    "decreased": [_set(None, "SJ-06", "acquired_mu", 9.0)],
    "above-plan-only": [_set(None, "SJ-06", "graves", 21)],
    "far-above-plan": [_set(None, "SJ-06", "graves", 50)],
    "demolished-over-agreed": [_set(None, "SJ-07", "houses_demolished", 3)],
    "cleared-over-acquired": [_set(None, "XJ-03", "cleared_mu", 11)],
    "net-land-with-work-left": [_set(None, "XJ-06", "net_land", "是"),
                                _set(None, "XJ-06", "net_land_date", DATE)],
    "id-missing": [_set(_spare, None, "acquired_mu", 3), _set(_spare, None, "plot", "东地块")],
    "date-missing": ["no date"],
    "two-together": [_set(None, "SJ-06", "acquired_mu", 9.0), _set(None, "SJ-07", "houses_demolished", 3)],
}


@pytest.mark.libreoffice
def test_the_templates_verdict_is_the_validators_on_held_out_cases(tmp_path, registry):
    written = []
    for name, changes in CASES.items():
        wb = template(registry)
        ws = wb.active
        if "no date" not in changes:
            date_r, date_c = IDENTITY_CELLS[LABEL_DATE]
            ws.cell(date_r, date_c + 1).value = DATE
        for change in changes:
            if callable(change):
                change(ws)
        path = tmp_path / f"{name}.xlsx"
        wb.save(path)
        written.append(path)
    out = tmp_path / "lo"
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--calc",
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, written)],
                   check=True, capture_output=True, timeout=300)
    verdicts = {}
    for path in written:
        recalculated = out / path.name
        ws = openpyxl.load_workbook(recalculated, data_only=True).active
        verdict = next(ws.cell(2, c + 1).value for c in range(1, ws.max_column) if ws.cell(2, c).value == "自查")
        located = locate_file(recalculated)
        checked = located if isinstance(located, Checked) else check_ledger(located, registry, states(registry), AS_OF)
        verdicts[path.stem] = verdict
        if checked.accepted:
            assert verdict == "可以报送", (path.stem, checked.issues)
        else:
            found = re.fullmatch(r"有 (\d+) 处需修改", verdict or "")
            assert found and int(found.group(1)) == checked.errors, (path.stem, verdict,
                                                                     [i.code for i in checked.issues])
        reasons = [ws.cell(r, len(LEDGER_FIELDS) + 1).value or "" for r in range(FIRST_ROW, ws.max_row + 1)]
        for issue in checked.issues:
            if issue.cell and issue.code in {rule.code for rule in ROW_RULES}:
                assert any(CATALOGUE[issue.code].title in text for text in reasons), (path.stem, issue.code)
    assert verdicts["clean"] == "可以报送" and verdicts["above-plan-only"] == "可以报送"
    assert verdicts["two-together"] == "有 2 处需修改"


def test_templates_command_fills_each_group_with_its_last_accepted_report(tmp_path, demo):
    from click.testing import CliRunner

    from xladdin.cli import main
    from xladdin.demo import MASTER_NAME
    from xladdin.store import Store

    directory, _, _ = demo
    out = tmp_path / "模板"
    assert CliRunner().invoke(main, ["templates", str(directory / MASTER_NAME), "--out", str(out)]).exit_code == 0
    store = Store(directory / "历史库.sqlite")
    try:
        accepted = store.accepted_rows()
    finally:
        store.close()
    checked = 0
    for path in out.glob("*.xlsx"):
        ws = openpyxl.load_workbook(path).active
        group = ws.cell(2, 2).value
        mine = accepted[accepted["group_name"] == group]
        latest = mine[mine["report_date"] == mine["report_date"].max()]
        for row in latest.itertuples():
            r = next(r for r in range(FIRST_ROW, ws.max_row + 1)
                     if ws.cell(r, COLUMN["project_id"]).value == row.project_id
                     and (ws.cell(r, COLUMN["plot"]).value or "") == row.plot)
            for key in FIGURE_KEYS:
                assert ws.cell(r, COLUMN[key]).value == pytest.approx(getattr(row, key)), (group, row.project_id, key)
            checked += 1
    assert checked >= 10
