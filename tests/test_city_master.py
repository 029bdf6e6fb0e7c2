"""A city HQ from scratch, as staff would start one: `xladdin init DIR --city --projects FILE` imports its
项目清单, `xladdin templates` writes one ledger per county, the counties fill them, `xladdin run` ranks
them — and the 红黑榜, 控制台 and notices read as the city's (全市, 县（市、区）, 黑榜片区, the seed's title)."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.citydemo import COUNTIES, OUR_COUNTY, _county_figures, city_registry
from xladdin.cli import main
from xladdin.domain.rank import verdicts
from xladdin.engine.operations import Engine
from xladdin.notices.typography import problems

from .conftest import AS_OF

# One worker runs this module (pytest-xdist --dist loadgroup): its module fixture (city) is built once.
pytestmark = pytest.mark.xdist_group("city_master")

START = AS_OF - dt.timedelta(days=7)
CHINA = dt.timezone(dt.timedelta(hours=8))
COUNTY_WORDS = ("全县", "工作组", "县直有关单位", "本县")


def project_file(path, csv: bool):
    header = ["项目编号", "项目名称", "项目类型", "项目级别", "县（市、区）", "计划征地面积（亩）", "计划拆除房屋(栋)",
              "计划补偿特殊青苗(户)", "计划补偿地上附着物(户)", "计划迁移坟山(穴)", "净地交付期限"]
    rows = [[r["project_id"], r["project_name"], r["project_type"], r["level"], r["group"], r["plan_mu"], 0, 0, 0, 0,
             ""] for r in city_registry()]
    if csv:
        path.write_text("\n".join(",".join(str(v) for v in row) for row in [header, *rows]), encoding="utf-8-sig")
        return path
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目清单"
    ws.append(["某市重点项目清单"])  # a title row above the header, as staff keep it
    for row in [header, *rows]:
        ws.append(row)
    wb.save(path)
    return path


def fill(template, out, date: dt.date, figures: list[tuple[float, float, bool]], which: int):
    """A county's template filled for a date: each project's acquired area (and clearing), 净地 once delivered."""
    wb = openpyxl.load_workbook(template)
    ws = wb["进度台账"]
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "序号")
    labels = {ws.cell(header_row, c).value: c for c in range(1, ws.max_column + 1)}
    for label_cell in ws[2]:
        if label_cell.value == "填报日期":
            ws.cell(2, label_cell.column + 1).value = date
        if label_cell.value == "填报人":
            ws.cell(2, label_cell.column + 1).value = "统计员"
    for i, (before, now, net) in enumerate(figures):
        r = header_row + 1 + i
        acquired = (before, now)[which]
        ws.cell(r, labels["累计征地面积(亩)"]).value = acquired
        ws.cell(r, labels["累计清表面积(亩)"]).value = acquired
        for label in ("累计签订房屋协议(栋)", "累计拆除房屋(栋)", "累计补偿特殊青苗(户)", "累计补偿地上附着物(户)",
                      "累计拆除地上附着物(户)", "累计迁移坟山(穴)"):
            ws.cell(r, labels[label]).value = 0
        delivered = net and which == 1
        ws.cell(r, labels["是否净地"]).value = "是" if delivered else "否"
        ws.cell(r, labels["净地交付日期"]).value = date if delivered else None
    wb.save(out)
    sent = dt.datetime.combine(date, dt.time(19, 0), tzinfo=CHINA).timestamp()
    os.utime(out, (sent, sent))


@pytest.fixture(scope="module", params=["csv", "xlsx"])
def city(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"city-{request.param}")
    source = project_file(directory / f"项目清单.{request.param}", request.param == "csv")
    runner = CliRunner()
    made = runner.invoke(main, ["init", str(directory / "市"), "--city", "--projects", str(source)])
    assert made.exit_code == 0, made.output
    master = directory / "市" / "指挥部母表.xlsm"
    assert runner.invoke(main, ["templates", str(master)]).exit_code == 0
    inbox = directory / "市" / "报送"
    for c, county in enumerate(COUNTIES):
        template = directory / "市" / "填报模板" / f"{county}_进度台账模板.xlsx"
        for date, which in ((START, 0), (AS_OF, 1)):
            fill(template, inbox / f"{county}_{date:%m%d}.xlsx", date, _county_figures(c), which)
    now = dt.datetime.combine(AS_OF, dt.time(21, 30), tzinfo=CHINA)
    engine = Engine.on_file(master, now=now)
    engine.run(as_of=AS_OF)
    return master, engine.notice(as_of=AS_OF, kind="weekly")


def test_the_imported_registry_and_the_level_make_a_city_master(city):
    master, result = city
    assert result.settings.level == "市" and result.settings.by_rank
    assert list(result.ranking["unit"]) == list(COUNTIES)
    assert {f.status for f in result.files} <= {"已接收"}


def test_the_seeds_four_verdicts_come_out_of_the_filled_templates(city):
    _, result = city
    text = verdicts(result.ranking, OUR_COUNTY, result.settings)
    assert text["acquisition_rate"] == "征地完成率为40%，低于全市平均水平，排名后三名，位列全市第八名，被列为本期黑榜片区。"
    assert text["progress_ratio"] == "进度占比率为50%，低于全市平均水平，排名后三名，位列全市第八名，被列为本期黑榜片区。"
    assert "排名后三名，位列全市第八名，被列为本期黑榜片区" in text["net_land_rate"]
    assert text["industrial_rate"].startswith("工业用地征地完成率为0，") and \
        text["industrial_rate"].endswith("排名全市倒数第一，被列为本期黑榜片区。")


def test_the_notice_and_the_sheets_speak_as_the_city(city):
    master, result = city
    lines = result.notice_doc.lines()
    assert lines[0] == "市重点项目和民生工程用地保障攻坚指挥部通报"
    title = result.notice_doc.title
    assert title in lines and title.startswith("市重点项目和民生工程用地保障攻坚工作进展情况“红黑榜”通报（")
    text = "\n".join(lines)
    assert "各县（市、区）" in text and "黑榜片区" in text and "全市纳入攻坚的项目共40个" in text
    assert "（全市平均水平" in text and "低于平均水平" in text
    wb = openpyxl.load_workbook(master)
    sheets = [wb["红黑榜"]["A1"].value, wb["红黑榜"]["A2"].value, wb["红黑榜"]["A3"].value, wb["汇总"]["A2"].value]
    sheets += [str(v) for row in wb["控制台"].iter_rows(min_row=12, max_col=2, values_only=True) for v in row if v]
    for word in COUNTY_WORDS:
        assert word not in text, word
        assert not [s for s in sheets if word in s], word
    assert "与市里的排名口径一致" not in text  # the city's own whole line claims nothing about another's
    assert [p for t in result.notice_doc.texts() for p in problems(t)] == []


def test_a_wrong_project_list_writes_nothing_and_names_every_cell(tmp_path):
    source = tmp_path / "清单.csv"
    source.write_text("项目编号,项目名称,项目类型,县（市、区）,计划征地面积\nC1,,工业用地,甲县,abc\nC1,乙,工业用地,甲县,5\n",
                      encoding="utf-8")
    out = CliRunner().invoke(main, ["init", str(tmp_path / "市"), "--city", "--projects", str(source)])
    assert out.exit_code == 2
    assert "第 2 行 B 列（项目名称）：不能为空" in out.output
    assert "第 2 行 E 列（计划征地面积）：应为不小于 0 的数字（现为“abc”）" in out.output
    assert "第 3 行 A 列（项目编号）：项目编号“C1”与第 2 行重复" in out.output
    assert not (tmp_path / "市").exists()
    missing = tmp_path / "缺列.csv"
    missing.write_text("项目编号,项目名称\nC1,甲\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["init", str(tmp_path / "市"), "--projects", str(missing)])
    assert out.exit_code == 2 and "找不到表头列：项目类型、责任工作组、计划征地面积(亩)" in out.output


def test_the_log_shows_when_each_file_arrived_not_when_the_run_read_it(city):
    from .conftest import table_frame

    master, _ = city
    log = table_frame(master, "tblLog")
    times = {(name, str(at)) for name, at in zip(log.iloc[:, 0], log["收到时间"])}
    for county in COUNTIES:
        for date in (START, AS_OF):
            assert (f"{county}_{date:%m%d}.xlsx", f"{date.isoformat()} 19:00:00") in times
