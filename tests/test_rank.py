"""Ranks and red/black lists, in pandas, against the rules of DESIGN.md."""

from __future__ import annotations

import pandas as pd

from xladdin.rank import compute_ranking, list_text, rank_desc
from xladdin.settings import Settings


def summary(units: dict[str, list[tuple[float, float]]], kind: str = "基础设施") -> pd.DataFrame:
    rows = []
    for unit, projects in units.items():
        for plan, acquired in projects:
            rows.append({"group": unit, "plan_mu": plan, "acquired_mu": acquired, "project_type": kind,
                         "progress": "是" if acquired else "否", "net_land": "是" if acquired >= plan else "否"})
    return pd.DataFrame(rows)


def test_ties_share_the_best_rank_and_blanks_are_not_ranked():
    ranks = rank_desc(pd.Series([0.5, 0.9, 0.5, float("nan"), 0.1]))
    assert list(ranks.fillna(0)) == [2, 1, 2, 0, 4]


def test_acquisition_rate_is_area_weighted_over_the_units_projects():
    table = compute_ranking(summary({"甲": [(100, 50), (300, 300)], "乙": [(10, 1)]}), Settings())
    assert table.set_index("unit").at["甲", "acquisition_rate"] == 0.875


def test_a_unit_tied_with_the_kth_value_is_on_the_list():
    units = {name: [(100, value)] for name, value in zip("ABCDEFG", (90, 80, 70, 70, 50, 40, 30))}
    table = compute_ranking(summary(units), Settings(red_k=3, black_k=2)).set_index("unit")
    assert list(table.index[table["acquisition_rate_red"]]) == ["A", "B", "C", "D"]
    assert list(table.index[table["acquisition_rate_black"]]) == ["F", "G"]


def test_with_fewer_than_2k_units_no_unit_is_on_both_lists():
    units = {name: [(100, value)] for name, value in zip("ABCD", (90, 80, 70, 60))}
    table = compute_ranking(summary(units), Settings()).set_index("unit")
    both = table["acquisition_rate_red"] & table["acquisition_rate_black"]
    assert not both.any()
    assert list(table.index[table["acquisition_rate_black"]]) == ["D"]


def test_a_unit_without_industrial_projects_is_not_ranked_on_that_metric():
    table = compute_ranking(summary({"A": [(100, 20)], "B": [(100, 40)]}), Settings()).set_index("unit")
    assert table["industrial_rate"].isna().all() and table["industrial_rate_rank"].isna().all()
    assert not table["industrial_rate_red"].any() and not table["industrial_rate_black"].any()


def test_list_text_names_the_metrics_of_each_list():
    assert list_text(["征地完成率", "进度占比率"], ["净地完成率"]) == "红榜：征地完成率、进度占比率 黑榜：净地完成率"
    assert list_text([], []) == ""
