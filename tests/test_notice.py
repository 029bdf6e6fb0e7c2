"""The 通报: its numbers are the engine's, each section appears only with content, the Word file."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import xladdin.notices.compose
from xladdin.engine.pipeline import execute
from xladdin.notices.compose import NoticeInputs, build_notice
from xladdin.notices.word import write_docx

from .conftest import AS_OF, convert, needs
from .test_ranking_formulas import CASES, make_campaign

# One worker runs this module (pytest-xdist --dist loadgroup): its module fixture (weekly_pdf) is built once.
pytestmark = pytest.mark.xdist_group("notice")


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
        assert f"项目共{len(summary)}个" in overall
        assert f"计划征地{summary['plan_mu'].sum():,.2f}亩" in overall
        assert f"累计完成征地{summary['acquired_mu'].sum():,.2f}亩" in overall
        assert f"有进展的项目{(summary['progress'] == '是').sum()}个" in overall
        assert result.notice == notice.lines()
        weekly = execute(result.master, as_of=AS_OF, intake=False,
                         write=False, notice_kind="weekly").notice_doc
        lists = next((body for heading, body in weekly.sections if heading.startswith("红黑榜")), "")
        for unit in ranking.loc[ranking["acquisition_rate_red"], "unit"]:
            assert unit in lists.split("进度占比率")[0]  # named in the 征地完成率 part
        # The text written to 通报: the 版头 and the signature carry the issuer, the title the statistics date,
        # each section is numbered in order under its heading, the first opens with the registry's project count.
        day = f"{AS_OF.year}年{AS_OF.month}月{AS_OF.day}日"
        issuer = notice.header.full_issuer
        assert result.notice[0] == f"{issuer}督查日报"
        assert notice.title == f"重点项目和民生工程用地保障攻坚督查日报（{day}）" and result.notice[1] == notice.title
        assert result.notice[-4:-2] == [issuer, day] and result.notice[-1] == f"抄送：{notice.header.cc}"
        numbered = [line for line in notice.body() if line[:2] in {f"{n}、" for n in "一二三四五六七八九十"}]
        assert [line[:line.index("。")] for line in numbered] == [
            f"{numeral}、{heading}" for numeral, heading in zip("一二三四五六七八九十", headings(notice))]
        assert numbered[0].startswith(f"一、总体进展。全县纳入攻坚的项目共{len(registry_of(result.master))}个")


def test_sections_appear_only_when_they_have_content(demo):
    _, _, result = demo
    full = build_notice(NoticeInputs(result.summary, result.ranking, [("甲组", AS_OF, "累计数减少")], AS_OF,
                        result.period_start, "工作组", kind="weekly"))
    assert headings(full) == ["总体进展", "本周新增", "红黑榜（按工作组）", "净地交付期限", "无进展项目",
                              "退回修改未更正的台账"]
    quiet_summary = result.summary.assign(status="推进中", flags=[("推进中",)] * len(result.summary))
    tied = result.ranking.copy()
    for column in [c for c in tied.columns if c.endswith(("_red", "_black"))]:
        tied[column] = False
    quiet = build_notice(NoticeInputs(quiet_summary.assign(acquired_delta=0.0), tied, [], AS_OF, result.period_start, "工作组"))
    assert headings(quiet) == ["总体进展"]
    assert quiet.body()[0].startswith("一、总体进展。") and quiet.lines()[-2].endswith("指挥部")


def test_unreported_projects_have_their_own_section(demo):
    _, _, result = demo
    summary = result.summary.copy()
    summary.loc[summary.index[0], "status"] = "未报送"
    summary.at[summary.index[0], "flags"] = ("未报送",)
    notice = build_notice(NoticeInputs(summary, result.ranking, [], AS_OF, result.period_start, "工作组"))
    assert "未报送数据的项目" in headings(notice)
    assert "项目1个" in dict(notice.sections)["未报送数据的项目"]


def test_word_notice_is_laid_out_as_a_government_notice(demo, tmp_path):
    from docx import Document

    directory, _, _ = demo
    notice = execute(directory / "指挥部母表.xlsm", as_of=AS_OF, intake=False, write=False,
                     notice_kind="weekly").notice_doc
    notice.number = 7
    path = write_docx(notice, tmp_path / "通报.docx")
    document = Document(path)
    paragraphs = [p for p in document.paragraphs if p.text]
    assert paragraphs[0].text == notice.header.full_issuer + "通报"  # 版头
    assert paragraphs[0].runs[0].font.color.rgb is not None and str(paragraphs[0].runs[0].font.color.rgb) == "E60012"
    assert paragraphs[1].text == f"〔{AS_OF.year}〕第7期"
    title = paragraphs[2]
    assert title.text == notice.title and title.alignment == 1 and title.runs[0].font.size.pt == 22
    assert paragraphs[3].text == f"{notice.header.to}："
    first = next(p for p in paragraphs if p.text.startswith("一、"))
    assert first.runs[0].text == "一、总体进展。" and first.runs[0].font.name == "黑体"
    assert first.runs[1].font.name == "仿宋_GB2312" and first.runs[1].font.size.pt == 16
    assert first.paragraph_format.line_spacing.pt == 28
    assert any(p.text == notice.header.full_issuer and p.alignment == 2 for p in paragraphs)
    # 附件说明 before the 落款, 版记 at the end: 抄送, then 印发机关 and 印发日期
    note = next(i for i, p in enumerate(paragraphs) if p.text.startswith("附件：1．红黑榜"))
    signature = next(i for i, p in enumerate(paragraphs) if p.text == notice.header.full_issuer)
    assert note < signature and paragraphs[note + 1].text.startswith("2．")
    assert paragraphs[-2].text == f"抄送：{notice.header.cc}"
    assert paragraphs[-1].text == f"{notice.header.full_issuer}\t{notice.date_text}印发"
    assert [p.text for p in paragraphs if p.text.startswith("附件") and len(p.text) <= 4] == [
        f"附件{n}" for n in range(1, len(notice.annexes) + 2)]
    assert len(document.tables) == 1 + len(notice.annexes)
    assert [c.text for c in document.tables[2].rows[0].cells] == ["序号", "项目名称", "问题", "首次报告", "状态", "责任领导"]
    # the 红黑榜 as a 附表: one row per ranked unit under a header row, values and ranks in words
    # the 红黑榜 as a 附表 on landscape pages: two header rows, then one row per unit, best 征地完成率 first
    table = document.tables[0]
    assert len(table.rows) == len(notice.table) + 1 and table.cell(0, 1).text == "征地完成率"
    assert [table.cell(1, c).text for c in (1, 2, 3)] == ["数值", "名次", "较上期"]
    assert document.sections[1].page_width > document.sections[1].page_height
    ranking = execute(directory / "指挥部母表.xlsm", as_of=AS_OF, intake=False, write=False).ranking
    ranks = dict(zip(ranking["unit"].astype(str), ranking["acquisition_rate_rank"]))
    listed = [table.cell(r, 0).text for r in range(2, len(table.rows))]
    assert sorted(listed) == sorted(ranks) and [ranks[u] for u in listed] == sorted(ranks[u] for u in listed)
    for r, unit in enumerate(listed, start=2):
        assert table.cell(r, 2).text == str(int(ranks[unit]))
    # a PAGE field in the footer between dashes
    footer_xml = document.sections[0].footer._element.xml
    assert "PAGE" in footer_xml and document.sections[0].footer.paragraphs[0].text.startswith("— ")


def test_due_soon_uses_the_days_of_the_settings_in_the_text(demo):
    _, _, result = demo
    summary = result.summary.copy()
    first = summary.index[0]
    summary.loc[first, ["status", "days_left", "stalled_days", "deadline"]] = [
        "临期（剩 4 天）、无进展 5 天", 4, 5, AS_OF + dt.timedelta(days=4)]
    summary.at[first, "flags"] = ("临期", "无进展")
    notice = build_notice(NoticeInputs(summary, result.ranking, [], AS_OF, result.period_start, "工作组", due_soon_days=5))
    sections = dict(notice.sections)
    assert "距净地交付期限不足5天" in sections["净地交付期限"] and "7天" not in sections["净地交付期限"]
    assert "还剩4天" in sections["净地交付期限"] and "已5天无进展" in sections["无进展项目"]
    assert summary.at[summary.index[0], "project_name"] in sections["无进展项目"]  # on both lists


def test_a_unit_on_a_list_for_several_periods_is_named_with_the_count(demo):
    _, _, result = demo
    ranking = result.ranking.copy()
    black = ranking.index[ranking["acquisition_rate_black"]][0]
    ranking.loc[black, "acquisition_rate_streak"] = 3
    notice = build_notice(NoticeInputs(result.summary, ranking, [], AS_OF, result.period_start, "工作组", kind="weekly"))
    lists = dict(notice.sections)["红黑榜（按工作组）"].split("进度占比率")[0]
    assert "连续3期" in lists.split("黑榜")[1] and ranking.at[black, "unit"] in lists.split("黑榜")[1]
    assert "连续1期" not in lists


def test_the_notice_text_imports_no_word_rendering():
    """notice.py is domain (pure text); python-docx and the Word rendering stay in notice_docx.py."""
    tree = ast.parse(Path(xladdin.notices.compose.__file__).read_text(encoding="utf-8"))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.split(".")[0] == "docx" or name.endswith("notice_docx")}


@pytest.fixture(scope="module")
def weekly_pdf(demo, tmp_path_factory):
    """The demo's weekly 通报 written to Word and printed to PDF by LibreOffice: (result, notice, docx, pdf)."""
    needs("soffice", "pdftotext")
    directory, _, _ = demo
    out = tmp_path_factory.mktemp("weekly")
    result = execute(directory / "指挥部母表.xlsm", as_of=AS_OF, intake=False, write=False, notice_kind="weekly")
    notice = result.notice_doc
    path = write_docx(notice, out / "通报.docx")
    convert([path], "pdf", out)
    pdf = out / "通报.pdf"
    assert pdf.exists(), "LibreOffice did not print the 通报"
    return result, notice, path, pdf


def pdf_pages(pdf: Path, *options: str) -> list[str]:
    """Each page's text as pdftotext gives it."""
    import subprocess

    pages = []
    for page in range(1, 40):
        out = subprocess.run(["pdftotext", *options, "-f", str(page), "-l", str(page), str(pdf), "-"],
                             capture_output=True, text=True)
        if out.returncode:
            break
        pages.append(out.stdout)
    return pages


def test_the_weekly_of_the_demo_county_reads_in_four_pages_with_the_lists_in_annexes(weekly_pdf):
    """Rendered by LibreOffice: the 通报 itself (版头 to 落款) is at most four A4 pages; every late node and open
    督办 item is in its annex, the body names only a few."""
    result, notice, _, pdf = weekly_pdf
    pages = [text.replace(" ", "") for text in pdf_pages(pdf)]
    body = next(i for i, text in enumerate(pages) if text.lstrip().startswith("附件1"))
    assert body <= 4, f"the 通报 runs {body} pages before its 附件"
    assert notice.date_text.replace(" ", "") in pages[body - 1]  # the 落款 closes the body
    titles = [title for title, _ in notice.annexes]
    assert titles == ["逾期和临期节点清单", "尚未销号的督办事项清单", "本期各工作组报送情况（单位：天）"]
    nodes, items, _ = (rows for _, rows in notice.annexes)
    plan = result.plan.frame()
    assert len(nodes) - 1 == len(plan[plan["status"].astype(str).str.match("已逾期|临期")])
    assert len(items) - 1 == int((result.register["status"] != "已销号").sum())
    supervision = dict(notice.sections)["督办事项"]
    assert supervision.count("（已持续") + supervision.count("（新发现") + supervision.count("（逾期") <= 3
    assert "待确认销号" not in supervision.split("请重点督办：")[1].split("。")[0]  # live items only named


def table_layout(table) -> tuple[str | None, int | None, list[int], list[list[int]]]:
    """A Word table's layout type, its width in twips, its grid's column widths, and per row the widths of its
    cells side by side with the grid widths they span (each pair should be equal)."""
    from docx.oxml.ns import qn

    properties = table._tbl.tblPr
    layout = properties.find(qn("w:tblLayout"))
    width = properties.find(qn("w:tblW"))
    grid = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    rows = []
    for tr in table._tbl.tr_lst:
        first, pairs = 0, []
        for tc in tr.tc_lst:
            tc_width = tc.tcPr.find(qn("w:tcW"))
            pairs.append((int(tc_width.get(qn("w:w"))), sum(grid[first:first + tc.grid_span])))
            assert tc_width.get(qn("w:type")) == "dxa"
            first += tc.grid_span
        assert first == len(grid), "a row covers the whole grid"
        rows.append(pairs)
    return (None if layout is None else layout.get(qn("w:type")),
            None if width is None or width.get(qn("w:type")) != "dxa" else int(width.get(qn("w:w"))), grid, rows)


def assert_table_keeps_its_widths(table, text_width: int, header_rows: int) -> None:
    """Fixed layout; the table's width, its grid and its cells agree and fit the text area; small text in
    single lines; header rows repeated on each page and no row split across pages."""
    from docx.oxml.ns import qn

    layout, width, grid, rows = table_layout(table)
    assert layout == "fixed"
    assert width == sum(grid) and sum(grid) <= text_width
    assert all(w >= 300 for w in grid), grid  # no column squeezed to nothing
    for pairs in rows:
        assert all(tc == spanned for tc, spanned in pairs), pairs
    for i, tr in enumerate(table._tbl.tr_lst):
        properties = tr.trPr
        assert properties is not None and properties.find(qn("w:cantSplit")) is not None
        assert (properties.find(qn("w:tblHeader")) is not None) == (i < header_rows)
    sizes = {run.font.size.pt for row in table.rows for cell in row.cells for p in cell.paragraphs for run in p.runs}
    assert sizes and max(sizes) <= 10.5  # 五号 or smaller, below the body's 三号
    assert all(run.bold for cell in table.rows[0].cells for run in cell.paragraphs[0].runs)


def text_width(section) -> int:
    return int((section.page_width - section.left_margin - section.right_margin) / 635)


def test_annex_tables_keep_their_column_widths_in_word_and_libreoffice(demo, tmp_path):
    """Word lays a table out from its cells' widths, LibreOffice from its grid: every table of the weekly
    (附件1-4) and of the 专报 declares a fixed layout, one width on its grid and its cells, within the page."""
    from docx import Document

    from xladdin.notices.word import write_leader_docx

    directory, _, _ = demo
    master = directory / "指挥部母表.xlsm"
    notice = execute(master, as_of=AS_OF, intake=False, write=False, notice_kind="weekly").notice_doc
    document = Document(write_docx(notice, tmp_path / "通报.docx"))
    assert len(document.tables) == 1 + len(notice.annexes) >= 2
    landscape, portrait = document.sections[1], document.sections[2]
    assert landscape.page_width > landscape.page_height
    assert_table_keeps_its_widths(document.tables[0], text_width(landscape), header_rows=2)
    for table in document.tables[1:]:
        assert_table_keeps_its_widths(table, text_width(portrait), header_rows=1)
    leaders = execute(master, as_of=AS_OF, intake=False, write=False, notice_kind="leader").leaders
    report = Document(write_leader_docx(leaders, tmp_path / "专报.docx"))
    for table in report.tables:
        assert_table_keeps_its_widths(table, text_width(report.sections[0]), header_rows=1)


def test_column_widths_come_from_the_texts():
    """A date or a number never wraps and the long texts share the rest; a table that cannot hold its short
    columns at 五号 drops to 小五; a table too wide even then still fits the page."""
    from xladdin.notices.word import _plan_columns, text_em

    assert text_em("11月21日") > text_em("11月1日") > 4  # two Han characters and the digits between them
    rows = [["序号", "项目名称", "计划完成", "状态"]] + [
        [str(i), "城东工业园标准厂房三期" * (1 + i % 3), "2027年11月21日", "已逾期3天"] for i in range(1, 30)]
    widths, size, whole = _plan_columns([list(c) for c in zip(*rows)], 9000)
    assert size == 10.5 and sum(widths) == 9000 and whole == [True, False, True, True]
    assert widths[2] * 1.0 / 20 / size - 0.2 > text_em("2027年11月21日")  # one line, with room to spare
    assert widths[1] == max(widths)  # the names take what is left
    wide = [["单位"] + [f"指标{i}" for i in range(30)]] + [["甲组"] + ["100.00%"] * 30]
    widths, size, _ = _plan_columns([list(c) for c in zip(*wide)], 13000)
    assert size < 10.5 and sum(widths) == 13000 and all(w > 0 for w in widths)


@pytest.mark.libreoffice
def test_no_date_wraps_in_the_annexes_printed_by_libreoffice(weekly_pdf):
    """The annexes as LibreOffice prints them: every date of their cells (11月21日, 2027年1月18日) whole on one
    line — none broken as "10月12" over "日"."""
    import re

    _, notice, _, pdf = weekly_pdf
    pages = pdf_pages(pdf, "-layout")
    first = next(i for i, text in enumerate(pages) if text.lstrip().startswith("附件 1") or
                 text.lstrip().startswith("附件1"))
    annex_text = "\n".join(pages[first:])
    date = r"(?:\d{4} *年 *)?\d{1,2} *月 *\d{1,2} *日"
    broken = re.findall(r"\d{4} *年(?! *\d{1,2} *月 *\d{1,2} *日)|\d{1,2} *月(?! *\d{1,2} *日)", annex_text)
    assert not broken, f"dates broken over two lines in the annexes: {broken}"
    cells = [cell for _, rows in notice.annexes for row in rows[1:] for cell in row
             if re.fullmatch(date.replace(" *", ""), cell)]
    assert cells, "the demo's annexes have dates"
    assert len(re.findall(date, annex_text)) >= len(cells)


def test_an_eleventh_section_is_numbered_in_words():
    from xladdin.notices.compose import Notice, section_number

    notice = Notice("标题", sections=[(f"第{n}节", "内容。") for n in range(1, 13)])
    body = notice.body()
    assert body[10].startswith("十一、第11节。") and body[11].startswith("十二、")
    assert [section_number(i) for i in (0, 9, 19, 20, 99, 100)] == ["一、", "十、", "二十、", "二十一、", "一百、", "一百零一、"]


def test_accountability_names_a_unit_black_for_the_set_periods_and_a_long_overdue_item_and_nothing_else():
    from xladdin.notices.compose import Accountability, _accountability

    ranking = pd.DataFrame({"unit": ["甲组", "乙组", "丙组"]})
    for key in ("acquisition_rate", "progress_ratio", "net_land_rate", "industrial_rate"):
        ranking[f"{key}_black"] = [key == "acquisition_rate"] * 2 + [False]
        ranking[f"{key}_streak"] = [2, 1, 0]
    items = pd.DataFrame([
        {"project": "甲地块", "problem": "高压线迁移", "status": "持续", "source": "指挥部交办", "alert": "逾期9天",
         "days_open": 20, "first_seen": AS_OF},
        {"project": "乙地块", "problem": "坟山未迁", "status": "持续", "source": "工作组报送", "alert": "逾期2天",
         "days_open": 5, "first_seen": AS_OF}])
    rules = Accountability(2, 7, "由指挥部约谈责任领导")
    heading, text = _accountability(ranking, items, rules)
    assert heading == "督查问效" and "甲组（征地完成率连续2期列入黑榜）" in text and "乙组" not in text
    assert "甲地块“高压线迁移”（已逾期9天）" in text and "坟山未迁" not in text
    assert text.endswith("由指挥部约谈责任领导。")
    calm = ranking.assign(**{f"{k}_streak": 1 for k in ("acquisition_rate", "progress_ratio", "net_land_rate",
                                                          "industrial_rate")})
    assert _accountability(calm, items.iloc[1:], rules) is None
