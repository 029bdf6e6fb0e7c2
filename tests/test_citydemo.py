"""The city's campaign (ten counties ranked on county totals) reproduces the seed's four verdicts."""

from __future__ import annotations

import pytest

from xladdin.citydemo import COUNTIES, OUR_COUNTY, build_city_demo
from xladdin.domain.rank import verdicts
from xladdin.engine.pipeline import execute
from xladdin.notices.typography import tidy

from .conftest import AS_OF, recalculate, table_frame
from .listrules import BY_RANK, expected_flags
from .test_ranking_formulas import assert_lists_follow_the_rule, assert_sheet_equals_pandas

# One worker runs this module (pytest-xdist --dist loadgroup): its module fixture (city) is built once.
pytestmark = pytest.mark.xdist_group("citydemo")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    directory = tmp_path_factory.mktemp("city")
    master = build_city_demo(directory, AS_OF)
    return directory, execute(master, as_of=AS_OF)


def test_every_county_total_is_accepted_and_all_ten_are_ranked(city):
    _, result = city
    assert {f.status for f in result.files} == {"已接收"} and len(result.files) == 2 * len(COUNTIES)
    assert list(result.ranking["unit"]) == list(COUNTIES)
    assert all(result.ranking[key].notna().all() for key in ("acquisition_rate", "progress_ratio", "net_land_rate",
                                                              "industrial_rate"))


def test_the_seeds_four_verdicts_on_the_county(city):
    _, result = city
    ranking = result.ranking.set_index("unit")
    us = ranking.loc[OUR_COUNTY]
    for key in ("acquisition_rate", "progress_ratio", "net_land_rate"):  # 排名后三名，位列全市第八名，黑榜
        assert us[f"{key}_rank"] == 8 and us[f"{key}_flag"] == "黑榜"
        assert (ranking[key] < us[key]).sum() == 2  # two counties below: among the last three
    assert us["progress_ratio"] < ranking["progress_ratio"].mean()  # 低于全市平均水平
    assert us["progress_ratio_below"] == "是"
    assert us["industrial_rate"] == 0
    assert (ranking.drop(index=OUR_COUNTY)["industrial_rate"] > 0).all()  # 倒数第一, alone
    assert us["industrial_rate_flag"] == "黑榜"
    # a city master: 前后K名 by the printed rank, n = 10, K = 3: three black (the 8th, 9th and 10th places)
    assert result.settings.level == "市" and result.settings.by_rank
    for key in ("acquisition_rate", "progress_ratio", "net_land_rate", "industrial_rate"):
        flags = list(ranking[f"{key}_flag"])
        assert flags == expected_flags(list(ranking[key]), rule=BY_RANK), key
        assert flags.count("黑榜") == 3
    text = verdicts(result.ranking, OUR_COUNTY, result.settings)
    for key in ("acquisition_rate", "progress_ratio", "net_land_rate"):
        assert text[key].endswith("低于全市平均水平，排名后三名，位列全市第八名，被列为本期黑榜片区。"), text[key]
    assert text["acquisition_rate"] == "征地完成率为40%，低于全市平均水平，排名后三名，位列全市第八名，被列为本期黑榜片区。"
    assert text["progress_ratio"].startswith("进度占比率为50%，")  # 净地 in the period counts: 2 of 4
    assert text["industrial_rate"] == "工业用地征地完成率为0，低于全市平均水平，排名全市倒数第一，被列为本期黑榜片区。"


@pytest.mark.libreoffice
def test_the_city_masters_formulas_agree_with_pandas(city, tmp_path):
    directory, result = city
    converted = recalculate(directory / result.master.name, tmp_path)
    sheet = table_frame(converted, "tblRanking", data_only=True)
    assert_sheet_equals_pandas(sheet, result.ranking)
    assert_lists_follow_the_rule(sheet, 3, 3, BY_RANK)


def test_the_whole_line_is_on_the_citys_basis(city):
    _, result = city
    summary = result.summary
    rate = summary["acquired_mu"].sum() / summary["plan_mu"].sum()  # every project here is 市级
    assert f"征地完成率 {rate * 100:.2f}%" in result.whole
    assert tidy(result.whole) in dict(result.notice_doc.sections)["总体进展"]  # as notices write it


def test_the_county_line_leaves_county_level_projects_out_by_default(demo):
    from xladdin.domain.rank import whole_line
    from xladdin.domain.settings import Settings

    _, _, result = demo
    summary = result.summary
    city = summary[summary["level"] == "市级"]
    assert len(city) < len(summary)  # the demo has 县级 projects too
    line = whole_line(summary, Settings())
    assert line["acquisition_rate"] == pytest.approx(city["acquired_mu"].sum() / city["plan_mu"].sum(), abs=5e-5)
    everything = whole_line(summary, Settings(city_basis="全部项目"))
    assert everything["acquisition_rate"] == pytest.approx(summary["acquired_mu"].sum() / summary["plan_mu"].sum(),
                                                           abs=5e-5)
    assert f"征地完成率 {line['acquisition_rate'] * 100:.2f}%" in result.whole


def test_the_citys_published_result_gives_the_gap_to_leave_the_black_list(tmp_path, demo_at):
    import openpyxl

    from xladdin.workbook.layout import CITY_RESULT

    directory = tmp_path / "county"
    from xladdin.demo import MASTER_NAME

    demo_at(directory, AS_OF)
    master = directory / MASTER_NAME
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["控制台"]
    table = ws.tables[CITY_RESULT.name]
    first = ws[table.ref.split(":")[0]]
    row, col = first.row + 1, first.column
    records = [(AS_OF, "征地完成率", 8, 10, "黑榜", 0.9), (AS_OF, "工业用地征地完成率", 10, 10, "黑榜", "95%"),
               (AS_OF, "进度占比率", 3, 10, "红榜", None), (AS_OF.replace(day=1), "征地完成率", 9, 10, "黑榜", 0.1)]
    for r, values in enumerate(records):
        for c, value in enumerate(values):
            ws.cell(row + r, col + c).value = value
    table.ref = f"{table.ref.split(':')[0]}:{ws.cell(row + len(records) - 1, col + 5).coordinate}"
    wb.save(master)
    result = execute(master, as_of=AS_OF)
    city = result.summary[result.summary["level"] == "市级"]
    ours = round(city["acquired_mu"].sum() / city["plan_mu"].sum(), 4)  # the county on the city's basis
    gap = 0.9 - ours
    acquisition = next(s for s in result.city if s.startswith("征地完成率"))
    assert acquisition.startswith("征地完成率：全市第八名（共 10 个），黑榜")  # the latest record, not the 1st
    assert f"还差 {gap * 100:.2f} 个百分点（约 {gap * city['plan_mu'].sum():,.2f} 亩征地）" in acquisition
    industrial = city[city["project_type"] == "工业用地"]
    rate = round(industrial["acquired_mu"].sum() / industrial["plan_mu"].sum(), 4)
    assert f"还差 {(0.95 - rate) * 100:.2f} 个百分点" in next(s for s in result.city if s.startswith("工业"))
    assert "进度占比率：全市第三名（共 10 个），红榜。" in result.city
    console = dict(table_frame(master, "tblRunStatus").itertuples(index=False, name=None))
    assert console["市里通报"] in result.city
    assert tidy("".join(result.city)) == dict(result.notice_doc.sections)["全市红黑榜中的本县"]
