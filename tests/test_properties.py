"""Property-based checks of the engine (hypothesis)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xladdin.base.schema import FIGURE_KEYS, LEDGER_FIELDS
from xladdin.domain.consolidate import summarize
from xladdin.domain.rank import compute_ranking
from xladdin.domain.settings import Settings
from xladdin.domain.validate import GroupState, check_ledger
from xladdin.workbook.reader import Grid, locate_ledger

from .conftest import examples
from .listrules import BY_RANK, THIRD, expected_flags

AS_OF = dt.date(2026, 11, 24)
GROUPS = ["甲组", "乙组", "丙组"]
PROJECTS = [f"P{i}" for i in range(6)]


def registry() -> pd.DataFrame:
    rows = [{"project_id": p, "project_name": p, "project_type": "工业用地" if i % 3 == 0 else "基础设施",
             "level": "县级", "group": GROUPS[i % 3], "leader": "", "township": f"镇{i % 2}",
             "plan_mu": float(50 + 10 * i), "plan_houses": 10.0, "plan_crops": 5.0, "plan_fixtures": 5.0,
             "plan_graves": 5.0, "deadline": AS_OF + dt.timedelta(days=10 * i - 20)} for i, p in enumerate(PROJECTS)]
    return pd.DataFrame(rows).set_index("project_id", drop=False).rename_axis(None)


cells = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "是", "否", "#REF!", "#N/A", "=1+1", "１２", "1,200", "12.5亩", "约3", "SJ-01", "P1", "P4",
                     "合计", "2026-11-20", "2026年11月20日", "甲组", "乙组", "填报单位", "填报日期", "\x00\x07",
                     "很长" * 50]),
    st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)), st.booleans(), st.text(max_size=12),
)
labels = [f.label for f in LEDGER_FIELDS]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, max_size=18), max_size=14), st.booleans(), st.integers(0, 5),
       st.permutations(labels))
def test_validation_never_raises_whatever_the_grid(rows, with_header, at, order):
    grid_rows = [list(r) for r in rows]
    if with_header:
        grid_rows.insert(min(at, len(grid_rows)), list(order))
        grid_rows.insert(0, ["填报单位", "甲组", "填报日期", "2026-11-20"])
    ledger = locate_ledger(Grid(sheet="进度台账", rows=grid_rows), "f.xlsx")
    states = {"甲组": GroupState(dt.date(2026, 11, 19), {"P0": {k: 1.0 for k in FIGURE_KEYS}})}
    checked = check_ledger(ledger, registry(), states, AS_OF)
    assert checked.accepted == (checked.errors == 0)
    assert all(i.message for i in checked.issues)


def accepted_rows():
    figure = st.floats(0, 500, allow_nan=False).map(lambda x: round(x, 2))
    row = st.fixed_dictionaries({
        "project_id": st.sampled_from(PROJECTS), "plot": st.sampled_from(["", "", "东", "西"]),
        "report_date": st.dates(AS_OF - dt.timedelta(days=20), AS_OF + dt.timedelta(days=2)),
        **{k: figure for k in FIGURE_KEYS}, "net_land": st.sampled_from(["是", "否"]),
        "problems": st.sampled_from(["", "缺资金"]), "next_steps": st.just(""),
    })
    return st.lists(row, max_size=40)


def frame(rows: list[dict]) -> pd.DataFrame:
    columns = ["project_id", "plot", "report_date", *FIGURE_KEYS, "net_land", "net_land_date", "problems",
               "next_steps"]
    data = pd.DataFrame([{**r, "net_land_date": None} for r in rows], columns=columns)
    return data.drop_duplicates(["project_id", "plot", "report_date"])  # the store keeps one row per key


@settings(max_examples=examples(200), deadline=None)
@given(accepted_rows())
def test_consolidated_totals_equal_the_sum_of_accepted_rows(rows):
    history = frame(rows)
    summary = summarize(registry(), history, AS_OF, Settings()).set_index("project_id")
    visible = history[history["report_date"] <= AS_OF]
    for project in PROJECTS:
        mine = visible[visible["project_id"] == project]
        if mine.empty:
            status = summary.at[project, "status"]
            assert summary.at[project, "acquired_mu"] == 0
            assert "未报送" in status.split("、")  # beside 逾期 or 临期 when they apply
            continue
        latest = mine[mine["report_date"] == mine["report_date"].max()]
        for key in FIGURE_KEYS:
            assert math.isclose(summary.at[project, key], latest[key].sum(), abs_tol=1e-9)
    by_group = summary.groupby("group")["acquired_mu"].sum()
    assert math.isclose(by_group.sum(), summary["acquired_mu"].sum(), abs_tol=1e-6)


@settings(max_examples=examples(150), deadline=None)
@given(accepted_rows())
def test_the_days_increment_is_the_county_total_minus_the_day_befores(rows):
    history = frame(rows)
    today = summarize(registry(), history, AS_OF, Settings())
    yesterday = summarize(registry(), history, AS_OF - dt.timedelta(days=1), Settings())
    gain = today["acquired_delta"].fillna(today["acquired_mu"]).sum()  # the 通报's 新增
    assert math.isclose(gain, today["acquired_mu"].sum() - yesterday["acquired_mu"].sum(), abs_tol=1e-6)
    silent = today["last_report"].map(lambda d: d is None or pd.isna(d) or d < AS_OF)
    assert (today.loc[silent, "acquired_delta"].fillna(0) == 0).all()  # nothing new sent today: adds 0


def unit_summary(values: list[float | None]) -> pd.DataFrame:
    rows = []
    for i, value in enumerate(values):
        plan = 0.0 if value is None else 100.0
        rows.append({"group": f"单位{i}", "plan_mu": plan, "acquired_mu": 0.0 if value is None else value,
                     "project_type": "基础设施", "progress": "否", "net_land": "否"})
    return pd.DataFrame(rows)


# Round values (many ties, many zeros) and finer ones; up to 20 units, so that both K and n/3 bound the lists.
rates = st.lists(st.one_of(st.none(), st.integers(0, 10).map(lambda x: x * 10.0),
                           st.integers(0, 1000).map(lambda x: x / 10)), min_size=1, max_size=20)


@settings(max_examples=examples(300), deadline=None)
@given(rates, st.randoms(use_true_random=False), st.integers(1, 4), st.integers(1, 4), st.booleans(),
       st.sampled_from([BY_RANK, THIRD]))
def test_ranks_and_lists_match_the_definition_and_ignore_order(values, random, red_k, black_k, dense, rule):
    config = Settings(red_k=red_k, black_k=black_k, tie_rule="中国式" if dense else "跳位", list_rule=rule)
    table = compute_ranking(unit_summary(values), config).set_index("unit")
    shuffled = unit_summary(values).sample(frac=1, random_state=random.randint(0, 10**6))
    again = compute_ranking(shuffled, config).set_index("unit").loc[table.index]
    pd.testing.assert_frame_equal(table.drop(columns=["list_text"]), again.drop(columns=["list_text"]))
    ranked = [v / 100 for v in values if v is not None]
    n = len(ranked)
    for i, value in enumerate(values):
        row = table.loc[f"单位{i}"]
        if value is None:
            assert math.isnan(row["acquisition_rate_rank"]) and row["acquisition_rate_flag"] == ""
            continue
        v = value / 100
        higher = [x for x in ranked if x > v]
        assert row["acquisition_rate_rank"] == 1 + (len(set(higher)) if dense else len(higher))
    flags = list(table["acquisition_rate_flag"])
    # the lists equal the independent definition (tests/listrules.py), whatever the tie rule
    assert flags == expected_flags([None if v is None else v / 100 for v in values], red_k, black_k, rule)
    assert not any(f == "红榜" and v == 0 for f, v in zip(flags, values))  # 0% is never red
    assert not (table["acquisition_rate_red"] & table["acquisition_rate_black"]).any()  # never both
    lowest = min((v for v in values if v is not None), default=None)
    if n >= 2 and values.count(lowest) == 1 and max(ranked) > lowest / 100:
        assert flags[values.index(lowest)] == "黑榜"  # last alone is always black
    if n >= 2 and lowest == 0 and max(ranked) > 0:
        assert all(f == "黑榜" for f, v in zip(flags, values) if v == 0)  # every unit at 0 is black
    if rule == THIRD:
        size = {k: 0 if n < 2 else max(1, min(k, n // 3)) for k in (red_k, black_k)}
        assert flags.count("红榜") <= size[red_k]
        if not any(v == 0 for v in values):
            assert flags.count("黑榜") <= size[black_k]
            if n >= 3:
                assert flags.count("") > len(values) - n  # never everyone: some ranked unit is on neither list
    else:
        distinct = len(set(ranked)) == n
        if distinct and n >= red_k + black_k and not any(v == 0 for v in values):
            assert flags.count("红榜") == red_k and flags.count("黑榜") == black_k


@settings(max_examples=examples(200), deadline=None)
@given(rates, st.integers(1, 4), st.sampled_from([BY_RANK, THIRD]))
def test_verdicts_never_contradict_themselves(values, k, rule):
    from xladdin.domain.rank import verdicts

    config = Settings(level="市", red_k=k, black_k=k, list_rule=rule)
    table = compute_ranking(unit_summary(values), config)
    for unit, flag in zip(table["unit"], table["acquisition_rate_flag"]):
        text = verdicts(table, unit, config)["acquisition_rate"]
        assert "后二名" not in text and "后一名" not in text and "前一名" not in text
        assert not ("后" in text and "第一名" in text)  # 排名后三名，位列全市第一名: never
        assert not ("后" in text and "名，" in text and "未列入" in text)  # in the last places but unlisted: never
        assert not ("倒数第一" in text and "红榜" in text)
        assert ("被列为本期黑榜" in text) == (flag == "黑榜") and ("被列为本期红榜" in text) == (flag == "红榜")


def test_a_soak_run_ends_with_history_equal_to_the_accepted_files(tmp_path):
    from .campaigns import soak

    totals = soak(tmp_path, days=12, seed=3)
    assert totals["wrong"] > 0 and totals["rejected"] >= totals["wrong"]
    assert totals["mismatches"] == 0 and totals["stored_rows"] == totals["expected_rows"]
