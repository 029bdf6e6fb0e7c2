"""Ranks and red/black lists, in pandas, against the rules of DESIGN.md."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from xladdin.domain.rank import add_streaks, compute_ranking, list_text, rank_values
from xladdin.domain.settings import Settings

from .listrules import BY_RANK, THIRD, expected_flags, places


def summary(units: dict[str, list[tuple[float, float]]], kind: str = "基础设施") -> pd.DataFrame:
    rows = []
    for unit, projects in units.items():
        for plan, acquired in projects:
            rows.append({"group": unit, "plan_mu": plan, "acquired_mu": acquired, "project_type": kind,
                         "progress": "是" if acquired else "否", "net_land": "是" if acquired >= plan else "否"})
    return pd.DataFrame(rows)


def test_ties_share_the_best_rank_and_blanks_are_not_ranked():
    ranks = rank_values(pd.Series([0.5, 0.9, 0.5, float("nan"), 0.1]))
    assert list(ranks.fillna(0)) == [2, 1, 2, 0, 4]


def test_acquisition_rate_is_area_weighted_over_the_units_projects():
    table = compute_ranking(summary({"甲": [(100, 50), (300, 300)], "乙": [(10, 1)]}), Settings())
    assert table.set_index("unit").at["甲", "acquisition_rate"] == 0.875


def flags_of(values, **config) -> dict[str, str]:
    units = {f"U{i:02d}": [(100, value)] for i, value in enumerate(values)}
    table = compute_ranking(summary(units), Settings(**config)).set_index("unit")
    return dict(table["acquisition_rate_flag"])


def test_each_list_holds_min_k_and_a_third_of_the_units():
    six = list(flags_of([90, 80, 70, 60, 50, 40]).values())
    assert six == ["红榜", "红榜", "", "", "黑榜", "黑榜"]  # n = 6, K = 3: two, two and two unlisted
    ten = list(flags_of([95, 90, 85, 80, 70, 60, 50, 40, 30, 20]).values())
    assert ten.count("红榜") == 3 and ten.count("黑榜") == 3 and ten.count("") == 4
    assert ten[:3] == ["红榜"] * 3 and ten[-3:] == ["黑榜"] * 3
    assert list(flags_of([95, 90, 85, 80, 70, 60, 50, 40, 30, 20], red_k=1, black_k=2).values()) == \
        ["红榜", *[""] * 7, "黑榜", "黑榜"]


def test_the_citys_rule_lists_the_first_and_last_k_by_the_printed_rank():
    # n = 8, K = 3, distinct rates: three black, three red (the third rule gives two black)
    eight = list(flags_of([80, 70, 60, 50, 40, 30, 20, 10], list_rule=BY_RANK).values())
    assert eight == ["红榜"] * 3 + ["", ""] + ["黑榜"] * 3
    assert list(flags_of([80, 70, 60, 50, 40, 30, 20, 10]).values()).count("黑榜") == 2
    # the seed: 第八名 of ten is 后三名 and black
    ten = flags_of([95, 90, 85, 80, 70, 60, 50, 40, 30, 20], list_rule=BY_RANK)
    assert ten["U07"] == "黑榜" and list(ten.values()).count("黑榜") == 3


def test_the_list_rule_follows_the_level_unless_set():
    assert Settings().list_rule == THIRD and Settings(level="市").list_rule == BY_RANK
    assert Settings(level="市", list_rule=THIRD).list_rule == THIRD


@pytest.mark.parametrize("rule", [BY_RANK, THIRD])
@pytest.mark.parametrize("n", range(2, 13))
def test_distinct_values_at_every_size(n, rule):
    values = [10.0 * (n - i) for i in range(n)]  # all above 0, distinct
    flags = list(flags_of(values, list_rule=rule).values())
    assert flags == expected_flags(values, rule=rule)
    black = min(places(n, 3, rule), n)  # 前后K名 with n <= K: every unit is in the last K, all black
    assert flags[n - black:] == ["黑榜"] * black  # the last places, by rank
    assert flags.count("黑榜") == black and "红榜" not in flags[n - black:]
    assert flags.count("红榜") == min(places(n, 3, rule), n - black)  # black first, never both
    if rule == BY_RANK and n >= 6:
        assert flags.count("红榜") == 3 and flags.count("黑榜") == 3


def boundary_ties(n: int, k: int = 3):
    """Values with two units tied across each list boundary (red: places k, k+1; black: n-k, n-k+1)."""
    for left in sorted({k - 1, n - k - 1} & set(range(n - 1))):
        values = [10.0 * (n - i) for i in range(n)]
        values[left + 1] = values[left]
        yield left, values


@pytest.mark.parametrize("rule", [BY_RANK, THIRD])
@pytest.mark.parametrize("n", range(2, 13))
def test_ties_at_each_boundary_follow_the_rule(n, rule):
    for left, values in boundary_ties(n):
        got = list(flags_of(values, list_rule=rule).values())
        assert got == expected_flags(values, rule=rule), (left, values)
        assert got[left] == got[left + 1]  # a tied pair is listed together or not at all
        if rule == BY_RANK and left == 2 and n > 6:  # tied for third place: both 第三名, both red
            assert got[2] == got[3] == "红榜"
        if rule == BY_RANK and left == n - 4 and n > 6:  # tied for 第 n-3 名: not in the last three
            assert got[left] == ""
        for tie_rule in ("跳位", "中国式"):  # the tie rule changes the numbers shown, never who is listed
            assert list(flags_of(values, list_rule=rule, tie_rule=tie_rule).values()) == got


@pytest.mark.parametrize("rule", [BY_RANK, THIRD])
@pytest.mark.parametrize("n", range(2, 13))
def test_zero_is_black_however_many_tie_with_it(n, rule):
    for zeros in range(1, n):
        values = [10.0 * (n - i) for i in range(n - zeros)] + [0.0] * zeros
        flags = list(flags_of(values, list_rule=rule).values())
        assert flags == expected_flags(values, rule=rule)
        assert flags[n - zeros:] == ["黑榜"] * zeros, (zeros, flags)  # 四个并列为 0 的县: 四个黑榜
    assert set(flags_of([0.0] * n, list_rule=rule).values()) <= {"", "黑榜"}  # 0 is never red


def test_a_unit_at_zero_is_never_red():
    assert flags_of([0, 0])["U00"] == "" and flags_of([0, 0])["U01"] == ""
    assert flags_of([0, 30]) == {"U00": "黑榜", "U01": "红榜"}
    # four counties tied at 0% on 工业用地 are four 黑榜 (the seed's "为0，排名全市倒数第一")
    assert flags_of([0, 0, 0, 30]) == {"U00": "黑榜", "U01": "黑榜", "U02": "黑榜", "U03": "红榜"}


def test_a_tie_straddling_the_boundary_stays_off_the_list_under_the_third_rule():
    values = [90, 80, 70, 70, 60, 50, 40, 30, 20]  # n = 9, K = 3: three places; C and D tie for the third
    for rule in ("跳位", "中国式"):
        flags = list(flags_of(values, tie_rule=rule).values())
        assert flags == ["红榜", "红榜", "", "", "", "", "黑榜", "黑榜", "黑榜"], rule
    # a tie that fits as a whole is listed as a whole
    assert list(flags_of([90, 90, 70, 60, 50, 40], red_k=3).values()) == ["红榜", "红榜", "", "", "黑榜", "黑榜"]
    # under the city's rule the tie shares 第三名 and is red as a whole
    assert list(flags_of(values, list_rule=BY_RANK).values())[:4] == ["红榜"] * 4


def test_under_the_citys_rule_the_units_tied_for_last_are_black_not_red():
    """4 counties, K = 2, three tied at the bottom: their shared RANK.EQ is 2 (within the 红榜's places) and
    not above n − K, yet each is 并列全市倒数第一: 黑榜, as the seed lists a county 倒数第一."""
    for values, flags in (([20, 10, 10, 10], ["红榜", "黑榜", "黑榜", "黑榜"]),
                          ([50, 40, 30, 30, 30], ["红榜", "红榜", "黑榜", "黑榜", "黑榜"]),
                          ([50, 40, 40, 40, 40, 10], ["红榜", "红榜", "红榜", "红榜", "红榜", "黑榜"])):
        assert list(flags_of(values, list_rule=BY_RANK, red_k=2, black_k=2).values()) == flags, values
        assert flags == expected_flags(values, 2, 2, BY_RANK)


def test_black_is_decided_before_red():
    units = {name: [(100, value)] for name, value in zip("ABCD", (90, 80, 70, 60))}
    for rule, black in ((THIRD, ["D"]), (BY_RANK, ["B", "C", "D"])):  # n = 4 < 2K: black wins the overlap
        table = compute_ranking(summary(units), Settings(list_rule=rule)).set_index("unit")
        both = table["acquisition_rate_red"] & table["acquisition_rate_black"]
        assert not both.any()
        assert list(table.index[table["acquisition_rate_black"]]) == black
        assert list(table.index[table["acquisition_rate_red"]]) == ["A"]


def test_a_unit_without_industrial_projects_is_not_ranked_on_that_metric():
    table = compute_ranking(summary({"A": [(100, 20)], "B": [(100, 40)]}), Settings()).set_index("unit")
    assert table["industrial_rate"].isna().all() and table["industrial_rate_rank"].isna().all()
    assert not table["industrial_rate_red"].any() and not table["industrial_rate_black"].any()


def test_list_text_names_the_metrics_of_each_list():
    assert list_text(["征地完成率", "进度占比率"], ["净地完成率"]) == "红榜：征地完成率、进度占比率 黑榜：净地完成率"
    assert list_text([], []) == ""


def test_when_every_unit_has_the_same_value_no_unit_is_listed():
    table = compute_ranking(summary({u: [(100, 50)] for u in "ABCDEFG"}), Settings()).set_index("unit")
    assert (table["acquisition_rate_rank"] == 1).all()
    assert not table["acquisition_rate_red"].any() and not table["acquisition_rate_black"].any()
    assert set(table["acquisition_rate_flag"]) == {""}


def test_a_zero_plan_leaves_the_unit_unranked_not_last():
    table = compute_ranking(summary({"A": [(0, 0)], "B": [(100, 10)], "C": [(100, 20)]}),
                            Settings(red_k=1, black_k=1)).set_index("unit")
    assert pd.isna(table.at["A", "acquisition_rate"]) and pd.isna(table.at["A", "acquisition_rate_rank"])
    assert table.at["B", "acquisition_rate_flag"] == "黑榜" and table.at["A", "acquisition_rate_flag"] == ""
    assert table.at["C", "acquisition_rate_flag"] == "红榜"  # two ranked units: one list place each


def test_a_unit_with_a_blank_name_is_not_ranked():
    frame = summary({"A": [(100, 10)], "": [(100, 90)]})
    assert list(compute_ranking(frame, Settings())["unit"]) == ["A"]


def test_chinese_dense_ranking_does_not_skip_places():
    units = {name: [(100, value)] for name, value in zip("ABCD", (90, 90, 70, 60))}
    competition = compute_ranking(summary(units), Settings()).set_index("unit")["acquisition_rate_rank"]
    dense = compute_ranking(summary(units), Settings(tie_rule="中国式")).set_index("unit")["acquisition_rate_rank"]
    assert list(competition) == [1, 1, 3, 4] and list(dense) == [1, 1, 2, 3]


def test_net_land_rate_by_area_or_by_count():
    frame = summary({"A": [(100, 100), (300, 0), (100, 0)]})  # one of three projects, 100 of 500 mu
    assert compute_ranking(frame, Settings()).at[0, "net_land_rate"] == 0.2
    assert compute_ranking(frame, Settings(net_land_basis="个数")).at[0, "net_land_rate"] == 0.3333


def test_movement_against_the_previous_period_and_new_units():
    now = compute_ranking(summary({"A": [(100, 90)], "B": [(100, 50)], "C": [(100, 70)]}), Settings())
    previous = pd.DataFrame({"unit": ["A", "B", "Gone"], "acquisition_rate_rank": [3, 1, 2]})
    table = compute_ranking(summary({"A": [(100, 90)], "B": [(100, 50)], "C": [(100, 70)]}), Settings(),
                            previous).set_index("unit")
    assert table.at["A", "acquisition_rate_move"] == "↑2"
    assert table.at["B", "acquisition_rate_move"] == "↓2"
    assert table.at["C", "acquisition_rate_move"] == "新"
    assert "Gone" not in table.index and len(now) == 3


def test_composite_score_renormalises_over_the_metrics_a_unit_has():
    weights = (0.5, 0.0, 0.0, 0.5)
    industrial = summary({"A": [(100, 40)]}, kind="工业用地")
    plain = summary({"B": [(100, 40)]})
    a = compute_ranking(industrial, Settings(weights=weights)).at[0, "composite"]
    b = compute_ranking(plain, Settings(weights=weights)).at[0, "composite"]
    assert a == 0.4 and b == 0.4  # B has no industrial rate: its acquisition rate carries all the weight
    assert pd.isna(compute_ranking(plain, Settings()).at[0, "composite"])


def test_average_is_over_ranked_units_and_flags_those_below_it():
    units = {"A": [(100, 90)], "B": [(100, 60)], "C": [(100, 30)], "D": [(0, 0)]}  # D has no plan: not ranked
    table = compute_ranking(summary(units), Settings()).set_index("unit")
    assert (table["acquisition_rate_average"] == 0.6).all()  # (0.9 + 0.6 + 0.3) / 3, D left out
    assert dict(table["acquisition_rate_below"]) == {"A": "", "B": "", "C": "是", "D": ""}  # equal is not below


def test_equal_rates_are_never_below_their_own_average():
    table = compute_ranking(summary({u: [(300, 100)] for u in "ABC"}), Settings())  # 0.3333 each
    assert set(table["acquisition_rate_below"]) == {""}


def test_consecutive_periods_on_a_list_count_back_period_by_period():
    as_of = dt.date(2026, 11, 24)
    units = {name: [(100, value)] for name, value in zip("ABCDEF", (90, 80, 70, 60, 50, 40))}
    now = compute_ranking(summary(units), Settings())  # red A, B; black E, F
    day = lambda n: as_of - dt.timedelta(days=n)  # noqa: E731
    published = pd.DataFrame([
        (day(3), "B", "黑榜"),  # inside the current period: not an earlier period, ignored
        # one period back (days 7-13): the latest list published in it counts, not the one of day 12
        (day(12), "A", "黑榜"), (day(12), "C", "红榜"),
        (day(7), "A", "红榜"), (day(7), "B", "红榜"), (day(7), "F", "黑榜"), (day(7), "E", "红榜"),
        # two periods back (days 14-20)
        (day(16), "B", "黑榜"), (day(14), "A", "红榜"), (day(14), "B", "红榜"), (day(14), "F", "黑榜"),
        # three periods back: A was red, F was not in that list, B was not on the red one
        (day(21), "A", "红榜"), (day(21), "B", ""),
        # four periods back: nothing at all, then a red list again that must not count
        (day(35), "A", "红榜"),
    ], columns=["as_of", "unit", "flag"]).assign(metric="acquisition_rate")
    streaks = add_streaks(now, published, as_of, 7).set_index("unit")["acquisition_rate_streak"]
    assert dict(streaks) == {"A": 4, "B": 3, "C": 0, "D": 0, "E": 1, "F": 3}


def test_the_list_flag_worksheet_function_follows_the_same_rule():
    from xladdin.domain.worksheet import list_flag

    column = [[0.3], [0.0]]  # the seed's case with two counties ranked on 工业用地
    assert list_flag(0.0, column) == "黑榜" and list_flag(0.3, column) == "红榜"
    six = [[v] for v in (0.9, 0.8, 0.7, 0.6, 0.5, 0.4)]
    assert [list_flag(v[0], six) for v in six] == ["红榜", "红榜", "", "", "黑榜", "黑榜"]
    assert list_flag(0.0, [[0.0], [0.0], [0.0], [0.3]]) == "黑榜"  # 0 where another is above: always black
    eight = [[v] for v in (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)]
    assert [list_flag(v[0], eight, 3, 3, BY_RANK) for v in eight] == ["红榜"] * 3 + ["", ""] + ["黑榜"] * 3


def test_places_are_written_as_notices_write_them():
    from xladdin.domain.rank import chinese_ordinal

    assert [chinese_ordinal(n) for n in (1, 8, 10, 11, 19, 20, 21, 35, 100, 101, 110)] == [
        "一", "八", "十", "十一", "十九", "二十", "二十一", "三十五", "一百", "一百零一", "一百一十"]


def test_rank_lookup_reads_the_average_the_below_mark_and_the_streak():
    from xladdin.domain.worksheet import rank_lookup

    table = [["排名单位", "征地完成率", "征地完成率平均", "征地完成率低于平均", "征地完成率连续上榜期数"],
             ["甲组", 0.3, 0.5, "是", 3]]
    assert rank_lookup("甲组", "征地完成率", table, "平均") == 0.5
    assert rank_lookup("甲组", "征地", table, "低于平均") == "是"
    assert rank_lookup("甲组", "征地完成率", table, "连续上榜期数") == 3
    assert rank_lookup("甲组", "征地完成率", table, "别的").startswith("第四个参数应为")
