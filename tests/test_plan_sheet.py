"""节点计划 a row per block, the nodes as column groups: staff's entries in the long layout of the last
release (a row per block and node) carried over, the columns following 设置's list with every typed
date staying with its node, and the formula cells written as cell_xml writes them."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import openpyxl
from openpyxl.worksheet.table import Table, TableStyleInfo

from xladdin.domain.milestones import LABELS, DEFAULT_MILESTONES, labels, parse_milestones
from xladdin.engine.pipeline import execute
from xladdin.workbook.master import Formula
from xladdin.workbook.sheetxml import _formula_cells, cell_xml

from .conftest import AS_OF, table_frame

LONG = list(LABELS)  # 项目编号 … 计划完成日期(录入) … 状态: the 节点计划 of the release before this one


def _as_long_layout(master, rows: list[list[object]]) -> None:
    """Replace the master's 节点计划 with the long layout holding `rows` (what staff typed in it)."""
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["节点计划"]
    ref = ws.tables["tblMilestones"].ref
    header = int(ref.split(":")[0][1:])
    for row in ws.iter_rows(min_row=header, max_row=ws.max_row):
        for cell in row:
            cell.value = None
    del ws.tables["tblMilestones"]
    for c, label in enumerate(LONG, start=1):
        ws.cell(header, c).value = label
    for r, values in enumerate(rows, start=header + 1):
        for c, value in enumerate(values, start=1):
            ws.cell(r, c).value = value
    table = Table(displayName="tblMilestones", ref=f"A{header}:L{header + len(rows)}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    wb.save(master)


def _long_row(pid, name, plot, node, leader=None, person=None, typed=None, entered=None):
    return [pid, name, plot, node, leader, person, typed, None, entered, None, None, None]


def test_the_long_layout_of_the_last_release_is_carried_over_into_a_row_per_block(demo_copy):
    master = demo_copy
    first = table_frame(master, "tblMilestones")
    (pid, name), (other, other_name) = list(zip(first["项目编号"], first["项目名称"]))[:2]
    typed, entered = dt.date(2027, 2, 14), dt.date(2026, 10, 9)
    rows = [_long_row(pid, name, None, n, leader="原领导") for n in DEFAULT_MILESTONES]
    rows[DEFAULT_MILESTONES.index("拆除")] = _long_row(pid, name, None, "拆除", "周副县长", "王五", typed)
    rows[DEFAULT_MILESTONES.index("报批")] = _long_row(pid, name, None, "报批", None, None, None, entered)
    rows.append(_long_row(other, other_name, None, "挂牌出让", None, "李四", dt.date(2027, 5, 1), None))
    rows.append(_long_row("已删-01", "已删项目", "东地块", "报批", None, "赵六", dt.date(2026, 12, 2), None))
    _as_long_layout(master, rows)
    result = execute(master, as_of=AS_OF, intake=False, command="rank")
    assert result.wrote
    nodes = parse_milestones(result.settings.milestones)
    sheet = table_frame(master, "tblMilestones")
    assert list(sheet.columns) == labels(nodes)
    assert len(sheet) == len(result.plan.blocks) == len(first) + 1  # a row per block, the kept one too
    plan = {(r["project_id"], r["plot"], r["milestone"]): r for r in result.plan.frame().to_dict("records")}
    node = plan[(pid, "", "拆除")]
    assert node["typed"] == node["planned"] == typed and node["person"] == "王五" and node["leader"] == "周副县长"
    assert plan[(pid, "", "报批")]["entered"] == plan[(pid, "", "报批")]["done"] == entered
    assert plan[(pid, "", "征收")]["leader"] == "原领导"  # a name staff typed is kept
    assert plan[(other, "", "挂牌出让")]["typed"] == dt.date(2027, 5, 1)
    assert plan[(other, "", "挂牌出让")]["person"] == "李四"
    # a block staff keep for a project no longer registered stays, at the end, with what they typed
    kept = result.plan.blocks[-1]
    assert (kept.project_id, kept.plot) == ("已删-01", "东地块")
    assert plan[("已删-01", "东地块", "报批")]["typed"] == dt.date(2026, 12, 2)
    # the sheet shows them in the node's columns of its block's row, and a second run reads them back
    row = sheet[sheet["项目编号"] == pid].iloc[0]
    assert row["拆除·计划(录入)"].date() == typed and row["拆除·责任人"] == "王五"
    assert row["报批·实际(录入)"].date() == entered
    again = execute(master, as_of=AS_OF, intake=False, command="rank")
    assert again.plan.frame().drop(columns="standard").equals(result.plan.frame().drop(columns="standard"))


def test_the_columns_follow_the_list_and_typed_dates_stay_with_their_node(demo_copy):
    master = demo_copy
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["节点计划"]
    top = int(ws.tables["tblMilestones"].ref.split(":")[0][1:]) + 1
    heading = [c.value for c in ws[top - 1]]
    pid = ws.cell(top, 1).value
    ws.cell(top, heading.index("高压线迁移·计划(录入)") + 1).value = dt.date(2027, 4, 20)
    ws.cell(top, heading.index("挂牌出让·实际(录入)") + 1).value = dt.date(2026, 11, 2)
    settings = wb["设置"]
    for row in settings.iter_rows():
        if row[0].value == "节点列表":  # 高压线迁移 taken out, 清表 moved first, a new node added
            row[1].value = "清表、报批、征收、房屋协议、拆除、净地交付、挂牌出让、林地报批"
    wb.save(master)
    result = execute(master, as_of=AS_OF, intake=False, command="rank")
    nodes = result.plan.milestones
    # 高压线迁移 left the list but staff hold a date for it: it stays, after the list's nodes
    assert nodes == ("清表", "报批", "征收", "房屋协议", "拆除", "净地交付", "挂牌出让", "林地报批", "高压线迁移")
    sheet = table_frame(master, "tblMilestones")
    assert list(sheet.columns) == labels(nodes)
    row = sheet[sheet["项目编号"] == pid].iloc[0]
    assert row["高压线迁移·计划(录入)"].date() == dt.date(2027, 4, 20)
    assert row["挂牌出让·实际(录入)"].date() == dt.date(2026, 11, 2) and row["挂牌出让·状态"] in ("已完成", "逾期完成")
    # cleared again: the node leaves the sheet with the next run
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["节点计划"]
    heading = [c.value for c in ws[top - 1]]
    ws.cell(top, heading.index("高压线迁移·计划(录入)") + 1).value = None
    wb.save(master)
    assert "高压线迁移" not in execute(master, as_of=AS_OF, intake=False, command="rank").plan.milestones


def test_a_column_of_formulas_is_written_as_cell_xml_writes_each():
    rng = random.Random(29)
    texts = ['=IF(ISNUMBER(D5),D5,"")', "=REPT(\"●\",COUNTIFS('节点计划'!L4:S4,\">=\"&H$3))", "=A1<B1", "=A\x02B"]
    cached = [1, 2.5, float("nan"), "●○", "", "a&b<c>", None, np.float64(3.0), True, 46000, "x\x01y",
              dt.date(2026, 11, 24)]
    values = [None if rng.random() < 0.1 else Formula(rng.choice(texts), rng.choice(cached)) for _ in range(2000)]
    for style in (None, "7"):
        for prefix in ("", "x:"):
            assert _formula_cells(prefix, "H", 5, values, style) == [
                cell_xml(prefix, f"H{r}", v, style) for r, v in enumerate(values, 5)]


def test_a_formula_column_with_a_text_per_row_is_written_as_cell_xml_writes_each():
    from xladdin.workbook.master import ColumnFormula
    from xladdin.workbook.sheetxml import formula_column_cells

    rng = random.Random(30)
    templates = ["=IF(ISNUMBER(D%(r)d),D%(r)d,%(a)s)", "=A%(r)d<%(a)s", "=\"a&b\"&%(a)s&D%(r)d",
                 '=TEXT(A%(r)d,"0%%")&"{x}"&SUM({1,2})&%(a)s']
    args = ['DATE(2026,11,24)', '""', "1<2", "x\x01y", "A&B"]
    cached = [1, 46000, 2.5, float("nan"), "", "●○", "a&b<c>", None, True, dt.date(2026, 11, 24), "x\x02"]
    for template in templates:
        for shared in (False, True):
            count = rng.randint(1, 300)
            formula = ColumnFormula(template.replace("%(a)s", "1") if shared else template, 4,
                                    None if shared else [rng.choice(args) for _ in range(count)])
            values = [rng.choice(cached) for _ in range(count)]
            offset = rng.randint(0, count - 1)
            for style in (None, "5"):
                for prefix in ("", "x:"):
                    assert formula_column_cells(prefix, "K", 9 + offset, values[offset:], style, formula, offset) == [
                        cell_xml(prefix, f"K{r}", Formula(formula.at(i), values[i]), style)
                        for i, r in zip(range(offset, count), range(9 + offset, 9 + count))]


def test_a_formulas_cached_text_is_escaped_once():
    from xladdin.workbook.sheetxml import shared_formula_cells

    assert cell_xml("", "A1", Formula('="A&B"', "A&B<C>"), None).endswith("<v>A&amp;B&lt;C&gt;</v></c>")
    assert _formula_cells("", "A", 1, [Formula('="A&B"', "A&B")], None)[0].endswith("<v>A&amp;B</v></c>")
    assert shared_formula_cells("", "A", 1, ["A&B"], None, 0, None)[0].endswith("<v>A&amp;B</v></c>")


def test_a_shared_formulas_cells_carry_their_values_as_any_formula_cell_does():
    from xladdin.workbook.sheetxml import formula_cell, shared_formula_cells

    cached = [1, 46000, 2.5, float("nan"), "", "●○", "a&b<c>", None, True, np.float64(3.0), dt.date(2026, 11, 24)]
    element = '<f t="shared" si="4"/>'
    for style, s in ((None, ""), ("5", ' s="5"')):
        assert shared_formula_cells("", "Q", 7, cached, style, 4, None) == [
            formula_cell("", f"Q{r}", s, element, v) for r, v in enumerate(cached, 7)]
    first = shared_formula_cells("", "Q", 7, ["●"], None, 4, ('=REPT("●",COUNTIFS(A7:B7,">1"))', "Q7:Q9"))[0]
    assert first == '<c r="Q7" t="str"><f t="shared" ref="Q7:Q9" si="4">REPT("●",COUNTIFS(A7:B7,"&gt;1"))</f><v>●</v></c>'
