"""节点计划: per project, and per 地块 where a project reports 地块, the milestones HQ plans (list in 设置),
their planned dates (倒排工期 from the 净地交付期限 unless staff type one), the dates they were reached
(from the ledgers, or typed by staff), who answers for each (责任领导, 责任人), and the 作战图时间表's
marks (pure).

The sheet has a row per block (a project, then each 地块 it reports) and, per milestone, a column in
each group (计划(录入), 计划, 实际(录入), 完成, 状态, 责任领导, 责任人); the plan is held the same way
(Plan: blocks of nodes), never as a row per block and milestone.

倒排工期. 设置 › 节点工期 gives each milestone a standard number of days. 净地交付 is the anchor: its
planned date is the block's 净地交付期限 (the 项目清单's, or for a 地块 the date staff type in its
净地交付·计划(录入)). A milestone before the anchor in the list is planned the following milestone's
工期 earlier than the following milestone (walking back from the anchor); one after the anchor is
planned its own 工期 after the anchor. A date staff type always wins, and the chain walks on from it.

Reached from the ledgers, on the first report date the condition held:
征收 累计征地 ≥ 计划征地; 房屋协议 累计签订房屋协议 ≥ 计划拆除房屋; 拆除 累计拆除房屋 ≥ 计划拆除房屋;
清表 累计清表 ≥ 计划征地; 净地交付 是否净地 = 是. Other milestones (报批, 高压线迁移, 挂牌出让) are typed.
A plan of 0 reaches nothing from the ledgers (nothing to count), so staff type those dates.
A 地块 has no plan of its own: it reaches 净地交付 on its first 是否净地 = 是, and with it 征收, 房屋协议,
拆除 and 清表 (a plot delivered as net land was acquired, demolished and cleared), or those when the
whole project reached them. The project's row summarises its 地块: planned the latest of theirs, done
when all of them are (or when the project's totals reach it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xladdin.base.errors import SettingsError
from xladdin.base.schema import normalize_label
from xladdin.base.values import parse_date

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_MILESTONES = ("报批", "征收", "房屋协议", "拆除", "清表", "净地交付", "高压线迁移", "挂牌出让")
# 设置 › 节点工期 by default: the seed's month of 报批 and 征拆 before 净地, 高压线迁移 four months after
# it ("12月底前…净地，明年4月底前完成高压线迁移"), 挂牌出让 two months after it ("春节过后挂牌出让").
DEFAULT_DAYS = "报批 30、征收 20、房屋协议 15、拆除 15、清表 10、净地交付 5、高压线迁移 120、挂牌出让 60"
# milestone -> (figure, plan) whose figure ≥ plan reaches it; 净地交付 by the 是否净地 flag.
DERIVED = {"征收": ("acquired_mu", "plan_mu"), "房屋协议": ("houses_agreed", "plan_houses"),
           "拆除": ("houses_demolished", "plan_houses"), "清表": ("cleared_mu", "plan_mu")}
NET_LAND_MILESTONE = "净地交付"
NET_LAND_KEY = "net_land"
DONE, DONE_LATE, OVERDUE, AT_RISK, PENDING, UNPLANNED = "已完成", "逾期完成", "已逾期", "临期", "未到期", "未排期"
# The 节点计划 sheet: one row per block (a project, then each 地块 it reports), the milestones as
# column groups by what the cell holds (so that a block's planned and done dates are each one run of
# cells the 作战图时间表 counts over): every node's 计划(录入), then every node's 计划, and so on.
# Staff type 计划(录入), 实际(录入), 责任领导 and 责任人; the run writes the rest (计划 and 完成 as formulas
# carrying the 倒排工期 and the ledger's date, so a typed date counts at once).
HEAD_LABELS = ("项目编号", "项目名称", "地块名称")
HEAD_KEYS = ("project_id", "project_name", "plot")
GROUPS = (("typed", "计划(录入)"), ("planned", "计划"), ("entered", "实际(录入)"), ("done", "完成"),
          ("status", "状态"), ("leader", "责任领导"), ("person", "责任人"))
GROUP_KEYS = tuple(key for key, _ in GROUPS)
STAFF_KEYS = ("typed", "entered", "leader", "person")  # what staff type, read back by heading
SEPARATOR = "·"
# The long layout of earlier releases (one row per block and node), read back by label when met.
LABELS = ("项目编号", "项目名称", "地块名称", "节点", "责任领导", "责任人", "计划完成日期(录入)", "计划完成日期",
          "实际完成日期(录入)", "台账完成日期", "完成日期", "状态")
KEYS = ("project_id", "project_name", "plot", "milestone", "leader", "person", "typed", "planned", "entered",
        "derived", "done", "status")
FRAME_COLUMNS = (*KEYS, "standard")  # the long frame (Plan.frame, late_or_at_risk): a row per block and node
NODE_KEYS = ("leader", "person", "typed", "standard", "planned", "entered", "derived", "done", "status")
# Headings of the 节点计划 before 倒排工期 (one row per project and milestone, 计划完成日期 typed by staff):
# read back by label, so an earlier master's dates are kept when its table is brought to the current layout.
LEGACY_PLANNED = "计划完成日期"
TYPED_PLANNED = "计划完成日期(录入)"
WEEKS, WEEKS_BACK = 16, 4  # the 作战图时间表: 16 weeks from 4 weeks before the as-of week
DONE_MARK, OPEN_MARK = "●", "○"
TOTAL_WORDS = ("合计", "小计", "总计")
KEY_PLOT_YES = frozenset({"是", "全部", "Y", "YES", "√", "✓", "1"})


def parse_milestones(text: object) -> tuple[str, ...]:
    """The 设置 list (、，, ; or spaces between names); blank gives the default list."""
    names = [n for n in re.split(r"[、，,；;\s]+", str(text or "")) if n]
    return tuple(dict.fromkeys(names)) or DEFAULT_MILESTONES


def parse_days(text: object) -> dict[str, int]:
    """设置 › 节点工期: "报批 30、征收 20…" (a name, then its days; 、，,；; between pairs) -> {name: days}.
    Blank gives the default; a pair without a whole number of days is a SettingsError naming it."""
    text = str(text or "").strip() or DEFAULT_DAYS
    days: dict[str, int] = {}
    for pair in (p for p in re.split(r"[、，,；;\n]+", text) if p.strip()):
        match = re.fullmatch(r"\s*(.+?)\s*[:：=]?\s*(\d+)\s*天?\s*", pair)
        if match is None:
            raise SettingsError(f"设置“节点工期(天)”中的“{pair.strip()}”应为节点名加天数（如 清表 10）。"
                                "请在“设置”表中改正。")
        days[match.group(1)] = int(match.group(2))
    return days


@dataclass(frozen=True)
class Reached:
    """First dates from the store: (project, key) for the project's figures and 净地 (key a figure of
    DERIVED or NET_LAND_KEY), (project, plot) for a 地块's first 是否净地 = 是; `plots` the 地块 each
    project reported (in the order first reported)."""
    project: dict[tuple[str, str], dt.date]
    plot: dict[tuple[str, str], dt.date]
    plots: dict[str, list[str]]


def reached_dates(reports: pd.DataFrame, registry: pd.DataFrame) -> dict[tuple[str, str], dt.date]:
    """(project, milestone) -> the first report date it was reached, from the per-project reports
    (project_id, report_date as date, the figures and net_land): the oracle of the store's first dates
    (Store.milestone_firsts), one pass over the reports."""
    import pandas as pd

    plans = registry.set_index("project_id") if "project_id" in registry.columns else registry
    found: dict[tuple[str, str], dt.date] = {}
    ordered = reports.sort_values("report_date", kind="stable")
    for milestone, (figure, plan_key) in DERIVED.items():
        if figure not in ordered:
            continue
        target = ordered["project_id"].map(pd.to_numeric(plans[plan_key], errors="coerce").fillna(0))
        hit = ordered[(target > 0) & (ordered[figure].astype(float) >= target - 1e-9)]
        for pid, date in hit.groupby("project_id", sort=False)["report_date"].first().items():
            found[(pid, milestone)] = date
    if "net_land" in ordered:
        hit = ordered[(ordered["net_land"] == "是") & ordered["project_id"].isin(plans.index)]
        for pid, date in hit.groupby("project_id", sort=False)["report_date"].first().items():
            found[(pid, NET_LAND_MILESTONE)] = date
    return found


def project_reached(reached: Reached, registry: pd.DataFrame) -> dict[tuple[str, str], dt.date]:
    """(project, milestone) -> date, from the store's first dates."""
    return {(pid, milestone): date for (pid, key), date in reached.project.items()
            for milestone in _milestones_of(key)}


def _milestones_of(key: str) -> list[str]:
    if key == NET_LAND_KEY:
        return [NET_LAND_MILESTONE]
    return [m for m, (figure, _) in DERIVED.items() if figure == key]


def status_of(planned: dt.date | None, reached: dt.date | None, as_of: dt.date, due_soon_days: int) -> str:
    """已完成 / 逾期完成 / 已逾期N天 / 临期（剩N天） without nesting / 未到期 / 未排期."""
    if reached is not None:
        return DONE_LATE if planned is not None and reached > planned else DONE
    if planned is None:
        return UNPLANNED
    left = (planned - as_of).days
    if left < 0:
        return f"{OVERDUE}{-left}天"
    if left == 0:
        return f"{AT_RISK}，今日到期"
    if left <= due_soon_days:
        return f"{AT_RISK}，剩{left}天"
    return PENDING


def schedule(milestones: tuple[str, ...], deadline: dt.date | None, typed: dict[str, dt.date],
             days: dict[str, int]) -> dict[str, dt.date | None]:
    """倒排工期 of one block: each milestone's standard date (what the chain gives it, typed dates of the
    others counted), before its own typed date is applied. Without 净地交付 in the list nothing is
    computed; a milestone without a 工期 in 设置 takes 0 days."""
    standard: dict[str, dt.date | None] = dict.fromkeys(milestones)
    if NET_LAND_MILESTONE not in milestones:
        return standard
    a = milestones.index(NET_LAND_MILESTONE)
    standard[NET_LAND_MILESTONE] = deadline
    effective = {NET_LAND_MILESTONE: typed.get(NET_LAND_MILESTONE) or deadline}
    for i in range(a - 1, -1, -1):
        after = milestones[i + 1]
        base = effective[after]
        standard[milestones[i]] = base - dt.timedelta(days=days.get(after, 0)) if base else None
        effective[milestones[i]] = typed.get(milestones[i]) or standard[milestones[i]]
    anchor = effective[NET_LAND_MILESTONE]
    for name in milestones[a + 1:]:
        standard[name] = anchor + dt.timedelta(days=days.get(name, 0)) if anchor else None
    return standard


def _is_total(plot: str) -> bool:
    return any(plot.startswith(word) for word in TOTAL_WORDS)


def labels(milestones: tuple[str, ...]) -> list[str]:
    """The 节点计划's headings for a 设置 list: the block's columns, then per group one column per node
    ("报批·计划(录入)", "征收·计划(录入)", …)."""
    return [*HEAD_LABELS, *(f"{m}{SEPARATOR}{word}" for _, word in GROUPS for m in milestones)]


def group_column(milestones: tuple[str, ...], key: str, milestone: str) -> int:
    """0-based position of a node's cell of a group in the 节点计划's row."""
    return len(HEAD_LABELS) + GROUP_KEYS.index(key) * len(milestones) + milestones.index(milestone)


class Node(tuple):
    """One milestone of a block: (leader, person, typed, standard, planned, entered, derived, done, status)."""
    __slots__ = ()
    leader = property(lambda self: self[0])
    person = property(lambda self: self[1])
    typed = property(lambda self: self[2])
    standard = property(lambda self: self[3])
    planned = property(lambda self: self[4])
    entered = property(lambda self: self[5])
    derived = property(lambda self: self[6])
    done = property(lambda self: self[7])
    status = property(lambda self: self[8])


@dataclass(frozen=True)
class Block:
    """A row of the 节点计划: a project (plot "") or one of its 地块, with a Node per milestone."""
    project_id: str
    project_name: object
    plot: str
    nodes: tuple[Node, ...]


@dataclass
class Plan:
    """The 节点计划 of a run: the milestones (设置's list, then any node staff still hold dates for after
    it left the list) and a block per project, then per 地块; a block's nodes in that order."""
    milestones: tuple[str, ...]
    blocks: list[Block]

    def nodes(self):
        """(block, milestone, node) for every node, blocks in order."""
        for block in self.blocks:
            yield from ((block, m, node) for m, node in zip(self.milestones, block.nodes))

    def statuses(self) -> list[str]:
        return [node[8] for block in self.blocks for node in block.nodes]

    def __len__(self) -> int:
        return len(self.blocks) * len(self.milestones)

    @property
    def empty(self) -> bool:
        return not self.blocks

    def frame(self, keep=None) -> pd.DataFrame:
        """The plan as one row per block and node (FRAME_COLUMNS), the nodes `keep` accepts (all by
        default): the shape of earlier releases, for the notices' lists and the tests' oracles."""
        import pandas as pd

        rows = [(b.project_id, b.project_name, b.plot, m, n[0], n[1], n[2], n[4], n[5], n[6], n[7], n[8], n[3])
                for b, m, n in self.nodes() if keep is None or keep(n)]
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))


class Previous:
    """What staff keep in the 节点计划, read back by heading: this layout's (a row per block, a column per
    node and group), or the earlier long one's (a row per block and node; before 倒排工期 its 计划完成日期
    was typed by staff: `legacy`). Nothing is copied out: rows are looked up by key."""

    def __init__(self, header: list[str] | None = None, rows: list[tuple[int, list[object]]] | None = None):
        header, rows = header or [], rows or []
        position = {normalize_label(label): i for i, label in enumerate(header)}
        self.long = "节点" in position
        self.legacy = self.long and normalize_label(TYPED_PLANNED) not in position
        self.rows: dict[tuple, list[object]] = {}
        self.at: dict[object, int] = {}
        self.order: list[str] = []  # the nodes the heading names, in order
        self.names: dict[tuple[str, str], object] = {}
        self._index: dict[str, tuple] = {}  # node -> positions of its STAFF_KEYS in a row
        pid_at, plot_at = position.get("项目编号"), position.get("地块名称")
        if pid_at is None:
            return
        if self.long:
            sources = {"typed": LEGACY_PLANNED if self.legacy else TYPED_PLANNED, "entered": "实际完成日期(录入)",
                       "leader": "责任领导", "person": "责任人", "project_name": "项目名称"}
            self.at = {key: position[normalize_label(label)] for key, label in sources.items()
                       if normalize_label(label) in position}
            node_at = position["节点"]
            for _, values in rows:
                milestone = _text(values[node_at])
                key = (_text(values[pid_at]), _text(values[plot_at]) if plot_at is not None else "", milestone)
                self.rows.setdefault(key, values)
                self.names.setdefault(key[:2], values[self.at["project_name"]] if "project_name" in self.at else None)
                if milestone and milestone not in self.order:
                    self.order.append(milestone)
            return
        words = {normalize_label(word): key for key, word in GROUPS}
        for label, i in position.items():
            name, _, word = label.rpartition(normalize_label(SEPARATOR))
            if name and word in words:
                self.at[(name, words[word])] = i
                if name not in self.order:
                    self.order.append(name)
        if "项目名称" in position:
            self.at["project_name"] = position["项目名称"]
        for _, values in rows:
            key = (_text(values[pid_at]), _text(values[plot_at]) if plot_at is not None else "")
            self.rows.setdefault(key, values)
            self.names.setdefault(key, values[self.at["project_name"]] if "project_name" in self.at else None)

    @classmethod
    def of(cls, records: list[dict]) -> Previous:
        """From plain records (project_id, plot, milestone and what staff hold: typed, entered, leader,
        person, project_name): the long layout's shape, without a sheet."""
        previous = cls()
        previous.long = True
        previous.at = {key: key for key in (*STAFF_KEYS, "project_name")}
        for r in records:
            key = (_text(r.get("project_id")), _text(r.get("plot")), _text(r.get("milestone")))
            previous.rows.setdefault(key, dict(r))
            previous.names.setdefault(key[:2], r.get("project_name"))
            if key[2] and key[2] not in previous.order:
                previous.order.append(key[2])
        return previous

    def staff(self, pid: str, plot: str, milestone: str) -> dict:
        """What staff hold for a node: typed, entered, leader, person (blank when none); `legacy` marks
        the long layout's 计划完成日期 read as typed."""
        if self.long:
            values = self.rows.get((pid, plot, milestone))
            at = self.at
            found = {key: values.get(at[key]) if isinstance(values, dict) else values[at[key]]
                     if values is not None and key in at else None for key in STAFF_KEYS}
            if self.legacy:
                found["leader"] = None  # the earlier layout wrote the project's leader; nothing staff typed
                found["legacy"] = True
            return found
        values = self.rows.get((pid, plot))
        if values is None:
            return _NOTHING
        index = self._index.get(milestone)
        if index is None:
            index = self._index[milestone] = tuple(self.at.get((milestone, key)) for key in STAFF_KEYS)
        return {key: None if i is None else values[i] for key, i in zip(STAFF_KEYS, index)}

    def staff_of(self, pid: str, plot: str, milestones: tuple[str, ...]) -> dict[str, dict]:
        """staff() for each node of a block (a block staff have no row for: nothing, at once)."""
        if not self.long and (pid, plot) not in self.rows:
            return dict.fromkeys(milestones, _NOTHING)
        return {m: self.staff(pid, plot, m) for m in milestones}

    def blocks(self) -> list[tuple[str, str]]:
        """(project, plot) of every row held, in order."""
        return list(self.names)

    def name(self, pid: str, plot: str) -> object:
        return self.names.get((pid, plot))


def staff_row(milestones: tuple[str, ...], pid: str, name: object, plot: str,
              entries: dict[str, dict[str, object]]) -> list[object]:
    """A 节点计划 row holding only what staff type (entries: node -> {typed, entered, leader, person}):
    what HQ fills in before a first run."""
    row: list[object] = [pid, name, plot or None, *([None] * (len(GROUPS) * len(milestones)))]
    for milestone, values in entries.items():
        for key, value in values.items():
            row[group_column(milestones, key, milestone)] = value
    return row


_NOTHING: dict = {}  # a node staff hold nothing for (read only)


def previous_rows(header: list[str], rows: list[tuple[int, list[object]]]) -> Previous:
    """The 节点计划 as read (heading, rows): what staff keep in it, by heading (Previous)."""
    return Previous(header, rows)


def _text(value: object) -> str:
    return str(value or "").strip()


def _has_dates(staff: dict) -> bool:
    return parse_date(staff.get("typed")) is not None or parse_date(staff.get("entered")) is not None


def _has_staff(staff: dict) -> bool:
    return any(staff.get(k) not in (None, "") for k in ("typed", "entered", "person")) or bool(
        _text(staff.get("leader")))


def build_plan(registry: pd.DataFrame, milestones: tuple[str, ...], reached: Reached | dict, as_of: dt.date,
               due_soon_days: int, previous: Previous | list[dict] | None = None, days: dict[str, int] | None = None,
               written_leaders: dict[str, str] | None = None) -> Plan:
    """A block per project (and per 地块 it reports, after the project's): staff's typed planned and done
    dates, 责任领导 and 责任人 are kept (read back from the sheet, Previous); the standard dates, the
    ledger's dates and the status are worked out. Blocks staff keep for projects no longer registered
    stay at the end, and a node staff hold dates for after it left 设置's list stays as a column after
    the list's.

    `reached`: the store's first dates (Reached), or a plain {(project, milestone): date} for projects
    without 地块. `written_leaders`: the 责任领导 the last run filled in per project, so that a cell
    still holding it follows the 项目清单 (a name staff typed over it is kept)."""
    days = parse_days("") if days is None else days
    previous = Previous.of(previous) if isinstance(previous, list) else previous or Previous()
    if not isinstance(reached, Reached):
        reached = Reached({}, {}, {}) if not reached else _plain_reached(reached)
    by_project = project_reached(reached, registry)
    written_leaders = written_leaders or {}
    held = previous.blocks()
    extra = tuple(m for m in previous.order if m not in milestones and any(
        _has_dates(previous.staff(pid, plot, m)) for pid, plot in held))
    shown = (*milestones, *extra)
    out: list[Block] = []
    seen: set[tuple[str, str]] = set()
    def column(key: str) -> list:
        return registry[key].tolist() if key in registry else [None] * len(registry)

    for pid, name, leader, deadline in zip(column("project_id"), column("project_name"), column("leader"),
                                           column("deadline")):
        pid = str(pid)
        default_leader = str(leader or "")
        written = written_leaders.get(pid)
        deadline = deadline if isinstance(deadline, dt.date) else None
        plots = [p for p in reached.plots.get(pid, []) if p and not _is_total(p)]
        staff = previous.staff_of(pid, "", shown)
        typed = {m: _typed(staff[m], m, deadline) for m in shown}
        plot_blocks = []
        anchor = typed.get(NET_LAND_MILESTONE) or deadline
        for plot in plots:
            plot_staff = previous.staff_of(pid, plot, shown)
            plot_typed = {m: _typed(plot_staff[m], m, None) for m in shown}
            net = reached.plot.get((pid, plot))
            derived = {}
            for m in milestones:
                if m == NET_LAND_MILESTONE:
                    derived[m] = net
                elif m in DERIVED:
                    candidates = [d for d in (net, by_project.get((pid, m))) if d is not None]
                    derived[m] = min(candidates) if candidates else None
            plot_blocks.append((plot, plot_staff, plot_typed,
                                schedule(milestones, anchor, plot_typed, days), derived))
        # The project's row summarises its 地块: their latest planned date, done when all are.
        standard = schedule(milestones, deadline, typed, days)
        nodes = []
        for m in shown:
            plans = [p for p in (t[m] or s.get(m) for _, _, t, s, _ in plot_blocks) if p is not None]
            if plans and typed[m] is None:
                standard[m] = max(plans)
            derived = by_project.get((pid, m))
            if derived is None and plot_blocks:
                done = [_done(st[m], d.get(m)) for _, st, _, _, d in plot_blocks]
                if all(d is not None for d in done):
                    derived = max(done)
            nodes.append(_node(staff[m], typed[m], standard.get(m), derived, default_leader, written, as_of,
                               due_soon_days))
        out.append(Block(pid, name, "", tuple(nodes)))
        seen.add((pid, ""))
        for plot, plot_staff, plot_typed, plot_standard, derived in plot_blocks:
            out.append(Block(pid, name, plot, tuple(
                _node(plot_staff[m], plot_typed[m], plot_standard.get(m), derived.get(m), default_leader, written,
                      as_of, due_soon_days) for m in shown)))
            seen.add((pid, plot))
    for pid, plot in held:  # what staff planned for a project since removed: kept
        if not pid or (pid, plot) in seen:
            continue
        staff = {m: previous.staff(pid, plot, m) for m in shown}
        if not any(_has_staff(s) for s in staff.values()):
            continue
        nodes = []
        for m in shown:
            typed, entered = parse_date(staff[m].get("typed")), parse_date(staff[m].get("entered"))
            nodes.append(Node((_text(staff[m].get("leader")), _text(staff[m].get("person")), typed, None, typed,
                               entered, None, entered, status_of(typed, entered, as_of, due_soon_days))))
        out.append(Block(pid, previous.name(pid, plot), plot, tuple(nodes)))
    return Plan(shown, out)


def _plain_reached(found: dict[tuple[str, str], dt.date]) -> Reached:
    keys = {NET_LAND_MILESTONE: NET_LAND_KEY, **{m: figure for m, (figure, _) in DERIVED.items()}}
    project = {}
    for (pid, milestone), date in found.items():
        if milestone in keys:
            project[(pid, keys[milestone])] = date
    return Reached(project, {}, {})


def _typed(staff: dict, milestone: str, deadline: dt.date | None) -> dt.date | None:
    """The planned date staff typed. An earlier layout's 计划完成日期 was typed too, except 净地交付's when
    it was the deadline the run filled in."""
    value = staff.get("typed")
    if value is None:
        return None
    date = parse_date(value)
    if staff.get("legacy") and milestone == NET_LAND_MILESTONE and date is not None and date == deadline:
        return None
    return date


def _done(staff: dict, derived: dt.date | None) -> dt.date | None:
    return parse_date(staff.get("entered")) or derived


_DATES: dict = {}  # date (or status) -> the one object of it a plan's nodes hold: a campaign's days and words


def _node(staff: dict, typed: dt.date | None, standard: dt.date | None, derived: dt.date | None,
          default_leader: str, written_leader: str | None, as_of: dt.date, due_soon_days: int) -> Node:
    entered = staff.get("entered")
    entered = None if entered is None else parse_date(entered)
    # One object per date and status across the plan (a few hundred among 80,000 nodes at city size):
    # kept figures pickle each once.
    typed, standard, entered, derived = (_DATES.setdefault(typed, typed), _DATES.setdefault(standard, standard),
                                         _DATES.setdefault(entered, entered), _DATES.setdefault(derived, derived))
    planned = typed or standard
    done = entered or derived
    leader = _text(staff.get("leader"))
    if not leader or leader == written_leader:
        leader = default_leader  # not typed by staff: follows the 项目清单
    status = status_of(planned, done, as_of, due_soon_days)
    return Node((leader, _text(staff.get("person")), typed, standard, planned, entered, derived, done,
                 _DATES.setdefault(status, status)))


def late_or_at_risk(plan: Plan) -> pd.DataFrame:
    """The nodes (of project rows and 地块 rows, `plot` blank for a project) overdue or due soon, one row
    each (FRAME_COLUMNS), with the node's 责任领导 (`leader`) and 责任人 (`person`, blank when staff named
    nobody)."""
    return plan.frame(lambda n: n[8].startswith(OVERDUE) or n[8].startswith(AT_RISK))


def current(plan: Plan, block: Block) -> tuple[str, Node] | None:
    """The block's first milestone not done (name and node), or None when every one is."""
    for m, n in zip(plan.milestones, block.nodes):
        if not isinstance(n[7], dt.date):
            return m, n
    return None


def key_plots(plan: Plan, registry: pd.DataFrame) -> pd.DataFrame:
    """The 重点攻坚地块 (项目清单 › 重点攻坚地块: 是 for every 地块 of the project, or the 地块 names,
    、-separated) as of the plan, one row each, for the daily 督查日报: project_id, project_name, plot
    (blank when the project reports no 地块), deadline (its 净地交付 planned date), milestone (the
    first not done; blank when all are), planned, status, leader, person, done_count, total."""
    import pandas as pd

    columns = ["project_id", "project_name", "plot", "deadline", "milestone", "planned", "status", "leader",
               "person", "done_count", "total"]
    if "key_plots" not in registry.columns or plan.empty:
        return pd.DataFrame(columns=columns)
    wanted: dict[str, str] = {}
    for pid, flag in zip(registry["project_id"], registry["key_plots"]):
        text = str(flag or "").strip()
        if text:
            wanted[str(pid)] = text
    if not wanted:
        return pd.DataFrame(columns=columns)
    rows = []
    with_plots = {b.project_id for b in plan.blocks if b.plot}
    net_at = plan.milestones.index(NET_LAND_MILESTONE) if NET_LAND_MILESTONE in plan.milestones else None
    for block in plan.blocks:
        pid, plot = block.project_id, block.plot
        flag = wanted.get(pid)
        if flag is None:
            continue
        names = {n for n in re.split(r"[、，,；;\s]+", flag) if n}
        whole = flag.upper() in KEY_PLOT_YES
        if plot and not (whole or plot in names):
            continue
        if not plot and (pid in with_plots or not whole):
            continue
        found = current(plan, block)
        milestone, now = found if found else ("", None)
        first = block.nodes[0] if block.nodes else Node((None,) * 9)
        rows.append({"project_id": pid, "project_name": block.project_name, "plot": plot,
                     "deadline": block.nodes[net_at][4] if net_at is not None else None,
                     "milestone": milestone, "planned": now[4] if now else None,
                     "status": now[8] if now else DONE, "leader": (now or first)[0],
                     "person": (now or first)[1],
                     "done_count": sum(isinstance(n[7], dt.date) for n in block.nodes), "total": len(block.nodes)})
    return pd.DataFrame(rows, columns=columns)


def date_text(date: dt.date | None) -> str:
    """A date as a formula writes it (DATE(y,m,d)), or "" for none."""
    return f"DATE({date.year},{date.month},{date.day})" if date else '""'


def fallback_template(column: str) -> str:
    """A 节点计划 cell that shows the date staff typed in `column` of its row, else a date the run worked
    out: the row (%(r)d) and the date (date_text, %(a)s) put in per cell."""
    return f"=IF(ISNUMBER({column}%(r)d),{column}%(r)d,%(a)s)"


def done_formula(row: int, entered_col: str, derived: dt.date | None) -> str:
    """完成 in the 节点计划: what staff entered, else the ledger's date as of the run (live: staff's entry
    counts at once)."""
    return fallback_template(entered_col) % {"r": row, "a": date_text(derived)}


def planned_formula(row: int, typed_col: str, standard: dt.date | None) -> str:
    """计划 in the 节点计划: the date staff typed, else the 倒排工期 standard date (live: a typed date
    counts at once; the chain moves on the next run)."""
    return fallback_template(typed_col) % {"r": row, "a": date_text(standard)}


def week_formula(week_cell: str, planned: str, done: str) -> str:
    """One cell of the 作战图时间表: ● per milestone of the row's block done in the week, ○ per one planned
    in it and not done (its 完成 empty: "" matches an empty cell and a formula's "" in Excel, WPS and
    LibreOffice alike). `planned` and `done` are the block's own cells in the 节点计划 (one row, never a
    whole column): COUNTIFS and REPT, Excel 2010, WPS and LibreOffice; nothing volatile."""
    week = f'">="&{week_cell},'
    before = f'"<"&({week_cell}+7)'
    done_in_week = f"COUNTIFS({done},{week}{done},{before})"
    open_in_week = f'COUNTIFS({planned},{week}{planned},{before},{done},"")'
    return f'=REPT("{DONE_MARK}",{done_in_week})&REPT("{OPEN_MARK}",{open_in_week})'


def week_marks(block: list[tuple[object, object]], week_start: dt.date) -> str:
    """What week_formula computes, in Python, for a block's (planned, done) pairs: the cached value
    written with the formula and the tests' oracle."""
    end = week_start + dt.timedelta(days=7)

    def within(d) -> bool:
        return isinstance(d, dt.date) and week_start <= d < end

    done = sum(1 for _, d in block if within(d))
    open_ = sum(1 for p, d in block if within(p) and not isinstance(d, dt.date))
    return DONE_MARK * done + OPEN_MARK * open_


def block_marks(block: list[tuple[object, object]], mondays: list[dt.date]) -> list[str]:
    """week_marks for every week at once (consecutive Mondays): each date placed in its week by
    arithmetic, so a block costs its rows, not its rows times the weeks."""
    first, count = mondays[0], len(mondays)
    marks = [""] * count
    done: dict[int, int] = {}
    open_: dict[int, int] = {}
    for planned, finished in block:
        if isinstance(finished, dt.date):
            k = (finished - first).days // 7
            if 0 <= k < count:
                done[k] = done.get(k, 0) + 1
        elif isinstance(planned, dt.date):
            k = (planned - first).days // 7
            if 0 <= k < count:
                open_[k] = open_.get(k, 0) + 1
    for k in done.keys() | open_.keys():
        marks[k] = DONE_MARK * done.get(k, 0) + OPEN_MARK * open_.get(k, 0)
    return marks


def week_starts(as_of: dt.date) -> list[dt.date]:
    """The Mondays the 作战图时间表 shows: 16 weeks from 4 weeks before the as-of date's week."""
    monday = as_of - dt.timedelta(days=as_of.weekday())
    return [monday + dt.timedelta(days=7 * (k - WEEKS_BACK)) for k in range(WEEKS)]
