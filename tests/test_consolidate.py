"""汇总 from accepted rows: latest figures, plots summed, increments, progress, stalls and status."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from xladdin.base.schema import FIGURE_KEYS
from xladdin.domain.consolidate import summarize
from xladdin.domain.settings import Settings

AS_OF = dt.date(2026, 11, 24)
D = lambda n: AS_OF - dt.timedelta(days=n)  # noqa: E731 - n days before the as-of date


def row(project: str, date: dt.date, acquired: float, plot: str = "", net: str = "否", demolished: float = 0,
        problems: str = "") -> dict:
    figures = {k: 0.0 for k in FIGURE_KEYS}
    figures.update(acquired_mu=acquired, houses_demolished=demolished, houses_agreed=demolished)
    return {"project_id": project, "plot": plot, "report_date": date, **figures, "net_land": net,
            "net_land_date": date if net == "是" else None, "problems": problems, "next_steps": ""}


@pytest.fixture
def registry() -> pd.DataFrame:
    ids = ["A", "B", "C", "D", "E"]
    frame = pd.DataFrame({"project_id": ids, "project_name": ids, "project_type": "基础设施", "level": "县级",
                          "group": "甲", "leader": "", "township": "", "plan_mu": 100.0, "plan_houses": 10.0,
                          "plan_crops": 0.0, "plan_fixtures": 0.0, "plan_graves": 0.0,
                          "deadline": [AS_OF + dt.timedelta(days=30), AS_OF - dt.timedelta(days=2),
                                       AS_OF + dt.timedelta(days=3), AS_OF + dt.timedelta(days=30), None]})
    return frame.set_index("project_id", drop=False).rename_axis(None)


def test_summary_lines(registry):
    rows = pd.DataFrame([
        row("A", D(10), 10), row("A", D(3), 30, demolished=2), row("A", D(0), 35, demolished=5, problems="缺资金"),
        row("A", D(0) + dt.timedelta(days=1), 99),  # after the as-of date: ignored
        row("B", D(9), 40), row("B", D(2), 40),  # no progress for 9 days, past its deadline
        row("C", D(5), 60, plot="东"), row("C", D(5), 20, plot="西"), row("C", D(0), 70, plot="东"),
        row("C", D(0), 30, plot="西"),
        row("D", D(4), 100, net="是", demolished=10),
    ])
    summary = summarize(registry, rows, AS_OF, Settings(stall_days=3)).set_index("project_id")
    assert summary.at["A", "acquired_mu"] == 35 and summary.at["A", "acquired_delta"] == 5
    assert summary.at["A", "demolished_delta"] == 3 and summary.at["A", "problems"] == "缺资金"
    assert summary.at["A", "progress"] == "是" and summary.at["A", "status"] == "推进中"
    assert summary.at["A", "last_report"] == D(0) and summary.at["A", "acquisition_rate"] == pytest.approx(0.35)
    assert summary.at["B", "progress"] == "否" and summary.at["B", "stalled_days"] == 9
    assert summary.at["B", "status"] == "逾期 2 天、无进展 9 天、今日未报"  # flags, not one value
    assert summary.at["C", "acquired_mu"] == 100 and summary.at["C", "acquired_delta"] == 20
    assert summary.at["C", "status"] == "临期（剩 3 天）"
    assert summary.at["D", "status"] == "已净地" and summary.at["D", "net_land_date"] == D(4)
    assert pd.isna(summary.at["D", "stalled_days"])
    assert summary.at["E", "status"] == "未报送" and summary.at["E", "acquired_mu"] == 0
    assert summary.at["E", "last_report"] is None and summary.at["E", "progress"] == "否"
    assert list(summary.index) == list(registry.index)


def test_a_project_first_reported_inside_the_period_has_progress(registry):
    rows = pd.DataFrame([row("A", D(2), 5)])
    summary = summarize(registry, rows, AS_OF, Settings()).set_index("project_id")
    assert summary.at["A", "progress"] == "是"
    assert summary.at["A", "acquired_delta"] == 0  # its gain was on day 2, not on the as-of date


def test_empty_history_gives_every_project_unreported(registry):
    empty = pd.DataFrame(columns=["project_id", "plot", "report_date", *FIGURE_KEYS, "net_land", "net_land_date",
                                  "problems", "next_steps"])
    summary = summarize(registry, empty, AS_OF, Settings())
    assert (summary["acquired_mu"] == 0).all()
    assert list(summary["status"]) == ["未报送", "逾期 2 天、未报送", "临期（剩 3 天）、未报送", "未报送", "未报送"]


def test_a_project_net_land_before_the_period_leaves_the_progress_ratio(registry):
    from xladdin.domain.rank import compute_ranking

    start = Settings().period_start_for(AS_OF)
    rows = pd.DataFrame([
        row("A", start - dt.timedelta(days=2), 100, net="是"), row("A", D(1), 100, net="是"),  # done before
        row("B", start - dt.timedelta(days=2), 10), row("B", D(1), 30),  # rose in the period
        row("C", start - dt.timedelta(days=2), 10), row("C", D(1), 10),  # did not
        row("D", D(3), 100, net="是"),  # became net land inside the period: it counts
    ])
    new = summarize(registry, rows, AS_OF, Settings()).set_index("project_id")
    assert list(new["progress"]) == ["期初已净地", "是", "否", "是", "否"]
    # five projects, one already net land at the start: two with progress out of four
    assert compute_ranking(new.reset_index(), Settings()).at[0, "progress_ratio"] == 0.5
    old = Settings(progress_basis="全部项目")
    assert compute_ranking(summarize(registry, rows, AS_OF, old), old).at[0, "progress_ratio"] == 0.4


def test_increments_are_as_of_the_date_minus_the_day_before(registry):
    rows = pd.DataFrame([
        row("A", D(3), 10), row("A", D(1), 14.9),  # its group sent nothing today: adds 0, not 4.9
        row("B", D(2), 40), row("B", D(0), 45),  # reported today: 5 since it last stood (day 2)
        row("C", D(0), 7),  # first report ever, today: no earlier figure to subtract
    ])
    summary = summarize(registry, rows, AS_OF, Settings()).set_index("project_id")
    assert summary.at["A", "acquired_delta"] == 0 and summary.at["B", "acquired_delta"] == 5
    assert pd.isna(summary.at["C", "acquired_delta"])


def test_every_list_counts_every_project_that_qualifies(registry):
    from xladdin.domain.consolidate import has_flag

    rows = pd.DataFrame([row("B", D(9), 40), row("B", D(2), 40), row("C", D(6), 10), row("C", D(0), 20)])
    settings = Settings(stall_days=3, due_soon_days=5)
    summary = summarize(registry, rows, AS_OF, settings).set_index("project_id")
    status = summary["status"]
    assert list(status.index[has_flag(summary, "逾期")]) == ["B"]
    assert list(status.index[has_flag(summary, "无进展")]) == ["B"]  # B is overdue and stalled at once
    assert list(status.index[has_flag(summary, "临期")]) == ["C"]  # 3 days left, within 设置's 5
    assert list(status.index[has_flag(summary, "今日未报")]) == ["B"]
    assert list(status.index[has_flag(summary, "未报送")]) == ["A", "D", "E"]
    assert status["C"] == "临期（剩 3 天）"
    # The statuses are data; the text is rendered from them, never parsed back.
    assert summary.at["B", "flags"] == ("逾期", "无进展", "今日未报")
    assert status["B"].startswith("逾期 ") and "无进展 " in status["B"] and status["B"].endswith("今日未报")
    later = summarize(registry, rows, AS_OF, Settings(due_soon_days=2)).set_index("project_id")
    assert later.at["C", "status"] == "推进中"  # 3 days left is not 临期 when 设置 says 2
