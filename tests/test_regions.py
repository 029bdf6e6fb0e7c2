"""A master region is declared once (workbook/layout.SHEETS): a new master is built from the declaration, and
every table a run fills has exactly one writer (engine/presentation.WRITERS) that the run calls."""

from __future__ import annotations

from collections import Counter

import openpyxl
import pytest

from xladdin.engine import presentation
from xladdin.engine.presentation import WRITERS
from xladdin.workbook.build import build_master
from xladdin.workbook.layout import (
    MANAGED_SHEETS,
    OPTIONAL_TABLES,
    SHEET_ORDER,
    SHEETS,
    TABLES,
    SheetSpec,
    TableSpec,
)

DECLARED = [spec for sheet in SHEETS for spec in sheet.tables]


def test_each_table_and_name_is_declared_once_on_its_own_sheet():
    assert len({spec.name for spec in DECLARED}) == len(DECLARED)
    assert all(spec.sheet == sheet.name for sheet in SHEETS for spec in sheet.tables)
    names = [name for sheet in SHEETS for name, _ in sheet.cells]
    assert len(set(names)) == len(names)
    assert len(set(SHEET_ORDER)) == len(SHEETS) and set(SHEET_ORDER) < MANAGED_SHEETS
    assert set(TABLES) | set(OPTIONAL_TABLES) == {spec.name for spec in DECLARED}
    assert not set(TABLES) & set(OPTIONAL_TABLES)


def test_every_table_a_run_fills_has_exactly_one_writer():
    written = Counter(name for writer in WRITERS for name in writer.tables)
    assert all(count == 1 for count in written.values()), written
    assert set(written) == {spec.name for spec in DECLARED if not spec.staff}


def test_a_new_master_is_what_the_declaration_says(tmp_path):
    path = build_master(tmp_path / "母表.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:len(SHEETS)] == list(SHEET_ORDER)
    for sheet in SHEETS:
        ws = wb[sheet.name]
        assert ws["A1"].value == sheet.title
        assert (ws["A2"].value or None) == (sheet.note or None)
        assert set(ws.tables) == {spec.name for spec in sheet.tables}
        for spec in sheet.tables:
            ref = ws.tables[spec.name].ref.split(":")[0]
            cell = ws[ref]
            assert (cell.row, cell.column) == (spec.header_row, spec.first_column), spec.name
            assert [ws.cell(spec.header_row, spec.first_column + i).value for i in range(len(spec.columns))] \
                == spec.labels
        for name, cell in sheet.cells:
            absolute = ":".join(f"${part[0]}${part[1:]}" for part in cell.split(":"))  # columns A–Z here
            assert next(wb.defined_names[name].destinations) == (sheet.name, absolute), name
        if sheet.print_title_columns:
            assert ws.print_title_cols.endswith(openpyxl.utils.get_column_letter(sheet.print_title_columns))


def test_a_region_added_to_the_declaration_is_built_and_must_get_a_writer(tmp_path, monkeypatch):
    """The checklist of docs/reference.md in action: a new sheet with one table declared in layout is built
    into a new master with its title, table and named cell, and the writers' list then misses it."""
    from xladdin.workbook import build, layout

    extra = TableSpec("tblExtra", "新区域", (layout.Column("项目编号", 10), layout.Column("说明", 30)))
    sheet = SheetSpec("新区域", "新区域（尚未运行）", "说明文字。", (extra,), (("ExtraTitle", "A1"),))
    monkeypatch.setattr(build, "SHEETS", (*SHEETS, sheet))
    monkeypatch.setattr(build, "SHEET_ORDER", (*SHEET_ORDER, sheet.name))
    wb = openpyxl.load_workbook(build.build_master(tmp_path / "母表.xlsx"))
    assert wb["新区域"]["A1"].value == "新区域（尚未运行）" and "tblExtra" in wb["新区域"].tables
    assert next(wb.defined_names["ExtraTitle"].destinations) == ("新区域", "$A$1")
    written = {name for writer in WRITERS for name in writer.tables}
    assert extra.name not in written  # the test above would now fail until presentation.WRITERS names it


@pytest.mark.parametrize("intake, ranking", [(True, True), (False, True), (False, False)])
def test_a_run_calls_the_writers_due(monkeypatch, intake, ranking):
    called = []
    writers = tuple(presentation.Writer(w.tables, w.when, lambda page, w=w: called.append(w.tables))
                    for w in WRITERS)
    monkeypatch.setattr(presentation, "WRITERS", writers)

    class Book:
        def table_origin(self, name):
            return 4, 1

    class Result:
        summary = []

    presentation.write_master(Book(), Result(), None, None, intake, ranking)
    due = [w.tables for w in WRITERS if w.when == presentation.ALWAYS
           or (w.when == presentation.AFTER_INTAKE and intake) or (w.when == presentation.WITH_RANKING and ranking)]
    assert called == due


def test_a_regions_digest_tells_formulas_links_and_text_apart():
    from xladdin.workbook.master import ColumnFormula, Formula, Link
    from xladdin.workbook.regions import content_digest

    variants = [
        [["=A1", 1]], [[Formula("=A1", 1), 1]], [[Formula("=A1", 2), 1]], [[Formula("=A1", "1"), 1]],
        [["x", 1]], [[Link("x", "a.xlsx"), 1]], [[Link("x", "b.xlsx"), 1]], [[Link("x", "", "'表'!A1"), 1]],
        [["Formula('=A1', 1)", 1]], [["x", 1], [sorted({3: ColumnFormula("=$A%(r)d", 5)}.items())]],
        [["x", 1], [sorted({3: ColumnFormula("=$A%(r)d", 6)}.items())]],
    ]
    digests = [content_digest(v) for v in variants]
    assert len(set(digests)) == len(variants)
    assert content_digest([[Formula("=A1", 1), 1]]) == digests[1]  # equal content, equal digest
