"""A project typed just under 项目清单's table, which did not grow to hold it (issue 27), is never silently not a
project: the run stops with exit 2 naming the cell, and the master is unchanged."""

from __future__ import annotations

import hashlib

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.base.schema import parse_range
from xladdin.cli import main
from xladdin.demo import MASTER_NAME, registry_rows
from xladdin.workbook.build import build_master

from .conftest import AS_OF


@pytest.mark.parametrize("column, value", [("B", "SJ-99"), ("C", "新增安置房项目")])  # the id, or only the name
def test_a_project_typed_below_the_registry_table_is_refused_naming_its_cell(tmp_path, column, value):
    master = build_master(tmp_path / MASTER_NAME, registry_rows(AS_OF))
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["项目清单"]
    table = next(iter(ws.tables.values()))
    first_col, _, _, last_row = parse_range(table.ref)
    ws[f"{column}{last_row + 1}"] = value
    wb.save(master)
    before = hashlib.sha256(master.read_bytes()).hexdigest()
    for command in ("validate", "run"):
        result = CliRunner().invoke(main, [command, str(master), "--as-of", AS_OF.isoformat()])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split()).replace(" ", "")
        assert f"{column}{last_row + 1}" in text and value in text and "调整表格大小" in text
    assert hashlib.sha256(master.read_bytes()).hexdigest() == before


def test_a_note_further_below_the_table_is_not_a_project(tmp_path):
    master = build_master(tmp_path / MASTER_NAME, registry_rows(AS_OF))
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["项目清单"]
    _, _, _, last_row = parse_range(next(iter(ws.tables.values())).ref)
    ws[f"B{last_row + 3}"] = "备注：以上为第一批项目"
    wb.save(master)
    result = CliRunner().invoke(main, ["validate", str(master), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
