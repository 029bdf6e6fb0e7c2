"""The 红黑榜 formulas, recalculated by LibreOffice, equal the pandas ranking on generated campaigns."""

from __future__ import annotations

import datetime as dt
import random

import openpyxl
import pandas as pd
import pytest

from xladdin.base.schema import FIGURE_KEYS, METRICS, REGISTRY_FIELDS
from xladdin.engine.pipeline import execute
from xladdin.store.history import Store
from xladdin.workbook.build import build_master
from xladdin.workbook.formulas import lint_formula
from xladdin.workbook.layout import RANKING, RANKING_KEYS, SORTED_TABLES

from .conftest import AS_OF, convert, table_frame
from .listrules import BY_RANK, THIRD, expected_flags

START = AS_OF - dt.timedelta(days=7)


def make_campaign(directory, seed: int, settings: dict[str, object]):
    """A master with a random registry (ties, zero plans, groups without industrial projects) and two
    reports per group in the store: at the period start and on the as-of date."""
    rng = random.Random(seed)
    registry, rows = [], []
    groups = [f"第{g + 1}组" for g in range(rng.randint(4, 9))]
    shared = {"plan": 100.0, "done": 40.0}  # identical projects in several groups force ties
    for g, group in enumerate(groups):
        for p in range(rng.randint(1, 4)):
            pid = f"G{g}-P{p}"
            tied = g % 3 == 0
            plan = shared["plan"] if tied else rng.choice([0.0, 50.0, 80.0, 120.0, 200.0])
            net_at_start = g == 1 and p == 0  # delivered before the period: leaves the 进度占比率
            plan = 80.0 if net_at_start else plan
            kind = "工业用地" if (g % 2 == 0 and p == 0) else rng.choice(["基础设施", "民生工程"])
            registry.append({"project_id": pid, "project_name": pid, "project_type": kind, "level": "县级",
                             "group": group, "leader": "", "township": f"镇{g % 3}", "plan_mu": plan,
                             "plan_houses": 10, "plan_crops": 0, "plan_fixtures": 0, "plan_graves": 0,
                             "deadline": AS_OF + dt.timedelta(days=20)})
            before = shared["done"] * 0.5 if tied else round(plan * rng.random() * 0.5, 2)
            now = shared["done"] if tied else round(before + plan * rng.random() * 0.4, 2)
            net = "是" if plan and rng.random() < 0.2 else "否"
            if net_at_start:
                net, before = "是", plan
            if net == "是":
                now = plan
            for date, acquired in ((START, before), (AS_OF, now)):
                if date == AS_OF and g == len(groups) - 1 and p == 0:
                    acquired = before  # no progress in the period
                rows.append((group, date, pid, acquired, net if date == AS_OF or net_at_start else "否"))
    master = build_master(directory / f"{directory.name}.xlsm", [[r.get(f.key) for f in REGISTRY_FIELDS] for r in registry])
    wb = openpyxl.load_workbook(master, keep_vba=True)
    for row in wb["设置"].iter_rows(min_row=4):
        if row[0].value in settings:
            row[1].value = settings[row[0].value]
    wb.save(master)
    store = Store(directory / "历史库.sqlite")
    for i, (group, date, pid, acquired, net) in enumerate(rows):
        sha = f"{group}-{date}"
        store.db.execute("INSERT OR IGNORE INTO submissions (sha256, file_name, received_at, group_name, "
                         "report_date, reporter, status, errors, warnings, row_count, issues) VALUES "
                         "(?,?,?,?,?,?,?,?,?,?,?)", (sha, sha, "x", group, date.isoformat(), "", "已接收", 0, 0, 1,
                                                     "[]"))
        figures = {k: 0.0 for k in FIGURE_KEYS}
        figures["acquired_mu"] = acquired
        store.db.execute(f"INSERT INTO ledger_rows VALUES ({','.join('?' * (len(FIGURE_KEYS) + 13))})",
                         (sha, group, date.isoformat(), pid, "", *figures.values(), net,
                          date.isoformat() if net == "是" else None, "", "", i, 0, None, None))
    store.commit()
    store.close()
    return master


def recalculate_all(paths, out_dir):
    return convert(paths, "xlsx", out_dir)


def expected_frame(ranking: pd.DataFrame) -> pd.DataFrame:
    frame = ranking[list(RANKING_KEYS)].copy()
    frame.columns = RANKING.labels
    return frame.set_index("排名单位")


def assert_sheet_equals_pandas(sheet: pd.DataFrame, ranking: pd.DataFrame) -> None:
    expected = expected_frame(ranking)
    sheet = sheet.set_index("排名单位")
    assert list(sheet.index) == list(expected.index)
    for column in expected.columns:
        for unit in expected.index:
            want, got = expected.at[unit, column], sheet.at[unit, column]
            if isinstance(got, str):
                assert not got.startswith("#"), (unit, column, got)  # no Excel error anywhere
            if want is None or (isinstance(want, float) and pd.isna(want)) or want == "":
                assert got is None or got == "" or (isinstance(got, float) and pd.isna(got)), (unit, column, got)
            elif isinstance(want, float):
                assert got == pytest.approx(want), (unit, column, got, want)
            else:
                assert got == want, (unit, column, got, want)


def independent_sort(ranking: pd.DataFrame, key: str) -> list[tuple]:
    """(rank, unit, value, list) of the units ranked on a metric, by rank, ties in the ranking's order:
    written apart from the add-in's code (a plain stable sort of the rows that have a rank)."""
    rows = [(row[f"{key}_rank"], i, row["unit"], row[key], row[f"{key}_flag"])
            for i, row in enumerate(ranking.to_dict("records")) if not pd.isna(row[f"{key}_rank"])]
    return [(rank, unit, value, flag) for rank, _, unit, value, flag in sorted(rows, key=lambda r: (r[0], r[1]))]


def assert_sorted_view_equals_pandas(path, ranking: pd.DataFrame) -> None:
    """Every metric's table on 红黑榜（排序） (computed or cached values) lists exactly the units ranked on
    it, by rank, with their value and list."""
    for key, spec in SORTED_TABLES.items():
        sheet = table_frame(path, spec.name, data_only=True)
        assert list(sheet.columns) == spec.labels
        blank = lambda v: v is None or v == "" or (isinstance(v, float) and pd.isna(v))  # noqa: E731
        got = [tuple("" if blank(v) else v for v in row) for row in sheet.itertuples(index=False)
               if not all(blank(v) for v in row)]
        want = independent_sort(ranking, key)
        assert [(r[0], r[1], r[3]) for r in got] == [(r[0], r[1], r[3]) for r in want], (key, got, want)
        assert [r[2] for r in got] == pytest.approx([r[2] for r in want]), key
        assert len(sheet) == max(1, len(want)), key  # no rows beyond the ranked units


def assert_lists_follow_the_rule(sheet: pd.DataFrame, red_k: int, black_k: int, rule: str = THIRD) -> None:
    """The recalculated flags and below-average marks against the rule (tests/listrules.py, written apart
    from the add-in's code), from the sheet's own values."""
    for _, label in METRICS:
        values = [v if isinstance(v, (int, float)) and not pd.isna(v) else None for v in sheet[label]]
        got = [f if isinstance(f, str) else "" for f in sheet[f"{label}榜"]]
        assert got == expected_flags(values, red_k, black_k, rule), label
        ranked = [v for v in values if v is not None]
        if ranked:
            mean = round(sum(ranked) / len(ranked), 6)
            below = ["是" if v is not None and v < mean else "" for v in values]
            assert [b if isinstance(b, str) else "" for b in sheet[f"{label}低于平均"]] == below, label


CASES = [
    {},
    {"并列名次": "中国式"},
    {"净地完成率口径": "个数", "红榜数量": 2, "黑榜数量": 2},
    {"征地完成率权重": 0.4, "进度占比率权重": 0.2, "净地完成率权重": 0.2, "工业用地征地完成率权重": 0.2},
    {"排名单位": "乡镇", "并列名次": "中国式", "征地完成率权重": 1},
    {"排名单位": "项目类型", "红榜数量": 1, "黑榜数量": 1},
    {"进度占比率口径": "全部项目", "红榜数量": 5, "黑榜数量": 5},
    {"上榜规则": BY_RANK},
    {"上榜规则": BY_RANK, "红榜数量": 2, "黑榜数量": 1, "并列名次": "中国式", "排名单位": "乡镇"},
    # the city's defaults (blank: by the level): 前后K名, 进度占比率 over every project
    {"指挥部级别": "市", "上榜规则": "", "进度占比率口径": ""},
]


# The cases in two halves (even and odd seeds), each recalculated in one LibreOffice start, so that two workers
# share the longest test of the suite; each half on its own exercises everything the end of the test checks.
@pytest.mark.libreoffice
@pytest.mark.parametrize("half", [0, 1])
def test_generated_campaigns_recalculate_to_the_pandas_ranking(tmp_path, half):
    cases = list(enumerate(CASES))[half::2]
    results, masters = [], []
    for seed, settings in cases:
        directory = tmp_path / f"case{seed}"
        directory.mkdir()
        master = make_campaign(directory, seed, settings)
        execute(master, as_of=START, intake=False, command="rank")  # the previous period's lists
        execute(master, as_of=AS_OF, intake=False, command="rank")  # publishes the as-of ranking
        results.append(execute(master, as_of=AS_OF, intake=False, command="rank"))
        masters.append(master)
    converted = recalculate_all(masters, tmp_path / "lo")
    for (_, case), result, path in zip(cases, results, converted):
        sheet = table_frame(path, "tblRanking", data_only=True)
        assert_sheet_equals_pandas(sheet, result.ranking)
        rule = case.get("上榜规则") or (BY_RANK if case.get("指挥部级别") == "市" else THIRD)
        assert_lists_follow_the_rule(sheet, case.get("红榜数量", 3), case.get("黑榜数量", 3), rule)
        assert_sorted_view_equals_pandas(path, result.ranking)
    # The cases did exercise what they were made for.
    flags = pd.concat([r.ranking for r in results])
    assert flags["industrial_rate"].isna().any()  # units without industrial projects
    assert any(r.ranking["acquisition_rate_rank"].dropna().duplicated().any() for r in results)  # ties
    assert flags["composite"].notna().any() and flags["progress_ratio_move"].isin(["—", "↑1", "↓1"]).any()
    assert any(r.ranking["acquisition_rate"].isna().any() or (r.summary["plan_mu"] == 0).any() for r in results)
    assert all((r.summary["progress"] == "期初已净地").any() for r in results)  # both 进度占比率 bases
    assert any((r.ranking["acquisition_rate_streak"] == 2).any() for r in results)  # on a list two periods running
    assert any((r.ranking["acquisition_rate_below"] == "是").any() for r in results)
    assert any(((r.ranking["acquisition_rate_flag"] == "") & r.ranking["acquisition_rate"].notna()).any()
               for r in results)  # ranked units on neither list


def test_every_formula_the_add_in_writes_is_portable(demo):
    directory, _, _ = demo
    wb = openpyxl.load_workbook(directory / "指挥部母表.xlsm")
    formulas = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    for ws in wb.worksheets:
        for rules in ws.conditional_formatting:
            formulas += [f for rule in rules.rules for f in rule.formula]
    assert len(formulas) > 50
    assert any("SMALL(" in f and "MATCH(" in f for f in formulas)  # the 红黑榜（排序） view is among them
    assert any("ROW()" in f for f in formulas)  # and its sort keys
    problems = {f: lint_formula(f) for f in formulas if lint_formula(f)}
    assert problems == {}


def test_the_lint_catches_what_excel_2010_lacks():
    assert lint_formula("=XLOOKUP(A1,B:B,C:C)") == ["XLOOKUP is not available in Excel 2010"]
    assert lint_formula("=RANK.EQ(A1,A:A)") == ["RANK.EQ needs the _xlfn. prefix"]
    assert lint_formula('=_xlfn.RANK.EQ(A1,A:A,0)&"TEXTJOIN("') == []
    assert lint_formula("=FOO(1)") == ["FOO is not on the list of portable functions"]
