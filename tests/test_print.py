"""Sheets as staff see and print them: widths from content, frozen headers, A4 page setup at 9 pt or more."""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from xladdin.base.schema import SHEET_CHARTS, SHEET_CONF, SHEET_SUMMARY
from xladdin.engine.pipeline import execute
from xladdin.engine.templates import write_group_templates
from xladdin.workbook.layout import SUMMARY
from xladdin.workbook.package import MasterBook

from .conftest import AS_OF, MASTER_NAME

MM_PER_PX = 25.4 / 96
BODY_PT = 11


def printable_px(orientation: str, margins) -> float:
    paper = 297 if orientation == "landscape" else 210
    return (paper - (margins.left + margins.right) * 25.4) / MM_PER_PX


def printed_columns(ws) -> int:
    """The last column of the sheet's print titles' table: its tables, or the used range."""
    ends = [openpyxl.utils.cell.range_boundaries(t.ref)[2] for t in ws.tables.values()]
    return max(ends) if ends else ws.max_column


def smallest_printed_pt(ws) -> float:
    dimensions = [ws.column_dimensions[get_column_letter(c)] for c in range(1, printed_columns(ws) + 1)]
    widths = [0 if d.hidden else d.width or 8.43 for d in dimensions]  # hidden columns do not print
    px = sum(int(w * 7 + 5) for w in widths if w)
    titles = 0
    if ws.print_title_cols:
        last = openpyxl.utils.column_index_from_string(ws.print_title_cols.split(":")[1].strip("$"))
        titles = sum(int(w * 7 + 5) for w in widths[:last])
    pages = ws.page_setup.fitToWidth or 1
    scale = min(1.0, pages * printable_px(ws.page_setup.orientation, ws.page_margins) / (px + titles * (pages - 1)))
    return BODY_PT * scale


def check_page_setup(ws) -> None:
    setup = ws.page_setup
    assert int(setup.paperSize) == 9, ws.title  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert int(setup.fitToWidth) >= 1 and int(setup.fitToHeight) == 0, ws.title
    assert setup.orientation in ("portrait", "landscape"), ws.title
    assert ws.oddHeader.left.text == "&A" and "&D" in ws.oddHeader.right.text, ws.title
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页", ws.title
    if ws.tables:
        assert ws.print_title_rows, ws.title
        if ws.title != SHEET_CHARTS:  # its charts begin beside the tables' header: a split would cut them
            assert ws.freeze_panes, ws.title
    assert smallest_printed_pt(ws) >= 9, (ws.title, smallest_printed_pt(ws))


def test_every_sheet_of_the_run_master_prints_on_a4_with_titles_and_at_9_pt_or_more(demo):
    directory, _, _ = demo
    wb = openpyxl.load_workbook(directory / MASTER_NAME)
    for ws in wb.worksheets:
        if ws.title != SHEET_CONF:
            check_page_setup(ws)
    # Print titles are the built-in defined names Excel and WPS read.
    import zipfile
    with zipfile.ZipFile(directory / MASTER_NAME) as archive:
        assert "_xlnm.Print_Titles" in archive.read("xl/workbook.xml").decode()


def test_the_fill_in_template_prints_one_page_wide_on_a4(tmp_path, demo):
    directory, _, _ = demo
    for path in write_group_templates(MasterBook.open(directory / MASTER_NAME), directory, tmp_path):
        ws = openpyxl.load_workbook(path)["进度台账"]
        check_page_setup(ws)
        assert int(ws.page_setup.fitToWidth) == 1 and ws.print_title_rows


def wide(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_columns_follow_their_content_capped_and_a_widened_column_is_kept(tmp_path, demo):
    directory, _, _ = demo
    master = tmp_path / MASTER_NAME
    shutil.copy(directory / MASTER_NAME, master)
    shutil.copy(directory / "历史库.sqlite", tmp_path / "历史库.sqlite")
    wb = openpyxl.load_workbook(master)
    ws = wb[SHEET_SUMMARY]
    labels = SUMMARY.labels
    name_col = get_column_letter(labels.index("项目名称") + 1)
    names = [ws[f"{name_col}{r}"].value for r in range(SUMMARY.header_row + 1, ws.max_row + 1)]
    longest = max(wide(n) for n in names if n)
    assert ws.column_dimensions[name_col].width >= longest  # no project name cut off
    for letter, dimension in ws.column_dimensions.items():
        assert (dimension.width or 0) <= 50, letter
    # Staff widen 项目名称 by hand: the next run keeps their width.
    text = (master.read_bytes())
    import re
    import zipfile
    with zipfile.ZipFile(master) as archive:
        parts = {i: archive.read(i) for i in archive.infolist()}
    book = MasterBook.open(master)
    part = book.sheet_parts[SHEET_SUMMARY]
    col = labels.index("项目名称") + 1
    for info in parts:
        if info.filename == part:
            xml = parts[info].decode()
            xml = re.sub(rf'<col\b[^>]*\bmin="{col}"[^>]*/>',
                         lambda m: re.sub(r'width="[\d.]+"', 'width="47"', m.group(0)), xml, count=1)
            parts[info] = xml.encode()
    with zipfile.ZipFile(master, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts.items():
            archive.writestr(info, data)
    assert text != master.read_bytes()
    execute(master, as_of=AS_OF, intake=False, command="rank")
    ws = openpyxl.load_workbook(master)[SHEET_SUMMARY]
    assert ws.column_dimensions[name_col].width == 47


def test_long_text_columns_wrap_in_the_master(demo):
    directory, _, _ = demo
    ws = openpyxl.load_workbook(directory / MASTER_NAME)[SHEET_SUMMARY]
    col = SUMMARY.labels.index("存在问题") + 1
    assert ws.cell(SUMMARY.header_row + 1, col).alignment.wrap_text


def test_the_notice_wraps_on_upright_a4_and_long_paragraphs_get_taller_rows(demo):
    directory, _, _ = demo
    ws = openpyxl.load_workbook(directory / MASTER_NAME)["通报"]
    assert ws.page_setup.orientation == "portrait"
    assert int(ws.column_dimensions["A"].width * 7 + 5) * MM_PER_PX < 210 - 12.7  # the column fits the page
    lines = [(r, ws.cell(r, 1).value) for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value]
    assert all(ws.cell(r, 1).alignment.wrap_text for r, _ in lines)
    longest = max(lines, key=lambda line: len(line[1]))
    shortest = min(lines, key=lambda line: len(line[1]))
    assert wide(longest[1]) > 2 * ws.column_dimensions["A"].width  # the demo's notice has a long paragraph
    assert ws.row_dimensions[longest[0]].height > (ws.row_dimensions[shortest[0]].height or 15)


def test_ranking_formulas_carry_the_computed_values_for_previews(demo):
    """A preview (chat app, phone, Protected View) shows cached values: every 红黑榜 formula carries the
    value the ranking computed, and stays a formula."""
    import math

    from xladdin.workbook.layout import RANKING, RANKING_KEYS

    directory, _, result = demo
    formulas = openpyxl.load_workbook(directory / MASTER_NAME)["红黑榜"]
    values = openpyxl.load_workbook(directory / MASTER_NAME, data_only=True)["红黑榜"]
    ranking = result.ranking.set_index("unit")
    first = RANKING.header_row + 1
    checked = 0
    for r in range(first, first + len(ranking)):
        unit = values.cell(r, 1).value
        for c, key in enumerate(RANKING_KEYS, start=1):
            if not str(formulas.cell(r, c).value or "").startswith("="):
                continue
            expected, cached = ranking.at[unit, key], values.cell(r, c).value
            if isinstance(expected, float) and math.isnan(expected):
                assert cached in ("", None), (unit, key, cached)
            elif isinstance(expected, str):
                assert (cached or "") == expected, (unit, key, cached)
            else:
                assert cached == pytest.approx(float(expected)), (unit, key, cached)
            checked += 1
    assert checked >= len(ranking) * 8
    counts = openpyxl.load_workbook(directory / MASTER_NAME, data_only=True)["图表"]
    assert any(isinstance(counts.cell(r, 7).value, int) and counts.cell(r, 7).value > 0 for r in range(4, 12))


def test_a_columns_width_is_its_widest_value_however_the_values_repeat():
    import random

    from xladdin.workbook.master import Formula, Link
    from xladdin.workbook.widths import PADDING, SAMPLE, display_width, wanted_width

    rng = random.Random(7)
    pool = [None, "", "已完成", "临期（3天）", "A1", 1, 1.0, 12345.678, -3, True, False, dt.date(2026, 11, 24),
            dt.datetime(2026, 11, 24, 9, 30), dt.datetime(2026, 11, 24), Formula("=A1", "长长的名字"),
            Formula("=A1", 3.5), Link("报送/第一组.xlsx", "x.xlsx"), "=text", "多行\n文字很长很长很长"]
    for _ in range(300):
        kinds = rng.sample(pool, rng.randint(1, 5))
        values = [rng.choice(kinds) for _ in range(rng.randint(0, 50))]
        widest = max((display_width(v) for v in values[:SAMPLE]), default=0.0)
        assert wanted_width(values) == (min(50.0, widest + PADDING) if widest else 0.0), values
    assert wanted_width([1, 1.0]) == wanted_width([1.0, 1]) == display_width(1.0) + PADDING  # "1.00", not "1"
