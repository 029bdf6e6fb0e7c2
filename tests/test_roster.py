"""今日报送情况: per work group 已报 / 已更正 / 退回未改 / 未报 against the cut-off, and the day's increment."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from xladdin.base.errors import SettingsError
from xladdin.base.schema import FIGURE_KEYS, REGISTRY_FIELDS
from xladdin.domain.roster import daily_roster, parse_cutoff, roster_sentence
from xladdin.domain.settings import parse_settings
from xladdin.engine.pipeline import execute
from xladdin.store.history import Store
from xladdin.workbook.build import build_master

from .conftest import table_frame

DAY = dt.date(2026, 11, 24)
CUTOFF = dt.time(21, 0)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def submissions(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["group_name", "report_date", "received_at", "status", "file_name"])


def test_each_group_gets_its_status_for_the_date():
    sent = submissions(
        ("甲组", DAY, at(19), "已接收", "a.xlsx"),
        ("乙组", DAY, at(18), "已退回", "b.xlsx"), ("乙组", DAY, at(20, 30), "已接收", "b2.xlsx"),
        ("丙组", DAY, at(19), "已退回", "c.xlsx"), ("丙组", DAY, at(20), "已退回", "c2.xlsx"),
        ("丁组", DAY - dt.timedelta(days=1), at(20, day=DAY - dt.timedelta(days=1)), "已接收", "d.xlsx"),
        ("戊组", DAY, at(21, 40), "已接收", "e.xlsx"),
    )
    roster = daily_roster(["甲组", "乙组", "丙组", "丁组", "戊组"], sent, DAY, CUTOFF).set_index("group")
    assert dict(roster["status"]) == {"甲组": "已报", "乙组": "已更正", "丙组": "退回未改", "丁组": "未报",
                                      "戊组": "已报"}  # 丁组 reported yesterday only
    assert dict(roster["timeliness"]) == {"甲组": "按时", "乙组": "按时", "丙组": "按时", "丁组": "", "戊组": "逾时"}
    assert roster.at["乙组", "received_at"] == at(20, 30) and roster.at["丙组", "files"] == 2
    sentence = roster_sentence(roster.reset_index(), CUTOFF, "工作组")
    assert sentence == ("应报 5 个工作组：已报 2 个，已更正 1 个；未报 1 个（丁组）；退回未改 1 个（丙组）；"
                        "21:00 后报送 1 个（戊组）。")


def test_the_sentence_leaves_out_what_nobody_is_in():
    sent = submissions(("甲组", DAY, at(19), "已接收", "a.xlsx"), ("乙组", DAY, at(20), "已接收", "b.xlsx"))
    assert roster_sentence(daily_roster(["甲组", "乙组"], sent, DAY, CUTOFF), CUTOFF, "工作组") == "应报 2 个工作组：已报 2 个。"


def test_a_correction_after_an_accepted_file_keeps_the_group_reported():
    sent = submissions(("甲组", DAY, at(19), "已替代", "a.xlsx"), ("甲组", DAY, at(20), "已接收", "a2.xlsx"))
    assert daily_roster(["甲组"], sent, DAY, CUTOFF).at[0, "status"] == "已报"


@pytest.mark.parametrize("value, expected", [
    ("21:00", dt.time(21)), ("20：30", dt.time(20, 30)), ("2130", dt.time(21, 30)), (0.875, dt.time(21)),
    (dt.time(22, 15), dt.time(22, 15)), ("21", dt.time(21)), ("晚上", None), ("25:00", None),
])
def test_the_cut_off_is_read_as_staff_type_it(value, expected):
    assert parse_cutoff(value) == expected


def test_an_unreadable_cut_off_is_a_settings_error():
    assert parse_settings({"报送截止时间": "20:30"}).report_cutoff == dt.time(20, 30)
    assert parse_settings({}).report_cutoff == CUTOFF
    with pytest.raises(SettingsError, match="报送截止时间"):
        parse_settings({"报送截止时间": "晚上九点半"})


def campaign(tmp_path, reports, registry):
    """A master and a store holding `reports`: (group, date, received_at, status, {project: acquired})."""
    master = build_master(tmp_path / "母表.xlsm", [[r.get(f.key) for f in REGISTRY_FIELDS] for r in registry])
    store = Store(tmp_path / "历史库.sqlite")
    for i, (group, date, received, status, figures) in enumerate(reports):
        sha = f"{group}-{date}-{i}"
        store.db.execute("INSERT INTO submissions (sha256, file_name, received_at, group_name, report_date, reporter,"
                         " status, errors, warnings, row_count, issues) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (sha, f"{sha}.xlsx", received.isoformat(), group, date.isoformat(), "", status,
                          0 if status == "已接收" else 1, 0, len(figures), "[]"))
        for j, (pid, acquired) in enumerate(figures.items()):
            values = {k: 0.0 for k in FIGURE_KEYS}
            values["acquired_mu"] = acquired
            store.db.execute(f"INSERT INTO ledger_rows VALUES ({','.join('?' * (len(FIGURE_KEYS) + 13))})",
                             (sha, group, date.isoformat(), pid, "", *values.values(), "否", None, "", "", j, 0,
                              None, None))
    store.commit()
    store.close()
    return master


def project(pid: str, group: str, plan: float = 100.0) -> dict:
    return {"project_id": pid, "project_name": f"项目{pid}", "project_type": "基础设施", "level": "市级",
            "group": group, "leader": "", "township": "", "plan_mu": plan, "plan_houses": 0, "plan_crops": 0,
            "plan_fixtures": 0, "plan_graves": 0, "deadline": DAY + dt.timedelta(days=60)}


def test_a_day_with_a_silent_group_names_it_and_adds_nothing_for_it(tmp_path):
    before, yesterday = DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1)
    registry = [project("A1", "一组"), project("A2", "一组"), project("B1", "二组"), project("C1", "三组")]
    reports = [
        ("一组", before, at(20, day=before), "已接收", {"A1": 10, "A2": 5}),
        ("二组", before, at(20, day=before), "已接收", {"B1": 20}),
        ("三组", before, at(20, day=before), "已接收", {"C1": 1}),
        ("二组", yesterday, at(20, day=yesterday), "已接收", {"B1": 24.9}),  # 二组's last step: +4.9
        ("一组", DAY, at(20), "已接收", {"A1": 12, "A2": 5.5}),  # today: +2.5
        ("三组", DAY, at(19), "已退回", {}),  # sent back, not corrected
        ("三组", DAY, at(20), "已退回", {}),
    ]
    result = execute(campaign(tmp_path, reports, registry), as_of=DAY, intake=False, command="notice")
    roster = result.roster.set_index("group")
    assert dict(roster["status"]) == {"一组": "已报", "二组": "未报", "三组": "退回未改"}
    summary = result.summary.set_index("project_id")
    assert summary.at["B1", "acquired_delta"] == 0  # silent today: yesterday's step is not today's gain
    assert summary.at["B1", "status"] == "今日未报" and summary.at["C1", "status"].endswith("今日未报")
    assert summary.at["A1", "status"] == "推进中"
    assert summary.at["A1", "acquired_delta"] == 2 and summary.at["A2", "acquired_delta"] == 0.5
    overall = dict(result.notice_doc.sections)["总体进展"]
    county_today, county_yesterday = 12 + 5.5 + 24.9 + 1, 10 + 5 + 24.9 + 1
    assert f"累计完成征地{county_today:,.2f}亩" in overall
    assert f"当日新增征地{county_today - county_yesterday:,.2f}亩（与11月23日相比）" in overall  # 2.50, not 7.40
    day_section = dict(result.notice_doc.sections)["11月24日报送情况"]
    assert "未报1个（二组）" in day_section and "退回未改1个（三组）" in day_section
    assert "当日未报数据的项目2个" in day_section  # B1 (silent) and C1 (sent back)
    assert [r["status"] for r in result.to_dict()["roster"]] == ["已报", "未报", "退回未改"]
    assert result.to_dict()["ranking"][0]["acquisition_rate_list"] in ("红榜", "黑榜", "")
    console = dict(table_frame(result.master, "tblRunStatus").itertuples(index=False, name=None))
    assert console["二组"].startswith("未报：请督促") and console["三组"].startswith("退回未改（11-24 20:00 收到")
    assert console["今日报送（2026-11-24，截止 21:00）"].startswith("应报 3 个工作组：已报 1 个")


def test_a_file_counts_as_received_when_it_was_written_into_the_inbox(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    for sha, group, read_at in (("a", "甲组", at(22)), ("b", "乙组", at(22)), ("c", "丙组", at(20))):
        store.db.execute("INSERT INTO submissions (sha256, file_name, received_at, group_name, report_date, reporter,"
                         " status, errors, warnings, row_count, issues) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (sha, f"{sha}.xlsx", read_at.isoformat(), group, DAY.isoformat(), "", "已接收", 0, 0, 1, "[]"))
    beijing = dt.timezone(dt.timedelta(hours=8))  # the file system keeps UTC; HQ reads Beijing time
    store.note_arrival("a", int(at(20, 30).replace(tzinfo=beijing).timestamp() * 1e9))  # dropped at 20:30
    store.note_arrival("c", int(at(21, 15).replace(tzinfo=beijing).timestamp() * 1e9))  # after the cut-off
    roster = daily_roster(["甲组", "乙组", "丙组"], store.submissions_for(DAY, beijing), DAY, CUTOFF).set_index("group")
    store.close()
    assert dict(roster["timeliness"]) == {"甲组": "按时", "乙组": "逾时", "丙组": "逾时"}  # 乙组: only the run time
    assert roster.at["甲组", "received_at"] == at(20, 30)


def test_the_weeks_tally_counts_on_time_late_missing_and_returned_days_per_group():
    from xladdin.domain.roster import tally_rows, tally_sentence, weekly_tally

    start = dt.date(2026, 11, 18)
    dates = [start + dt.timedelta(days=i) for i in range(7)]

    def sent(group, day, hour, status, minute=0):
        date = dates[day]
        return {"group_name": group, "report_date": date, "status": status, "file_name": f"{group}{day}.xlsx",
                "received_at": dt.datetime.combine(date, dt.time(hour, minute))}

    rows = [sent("一组", d, 20, "已接收") for d in range(7)]
    rows += [sent("二组", d, 20, "已接收") for d in range(7) if d not in (2, 4)]  # day 2 missing
    rows += [sent("二组", 4, 19, "已退回")]  # day 4 returned, never corrected
    rows += [sent("三组", d, 20, "已接收") for d in range(6)] + [sent("三组", 6, 21, "已接收", 30)]  # late once
    rows += [sent("三组", 6, 18, "已退回")]  # returned, then corrected late: late, not returned
    rows += [sent("四组", d, 20, "已接收") for d in range(6)] + [sent("四组", 6, 19, "已退回")]  # returned today
    tally = weekly_tally(["一组", "二组", "三组", "四组"], pd.DataFrame(rows), dates, dt.time(21))
    got = {r.group: (r.on_time, r.late, r.missing, r.returned) for r in tally.itertuples()}
    # 二组's day 4, sent back and never replaced, is 未报 once it has passed (issue 23 #9); 四组's is still today's
    assert got == {"一组": (7, 0, 0, 0), "二组": (5, 0, 2, 0), "三组": (6, 1, 0, 0), "四组": (6, 0, 0, 1)}
    sentence = tally_sentence(tally, dt.time(21), None, "工作组")
    assert sentence.startswith("本期应报4个工作组各7天，每天按时报送的1个")
    assert "有未报的1个（二组2天）" in sentence and "有退回未改的1个（四组1天）" in sentence
    assert "有21:00后报送的1个（三组1天）" in sentence
    assert tally_rows(tally, dates[0], dates[-1])[1] == ["本期报送（11-18至11-24）：二组", "按时 5 天，逾时 0 天，未报 2 天，退回未改 0 天"]


@pytest.mark.parametrize("days_ago", [1, 3])  # yesterday's ledger, or one of three days ago
def test_a_ledger_sent_back_and_never_replaced_stays_on_the_console_and_its_day_counts_as_missing(tmp_path,
                                                                                                  days_ago):
    back = DAY - dt.timedelta(days=days_ago)
    registry = [project("A1", "一组"), project("B1", "二组")]
    reports = [("一组", DAY - dt.timedelta(days=d), at(20, day=DAY - dt.timedelta(days=d)), "已接收", {"A1": 10 + d})
               for d in range(days_ago, -1, -1)]
    reports += [("二组", DAY - dt.timedelta(days=d), at(20, day=DAY - dt.timedelta(days=d)), "已接收", {"B1": 5})
                for d in range(days_ago, -1, -1) if d != days_ago]
    reports += [("二组", back, at(19, day=back), "已退回", {})]
    result = execute(campaign(tmp_path, reports, registry), as_of=DAY, intake=False, command="notice")
    assert dict(result.roster.set_index("group")["status"]) == {"一组": "已报", "二组": "已报"}  # today's roster
    console = dict(table_frame(result.master, "tblRunStatus").itertuples(index=False, name=None))
    row = console[f"退回未更正（{back:%m-%d}）：二组"]
    assert "一直未重新报送" in row and "计为未报" in row
    if back > result.period_start:  # inside 本期: the day is 未报, not 退回未改
        tally = result.tally.set_index("group")
        assert tally.at["二组", "missing"] == tally.at["一组", "missing"] + 1 and tally.at["二组", "returned"] == 0
