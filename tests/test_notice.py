"""The 通报: its numbers are the engine's, each section appears only with content, the Word file."""

from __future__ import annotations

from xladdin.jobs import execute
from xladdin.notice import build_notice, write_docx

from .conftest import AS_OF
from .test_ranking_formulas import CASES, make_campaign


def registry_of(master):
    from xladdin.workbook.package import MasterBook

    return MasterBook.open(master).registry()


def headings(notice) -> list[str]:
    return [heading for heading, _ in notice.sections]


def test_notice_numbers_are_the_engine_figures_on_generated_campaigns(tmp_path):
    for seed, settings in enumerate(CASES[:4]):
        directory = tmp_path / f"case{seed}"
        directory.mkdir()
        result = execute(make_campaign(directory, seed, settings), as_of=AS_OF, intake=False, command="notice")
        notice = result.notice_doc
        summary, ranking = result.summary, result.ranking
        overall = dict(notice.sections)["总体进展"]
        assert f"项目 {len(summary)} 个" in overall
        assert f"计划征地 {summary['plan_mu'].sum():,.2f} 亩" in overall
        assert f"累计完成征地 {summary['acquired_mu'].sum():,.2f} 亩" in overall
        assert f"有进展的项目 {(summary['progress'] == '是').sum()} 个" in overall
        lists = next((body for heading, body in notice.sections if heading.startswith("红黑榜")), "")
        for unit in ranking.loc[ranking["acquisition_rate_red"], "unit"]:
            assert unit in lists.split("进度占比率")[0]  # named in the 征地完成率 part
        # The text written to 通报: the title and the signature carry the statistics date, each section
        # is numbered in order under its heading, the first one opens with the registry's project count.
        day = f"{AS_OF.year}年{AS_OF.month}月{AS_OF.day}日"
        assert result.notice[0] == f"重点项目和民生工程用地保障攻坚进展情况通报（截至{day}）"
        assert result.notice[-2:] == ["县重点项目和民生工程用地保障攻坚指挥部", day]
        body = result.notice[2:-3]
        assert [line[:line.index("。")] for line in body] == [
            f"{numeral}、{heading}" for numeral, heading in zip("一二三四五六七八九十", headings(notice))]
        assert body[0].startswith(f"一、总体进展。全县纳入攻坚的项目 {len(registry_of(result.master))} 个")


def test_sections_appear_only_when_they_have_content(demo):
    _, _, result = demo
    full = build_notice(result.summary, result.ranking, [("甲组", "a.xlsx", "累计数减少")], AS_OF,
                        result.period_start, "工作组")
    assert headings(full) == ["总体进展", "红黑榜（按工作组）", "净地交付期限", "无进展项目", "退回修改的台账"]
    quiet_summary = result.summary.assign(status="推进中")
    tied = result.ranking.copy()
    for column in [c for c in tied.columns if c.endswith(("_red", "_black"))]:
        tied[column] = False
    quiet = build_notice(quiet_summary, tied, [], AS_OF, result.period_start, "工作组")
    assert headings(quiet) == ["总体进展"]
    assert quiet.lines()[2].startswith("一、总体进展。") and quiet.lines()[-2].endswith("指挥部")


def test_unreported_projects_have_their_own_section(demo):
    _, _, result = demo
    summary = result.summary.copy()
    summary.loc[summary.index[0], "status"] = "未报送"
    notice = build_notice(summary, result.ranking, [], AS_OF, result.period_start, "工作组")
    assert "未报送数据的项目" in headings(notice)
    assert "1 个" in dict(notice.sections)["未报送数据的项目"]


def test_word_notice_is_laid_out_as_a_government_notice(demo, tmp_path):
    from docx import Document

    _, _, result = demo
    path = write_docx(result.notice_doc, tmp_path / "通报.docx")
    document = Document(path)
    paragraphs = [p for p in document.paragraphs if p.text]
    assert paragraphs[0].text == result.notice_doc.title and paragraphs[0].alignment == 1  # centred
    assert paragraphs[0].runs[0].font.size.pt == 22
    body = paragraphs[1]
    assert body.runs[0].text == "一、总体进展。" and body.runs[0].font.name == "黑体"
    assert body.runs[1].font.name == "仿宋_GB2312" and body.runs[1].font.size.pt == 16
    assert body.paragraph_format.line_spacing.pt == 28
    assert paragraphs[-2].text.endswith("指挥部") and paragraphs[-1].alignment == 2  # right
    assert len(paragraphs) == 1 + len(result.notice_doc.sections) + 2


def test_due_soon_uses_the_days_of_the_settings_in_the_text(demo):
    _, _, result = demo
    summary = result.summary.copy()
    summary.loc[summary.index[0], "status"] = "临期（剩 4 天）、无进展 5 天"
    notice = build_notice(summary, result.ranking, [], AS_OF, result.period_start, "工作组", due_soon_days=5)
    sections = dict(notice.sections)
    assert "距期限不足 5 天" in sections["净地交付期限"] and "7 天" not in sections["净地交付期限"]
    assert summary.at[summary.index[0], "project_name"] in sections["无进展项目"]  # on both lists


def test_a_unit_on_a_list_for_several_periods_is_named_with_the_count(demo):
    _, _, result = demo
    ranking = result.ranking.copy()
    black = ranking.index[ranking["acquisition_rate_black"]][0]
    ranking.loc[black, "acquisition_rate_streak"] = 3
    notice = build_notice(result.summary, ranking, [], AS_OF, result.period_start, "工作组")
    lists = dict(notice.sections)["红黑榜（按工作组）"].split("进度占比率")[0]
    assert "连续 3 期" in lists.split("黑榜")[1] and ranking.at[black, "unit"] in lists.split("黑榜")[1]
    assert "连续 1 期" not in lists
