"""督办台账: problems become items, their status follows the reports and staff, HQ adds its own, overdue flagged."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd

from xladdin.domain.register import (
    build_register,
    order_items,
    problems_in,
    similarity,
    staff_moves,
    thread_problems,
    update_threads,
    wording_key,
)
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
    day3 = by_problem(build_register(HISTORY, REGISTRY, D3, silent_days=1))
    assert day3["坟山未迁"]["status"] == "待确认销号"  # the group stopped reporting it
    assert day3["坟山未迁"]["days_open"] == 1  # from first to last report, not to today
    assert day3["青苗补偿争议"]["status"] == "持续" and day3["青苗补偿争议"]["next_step"] == "评估复核"
    staff = [{**day3["坟山未迁"], "status": "已销号"}]
    closed = by_problem(build_register(HISTORY, REGISTRY, D3, staff, silent_days=1))
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


FIVE_WORDINGS = ("安置房源不足，群众有顾虑", "安置房源紧张，部分群众存在顾虑。", "群众对安置房源不足有顾虑",
                 "安置房源不足，群众顾虑较多，签约缓慢", "因安置房源不足，仍有3户群众有顾虑")


def daily(project: str, cells: list[str], start: dt.date = D1) -> pd.DataFrame:
    return reports(*[(project, start + dt.timedelta(days=i), cell, "") for i, cell in enumerate(cells)])


def test_the_same_problem_in_five_wordings_is_one_item_with_every_wording_kept():
    history = daily("P1", list(FIVE_WORDINGS))
    as_of = D1 + dt.timedelta(days=4)
    register = build_register(history, REGISTRY, as_of)
    assert len(register) == 1
    item = register.iloc[0]
    assert item["item_id"] == "P1-1" and item["status"] == "持续" and item["days_open"] == 4
    assert item["problem"] == FIVE_WORDINGS[-1] and item["first_seen"] == D1
    assert [w.split(".", 1)[1] for w in item["wordings"].split("；")] == [w.rstrip("。") for w in FIVE_WORDINGS]


def test_two_different_problems_of_one_project_are_two_items_whatever_their_wordings():
    cells = [f"{a}；{b}" for a, b in zip(FIVE_WORDINGS, ("坟山迁移需协调宗族意见", "宗族对坟山迁移意见不一，正在协调",
                                                        "还有12穴坟山迁移需协调宗族", "坟山迁移仍需协调宗族意见",
                                                        "坟山迁移宗族意见不统一，需协调"))]
    register = build_register(daily("P1", cells), REGISTRY, D1 + dt.timedelta(days=4))
    assert sorted(register["item_id"]) == ["P1-1", "P1-2"]
    graves = register[register["problem"].str.contains("坟山")].iloc[0]
    assert "安置" not in graves["wordings"] and graves["wordings"].count("；") == 4


def test_likeness_is_high_for_rewordings_and_low_across_problems():
    assert wording_key("还有3户未签约。") == wording_key("还有 12 户未签约")  # numbers and punctuation do not count
    assert similarity("资金不到位", "安置资金未到位") >= 0.25
    assert similarity("坟山未迁", "青苗补偿争议") == 0
    assert similarity("安置房源不足，群众有顾虑", "抢建抢种现象，已联合执法") < 0.2
    assert problems_in("无；暂无。") == []  # "none" is not a problem


def test_threading_is_kept_a_new_wording_joins_and_a_closed_item_takes_no_new_wordings():
    first = thread_problems(daily("P1", ["坟山迁移需协调宗族意见"]), {})
    assert first == {("P1", wording_key("坟山迁移需协调宗族意见")): "P1-1"}
    later = daily("P1", ["坟山迁移仍需协调宗族意见"], D2)
    assert set(thread_problems(later, first).values()) == {"P1-1"}
    assert set(thread_problems(later, first, closed={"P1-1"}).values()) == {"P1-2"}  # a recurrence after 销号


def test_staff_merge_and_split_in_the_register_are_honoured_by_the_next_run():
    history = daily("P1", ["坟山未迁", "青苗补偿争议", "坟山未迁；青苗补偿争议"])
    threads = thread_problems(history, {})
    assert sorted(set(threads.values())) == ["P1-1", "P1-2"]
    as_of = D1 + dt.timedelta(days=2)
    merged_rows = [{"item_id": "P1-2", "merge_into": "P1-1"}, {"item_id": "P2-1", "merge_into": "P1-1"}]
    moves, new, _, notes = update_threads(history, threads, merged_rows)
    assert set(moves.values()) == {"P1-1"} and not new and notes == []  # P2-1 is unknown: ignored
    merged = build_register(history, REGISTRY, as_of, threads={**threads, **moves})
    assert list(merged["item_id"]) == ["P1-1"] and "青苗补偿争议" in merged.iloc[0]["wordings"]
    # split the second wording back out
    split_rows = [{"item_id": "P1-1", "wordings": merged.iloc[0]["wordings"], "split": "2"}]
    moves2, _ = staff_moves(split_rows, {**threads, **moves}, {"P1-1": "P1"}, used={"P1-2"})
    again = build_register(history, REGISTRY, as_of, threads={**threads, **moves, **moves2})
    assert sorted(again["item_id"]) == ["P1-1", "P1-3"]  # P1-2, merged away, is never given again
    assert set(again["problem"]) == {"坟山未迁", "青苗补偿争议"}


def test_an_item_awaits_confirmation_only_after_the_set_days_of_silence():
    history = daily("P1", ["坟山未迁；青苗补偿争议", "青苗补偿争议", "青苗补偿争议", "青苗补偿争议"])
    as_of = D1 + dt.timedelta(days=3)
    assert by_problem(build_register(history, REGISTRY, D1 + dt.timedelta(days=2)))["坟山未迁"]["status"] == "持续"
    item = by_problem(build_register(history, REGISTRY, as_of))["坟山未迁"]
    assert item["status"] == "待确认销号" and item["alert"].startswith("工作组已3天未再报告")


def test_live_items_come_first_then_new_then_those_awaiting_confirmation():
    frame = pd.DataFrame([
        {"item_id": "a", "status": "待确认销号", "source": "工作组报送", "alert": "", "days_open": 20, "first_seen": D1},
        {"item_id": "b", "status": "新增", "source": "工作组报送", "alert": "", "days_open": 0, "first_seen": D3},
        {"item_id": "c", "status": "持续", "source": "工作组报送", "alert": "", "days_open": 2, "first_seen": D2},
        {"item_id": "d", "status": "持续", "source": "工作组报送", "alert": "", "days_open": 9, "first_seen": D1},
        {"item_id": "e", "status": "新增", "source": "指挥部交办", "alert": "", "days_open": 0, "first_seen": D3},
        {"item_id": "f", "status": "持续", "source": "工作组报送", "alert": "逾期2天", "days_open": 1, "first_seen": D2},
    ])
    assert list(order_items(frame)["item_id"]) == ["f", "e", "d", "c", "b", "a"]


def test_the_demo_county_ends_with_one_or_two_items_per_project_that_reports_a_problem(demo_copy):
    register = execute(demo_copy, as_of=AS_OF, intake=False, write=False, command="notice").register
    open_ = register[register["status"] != "已销号"]
    per_project = open_.groupby("project").size()
    assert len(open_) <= 2 * len(per_project) and per_project.max() <= 3  # was 87 items for 18 projects
    assert 1.0 <= len(open_) / len(per_project) <= 2.0
    assert (open_["wordings"].str.count("；") >= 3).sum() >= len(per_project) // 2  # the wordings threaded


def test_a_merge_typed_in_the_master_is_honoured_and_kept_by_later_runs(demo_copy):
    master = demo_copy
    execute(master, as_of=AS_OF, intake=False, command="notice")
    sheet = table_frame(master, "tblRegister")
    doubles = sheet[sheet["编号"].str.rsplit("-", n=1).str[0].duplicated(keep=False)]
    first, second = doubles.iloc[0], doubles[doubles["项目名称"] == doubles.iloc[0]["项目名称"]].iloc[1]
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["督办台账"]
    top = int(ws.tables["tblRegister"].ref.split(":")[0][1:]) + 1
    column = list(sheet.columns).index("并入编号") + 1
    ws.cell(top + int(second.name), column).value = first["编号"]
    wb.save(master)
    for _ in range(2):  # the merge is done once and stays
        register = execute(master, as_of=AS_OF, intake=False, command="notice").register
        assert second["编号"] not in set(register["item_id"])
        merged = register[register["item_id"] == first["编号"]].iloc[0]
        assert second["问题"] in merged["wordings"] or second["问题"] == merged["problem"]
