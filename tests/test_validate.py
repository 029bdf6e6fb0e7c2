"""The ledger checks over real workbooks: each rule's code, cell and severity (every code has its own
producer in test_issue_codes.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from xladdin.base.issues import CATALOGUE, ERROR, WARNING
from xladdin.domain.validate import GroupState
from xladdin.engine.reading import locate_file
from xladdin.workbook.ledger import HEADER_ROW

from .conftest import AS_OF
from .ledgers import DATE, GROUP, check, codes, good_rows


def test_a_clean_ledger_has_no_issues(tmp_path, registry):
    checked = check(tmp_path, registry)
    assert checked.issues == [] and checked.accepted
    assert checked.group == GROUP and checked.report_date == DATE and len(checked.rows) == 4


def test_every_code_has_a_chinese_title_and_message_and_a_severity():
    for kind in CATALOGUE.values():
        assert kind.severity in (ERROR, WARNING)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in kind.title + kind.template)


def test_unreadable_file_is_rejected_not_raised(tmp_path, registry):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    checked = locate_file(path)
    assert codes(checked) == [("file-unreadable", "")] and not checked.accepted


def test_missing_ledger_sheet(tmp_path, registry):
    checked = check(tmp_path, registry, mutate=lambda ws: setattr(ws, "title", "Sheet1"))
    assert codes(checked) == [("sheet-missing", "")]


def test_header_not_found(tmp_path, registry):
    def wipe(ws):
        for cell in ws[HEADER_ROW]:
            cell.value = None
    assert ("header-missing", "A1") in codes(check(tmp_path, registry, mutate=wipe))


def test_missing_column_is_an_error_pinned_to_the_header(tmp_path, registry):
    checked = check(tmp_path, registry, mutate=lambda ws: ws.delete_cols(6))
    assert codes(checked) == [("column-missing", "A4")]
    assert checked.issues[0].column == "累计签订房屋协议(栋)" and checked.issues[0].severity == ERROR


def test_extra_column_is_a_warning(tmp_path, registry):
    checked = check(tmp_path, registry, mutate=lambda ws: ws.cell(HEADER_ROW, 17, "备注"))
    assert codes(checked) == [("column-extra", "Q4")] and checked.accepted


def test_duplicate_column(tmp_path, registry):
    checked = check(tmp_path, registry, mutate=lambda ws: ws.cell(HEADER_ROW, 17, "项目编号"))
    assert ("column-duplicate", "Q4") in codes(checked)


def test_header_with_full_width_brackets_and_line_breaks_is_recognised(tmp_path, registry):
    def messy(ws):
        for cell in ws[HEADER_ROW]:
            cell.value = cell.value.replace("(", "（").replace(")", "）").replace("累计", "累计\n ")
        ws.insert_rows(1, 3)
    checked = check(tmp_path, registry, mutate=messy)
    assert checked.issues == []


def test_ledger_without_rows(tmp_path, registry):
    def clear(ws):
        for row in ws.iter_rows(min_row=HEADER_ROW + 1):
            for cell in row:
                cell.value = None
    assert codes(check(tmp_path, registry, mutate=clear)) == [("no-rows", "A5")]


def test_unknown_and_missing_unit(tmp_path, registry):
    assert codes(check(tmp_path, registry, unit="城南组")) == [("unit-unknown", "B2")]
    checked = check(tmp_path, registry, mutate=lambda ws: setattr(ws["B2"], "value", None))
    assert ("unit-missing", "B2") in codes(checked)


def test_missing_future_and_stale_dates(tmp_path, registry):
    assert codes(check(tmp_path, registry, mutate=lambda ws: setattr(ws["E2"], "value", None)))[0] == (
        "date-missing", "E2")
    assert codes(check(tmp_path, registry, date=AS_OF + dt.timedelta(days=1))) == [("date-future", "E2")]
    states = {GROUP: GroupState(AS_OF, {})}
    assert codes(check(tmp_path, registry, states=states)) == [("date-stale", "E2")]


def test_date_typed_as_text_is_read(tmp_path, registry):
    checked = check(tmp_path, registry, mutate=lambda ws: setattr(ws["E2"], "value", "2026年11月23日"))
    assert checked.issues == [] and checked.report_date == DATE


def test_row_rules(tmp_path, registry):
    rows = good_rows(registry)
    rows[0]["project_id"] = "SJ-99"
    rows[1]["project_id"] = "SJ-01"  # belongs to 高铁新区工作组
    rows.append(dict(rows[2]))
    rows.append({"project_name": "没有编号", "acquired_mu": 1})
    checked = check(tmp_path, registry, rows)
    found = codes(checked)
    assert ("project-unknown", "B5") in found
    assert ("project-not-assigned", "B6") in found
    assert ("row-duplicate", "B9") in found
    assert ("project-id-missing", "B10") in found
    assert ("project-missing", "A4") in found  # SJ-06 and SJ-07 were overwritten above


def test_cell_rules(tmp_path, registry):
    rows = good_rows(registry)
    rows[0]["acquired_mu"] = "约12"
    rows[1]["houses_agreed"] = -1
    rows[2]["crops"] = 2.5
    rows[3]["net_land"] = "差不多"
    rows[2]["net_land_date"] = "下周"
    found = codes(check(tmp_path, registry, rows))
    assert sorted(found) == sorted([("not-a-number", "E5"), ("negative", "F6"), ("not-whole", "H7"),
                                    ("yesno-invalid", "M8"), ("date-invalid", "N7")])




def test_numbers_typed_as_text_are_normalised_with_a_warning(tmp_path, registry):
    rows = good_rows(registry)
    rows[0]["acquired_mu"] = "１２.５亩"
    rows[1]["fixtures"] = "１３０"
    rows[2]["cleared_mu"] = "1,0"  # not a thousands group: ambiguous, so rejected
    checked = check(tmp_path, registry, rows)
    assert codes(checked) == [("text-number", "E5"), ("text-number", "I6"), ("not-a-number", "L7")]
    assert list(checked.rows["acquired_mu"])[0] == 12.5 and list(checked.rows["fixtures"])[1] == 130
    rows[2]["cleared_mu"] = "1,000"
    assert ("far-above-plan", "L7") in codes(check(tmp_path, registry, rows))  # 1000 mu of a 75 mu plan


def test_logic_rules(tmp_path, registry):
    rows = good_rows(registry)
    rows[0]["houses_demolished"] = 5  # agreed 2
    rows[1]["cleared_mu"] = 20  # acquired 10.5
    rows[2]["net_land"] = "是"  # nothing is complete
    rows[3]["net_land_date"] = DATE  # 否 with a date
    rows[3]["acquired_mu"] = 99  # plan 12.6
    rows[2]["graves"] = 12  # plan 10: above, but plans get adjusted
    found = codes(check(tmp_path, registry, rows))
    for expected in (("demolished-exceeds-agreed", "G5"), ("cleared-exceeds-acquired", "L6"),
                     ("net-land-incomplete", "M7"), ("net-land-date-missing", "N7"),
                     ("net-land-date-unexpected", "N8"), ("far-above-plan", "E8"), ("above-plan", "K7")):
        assert expected in found


def test_history_rules(tmp_path, registry):
    before = {p: {"acquired_mu": 20.0, "houses_agreed": 0.0} for p in registry.index}
    before["SJ-07"]["acquired_mu"] = 0.0
    states = {GROUP: GroupState(DATE - dt.timedelta(days=1), before)}
    rows = good_rows(registry)
    rows[1]["acquired_mu"] = 40.0  # SJ-07: 40 of 58.6 mu in one day
    checked = check(tmp_path, registry, rows, states=states)
    found = codes(checked)
    assert ("cumulative-decreased", "E5") in found
    assert ("jump-large", "E6") in found
    assert not checked.accepted
    decreased = next(i for i in checked.issues if i.code == "cumulative-decreased")
    assert decreased.value == "10.5" and decreased.expected == "20"


def test_excel_error_value_in_an_xlsx_submission(tmp_path, registry):
    rows = good_rows(registry)
    rows[3]["fixtures"] = "#REF!"  # openpyxl stores this as an error cell, as Excel would
    checked = check(tmp_path, registry, rows)
    assert codes(checked) == [("excel-error", "I8")]
    assert checked.issues[0].value == "#REF!" and not checked.accepted


def test_formula_without_a_cached_value_is_an_error_not_a_zero(tmp_path, registry):
    rows = good_rows(registry)
    rows[0]["acquired_mu"] = "=3+4"  # openpyxl saves formulas without computed values
    checked = check(tmp_path, registry, rows)
    assert codes(checked) == [("formula-no-value", "E5")] and not checked.accepted
    assert checked.issues[0].value == "=3+4"


def test_hidden_row_is_counted_with_a_warning(tmp_path, registry):
    checked = check(tmp_path, registry, mutate=lambda ws: setattr(ws.row_dimensions[6], "hidden", True))
    assert codes(checked) == [("row-hidden", "B6")] and checked.accepted and len(checked.rows) == 4


def test_two_row_header_with_merged_group_titles(tmp_path, registry):
    def two_rows(ws):
        ws.insert_rows(HEADER_ROW)
        # Row 4 now holds group titles over merged cells; row 5 the column names (some split in two).
        for c in range(1, 16):
            top = ws.cell(HEADER_ROW, c)
            below = ws.cell(HEADER_ROW + 1, c)
            if c <= 4 or c >= 12:
                top.value, below.value = below.value, None
        ws.cell(HEADER_ROW, 5).value = "累计完成情况"
        ws.merge_cells(start_row=HEADER_ROW, start_column=5, end_row=HEADER_ROW, end_column=11)
        for c in range(1, 5):
            ws.merge_cells(start_row=HEADER_ROW, start_column=c, end_row=HEADER_ROW + 1, end_column=c)
    checked = check(tmp_path, registry, mutate=two_rows)
    assert checked.issues == [] and len(checked.rows) == 4
    assert list(checked.rows["row"]) == [6, 7, 8, 9]


def test_returned_copy_marks_each_offending_cell_and_leaves_the_original_alone(tmp_path, registry):
    import hashlib

    import openpyxl

    from xladdin.workbook.returned import GUIDE_SHEET, write_returned_copy

    rows = good_rows(registry)
    rows[0]["houses_demolished"] = 5
    rows[1]["acquired_mu"] = "约12"
    checked = check(tmp_path, registry, rows, name="城南_1123.xlsx")
    source = tmp_path / "城南_1123.xlsx"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    copy = write_returned_copy(source, checked.issues, checked.sheet, tmp_path / "退回")
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert copy.name == "城南_1123_退回.xlsx"
    wb = openpyxl.load_workbook(copy)
    ws = wb["进度台账"]
    for issue in checked.issues:
        assert ws[issue.cell].fill.fgColor.rgb.endswith("FF9999")
        assert issue.message in ws[issue.cell].comment.text
    guide = wb[GUIDE_SHEET]
    assert wb.sheetnames[0] == GUIDE_SHEET
    cells = [row[0] for row in guide.iter_rows(min_row=4, values_only=True)]
    assert sorted(cells) == sorted(i.cell for i in checked.issues)
    assert guide["A4"].hyperlink.location == f"'进度台账'!{guide['A4'].value}"


def test_a_same_day_correction_is_compared_with_the_day_before_not_with_what_it_corrects(tmp_path, registry):
    yesterday = {p: {"acquired_mu": 5.0} for p in registry.index}
    overstated = {p: {"acquired_mu": 30.0} for p in registry.index}
    states = {GROUP: GroupState(DATE, overstated, GroupState(DATE - dt.timedelta(days=1), yesterday))}
    corrected = check(tmp_path, registry, states=states)  # 10.5 mu: below the overstated 30, above 5
    assert corrected.accepted and "cumulative-decreased" not in {i.code for i in corrected.issues}
    too_low = good_rows(registry)
    too_low[0]["acquired_mu"] = 1.0
    assert ("cumulative-decreased", "E5") in codes(check(tmp_path, registry, too_low, states=states))


def test_the_template_header_is_the_one_of_the_design():
    from xladdin.base.schema import LEDGER_FIELDS, REGISTRY_FIELDS

    assert [f.label for f in LEDGER_FIELDS] == [
        "序号", "项目编号", "项目名称", "地块名称", "累计征地面积(亩)", "累计签订房屋协议(栋)", "累计拆除房屋(栋)",
        "累计补偿特殊青苗(户)", "累计补偿地上附着物(户)", "累计拆除地上附着物(户)", "累计迁移坟山(穴)", "累计清表面积(亩)",
        "是否净地", "净地交付日期", "存在问题", "下步措施"]
    assert [f.label for f in REGISTRY_FIELDS][7:13] == [
        "计划征地面积(亩)", "计划拆除房屋(栋)", "计划补偿特殊青苗(户)", "计划补偿地上附着物(户)", "计划拆除地上附着物(户)",
        "计划迁移坟山(穴)"]


def test_a_ledger_without_the_removed_fixtures_column_stays_valid(tmp_path, registry):
    from xladdin.base.schema import LEDGER_FIELDS

    column = [f.key for f in LEDGER_FIELDS].index("fixtures_removed") + 1
    checked = check(tmp_path, registry, mutate=lambda ws: ws.delete_cols(column))  # an old template
    assert checked.issues == [] and checked.accepted
    assert (checked.rows["fixtures_removed"] == 0).all() and (checked.rows["fixtures"] == 1).all()


def test_removed_fixtures_are_read_and_checked_against_their_own_plan(tmp_path, registry):
    rows = good_rows(registry)
    plans = registry.set_index("project_id")["plan_fixtures_removed"]
    rows[0]["fixtures_removed"] = plans[rows[0]["project_id"]] + 1  # above plan: worth a look
    rows[1]["fixtures_removed"] = 1
    checked = check(tmp_path, registry, rows)
    assert list(checked.rows["fixtures_removed"])[:2] == [plans[rows[0]["project_id"]] + 1, 1]
    assert codes(checked) == [("above-plan", "J5")] and checked.issues[0].column == "累计拆除地上附着物(户)"


def test_without_a_removed_fixtures_plan_nothing_is_checked_against_it(tmp_path, registry):
    rows = good_rows(registry)
    rows[0]["fixtures_removed"] = 50
    old = registry.assign(plan_fixtures_removed=float("nan"))  # an older 项目清单 without the column
    assert check(tmp_path, old, rows).issues == []


def test_a_registry_without_the_removed_fixtures_plan_column_is_read_with_no_plan():
    from xladdin.base.schema import REGISTRY_FIELDS
    from xladdin.workbook.master import read_registry

    fields = [f for f in REGISTRY_FIELDS if f.key != "plan_fixtures_removed"]
    row = {"project_id": "P1", "project_name": "项目", "project_type": "基础设施", "level": "县级", "group": "甲组",
           "plan_mu": 10, "plan_houses": 1, "plan_crops": 0, "plan_fixtures": 5, "plan_graves": 0}
    registry = read_registry([f.label for f in fields], [(4, [row.get(f.key) for f in fields])], 1)
    assert registry.at["P1", "plan_fixtures"] == 5 and pd.isna(registry.at["P1", "plan_fixtures_removed"])
