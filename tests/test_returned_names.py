"""A rejected file gets its marked-up copy whatever its name: the copy's sheet is named from the file for a
CSV, and a sheet name (and the guide's links to it) cannot hold every character a file name can."""

from __future__ import annotations

import openpyxl
import pytest

from xladdin.demo import MASTER_NAME, registry_rows
from xladdin.engine.model import NEW_REJECTED
from xladdin.engine.pipeline import execute
from xladdin.workbook.build import build_master
from xladdin.workbook.returned import GUIDE_SHEET

from .conftest import AS_OF


@pytest.mark.parametrize("stem", ["坏名字\x01\x1f", "城南[更正]第2版?", "城南片区工作组11月23日进度台账最终版本再次修改后的正式版",
                                  "'引号'"])
def test_a_rejected_csv_of_any_name_gets_its_marked_up_copy(tmp_path, stem):
    master = build_master(tmp_path / MASTER_NAME, registry_rows(AS_OF))
    inbox = tmp_path / "报送"
    inbox.mkdir()
    (inbox / f"{stem}.csv").write_text("填报单位,城南片区工作组\n不是台账\n", encoding="utf-8")
    result = execute(master, as_of=AS_OF, workers=1)
    (outcome,) = result.files
    assert outcome.status == NEW_REJECTED and outcome.returned
    copy = openpyxl.load_workbook(tmp_path / outcome.returned)
    assert copy.sheetnames[0] == GUIDE_SHEET and len(copy.sheetnames[1]) <= 31
    assert not set(copy.sheetnames[1]) & set("[]:*?/\\\x01\x1f")
