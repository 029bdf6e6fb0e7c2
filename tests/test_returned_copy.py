"""The marked-up 退回 copy (issue 27): its cost grows with the issues, not with their square, its guide sheet
is capped; a ledger whose 项目编号/名称 are merged down over a project's 地块 rows is read as staff meant it,
and a rejected one still gets its copy, the note on the merged block's top-left cell."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from xladdin.domain.validate import check_ledger
from xladdin.engine.reading import locate_file
from xladdin.workbook.hyperlinks import patch_hyperlinks
from xladdin.workbook.ledger import HEADER_ROW
from xladdin.workbook.master import Link
from xladdin.workbook.returned import GUIDE_ROWS, GUIDE_SHEET, write_returned_copy

from .conftest import AS_OF, libreoffice_profile
from .ledgers import check, good_rows
from .test_libreoffice_files import convert


def _wrong_rows(registry, count: int) -> list[dict]:
    """count rows, each wrong four ways (the shape of issue 27's 1,000-row file)."""
    good = good_rows(registry)
    return [dict(good[i % len(good)], acquired_mu=-1, houses_agreed=-2, cleared_mu=5, crops="abc")
            for i in range(count)]


def test_the_copy_never_rescans_its_sheets_per_issue_and_its_guide_is_capped(tmp_path, registry, monkeypatch):
    checked = check(tmp_path, registry, _wrong_rows(registry, 200), name="多错行.xlsx")
    assert len(checked.issues) > 2 * GUIDE_ROWS
    scans = []
    original = Worksheet.max_row.fget
    monkeypatch.setattr(Worksheet, "max_row", property(lambda ws: scans.append(1) or original(ws)))
    copy = write_returned_copy(tmp_path / "多错行.xlsx", checked.issues, checked.sheet, tmp_path / "退回")
    assert len(scans) < 20  # the writer's own: a scan per issue made the copy n² (4,900 rows: > 15 minutes)
    wb = openpyxl.load_workbook(copy)
    guide = [row for row in wb[GUIDE_SHEET].iter_rows(min_row=4, values_only=True) if any(row)]
    assert len(guide) == GUIDE_ROWS + 1
    assert f"另有 {len(checked.issues) - GUIDE_ROWS} 条问题未列出" in guide[-1][4]
    ws = wb["进度台账"]
    for issue in checked.issues:  # every cell is still marked and noted
        assert ws[issue.cell].fill.fgColor.rgb.endswith("FF9999")
        assert issue.message in ws[issue.cell].comment.text


def test_a_short_list_of_issues_is_listed_whole(tmp_path, registry):
    checked = check(tmp_path, registry, _wrong_rows(registry, 3), name="少错行.xlsx")
    copy = write_returned_copy(tmp_path / "少错行.xlsx", checked.issues, checked.sheet, tmp_path / "退回")
    guide = [row for row in openpyxl.load_workbook(copy)[GUIDE_SHEET].iter_rows(min_row=4, values_only=True)]
    assert sorted(r[0] for r in guide) == sorted(i.cell for i in checked.issues)


def test_thousands_of_links_are_replaced_in_one_pass_each_kept_or_dropped_right():
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://x/drawing" Target="d.xml"/></Relationships>')
    first = [(f"B{r}", Link("", f"退回/{r}.xlsx")) for r in range(2, 3002)] + [("Z1", Link("", "外部.xlsx"))]
    xml, rels = patch_hyperlinks("<worksheet><sheetData/></worksheet>", "", rels, [(1, 1, 26, 1)], first)
    assert rels.count("<Relationship ") == 3002
    # The next run rewrites column B only: its 3,000 links go, Z1's and the drawing's stay.
    xml, rels = patch_hyperlinks(xml, "", rels, [(2, 2, 2, 4000)], [("B2", Link("", "退回/新.xlsx"))])
    assert rels.count("<Relationship ") == 3 and 'Id="rId1"' in rels and "外部.xlsx" in rels and "新.xlsx" in rels
    assert xml.count("<hyperlink ") == 2


def _merged_ledger(registry, rows_below: int, columns: str, first_id: str = "SJ-06"):
    first, *others = good_rows(registry)
    plots = [dict(first, project_id=first_id, plot=f"{k}号地块", acquired_mu=3.0 + k, cleared_mu=1.0)
             for k in range(1, rows_below + 2)]

    def merge(ws):
        for column in columns:
            ws.merge_cells(f"{column}{HEADER_ROW + 1}:{column}{HEADER_ROW + 1 + rows_below}")

    return plots + others, merge


@pytest.mark.parametrize("rows_below, columns", [(1, "BC"), (2, "B")])
def test_a_project_merged_down_over_its_plots_is_that_project_on_every_row(tmp_path, registry, rows_below, columns):
    rows, merge = _merged_ledger(registry, rows_below, columns)
    checked = check(tmp_path, registry, rows, mutate=merge, name="合并.xlsx")
    assert checked.accepted, [i.message for i in checked.issues if i.is_error]
    sj06 = checked.rows[checked.rows["project_id"] == "SJ-06"]
    assert len(sj06) == rows_below + 1
    assert sj06["acquired_mu"].sum() == pytest.approx(sum(3.0 + k for k in range(1, rows_below + 2)))


@pytest.mark.libreoffice
def test_a_merged_xls_reads_down_and_its_rejection_marks_the_top_left_cell(tmp_path, registry):
    rows, merge = _merged_ledger(registry, 2, "BC", first_id="SJ-99")  # an unknown project on three merged rows
    check(tmp_path, registry, rows, mutate=merge, name="合并错号.xlsx")
    convert([tmp_path / "合并错号.xlsx"], "xls", tmp_path / "xls", libreoffice_profile())
    for source in (tmp_path / "合并错号.xlsx", tmp_path / "xls" / "合并错号.xls"):
        checked = check_ledger(locate_file(source), registry, {}, AS_OF)
        cells = sorted(i.cell for i in checked.issues if i.code == "project-unknown")
        assert cells == [f"B{HEADER_ROW + k}" for k in (1, 2, 3)], (source.suffix, cells)
        copy = write_returned_copy(source, checked.issues, checked.sheet, tmp_path / "退回")
        ws = openpyxl.load_workbook(copy)["进度台账"]
        if source.suffix == ".xlsx":  # the block kept: its three notes on its top-left cell
            anchor = ws[f"B{HEADER_ROW + 1}"]
            assert anchor.fill.fgColor.rgb.endswith("FF9999") and anchor.comment.text.count("【错误】") == 3
        else:  # an .xls copy is rebuilt from its values, unmerged: each cell its note
            assert all(ws[c].comment and ws[c].fill.fgColor.rgb.endswith("FF9999") for c in cells)
