"""督办台账: problems become items, their status follows the reports and staff, HQ adds its own, overdue flagged."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd

from xladdin.domain.register import build_register, problems_in
from xladdin.engine.pipeline import execute

from .conftest import AS_OF, table_frame

D1, D2, D3 = (dt.date(2026, 11, 20) + dt.timedelta(days=i) for i in range(3))
REGISTRY = pd.DataFrame([{"project_id": "P1", "project_name": "甲地块", "group": "一组", "leader": "张副县长"},
                         {"project_id": "P2", "project_name": "乙地块", "group": "二组", "leader": "李副县长"}])


def reports(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["project_id", "report_date", "problems", "next_steps"])


HISTORY = reports(("P1", D1, "坟山未迁", "约谈宗族"), ("P2", D1, "", ""),
                  ("P1", D2, "坟山未迁；青苗补偿争议。", "再次约谈"), ("P2", D2, "", ""),
                  ("P1", D3, "青苗补偿争议", "评估复核"), ("P2", D3, "", ""))


def by_problem(register: pd.DataFrame) -> dict[str, dict]:
    return {r["problem"]: r for r in register.to_dict("records")}


def test_several_problems_in_one_cell_are_several_items():
    assert problems_in("坟山未迁；青苗补偿争议。\n坟山未迁") == ["坟山未迁", "青苗补偿争议"]


def test_an_item_is_new_then_ongoing_then_awaits_confirmation_then_closed_by_staff():
    day2 = by_problem(build_register(HISTORY, REGISTRY, D2))
    assert day2["坟山未迁"]["status"] == "持续" and day2["坟山未迁"]["days_open"] == 1
    assert day2["青苗补偿争议"]["status"] == "新增" and day2["青苗补偿争议"]["first_seen"] == D2
    assert day2["坟山未迁"]["next_step"] == "再次约谈" and day2["坟山未迁"]["leader"] == "张副县长"
    day3 = by_problem(build_register(HISTORY, REGISTRY, D3))
    assert day3["坟山未迁"]["status"] == "待确认销号"  # the group stopped reporting it
    assert day3["坟山未迁"]["days_open"] == 1  # from first to last report, not to today
    assert day3["青苗补偿争议"]["status"] == "持续" and day3["青苗补偿争议"]["next_step"] == "评估复核"
    staff = [{**day3["坟山未迁"], "status": "已销号"}]
    closed = by_problem(build_register(HISTORY, REGISTRY, D3, staff))
    assert closed["坟山未迁"]["status"] == "已销号" and closed["坟山未迁"]["alert"] == ""
    assert closed["青苗补偿争议"]["status"] == "持续"
    assert set(closed) == {"坟山未迁", "青苗补偿争议"}  # P2 reported no problem: no item


def test_an_hq_item_is_kept_and_flagged_when_past_its_due_date():
    hq = {"project": "乙地块", "group": "二组", "problem": "高压线迁移方案报批", "source": "指挥部交办",
          "owner": "供电公司王某", "due": D2, "first_seen": D1, "status": ""}
    items = by_problem(build_register(HISTORY, REGISTRY, D3, [hq]))
    item = items["高压线迁移方案报批"]
    assert item["source"] == "指挥部交办" and item["owner"] == "供电公司王某"
    assert item["alert"] == f"逾期{(D3 - D2).days}天" and item["days_open"] == (D3 - D1).days
    done = by_problem(build_register(HISTORY, REGISTRY, D3, [{**hq, "status": "已销号"}]))
    assert done["高压线迁移方案报批"]["alert"] == ""


def test_staff_edits_in_the_master_are_read_back_on_the_next_run(demo_copy, tmp_path):
    master = demo_copy
    first = execute(master, as_of=AS_OF, intake=False, command="notice")
    sheet = table_frame(master, "tblRegister")
    assert len(sheet) == len(first.register) > 0
    target = sheet.iloc[0]
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["督办台账"]
    table = ws.tables["tblRegister"]
    first_row = int(table.ref.split(":")[0][1:]) + 1
    status_col = list(sheet.columns).index("状态") + 1
    ws.cell(first_row, status_col).value = "已销号"
    last = first_row + len(sheet)  # a new row under the table: HQ's own item
    values = {"项目名称": "", "问题": "协调高压线迁移", "来源": "指挥部交办", "责任人": "县供电公司",
              "完成时限": AS_OF - dt.timedelta(days=2), "首次报告日期": AS_OF - dt.timedelta(days=5)}
    for i, label in enumerate(sheet.columns, start=1):
        ws.cell(last, i).value = values.get(label)
    table.ref = f"{table.ref.split(':')[0]}:{table.ref.split(':')[1][0]}{last}"
    wb.save(master)
    second = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly")
    register = second.register
    closed = register[(register["project"] == target["项目名称"]) & (register["problem"] == target["问题"])]
    assert list(closed["status"]) == ["已销号"]
    hq = register[register["problem"] == "协调高压线迁移"].iloc[0]
    assert hq["source"] == "指挥部交办" and hq["alert"] == "逾期2天"
    assert "协调高压线迁移" in dict(second.notice_doc.sections)["督办事项"]  # overdue: listed first
    again = table_frame(master, "tblRegister")
    assert "协调高压线迁移" in set(again["问题"]) and len(again) == len(register)
