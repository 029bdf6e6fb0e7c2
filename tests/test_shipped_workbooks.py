"""workbooks/ holds what the package builds: the committed master and ledger equal a fresh build byte for
byte (their dates are fixed), and a stale one is named part by part."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from xladdin.base.schema import REGISTRY_FIELDS
from xladdin.workbook.build import BUTTONS
from xladdin.workbook.shipped import LEDGER_FILE, MASTER_FILE, build_shipped

SHIPPED = Path(__file__).resolve().parent.parent / "workbooks"


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("name", [MASTER_FILE, LEDGER_FILE])
def test_committed_workbooks_equal_a_fresh_build(tmp_path, name):
    build_shipped(tmp_path)
    committed, built = _parts(SHIPPED / name), _parts(tmp_path / name)
    assert sorted(committed) == sorted(built)
    differing = [part for part in built if committed[part] != built[part]]
    assert not differing, f"workbooks/{name} is stale in {differing}: run python scripts/build_workbooks.py"
    assert (SHIPPED / name).read_bytes() == (tmp_path / name).read_bytes()  # the same bytes wherever it is built


def test_the_shipped_master_has_one_example_project_and_buttons(tmp_path):
    workbook = openpyxl.load_workbook(SHIPPED / MASTER_FILE, keep_vba=True)
    registry = workbook["项目清单"]
    table = registry.tables["tblRegistry"]
    first, last = table.ref.split(":")
    rows = list(registry[table.ref])
    assert len(rows) == 2 and "示例" in str(rows[1][0].value)
    # The example fills every plan a project has (an unknown key in it would leave its column blank).
    example = dict(zip((c.value for c in rows[0]), (c.value for c in rows[1])))
    assert all(example[f.label] not in (None, "") for f in REGISTRY_FIELDS if f.key.startswith("plan_")), example
    with zipfile.ZipFile(SHIPPED / MASTER_FILE) as archive:
        assert "xl/vbaProject.bin" in archive.namelist()
        vml = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".vml"))
    assert vml.count("<x:FmlaMacro>") == len(BUTTONS)
    ledger = openpyxl.load_workbook(SHIPPED / LEDGER_FILE)
    assert ledger.sheetnames[0] == "进度台账"
