"""What a job is asked and what it answers: file outcomes, the job result, progress stages.

Plain data, no I/O: the engine fills them, the doors (CLI, Excel, a web door) render them."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xladdin.base.issues import ERROR, Issue
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import (
    METRICS,
)
from xladdin.domain.settings import Settings
from xladdin.notices.compose import DAILY, Notice

log = logging.getLogger(__name__)


# Outcome of one inbox file in this run; SKIPPED: an inbox entry that is not a readable submission.
NEW_ACCEPTED, NEW_REJECTED, DUPLICATE, KNOWN, SKIPPED = "已接收", "已退回", "重复", "已处理", "未读取"


@dataclass
class FileOutcome:
    file: str
    sha256: str
    status: str  # one of the five above
    group: str = ""
    report_date: dt.date | None = None
    rows: int = 0
    issues: list[Issue] = field(default_factory=list)
    accepted: bool = False  # whether the content is (or was) accepted
    same_as: str = ""  # for a duplicate, the file first seen with this content
    returned: str = ""  # the marked-up copy, relative to the master's folder
    pasted: bool = False  # a sheet pasted into the master, not a file

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity != ERROR]

    def reason(self) -> str:
        first = self.errors[0] if self.errors else None
        return f"{first.title}（{first.sheet}!{first.cell}）" if first and first.cell else (first.title if first else "")

    def to_dict(self) -> dict:
        return {
            "file": self.file, "sha256": self.sha256, "status": self.status, "group": self.group,
            "report_date": self.report_date.isoformat() if self.report_date else None, "rows": self.rows,
            "accepted": self.accepted, "errors": len(self.errors), "warnings": len(self.warnings),
            "same_as": self.same_as, "returned": self.returned, "issues": [i.to_dict() for i in self.issues],
        }


@dataclass
class JobResult:
    master: Path
    as_of: dt.date
    period_start: dt.date
    inbox: Path | None
    files: list[FileOutcome]
    summary: pd.DataFrame
    ranking: pd.DataFrame
    notice: list[str]
    ignored: list[str]
    seconds: float = 0.0
    wrote: bool = False
    trend: pd.DataFrame | None = None
    notice_doc: Notice | None = None
    issued: str = ""  # what issuing did (期数, file), in Chinese
    withdrawn: tuple[str, str, str] | None = None  # (file name, group, report date) a withdraw took out
    renumbered: list[tuple[str, str, int]] = field(default_factory=list)  # (old, new, submissions) moved
    notice_sheet: list[str] | None = None  # the 通报 sheet: the notice, then the archive list
    register: pd.DataFrame | None = None  # 督办台账 (register.py), when the master has one
    plan: pd.DataFrame | None = None  # 节点计划 (milestones.py), when the master has one
    key_plots: pd.DataFrame | None = None  # 重点攻坚地块 for the 督查日报 (milestones.key_plots)
    plan_sheet: tuple | None = None  # the 节点计划 as the run read it (heading, rows): unchanged, not rewritten
    leaders: list[Notice] = field(default_factory=list)  # 专报, one per 责任领导 (notice --by-leader)
    roster: pd.DataFrame | None = None  # 今日报送情况 (roster.daily_roster)
    tally: pd.DataFrame | None = None  # 本期报送 per work group (roster.weekly_tally)
    whole: str = ""  # the 全县 line on the city's basis (rank.whole_text)
    city: list[str] = field(default_factory=list)  # the city's published result and the gaps (cityresult.py)
    cutoff: dt.time | None = None
    returns: list[tuple[str, dt.date, str]] = field(default_factory=list)  # sent back, never replaced
    now: dt.datetime | None = None  # the run's one reading of the clock, in 设置's time zone
    settings: Settings | None = None  # the 设置 the run read (level words, 本期, rules)
    totals: pd.DataFrame | None = None  # every quantity's totals and increments (consolidate.quantity_totals)
    counts: dict | None = None  # the seed's counts: 征拆完成, 市级 projects (consolidate.campaign_counts)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    def ranking_entries(self) -> list[dict]:
        """The 红黑榜 as plain values, one dict per unit (as --json prints it)."""
        ranking = []
        for row in self.ranking.itertuples(index=False):
            entry = {"unit": row.unit, "list": row.list_text}
            for key, label in METRICS:
                value, rank = getattr(row, key), getattr(row, f"{key}_rank")
                entry[key] = None if pd.isna(value) else float(value)
                entry[f"{key}_rank"] = None if pd.isna(rank) else int(rank)
                entry[f"{key}_list"] = getattr(row, f"{key}_flag", "")
                entry[f"{key}_below_average"] = getattr(row, f"{key}_below", "") == "是"
                entry[f"{key}_streak"] = int(getattr(row, f"{key}_streak", 0))
            ranking.append(entry)
        return ranking

    def roster_entries(self) -> list[dict]:
        """今日报送情况 as plain values, one dict per work group (as --json prints it)."""
        return [] if self.roster is None else [
            {"group": g, "status": s, "timeliness": t} for g, s, t in
            self.roster[["group", "status", "timeliness"]].itertuples(index=False)]

    def to_dict(self) -> dict:
        return {
            "master": str(self.master), "as_of": self.as_of.isoformat(), "period_start": self.period_start.isoformat(),
            "inbox": str(self.inbox) if self.inbox else None, "wrote_master": self.wrote,
            "files_read": len(self.files) - self.count(SKIPPED), "accepted": self.count(NEW_ACCEPTED),
            "rejected": self.count(NEW_REJECTED),
            "duplicates": self.count(DUPLICATE), "already_processed": self.count(KNOWN), "ignored": self.ignored,
            "skipped": {f.file: f.issues[0].message for f in self.files if f.status == SKIPPED},
            "seconds": round(self.seconds, 3), "files": [f.to_dict() for f in self.files],
            "ranking": self.ranking_entries(),
            "renumbered": [{"old": old, "new": new, "submissions": count} for old, new, count in self.renumbered],
            "roster": self.roster_entries(),
        }


# What a run is doing, as staff read it in the terminal and on Excel's status bar.
READING = "读取报送文件"


CHECKING = "校验报送文件"


SUMMING = "汇总和排名"


WRITING = "写入母表"


SAVING = "保存母表"


Progress = Callable[[str, int, int], None] | None


def tell(progress: Progress, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def summary_sentence(result: JobResult) -> str:
    """One Chinese sentence saying what the run did (and one per project it renumbered)."""
    moved = "".join(f"项目“{old}”已改编号为“{new}”，其历史（{count} 份报送）已转入新编号。"
                    for old, new, count in result.renumbered)
    if result.withdrawn:
        name, group, date = result.withdrawn
        return (f"已撤回 {group} {date} 的报送《{name}》，汇总和红黑榜已按其余报送重算；"
                f"该组可重新报送 {date} 的正确台账。" + moved)
    if result.inbox is None:
        return f"已按 {result.as_of.isoformat()} 重新计算汇总和红黑榜。" + moved
    parts = [f"读取 {len(result.files) - result.count(SKIPPED)} 个文件", f"新接收 {result.count(NEW_ACCEPTED)} 个",
             f"退回 {result.count(NEW_REJECTED)} 个"]
    if result.count(DUPLICATE):
        parts.append(f"重复 {result.count(DUPLICATE)} 个")
    if result.count(KNOWN):
        parts.append(f"此前已处理 {result.count(KNOWN)} 个")
    if result.count(SKIPPED):
        parts.append(f"未读取 {result.count(SKIPPED)} 个（见校验报告）")
    return "，".join(parts) + "。" + moved


@dataclass(frozen=True)
class RunRequest:
    """What a door asks of a run: every input of the pipeline in one value.

    `now` is the run's one reading of the clock (设置's time zone; read once by the run when None), `as_of`
    the statistics date (now's date when None). `write=False` changes neither master nor store."""

    command: str = "run"
    as_of: dt.date | None = None
    now: dt.datetime | None = None
    inbox: Path | None = None
    intake: bool = True
    write: bool = True
    write_ranking: bool = True
    workers: int | None = None
    progress: Progress = None
    notice_kind: str = DAILY
    issue: bool = False
    reissue: bool = False
    withdraw: tuple[str, str, str] | None = None  # (file name or hash, who, why): one accepted submission out
