"""The 通报, 督查日报 and 专报 for the period, written from the figures (pure; notice_docx renders them).

Each section appears only when it has something to say; its numbers are the engine's figures.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import METRICS
from xladdin.base.text import chinese_number
from xladdin.domain.consolidate import DUE_SOON, NET_LAND, NOT_REPORTED, NOT_TODAY, OVERDUE, STALLED, has_flag
from xladdin.domain.level import Level, level_of
from xladdin.domain.rank import basis_words, rate_words
from xladdin.domain.register import FROM_HQ, NEW, ONGOING, OVERDUE_WORD, TO_CONFIRM, order_items
from xladdin.domain.roster import TALLY_LABELS, roster_sentence, tally_sentence
from xladdin.domain.settings import Settings
from xladdin.notices.typography import tidy

ISSUER = "县重点项目和民生工程用地保障攻坚指挥部"
DAILY, WEEKLY, LEADER = "daily", "weekly", "leader"
KIND_WORDS = {DAILY: "督查日报", WEEKLY: "通报", LEADER: "专报"}
MOVES = {"—": "与上期持平", "新": "本期新参与排名"}


def day_words(date: dt.date) -> str:
    return f"{date.month}月{date.day}日"


def day_near(date: dt.date, as_of: dt.date) -> str:
    """11月30日, or 2027年1月18日 when the year is not the as-of date's."""
    return day_words(date) if date.year == as_of.year else f"{date.year}年{day_words(date)}"


def percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def mu(value: float) -> str:
    return f"{value:,.2f}亩"


def move_words(move: str) -> str:
    """↑2 → 较上期上升2位, ↓1 → 较上期下降1位, — → 与上期持平, 新 → 本期新参与排名."""
    if move.startswith("↑"):
        return f"较上期上升{move[1:]}位"
    if move.startswith("↓"):
        return f"较上期下降{move[1:]}位"
    return MOVES.get(move, "")


def section_number(index: int) -> str:
    """The number of the index-th section (from 0) as written before its heading: 一、 … 十、 十一、 …"""
    return f"{chinese_number(index + 1)}、"


@dataclass
class Header:
    """What 设置 says about the issuer and the addressees (all Chinese, shown as written)."""
    county: str = ""
    issuer: str = ISSUER
    number_pattern: str = "〔{年}〕第{期}期"
    to: str = ""
    cc: str = ""
    opening: str = ""
    closing: str = ""
    level: str = ""  # 设置 › 指挥部级别 (blank: 县): the issuer's level word is replaced by the place name

    @property
    def words(self) -> Level:
        return level_of(self.level)

    @property
    def full_issuer(self) -> str:
        return self.issuer if not self.county or self.issuer.startswith(self.county) else \
            self.county + self.issuer.removeprefix(self.words.name)


@dataclass
class Notice:
    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)  # (heading, body)
    as_of: dt.date | None = None
    kind: str = DAILY
    header: Header = field(default_factory=Header)
    number: int | None = None  # 期数, once issued
    table_title: str = ""
    table: list[list[str]] = field(default_factory=list)  # 附表 (附件1 of a 通报): header row first
    annexes: list[tuple[str, list[list[str]]]] = field(default_factory=list)  # further 附件: (title, rows)

    @property
    def number_text(self) -> str:
        if self.number is None or self.as_of is None:
            return ""
        return self.header.number_pattern.replace("{年}", str(self.as_of.year)).replace("{期}", str(self.number))

    @property
    def date_text(self) -> str:
        return f"{self.as_of.year}年{day_words(self.as_of)}" if self.as_of else ""

    def body(self) -> list[str]:
        """The paragraphs of the text proper, without 版头 and 版记."""
        out = [f"{self.header.to}："] if self.header.to else []
        if self.header.opening:
            out.append(self.header.opening)
        out += [f"{section_number(i)}{heading}。{body}" for i, (heading, body) in enumerate(self.sections)]
        if self.header.closing:
            out.append(self.header.closing)
        return out

    def annex_titles(self) -> list[str]:
        """The titles of the 附件 in order: the 附表 first, then the annexes."""
        return ([self.table_title] if self.table else []) + [title for title, _ in self.annexes]

    def annex_label(self, index: int) -> str:
        """附件 when there is one, else 附件1, 附件2, … (index from 0)."""
        return "附件" if len(self.annex_titles()) == 1 else f"附件{index + 1}"

    def annex_note(self) -> list[str]:
        """The 附件说明 after the text (GB/T 9704): 附件：1．… with the further titles under the first."""
        # The date is the notice's own: the note names each annex without it (红黑榜（按工作组）).
        titles = [re.sub(r"，截至[^）]*(?=）)|（截至[^）]*）", "", t) for t in self.annex_titles()]
        if len(titles) <= 1:
            return [f"附件：{t}" for t in titles]
        return [("附件：" if i == 0 else "　　　") + f"{i + 1}．{t}" for i, t in enumerate(titles)]

    @property
    def imprint(self) -> str:
        """The 版记's last line: 印发机关 and 印发日期."""
        return f"{self.header.full_issuer}{self.date_text}印发" if self.as_of else ""

    def annex_lines(self) -> list[str]:
        """The annexes after the 附表 as sentences: 附件2：title, then one line per row (head：value，…)."""
        out = []
        offset = 1 if self.table else 0
        for i, (title, rows) in enumerate(self.annexes):
            head, *body = rows
            out += ["", f"{self.annex_label(i + offset)}：{title}"]
            if head[0] == "序号":  # numbered rows: the columns named once, then 1．value，value…
                out.append("（" + "，".join(head[1:]) + "）")
                out += [f"{row[0]}．" + "，".join(str(v) for v in row[1:] if str(v)) + "。" for row in body]
            else:
                out += [f"{row[0]}：" + "，".join(f"{h}{v}" for h, v in zip(head[1:], row[1:])) + "。" for row in body]
        return out

    def table_lines(self) -> list[str]:
        """The 附表 as sentences (the sheet has no table inside the text)."""
        if not self.table:
            return []
        head, *rows = self.table
        lines = [f"{self.annex_label(0) if self.annexes else '附表'}：{self.table_title}"]
        if self.kind == LEADER:
            return [f"{self.table_title}："] + [f"{row[0]}：" + "，".join(f"{h}{v}" for h, v in zip(head[1:], row[1:]))
                                                + "。" for row in rows]
        for row in rows:
            parts = []
            for i in range(1, len(head) - 1, 3):
                value, rank, move = row[i:i + 3]
                parts.append(f"{head[i]}{value}" + (f"，第{rank}名" if rank else "")
                             + (f"，{'较上期' if move[:2] in ('上升', '下降') else ''}{move}" if move else ""))
            lines.append(f"{row[0]}：" + "；".join(parts) + f"；榜单：{row[-1]}。")
        return lines

    def lines(self) -> list[str]:
        """One paragraph per line, as written to the 通报 sheet."""
        if self.kind == LEADER:  # a page of its own, no 版头
            return [self.title, ""] + self.body() + [""] + self.table_lines() + [
                self.header.full_issuer, self.date_text]
        out = [self.header.full_issuer + KIND_WORDS[self.kind]]
        if self.number_text:
            out.append(self.number_text)
        formal = bool(self.annexes) or self.kind == WEEKLY  # the 附件说明 and the 印发 line of GB/T 9704
        out += [self.title, ""] + self.body() + (self.annex_note() if formal else [])
        out += ["", self.header.full_issuer, self.date_text]
        if self.table:
            out += [""] + self.table_lines()
        out += self.annex_lines()
        if self.header.cc:
            out += ["", f"抄送：{self.header.cc}"]
        if formal:
            out.append(self.imprint)
        return out

    def texts(self) -> list[str]:
        """Every piece of text the notice shows, for the typography checker."""
        return self.lines() + [cell for row in self.table for cell in row]


Section = tuple[str, str]  # (heading, body) of a numbered section


@dataclass(frozen=True)
class NoticeInputs:
    """What a 督查日报 (kind=DAILY) or weekly 通报 (kind=WEEKLY) is written from: the run's figures as of a date,
    and 设置's words and rules.

    `rejected` holds (group, report date, reason in words) of ledgers sent back and not yet corrected,
    `roster` the 今日报送情况 (roster.daily_roster), `start_summary` the 汇总 at the period start (for 本周新增),
    `new_problems` (project name, group, problem, next step) first reported in the period; for the weekly
    通报 `tally` the 本期 报送 per group (roster.weekly_tally), `named` how many outliers a section names (the
    full lists go to the 附件) and `accountability` the 督查问效 rules of 设置; `totals` every quantity's
    totals and increments (consolidate.quantity_totals), `counts` consolidate.campaign_counts, `settings` the
    设置 whose level gives the words (全县/全市, 工作组/县（市、区）) and the rules."""

    summary: pd.DataFrame
    ranking: pd.DataFrame
    rejected: list[tuple[str, dt.date, str]]
    as_of: dt.date
    period_start: dt.date
    unit_name: str
    roster: pd.DataFrame | None = None
    cutoff: dt.time | None = None
    due_soon_days: int = 7
    whole: str = ""
    city: list[str] | None = None
    kind: str = DAILY
    header: Header | None = None
    start_summary: pd.DataFrame | None = None
    unit_key: str = "group"
    new_problems: list[tuple[str, str, str, str]] | None = None
    supervision: pd.DataFrame | None = None
    milestones: pd.DataFrame | None = None
    tally: pd.DataFrame | None = None
    named: int = 2
    accountability: Accountability | None = None
    totals: pd.DataFrame | None = None
    counts: dict | None = None
    settings: Settings | None = None
    key_plots: pd.DataFrame | None = None  # milestones.key_plots: the 重点攻坚地块, for the 督查日报


def build_notice(inputs: NoticeInputs) -> Notice:
    """The 督查日报 or the weekly 通报 as of a date, from one NoticeInputs."""
    n = inputs
    settings = n.settings or Settings()
    words = settings.words
    period = _period(n.period_start, n.as_of)
    header = n.header or Header(level=settings.level)
    notice = Notice(_title(n.kind, n.as_of, period, words, header.county), as_of=n.as_of, kind=n.kind, header=header)
    if n.kind == WEEKLY:
        return _weekly(notice, n, period, settings)
    sections = [
        _overall(n.summary, n.start_summary, n.as_of, period, n.kind, n.whole, n.totals, n.counts, settings),
        _reporting(n.summary, n.roster, n.cutoff, n.as_of, words.unit),
        _daily_gain(n.summary),
        (f"全{words.above}红黑榜中的本{words.name}", tidy("".join(n.city))) if n.city else None,
        _key_plots(n.key_plots, n.as_of),
        _deadlines(n.summary, n.as_of, n.due_soon_days, words.unit),
        _stalled(n.summary, words.unit),
        _never_reported(n.summary),
        _new_problems(n.new_problems, n.kind),
        _returned(n.rejected, words.unit),
    ]
    notice.sections = [section for section in sections if section]
    return notice


@dataclass(frozen=True)
class Accountability:
    """设置's 督查问效: consecutive periods on a 黑榜, days past a 督办 item's 完成时限, and what HQ does."""
    periods: int = 2
    overdue_days: int = 7
    words: str = "由指挥部约谈责任领导，限期说明原因、提出整改措施"


def _weekly(notice: Notice, n: NoticeInputs, period: str, settings: Settings) -> Notice:
    """The weekly 通报: per section the counts and the few named outliers (at most `named`), live things first;
    the full lists as 附件 after the 红黑榜 附表, announced by the 附件说明 before the 落款."""
    words = settings.words
    annexes: list[tuple[str, list[list[str]]]] = []
    late = n.milestones if n.milestones is not None and not n.milestones.empty else None
    items = n.supervision if n.supervision is not None and not n.supervision.empty else None
    labels = iter(range(2, 100))  # 附件1 is the 红黑榜
    node_label = f"附件{next(labels)}" if late is not None else ""
    item_label = f"附件{next(labels)}" if items is not None else ""
    tally_label = f"附件{next(labels)}" if n.tally is not None and not n.tally.empty else ""
    sections = [
        _overall(n.summary, n.start_summary, n.as_of, period, WEEKLY, n.whole, n.totals, n.counts, settings),
        _week_reporting(n.tally, n.rejected, n.cutoff, n.named, tally_label, words.unit) if tally_label else None,
        _weekly_gain(n.summary, n.start_summary, n.unit_name, n.unit_key, n.named),
        (f"全{words.above}红黑榜中的本{words.name}", tidy("".join(n.city))) if n.city else None,
        _red_black_lists(n.ranking, n.unit_name, settings, "附件1"),
        _deadlines(n.summary, n.as_of, n.due_soon_days, words.unit, n.named),
        _milestone_counts(late, n.as_of, n.named, node_label) if late is not None else None,
        _stalled(n.summary, words.unit, n.named),
        _never_reported(n.summary, n.named),
        _supervision_counts(items, n.named, item_label) if items is not None else _new_problems(n.new_problems, WEEKLY),
        _accountability(n.ranking, items, n.accountability) if n.accountability else None,
        None if tally_label else _returned(n.rejected, words.unit),  # with the week's tally they are counted there
    ]
    notice.sections = [section for section in sections if section]
    notice.table_title = lists_title(n.unit_name, f"截至{n.as_of.year}年{day_words(n.as_of)}")
    notice.table = ranking_table(n.ranking, n.unit_name)
    if late is not None:
        annexes.append(("逾期和临期节点清单", _milestone_table(late, n.as_of)))
    if items is not None:
        annexes.append(("尚未销号的督办事项清单", _supervision_table(items, n.as_of)))
    if tally_label:
        annexes.append((f"本期{words.units_all}报送情况（单位：天）", _tally_table(n.tally, words.unit)))
    notice.annexes = annexes
    return notice


def _key_plots(plots: pd.DataFrame | None, as_of: dt.date) -> Section | None:
    """重点攻坚地块 in the 督查日报 (the seed's "重点攻坚地块", 项目清单's flag): each 地块 with its current 节点, its
    planned date and status, and who answers for it (责任领导、责任人)."""
    if plots is None or plots.empty:
        return None
    parts = []
    for r in plots.to_dict("records"):
        name = f"{r['project_name']}{r['plot'] or ''}"
        if not r["milestone"]:
            parts.append(f"{name}各节点已完成")
            continue
        when = f"计划{day_near(r['planned'], as_of)}完成，" if isinstance(r["planned"], dt.date) else ""
        people = "、".join(p for p in (f"责任领导{r['leader']}" if r["leader"] else "",
                                        f"责任人{r['person']}" if r["person"] else "") if p)
        parts.append(f"{name}正在{r['milestone']}（{when}{r['status']}{'；' + people if people else ''}）")
    return "重点攻坚地块", "；".join(parts) + "。"


def _cap(names: list[str], named: int | None, unit: str = "个") -> str:
    """The first `named` names joined by 、, and 等N个 when there are more."""
    if named is None or len(names) <= named:
        return "、".join(names)
    return "、".join(names[:named]) + f"等{len(names)}{unit}"


def _week_reporting(tally: pd.DataFrame | None, rejected: list[tuple[str, str, str]], cutoff: dt.time | None,
                    named: int, label: str, unit: str) -> Section | None:
    """本期报送情况: the week's discipline per group in counts, the groups at fault named; ledgers sent back and
    not corrected counted (the reasons are in 校验报告)."""
    if tally is None or tally.empty:
        return None
    body = tidy(tally_sentence(tally, cutoff, named, unit)) if cutoff is not None else ""
    if rejected:
        groups = list(dict.fromkeys(group or "填报单位不明" for group, _, _ in rejected))
        body += f"退回修改尚未更正的台账{len(rejected)}份（{_cap(groups, named)}），请修改后重新报送。"
    if label:
        body += f"逐日情况见{label}。"
    return "本期报送情况", body


def _milestone_counts(late: pd.DataFrame, as_of: dt.date, named: int, label: str) -> Section:
    """节点计划 of the 通报: late and at-risk nodes counted per 责任领导, the longest overdue named."""
    status = late["status"].astype(str)
    overdue = late[status.str.startswith("已逾期")]
    soon = late[~status.str.startswith("已逾期")]
    text = f"已逾期的节点{len(overdue)}个、临期的节点{len(soon)}个，涉及项目{late['project_id'].nunique()}个"
    if "leader" in late.columns:
        per = []
        for leader, rows in late.groupby(late["leader"].fillna("").astype(str), sort=False):
            st = rows["status"].astype(str)
            o, r = int(st.str.startswith("已逾期").sum()), int((~st.str.startswith("已逾期")).sum())
            per.append((o, r, leader.split("（")[0] or "未定责任领导"))
        per.sort(key=lambda x: (-x[0], -x[1]))
        text += "。按责任领导：" + "；".join(f"{name}逾期{o}个" + (f"、临期{r}个" if r else "")
                                           for o, r, name in per)
    if not overdue.empty:
        worst = overdue.sort_values("planned", kind="stable").head(named)
        text += "。逾期最久的：" + "、".join(
            f"{r.project_name}{r.milestone}（计划{day_near(r.planned, as_of)}）" + _owner(r) for r in worst.itertuples())
    return "节点计划", text + f"。全部节点见{label}，请责任领导对照作战图倒排工期。"


def _owner(row) -> str:
    owner = getattr(row, "owner", "")
    return f"，责任人{owner}" if isinstance(owner, str) and owner.strip() else ""


def _milestone_table(late: pd.DataFrame, as_of: dt.date) -> list[list[str]]:
    """附件: every late or at-risk node, the longest overdue first."""
    with_owner = "owner" in late.columns
    head = ["序号", "项目名称", "节点", "责任领导"] + (["责任人"] if with_owner else []) + ["计划完成", "状态"]
    rows = [head]
    for i, r in enumerate(late.sort_values("planned", kind="stable").itertuples(), 1):
        rows.append([str(i), str(r.project_name), str(r.milestone), str(getattr(r, "leader", "") or "").split("（")[0]]
                    + ([str(getattr(r, "owner", "") or "")] if with_owner else [])
                    + [day_near(r.planned, as_of), tidy(str(r.status).replace("（", "，").replace("）", ""))])
    return rows


def _supervision_counts(items: pd.DataFrame, named: int, label: str) -> Section:
    """督办事项 of the 通报: the open items counted by kind, the live ones named first (交办 and overdue, then
    持续 by days open, then 新增), those awaiting 销号 counted last."""
    ordered = order_items(items)
    status = ordered["status"]
    overdue = int(ordered["alert"].fillna("").astype(str).str.startswith(OVERDUE_WORD).sum())
    hq = int((ordered["source"] == FROM_HQ).sum())
    counts = [(f"指挥部交办{hq}项", hq), (f"逾期{overdue}项", overdue),
              (f"持续{int((status == ONGOING).sum())}项", int((status == ONGOING).sum())),
              (f"新增{int((status == NEW).sum())}项", int((status == NEW).sum())),
              (f"待确认销号{int((status == TO_CONFIRM).sum())}项", int((status == TO_CONFIRM).sum()))]
    text = f"尚未销号的督办事项{len(items)}项，其中" + "、".join(w for w, n in counts if n) + "。"
    live = ordered[status != TO_CONFIRM].head(named)
    if not live.empty:
        text += "请重点督办：" + "；".join(_pressing(r) for r in live.to_dict("records")) + "。"
    if (status == TO_CONFIRM).any():
        text += "待确认销号的请核实后销号。"
    return "督办事项", text + f"全部事项见{label}。"


def _pressing(item: dict) -> str:
    """One live item in a sentence of the 通报: project, the problem in its latest words, how long or how late,
    the leader by name."""
    text = f"{item.get('project') or '指挥部交办'}“{tidy(str(item['problem'])).rstrip('。；')}”"
    alert = str(item.get("alert") or "")
    state = alert if alert.startswith(OVERDUE_WORD) else "新发现" if item["status"] == NEW else \
        f"已持续{int(item['days_open'])}天"
    leader = str(item.get("leader") or "").split("（")[0]
    owner = str(item.get("owner") or "")
    return text + f"（{state}" + (f"，责任领导{leader}" if leader else "") + (f"，责任人{owner}" if owner else "") + "）"


def _supervision_table(items: pd.DataFrame, as_of: dt.date) -> list[list[str]]:
    """附件: every open 督办 item in the order of the 通报."""
    rows = [["序号", "项目名称", "问题", "首次报告", "状态", "责任领导"]]
    for i, r in enumerate(order_items(items).to_dict("records"), 1):
        first = r.get("first_seen")
        state = str(r["status"]) + (f"，{int(r['days_open'])}天" if r["status"] == ONGOING else "")
        if str(r.get("alert") or "").startswith(OVERDUE_WORD):
            state += f"，{r['alert']}"
        rows.append([str(i), str(r.get("project") or "指挥部交办"), tidy(str(r["problem"])).rstrip("。；"),
                     day_near(first, as_of) if isinstance(first, dt.date) else "", state,
                     str(r.get("leader") or "").split("（")[0]])
    return rows


def _tally_table(tally: pd.DataFrame, unit: str) -> list[list[str]]:
    """附件: the week's 报送 per work group."""
    return [[unit, *TALLY_LABELS[1:]]] + [[str(r.group), str(r.on_time), str(r.late), str(r.missing), str(r.returned)]
                                   for r in tally.itertuples(index=False)]


def _accountability(ranking: pd.DataFrame, items: pd.DataFrame | None, rules: Accountability) -> Section | None:
    """督查问效: units on a 黑榜 for 设置's periods in a row, and 督办 items overdue by 设置's days, named with 设置's
    wording; None when nothing qualifies."""
    units: dict[str, list[str]] = {}
    for key, label in METRICS:
        streak = f"{key}_streak"
        if streak not in ranking:
            continue
        listed = ranking[ranking[f"{key}_black"] & (ranking[streak] >= rules.periods)]
        for unit, periods in zip(listed["unit"], listed[streak]):
            units.setdefault(str(unit), []).append(f"{label}连续{int(periods)}期")
    late = []
    if items is not None:
        for r in order_items(items).to_dict("records"):
            alert = str(r.get("alert") or "")
            days = int(alert[len(OVERDUE_WORD):-1]) if alert.startswith(OVERDUE_WORD) and alert.endswith("天") else 0
            if days >= rules.overdue_days:
                late.append(f"{r.get('project') or '指挥部交办'}“{tidy(str(r['problem'])).rstrip('。；')}”（已逾期{days}天）")
    if not units and not late:
        return None
    parts = []
    if units:
        parts.append(f"连续{rules.periods}期以上列入黑榜的：" + "、".join(
            f"{unit}（{'、'.join(why)}列入黑榜）" for unit, why in units.items()))
    if late:
        parts.append(f"超过完成时限{rules.overdue_days}天以上未办结的督办事项：" + "、".join(late))
    return "督查问效", "；".join(parts) + f"。对上述单位和事项，{rules.words.rstrip('。')}。"


def _period(period_start: dt.date, as_of: dt.date) -> str:
    """The days after the period start up to the as-of date: 11月18日至11月24日, with years across a new year."""
    first = period_start + dt.timedelta(days=1)
    if first.year == as_of.year:
        return f"{day_words(first)}至{day_words(as_of)}"
    return f"{first.year}年{day_words(first)}至{as_of.year}年{day_words(as_of)}"


def _title(kind: str, as_of: dt.date, period: str, words: Level, place: str = "") -> str:
    if kind == DAILY:
        return f"重点项目和民生工程用地保障攻坚督查日报（{as_of.year}年{day_words(as_of)}）"
    return words.title_of_weekly(place, period)


def _overall(summary: pd.DataFrame, start_summary: pd.DataFrame | None, as_of: dt.date, period: str, kind: str,
             whole: str, totals: pd.DataFrame | None = None, counts: dict | None = None,
             settings: Settings | None = None) -> Section:
    """总体进展, in the seed's order: the projects, plan, cumulative and rate, the 市级 projects; every quantity
    攻坚以来 (累计完成土地征收…亩，签订房屋补偿安置协议…栋…); the counts (全面完成征拆, 净地, 剩余市级); the day's
    (or the period's) increments of every quantity; how many moved in the period; then `whole`, the
    figures on the city's terms."""
    settings = settings or Settings()
    words = settings.words
    plan = float(summary["plan_mu"].sum())
    done = float(summary["acquired_mu"].sum())
    text = (f"{words.whole}纳入攻坚的项目共{len(summary)}个，计划征地{mu(plan)}，累计完成征地{mu(done)}，"
            f"征地完成率{percent(done / plan) if plan else '暂无'}；")
    if counts and counts.get("city"):
        # Their rates follow in the whole line (on the city's terms) when there is one.
        text += (f"其中市级项目{counts['city']}个，面积合计{mu(counts['city_plan'])}" + ("；" if whole else
                 f"，累计完成征地{mu(counts['city_acquired'])}，完成率"
                 f"{percent(counts['city_rate']) if counts['city_plan'] else '暂无'}；"))
    if totals is not None and not totals.empty:
        since = (f"自{day_near(settings.campaign_start, as_of)}攻坚行动以来，" if settings.campaign_start
                 and settings.campaign_start < as_of else "")
        column = "campaign" if since else "total"
        # 征地 since the start of all reporting was given above; since a 攻坚开始日期 it is a figure of its own.
        rows = [r for r in totals.itertuples() if since or r.key != "acquired_mu"]
        text += since + "累计" + "，".join(f"{r.words}{amount(getattr(r, column), r.unit)}" for r in rows) + "；"
    if counts:
        text += (f"全面完成征拆任务（未净地）的项目{counts['done']}个，已实现净地交付的项目{counts['net']}个"
                 + (f"，剩余{counts['city_left']}个市级项目待完成征拆" if counts.get("city") else "") + "；")
    if kind == DAILY:
        # The county's cumulative as of the date minus as of the day before: a project first reported today
        # gains all it has (no delta), a project not reported today gains 0 (its delta is 0).
        delta = float(summary["acquired_delta"].fillna(summary["acquired_mu"]).sum())
        text += f"当日新增征地{mu(delta)}（与{day_words(as_of - dt.timedelta(days=1))}相比）"
        text += _other_gains(totals, "day") + "；"
    else:
        text += f"本周新增征地{mu(float(_week_gain(summary, start_summary).sum()))}" + _other_gains(totals, "period") + "；"
    moving = int((summary["progress"] == "是").sum())
    net = int((summary["status"] == NET_LAND).sum())
    text += f"本期（{period}）有进展的项目{moving}个" + (f"，已实现净地交付的项目{net}个。" if not counts else "。")
    return "总体进展", text + (f"{tidy(whole)}。" if whole else "")


def amount(value: float, unit: str) -> str:
    """A quantity as notices write it: areas with two decimals (12.50亩), counts whole (3栋)."""
    return f"{value:,.2f}{unit}" if unit == "亩" else f"{value:,.0f}{unit}"


def _other_gains(totals: pd.DataFrame | None, column: str) -> str:
    """The increments of the quantities other than 征地 that rose: ，新增房屋协议3栋、清表2.00亩."""
    if totals is None or totals.empty:
        return ""
    rose = [f"{r.name}{amount(getattr(r, column), r.unit)}" for r in totals.itertuples()
            if r.key != "acquired_mu" and getattr(r, column) > 1e-9]
    return f"，{'、'.join(rose)}" if rose else "，其余各项无新增"


def _reporting(summary: pd.DataFrame, roster: pd.DataFrame | None, cutoff: dt.time | None,
               as_of: dt.date, unit: str) -> Section | None:
    """11月24日报送情况: who reported on the day and who late (the roster), and how many projects are silent."""
    if roster is None or roster.empty or cutoff is None:  # 设置's cut-off always comes with a roster
        return None
    silent = int(has_flag(summary, NOT_TODAY).sum())
    body = tidy(roster_sentence(roster, cutoff, unit))
    if silent:
        body += f"当日未报数据的项目{silent}个，其进度按最近一次报送计，不计入当日新增。"
    return f"{day_words(as_of)}报送情况", body


def _daily_gain(summary: pd.DataFrame) -> Section | None:
    """当日进展: the projects whose acquired area grew on the day, the largest gain first."""
    gained = summary[summary["acquired_delta"].fillna(0) > 0].sort_values("acquired_delta", ascending=False)
    if gained.empty:
        return None
    return "当日进展", f"当日征地有增加的项目{len(gained)}个：" + "、".join(
        f"{r.project_name}新增{mu(float(r.acquired_delta))}" for r in gained.itertuples()) + "。"


def _weekly_gain(summary: pd.DataFrame, start_summary: pd.DataFrame | None, unit_name: str,
                 unit_key: str, named: int | None = None) -> Section:
    """本周新增: the week's acquired area per unit, then the projects that gained, the largest first."""
    week = summary.assign(week=_week_gain(summary, start_summary))
    by_unit = week.groupby(unit_key, sort=False)["week"].sum()
    parts = [f"{unit}{mu(float(v))}" for unit, v in by_unit.sort_values(ascending=False).items()]
    gained = week[week["week"] > 0].sort_values("week", ascending=False)
    text = f"按{unit_name}：" + _cap(parts, named) + "。"
    if not gained.empty:
        text += f"本周征地有增加的项目{len(gained)}个" + ("，增加最多的：" if named and len(gained) > named else "：") \
            + "、".join(f"{r.project_name}{mu(float(r.week))}" for r in gained.head(named or len(gained)).itertuples()) + "。"
    return "本周新增", text


def _red_black_lists(ranking: pd.DataFrame, unit_name: str, settings: Settings | None = None,
                     table_label: str = "附表") -> Section | None:
    """红黑榜: per metric the average (the seed's "全市平均水平"), the red list and the black list in words,
    each unit with its value and, where so, 低于平均水平 (the full table is in the 附表 or 附件1)."""
    settings = settings or Settings()
    words = settings.words
    lists = []
    for key, label in METRICS:
        red = _named(ranking, key, "red")
        black = _named(ranking, key, "black")
        if red or black:
            average = ranking[f"{key}_average"].dropna()
            mean = f"（{words.whole}平均水平{rate_words(float(average.iloc[0]))}）" if len(average) else ""
            lists.append(f"{label}{mean}红榜{words.listed}：{red or '无'}；黑榜{words.listed}：{black or '无'}")
    if not lists:
        return None
    return (lists_title(unit_name), "；".join(lists) + f"。{basis_words(settings)}。数值和排名见{table_label}。")


def lists_title(unit_name: str, note: str = "") -> str:
    """红黑榜（按工作组，截至…）, or 县（市、区）红黑榜（截至…） where the unit's name has brackets of its own
    (official typography puts no bracket inside a bracket)."""
    if "（" in unit_name:
        return f"{unit_name}红黑榜" + (f"（{note}）" if note else "")
    return f"红黑榜（按{unit_name}" + (f"，{note}" if note else "") + "）"


def _deadlines(summary: pd.DataFrame, as_of: dt.date, due_soon_days: int, unit: str,
               named: int | None = None) -> Section | None:
    """净地交付期限: projects past their net-land deadline, then those within `due_soon_days` of it."""
    overdue = summary[has_flag(summary, OVERDUE)]
    due = summary[has_flag(summary, DUE_SOON)]
    parts = []
    if not overdue.empty:
        parts.append(f"已超过净地交付期限的项目{len(overdue)}个：" + _cap([
            f"{r.project_name}（{r.group}，期限{day_near(r.deadline, as_of)}，已逾期{-int(r.days_left)}天）"
            for r in overdue.sort_values("days_left", kind="stable").itertuples()], named))
    if not due.empty:
        parts.append(f"距净地交付期限不足{due_soon_days}天的项目{len(due)}个：" + _cap([
            f"{r.project_name}（{r.group}，期限{day_near(r.deadline, as_of)}，还剩{int(r.days_left)}天）"
            for r in due.sort_values("days_left", kind="stable").itertuples()], named))
    if not parts:
        return None
    return "净地交付期限", "；".join(parts) + "。请责任领导倒排工期、按期交付。"


def _stalled(summary: pd.DataFrame, unit: str, named: int | None = None) -> Section | None:
    """无进展项目: projects without progress for several days (the longest first), and for how long."""
    stalled = summary[has_flag(summary, STALLED)].sort_values("stalled_days", ascending=False, kind="stable")
    if stalled.empty:
        return None
    names = _cap([f"{r.project_name}（{r.group}，已{int(r.stalled_days)}天无进展）" for r in stalled.itertuples()], named)
    return "无进展项目", f"连续无进展的项目{len(stalled)}个：{names}。请责任{unit}说明原因并提出措施。"


def _never_reported(summary: pd.DataFrame, named: int | None = None) -> Section | None:
    """未报送数据的项目: projects no ledger has ever reported."""
    missing = summary[has_flag(summary, NOT_REPORTED)]
    if missing.empty:
        return None
    return "未报送数据的项目", f"从未报送数据的项目{len(missing)}个：" + _cap(
        [f"{r.project_name}（{r.group}）" for r in missing.itertuples()], named) + "。"


def _new_problems(new_problems: list[tuple[str, str, str, str]] | None, kind: str) -> Section | None:
    """新发现的问题 (督查日报) or 督办事项 (a 通报 without the register): the problems first reported in the
    period, each with its next step."""
    if not new_problems:
        return None
    heading = "新发现的问题" if kind == DAILY else "督办事项"
    return heading, "；".join(
        f"{project}（{group}）：{tidy(problem).rstrip('。；')}"
        + (f"，下步措施：{tidy(step).rstrip('。；')}" if step else "")
        for project, group, problem, step in new_problems) + "。请责任领导督促落实。"


def _returned(rejected: list[tuple[str, str, str]], unit: str) -> Section | None:
    """退回修改未更正的台账: ledgers sent back and not corrected yet, with the reason."""
    if not rejected:
        return None
    items = "；".join((f"{group}{day_words(date)}的台账" if group else f"{day_words(date)}一份填报单位不明的台账")
                     + f"，原因：{reason}"
                     for group, date, reason in rejected)
    return "退回修改未更正的台账", f"共{len(rejected)}份：{items}。请相关{unit}按校验报告修改后重新报送。"


SUPERVISED_SHOWN = 8


def _supervised(item: dict, with_leader: bool = True) -> str:
    """One 督办 item in words: project and group, the problem, how long, what next, leader, owner, due date."""
    text = (f"{item['project']}（{item['group']}）" if item.get("project") else "指挥部交办") + \
        f"：{tidy(str(item['problem'])).rstrip('。；')}"
    days = int(item["days_open"])
    text += {"新增": "，新发现", "待确认销号": "，工作组已多日未再报告，待核实销号"}.get(
        item["status"], f"，已持续{days}天")
    if item.get("next_step"):
        text += f"，下步措施：{tidy(str(item['next_step'])).rstrip('。；')}"
    if item.get("leader") and with_leader:
        text += f"，责任领导{item['leader']}"
    if item.get("owner"):
        text += f"，责任人{item['owner']}"
    due = item.get("due")
    if isinstance(due, dt.date):
        text += f"，完成时限{day_words(due)}"
    if str(item.get("alert") or "").startswith("逾期"):
        text += f"，已{item['alert']}"
    return text


def supervision_text(items: pd.DataFrame, shown_at_most: int | None = None, with_leader: bool = True) -> str:
    """The open items, live first (指挥部交办 and overdue, 持续 by days open, 新增, then 待确认销号)."""
    ordered = order_items(items)  # live first: 交办 and overdue, 持续 by days open, 新增, 待确认销号 last
    shown = ordered.head(shown_at_most or SUPERVISED_SHOWN).to_dict("records")
    text = f"尚未销号的督办事项{len(items)}项" + (f"，择要列出{len(shown)}项" if len(items) > len(shown) else "") + "："
    text += "；".join(_supervised(r, with_leader) for r in shown) + "。"
    if len(items) > len(shown):
        text += f"其余{len(items) - len(shown)}项见母表督办台账。"
    return text + "请责任领导督促落实，按期销号。"


def _week_gain(summary: pd.DataFrame, start_summary: pd.DataFrame | None) -> pd.Series:
    """Acquired area gained since the period start, per project (all of it when nothing was reported then)."""
    if start_summary is None:
        return summary["acquired_mu"].astype(float) * 0
    before = start_summary.set_index("project_id")["acquired_mu"].astype(float)
    return (summary["acquired_mu"].astype(float) - summary["project_id"].map(before).fillna(0.0)).clip(lower=0)


RANK_PARTS = ("", "名次", "较上期")  # per metric in the 附表: value, rank, movement


def ranking_table(ranking: pd.DataFrame, unit_name: str) -> list[list[str]]:
    """The 附表, best 征地完成率 first: per unit each metric's value, rank and movement in words, then its lists.
    Header labels are metric + part (征地完成率, 征地完成率名次, 征地完成率较上期)."""
    head = [unit_name] + [label + part for _, label in METRICS for part in RANK_PARTS] + ["榜单"]
    rows = [head]
    first_key = METRICS[0][0]
    ordered = ranking.sort_values(f"{first_key}_rank", kind="stable", na_position="last")
    for record in ordered.to_dict("records"):
        row = [str(record["unit"])]
        marks = []
        for key, label in METRICS:
            value, rank = record.get(key), record.get(f"{key}_rank")
            if value is None or pd.isna(value) or rank is None or pd.isna(rank):
                row += ["不参与", "", ""]
                continue
            move = move_words(str(record.get(f"{key}_move") or ""))
            row += [percent(float(value)), str(int(rank)), {"与上期持平": "持平", "本期新参与排名": "新参与"}.get(
                move, move.removeprefix("较上期"))]
            if record.get(f"{key}_red"):
                marks.append(f"{label}红榜")
            if record.get(f"{key}_black"):
                marks.append(f"{label}黑榜")
        row.append("、".join(marks) or "无")
        rows.append(row)
    return rows


def _named(ranking: pd.DataFrame, key: str, which: str) -> str:
    """Units on a list, best first for red and worst first for black, with their movement in words and,
    from the second period running on the list, how many periods they have been on it."""
    rows = ranking[ranking[f"{key}_{which}"]].sort_values(f"{key}_rank", ascending=which == "red")
    streaks = rows[f"{key}_streak"] if f"{key}_streak" in rows else pd.Series(0, index=rows.index)
    below = rows[f"{key}_below"] if f"{key}_below" in rows else pd.Series("", index=rows.index)
    names = []
    for unit, value, move, streak, under in zip(rows["unit"], rows[key], rows[f"{key}_move"], streaks, below):
        notes = [rate_words(float(value))] + (["低于平均水平"] if under == "是" else [])
        notes += [move_words(move)] if move and move not in ("—", "新") else []
        if streak >= 2:
            notes.append(f"连续{int(streak)}期上榜")
        names.append(f"{unit}（{'，'.join(notes)}）" if notes else unit)
    return "、".join(names)
