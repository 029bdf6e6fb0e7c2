"""An .xls is checked as its .xlsx twin (issue 27): its error cells are errors, not 0, and its hidden rows get
the warning an .xlsx gets. The .xls files are LibreOffice's own conversions of the .xlsx."""

from __future__ import annotations

import pytest

from xladdin.base.issues import flatten
from xladdin.domain.validate import Checked, check_ledger
from xladdin.engine.reading import locate_file
from xladdin.workbook.ledger import build_ledger

from .conftest import AS_OF, libreoffice_profile
from .ledgers import DATE, GROUP, good_rows
from .test_libreoffice_files import convert

pytestmark = pytest.mark.libreoffice


def _issues(path, registry):
    located = locate_file(path)
    checked = located if isinstance(located, Checked) else check_ledger(located, registry, {}, AS_OF)
    return sorted(flatten(checked.issues, ("code", "cell", "value"))), checked


def _pair(tmp_path, registry, name, change):
    wb = build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, good_rows(registry))
    change(wb.active)
    source = tmp_path / f"{name}.xlsx"
    wb.save(source)
    convert([source], "xls", tmp_path / "xls", libreoffice_profile())
    convert([source], "xlsx", tmp_path / "lo-xlsx", libreoffice_profile())  # the error values computed, as Excel would
    return tmp_path / "lo-xlsx" / f"{name}.xlsx", tmp_path / "xls" / f"{name}.xls"


def _errors(ws):
    ws["E5"] = "=1/0"  # the reproduction: a #DIV/0! that .xls read as 0
    ws["F6"] = "=#REF!+1"  # a second instance: a broken reference, and a lookup that found nothing
    ws["H7"] = "=NA()"


def _hidden(ws):
    ws.row_dimensions[6].hidden = True
    ws.row_dimensions[8].hidden = True


@pytest.mark.parametrize("name, change, code, count", [("错误值", _errors, "excel-error", 3),
                                                       ("隐藏行", _hidden, "row-hidden", 2)])
def test_an_xls_gets_the_issues_its_xlsx_twin_gets(tmp_path, registry, name, change, code, count):
    xlsx, xls = _pair(tmp_path, registry, name, change)
    from_xlsx, _ = _issues(xlsx, registry)
    from_xls, checked = _issues(xls, registry)
    assert [i for i in from_xlsx if i[0] == code] and len([i for i in from_xls if i[0] == code]) == count
    assert from_xls == from_xlsx
    if code == "excel-error":
        assert not checked.accepted
