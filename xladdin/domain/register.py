"""督办台账: one item per problem a group reports in 存在问题, whatever words it uses day to day, and HQ's own (pure).

Threading. A project's problem is an item (编号 项目编号-序号, e.g. SJ-03-2). Each wording a group writes is
normalised (full width folded, punctuation, spaces and digits dropped: "还有3户未签约" and "还有2户未签约。"
are one wording) and belongs to one item for good (the store keeps the assignment). A wording not seen
before joins the project's open item it most resembles when the likeness (similarity: characters and
character bigrams, against every wording the item has had) reaches 设置 › 督办相似度; else it opens a new item. Staff
correct the threading in the 督办台账: 并入编号 (this item is the same problem as that one of the same
project: all its wordings move there) and 拆出表述 (the numbers of wordings in 历次表述 that are another
problem: they move to a new item). The next run honours both, once.

Status, per item:
- 新增: first reported on the as-of date (or added by HQ and not yet worked on);
- 持续: still reported, or not named for fewer than 设置 › 督办待确认天数 days since the project last named it;
- 待确认销号: the project went on reporting without naming it for that many days: staff confirm 已销号;
- 已销号: staff wrote it in the 状态 column (read back on the next run), whatever the reports say.
An HQ item (来源 指挥部交办, typed into the table by staff with its 责任人 and 完成时限) is kept as written;
open items past their 完成时限 are flagged 逾期.

Order (everywhere a selection is made): 指挥部交办 and overdue first, then 持续 by days open, then 新增,
then 待确认销号; 已销号 last.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from xladdin.base.lazy import pandas as pd
from xladdin.base.values import parse_date

NEW, ONGOING, TO_CONFIRM, CLOSED = "新增", "持续", "待确认销号", "已销号"
FROM_GROUP, FROM_HQ = "工作组报送", "指挥部交办"
OVERDUE_WORD = "逾期"
LABELS = ("编号", "项目名称", "责任工作组", "责任领导", "问题", "首次报告日期", "已持续天数", "最新下步措施", "状态", "来源",
          "责任人", "完成时限", "督办提示", "历次表述", "并入编号", "拆出表述")
KEYS = ("item_id", "project", "group", "leader", "problem", "first_seen", "days_open", "next_step", "status", "source",
        "owner", "due", "alert", "wordings", "merge_into", "split")
DEFAULT_SIMILARITY = 0.25
DEFAULT_SILENT_DAYS = 3
HQ_PREFIX = "交办-"
_SPLIT = re.compile(r"[；;\n]+")
_NUMBERS = re.compile(r"\d+")
# A 存在问题 cell that says there is none.
NONE_WORDS = frozenset({"无", "暂无", "没有", "无问题", "暂无问题", "无困难", "暂无困难", "正常", "无明显问题"})


def problems_in(text: str) -> list[str]:
    """The distinct problems of one 存在问题 cell (several are separated by ； or line breaks); "无" is none."""
    found = (p.strip().rstrip("。.") for p in _SPLIT.split(text or "") if p.strip())
    return list(dict.fromkeys(p for p in found if p and wording_key(p) not in NONE_WORDS and wording_key(p)))


def wording_key(text: str) -> str:
    """A wording as compared: full width folded, digits, spaces, punctuation and symbols dropped."""
    text = _NUMBERS.sub("", unicodedata.normalize("NFKC", str(text)))
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").lower()


def _grams(key: str) -> tuple[set[str], set[str]]:
    """A wording key's characters and its pairs of neighbouring characters."""
    return set(key), {key[i:i + 2] for i in range(len(key) - 1)}


def _dice(x: set[str], y: set[str]) -> float:
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def _likeness(a: str, b: str) -> float:
    """similarity of two wording keys."""
    (chars_a, pairs_a), (chars_b, pairs_b) = _grams(a), _grams(b)
    if not pairs_a or not pairs_b:  # a one-character wording: its characters only
        return _dice(chars_a, chars_b)
    return (_dice(chars_a, chars_b) + _dice(pairs_a, pairs_b)) / 2


def similarity(a: str, b: str) -> float:
    """How alike two wordings are, 0 to 1: the mean of the Dice coefficients of their characters and of their
    character bigrams (after wording_key). Rewordings of one problem keep its nouns (安置房源, 坟山, 资金) and
    score 0.25 to 0.7; different problems share little but 群众, 工作 and score below 0.2."""
    return _likeness(wording_key(a), wording_key(b))


Threads = dict[tuple[str, str], str]  # (project_id, wording key) -> item id


def item_number(item_id: str) -> int:
    tail = str(item_id).rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def next_item_id(project_id: str, taken: set[str]) -> str:
    """The project's next free 编号: 项目编号-1, -2, …"""
    used = [item_number(i) for i in taken if str(i).startswith(f"{project_id}-")]
    return f"{project_id}-{max(used, default=0) + 1}"


def thread_problems(reports: pd.DataFrame, threads: Threads, threshold: float = DEFAULT_SIMILARITY,
                    closed: frozenset[str] | set[str] = frozenset(), used: set[str] | None = None) -> Threads:
    """The items of the wordings in `reports` (project_id, report_date, problems) that `threads` does not
    know yet, in report order: each joins the project's most alike open item (not in `closed`) when the
    likeness reaches `threshold`, else opens a new one (with a 编号 not in `used`, the 编号 ever given).
    Returns only the new assignments."""
    known = dict(threads)
    used = set(used or ())
    members: dict[str, dict[str, list[str]]] = {}  # project -> item -> wording keys
    for (project, key), item in known.items():
        members.setdefault(project, {}).setdefault(item, []).append(key)
    new: Threads = {}
    ordered = reports.sort_values(["report_date", "project_id"], kind="stable")
    for project, cell in zip(ordered["project_id"], ordered["problems"]):
        for problem in problems_in(cell):
            key = wording_key(problem)
            if (project, key) in known:
                continue
            items = members.setdefault(project, {})
            best, score = None, 0.0
            for item, keys in items.items():
                if item in closed:
                    continue
                likeness = max(_likeness(key, other) for other in keys)
                if likeness > score:
                    best, score = item, likeness
            if best is None or score < threshold:
                best = next_item_id(project, set(items) | used)
                used.add(best)
            known[project, key] = new[project, key] = best
            items.setdefault(best, []).append(key)
    return new


def staff_moves(previous: list[dict], threads: Threads, ids: dict[str, str],
                used: set[str] | None = None) -> tuple[Threads, list[str]]:
    """What staff asked for in the 督办台账 (并入编号, 拆出表述), as reassigned wordings, and notes on what could
    not be done. `ids` maps each item's 编号 to its project_id. A merge moves every wording of the item to the
    named item of the same project; a split moves the numbered wordings of 历次表述 to a new item (a 编号 never
    given before: not in `used`)."""
    used = set(used or ()) | set(ids)
    moves: Threads = {}
    notes: list[str] = []
    current = dict(threads)
    for row in previous:
        item = str(row.get("item_id") or "").strip()
        if item not in ids:
            continue
        project = ids[item]
        target = str(row.get("merge_into") or "").strip()
        if target and target != item:
            if ids.get(target) != project:
                notes.append(f"{item}：并入编号 {target} 不是同一项目的督办事项，未合并")
            else:
                for (p, key), owner in list(current.items()):
                    if p == project and owner == item:
                        current[p, key] = moves[p, key] = target
                continue
        numbers = [int(n) for n in _NUMBERS.findall(str(row.get("split") or ""))]
        if numbers:
            keys = [wording_key(w) for w in wording_list(row.get("wordings"))]
            chosen = [keys[n - 1] for n in dict.fromkeys(numbers) if 1 <= n <= len(keys)]
            mine = [k for k in chosen if current.get((project, k)) == item]
            if mine and len(mine) < sum(1 for (p, _), o in current.items() if p == project and o == item):
                fresh = next_item_id(project, used)
                used.add(fresh)
                for key in mine:
                    current[project, key] = moves[project, key] = fresh
            elif mine:
                notes.append(f"{item}：拆出表述包含全部表述，无需拆分")
    return moves, notes


def update_threads(reports: pd.DataFrame, threads: Threads, previous: list[dict] | None,
                   threshold: float = DEFAULT_SIMILARITY, used: set[str] | None = None
                   ) -> tuple[Threads, Threads, dict, list[str]]:
    """What a run changes in the threading: (staff's moves, the new wordings' items, each new wording as
    first written, notes on staff requests that could not be done). `threads` is the store's, `used` every
    编号 it ever gave (merged-away ones too: a 编号 is never given twice)."""
    previous = previous or []
    ids = {item: project for (project, _), item in threads.items()}
    used = set(used or ()) | set(ids)
    moves, notes = staff_moves(previous, threads, ids, used)
    used |= set(moves.values())
    current = {**threads, **moves}
    closed = {str(r.get("item_id") or "").strip() for r in previous if _closed(r)} - {""}
    new = thread_problems(reports, current, threshold, closed, used)
    shown: dict[tuple[str, str], str] = {}
    for project, cell in zip(reports["project_id"], reports["problems"]):
        for problem in problems_in(cell):
            shown.setdefault((project, wording_key(problem)), problem)
    return moves, new, {key: shown[key] for key in new}, notes


def wording_list(text: object) -> list[str]:
    """The wordings of a 历次表述 cell: "1.坟山未迁；2.坟山尚未迁移" → [坟山未迁, 坟山尚未迁移]."""
    parts = [p.strip() for p in re.split(r"[；\n]+", str(text or "")) if p.strip()]
    return [re.sub(r"^\d+[.．、]\s*", "", p) for p in parts]


def build_register(reports: pd.DataFrame, registry: pd.DataFrame, as_of: dt.date,
                   previous: list[dict] | None = None, *, threads: Threads | None = None,
                   silent_days: int = DEFAULT_SILENT_DAYS, threshold: float = DEFAULT_SIMILARITY) -> pd.DataFrame:
    """The register as of a date. `reports`: project_id, report_date (date), problems, next_steps, one row per
    project and report date up to as_of; `previous`: the rows of the 督办台账 as staff left them (KEYS);
    `threads`: the items of wordings already threaded (the store's), the others are threaded here."""
    previous = previous or []
    reports = reports[reports["report_date"] <= as_of].sort_values(["project_id", "report_date"], kind="stable")
    names = dict(zip(registry["project_id"], registry["project_name"]))
    info = registry.set_index("project_id")
    closed_ids = {str(r.get("item_id") or "").strip() for r in previous if _closed(r)} - {""}
    closed_words = {(str(r.get("project") or ""), wording_key(r.get("problem") or "")) for r in previous
                    if _closed(r) and not str(r.get("item_id") or "").strip()}  # a sheet from before 编号
    threads = dict(threads or {})
    threads.update(thread_problems(reports, threads, threshold, closed_ids))
    items: list[dict] = []
    for project_id, rows in reports.groupby("project_id", sort=False):
        if project_id not in names:
            continue
        latest_date = rows["report_date"].iloc[-1]
        seen: dict[str, dict] = {}
        for date, problems, steps in zip(rows["report_date"], rows["problems"], rows["next_steps"]):
            for problem in problems_in(problems):
                item_id = threads[project_id, wording_key(problem)]
                entry = seen.setdefault(item_id, {"first": date, "wordings": {}})
                entry["last"], entry["problem"] = date, problem
                entry["wordings"].setdefault(wording_key(problem), problem)
                entry["step"] = str(steps or "").strip()
        name = str(names[project_id])
        for item_id, entry in seen.items():
            first, last = entry["first"], entry["last"]
            if item_id in closed_ids or any((name, k) in closed_words for k in entry["wordings"]):
                status = CLOSED
            elif last != latest_date and (as_of - last).days >= silent_days:
                status = TO_CONFIRM
            else:
                status = NEW if first == as_of else ONGOING
            end = last if status in (CLOSED, TO_CONFIRM) else as_of
            wordings = list(entry["wordings"].values())
            items.append({"item_id": item_id, "project": name, "group": str(info.at[project_id, "group"] or ""),
                          "leader": str(info.at[project_id, "leader"] or "") if "leader" in info else "",
                          "problem": entry["problem"], "first_seen": first, "days_open": (end - first).days,
                          "next_step": entry["step"], "status": status, "source": FROM_GROUP, "owner": "",
                          "due": None, "alert": "", "last_seen": last,
                          "wordings": "；".join(f"{i}.{w}" for i, w in enumerate(wordings, 1)) if len(wordings) > 1
                          else "", "merge_into": "", "split": ""})
    items += _hq_items(previous, as_of)
    for item in items:
        due = item["due"]
        if item["status"] != CLOSED and isinstance(due, dt.date) and due < as_of:
            item["alert"] = f"{OVERDUE_WORD}{(as_of - due).days}天"
        elif item["status"] == TO_CONFIRM:
            item["alert"] = f"工作组已{(as_of - item['last_seen']).days}天未再报告，请核实后将状态改为已销号"
    frame = pd.DataFrame(items, columns=[*KEYS, "last_seen"])
    return order_items(frame).drop(columns="last_seen").reset_index(drop=True)


def _closed(row: dict) -> bool:
    return str(row.get("status") or "").strip() == CLOSED


def _hq_items(previous: list[dict], as_of: dt.date) -> list[dict]:
    """HQ's own items: whatever staff typed, kept, with a 编号 (交办-n), days open and overdue worked out."""
    out = []
    rows = [r for r in previous if str(r.get("source") or "").strip() != FROM_GROUP
            and str(r.get("problem") or "").strip()]
    taken = {str(r.get("item_id") or "").strip() for r in rows}
    for row in rows:
        first = parse_date(row.get("first_seen")) or as_of
        item = {key: row.get(key) for key in KEYS}
        item_id = str(row.get("item_id") or "").strip()
        if not item_id:
            item_id = next_item_id(HQ_PREFIX.rstrip("-"), taken)
            taken.add(item_id)
        item.update(item_id=item_id, source=FROM_HQ, first_seen=first, due=parse_date(row.get("due")),
                    status=str(row.get("status") or "").strip() or NEW, days_open=(as_of - first).days, alert="",
                    last_seen=as_of, merge_into="", split="")
        out.append(item)
    return out


def urgency(frame: pd.DataFrame) -> pd.Series:
    """The order class of each item: 0 指挥部交办 or overdue, 1 持续, 2 新增, 3 待确认销号, 4 已销号."""
    overdue = frame["alert"].fillna("").astype(str).str.startswith(OVERDUE_WORD)
    hq = (frame["source"] == FROM_HQ) & (frame["status"] != CLOSED)
    by_status = frame["status"].map({ONGOING: 1, NEW: 2, TO_CONFIRM: 3, CLOSED: 4}).fillna(1)
    return by_status.where(~(overdue | hq), 0)


def order_items(frame: pd.DataFrame) -> pd.DataFrame:
    """Live first: 指挥部交办 and overdue, then 持续 by days open (longest first), then 新增, then 待确认销号,
    then 已销号; ties keep the earlier first report first."""
    if frame.empty:
        return frame
    days = pd.to_numeric(frame["days_open"], errors="coerce").fillna(0)
    return frame.assign(_u=urgency(frame), _d=-days).sort_values(["_u", "_d", "first_seen"], kind="stable").drop(
        columns=["_u", "_d"])


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
