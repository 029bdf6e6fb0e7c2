"""今日报送情况: who reported for the statistics date, and how (pure).

Per work group of the registry, from every submission stored for that report date:

- 已报: an accepted submission, and no rejected one before it;
- 已更正: sent back (退回) first, then an accepted one came in;
- 退回未改: only rejected submissions so far (the latest one was sent back and nothing replaced it);
- 未报: nothing for that date.

The cut-off (设置 › 报送截止时间, default 21:00 on the statistics date, the nightly meeting) does not
change the status: what was accepted is in the figures however late it came. It marks the group 逾时
when the submission that decides its status arrived after the cut-off.
"""

from __future__ import annotations

import datetime as dt

from xladdin.base.lazy import pandas as pd

REPORTED, MISSING, RETURNED, CORRECTED = "已报", "未报", "退回未改", "已更正"
STATUSES = (REPORTED, CORRECTED, RETURNED, MISSING)
ON_TIME, LATE = "按时", "逾时"
ACCEPTED_WORDS = frozenset({"已接收", "已替代"})  # a superseded submission was accepted in its time

ROSTER_COLUMNS = ["group", "status", "received_at", "timeliness", "files"]


def daily_roster(groups: list[str], submissions: pd.DataFrame, date: dt.date, cutoff: dt.time) -> pd.DataFrame:
    """One row per work group (in the given order): status, when the deciding file came, 按时/逾时, files.

    `submissions` has group_name, report_date (date), received_at (datetime), status (store words) and
    file_name; rows for other dates or groups are ignored.
    """
    deadline = dt.datetime.combine(date, cutoff)
    rows = []
    mine = submissions[submissions["report_date"] == date] if not submissions.empty else submissions
    # One stable sort and one grouping for every group (filtering the frame per group was groups × files).
    by_group = dict(tuple(mine.sort_values("received_at", kind="stable").groupby("group_name", sort=False))) \
        if not mine.empty else {}
    for group in groups:
        sent = by_group.get(group, mine.iloc[:0])
        if sent.empty:
            rows.append([group, MISSING, None, "", 0])
            continue
        accepted = sent["status"].isin(ACCEPTED_WORDS).to_numpy()
        if accepted.any():
            first = int(accepted.argmax())
            status = CORRECTED if first > 0 else REPORTED  # everything before the first accepted was rejected
            deciding = sent.iloc[first]["received_at"]
        else:
            status, deciding = RETURNED, sent.iloc[-1]["received_at"]
        late = not pd.isna(deciding) and deciding > deadline
        rows.append([group, status, deciding, LATE if late else ON_TIME, len(sent)])
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS)


def roster_counts(roster: pd.DataFrame) -> dict[str, list[str]]:
    """Groups under each status (and 逾时), in roster order."""
    counts = {status: list(roster.loc[roster["status"] == status, "group"]) for status in STATUSES}
    counts[LATE] = list(roster.loc[roster["timeliness"] == LATE, "group"])
    return counts


def roster_sentence(roster: pd.DataFrame, cutoff: dt.time, unit: str) -> str:
    """应报 6 个工作组：已报 3 个，已更正 1 个；未报 1 个（第五组）；退回未改 1 个（第二组）；21:00 后报送 1 个（第三组）。
    Parts with nobody in them are left out (已报 always stays); `unit` names the reporting units (the level's
    word: 工作组 / 县（市、区）)."""
    counts = roster_counts(roster)

    def part(word: str, names: list[str], with_names: bool) -> str:
        return f"{word} {len(names)} 个" + (f"（{'、'.join(names)}）" if with_names and names else "")

    parts = [part(REPORTED, counts[REPORTED], False) + (f"，{part(CORRECTED, counts[CORRECTED], False)}"
                                                          if counts[CORRECTED] else "")]
    parts += [part(word, counts[status], True) for word, status in ((MISSING, MISSING), (RETURNED, RETURNED),
                                                                    (f"{cutoff:%H:%M} 后报送", LATE))
              if counts[status]]
    return f"应报 {len(roster)} 个{unit}：" + "；".join(parts) + "。"


def parse_cutoff(value: object) -> dt.time | None:
    """21:00 / 21：00 / 2100 / a spreadsheet time (0.875) / a time object; None when unreadable."""
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
        minutes = round(float(value) * 24 * 60)
        return dt.time(minutes // 60, minutes % 60)
    text = str(value).strip().replace("：", ":").replace("点", ":").rstrip(":")
    try:
        if ":" in text:
            hour, minute = text.split(":", 1)
            return dt.time(int(hour), int(minute or 0))
        if text.isdigit() and len(text) in (3, 4):
            return dt.time(int(text[:-2]), int(text[-2:]))
        if text.isdigit():
            return dt.time(int(text), 0)
    except ValueError:
        return None
    return None


def work_groups(registry: pd.DataFrame) -> list[str]:
    """The registry's 责任工作组, first-seen order, blanks left out: the groups that must report."""
    names = (str(g).strip() for g in registry["group"] if g is not None and not pd.isna(g))
    return list(dict.fromkeys(n for n in names if n))


def roster_rows(roster: pd.DataFrame | None, date: dt.date, cutoff: dt.time | None, unit: str,
                earlier: list[tuple[str, dt.date, str]] | None = None) -> list[list[str]]:
    """今日报送情况 as (项目, 内容) rows of the 控制台 status table: the sentence, then one row per group
    (`cutoff` is 设置's, always given with a roster), then each ledger of an earlier date sent back and never
    replaced (`earlier`: (group, report date, reason), as the notices list them), until the group corrects it."""
    if roster is None or roster.empty or cutoff is None:
        return []
    late_returns = [[f"退回未更正（{day:%m-%d}）：{group}",
                     f"{day:%m-%d} 的台账被退回（{reason}）后一直未重新报送，该日计为未报：请督促改正后重新报送"]
                    for group, day, reason in sorted(earlier or [], key=lambda r: (r[1], r[0])) if day < date]
    rows = [[f"今日报送（{date.isoformat()}，截止 {cutoff:%H:%M}）", roster_sentence(roster, cutoff, unit)]]
    for group, status, received, timeliness in roster[["group", "status", "received_at", "timeliness"]].itertuples(
            index=False):
        text = status
        if received is not None and not pd.isna(received):
            text += f"（{received:%m-%d %H:%M} 收到，{timeliness}）"
        if status == MISSING:
            text += "：请督促报送"
        elif status == RETURNED:
            text += "：请按校验报告改正后重新报送"
        rows.append([group, text])
    return rows + late_returns


TALLY_COLUMNS = ["group", "on_time", "late", "missing", "returned", "days"]
TALLY_LABELS = ("工作组", "按时报送", "逾时报送", "未报", "退回未改")  # days each


def weekly_tally(groups: list[str], submissions: pd.DataFrame, dates: list[dt.date], cutoff: dt.time) -> pd.DataFrame:
    """The week's 报送 discipline per work group (in the given order) over `dates` (the 本期): days reported on
    time, late (the deciding file after the cut-off), missing, and returned and not corrected — each day as
    daily_roster judges it (an accepted file after a return counts by when the accepted one came); a day whose
    ledger was sent back and never replaced is 退回未改 on its own day only, 未报 once it has passed."""
    counts = {group: {"on_time": 0, "late": 0, "missing": 0, "returned": 0} for group in groups}
    last = max(dates, default=None)
    for date in dates:
        day = daily_roster(groups, submissions, date, cutoff)
        for group, status, timeliness in day[["group", "status", "timeliness"]].itertuples(index=False):
            if status == RETURNED and date != last:  # its day has passed with nothing accepted: not reported
                status = MISSING
            if status == MISSING:
                counts[group]["missing"] += 1
            elif status == RETURNED:
                counts[group]["returned"] += 1
            else:
                counts[group]["late" if timeliness == LATE else "on_time"] += 1
    return pd.DataFrame([[g, c["on_time"], c["late"], c["missing"], c["returned"], len(dates)]
                         for g, c in counts.items()], columns=TALLY_COLUMNS)


def tally_sentence(tally: pd.DataFrame, cutoff: dt.time, named: int | None, unit: str) -> str:
    """本期应报 6 个工作组各 7 天：全部按时报送的 3 个；逾时报送 2 个（第三组 2 天、…）；… Groups with a fault are named,
    the most days first (`named` at most per kind, the rest counted)."""
    if tally.empty:
        return ""
    days = int(tally["days"].iloc[0])
    clean = tally[(tally["late"] == 0) & (tally["missing"] == 0) & (tally["returned"] == 0)]
    parts = [f"本期应报{len(tally)}个{unit}各{days}天，每天按时报送的{len(clean)}个"]
    for key, word in (("missing", "有未报"), ("returned", "有退回未改"), ("late", f"有{cutoff:%H:%M}后报送")):
        faulty = tally[tally[key] > 0].sort_values(key, ascending=False, kind="stable")
        if faulty.empty:
            continue
        shown = faulty if named is None else faulty.head(named)
        names = "、".join(f"{r.group}{int(getattr(r, key))}天" for r in shown.itertuples())
        rest = f"等{len(faulty)}个" if len(faulty) > len(shown) else ""
        parts.append(f"{word}的{len(faulty)}个（{names}{rest}）")
    return "；".join(parts) + "。"


def tally_rows(tally: pd.DataFrame | None, start: dt.date, end: dt.date) -> list[list[str]]:
    """本期报送 as (项目, 内容) rows of the 控制台 status table: one row per work group."""
    if tally is None or tally.empty:
        return []
    rows = []
    for r in tally.itertuples(index=False):
        rows.append([f"本期报送（{start:%m-%d}至{end:%m-%d}）：{r.group}",
                     f"按时 {r.on_time} 天，逾时 {r.late} 天，未报 {r.missing} 天，退回未改 {r.returned} 天"])
    return rows
