"""The 节点计划 of a run: the store's first dates by key, staff's entries read back, 倒排工期 (milestones.py)."""

from __future__ import annotations

import datetime as dt

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import normalize_label
from xladdin.domain.milestones import (
    DERIVED,
    NET_LAND_KEY,
    Reached,
    build_plan,
    parse_days,
    parse_milestones,
    previous_rows,
)
from xladdin.domain.settings import Settings
from xladdin.domain.validate import current_ids
from xladdin.store.history import Store
from xladdin.workbook.book import Book
from xladdin.workbook.layout import MILESTONES

WRITTEN_LEADERS = "milestone_leaders"  # kept frame: the 责任领导 the last run filled in, per project


def milestone_plan(book: Book, store: Store, registry: pd.DataFrame, as_of: dt.date,
                   settings: Settings) -> tuple[pd.DataFrame, tuple]:
    """The plan as of the date: one lookup per project and figure in the store (never the history
    itself), the table as staff left it, the 设置 list and 工期; and the table as read (heading, rows),
    so that a run whose plan it already shows does not rewrite it."""
    project, plot, plots = store.milestone_firsts(figure_plans(registry), as_of)
    # A renumbered project (项目清单 › 原编号) keeps what staff typed under its old code.
    renamed = current_ids(registry, store.renumbers())
    written = store.kept_frame(WRITTEN_LEADERS, "")
    leaders = ({renamed.get(str(p), str(p)): leader for p, leader in zip(written["project_id"], written["leader"])}
               if written is not None else {})
    sheet = book.table_rows(MILESTONES.name)
    staff = previous_rows(*_renamed(sheet, renamed))
    plan = build_plan(registry, parse_milestones(settings.milestones), Reached(project, plot, plots), as_of,
                      settings.due_soon_days, staff, parse_days(settings.milestone_days), leaders)
    # A master file keeps a record of its regions and never compares with the table as read: the
    # 20,000 rows read back are let go here (only the live workbook compares).
    return plan, (sheet if getattr(book, "keep_unchanged", None) is None else None)


def _renamed(sheet: tuple, renamed: dict[str, str]) -> tuple:
    """The 节点计划 as read, its rows under a former code (项目清单 › 原编号) given the current one."""
    header, rows = sheet
    at = next((i for i, label in enumerate(header or []) if normalize_label(label) == "项目编号"), None)
    if not renamed or at is None:
        return sheet
    moved = []
    for r, values in rows:
        code = str(values[at] or "").strip() if at < len(values) else ""
        if code in renamed:
            values = [*values[:at], renamed[code], *values[at + 1:]]
        moved.append((r, values))
    return header, moved


def figure_plans(registry: pd.DataFrame) -> list[tuple[str, str, float | None]]:
    """(project, figure, plan) for every figure a milestone is reached by (a plan of 0 reaches nothing),
    and (project, net_land, None)."""
    plans: list[tuple[str, str, float | None]] = []
    columns = {plan_key: pd.to_numeric(registry[plan_key], errors="coerce").fillna(0).tolist()
               for _, plan_key in DERIVED.values()}
    figures = {figure: plan_key for figure, plan_key in DERIVED.values()}
    for i, pid in enumerate(registry["project_id"].astype(str)):
        for figure, plan_key in figures.items():
            target = float(columns[plan_key][i])
            if target > 0:
                plans.append((pid, figure, target))
        plans.append((pid, NET_LAND_KEY, None))
    return plans


def remember_leaders(store: Store, registry: pd.DataFrame) -> None:
    """Keep the 责任领导 this run filled in per project: a node's cell still holding it next time is not
    staff's (it follows the 项目清单), a name staff typed over it is."""
    frame = pd.DataFrame({"project_id": registry["project_id"].astype(str),
                          "leader": registry["leader"].fillna("").astype(str)})
    store.keep_frame(WRITTEN_LEADERS, "", frame.reset_index(drop=True))
