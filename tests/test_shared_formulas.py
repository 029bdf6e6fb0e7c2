"""The 作战图时间表's week columns as shared formulas (<f t="shared">): one formula text per column, each row
reading its own block's row of the 节点计划 as other implementations read it (openpyxl translates the
shared formula per cell, python-calamine reads the values written with it), index numbers that never
collide with a shared formula staff made on the same sheet, and no cell left pointing at a group whose
first cell is gone when the table shrinks. LibreOffice's recalculation of these cells is compared with
Python in test_milestones."""

from __future__ import annotations

import re
import shutil
import zipfile

import openpyxl
import python_calamine

from xladdin.engine.pipeline import execute
from xladdin.workbook.layout import TIMELINE, TIMELINE_WEEKS
from xladdin.workbook.master import ColumnFormula
from xladdin.workbook.package import MasterBook

from .conftest import AS_OF

SHEET = "作战图时间表"
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"[^>]*>(?:<f([^>]*?)(?:/>|>([^<]*)</f>))?')


def _sheet_part(archive: zipfile.ZipFile) -> str:
    workbook = archive.read("xl/workbook.xml").decode()
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{SHEET}"[^>]*r:id="(rId\d+)"', workbook).group(1)
    for rel in re.findall(r"<Relationship [^>]*>", rels):
        if f'Id="{rid}"' in rel:
            return "xl/" + re.search(r'Target="/?(?:xl/)?([^"]+)"', rel).group(1)
    raise AssertionError("no 作战图时间表 part")


def _sheet_xml(master) -> str:
    with zipfile.ZipFile(master) as archive:
        return archive.read(_sheet_part(archive)).decode()


def _groups(xml: str) -> tuple[dict[str, tuple[str, str, str]], dict[str, list[str]]]:
    """si -> (column, ref, text) of each group's first cell; si -> the cells that only name the group."""
    masters, members = {}, {}
    for col, row, attrs, text in _CELL.findall(xml):
        if 't="shared"' not in attrs:
            continue
        si = re.search(r'si="(\d+)"', attrs).group(1)
        ref = re.search(r'ref="([^"]+)"', attrs)
        if ref:
            assert si not in masters, f"two groups with si {si}"
            masters[si] = (col, ref.group(1), text)
        else:
            members.setdefault(si, []).append(f"{col}{row}")
    return masters, members


def _week_columns(ws) -> tuple[int, int, int, int]:
    """The timeline table's first and last data row, first and last column."""
    left, top, right, bottom = openpyxl.utils.cell.range_boundaries(ws.tables["tblTimeline"].ref)
    return top + 1, bottom, left, right


def test_each_week_is_one_shared_formula_read_per_row_as_its_blocks_row(demo_copy):
    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")
    masters, members = _groups(_sheet_xml(demo_copy))
    weeks = TIMELINE_WEEKS
    assert len(masters) == weeks  # one text per week column, not one per cell
    wb = openpyxl.load_workbook(demo_copy)
    ws = wb[SHEET]
    top, bottom, _, right = _week_columns(ws)
    plan_top = int(wb["节点计划"].tables["tblMilestones"].ref.split(":")[0][1:]) + 1
    for si, (col, ref, text) in masters.items():
        assert ref == f"{col}{top}:{col}{bottom}" and "COUNTIFS" in text
        assert sorted(members[si], key=lambda c: int(c[len(col):])) == [f"{col}{r}" for r in range(top + 1, bottom + 1)]
    values = python_calamine.CalamineWorkbook.from_path(str(demo_copy)).get_sheet_by_name(SHEET).to_python()
    marks = 0
    for r in range(top, bottom + 1):
        for c in range(right - weeks + 1, right + 1):
            formula = ws.cell(r, c).value  # openpyxl's own translation of the shared formula
            spans = re.findall(r"'节点计划'!\$?[A-Z]+\$?(\d+):\$?[A-Z]+\$?(\d+)", formula)
            assert len(spans) == 5 and all(int(a) == int(b) == plan_top + r - top for a, b in spans), (r, formula)
            assert re.search(rf"{openpyxl.utils.get_column_letter(c)}\$\d+", formula)  # its own week's Monday
            marks += len(values[r - 1][c - 1])
    assert marks > 20  # the cached values are there for readers that do not calculate


def _add_staff_shared_formula(master, column: str, top: int, count: int, si: int) -> None:
    """A shared formula staff filled down beside the table (as Excel saves one), put into the sheet part."""
    path = master.with_suffix(".tmp")
    with zipfile.ZipFile(master) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        part = _sheet_part(src)
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                text = data.decode()
                for r in range(top, top + count):
                    f = f'<f t="shared" ref="{column}{top}:{column}{top + count - 1}" si="{si}">ROW()*2</f>' \
                        if r == top else f'<f t="shared" si="{si}"/>'
                    text, found = re.subn(rf'(<row [^>]*r="{r}"[^>]*>.*?)(</row>)',
                                          lambda m: f'{m.group(1)}<c r="{column}{r}">{f}<v>{2 * r}</v></c>{m.group(2)}',
                                          text, count=1, flags=re.S)
                    assert found
                data = text.encode()
            out.writestr(info, data)
    shutil.move(path, master)


def test_a_staff_shared_formula_beside_the_table_keeps_its_index_and_its_cells(demo_copy):
    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")
    ws = openpyxl.load_workbook(demo_copy)[SHEET]
    top, bottom, _, right = _week_columns(ws)
    column = openpyxl.utils.get_column_letter(right + 3)
    taken = min(int(si) for si in _groups(_sheet_xml(demo_copy))[0])  # an index the run used: staff's now
    _add_staff_shared_formula(demo_copy, column, top, 4, taken)
    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")  # the sheet changed: its regions written again
    masters, members = _groups(_sheet_xml(demo_copy))
    assert masters[str(taken)] == (column, f"{column}{top}:{column}{top + 3}", "ROW()*2")
    assert members[str(taken)] == [f"{column}{r}" for r in range(top + 1, top + 4)]
    weeks = [si for si, (col, _, _) in masters.items() if col != column]
    assert len(weeks) == TIMELINE_WEEKS and str(taken) not in weeks
    assert set(members) <= set(masters)  # every cell names a group whose first cell is there
    ws = openpyxl.load_workbook(demo_copy)[SHEET]
    assert [ws[f"{column}{r}"].value for r in range(top, top + 4)] == ["=ROW()*2"] * 4


def test_a_shrinking_table_leaves_no_cell_of_a_group_behind(demo_copy):
    execute(demo_copy, as_of=AS_OF, intake=False, command="rank")
    book = MasterBook.open(demo_copy)
    header, rows = book.table_rows(TIMELINE.name)
    first = book.table_origin("tblMilestones")[0]
    fixed = len(TIMELINE.columns) - TIMELINE_WEEKS
    formulas = {fixed + k: ColumnFormula(f"=$A%(r)d&\"{k}\"", first) for k in range(TIMELINE_WEEKS)}
    for count in (len(rows), 5, 1, 3):
        book = MasterBook.open(demo_copy)
        book.write_table(TIMELINE.name, [list(v[:fixed]) + [r + k for k in range(TIMELINE_WEEKS)]
                                          for r, (_, v) in enumerate(rows[:count])], formulas=formulas)
        book.save()
        masters, members = _groups(_sheet_xml(demo_copy))
        assert set(members) <= set(masters)
        assert len(masters) == (TIMELINE_WEEKS if count > 1 else 0)  # one row: a plain formula
        ws = openpyxl.load_workbook(demo_copy)[SHEET]
        top, bottom, left, _ = _week_columns(ws)
        assert bottom - top + 1 == count
        assert [ws.cell(top + i, left + fixed + 1).value for i in range(count)] == [f'=$A{first + i}&"1"'
                                                                                    for i in range(count)]
        assert ws.cell(bottom + 1, left + fixed + 1).value is None
