"""The command line: exit codes 0 / 2 / 3, nothing written on failure, --json, templates."""

from __future__ import annotations

import hashlib
import json
import shutil

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.cli import main
from xladdin.demo import MASTER_NAME, registry_rows
from xladdin.workbook.build import build_master
from xladdin.workbook.lock import MasterLock

from .conftest import AS_OF


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def campaign(demo, tmp_path):
    """A private copy of the demo campaign (master, store, inbox) after its first run."""
    directory, _, _ = demo
    copy = tmp_path / "campaign"
    shutil.copytree(directory, copy)
    return copy


def test_run_exits_0_and_reports_rejections_as_data(demo, campaign):
    _, manifest, _ = demo
    result = invoke("run", campaign / MASTER_NAME, "--as-of", AS_OF.isoformat(), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    inbox = len(manifest["files"])  # every file the demo wrote; all of them seen by the first run
    assert summary["files_read"] == inbox and summary["already_processed"] + summary["duplicates"] == inbox


def test_validate_changes_neither_master_nor_store(demo, tmp_path):
    directory, manifest, _ = demo
    fresh = tmp_path / "fresh"
    invoke("init", fresh)
    # A master with the demo registry but no history yet (the demo's own master, copied alone, has history
    # and no store: that one stops with exit 3, issue 27).
    build_master(fresh / MASTER_NAME, registry_rows(AS_OF))
    shutil.copytree(directory / "报送", fresh / "报送", dirs_exist_ok=True)
    before = digest(fresh / MASTER_NAME)
    result = invoke("validate", fresh / MASTER_NAME, "--as-of", AS_OF.isoformat(), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    assert summary["wrote_master"] is False
    assert summary["rejected"] == sum(1 for f in manifest["files"] if f["expected"] == "rejected")
    assert digest(fresh / MASTER_NAME) == before
    assert not (fresh / "归档").exists() and not (fresh / "历史库.sqlite").exists()  # validate creates no store
    shutil.copy(directory / MASTER_NAME, fresh / MASTER_NAME)
    assert invoke("validate", fresh / MASTER_NAME, "--as-of", AS_OF.isoformat()).exit_code == 3


def test_bad_as_of_is_a_usage_error(campaign):
    result = invoke("run", campaign / MASTER_NAME, "--as-of", "24/11/2026")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_invalid_setting_exits_2_and_writes_nothing(campaign):
    master = campaign / MASTER_NAME
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["设置"]
    row = next(r for r in ws.iter_rows() if r[0].value == "排名单位")
    row[1].value = "村"
    wb.save(master)
    before = digest(master)
    result = invoke("run", master, "--as-of", AS_OF.isoformat())
    assert result.exit_code == 2
    assert "排名单位" in result.output
    assert digest(master) == before


def test_empty_registry_exits_2(tmp_path):
    assert invoke("init", tmp_path).exit_code == 0
    result = invoke("run", tmp_path / MASTER_NAME)
    assert result.exit_code == 2
    assert "项目清单为空" in result.output


@pytest.mark.parametrize("where", ["nowhere.xlsm", "no-such-folder/母表.xlsm"])
def test_missing_master_exits_3(tmp_path, where):
    result = invoke("run", tmp_path / where)
    assert result.exit_code == 3
    assert "找不到母表" in result.output
    assert list(tmp_path.iterdir()) == []


def test_corrupt_master_exits_3_and_is_left_alone(campaign):
    master = campaign / MASTER_NAME
    master.write_bytes(b"this is not a workbook" * 100)
    before = digest(master)
    backups = sorted((campaign / "备份").iterdir())
    result = invoke("run", master)
    assert result.exit_code == 3
    assert "已损坏" in result.output
    assert digest(master) == before
    assert sorted((campaign / "备份").iterdir()) == backups


def test_master_open_in_excel_exits_3(campaign):
    master = campaign / MASTER_NAME
    (campaign / f"~${MASTER_NAME}").write_bytes(b"owner")
    before = digest(master)
    result = invoke("run", master)
    assert result.exit_code == 3
    assert "正在被 Excel" in result.output
    assert digest(master) == before


def test_a_second_writer_exits_3(campaign):
    master = campaign / MASTER_NAME
    with MasterLock(master):
        result = invoke("consolidate", master)
    assert result.exit_code == 3
    assert "另一次汇总" in result.output


def test_init_refuses_to_overwrite(tmp_path):
    assert invoke("init", tmp_path).exit_code == 0
    result = invoke("init", tmp_path)
    assert result.exit_code == 2


def test_templates_write_one_protected_validated_workbook_per_group(campaign, tmp_path):
    out = tmp_path / "templates"
    result = invoke("templates", campaign / MASTER_NAME, "--out", out)
    assert result.exit_code == 0
    files = sorted(out.glob("*.xlsx"))
    assert len(files) == 6
    ws = openpyxl.load_workbook(files[0])["进度台账"]
    assert ws.protection.sheet
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"decimal", "whole", "list", "date"} <= kinds
    assert ws["A2"].value == "填报单位" and ws["B2"].protection.locked
    assert ws["E5"].protection.locked is False  # the first figure cell is for typing


def test_a_template_filled_in_by_staff_is_accepted(campaign, tmp_path):
    out = tmp_path / "templates"
    invoke("templates", campaign / MASTER_NAME, "--out", out)
    template = next(out.glob("工业园区工作组*.xlsx"))
    wb = openpyxl.load_workbook(template)
    ws = wb["进度台账"]
    ws["E2"].value = AS_OF
    ws["H2"].value = "张三"
    from .conftest import table_frame

    summary = table_frame(campaign / MASTER_NAME, "tblSummary").set_index("项目编号")
    columns = ["累计征地面积(亩)", "累计签订房屋协议(栋)", "累计拆除房屋(栋)", "累计补偿特殊青苗(户)",
               "累计补偿地上附着物(户)", "累计拆除地上附着物(户)", "累计迁移坟山(穴)", "累计清表面积(亩)"]
    for row in ws.iter_rows(min_row=5):
        project = row[1].value
        if not project:
            continue
        # Yesterday's figures as HQ has them, the way a clerk carries them forward, and half a mu more.
        figures = summary.loc[project]
        for offset, column in enumerate(columns, start=4):
            row[offset].value = figures[column]
        if figures["累计征地面积(亩)"] + 0.5 <= figures["计划征地面积(亩)"]:
            row[4].value = figures["累计征地面积(亩)"] + 0.5
        row[12].value = figures["是否净地"]
        row[13].value = figures["净地交付日期"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wb.save(inbox / "工业园区工作组_今日.xlsx")
    result = invoke("validate", campaign / MASTER_NAME, "--inbox", inbox, "--as-of", AS_OF.isoformat(), "--json")
    outcome = json.loads(result.output)["files"][0]
    assert outcome["status"] == "已接收", outcome["issues"]


def test_a_ledger_pasted_into_the_master_is_a_submission(campaign):
    master = campaign / MASTER_NAME
    source = openpyxl.load_workbook(campaign / "报送" / "城南片区工作组_1124.xlsx")["进度台账"]
    wb = openpyxl.load_workbook(master, keep_vba=True)
    pasted = wb.create_sheet("城南片区今日台账")
    for row in source.iter_rows(values_only=True):
        pasted.append(list(row))
    pasted["E5"].value = "约10"  # and a mistake, so that the report must point into the master
    wb.save(master)
    result = invoke("run", master, "--as-of", AS_OF.isoformat(), "--json")
    files = {f["file"]: f for f in json.loads(result.output)["files"]}
    outcome = files[f"{MASTER_NAME}›城南片区今日台账"]
    assert outcome["status"] == "已退回" and outcome["issues"][0]["cell"] == "E5"
    ws = openpyxl.load_workbook(master)["校验报告"]
    links = [c.hyperlink for row in ws.iter_rows() for c in row if c.hyperlink is not None and c.value == "E5"]
    assert any(link.location == "'城南片区今日台账'!E5" and not link.target for link in links)
    assert "城南片区今日台账" in openpyxl.load_workbook(master).sheetnames  # staff's sheet stays


def test_the_history_sheet_shows_a_bounded_window_newest_first(campaign):
    from .conftest import table_frame

    master = campaign / MASTER_NAME
    wb = openpyxl.load_workbook(master, keep_vba=True)
    row = next(r for r in wb["设置"].iter_rows() if r[0].value == "历史显示行数上限")
    row[1].value = 10
    wb.save(master)
    assert invoke("rank", master, "--as-of", AS_OF.isoformat()).exit_code == 0
    history = table_frame(master, "tblHistory")
    assert len(history) == 10 and list(history["填报日期"]) == sorted(history["填报日期"], reverse=True)
    assert history["填报日期"].iloc[0].date() == AS_OF
    exported = invoke("history", master, "--out", campaign / "全部.csv")
    assert exported.exit_code == 0 and "已导出" in exported.output
    import sqlite3

    stored = sqlite3.connect(campaign / "历史库.sqlite").execute(
        "SELECT COUNT(*) FROM ledger_rows WHERE superseded=0").fetchone()[0]
    lines = sum(1 for _ in open(campaign / "全部.csv", encoding="utf-8-sig"))
    assert lines == stored + 1 and stored > 10  # the export has every stored row, not just the window
