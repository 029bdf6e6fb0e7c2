"""The demo campaign end to end, checked against the files it wrote (not against the engine)."""

from __future__ import annotations

import shutil
import sqlite3

import openpyxl
import pandas as pd
import pytest

from xladdin.base.schema import FIGURE_KEYS, LEDGER_FIELDS
from xladdin.base.values import parse_number
from xladdin.demo import MASTER_NAME
from xladdin.engine.model import DUPLICATE, NEW_ACCEPTED, NEW_REJECTED
from xladdin.engine.pipeline import execute

from .conftest import AS_OF, recalculate, table_frame


def test_deliberately_wrong_submissions_are_exactly_the_rejected_ones(demo):
    _, manifest, result = demo
    expected = {f["file"] for f in manifest["files"] if f["expected"] == "rejected"}
    rejected = {f.file for f in result.files if f.status == NEW_REJECTED}
    assert rejected == expected
    assert len(expected) >= 8


def test_each_wrong_submission_is_rejected_for_its_own_reason(demo):
    _, manifest, result = demo
    by_file = {f.file: f for f in result.files}
    codes = set()
    for entry in manifest["files"]:
        if entry["expected"] == "rejected":
            assert entry["code"] in {i.code for i in by_file[entry["file"]].errors}, entry
            codes.add(entry["code"])
    assert len(codes) == len([f for f in manifest["files"] if f["expected"] == "rejected"])


def test_messy_but_valid_submissions_are_accepted_and_the_forwarded_copy_is_a_duplicate(demo):
    _, manifest, result = demo
    by_file = {f.file: f for f in result.files}
    for entry in manifest["files"]:
        outcome = by_file[entry["file"]]
        if entry["expected"] == "accepted":
            assert outcome.status == NEW_ACCEPTED, (entry, [i.message for i in outcome.errors])
        elif entry["expected"] == "duplicate":
            assert outcome.status == DUPLICATE


def test_every_registry_project_appears_once_in_the_summary(demo):
    directory, _, _ = demo
    registry = table_frame(directory / MASTER_NAME, "tblRegistry")
    summary = table_frame(directory / MASTER_NAME, "tblSummary")
    assert sorted(summary["项目编号"]) == sorted(registry["项目编号"])
    assert summary["项目编号"].is_unique


def _accepted_ledgers(directory, manifest) -> pd.DataFrame:
    """Read every accepted submission independently with openpyxl: latest report per project wins."""
    records = []
    labels = {f.label: f.key for f in LEDGER_FIELDS}
    for entry in manifest["files"]:
        if entry["expected"] != "accepted" or not entry["file"].endswith(".xlsx"):
            continue
        ws = openpyxl.load_workbook(directory / "报送" / entry["file"], data_only=True)["进度台账"]
        rows = list(ws.iter_rows(values_only=True))
        header_index = next(i for i, r in enumerate(rows) if "项目编号" in [str(v).strip() for v in r if v])
        header = [labels.get(str(v).replace("（", "(").replace("）", ")").replace("\n", "")) for v in
                  rows[header_index]]
        for row in rows[header_index + 1:]:
            record = {k: v for k, v in zip(header, row) if k}
            if record.get("project_id"):
                records.append({"date": entry["date"], "project_id": record["project_id"],
                                "acquired_mu": parse_number(record["acquired_mu"], "亩")[0],
                                "houses_demolished": parse_number(record["houses_demolished"], "栋")[0]})
    for entry in manifest["files"]:  # the CSV submission is read as text
        if entry["expected"] == "accepted" and entry["file"].endswith(".csv"):
            frame = pd.read_csv(directory / "报送" / entry["file"], header=None, dtype=str, encoding="utf-8-sig")
            header_index = frame.index[frame.apply(lambda r: "项目编号" in r.values, axis=1)][0]
            header = list(frame.iloc[header_index])
            for _, row in frame.iloc[header_index + 1:].iterrows():
                record = dict(zip(header, row))
                records.append({"date": entry["date"], "project_id": record["项目编号"],
                                "acquired_mu": float(record["累计征地面积(亩)"]),
                                "houses_demolished": float(record["累计拆除房屋(栋)"])})
    ledgers = pd.DataFrame(records).sort_values("date")
    return ledgers.groupby("project_id").last()


def test_group_totals_equal_the_sum_of_accepted_rows(demo):
    directory, manifest, _ = demo
    latest = _accepted_ledgers(directory, manifest)
    summary = table_frame(directory / MASTER_NAME, "tblSummary").set_index("项目编号")
    latest = latest.join(summary["责任工作组"])
    expected = latest.groupby("责任工作组")[["acquired_mu", "houses_demolished"]].sum()
    got = summary.groupby("责任工作组")[["累计征地面积(亩)", "累计拆除房屋(栋)"]].sum()
    for group in got.index:
        assert got.at[group, "累计征地面积(亩)"] == pytest.approx(expected.at[group, "acquired_mu"])
        assert got.at[group, "累计拆除房屋(栋)"] == pytest.approx(expected.at[group, "houses_demolished"])


def test_a_rejected_file_contributes_nothing(demo):
    directory, manifest, result = demo
    store = sqlite3.connect(directory / "历史库.sqlite")
    rejected = [f.sha256 for f in result.files if f.status == NEW_REJECTED]
    placeholders = ",".join("?" * len(rejected))
    count = store.execute(f"SELECT COUNT(*) FROM ledger_rows WHERE sha256 IN ({placeholders})", rejected).fetchone()
    assert count == (0,)
    # The wrong project code of the rejected file is nowhere in the summary.
    summary = table_frame(directory / MASTER_NAME, "tblSummary")
    assert "SJ-99" not in set(summary["项目编号"])


@pytest.mark.libreoffice
def test_ranking_formulas_recalculated_by_libreoffice_equal_the_pandas_ranking(demo, tmp_path):
    from .test_ranking_formulas import assert_sheet_equals_pandas, assert_sorted_view_equals_pandas

    directory, _, result = demo
    converted = recalculate(directory / MASTER_NAME, tmp_path)
    formulas = table_frame(directory / MASTER_NAME, "tblRanking")
    assert formulas.iloc[0, 1].startswith("=") and "_xlfn.RANK.EQ" in formulas.iloc[0, 2]
    assert_sheet_equals_pandas(table_frame(converted, "tblRanking", data_only=True), result.ranking)
    # The rank-sorted view on 红黑榜（排序）: recalculated, and as the file carries it for previews.
    assert_sorted_view_equals_pandas(converted, result.ranking)
    assert_sorted_view_equals_pandas(directory / MASTER_NAME, result.ranking)


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and pd.isna(value))


def test_a_second_run_on_the_same_inbox_changes_no_managed_data(demo, tmp_path):
    directory, _, _ = demo
    copy = tmp_path / "again"
    shutil.copytree(directory, copy)
    before = {t: table_frame(copy / MASTER_NAME, t) for t in ("tblSummary", "tblRanking", "tblHistory")}
    store = sqlite3.connect(copy / "历史库.sqlite")
    rows_before = store.execute("SELECT COUNT(*) FROM ledger_rows").fetchone()
    result = execute(copy / MASTER_NAME, as_of=AS_OF)
    assert result.count(NEW_ACCEPTED) == 0 and result.count(NEW_REJECTED) == 0
    assert store.execute("SELECT COUNT(*) FROM ledger_rows").fetchone() == rows_before
    for table, frame in before.items():
        pd.testing.assert_frame_equal(table_frame(copy / MASTER_NAME, table), frame)
    report = table_frame(copy / MASTER_NAME, "tblReport")
    assert (report["级别"] == "错误").sum() >= 8  # the rejected files stay listed with their errors


def test_every_rejected_file_has_a_marked_up_copy_linked_from_the_report(demo):
    directory, _, result = demo
    rejected = [f for f in result.files if f.status == NEW_REJECTED]
    for outcome in rejected:
        assert outcome.returned and (directory / outcome.returned).is_file(), outcome.file
    wb = openpyxl.load_workbook(directory / MASTER_NAME)
    ws = wb["校验报告"]
    links = {c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink is not None}
    assert {f.returned for f in rejected} <= links


def test_charts_follow_the_tables_they_plot(demo):
    import re
    import zipfile

    from xladdin.base.schema import parse_range
    from xladdin.workbook.package import MasterBook

    directory, _, result = demo
    book = MasterBook.open(directory / MASTER_NAME)
    last_row = {name: parse_range(book.tables[name].ref)[3] for name in ("tblChartUnits", "tblTrend",
                                                                          "tblStatusCounts")}
    assert last_row["tblChartUnits"] == 3 + len(result.ranking)  # header on row 3, one row per unit
    with zipfile.ZipFile(directory / MASTER_NAME) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3
    ends = {int(m) for chart in charts for m in re.findall(r"'图表'!\$[A-Z]+\$4:\$[A-Z]+\$(\d+)", chart)}
    assert ends == set(last_row.values())  # every data range reaches its table's last row


def test_the_store_knows_each_groups_last_two_reports(demo):
    import datetime as dt

    from xladdin.store.history import Store

    directory, _, _ = demo
    store = Store(directory / "历史库.sqlite")
    states = store.group_states()
    store.close()
    assert len(states) == 6
    for state in states.values():
        assert state.before is not None and state.before.report_date < state.report_date
        assert state.report_date <= AS_OF and (AS_OF - state.before.report_date) <= dt.timedelta(days=3)
        assert set(state.figures) and all(len(f) == len(FIGURE_KEYS) for f in state.figures.values())
