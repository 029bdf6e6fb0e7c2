"""Submissions written by LibreOffice (xlsx and legacy xls) validate exactly as those written by openpyxl."""

from __future__ import annotations

import pytest

from xladdin.base.issues import flatten
from xladdin.domain.validate import Checked, check_ledger
from xladdin.engine.reading import locate_file
from xladdin.workbook.ledger import build_ledger

from . import conftest
from .conftest import AS_OF, libreoffice_profile
from .ledgers import DATE, GROUP, good_rows


def fixtures(registry) -> dict[str, list[dict]]:
    clean = good_rows(registry)
    cells = good_rows(registry)
    cells[0]["acquired_mu"] = "约12"
    cells[1]["houses_agreed"] = -1
    cells[2]["crops"] = 2.5
    cells[3]["fixtures"] = "1,200"
    logic = good_rows(registry)
    logic[0]["houses_demolished"] = 5
    logic[1]["net_land"] = "是"
    logic[2]["project_id"] = "SJ-99"
    return {"clean": clean, "cells": cells, "logic": logic}


def convert(files, fmt: str, out_dir, profile=None) -> None:
    """`soffice --convert-to` through this worker's LibreOffice (conftest.convert; its profile)."""
    conftest.convert(files, fmt, out_dir)


def outcome(path, registry) -> list[tuple[str, ...]]:
    located = locate_file(path)
    checked = located if isinstance(located, Checked) else check_ledger(located, registry, {}, AS_OF)
    return flatten(checked.issues, ("code", "cell", "severity", "value")), checked


@pytest.mark.libreoffice
def test_libreoffice_written_xlsx_and_xls_validate_the_same(tmp_path, registry):
    written = []
    for name, rows in fixtures(registry).items():
        path = tmp_path / f"{name}.xlsx"
        build_ledger(GROUP, registry[registry["group"] == GROUP], DATE, rows).save(path)
        written.append(path)
    lo_xlsx, lo_xls = tmp_path / "lo-xlsx", tmp_path / "lo-xls"
    convert(written, "xlsx", lo_xlsx, libreoffice_profile())
    convert(written, "xls", lo_xls, libreoffice_profile())
    for path in written:
        expected, original = outcome(path, registry)
        for other in (lo_xlsx / path.name, lo_xls / (path.stem + ".xls")):
            got, checked = outcome(other, registry)
            assert got == expected, other
            assert checked.report_date == original.report_date and checked.group == original.group
            assert checked.rows.drop(columns=["net_land_date"]).equals(
                original.rows.drop(columns=["net_land_date"])), other
    assert outcome(written[0], registry)[0] == []
