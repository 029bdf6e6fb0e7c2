"""The master's presentation: the Chinese titles and the rows and formulas of every managed region."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass

from xladdin.base.clock import local_time
from xladdin.base.issues import ERROR
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import (
    METRICS,
    SHEET_MILESTONES,
    SHEET_RANKING,
    SUMMARY_FIELDS,
    column_letter,
)
from xladdin.domain.consolidate import (
    DUE_SOON,
    NET_LAND,
    NOT_REPORTED,
    NOT_TODAY,
    ONGOING,
    OVERDUE,
    STALLED,
    board,
    has_flag,
)
from xladdin.domain.milestones import GROUP_KEYS as MILESTONE_GROUPS
from xladdin.domain.milestones import HEAD_LABELS as MILESTONE_HEAD
from xladdin.domain.milestones import (
    NET_LAND_MILESTONE,
    block_marks,
    current,
    date_text,
    fallback_template,
    week_formula,
    week_starts,
)
from xladdin.domain.rank import basis_words, rule_words
from xladdin.domain.register import KEYS as REGISTER_KEYS
from xladdin.domain.roster import roster_rows, tally_rows
from xladdin.domain.settings import AVERAGE_BASES, Settings, period_text
from xladdin.engine.model import (
    DUPLICATE,
    KNOWN,
    NEW_ACCEPTED,
    NEW_REJECTED,
    SKIPPED,
    FileOutcome,
    JobResult,
    summary_sentence,
)
from xladdin.engine.plan import remember_leaders
from xladdin.engine.history import history_view
from xladdin.store.history import Store
from xladdin.workbook.book import Book
from xladdin.workbook.formulas import SORT_KEY_SCALE, SummaryRange, ranking_rows, sort_key_rows, sorted_rows
from xladdin.workbook.layout import (
    BOARD,
    CHART_UNITS,
    HISTORY,
    LOG,
    MILESTONES,
    MILESTONES_TITLE,
    NOTICE_NAME,
    RANKING,
    RANKING_KEYS,
    REGISTER,
    REGISTER_TITLE,
    REPORT,
    SORT_KEYS,
    SORTED_TABLES,
    STATUS,
    STATUS_COUNTS,
    SUMMARY,
    SUMMARY_TOTALS,
    TIMELINE,
    TIMELINE_TITLE,
    TIMELINE_WEEKS,
    TREND,
    milestone_table,
)
from xladdin.workbook.master import ColumnFormula, Formula, Link

log = logging.getLogger(__name__)

# Fixed columns of the 作战图时间表 before 地块 and 责任人: the row of Mondays of an earlier master starts
# after them, and is rewritten from there.
LEGACY_TIMELINE_FIXED = 4


@dataclass(frozen=True)
class Page:
    """What a region's writer is given: the master, the run's result and where 汇总's rows are."""
    book: Book
    result: JobResult
    store: Store
    settings: Settings
    summary_range: SummaryRange


@dataclass(frozen=True)
class Writer:
    """The writer of some of the master's tables (layout declares where each table sits), and when it
    runs: every run, after an intake only, or with the 红黑榜 only."""
    tables: tuple[str, ...]
    when: str
    write: Callable[[Page], None]


ALWAYS, AFTER_INTAKE, WITH_RANKING = "always", "intake", "ranking"
# Every table a run fills, by its writer, in the order they are written (the 红黑榜 before the charts that
# refer to it). tests/test_regions.py holds this list to layout's SHEETS: each table not filled by staff
# has exactly one writer here.
WRITERS: tuple[Writer, ...] = (
    Writer((SUMMARY.name,), ALWAYS, lambda p: _write_summary(p.book, p.result)),
    Writer((REPORT.name,), AFTER_INTAKE, lambda p: _write_report(p.book, p.result)),
    Writer((LOG.name, HISTORY.name), ALWAYS, lambda p: _write_log_and_history(p.book, p.result, p.store, p.settings)),
    Writer((RANKING.name, *(spec.name for spec in SORTED_TABLES.values()), SORT_KEYS.name), WITH_RANKING,
           lambda p: _write_ranking(p.book, p.result, p.store, p.settings, p.summary_range)),
    Writer((BOARD.name, REGISTER.name, MILESTONES.name, TIMELINE.name, STATUS_COUNTS.name), ALWAYS,
           lambda p: _write_board(p.book, p.result, p.store, p.settings, p.summary_range)),
    Writer((TREND.name,), ALWAYS, lambda p: _write_trend(p.book, p.result)),
    Writer((CHART_UNITS.name,), WITH_RANKING, lambda p: _write_chart_units(p.book, p.result)),
    Writer((STATUS.name,), ALWAYS, lambda p: p.book.write_table(STATUS.name, _status_rows(p.result))),
)


def write_master(book: Book, result: JobResult, store: Store, settings: Settings, intake: bool,
                  write_ranking: bool) -> None:
    """Every region of the master from the run's result, by WRITERS in their order (the 红黑榜, its sorted
    view, the notice and the charts' units only with `write_ranking`; the 校验报告 only after an intake)."""
    first_row, first_col = book.table_origin(SUMMARY.name)
    summary_range = SummaryRange(first_col, first_row, first_row + max(1, len(result.summary)) - 1)
    page = Page(book, result, store, settings, summary_range)
    due = {ALWAYS: True, AFTER_INTAKE: intake, WITH_RANKING: write_ranking}
    for writer in WRITERS:
        if due[writer.when]:
            writer.write(page)


def write_run_status(book: Book, result: JobResult, intake: bool,
                     figure_rows: list[list[object]] | None = None) -> None:
    """What a run writes when its figures are the ones the master already shows (engine/runcache.py): the
    校验报告 of this run's files (after an intake) and 控制台 (the run's time, its files, the roster);
    `figure_rows`: 控制台's rows of those figures as kept with them (status_figure_rows)."""
    if intake:
        _write_report(book, result)
    book.write_table(STATUS.name, _status_rows(result, figure_rows))


def _write_summary(book: Book, result: JobResult) -> None:
    summary = result.summary
    book.write_table(SUMMARY.name, _summary_rows(summary))
    plan, done = float(summary["plan_mu"].sum()), float(summary["acquired_mu"].sum())
    rate = f"{done / plan:.2%}" if plan else "—"
    book.write_cell("SummaryTitle", f"汇总（截至 {result.as_of.isoformat()}）：{len(summary)} 个项目，"
                                    f"计划征地 {plan:,.2f} 亩，累计 {done:,.2f} 亩，完成率 {rate}")
    if result.totals is not None:
        book.write_cell(SUMMARY_TOTALS, "；".join(totals_lines(result)) + "。")


def totals_rows(result: JobResult) -> list[tuple[str, str]]:
    """Every quantity as (name, figures), as 控制台 shows them: (征地, 累计 120.00 亩 / 计划 200.00 亩（60.00%），
    攻坚以来 +80.00，本期（11-18 至 11-24）+20.00，当日 +2.50); then the seed's counts (项目数, …)."""
    settings = result.settings
    since = (f"攻坚以来（{settings.campaign_start.isoformat()} 起）" if settings and settings.campaign_start
             else "攻坚以来")
    period = f"本期（{period_text(settings, result.as_of)}）" if settings else "本期"
    lines = []
    for r in result.totals.itertuples():
        digits = 2 if r.unit == "亩" else 0
        planned = f" / 计划 {r.plan:,.{digits}f} {r.unit}（{r.rate:.2%}）" if r.plan == r.plan else "（无计划数）"
        lines.append((r.name, f"累计 {r.total:,.{digits}f} {r.unit}{planned}，{since} +{r.campaign:,.{digits}f}，"
                              f"{period} +{r.period:,.{digits}f}，当日 +{r.day:,.{digits}f}"))
    counts = result.counts
    if counts:
        text = f"全面完成征拆（未净地）{counts['done']} 个项目，已净地 {counts['net']} 个"
        if counts["city"]:
            rate = f"{counts['city_rate']:.2%}" if counts["city_plan"] else "—"
            text += (f"；市级项目 {counts['city']} 个，面积 {counts['city_plan']:,.2f} 亩，累计征地 "
                     f"{counts['city_acquired']:,.2f} 亩，完成率 {rate}，剩余 {counts['city_left']} 个市级项目")
        lines.append(("项目数", text))
    return lines


def totals_lines(result: JobResult) -> list[str]:
    """The same on 汇总's title block, one "name：figures" each (the counts without a name)."""
    return [text if name == "项目数" else f"{name}：{text}" for name, text in totals_rows(result)]


def _write_report(book: Book, result: JobResult) -> None:
    book.write_table(REPORT.name, _report_rows(result.files))
    errors = sum(len(f.errors) for f in result.files)
    warnings = sum(len(f.warnings) for f in result.files)
    skipped = result.count(SKIPPED)
    book.write_cell("ReportTitle", f"校验报告（{result.now:%Y-%m-%d %H:%M}）：收件箱 {len(result.files) - skipped} "
                                   f"个文件，{errors} 个错误，{warnings - skipped} 个警告"
                                   + (f"；另有 {skipped} 项未读取，原因见下" if skipped else ""))


def _write_log_and_history(book: Book, result: JobResult, store: Store, settings: Settings) -> None:
    """报送记录 and 历史: the window of 设置 (days, rows) of what the store holds."""
    since = result.as_of - dt.timedelta(days=settings.history_days)
    logged = _log_rows(store, since, settings.history_rows, settings.zone)
    book.write_table(LOG.name, logged)
    book.write_cell("LogTitle", f"报送记录（{_window_text(settings, len(logged))}收到的文件，"
                                f"截至 {result.as_of.isoformat()}；全部记录在 {settings.store}）")
    history = _history_rows(store, since, result.as_of, settings.history_rows)
    book.write_table(HISTORY.name, history)
    book.write_cell("HistoryTitle", f"历史（{_window_text(settings, len(history))}的数据，截至 {result.as_of.isoformat()}；"
                                    f"全部数据在 {settings.store}，"
                                    "可用 xladdin history 导出）")


def _write_ranking(book: Book, result: JobResult, store: Store, settings: Settings,
                   summary_range: SummaryRange) -> None:
    """The 红黑榜 as formulas over 汇总 (each with the value the ranking computed, so that a preview shows
    the figures), the ranks kept in the store, the sorted view, the titles and the notice."""
    rank_first_row, rank_first_col = book.table_origin(RANKING.name)
    ranking = result.ranking
    previous = {row["unit"]: {key: row[f"{key}_prev"] for key, _ in METRICS} for row in ranking.to_dict("records")}
    streaks = {row["unit"]: {key: row[f"{key}_streak"] for key, _ in METRICS} for row in ranking.to_dict("records")}
    pooled = ({key: ranking[f"{key}_average"].iloc[0] for key, _ in METRICS}
              if settings.average_basis == AVERAGE_BASES[1] and len(ranking) else None)
    rows = ranking_rows(list(ranking["unit"]), previous, summary_range, settings, rank_first_row, rank_first_col,
                        streaks, pooled)
    computed = ranking.set_index("unit")
    book.write_table(RANKING.name, [
        [Formula(v, computed.at[row[0], key] if key in computed.columns else None)
         if isinstance(v, str) and v.startswith("=") and i else v
         for i, (key, v) in enumerate(zip(RANKING_KEYS, row))] for row in rows])
    store.save_ranking(result.as_of, settings.rank_unit, ranking)
    _write_sorted(book, ranking, rank_first_row, rank_first_col, result.as_of, settings)
    book.write_cell("RankingTitle", f"红黑榜（按{settings.unit_name}，截至 {result.as_of.isoformat()}）")
    book.write_cell("RankingPeriod", f"本期：{period_text(settings, result.as_of)}；{rule_words(settings)}"
                                     f"{basis_words(settings)}。数值和排名都是公式，点击单元格可查看计算方法。")
    book.write_cell("RankingWhole", result.whole)
    book.write_lines(NOTICE_NAME, result.notice_sheet or result.notice)


def _write_board(book: Book, result: JobResult, store: Store, settings: Settings,
                 summary_range: SummaryRange) -> None:
    """作战图 with its counts, 节点计划 and 督办台账 (where the master has them), and the status counts."""
    summary = result.summary
    book.write_table(BOARD.name, _board_rows(summary))
    if result.plan is not None:
        _write_plan(book, result, store)
    if result.register is not None:
        register = result.register
        book.write_table(REGISTER.name, [[row[k] for k in REGISTER_KEYS] for row in register.to_dict("records")])
        counts = register["status"].value_counts()
        notes = register.attrs.get("notes") or []
        book.write_cell(REGISTER_TITLE, f"督办台账（截至 {result.as_of.isoformat()}）：" + "，".join(
            f"{word} {int(counts.get(word, 0))} 项" for word in ("新增", "持续", "待确认销号", "已销号"))
            + f"，逾期 {int(register['alert'].str.startswith('逾期').sum())} 项"
            + (f"；未能办理：{'；'.join(notes)}" if notes else ""))
    counts = "，".join(f"{word} {int(has_flag(summary, word).sum())} 个"
                       for word in (OVERDUE, DUE_SOON, STALLED, NOT_TODAY))
    book.write_cell("BoardTitle", f"作战图（截至 {result.as_of.isoformat()}）：{counts}"
                                  f"（临期＝剩余不足 {settings.due_soon_days} 天；一个项目可同时属于几类）")
    status_range = summary_range.column("status")
    # Statuses are flags joined by 、: a project counts under every flag it carries.
    book.write_table(STATUS_COUNTS.name, [[word, Formula(f'=COUNTIF({status_range},"*{word}*")',
                                                         int(has_flag(summary, word).sum()))]
                                          for word in (NET_LAND, ONGOING, STALLED, DUE_SOON, OVERDUE, NOT_REPORTED,
                                                       NOT_TODAY)])


def _write_trend(book: Book, result: JobResult) -> None:
    """The line chart's source: the acquisition trend against the plan."""
    trend = result.trend if result.trend is not None else pd.DataFrame(columns=["report_date", "acquired_mu"])
    plan = float(result.summary["plan_mu"].sum())
    book.write_table(TREND.name, [[d, float(v), plan] for d, v in zip(trend["report_date"], trend["acquired_mu"])])


def _write_chart_units(book: Book, result: JobResult) -> None:
    """Each unit's acquisition rate by list, as formulas over the 红黑榜 (the bar chart's source)."""
    rank_row, rank_col = book.table_origin(RANKING.name)
    position = {key: rank_col + i for i, key in enumerate(RANKING_KEYS)}
    rows = []
    for i, unit in enumerate(result.ranking["unit"]):
        r = rank_row + i
        value = f"'{SHEET_RANKING}'!{column_letter(position['acquisition_rate'])}{r}"
        flag = f"'{SHEET_RANKING}'!{column_letter(position['acquisition_rate_flag'])}{r}"
        figure, listed = result.ranking["acquisition_rate"].iloc[i], result.ranking["acquisition_rate_flag"].iloc[i]
        rows.append([unit, Formula(f'=IF({flag}="红榜",{value},"")', figure if listed == "红榜" else ""),
                     Formula(f'=IF({flag}="黑榜",{value},"")', figure if listed == "黑榜" else ""),
                     Formula(f'=IF(AND({flag}<>"红榜",{flag}<>"黑榜",ISNUMBER({value})),{value},"")',
                             figure if listed not in ("红榜", "黑榜") and figure == figure else "")])
    book.write_table(CHART_UNITS.name, rows)
    book.write_cell("ChartsTitle", f"图表（截至 {result.as_of.isoformat()}）")


def _write_sorted(book: Book, ranking: pd.DataFrame, first_row: int, first_col: int, as_of: dt.date,
                  settings: Settings) -> None:
    """The 红黑榜 as read out (sheet 红黑榜（排序）): per metric its ranked units by rank, as formulas over
    tblRanking carrying the values the ranking computed. Masters built before the sheet have none."""
    tables = book.tables
    if any(name not in tables for name in (SORT_KEYS.name, *(spec.name for spec in SORTED_TABLES.values()))):
        return
    keys_row, keys_col = book.table_origin(SORT_KEYS.name)
    units = len(ranking)
    keys = sort_key_rows(units, first_row, first_col, keys_row)
    book.write_table(SORT_KEYS.name, [
        [Formula(row[0], unit)] + [Formula(f, float(ranking[f"{key}_rank"].iloc[i]) + (keys_row + i) / SORT_KEY_SCALE
                                           if pd.notna(ranking[f"{key}_rank"].iloc[i]) else "")
                                   for f, (key, _) in zip(row[1:], METRICS)]
        for i, (unit, row) in enumerate(zip(ranking["unit"], keys))])
    for key, spec in SORTED_TABLES.items():
        # The same order as the formulas: by rank, ties in the 红黑榜's order, units not ranked left out.
        ranked = ranking[ranking[f"{key}_rank"].notna()].sort_values(f"{key}_rank", kind="stable")
        rows = sorted_rows(units, len(ranked), key, first_row, first_col, keys_row, keys_col)
        book.write_table(spec.name, [
            [Formula(f, v) for f, v in zip(row, (int(r[f"{key}_rank"]), r["unit"], r[key], r[f"{key}_flag"]))]
            for row, (_, r) in zip(rows, ranked.iterrows())])
    book.write_cell("SortedTitle", f"红黑榜（排序，按{settings.rank_unit}，截至 {as_of.isoformat()}）")


def _write_plan(book: Book, result: JobResult, store: Store) -> None:
    # Hundreds of thousands of formula cells, none in a reference cycle: the cycle collector's passes
    # over them (each a walk over every object alive) were a tenth of a city run.
    with no_cycle_collection():
        _write_plan_tables(book, result, store)


@contextlib.contextmanager
def no_cycle_collection():
    """The cycle collector paused (reference counting still frees everything) while a block makes many
    objects at once; as it was after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write_plan_tables(book: Book, result: JobResult, store: Store) -> None:
    """节点计划 (a row per block: a project, then each of its 地块; per node of 设置's list a column in each
    group; 计划 and 完成 as formulas, so a date staff type counts at once) and, where the master has it,
    the 作战图时间表 (a row per block; COUNTIFS per week over the block's own 计划 and 完成 cells). A table
    whose rows are what it already shows is not rewritten (a second run of the day leaves both)."""
    plan = result.plan
    milestones = plan.milestones
    spec = milestone_table(milestones)
    n = len(milestones)
    first_row, first_col = book.table_origin(MILESTONES.name)
    head = len(MILESTONE_HEAD)
    start = {key: first_col + head + g * n for g, key in enumerate(MILESTONE_GROUPS)}
    letters = {key: [column_letter(col + k) for k in range(n)] for key, col in start.items()}
    # Each node's 计划 and 完成 formulas differ by row and date only: a template per column, the dates the
    # run worked out put in per row (the rows carry the values).
    dates: dict[object, str] = {}

    def date(value) -> str:
        text = dates.get(value)
        if text is None:
            text = dates[value] = date_text(value)
        return text

    blocks = plan.blocks
    formulas = {}
    for group, entered, standard in (("planned", "typed", 3), ("done", "entered", 6)):
        for k, letter in enumerate(letters[entered]):
            formulas[start[group] - first_col + k] = ColumnFormula(
                fallback_template(letter), first_row, [date(block.nodes[k][standard]) for block in blocks])
    rows = []
    for block in blocks:
        nodes = block.nodes
        rows.append([block.project_id, block.project_name, block.plot or None,
                     *(node[2] for node in nodes),
                     *((node[4] - _EPOCH).days if node[4] else "" for node in nodes),
                     *(node[5] for node in nodes),
                     *((node[7] - _EPOCH).days if node[7] else "" for node in nodes),
                     *(node[8] for node in nodes), *(node[0] or None for node in nodes),
                     *(node[1] or None for node in nodes)])
    # A master file keeps a record of its regions (workbook/regions.py): write_table itself leaves a table
    # alone whose rows it already shows, on a sheet part still as saved, without reading the sheet back.
    # The live workbook keeps none: there the tables are read back and compared.
    recorded = getattr(book, "keep_unchanged", None) is not None
    plan_kept = not recorded and _shows(result.plan_sheet, spec.labels, rows)
    if not plan_kept:
        book.write_table(MILESTONES.name, rows, spec, formulas=formulas)
    del rows
    remember_leaders(store, result.summary)
    statuses = plan.statuses()
    overdue = sum(s.startswith("已逾期") for s in statuses)
    soon = sum(s.startswith("临期") for s in statuses)
    book.write_cell(MILESTONES_TITLE, f"节点计划（截至 {result.as_of.isoformat()}）：{len(statuses)} 个节点，"
                                      f"已逾期 {overdue} 个，临期 {soon} 个，"
                                      f"未排期 {sum(s == '未排期' for s in statuses)} 个")
    if TIMELINE.name not in book.tables:
        return
    top, left = book.table_origin(TIMELINE.name)
    week_row = top - 2  # the Mondays sit in the row above the header
    fixed = len(TIMELINE.columns) - TIMELINE_WEEKS
    mondays = week_starts(result.as_of)
    book.write_above(TIMELINE.name, [None] * (fixed - LEGACY_TIMELINE_FIXED) + mondays, LEGACY_TIMELINE_FIXED)
    # Each week's formula is the same down the column but for the block's row in the 节点计划 (the same
    # row as the block's own, counted from each table's first row): one shared formula per week.
    planned_span = f"'{SHEET_MILESTONES}'!{letters['planned'][0]}%(r)d:{letters['planned'][-1]}%(r)d"
    done_span = f"'{SHEET_MILESTONES}'!{letters['done'][0]}%(r)d:{letters['done'][-1]}%(r)d"
    weeks = {fixed + k: ColumnFormula(
        week_formula(f"{column_letter(left + fixed + k)}${week_row}", "\x00P", "\x00D").replace("%", "%%")
        .replace("\x00P", planned_span).replace("\x00D", done_span), first_row) for k in range(TIMELINE_WEEKS)}
    net_at = milestones.index(NET_LAND_MILESTONE) if NET_LAND_MILESTONE in milestones else None
    timeline, plots = [], 0
    for block in plan.blocks:
        nodes = block.nodes
        marks = block_marks([(node[4], node[7]) for node in nodes], mondays)
        found = current(plan, block)
        now = found[1] if found else None
        plots += bool(block.plot)
        timeline.append([block.project_id, block.project_name, block.plot or None,
                         found[0] if found else "已完成", (now[0] if now else "") or nodes[0][0] or None,
                         (now[1] if now else "") or None, nodes[net_at][4] if net_at is not None else None, *marks])
    if recorded or not (plan_kept and _shows(book.table_rows(TIMELINE.name), list(TIMELINE.labels), timeline)):
        book.write_table(TIMELINE.name, timeline, formulas=weeks)
    book.write_cell(TIMELINE_TITLE, f"作战图时间表（截至 {result.as_of.isoformat()}，上方为各周周一）："
                                    f"{len(timeline) - plots} 个项目、{plots} 个地块，"
                                    f"节点已逾期 {overdue} 个，临期 {soon} 个")


_EPOCH = dt.date(1899, 12, 30)  # day 0 of the spreadsheet's date serials


def _shows(read: tuple[list[str], list[tuple[int, list[object]]]] | None, labels: list[str],
           rows: list[list[object]]) -> bool:
    """Whether a table as read (heading, non-blank rows) already shows these rows under these labels:
    values compared as a spreadsheet holds them (a formula by its value, a date as a date)."""
    if read is None:
        return False
    header, found = read
    if [str(h).strip() for h in header] != labels or len(found) != len(rows):
        return False
    return all(list(map(_plain, values)) == list(map(_plain, row)) for (_, values), row in zip(found, rows))


def _plain(value: object) -> object:
    kind = type(value)
    if kind is str:  # most cells: their text, blank as None
        return value or None
    if value is None:
        return None
    if isinstance(value, Formula):
        value = value.cached
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return float((value - _EPOCH).days)
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _summary_rows(summary: pd.DataFrame) -> list[list[object]]:
    return _plain_rows(summary[[key for key, _, _ in SUMMARY_FIELDS]])


def _plain_rows(frame: pd.DataFrame) -> list[list[object]]:
    """A frame as rows of Python values, NaN as None (one vectorised pass, not a call per cell)."""
    values = frame.astype(object)
    return values.where(values.notna(), None).to_numpy().tolist()


def _board_rows(summary: pd.DataFrame) -> list[list[object]]:
    return _plain_rows(board(summary)[["project_id", "project_name", "leader", "group", "deadline", "days_left",
                                        "acquisition_rate", "status", "problems"]])


def _report_rows(files: list[FileOutcome]) -> list[list[object]]:
    rows = []
    order = sorted(files, key=lambda f: (f.group or "～", f.report_date or dt.date.min, f.file))
    for f in order:
        verdict = {NEW_ACCEPTED: "已接收", NEW_REJECTED: "已退回", DUPLICATE: "重复", KNOWN: "已接收" if f.accepted
                   else "已退回", SKIPPED: "未读取"}[f.status]
        if f.status == SKIPPED:
            rows.append([f.group, f.file, "", "", "", f.issues[0].code, verdict, "", "", "", f.issues[0].message])
            continue
        text = (f"与《{f.same_as}》内容相同，未重复处理" if f.status == DUPLICATE
                else f"{len(f.errors)} 个错误，{len(f.warnings)} 个警告" +
                ("；请按下列提示改正后重新报送" if not f.accepted else ""))
        if f.returned:
            text += f"；标注副本：{f.returned}"
        rows.append([f.group, Link(f.file, f.returned), "", "", "", "", verdict, "", "", "", text])
        for i in sorted(f.issues, key=lambda i: (i.severity != ERROR, _cell_order(i.cell))):
            in_place = (f.returned or f.pasted) and i.sheet and i.cell[:1].isalpha()
            where = Link(i.cell, f.returned, f"'{i.sheet}'!{i.cell}" if in_place else "")
            rows.append([f.group or i.group, f.file, i.sheet, where, i.severity, i.code, i.title, i.project,
                         i.value, i.expected, i.message])
    return rows


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, cell)


def _window_text(settings: Settings, shown: int) -> str:
    """How much of the store a windowed sheet shows: 最近 30 天 (中最新的 20000 行)."""
    capped = f"中最新的 {shown} 行" if shown >= settings.history_rows else ""
    return f"最近 {settings.history_days} 天{capped}"


def _log_rows(store: Store, since: dt.date, limit: int, zone: dt.tzinfo) -> list[list[object]]:
    """报送记录: each file name seen, its status, and 收到时间 = when the file was written into the inbox (its
    modification time, kept in the store's arrivals, read in 设置's time zone) — the time 控制台's roster
    uses — or, for a sheet pasted into the master, when a run first read it."""
    log = store.submission_log(since, limit)
    rows = []
    for r in log.itertuples(index=False):
        arrived = (local_time(r.mtime_ns / 1e9, zone).strftime("%Y-%m-%d %H:%M:%S")
                   if r.mtime_ns is not None and not pd.isna(r.mtime_ns) else r.seen_at.replace("T", " "))
        status = r.status if r.seen_name == r.file_name else f"重复（同《{r.file_name}》）"
        date = dt.date.fromisoformat(r.report_date) if isinstance(r.report_date, str) and r.report_date else None
        rows.append([r.seen_name, r.group_name, date, r.reporter, status, r.errors, r.warnings, r.row_count,
                     arrived, r.sha256])
    return rows


def _history_rows(store: Store, since: dt.date, as_of: dt.date, limit: int) -> list[list[object]]:
    recent = store.recent_rows(since, as_of, limit)
    return _plain_rows(history_view(recent)) if not recent.empty else []


def _status_rows(result: JobResult, figure_rows: list[list[object]] | None = None) -> list[list[object]]:
    return [
        ["运行时间", result.now.strftime("%Y-%m-%d %H:%M:%S")],
        ["统计截至", result.as_of.isoformat()],
        ["本期", period_text(result.settings, result.as_of) if result.settings else
         f"{(result.period_start + dt.timedelta(days=1)).isoformat()} 至 {result.as_of.isoformat()}"],
        ["收件箱", str(result.inbox) if result.inbox else "（本次未读取收件箱）"],
        ["结果", summary_sentence(result)],
        ["用时", f"{result.seconds:.1f} 秒"],
        *(status_figure_rows(result) if figure_rows is None else figure_rows),
    ]


def status_figure_rows(result: JobResult) -> list[list[str]]:
    """控制台's rows that come from the run's figures alone (texts): kept with them for a second click."""
    words = (result.settings or Settings()).words
    return [
        *([[words.whole, result.whole]] if result.whole else []),
        *([list(row) for row in totals_rows(result)] if result.totals is not None else []),
        *[[f"{words.above}里通报", sentence] for sentence in result.city],
        *roster_rows(result.roster, result.as_of, result.cutoff, words.unit, result.returns),
        *tally_rows(result.tally, result.period_start + dt.timedelta(days=1), result.as_of),
    ]
