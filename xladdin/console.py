"""What the `xladdin` command prints on a terminal: the result of a run, the files and their issues, the
history, the Excel set-up report (all Chinese, with rich's colours). The command's --json output never
comes through here."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from xladdin.base.schema import METRICS
from xladdin.domain.rank import BLACK, RED
from xladdin.engine.model import DUPLICATE, KNOWN, NEW_REJECTED, SKIPPED, JobResult, summary_sentence

if TYPE_CHECKING:
    import pandas as pd

    from xladdin.excel_setup import SetupReport


@functools.cache
def console() -> Console:
    return Console(highlight=False)


def fail(message: str, code: int) -> None:
    """The error on stderr, then exit with `code`."""
    Console(stderr=True, highlight=False).print(f"[bold red]错误：[/]{message}")
    sys.exit(code)


def print_issues(result: JobResult) -> None:
    """Every file with its verdict, then each issue pinned to its cell: what `validate` shows."""
    table = Table(title="逐个文件", title_justify="left")
    for column in ("文件", "工作组", "填报日期", "结果", "错误", "警告"):
        table.add_column(column)
    for f in result.files:
        verdict = {NEW_REJECTED: "[red]将退回[/]", DUPLICATE: "[yellow]重复[/]", KNOWN: "此前已处理",
                   SKIPPED: "[yellow]未读取[/]"}.get(
            f.status, "[green]可接收[/]")
        table.add_row(f.file, f.group or "—", str(f.report_date or "—"), verdict, str(len(f.errors)),
                      str(len(f.warnings)))
    console().print(table)
    for f in result.files:
        if not f.issues or f.status in (KNOWN, SKIPPED):
            continue
        console().print(f"\n[bold]{f.file}[/]")
        for i in sorted(f.issues, key=lambda i: i.severity != "错误"):
            colour = "red" if i.is_error else "yellow"
            console().print(f"  [{colour}]{i.severity}[/] {i.sheet}!{i.cell}  {i.message}")


def print_result(result: JobResult) -> None:
    """A short human summary: what was read, what was rejected and why, the ranking."""
    verb = "已写入母表" if result.wrote else "仅校验，未改动母表"
    console().print(f"[bold]{summary_sentence(result)}[/] 统计截至 {result.as_of}，用时 {result.seconds:.1f} 秒，{verb}。")
    for f in result.files:
        if f.status == SKIPPED:
            console().print(f"[yellow]未读取[/] {f.file}：{f.issues[0].message}")
    if not result.wrote and result.files:
        print_issues(result)
        return
    _print_attention(result)
    _print_ranking(result)


def _print_attention(result: JobResult) -> None:
    """The files that were returned, duplicated or accepted with warnings, each with its first reason."""
    shown = [f for f in result.files if f.status in (NEW_REJECTED, DUPLICATE) or f.warnings and f.status
             not in (KNOWN, SKIPPED)]
    if not shown:
        return
    table = Table(title="需要关注的报送", title_justify="left", show_lines=False)
    for column in ("文件", "工作组", "结果", "原因"):
        table.add_column(column)
    for f in shown:
        if f.status == NEW_REJECTED:
            first = f.errors[0]
            reason = f"{first.cell} {first.message}" + (f"（另有 {len(f.errors) - 1} 个错误）" if len(f.errors) > 1
                                                        else "")
            verdict = "[red]退回[/]"
        elif f.status == DUPLICATE:
            reason, verdict = f"与《{f.same_as}》内容相同，未重复处理", "[yellow]重复[/]"
        else:
            reason = f"{len(f.warnings)} 个警告：" + "；".join(dict.fromkeys(i.title for i in f.warnings))
            verdict = "[green]接收[/]"
        table.add_row(f.file, f.group or "—", verdict, reason)
    console().print(table)


def _print_ranking(result: JobResult) -> None:
    """The 红黑榜: each unit's rate per metric, its rank and 红/黑 when listed."""
    ranking = Table(title=f"红黑榜（截至 {result.as_of}；括号内为名次，红/黑为上榜）", title_justify="left")
    ranking.add_column("排名单位", no_wrap=True)
    for _, label in METRICS:
        ranking.add_column(label.replace("征地完成率", "征地率") if len(label) > 6 else label, justify="right")
    for entry in result.ranking_entries():  # plain values: a second click prints them without pandas
        cells = []
        for key, _ in METRICS:
            value, rank, flag = entry[key], entry[f"{key}_rank"], entry[f"{key}_list"]
            mark = "[red]红[/]" if flag == RED else ("[bold]黑[/]" if flag == BLACK else "")
            cells.append("—" if value is None else f"{value:.1%}（{rank}）{mark}")
        ranking.add_row(entry["unit"], *cells)
    console().print(ranking)


def print_history(frame: pd.DataFrame) -> None:
    """The latest 30 rows of the history, the columns a clerk checks first."""
    table = Table(title=f"历史（共 {len(frame)} 行，显示最近 30 行）", title_justify="left")
    shown = ["填报日期", "工作组", "项目编号", "地块名称", "累计征地面积(亩)", "累计拆除房屋(栋)", "是否净地", "数据状态"]
    for column in shown:
        table.add_column(column)
    for row in frame.tail(30)[shown].itertuples(index=False):
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)


def print_setup_report(report: SetupReport, check_only: bool) -> None:
    """Each check with its state and, when not OK, its fix; then what xlwings.conf holds."""
    from xladdin.excel_setup import OK, PROBLEM  # xlwings only for the command that sets Excel up

    colours = {OK: "green", PROBLEM: "red"}
    for check in report.checks:
        colour = colours.get(check.state, "yellow")
        console().print(f"[{colour}]{check.state}[/] {check.item}：{check.detail}")
        if check.state != OK and check.fix:
            console().print(f"      办法：{check.fix}")
    shown = "；".join(f"{k} = {v}" for k, v in report.conf_after) or "（空）"
    verb = "已写入" if report.written else ("未改动（--check）" if check_only else "无需改动")
    console().print(f"母表的 xlwings.conf {verb}：{shown}")
    if all(check.state == OK for check in report.checks):
        console().print("[bold]可以打开母表点按钮了。[/]第一次打开时请点“启用内容”。")
    elif not report.problems:
        console().print("本机能检查的都已通过；标为“无法检查”的几项请在使用母表的 Windows 电脑上再运行本命令。")


COMMAND_WORDS = {"run": "一键汇总", "consolidate": "汇总", "rank": "重算红黑榜", "notice": "发通报", "withdraw": "撤回报送",
                 "rebuild": "重建历史库"}


def print_rollback(run: dict, forgotten: int) -> None:
    """What a rollback undid: the master, the submissions, the notices, the files put back."""
    command = COMMAND_WORDS.get(run["command"], run["command"])
    console().print(f"已撤销 {run['started_at'].replace('T', ' ')} 的运行（{command}，统计截至 {run['as_of']}）。")
    if run["master_restored"]:
        console().print(f"母表已恢复为运行前的备份；撤销前的母表已另存为 {run['undo_backup']}（如需反悔，可用它替换母表，"
                        "再运行一次即可与历史库一致）。")
    else:
        console().print("该次运行是在 Excel 中点按钮完成的，母表未改动：如该次结果已保存进母表，请再运行一次"
                        "（一键汇总或 xladdin run），母表即与历史库一致。")
    if forgotten:
        console().print(f"历史库中忘记了该次接收的 {forgotten} 个报送文件，下次运行时会重新校验。")
    if run["restored"]:
        console().print(f"已从归档放回收件箱 {len(run['restored'])} 个文件：{'、'.join(run['restored'])}。")
    if run["withdrawn"]:
        console().print(f"该次发出的通报已撤销（Word 文件改名保留，期数下次可再用）：{'、'.join(run['withdrawn'])}。")
    if run["reinstated"]:
        console().print(f"该次作废的通报已恢复有效：{'、'.join(run['reinstated'])}。")


def print_codes(issued) -> None:
    """The 报送平台's codes: each new one in full (shown this once), the others as already issued."""
    table = Table(title="报送平台的报送码和管理码", title_justify="left")
    for column in ("单位", "类别", "码", "发放时间"):
        table.add_column(column)
    for item in issued:
        shown = f"[bold]{item.code}[/]" if item.code else "已发放（只在发放时显示一次）"
        table.add_row(item.holder or "指挥部", item.role, shown, item.issued_at.replace("T", " "))
    console().print(table)
    if any(item.code for item in issued):
        console().print("请把各工作组的报送码分别告知该组（只显示这一次，历史库中只保存其校验值）；管理码只给指挥部。")
    else:
        console().print("各码均已发放。如有遗失，运行 [bold]xladdin codes --new[/] 全部重新发放（旧码立即失效）。")
