"""节点计划 and the 作战图时间表: reached dates from the ledgers, status by the planned date, staff's dates read
back, the timeline's formulas equal to the Python oracle once LibreOffice recalculates them."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from xladdin.demo import MASTER_NAME
from xladdin.domain.milestones import build_plan, reached_dates, status_of, week_marks, week_starts
from xladdin.engine.pipeline import execute

from .conftest import AS_OF, recalculate, table_frame

D = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(10)]
REGISTRY = pd.DataFrame([{"project_id": "P1", "project_name": "甲", "leader": "张", "plan_mu": 10.0, "plan_houses": 4,
                          "deadline": D[9]},
                         {"project_id": "P2", "project_name": "乙", "leader": "李", "plan_mu": 5.0, "plan_houses": 0,
                          "deadline": None}])


def reports(*rows):
    return pd.DataFrame(rows, columns=["project_id", "report_date", "acquired_mu", "houses_agreed",
                                       "houses_demolished", "cleared_mu", "net_land"])


HISTORY = reports(("P1", D[0], 6, 2, 0, 0, "否"), ("P1", D[2], 10, 4, 1, 3, "否"), ("P1", D[5], 10, 4, 4, 10, "是"),
                  ("P2", D[0], 5, 0, 0, 5, "否"))


def test_milestones_are_reached_on_the_first_report_that_meets_the_plan():
    reached = reached_dates(HISTORY, REGISTRY)
    assert reached[("P1", "征收")] == D[2] and reached[("P1", "房屋协议")] == D[2]
    assert reached[("P1", "拆除")] == D[5] and reached[("P1", "清表")] == D[5] and reached[("P1", "净地交付")] == D[5]
    assert reached[("P2", "征收")] == D[0] and reached[("P2", "清表")] == D[0]
    assert ("P2", "房屋协议") not in reached and ("P2", "拆除") not in reached  # no houses planned: entered


@pytest.mark.parametrize("planned, reached, expected", [
    (D[5], D[4], "已完成"), (D[5], D[6], "逾期完成"), (D[2], None, "已逾期2天"), (D[6], None, "临期，剩2天"),
    (D[9], None, "未到期"), (None, None, "未排期"),
])
def test_status_follows_the_planned_date(planned, reached, expected):
    assert status_of(planned, reached, D[4], due_soon_days=3) == expected


def test_staff_dates_are_kept_and_net_land_defaults_to_the_deadline():
    staff = [{"project_id": "P1", "milestone": "报批", "planned": D[1], "entered": D[3]},
             {"project_id": "P2", "milestone": "拆除", "planned": D[3]},
             {"project_id": "P9", "milestone": "报批", "planned": D[1], "project_name": "已删"}]
    known = HISTORY[HISTORY["report_date"] <= D[4]]  # what the store holds as of D[4]
    plan = build_plan(REGISTRY, ("报批", "拆除", "净地交付"), reached_dates(known, REGISTRY), D[4], 3, staff)
    rows = {(r["project_id"], r["milestone"]): r for r in plan.to_dict("records")}
    assert rows[("P1", "报批")]["status"] == "逾期完成" and rows[("P1", "报批")]["done"] == D[3]
    assert rows[("P2", "拆除")]["status"] == "已逾期1天"
    assert rows[("P1", "净地交付")]["planned"] == D[9] and rows[("P1", "净地交付")]["derived"] is None
    assert ("P9", "报批") in rows  # staff's plan for a removed project is not thrown away
    later = build_plan(REGISTRY, ("净地交付",), reached_dates(HISTORY, REGISTRY), D[6], 3)
    assert later.set_index("project_id").at["P1", "status"] == "已完成"


def test_the_weekly_notice_names_late_milestones(demo):
    directory, _, _ = demo
    result = execute(directory / MASTER_NAME, as_of=AS_OF, intake=False, write=False, notice_kind="weekly")
    late = result.plan[result.plan["status"].astype(str).str.startswith(("已逾期", "临期"))]
    section = dict(result.notice_doc.sections)["节点计划"]
    assert f"已逾期或临期的节点{len(late)}个" in section
    for row in late.head(3).itertuples():
        assert f"{row.project_name}{row.milestone}" in section


def test_every_conditional_format_fill_carries_both_colours(demo):
    directory, _, _ = demo
    with zipfile.ZipFile(directory / MASTER_NAME) as archive:
        styles = archive.read("xl/styles.xml").decode("utf-8")
    dxfs = re.search(r"<dxfs\b.*?</dxfs>", styles, re.S).group(0)
    fills = re.findall(r"<fill>.*?</fill>", dxfs, re.S)
    assert len(fills) >= 4
    for fill in fills:
        assert "fgColor" in fill and "bgColor" in fill, fill


@pytest.mark.libreoffice
def test_the_timeline_computes_what_python_says_in_libreoffice(demo_copy, tmp_path):
    master = demo_copy
    result = execute(master, as_of=AS_OF, intake=False, command="notice")
    converted = recalculate(master, tmp_path / "out")
    ws = openpyxl.load_workbook(converted, data_only=True)["作战图时间表"]
    table = table_frame(converted, "tblTimeline", data_only=True)
    weeks = week_starts(dt.date.today())  # the sheet's Monday row is TODAY()-based
    header_row = int(openpyxl.load_workbook(converted)["作战图时间表"].tables["tblTimeline"].ref.split(":")[0][1:])
    mondays = [ws.cell(header_row - 1, 5 + k).value for k in range(len(weeks))]
    assert [m.date() if isinstance(m, dt.datetime) else m for m in mondays] == weeks
    assert list(table["项目编号"]) == list(result.plan.drop_duplicates("project_id")["project_id"])
    marks = 0
    for _, row in table.iterrows():
        for k, monday in enumerate(weeks):
            expected = week_marks(result.plan, row["项目编号"], monday)
            found = row[f"第{k + 1}周"]
            assert ("" if found is None or pd.isna(found) else found) == expected, (row["项目编号"], monday)
            marks += len(expected)
    assert marks > 20
