"""The 专报 for each 责任领导 (pure): their projects with figures and deadlines as a table, their open 督办
items and their late or at-risk milestones, one page each; written to Word by notice_docx."""

from __future__ import annotations

import datetime as dt

from xladdin.base.lazy import pandas as pd
from xladdin.domain.consolidate import DUE_SOON, NET_LAND, OVERDUE, STALLED, has_flag
from xladdin.notices.compose import LEADER, Header, Notice, Section, day_near, day_words, mu, percent, supervision_text
from xladdin.notices.typography import tidy


def build_leader_notices(summary: pd.DataFrame, as_of: dt.date, header: Header,
                         supervision: pd.DataFrame | None = None, milestones: pd.DataFrame | None = None
                         ) -> list[Notice]:
    """One 专报 per 责任领导: their projects with figures and deadlines (as a table), their open 督办 items and
    their late or at-risk milestones. Projects without a leader are left out (nobody to send them to)."""
    leaders = [str(v) for v in dict.fromkeys(summary["leader"]) if isinstance(v, str) and v.strip()]
    return [_leader_notice(summary[summary["leader"] == leader], leader, as_of, header, supervision, milestones)
            for leader in leaders]


def _leader_notice(mine: pd.DataFrame, leader: str, as_of: dt.date, header: Header,
                   supervision: pd.DataFrame | None, milestones: pd.DataFrame | None) -> Notice:
    """The 专报 to one leader on `mine`, the projects they are responsible for."""
    name = leader.split("（")[0].split("(")[0].strip()  # 陈志强（县委常委、常务副县长） → 陈志强
    title = f"关于{name}同志包保项目攻坚进展情况的专报（截至{as_of.year}年{day_words(as_of)}）"
    notice = Notice(title, as_of=as_of, kind=LEADER, header=Header(
        county=header.county, issuer=header.issuer, number_pattern=header.number_pattern, to=f"{name}同志"))
    names = set(mine["project_name"].astype(str))
    sections = [
        _leader_overall(mine),
        _leader_deadlines(mine, as_of),
        _leader_stalled(mine),
        _leader_milestones(milestones, names, as_of),
        _leader_supervision(supervision, names),
    ]
    notice.sections = [section for section in sections if section]
    notice.table_title = "包保项目进展"
    notice.table = _leader_projects(mine, as_of)
    return notice


def _leader_overall(mine: pd.DataFrame) -> Section:
    """包保项目总体情况: the leader's projects, plan, cumulative, rate, the day's gain, how many net land."""
    plan, done = float(mine["plan_mu"].sum()), float(mine["acquired_mu"].sum())
    delta = float(mine["acquired_delta"].fillna(0).sum())
    return "包保项目总体情况", (f"包保项目{len(mine)}个，计划征地{mu(plan)}，累计完成征地{mu(done)}，"
                                f"征地完成率{percent(done / plan) if plan else '暂无'}，当日新增征地{mu(delta)}；"
                                f"已实现净地交付的项目{int((mine['status'] == NET_LAND).sum())}个。")


def _leader_deadlines(mine: pd.DataFrame, as_of: dt.date) -> Section | None:
    """净地交付期限: the leader's projects past or near their deadline, with the days over or left."""
    late = mine[has_flag(mine, OVERDUE) | has_flag(mine, DUE_SOON)]
    if late.empty:
        return None
    return "净地交付期限", "；".join(
        f"{r.project_name}期限{day_near(r.deadline, as_of)}，"
        + (f"已逾期{-int(r.days_left)}天" if r.days_left < 0 else f"还剩{int(r.days_left)}天")
        for r in late.itertuples()) + "。"


def _leader_stalled(mine: pd.DataFrame) -> Section | None:
    """无进展项目: the leader's projects without progress, and for how long."""
    stalled = mine[has_flag(mine, STALLED)]
    if stalled.empty:
        return None
    return "无进展项目", "、".join(f"{r.project_name}已{int(r.stalled_days)}天无进展" for r in stalled.itertuples()) + "。"


def _leader_milestones(milestones: pd.DataFrame | None, names: set[str], as_of: dt.date) -> Section | None:
    """节点计划: the late or at-risk milestones of the leader's projects (`names`)."""
    if milestones is None:
        return None
    own = milestones[milestones["project_name"].astype(str).isin(names)]
    if own.empty:
        return None
    return "节点计划", "、".join(f"{r.project_name}{r.milestone}（计划{day_near(r.planned, as_of)}完成，{r.status}"
                             + _owner(r) + "）" for r in own.itertuples()) + "。"


def _owner(row) -> str:
    """，责任人X when the node names one (节点计划 › 责任人)."""
    owner = getattr(row, "owner", "")
    return f"，责任人{owner}" if isinstance(owner, str) and owner.strip() else ""


def _leader_supervision(supervision: pd.DataFrame | None, names: set[str]) -> Section | None:
    """督办事项: the open items on the leader's projects (`names`), five at most, without the leader's name."""
    if supervision is None:
        return None
    own = supervision[supervision["project"].astype(str).isin(names)]
    return None if own.empty else ("督办事项", supervision_text(own, 5, with_leader=False))


def _leader_projects(mine: pd.DataFrame, as_of: dt.date) -> list[list[str]]:
    """The 专报's table: per project its 征地完成率, the day's gain, its deadline and its status."""
    return [["项目名称", "征地完成率", "当日新增", "净地交付期限", "状态"]] + [
        [str(r.project_name), percent(float(r.acquisition_rate)) if pd.notna(r.acquisition_rate) else "暂无",
         mu(float(r.acquired_delta)) if pd.notna(r.acquired_delta) else "0.00亩",
         day_near(r.deadline, as_of) if isinstance(r.deadline, dt.date) else "未定",
         tidy(unbracket_status(str(r.status)))] for r in mine.itertuples()]


def unbracket_status(status: str) -> str:
    """临期（剩 5 天） → 临期，剩5天 (a status stands in a table cell or inside brackets of its own)."""
    return tidy(status.replace("（", "，").replace("）", ""))
