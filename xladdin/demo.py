"""A realistic demo campaign: registry from the seed speech, two weeks of daily ledgers, a few wrong ones."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

from xladdin.base import clock
from xladdin.base.issues import Code
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import LEDGER_BY_KEY, REGISTRY_FIELDS
from xladdin.domain.milestones import DEFAULT_MILESTONES, staff_row
from xladdin.workbook.build import build_master, write_launchers
from xladdin.workbook.ledger import HEADER_ROW, build_ledger

MASTER_NAME = "指挥部母表.xlsm"
MANIFEST_NAME = "演示说明.json"
DAYS = 14

GROUPS = (
    ("高铁新区工作组", "陈志强（县委常委、常务副县长）"),
    ("工业园区工作组", "刘建华（副县长）"),
    ("城南片区工作组", "王立新（县委常委、统战部部长）"),
    ("滨江片区工作组", "赵红梅（副县长）"),
    ("交通项目工作组", "孙国平（副县长）"),
    ("民生工程工作组", "周文斌（县委常委、宣传部部长）"),
)

# id, name, type, level, group index, township, plan mu, houses, crops, fixtures, graves, deadline offset (days)
PROJECTS = (
    ("SJ-01", "高铁站前广场及配套路网地块", "基础设施", "市级", 0, "高铁新区", 186.5, 42, 65, 120, 36, 20),
    ("SJ-02", "高铁新城商住一期地块", "经营性用地", "市级", 0, "高铁新区", 238.0, 57, 80, 150, 40, 35),
    ("SJ-03", "城东工业园标准厂房三期", "工业用地", "市级", 1, "城关镇", 152.3, 12, 30, 64, 18, -3),
    ("SJ-04", "新材料产业园一期", "工业用地", "市级", 1, "东湖镇", 310.0, 25, 48, 90, 52, 45),
    ("SJ-05", "智能装备制造基地", "工业用地", "市级", 1, "东湖镇", 205.8, 8, 22, 40, 15, 30),
    ("SJ-06", "城南商贸物流园地块", "经营性用地", "市级", 2, "城关镇", 126.4, 33, 40, 75, 20, 5),
    ("SJ-07", "老城区棚户区改造（二期）", "民生工程", "市级", 2, "城关镇", 58.6, 96, 10, 130, 6, 60),
    ("SJ-08", "滨江路北延伸段", "基础设施", "市级", 3, "石桥镇", 88.2, 18, 36, 70, 28, 25),
    ("SJ-09", "滨江文旅综合体地块", "经营性用地", "市级", 3, "石桥镇", 142.0, 29, 26, 55, 12, 50),
    ("SJ-10", "县城至高铁站快速通道", "基础设施", "市级", 4, "河西乡", 264.7, 38, 90, 160, 75, 15),
    ("SJ-11", "国道改线工程（县城段）", "基础设施", "市级", 4, "青山镇", 198.1, 21, 70, 110, 60, 40),
    ("SJ-12", "县人民医院新院区", "民生工程", "市级", 5, "高铁新区", 96.0, 14, 18, 35, 9, 10),
    ("XJ-01", "第三中学扩建工程", "民生工程", "县级", 5, "城关镇", 42.5, 11, 6, 20, 3, 30),
    ("XJ-02", "城北污水处理厂二期", "基础设施", "县级", 5, "河西乡", 36.8, 4, 12, 18, 7, 55),
    ("XJ-03", "农产品加工园配套用地", "工业用地", "县级", 2, "青山镇", 75.0, 6, 20, 30, 10, 25),
    ("XJ-04", "石桥安置小区（二期）", "民生工程", "县级", 3, "石桥镇", 48.3, 20, 8, 25, 4, -8),
    ("XJ-05", "东湖片区路网工程", "基础设施", "县级", 1, "东湖镇", 67.9, 9, 25, 44, 21, 70),
    ("XJ-06", "城南幼儿园及社区服务中心", "民生工程", "县级", 2, "城关镇", 12.6, 3, 2, 8, 1, 12),
)

REPORTERS = ("李晓燕", "张伟", "黄丽", "吴强", "郑敏", "何军")
# The problems groups report, each in the several wordings a group writes it in from day to day (the 督办台账
# threads them into one item per problem), with the usual next step.
PROBLEMS = (
    ("个别户诉求较高，正在做思想工作", "个别农户补偿诉求偏高，仍在做思想工作", "仍有3户诉求较高，工作组继续做思想工作",
     "少数群众诉求过高，正在逐户做思想工作", "个别户诉求较高未签约，继续做工作"),
    ("安置房源不足，群众有顾虑", "安置房源紧张，部分群众存在顾虑", "群众对安置房源不足有顾虑",
     "安置房源不足，群众顾虑较多，签约缓慢", "因安置房源不足，部分群众仍有顾虑"),
    ("坟山迁移需协调宗族意见", "坟山迁移宗族意见不统一，需协调", "还有12穴坟山迁移需协调宗族",
     "坟山迁移仍需协调宗族意见", "宗族对坟山迁移意见不一，正在协调"),
    ("抢建抢种现象，已联合执法", "发现抢建抢种，已组织联合执法", "抢建抢种行为时有发生，已联合执法",
     "仍有抢种现象，联合执法队已介入", "抢建抢种问题突出，已开展联合执法"),
    ("资金拨付滞后", "征拆资金拨付滞后", "补偿资金拨付滞后，影响签约", "征拆补偿资金未及时拨付", "资金拨付仍然滞后"),
)
STEPS = ("领导包户，夜访群众", "加快安置房建设进度", "每日例会研究解决", "联合执法，露头就打", "协调财政尽快拨付")


def problem_cell(index: int, day: int, days: int) -> tuple[str, str]:
    """The 存在问题 and 下步措施 of the index-th project on a day: its main problem every day in a changing
    wording; every third project a second one, which every sixth project stops reporting after the first
    week (so that it awaits confirmation at the end); every seventh a new one on the last day."""
    themes = [index % len(PROBLEMS)]
    if index % 3 == 0 and not (index % 6 == 0 and day > days // 2):
        themes.append((index + 2) % len(PROBLEMS))
    if index % 7 == 1 and day == days - 1:
        themes.append((index + 3) % len(PROBLEMS))
    words = [PROBLEMS[t][(day + index) % len(PROBLEMS[t])] for t in themes]
    return "；".join(words), "；".join(dict.fromkeys(STEPS[t] for t in themes))

# The deliberately wrong submissions: (day index, group index, how it is wrong, the issue code it must raise).
BAD = (
    (3, 1, "cumulative down", Code.CUMULATIVE_DECREASED),
    (4, 3, "demolished > agreed", Code.DEMOLISHED_EXCEEDS_AGREED),
    (5, 4, "unknown project", Code.PROJECT_UNKNOWN),
    (7, 0, "text in number cell", Code.NOT_A_NUMBER),
    (8, 5, "missing column", Code.COLUMN_MISSING),
    (9, 2, "future date", Code.DATE_FUTURE),
    (11, 4, "unknown unit", Code.UNIT_UNKNOWN),
    (12, 3, "duplicate row", Code.ROW_DUPLICATE),
)
# Messy but acceptable: (day, group, how).
MESSY = (
    (2, 2, "full-width header"),
    (3, 5, "title rows above"),
    (6, 1, "numbers as text"),
    (7, 4, "extra column"),
    (10, 0, "csv"),
)


@dataclass
class Trajectory:
    start: float
    rate: float
    stall_day: int | None

    def fraction(self, day: int) -> float:
        active = day if self.stall_day is None else min(day, self.stall_day)
        return min(1.0, self.start + self.rate * active)


def registry_frame() -> pd.DataFrame:
    rows = []
    for pid, name, kind, level, g, town, mu, houses, crops, fixtures, graves, _ in PROJECTS:
        rows.append({"project_id": pid, "project_name": name, "project_type": kind, "level": level,
                     "group": GROUPS[g][0], "leader": GROUPS[g][1], "township": town, "plan_mu": mu,
                     "plan_houses": houses, "plan_crops": crops, "plan_fixtures": fixtures, "plan_graves": graves,
                     "plan_fixtures_removed": fixtures})
    return pd.DataFrame(rows).set_index("project_id", drop=False).rename_axis(None)


def plan_rows(end: dt.date, start: dt.date) -> list[list[object]]:
    """What HQ typed into the demo's 节点计划 before the campaign: 报批 done by its start (the other planned
    dates are the 倒排工期 of 设置, computed by the run)."""
    return [staff_row(DEFAULT_MILESTONES, p[0], p[1], "", {"报批": {"entered": start}}) for p in PROJECTS]


def registry_rows(end: dt.date) -> list[list[object]]:
    rows = []
    for p in PROJECTS:
        pid, name, kind, level, g, town, mu, houses, crops, fixtures, graves, due = p
        values = {"project_id": pid, "project_name": name, "project_type": kind, "level": level,
                  "group": GROUPS[g][0], "leader": GROUPS[g][1], "township": town, "plan_mu": mu,
                  "plan_houses": houses, "plan_crops": crops, "plan_fixtures": fixtures, "plan_graves": graves,
                  "plan_fixtures_removed": fixtures, "deadline": end + dt.timedelta(days=due)}
        rows.append([values.get(f.key) for f in REGISTRY_FIELDS])
    return rows


def trajectories(rng: random.Random) -> dict[str, Trajectory]:
    """Each project's course over the fortnight: the seed's stalled and finished projects among them."""
    paths = {}
    for p in PROJECTS:
        pid = p[0]
        if pid == "SJ-05":  # the seed: an industrial project with nothing acquired
            paths[pid] = Trajectory(0.0, 0.0, 0)
        elif pid in ("SJ-07", "XJ-06", "XJ-01", "SJ-08", "SJ-01"):  # net land during the fortnight
            paths[pid] = Trajectory(rng.uniform(0.75, 0.85), 0.03, None)
        elif pid in ("SJ-06", "XJ-04", "SJ-11"):  # stalled for the last days
            paths[pid] = Trajectory(rng.uniform(0.3, 0.6), rng.uniform(0.015, 0.03), rng.randint(6, 9))
        else:
            paths[pid] = Trajectory(rng.uniform(0.1, 0.6), rng.uniform(0.008, 0.035), None)
    return paths


def ledger_rows(projects: list[tuple], day: int, date: dt.date, paths: dict[str, Trajectory],
                start: dt.date, rng: random.Random) -> list[dict]:
    """A group's true cumulative figures on one day."""
    rows = []
    for p in projects:
        pid, name, _, _, _, _, mu, houses, crops, fixtures, graves, _ = p
        index = PROJECTS.index(p)
        frac = paths[pid].fraction(day)
        done = frac >= 1.0
        acquired = round(mu * frac, 2)
        agreed = houses if done else min(houses, math.floor(houses * min(1.0, frac * 1.15)))
        demolished = houses if done else min(agreed, math.floor(houses * frac * 0.85))
        finished_on = None
        if done:
            first_day = next(d for d in range(day + 1) if paths[pid].fraction(d) >= 1.0)
            finished_on = start + dt.timedelta(days=first_day)
        rows.append({
            "project_id": pid, "project_name": name, "plot": "",
            "acquired_mu": acquired, "houses_agreed": agreed, "houses_demolished": demolished,
            "crops": math.floor(crops * frac), "fixtures": math.floor(fixtures * frac),
            "fixtures_removed": fixtures if done else math.floor(fixtures * frac * 0.8),  # removed after paying
            "graves": math.floor(graves * frac), "cleared_mu": acquired if done else round(acquired * 0.8, 2),
            "net_land": "是" if done else "否", "net_land_date": finished_on,
            "problems": "" if done else problem_cell(index, day, DAYS)[0],
            "next_steps": "" if done else problem_cell(index, day, DAYS)[1],
        })
    return rows


def daily_ledgers(start: dt.date, days: int, paths: dict[str, Trajectory], rng: random.Random):
    """Each day's true figures for each group, in order: (day, date, group index, group, rows)."""
    for day in range(days):
        date = start + dt.timedelta(days=day)
        for g, (group, _) in enumerate(GROUPS):
            projects = [p for p in PROJECTS if p[4] == g]
            yield day, date, g, group, ledger_rows(projects, day, date, paths, start, rng)


def spoil(rows: list[dict], how: str | None, group: str) -> tuple[list[dict], str]:
    """A group's true rows made wrong in one way (see BAD); returns the rows and the 填报单位 to write."""
    rows = [dict(r) for r in rows]
    unit = group
    if how == "cumulative down":
        rows[0]["acquired_mu"] = round(rows[0]["acquired_mu"] * 0.5, 2)
        rows[0]["cleared_mu"] = round(rows[0]["acquired_mu"] * 0.8, 2)
    elif how == "demolished > agreed":
        rows[0]["houses_demolished"] = rows[0]["houses_agreed"] + 3
    elif how == "unknown project":
        rows[0]["project_id"] = "SJ-99"
    elif how == "text in number cell":
        rows[0]["acquired_mu"] = f"约{rows[0]['acquired_mu']:.0f}"
    elif how == "negative number":
        rows[-1]["graves"] = -1
    elif how == "unknown unit":
        unit = group.replace("工作组", "组")
    elif how == "duplicate row":
        rows.append(dict(rows[-1]))
    return rows, unit


def build_demo(directory: Path, end: dt.date | None = None, seed: int = 20231026) -> dict:
    """Master, inbox and manifest of the demo campaign in `directory`; returns the manifest."""
    end = end or clock.now().date()
    start = end - dt.timedelta(days=DAYS - 1)
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    master = directory / MASTER_NAME
    if master.exists():
        master.unlink()
    for stale in (directory / "历史库.sqlite",):
        stale.unlink(missing_ok=True)
    build_master(master, registry_rows(end), plan_rows(end, start))
    write_launchers(directory, MASTER_NAME)
    inbox = directory / "报送"
    inbox.mkdir(exist_ok=True)
    for old in inbox.iterdir():
        if old.is_file():
            old.unlink()
    registry = registry_frame()
    paths = trajectories(rng)
    bad = {(d, g): (how, code) for d, g, how, code in BAD}
    messy = {(d, g): how for d, g, how in MESSY}
    files = []
    for day, date, g, group, truth in daily_ledgers(start, DAYS, paths, rng):
        name = f"{group}_{date:%m%d}.xlsx"
        how, code = bad.get((day, g), (None, None))
        report_date = end + dt.timedelta(days=5) if how == "future date" else date
        rows, unit = spoil(truth, how, group)
        style = messy.get((day, g))
        if style == "numbers as text":
            rows[0]["acquired_mu"] = f"{rows[0]['acquired_mu']}亩"
            rows[-1]["fixtures"] = f"{rows[-1]['fixtures']:,}"
        wb = build_ledger(unit, registry[registry["group"] == group], report_date, rows,
                          reporter=REPORTERS[g], phone=f"1390000{g:04d}")
        ws = wb.active
        if how == "missing column":
            ws.delete_cols([f.key for f in LEDGER_BY_KEY.values()].index("graves") + 1)
        if style == "full-width header":
            for cell in ws[HEADER_ROW]:
                if isinstance(cell.value, str):
                    cell.value = cell.value.replace("(", "（").replace(")", "）").replace("累计", "累计\n")
        elif style == "title rows above":
            ws.insert_rows(1, 2)
            ws["A1"].value = "报送：县指挥部"
        elif style == "extra column":
            ws.cell(HEADER_ROW, len(LEDGER_BY_KEY) + 1).value = "备注"
        if style == "csv":
            name = name.replace(".xlsx", ".csv")
            _save_csv(ws, inbox / name)
        else:
            wb.save(inbox / name)
        # Sent that evening before the 21:00 meeting (the last group a little late on the last day).
        late = date == end and g == len(GROUPS) - 1
        _sent_at(inbox / name, date, dt.time(21, 35) if late else dt.time(19, 0 + 7 * g))
        files.append({"file": name, "group": group, "date": report_date.isoformat(),
                      "expected": "rejected" if how else "accepted", "wrong": how or "", "code": code or "",
                      "style": style or ""})
        if how == "text in number cell":  # the group corrects it the same evening
            corrected = name.replace(".xlsx", "_更正.xlsx")
            build_ledger(group, registry[registry["group"] == group], date, truth, reporter=REPORTERS[g],
                         phone=f"1390000{g:04d}").save(inbox / corrected)
            _sent_at(inbox / corrected, date, dt.time(20, 45))  # after the original: the later arrival wins
            files.append({"file": corrected, "group": group, "date": date.isoformat(), "expected": "accepted",
                          "wrong": "", "code": "", "style": "resubmission"})
    # One file forwarded twice under another name.
    twice = next(f for f in files if f["expected"] == "accepted" and f["file"].endswith(".xlsx")
                 and f["date"] == (end - dt.timedelta(days=1)).isoformat())
    copy_name = twice["file"].replace(".xlsx", "(1).xlsx")
    (inbox / copy_name).write_bytes((inbox / twice["file"]).read_bytes())
    _sent_at(inbox / copy_name, dt.date.fromisoformat(twice["date"]), dt.time(20, 50))
    files.append({**twice, "file": copy_name, "expected": "duplicate", "style": "same file twice"})
    manifest = {"as_of": end.isoformat(), "start": start.isoformat(), "master": MASTER_NAME, "inbox": "报送",
                "files": files}
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def _sent_at(path: Path, date: dt.date, time: dt.time) -> None:
    """The file's time as if the group had sent it then (the roster and the order of corrections use it)."""
    moment = dt.datetime.combine(date, time, tzinfo=clock.zone_of(clock.DEFAULT_ZONE)).timestamp()
    os.utime(path, (moment, moment))


def _save_csv(ws, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        for row in ws.iter_rows(values_only=True):
            writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row])
