"""Every issue code in the catalogue, produced from a real input and asserted with the cell it is pinned to.

Each code has a producer: a function that builds the input that raises it (a ledger workbook, a CSV, an
inbox entry, a master and its store) and returns the issues the add-in reported. A code added to the
catalogue without a producer fails `test_every_code_is_produced_by_a_real_input`.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import time
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter

from xladdin.base.issues import CATALOGUE, ERROR, Issue, flatten
from xladdin.base.schema import LEDGER_BY_KEY
from xladdin.demo import MASTER_NAME, registry_frame, registry_rows
from xladdin.domain.validate import Checked, GroupState, check_ledger
from xladdin.engine.pipeline import execute
from xladdin.engine.reading import locate_file
from xladdin.workbook.build import build_master
from xladdin.workbook.guard import Limits
from xladdin.workbook.ledger import HEADER_ROW, build_ledger

from .conftest import AS_OF
from .corpus import rezip, sheet_with_formula
from .ledgers import DATE, GROUP, check, good_rows, ledger

# code -> (producer, the cell the issue must be pinned to; "" for a file-level issue)
PRODUCERS: dict[str, tuple] = {}


def at(key: str, row: int = HEADER_ROW + 1) -> str:
    """The cell of a ledger field in a sheet row, found by its heading in the template (first data row
    by default: the first project's row)."""
    header = [c.value for c in build_ledger(GROUP, registry_frame().iloc[:0], DATE, []).active[HEADER_ROW]]
    return f"{get_column_letter(header.index(LEDGER_BY_KEY[key].label) + 1)}{row}"


def produces(code: str, cell: str = ""):
    def register(producer):
        PRODUCERS[code] = (producer, cell)
        return producer
    return register


def _file(tmp_path, registry, rows=None, name="t.xlsx", mutate=None) -> Path:
    wb = build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, rows or good_rows(registry))
    if mutate:
        mutate(wb.active)
    path = tmp_path / name
    wb.save(path)
    return path


def _located(path: Path, registry, limits: Limits | None = None) -> list[Issue]:
    located = locate_file(path, limits)
    if isinstance(located, Checked):
        return located.issues
    return check_ledger(located, registry, {}, AS_OF).issues


def _run(tmp_path, *files, as_of=AS_OF) -> list[Issue]:
    """Issues of every inbox entry after a run of a fresh master over them (`files` write the inbox)."""
    master = tmp_path / "campaign" / MASTER_NAME
    master.parent.mkdir(exist_ok=True)
    if not master.exists():
        build_master(master, registry_rows(AS_OF))
    inbox = master.parent / "报送"
    inbox.mkdir(exist_ok=True)
    for write in files:
        write(inbox)
    return [i for f in execute(master, as_of=as_of).files for i in f.issues]


def _changed(registry, **change) -> list[dict]:
    rows = good_rows(registry)
    rows[0].update(change)
    return rows


# -- the file and its template ------------------------------------------------------------------

@produces("inbox-entry-skipped")
def _a_spreadsheet_format_to_convert_first(tmp_path, registry):
    return _run(tmp_path, lambda inbox: (inbox / "城南台账.ods").write_bytes(b"PK\3\4"))


@produces("file-unreadable")
def _a_truncated_zip(tmp_path, registry):
    path = _file(tmp_path, registry)
    path.write_bytes(path.read_bytes()[:200])
    return _located(path, registry)


@produces("file-too-large")
def _a_file_over_the_size_limit_of_settings(tmp_path, registry):
    path = _file(tmp_path, registry)
    return _located(path, registry, Limits(max_file_bytes=path.stat().st_size - 1))


@produces("password-protected")
def _an_encrypted_package(tmp_path, registry):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le")
                     + b"\0" * 3000)
    return _located(path, registry)


@produces("unsafe-formula", at("problems"))
def _a_dde_formula(tmp_path, registry):
    path = _file(tmp_path, registry)
    sheet_with_formula(path, at("problems"), "cmd|' /c calc'!A0", "0")
    return _located(path, registry)


@produces("too-many-rows")
def _one_row_more_than_the_limit_of_settings(tmp_path, registry):
    rows = good_rows(registry)
    path = _file(tmp_path, registry, rows)
    limit = HEADER_ROW + len(rows) - 1  # the sheet's last row is one past it
    return _located(path, registry, Limits(max_rows=limit))


@produces("too-many-columns")
def _a_value_in_the_last_column(tmp_path, registry):
    return _located(_file(tmp_path, registry, mutate=lambda ws: ws.__setitem__("XFD5", 1)), registry)


@produces("cell-too-long", at("problems"))
def _a_problem_text_over_the_limit(tmp_path, registry):
    return _located(_file(tmp_path, registry, _changed(registry, problems="很长的说明" * 401)), registry)


@produces("has-macros")
def _a_ledger_with_a_vba_project(tmp_path, registry):
    path = _file(tmp_path, registry, name="t.xlsm")
    rezip(path, lambda parts: parts.__setitem__("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 100))
    return _located(path, registry)


@produces("external-links")
def _a_ledger_linking_another_file(tmp_path, registry):
    path = _file(tmp_path, registry)
    rezip(path, lambda parts: parts.__setitem__("xl/externalLinks/externalLink1.xml", b"<externalLink/>"))
    return _located(path, registry)


@produces("supersedes")
def _a_second_report_for_the_same_day(tmp_path, registry):
    def two(inbox):
        _aged(ledger(inbox, "城南_1123.xlsx", acquired=5.0), 3600)
        _aged(ledger(inbox, "城南_1123_更正.xlsx", acquired=9.0), 60)
    return _run(tmp_path, two)


@produces("arrived-late")
def _an_original_forwarded_after_its_correction(tmp_path, registry):
    _run(tmp_path, lambda inbox: _aged(ledger(inbox, "城南_1123_更正.xlsx", acquired=9.0), 60))
    return _run(tmp_path, lambda inbox: _aged(ledger(inbox, "城南_1123.xlsx", acquired=5.0), 3600))


def _aged(path: Path, seconds_ago: int) -> Path:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))
    return path


@produces("sheet-missing")
def _a_renamed_ledger_sheet(tmp_path, registry):
    return _located(_file(tmp_path, registry, mutate=lambda ws: setattr(ws, "title", "Sheet1")), registry)


@produces("sheet-ambiguous")
def _two_ledger_sheets(tmp_path, registry):
    import openpyxl

    path = _file(tmp_path, registry)
    wb = openpyxl.load_workbook(path)
    wb.copy_worksheet(wb["进度台账"]).title = "进度台账 (2)"
    wb.save(path)
    return _located(path, registry)


@produces("header-missing", "A1")
def _a_wiped_header(tmp_path, registry):
    def wipe(ws):
        for cell in ws[HEADER_ROW]:
            cell.value = None
    return _located(_file(tmp_path, registry, mutate=wipe), registry)


@produces("column-missing", "A4")
def _a_deleted_column(tmp_path, registry):
    return _located(_file(tmp_path, registry, mutate=lambda ws: ws.delete_cols(6)), registry)


BESIDE = len(LEDGER_BY_KEY) + 1  # the first column right of the template's


@produces("column-duplicate", f"{get_column_letter(BESIDE)}{HEADER_ROW}")
def _a_column_twice(tmp_path, registry):
    return _located(_file(tmp_path, registry, mutate=lambda ws: ws.cell(HEADER_ROW, BESIDE, "项目编号")), registry)


@produces("column-extra", f"{get_column_letter(BESIDE)}{HEADER_ROW}")
def _a_column_not_in_the_template(tmp_path, registry):
    return _located(_file(tmp_path, registry, mutate=lambda ws: ws.cell(HEADER_ROW, BESIDE, "备注")), registry)


@produces("no-rows", "A5")
def _a_header_without_rows(tmp_path, registry):
    def clear(ws):
        for row in ws.iter_rows(min_row=HEADER_ROW + 1):
            for cell in row:
                cell.value = None
    return _located(_file(tmp_path, registry, mutate=clear), registry)


# -- identity --------------------------------------------------------------------------------

@produces("unit-missing", "B2")
def _no_unit(tmp_path, registry):
    return check(tmp_path, registry, mutate=lambda ws: setattr(ws["B2"], "value", None)).issues


@produces("unit-unknown", "B2")
def _a_short_unit_name(tmp_path, registry):
    return check(tmp_path, registry, unit="城南组").issues


@produces("date-missing", "E2")
def _no_date(tmp_path, registry):
    return check(tmp_path, registry, mutate=lambda ws: setattr(ws["E2"], "value", None)).issues


@produces("date-future", "E2")
def _dated_after_the_statistics_date(tmp_path, registry):
    return check(tmp_path, registry, date=AS_OF + dt.timedelta(days=1)).issues


@produces("date-stale", "E2")
def _dated_before_the_last_accepted_report(tmp_path, registry):
    _run(tmp_path, lambda inbox: ledger(inbox, "城南_1124.xlsx", date=AS_OF))
    return _run(tmp_path, lambda inbox: ledger(inbox, "城南_1122.xlsx", date=AS_OF - dt.timedelta(days=2)))


# -- rows ------------------------------------------------------------------------------------

@produces("project-id-missing", "B9")
def _figures_without_a_project_id(tmp_path, registry):
    rows = good_rows(registry) + [{"project_name": "没有编号", "acquired_mu": 1}]
    return check(tmp_path, registry, rows).issues


@produces("project-unknown", "B5")
def _an_id_not_in_the_registry(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, project_id="SJ-99")).issues


@produces("project-removed", "B5")
def _a_project_reported_before_and_taken_off_the_registry(tmp_path, registry):
    rows = _changed(registry, project_id="SJ-60")  # SJ-60 was this group's before the registry lost it
    states = {GROUP: GroupState(DATE - dt.timedelta(days=1), {"SJ-60": {"acquired_mu": 1.0}})}
    return check(tmp_path, registry, rows, states=states).issues


@produces("project-renumbered", "B5")
def _an_old_code_the_registry_names_as_a_projects_former_id(tmp_path, registry):
    rows = good_rows(registry)  # the group's template from before HQ renumbered its first project
    renumbered = registry.copy()
    first = renumbered.index[renumbered["group"] == GROUP][0]
    renumbered.loc[first, "former_id"] = renumbered.loc[first, "project_id"]
    renumbered.loc[first, "project_id"] = f"{renumbered.loc[first, 'project_id']}-新"
    checked = check(tmp_path, renumbered, rows)
    assert checked.accepted and checked.records[0][0] == renumbered.loc[first, "project_id"]
    return checked.issues


@produces("project-not-assigned", "B5")
def _another_groups_project(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, project_id="SJ-01")).issues


@produces("row-duplicate", "B9")
def _a_row_twice(tmp_path, registry):
    rows = good_rows(registry)
    return check(tmp_path, registry, rows + [dict(rows[-1])]).issues


@produces("project-missing", "A4")
def _a_project_left_out(tmp_path, registry):
    return check(tmp_path, registry, good_rows(registry)[1:]).issues


# -- cells -----------------------------------------------------------------------------------

@produces("not-a-number", at("acquired_mu"))
def _words_in_a_number_cell(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, acquired_mu="约12")).issues


@produces("negative", at("houses_agreed"))
def _a_negative_count(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, houses_agreed=-1)).issues


@produces("not-whole", at("crops"))
def _half_a_household(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, crops=2.5)).issues


@produces("excel-error", at("fixtures", 6))
def _an_error_value_in_a_csv(tmp_path, registry):
    wb = build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, good_rows(registry))
    path = tmp_path / "t.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        for r, row in enumerate(wb.active.iter_rows(values_only=True), start=1):
            row = ["" if v is None else v for v in row]
            if r == 6:
                row[8] = "#REF!"
            writer.writerow(row)
    return _located(path, registry)


@produces("formula-no-value", at("acquired_mu"))
def _a_formula_saved_without_its_value(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, acquired_mu="=3+4")).issues


@produces("row-hidden", "B6")
def _a_hidden_row(tmp_path, registry):
    return check(tmp_path, registry, mutate=lambda ws: setattr(ws.row_dimensions[6], "hidden", True)).issues


@produces("text-number", at("acquired_mu"))
def _a_number_typed_as_text(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, acquired_mu="１２.５亩")).issues


@produces("yesno-invalid", at("net_land"))
def _neither_yes_nor_no(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, net_land="差不多")).issues


@produces("date-invalid", at("net_land_date"))
def _a_delivery_date_in_words(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, net_land_date="下周")).issues


# -- logic within a row ------------------------------------------------------------------------

@produces("above-plan", at("graves"))
def _more_graves_than_planned(tmp_path, registry):
    plan = int(registry.at["SJ-06", "plan_graves"])
    return check(tmp_path, registry, _changed(registry, graves=plan + 1)).issues


@produces("far-above-plan", at("acquired_mu"))
def _more_than_twice_the_plan(tmp_path, registry):
    plan = float(registry.at["SJ-06", "plan_mu"])
    return check(tmp_path, registry, _changed(registry, acquired_mu=3 * plan, cleared_mu=0)).issues


@produces("demolished-exceeds-agreed", at("houses_demolished"))
def _demolished_more_than_agreed(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, houses_demolished=5)).issues


@produces("cleared-exceeds-acquired", at("cleared_mu"))
def _cleared_more_than_acquired(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, cleared_mu=20)).issues


@produces("net-land-incomplete", at("net_land"))
def _net_land_with_nothing_complete(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, net_land="是", net_land_date=DATE)).issues


@produces("net-land-date-missing", at("net_land_date"))
def _net_land_without_its_date(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, net_land="是")).issues


@produces("net-land-date-unexpected", at("net_land_date"))
def _a_date_without_net_land(tmp_path, registry):
    return check(tmp_path, registry, _changed(registry, net_land_date=DATE)).issues


# -- history ---------------------------------------------------------------------------------

@produces("cumulative-decreased", at("acquired_mu"))
def _less_than_the_day_before(tmp_path, registry):
    return _run(tmp_path, lambda inbox: ledger(inbox, "城南_1122.xlsx", date=DATE - dt.timedelta(days=1),
                                                acquired=20.0),
                lambda inbox: ledger(inbox, "城南_1123.xlsx", acquired=10.5))


@produces("jump-large", at("acquired_mu"))
def _most_of_the_plan_in_one_day(tmp_path, registry):
    before = {p: {"acquired_mu": 0.0} for p in registry.index}
    states = {GROUP: GroupState(DATE - dt.timedelta(days=1), before)}
    plan = float(registry.at["SJ-06", "plan_mu"])
    return check(tmp_path, registry, _changed(registry, acquired_mu=round(plan * 0.9, 2), cleared_mu=0),
                 states=states).issues


def _split_sj06(total_acquired: float) -> list[dict]:
    """GROUP's rows with SJ-06 as two 地块 and their 小计 line (whose acquired figure is given)."""
    rows = good_rows(_registry())
    first = rows.pop(0)
    plots = [dict(first, plot="东地块", acquired_mu=5.0, houses_agreed=1, houses_demolished=1, crops=1, fixtures=1,
                  cleared_mu=4.0),
             dict(first, plot="西地块", acquired_mu=5.5, houses_agreed=1, houses_demolished=0, crops=0, fixtures=0,
                  cleared_mu=4.0),
             dict(first, plot="小计", acquired_mu=total_acquired)]
    return plots + rows


def _registry():
    return registry_frame()


@produces("total-line", at("project_id", HEADER_ROW + 3))
def _a_subtotal_line_under_its_plots(tmp_path, registry):
    return check(tmp_path, registry, _split_sj06(10.5)).issues


@produces("total-mismatch", at("acquired_mu", HEADER_ROW + 3))
def _a_subtotal_line_that_is_not_their_sum(tmp_path, registry):
    return check(tmp_path, registry, _split_sj06(11.0)).issues


@produces("project-taken-over")
def _a_project_reported_that_day_by_the_group_it_left(tmp_path, registry):
    from .test_project_history import move_project

    _run(tmp_path, lambda inbox: ledger(inbox, "城南_1123.xlsx", acquired=5.0))
    move_project(tmp_path / "campaign" / MASTER_NAME, "SJ-06", "高铁新区工作组")
    rail = [{"project_id": p, "project_name": "", "acquired_mu": 6.0, "houses_agreed": 2, "houses_demolished": 1,
             "crops": 1, "fixtures": 1, "graves": 0, "cleared_mu": 1.0, "net_land": "否"}
            for p in ("SJ-01", "SJ-02", "SJ-06")]
    return _run(tmp_path, lambda inbox: build_ledger("高铁新区工作组", registry.iloc[:0], DATE, rail).save(
        inbox / "高铁_1123.xlsx"))


@produces("partial-correction")
def _a_correction_of_one_project_only(tmp_path, registry):
    _run(tmp_path, lambda inbox: _aged(ledger(inbox, "城南_1123.xlsx", acquired=5.0), 3600))
    one = good_rows(registry)[:1]
    return _run(tmp_path, lambda inbox: _aged(build_ledger(GROUP, registry.iloc[:0], DATE, one).save(
        inbox / "城南_1123_更正.xlsx") or inbox / "城南_1123_更正.xlsx", 60))


@produces("resaved-copy")
def _an_accepted_original_saved_again_after_its_correction(tmp_path, registry):
    import openpyxl

    _run(tmp_path, lambda inbox: _aged(ledger(inbox, "城南_1123.xlsx", acquired=5.0), 3600),
         lambda inbox: _aged(ledger(inbox, "城南_1123_更正.xlsx", acquired=4.0), 1800))

    def resave(inbox):  # the clerk opens the accepted original and saves it: new bytes, same figures
        wb = openpyxl.load_workbook(inbox / "城南_1123.xlsx")
        wb.properties.lastModifiedBy = "再次保存"
        wb.save(inbox / "城南_1123.xlsx")
        _aged(inbox / "城南_1123.xlsx", 60)
    return _run(tmp_path, resave)


# -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_produced_by_a_real_input(code, tmp_path, registry):
    if code not in PRODUCERS:
        pytest.fail(f"issue code {code!r} has no producer in tests/test_issue_codes.py: add one that builds "
                    "the input raising it")
    producer, cell = PRODUCERS[code]
    issues = producer(tmp_path, registry)
    assert (code, cell) in flatten(issues, ("code", "cell")), flatten(issues, ("code", "cell"))
    issue = next(i for i in issues if i.code == code and i.cell == cell)
    assert issue.severity == CATALOGUE[code].severity and issue.file
    assert "{" not in issue.message and any("\u4e00" <= ch <= "\u9fff" for ch in issue.message)


def test_every_producer_is_for_a_code_of_the_catalogue():
    assert set(PRODUCERS) <= set(CATALOGUE)


def test_a_row_limit_in_settings_refuses_a_ledger_through_a_run(tmp_path):
    """台账行数上限 of 设置 reaches the check: a ledger one row over it is refused as too-many-rows, not
    as too large (the byte limit grows with the row limit)."""
    import openpyxl

    master = build_master(tmp_path / MASTER_NAME, registry_rows(AS_OF))
    wb = openpyxl.load_workbook(master, keep_vba=True)
    settings = wb["设置"]
    row = next(r for r in settings.iter_rows() if r[0].value == "台账行数上限")
    path = ledger(tmp_path / "报送", "城南_1123.xlsx")
    last = openpyxl.load_workbook(path)["进度台账"].max_row
    row[1].value = last - 1
    wb.save(master)
    outcome = execute(master, as_of=AS_OF).files[0]
    assert outcome.status == "已退回"
    assert [(i.code, i.value, i.expected) for i in outcome.errors] == [("too-many-rows", str(last), str(last - 1))]
    assert outcome.errors[0].severity == ERROR
