"""The city's view: a city HQ (设置 › 指挥部级别 = 市) ranks ten counties (片区), each sending its totals.

Built so that the seed's sentence about 清河县 comes out of the engine, not out of this file: 征地完成率
后三名、全市第八名、黑榜; 进度占比率低于全市平均水平、后三名、第八名、黑榜; 净地完成情况后三名、第八名、
黑榜; 工业用地征地完成率为 0、全市倒数第一、黑榜. Each county has four 市级 projects of 100 亩 (one
industrial) and reports twice: at the period start and on the as-of date.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import REGISTRY_FIELDS
from xladdin.domain.level import CITY
from xladdin.workbook.build import build_master
from xladdin.workbook.ledger import build_ledger

CHINA = dt.timezone(dt.timedelta(hours=8))  # 设置 › 时区's default: the files' times are read in it

CITY_MASTER = "市指挥部母表.xlsm"
OUR_COUNTY = "清河县"
COUNTIES = ("东城区", "西湖区", "高新区", "临港县", "南山县", "北河县", "青石县", OUR_COUNTY, "白沙县", "龙溪县")
KINDS = ("工业用地", "经营性用地", "基础设施", "民生工程")
PLAN = 100.0

def _county_figures(index: int) -> list[tuple[float, float, bool]]:
    """Per project (KINDS order): acquired at the period start, acquired now, net land now. The first
    seven counties deliver two projects and move on three or four; 清河县 delivers one it had acquired
    already (净地 in the period is progress) and moves one: 2 of 4, 50%, eighth; its industrial project
    has nothing; the last two stand still (0%: 黑榜 whatever their number)."""
    if index < 7:
        moving = (4, 4, 3, 3, 3, 3, 3)[index]  # projects with progress in the period
        industrial, business = 80.0 - 5 * index, 60.0 - 5 * index
        rows = [(industrial - 10, industrial, False), (business - 10, business, False), (90.0, PLAN, True),
                (90.0, PLAN, True)]
        if moving < 4:  # the business project stood still
            rows[1] = (business, business, False)
        if moving < 3:  # so did the industrial one
            rows[0] = (industrial, industrial, False)
        return rows
    if index == 7:  # 清河县
        return [(0.0, 0.0, False), (20.0, 30.0, False), (30.0, 30.0, False), (PLAN, PLAN, True)]
    level = 35.0 if index == 8 else 30.0
    return [(level, level, False)] * 4


def city_registry() -> list[dict]:
    rows = []
    for c, county in enumerate(COUNTIES):
        for k, kind in enumerate(KINDS):
            rows.append({"project_id": f"C{c:02d}-{k + 1}", "project_name": f"{county}{kind}项目", "project_type": kind,
                         "level": "市级", "group": county, "leader": "", "township": county, "plan_mu": PLAN,
                         "plan_houses": 0, "plan_crops": 0, "plan_fixtures": 0, "plan_fixtures_removed": 0,
                         "plan_graves": 0, "deadline": None})
    return rows


def build_city_demo(directory: Path, end: dt.date, period_days: int = 7) -> Path:
    """The city master and an inbox of county totals in `directory`; returns the master's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "历史库.sqlite").unlink(missing_ok=True)
    registry = city_registry()
    master = build_master(directory / CITY_MASTER, [[r.get(f.key) for f in REGISTRY_FIELDS] for r in registry],
                          level=CITY)
    inbox = directory / "报送"
    inbox.mkdir(exist_ok=True)
    for old in inbox.iterdir():
        if old.is_file():
            old.unlink()
    frame = pd.DataFrame(registry)
    start = end - dt.timedelta(days=period_days)
    for c, county in enumerate(COUNTIES):
        projects = frame[frame["group"] == county]
        figures = _county_figures(c)
        for date, which in ((start, 0), (end, 1)):
            rows = []
            for pid, name, (before, now, net) in zip(projects["project_id"], projects["project_name"], figures):
                acquired = (before, now)[which]
                delivered = net and which == 1  # delivered inside the period
                rows.append({"project_id": pid, "project_name": name, "plot": "", "acquired_mu": acquired,
                             "houses_agreed": 0, "houses_demolished": 0, "crops": 0, "fixtures": 0,
                             "fixtures_removed": 0, "graves": 0, "cleared_mu": acquired,
                             "net_land": "是" if delivered else "否",
                             "net_land_date": date if delivered else None})
            path = inbox / f"{county}_{date:%m%d}.xlsx"
            build_ledger(county, projects, date, rows, reporter="统计员").save(path)
            sent = dt.datetime.combine(date, dt.time(18, 0) if c % 2 else dt.time(19, 30), tzinfo=CHINA)
            os.utime(path, (sent.timestamp(), sent.timestamp()))  # sent on its day, before the 21:00 meeting
    return master
