"""Formulas carry their computed values in the file, so that a ledger or a master previewed in mail, a chat
app or Protected View shows the 自查 verdict, the reasons and the dates instead of empty cells: the values
are what LibreOffice computes from the same formulas."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest

from xladdin.demo import MASTER_NAME
from xladdin.domain.milestones import week_starts
from xladdin.workbook.evaluate import XLError, cached_values
from xladdin.workbook.ledger import LEDGER_SHEET, save_ledger, write_templates
from xladdin.workbook.shipped import build_shipped

from .conftest import AS_OF, convert
from .test_selfcheck import CASES, _filled

FORMULA_CELL = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)>(<f>.*?</f>)(.*?)</c>', re.S)


def _formula_cells(path, sheet_part: str | None = None) -> dict[str, tuple[str, str]]:
    """address -> (attributes, what follows the formula) for every formula cell of the package's sheets."""
    found = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet") and (sheet_part is None or name == sheet_part):
                for ref, attributes, _, rest in FORMULA_CELL.findall(archive.read(name).decode("utf-8")):
                    found[f"{name}!{ref}"] = (attributes, rest)
    return found


def _uncached(path) -> list[str]:
    """Formula cells with no value: an empty <v> that is not an empty text result (t="str")."""
    return [ref for ref, (attributes, rest) in _formula_cells(path).items()
            if not re.fullmatch(r"<v>[^<]+</v>", rest) and not ('t="str"' in attributes and rest == "<v></v>")]


@pytest.mark.parametrize("formula, cells, expected", [
    ('=IF(A1>1,"大","小")&"！"', {"A1": 2}, "大！"),
    ("=SUMPRODUCT(EXACT(A1:A3,\"ab\")*1)", {"A1": "ab", "A2": "AB", "A3": "ab"}, 2.0),
    ('=COUNTIFS(A1:A3,"x",B1:B3,"<>")', {"A1": "X", "A2": "x", "A3": "x", "B1": 1, "B3": ""}, 1.0),
    ('=SUMIF(A1:A3,">=2",B1:B3)', {"A1": 1, "A2": 2, "A3": 3, "B1": 10, "B2": 20, "B3": 30}, 50.0),
    ('=VALUE(SUBSTITUTE(TRIM(ASC(A1)),"亩",""))', {"A1": "\u3000１２．５亩 "}, 12.5),
    ("=VALUE(A1)", {"A1": "十二"}, XLError("#VALUE!")),
    ('=IF(ISERROR(VALUE(A1)),0,1)+N(A2)+LEN(A3)', {"A1": "x", "A2": "text", "A3": 12.5}, 4.0),
    ('="有 "&(1+1)&" 处"&0.1*3', {}, "有 2 处0.3"),
    ("=AND(ISNUMBER(A1),A1>TODAY())", {}, False),  # decided without the date: A1 is blank
])
def test_the_evaluator_computes_as_excel_does(formula, cells, expected):
    wb = openpyxl.Workbook()
    ws = wb.active
    for ref, value in cells.items():
        ws[ref] = value
    ws["Z1"] = formula
    assert cached_values(wb)[ws.title]["Z1"] == expected


def test_a_formula_the_evaluator_does_not_know_is_left_to_excel():
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=VLOOKUP(1,B1:C2,2,FALSE)"
    wb.active["A2"] = "=TODAY()+1"  # no date given
    assert cached_values(wb) == {}


def test_every_formula_of_a_groups_template_carries_its_value(tmp_path, registry):
    paths = write_templates(registry, tmp_path)
    assert paths
    for path in paths:
        assert _formula_cells(path) and _uncached(path) == []
        ws = openpyxl.load_workbook(path, data_only=True)[LEDGER_SHEET]
        verdict = next(ws.cell(2, c + 1).value for c in range(1, ws.max_column) if ws.cell(2, c).value == "自查")
        assert verdict == "有 1 处需修改"  # the date is still to be typed: what Excel shows on opening


def test_the_shipped_workbooks_carry_their_values_and_no_volatile_mondays(tmp_path):
    master, ledger = build_shipped(tmp_path)
    assert _uncached(master) == [] and _uncached(ledger) == []
    formulas = [c.value for ws in openpyxl.load_workbook(master).worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert not any("TODAY()" in f for f in formulas)  # the Mondays are the first run's dates, nothing volatile
    assert _mondays(master) == []


def _mondays(path) -> list:
    """The row of Mondays above the 作战图时间表's week columns, as stored (values)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    for ws in wb.worksheets:
        if "tblTimeline" in ws.tables:
            ref = ws.tables["tblTimeline"].ref
            first = openpyxl.utils.cell.range_boundaries(ref)
            row = first[1] - 1
            return [c.value.date() for c in ws[row] if hasattr(c.value, "date")]
    raise AssertionError("no 作战图时间表")


def _formula_of(path, ref: str) -> str:
    part, cell = ref.split("!")
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(part).decode("utf-8")
    return re.search(rf'<c r="{cell}"[^>]*><f>(.*?)</f>', xml).group(1)


def test_after_a_run_every_formula_of_the_master_carries_its_value(demo):
    directory, _, _ = demo
    master = directory / MASTER_NAME
    assert _uncached(master) == []
    assert _mondays(master) == week_starts(AS_OF)  # the run's weeks, around its statistics date


LO_CASES = ("two-together", "jump", "unknown-code", "text-numbers", "full-width-digits",
            "net-land-typed-with-a-space", "date-missing", "no-break-spaces")


@pytest.mark.libreoffice
def test_the_templates_cached_values_are_what_libreoffice_computes(tmp_path, registry):
    today = dt.date.today()  # LibreOffice's TODAY() is today's date
    saved = []
    for name in LO_CASES:
        saved.append(save_ledger(_filled(registry, CASES[name]), tmp_path / f"{name}.xlsx", today))
    out = tmp_path / "lo"
    convert(saved, "xlsx", out)
    compared = 0
    for path in saved:
        assert _uncached(path) == [], path.name
        ours = openpyxl.load_workbook(path, data_only=True)[LEDGER_SHEET]
        theirs = openpyxl.load_workbook(out / path.name, data_only=True)[LEDGER_SHEET]
        for row in openpyxl.load_workbook(path)[LEDGER_SHEET].iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    mine, lo = ours[cell.coordinate].value, theirs[cell.coordinate].value
                    if isinstance(lo, (int, float)) and not isinstance(lo, bool):
                        assert mine == pytest.approx(lo), (path.name, cell.coordinate)
                    else:
                        assert (mine or "") == (lo or ""), (path.name, cell.coordinate, mine, lo)
                    compared += 1
    assert compared > 1000
