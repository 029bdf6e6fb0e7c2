"""督办台账: every distinct problem a group writes in 存在问题 becomes an item, and HQ adds its own (pure).

An item is a project and a problem (the words as written). Its status:
- 新增: first reported on the as-of date (or added by HQ and not yet worked on);
- 持续: still in the project's latest report (or an HQ item still open);
- 待确认销号: the group's latest report no longer names it: staff confirm by writing 已销号;
- 已销号: staff wrote it in the 状态 column of the 督办台账 (read back on the next run), whatever the reports say.
An HQ item (来源 指挥部交办, typed into the table by staff with its 责任人 and 完成时限) is kept as written;
open items past their 完成时限 are flagged 逾期.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from xladdin.base.values import parse_date

NEW, ONGOING, TO_CONFIRM, CLOSED = "新增", "持续", "待确认销号", "已销号"
FROM_GROUP, FROM_HQ = "工作组报送", "指挥部交办"
OVERDUE_WORD = "逾期"
LABELS = ("项目名称", "责任工作组", "责任领导", "问题", "首次报告日期", "已持续天数", "最新下步措施", "状态", "来源", "责任人",
          "完成时限", "督办提示")
KEYS = ("project", "group", "leader", "problem", "first_seen", "days_open", "next_step", "status", "source", "owner",
        "due", "alert")
_SPLIT = re.compile(r"[；;\n]+")


def problems_in(text: str) -> list[str]:
    """The distinct problems of one 存在问题 cell (several are separated by ； or line breaks)."""
    return list(dict.fromkeys(p.strip().rstrip("。") for p in _SPLIT.split(text or "") if p.strip()))


def build_register(reports: pd.DataFrame, registry: pd.DataFrame, as_of: dt.date,
                   previous: list[dict] | None = None) -> pd.DataFrame:
    """The register as of a date. `reports`: project_id, report_date (date), problems, next_steps, one row per
    project and report date up to as_of; `previous`: the rows of the 督办台账 as staff left them (KEYS)."""
    previous = previous or []
    closed = {(str(r.get("project") or ""), str(r.get("problem") or "")) for r in previous
              if str(r.get("status") or "").strip() == CLOSED}
    names = dict(zip(registry["project_id"], registry["project_name"]))
    info = registry.set_index("project_id")
    items: list[dict] = []
    reports = reports[reports["report_date"] <= as_of].sort_values(["project_id", "report_date"], kind="stable")
    for project_id, rows in reports.groupby("project_id", sort=False):
        if project_id not in names:
            continue
        latest_date = rows["report_date"].iloc[-1]
        first_seen: dict[str, dt.date] = {}
        last_seen: dict[str, dt.date] = {}
        step: dict[str, str] = {}
        for date, problems, steps in zip(rows["report_date"], rows["problems"], rows["next_steps"]):
            for problem in problems_in(problems):
                first_seen.setdefault(problem, date)
                last_seen[problem] = date
                step[problem] = str(steps or "").strip()
        name = str(names[project_id])
        for problem, first in first_seen.items():
            if (name, problem) in closed:
                status = CLOSED
            elif last_seen[problem] != latest_date:
                status = TO_CONFIRM
            else:
                status = NEW if first == as_of else ONGOING
            end = last_seen[problem] if status in (CLOSED, TO_CONFIRM) else as_of
            items.append({"project": name, "group": str(info.at[project_id, "group"] or ""),
                          "leader": str(info.at[project_id, "leader"] or "") if "leader" in info else "",
                          "problem": problem, "first_seen": first, "days_open": (end - first).days,
                          "next_step": step[problem], "status": status, "source": FROM_GROUP, "owner": "",
                          "due": None, "alert": ""})
    for row in previous:  # HQ's own items: whatever staff typed, kept, with days open and overdue worked out
        if str(row.get("source") or "").strip() == FROM_GROUP or not str(row.get("problem") or "").strip():
            continue
        first = parse_date(row.get("first_seen")) or as_of
        due = parse_date(row.get("due"))
        status = str(row.get("status") or "").strip() or NEW
        item = {key: row.get(key) for key in KEYS}
        item.update(source=FROM_HQ, first_seen=first, due=due, status=status,
                    days_open=(as_of - first).days, alert="")
        items.append(item)
    for item in items:
        due = item["due"]
        if item["status"] != CLOSED and isinstance(due, dt.date) and due < as_of:
            item["alert"] = f"{OVERDUE_WORD}{(as_of - due).days}天"
        elif item["status"] == TO_CONFIRM:
            item["alert"] = "工作组已不再报告，请核实后将状态改为已销号"
    frame = pd.DataFrame(items, columns=list(KEYS))
    order = {NEW: 0, ONGOING: 1, TO_CONFIRM: 2, CLOSED: 3}
    return frame.assign(_o=frame["status"].map(order).fillna(1)).sort_values(
        ["_o", "first_seen"], kind="stable").drop(columns="_o").reset_index(drop=True)


def previous_rows(header: list[str], rows: list[tuple[int, list[object]]]) -> list[dict]:
    """The 督办台账 as staff left it, as dicts keyed by KEYS (columns found by their labels)."""
    position = {label: i for i, label in enumerate(header)}
    out = []
    for _, values in rows:
        out.append({key: values[position[label]] if label in position and position[label] < len(values) else None
                    for key, label in zip(KEYS, LABELS)})
    return out


def open_items(register: pd.DataFrame) -> pd.DataFrame:
    return register[register["status"] != CLOSED]
