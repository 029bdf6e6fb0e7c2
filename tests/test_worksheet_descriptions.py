"""Each worksheet function's description (Excel's Insert Function dialog) says only what the function
runs: every clause of worksheet.DESCRIPTIONS has an executable check here, the checks cover every clause,
and the VBA project carries the same text."""

from __future__ import annotations

import datetime as dt

import pytest

from xladdin.base import clock
from xladdin.domain import worksheet as w
from xladdin.domain.level import RULE_BY_RANK, RULE_THIRD

from .listrules import BY_RANK, THIRD, expected_flags

COLUMN = [[v] for v in (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)]  # n = 8, distinct


def flags(values, rule="", red_k=3, black_k=3):
    column = [[v] for v in values]
    return [w.list_flag(v, column, red_k, black_k, rule) for v in values]


def _lists_by_rank():
    assert flags([0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], RULE_BY_RANK) == ["红榜"] * 3 + ["", ""] + ["黑榜"] * 3
    tied = [0.8, 0.7, 0.6, 0.6, 0.4, 0.3, 0.2, 0.1]  # tied for 第三名: both ≤ K
    assert flags(tied, RULE_BY_RANK)[2:4] == ["红榜", "红榜"]
    for n in range(2, 13):
        values = [0.1 * (n - i) for i in range(n)]
        assert flags(values, RULE_BY_RANK) == expected_flags(values, rule=BY_RANK)


def _lists_third():
    values = [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]  # n = 8: two places
    assert flags(values) == flags(values, RULE_THIRD) == ["红榜"] * 2 + [""] * 4 + ["黑榜"] * 2
    straddling = [0.9, 0.8, 0.7, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]  # n = 9, three places, a tie across the third
    assert flags(straddling)[:4] == ["红榜", "红榜", "", ""]
    assert flags([0.3, 0.2]) == ["红榜", "黑榜"]  # at least one place


def _black_first():
    for rule in (RULE_BY_RANK, RULE_THIRD):
        for n in range(2, 13):
            values = [0.1 * (n - i) for i in range(n)]
            got = flags(values, rule)
            assert got == expected_flags(values, rule=BY_RANK if rule == RULE_BY_RANK else THIRD)
    assert flags([0.9, 0.8, 0.7, 0.6], RULE_BY_RANK) == ["红榜", "黑榜", "黑榜", "黑榜"]  # the overlap goes black


def _zero():
    for rule in (RULE_BY_RANK, RULE_THIRD):
        assert flags([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0, 0.3], rule)[5:9] == ["黑榜"] * 4
        assert "红榜" not in flags([0.0, 0.0, 0.0], rule)


def _fewer_than_two():
    assert w.list_flag(0.5, [[0.5]]) == "" and w.list_flag(0.0, [[0.0]], 3, 3, RULE_BY_RANK) == ""


def _lookup():
    table = [["排名单位", "征地完成率", "征地完成率排名", "征地完成率榜", "征地完成率上期排名", "征地完成率名次变化",
              "征地完成率平均", "征地完成率低于平均", "征地完成率连续上榜期数"], ["甲", 0.3, 2, "黑榜", 1, "↓1", 0.5, "是", 2]]
    answers = [w.rank_lookup("甲", "征地完成率", table, what) for what in
               ("值", "排名", "榜", "上期排名", "名次变化", "平均", "低于平均", "连续上榜期数")]
    assert answers == [0.3, 2, "黑榜", 1, "↓1", 0.5, "是", 2]
    return table


CHECKS = {
    "完成率：累计数 ÷ 计划数；": lambda: w.completion_rate(30, 120) == 0.25,
    "计划数为 0 或空时返回空；": lambda: w.completion_rate(3, 0) == "" and w.completion_rate(3, None) == "",
    "填的不是数字时提示“请填数字”。": lambda: w.completion_rate("多", 10) == w.BAD_NUMBER,
    "名次：数值在区域中的名次（1 为最高），": lambda: w.rank_of(0.9, [[0.5], [0.9]]) == 1,
    "并列同名次：默认跳位（1,1,3，同 RANK.EQ），": lambda: [w.rank_of(v, [[9], [9], [7]]) for v in (9, 7)] == [1, 3],
    "第三个参数为 TRUE 时中国式（1,1,2）；": lambda: w.rank_of(7, [[9], [9], [7]], True) == 2,
    "空白和文字不参与。": lambda: w.rank_of(7, [[None], ["文字"], [7]]) == 1,
    "整列名次：返回与区域同样大小的一列名次，并列同名次；": lambda: w.ranks([[5], [5], [3]]) == [[1], [1], [3]],
    "没有数值的格子为空。": lambda: w.ranks([[5], [None]]) == [[1], [""]],
    "Excel 2019 及更早版本和 WPS：先选中同样大小的一列，输入公式后按 Ctrl+Shift+Enter。":
        lambda: len(w.ranks([[1], [2], [3]])) == 3,  # an array the size of its range
    "红黑榜标志：返回“红榜”“黑榜”或空；": lambda: set(flags([0.8, 0.7, 0.6, 0.5, 0.4, 0.3])) == {"红榜", "黑榜", ""},
    "先定黑榜，不会两榜都上；": lambda: _black_first() is None,
    f"上榜规则“{RULE_BY_RANK}”：名次（RANK.EQ，并列取较好名次）≤K 为红榜，＞参评数－K 为黑榜；": lambda: _lists_by_rank() is None,
    f"“{RULE_THIRD}”（默认）：每榜最多取 K 与参评数÷3（取整）中较小的，至少 1 名，边界上并列的整组不列入；":
        lambda: _lists_third() is None,
    "为 0 而有单位大于 0 的总在黑榜，为 0 的不上红榜；": lambda: _zero() is None,
    "参评数少于 2 时不上榜。": lambda: _fewer_than_two() is None,
    "查红黑榜：某单位某指标的值、名次、榜、上期名次、名次变化、平均、低于平均或连续上榜期数；": lambda: _lookup() is not None,
    "表中没有该单位时说明没有。": lambda: w.rank_lookup("乙", "征地完成率", _lookup(), "排名") == "红黑榜中没有“乙”",
    "进度占比率：本期累计数比期初增加的行数 ÷ 有数的行数（两个区域同一行都为空的不计）；":
        lambda: w.progress_ratio([[5], [3], [None]], [[4], [3], [None]]) == 0.5,
    "只比较所给的累计数：实现净地、节点完成等进展请看“红黑榜”的进度占比率；":
        lambda: w.progress_ratio([["是"], [3]], [["否"], [3]]) == 0.0,  # a 净地 mark is not a figure
    "两个区域行数不同时提示。": lambda: w.progress_ratio([[1], [2]], [[1]]) == "两个区域的行数应相同",
    "剩余天数：距期限还有几天，逾期为负数；":
        lambda: w.days_left(dt.date(2026, 12, 1), dt.date(2026, 11, 24)) == 7
        and w.days_left(dt.date(2026, 11, 20), dt.date(2026, 11, 24)) == -4,
    "没有期限时为空；": lambda: w.days_left(None) == "",
    "不给起算日期时从今天算起。": lambda: w.days_left(clock.now().date() + dt.timedelta(days=3)) == 3,
}


def test_every_clause_of_every_description_has_a_check():
    clauses = [clause for parts in w.DESCRIPTIONS.values() for clause in parts]
    assert sorted(clauses) == sorted(CHECKS)


@pytest.mark.parametrize("clause", list(CHECKS))
def test_each_clause_holds(clause):
    assert CHECKS[clause]()


def test_the_vba_project_and_xlwings_carry_the_descriptions():
    from xladdin import excel
    from xladdin.workbook.vba.modules import _generated

    _, docs = _generated("xladdin.excel")
    docs = dict(docs)
    for name in w.DESCRIPTIONS:
        assert len(w.description(name)) <= 255, name  # Excel cuts descriptions there
        w.description(name).encode("cp936")  # the VBA project's code page: a character outside it drops them all
        assert docs[name] == w.description(name) == getattr(excel, name).__doc__
    assert "已上红榜的不上黑榜" not in docs["LIST_FLAG"] and "前 K 名" not in docs["LIST_FLAG"]
