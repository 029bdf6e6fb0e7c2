"""The 通报 for the period, written from the figures (pure), and its Word rendering.

Each section appears only when it has something to say; its numbers are the engine's figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .consolidate import DUE_SOON, NET_LAND, NOT_REPORTED, NOT_TODAY, OVERDUE, STALLED, has_flag
from .schema import METRICS

NUMERALS = "一二三四五六七八九十"
ISSUER = "县重点项目和民生工程用地保障攻坚指挥部"


def _day(date: dt.date) -> str:
    return f"{date.month}月{date.day}日"


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


@dataclass
class Notice:
    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)  # (heading, body)
    as_of: dt.date | None = None

    def lines(self) -> list[str]:
        """One paragraph per line, as written to the 通报 sheet."""
        out = [self.title, ""]
        for i, (heading, body) in enumerate(self.sections):
            out.append(f"{NUMERALS[i]}、{heading}。{body}")
        out += ["", ISSUER, f"{self.as_of.year}年{_day(self.as_of)}" if self.as_of else ""]
        return out


def build_notice(summary: pd.DataFrame, ranking: pd.DataFrame, rejected: list[tuple[str, str, str]],
                 as_of: dt.date, period_start: dt.date, unit_name: str, *, roster: pd.DataFrame | None = None,
                 cutoff: dt.time | None = None, due_soon_days: int = 7, whole: str = "",
                 city: list[str] | None = None) -> Notice:
    """The notice; `rejected` holds (group, file, first reason) of the submissions sent back, `roster`
    the 今日报送情况 (roster.daily_roster)."""
    notice = Notice(f"重点项目和民生工程用地保障攻坚进展情况通报（截至{as_of.year}年{_day(as_of)}）", as_of=as_of)
    plan = float(summary["plan_mu"].sum())
    done = float(summary["acquired_mu"].sum())
    # The county's cumulative as of the date minus as of the day before: a project first reported today
    # gains all it has (no delta), a project not reported today gains 0 (its delta is 0).
    delta = float(summary["acquired_delta"].fillna(summary["acquired_mu"]).sum())
    net = int((summary["status"] == NET_LAND).sum())
    moving = int((summary["progress"] == "是").sum())
    notice.sections.append(("总体进展", (
        f"全县纳入攻坚的项目 {len(summary)} 个，计划征地 {plan:,.2f} 亩，累计完成征地 {done:,.2f} 亩，"
        f"征地完成率 {_pct(done / plan) if plan else '—'}，较{_day(as_of - dt.timedelta(days=1))}新增 {delta:,.2f} 亩；"
        f"本期（{_day(period_start)}至{_day(as_of)}）有进展的项目 {moving} 个；已实现净地交付 {net} 个。"
        + (f"{whole}。" if whole else ""))))
    if roster is not None and not roster.empty:
        from .roster import roster_sentence

        silent = int(has_flag(summary["status"], NOT_TODAY).sum())
        body = roster_sentence(roster, cutoff or dt.time(21, 0))
        if silent:
            body += f"今日未报数据的项目 {silent} 个，其进度按最近一次报送计，不计入今日新增。"
        notice.sections.append((f"今日报送情况（{_day(as_of)}）", body))
    if city:
        notice.sections.append(("全市红黑榜中的本县", "".join(city)))
    lists = []
    for key, label in METRICS:
        red = _named(ranking, key, "red")
        black = _named(ranking, key, "black")
        if red or black:
            lists.append(f"{label}：红榜 {red or '无'}；黑榜 {black or '无'}")
    if lists:
        notice.sections.append((f"红黑榜（按{unit_name}）", "；".join(lists) + "。"))
    overdue = summary[has_flag(summary["status"], OVERDUE)]
    due = summary[has_flag(summary["status"], DUE_SOON)]
    if not overdue.empty or not due.empty:
        parts = []
        if not overdue.empty:
            parts.append(f"已逾期 {len(overdue)} 个：" + _projects(overdue))
        if not due.empty:
            parts.append(f"距期限不足 {due_soon_days} 天 {len(due)} 个：" + _projects(due))
        notice.sections.append(("净地交付期限", "；".join(parts) + "。请责任领导和工作组倒排工期，确保按期交付。"))
    stalled = summary[has_flag(summary["status"], STALLED)]
    if not stalled.empty:
        notice.sections.append(("无进展项目", f"{len(stalled)} 个：" + _projects(stalled) + "。请说明原因并提出措施。"))
    missing = summary[has_flag(summary["status"], NOT_REPORTED)]
    if not missing.empty:
        notice.sections.append(("未报送数据的项目", f"{len(missing)} 个：" + _projects(missing) + "。"))
    if rejected:
        items = "；".join(f"{group or '填报单位不明'}《{file}》（{reason}）" for group, file, reason in rejected)
        notice.sections.append(("退回修改的台账", f"{len(rejected)} 份：{items}。请按校验报告修改后重新报送。"))
    return notice


def _named(ranking: pd.DataFrame, key: str, which: str) -> str:
    """Units on a list, best first for red and worst first for black, with their movement and, from the
    second period running on the list, how many periods they have been on it."""
    rows = ranking[ranking[f"{key}_{which}"]].sort_values(f"{key}_rank", ascending=which == "red")
    streaks = rows[f"{key}_streak"] if f"{key}_streak" in rows else pd.Series(0, index=rows.index)
    names = []
    for unit, move, streak in zip(rows["unit"], rows[f"{key}_move"], streaks):
        notes = [move] if move and move not in ("—", "新") else []
        if streak >= 2:
            notes.append(f"连续 {int(streak)} 期")
        names.append(f"{unit}（{'，'.join(notes)}）" if notes else unit)
    return "、".join(names)


def _projects(part: pd.DataFrame) -> str:
    return "、".join(f"{r.project_name}（{r.group}，{r.status}）" for r in part.itertuples())


def write_docx(notice: Notice, path: Path) -> Path:
    """The notice as a Word document laid out as Chinese government notices usually are (GB/T 9704):
    title in 小标宋 二号 centred, body in 仿宋 三号 with a two-character indent and 28-point lines,
    section headings in 黑体, the issuer and date at the bottom right."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    def run(paragraph, text: str, font: str, size: float, bold: bool = False):
        r = paragraph.add_run(text)
        r.font.name = font
        r._element.rPr.rFonts.set(qn("w:eastAsia"), font)
        r.font.size = Pt(size)
        r.bold = bold
        return r

    def paragraph(align=None, indent: bool = True):
        p = document.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(28)
        fmt.space_before = fmt.space_after = Pt(0)
        if indent:
            fmt.first_line_indent = Pt(32)
        if align is not None:
            p.alignment = align
        return p

    title = paragraph(WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    run(title, notice.title, "方正小标宋简体", 22)
    paragraph(indent=False)
    for i, (heading, body) in enumerate(notice.sections):
        p = paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY)
        run(p, f"{NUMERALS[i]}、{heading}。", "黑体", 16)
        run(p, body, "仿宋_GB2312", 16)
    paragraph(indent=False)
    for text in (ISSUER, f"{notice.as_of.year}年{_day(notice.as_of)}" if notice.as_of else ""):
        run(paragraph(WD_ALIGN_PARAGRAPH.RIGHT, indent=False), text, "仿宋_GB2312", 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path
