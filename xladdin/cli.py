"""The `xladdin` command: a thin shell over the engine's named operations (xladdin.engine.operations). Exit 0 ran, 2 usage/settings, 3 master unusable."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from xladdin import __version__
from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.fs import MACHINE_LIMITS, as_os_error, os_message, store_failed, write_failed
from xladdin.web.launcher import DEFAULT_PORT

if TYPE_CHECKING:
    from xladdin.engine.model import JobResult

# What a command uses is imported by that command: `xladdin --help` does not load pandas, openpyxl,
# python-docx or rich, and a run does not load the bundle or the Word writers.


def console():
    from xladdin.console import console as terminal
    return terminal()


def fail(message: str, code: int):
    from xladdin.console import fail as stop
    return stop(message, code)


EXIT_SETTINGS, EXIT_MASTER = 2, 3


def guarded(func):
    """Turn the two expected failures into their exit codes with a Chinese message."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            fail(str(exc), EXIT_SETTINGS)
        except MasterUnusable as exc:
            fail(str(exc), EXIT_MASTER)
        except OSError as exc:  # disk full, no permission, a path too long: the run stops, nothing half-written
            fail(os_message(exc), EXIT_MASTER)
        except sqlite3.OperationalError as exc:  # the history store's disk is full, read-only or gone
            fail(store_failed(exc), EXIT_MASTER)
        except Exception as exc:  # openpyxl's writer (lxml) reports a full disk as IO_ENOSPC, not as an OSError
            error = as_os_error(exc)
            if error is None:
                raise
            fail(os_message(error), EXIT_MASTER)
    return wrapper


def _parse_as_of(ctx, param, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期应写成 YYYY-MM-DD，如 2026-11-24（现为 {value}）") from None


def job_options(func):
    """--inbox, --as-of and --json, shared by validate, consolidate, rank and run."""
    func = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (JSON).")(func)
    func = click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD",
                        help="Report date to consolidate and rank as of (default: today).")(func)
    func = click.option("--inbox", type=click.Path(file_okay=False, path_type=Path),
                        help="Folder of submissions (default: 收件箱文件夹 in 设置, beside the master).")(func)
    func = click.argument("master", type=click.Path(dir_okay=False, path_type=Path))(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xladdin")
def main() -> None:
    """Validate, consolidate and rank land-acquisition ledgers in an HQ master workbook.

    \b
    Example:
        xladdin demo ./demo
        xladdin run ./demo/指挥部母表.xlsm
    """


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default="指挥部母表.xlsm", show_default=True, help="File name of the master.")
@click.option("--force", is_flag=True, help="Replace an existing master of that name.")
@click.option("--city", is_flag=True, help="A city HQ's master (设置 › 指挥部级别 = 市): counties are its units.")
@click.option("--projects", type=click.Path(dir_okay=False, path_type=Path),
              help="Import the 项目清单 from this .xlsx or .csv (nothing is written when a row is wrong).")
@guarded
def init(directory: Path, name: str, force: bool, city: bool, projects: Path | None) -> None:
    """Create a new master workbook in DIRECTORY, with its inbox folder.

    \b
    Example:
        xladdin init ./攻坚指挥部
        xladdin init ./市指挥部 --city --projects 项目清单.xlsx
    """
    from xladdin.domain.level import CITY, COUNTY, level_of
    from xladdin.engine.operations import Engine
    path = directory / name
    if path.suffix.lower() not in (".xlsm", ".xlsx"):
        raise click.BadParameter("母表文件名应以 .xlsm 结尾", param_hint="--name")
    if path.exists() and not force:
        fail(f"{path} 已存在。如需重建请加 --force（旧母表会被替换）。", EXIT_SETTINGS)
    level = CITY if city else COUNTY
    Engine.init(directory, name, level, projects)
    words = level_of(level)
    console().print(f"已新建{level}级母表：[bold]{path}[/]" + (f"（已导入项目清单 {projects.name}）" if projects else ""))
    console().print(("下一步：" if projects else "下一步：在“项目清单”表录入项目，然后")
                    + f"运行 [bold]xladdin templates[/] 生成{words.units_all}的填报模板。")


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the templates (default: 填报模板 beside the master).")
@guarded
def templates(master: Path, out: Path | None) -> None:
    """Write one fill-in ledger workbook per work group of the registry.

    \b
    Example:
        xladdin templates ./demo/指挥部母表.xlsm --out ./模板
    """
    from xladdin.engine.operations import Engine
    try:
        paths = Engine.on_file(master).templates(out)
    except OSError as exc:  # each template is whole or absent
        fail(write_failed("填报模板", exc), EXIT_MASTER)
    for path in paths:
        console().print(f"  {path}")
    console().print(f"已生成 {len(paths)} 个工作组的填报模板。")


def _run_command(operation: str, master: Path, inbox: Path | None, as_of: dt.date | None,
                 as_json: bool) -> JobResult:
    from xladdin.console import print_result
    from xladdin.engine.operations import Engine
    from xladdin.progress import TerminalProgress
    progress = None if as_json else TerminalProgress()  # --json prints the summary and nothing else
    try:
        engine = Engine.on_file(master)
        options = dict(as_of=as_of, progress=progress) | ({} if operation == "rank" else {"inbox": inbox})
        result = getattr(engine, operation)(**options)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_result(result)
    return result


@main.command()
@job_options
@guarded
def validate(master: Path, inbox: Path | None, as_of: dt.date | None, as_json: bool) -> None:
    """Check every file in the inbox; changes nothing (neither master nor history).

    \b
    Example:
        xladdin validate ./demo/指挥部母表.xlsm --json
    """
    _run_command("validate", master, inbox, as_of, as_json)


@main.command()
@job_options
@guarded
def consolidate(master: Path, inbox: Path | None, as_of: dt.date | None, as_json: bool) -> None:
    """Validate the inbox and consolidate accepted ledgers into 汇总, 历史, 校验报告 and 报送记录.

    \b
    Example:
        xladdin consolidate ./demo/指挥部母表.xlsm --as-of 2026-11-24
    """
    _run_command("consolidate", master, inbox, as_of, as_json)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD", help="Rank as of this date (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (JSON).")
@guarded
def rank(master: Path, as_of: dt.date | None, as_json: bool) -> None:
    """Recompute 汇总 and the 红黑榜 formulas from the history, without reading the inbox.

    \b
    Example:
        xladdin rank ./demo/指挥部母表.xlsm --as-of 2026-11-20
    """
    _run_command("rank", master, None, as_of, as_json)


@main.command()
@job_options
@guarded
def run(master: Path, inbox: Path | None, as_of: dt.date | None, as_json: bool) -> None:
    """The one-click job: validate, consolidate, rank, write the report, log and notice.

    \b
    Example:
        xladdin run ./demo/指挥部母表.xlsm
    """
    _run_command("run", master, inbox, as_of, as_json)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD", help="Notice as of this date (default: today).")
@click.option("--weekly", "kind", flag_value="weekly", help="The weekly 通报 (期数, 红黑榜 附表, 督办事项).")
@click.option("--daily", "kind", flag_value="daily", default=True, help="The daily 督查日报 (default).")
@click.option("--by-leader", "kind", flag_value="leader",
              help="One 专报 page per 责任领导 (Word in 通报存档, and the 通报 sheet); not numbered.")
@click.option("--reissue", is_flag=True, help="Replace the 期 already issued for this date; its file is kept as …-作废.")
@click.option("--docx", "docx_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a copy of the notice as a Word document here.")
@guarded
def notice(master: Path, as_of: dt.date | None, kind: str, reissue: bool, docx_path: Path | None) -> None:
    """Issue the 督查日报, the weekly 通报 or the 专报 per leader, written to the 通报 sheet and as Word files.

    The 督查日报 and 通报 are numbered (期数) and archived in 通报存档.

    The same notice for the same date is archived once; a changed one gets the next 期 unless --reissue.

    \b
    Example:
        xladdin notice ./demo/指挥部母表.xlsm --weekly --as-of 2026-11-25
        xladdin notice ./demo/指挥部母表.xlsm --by-leader
    """
    from xladdin.engine.operations import Engine
    from xladdin.notices.word import write_docx, write_leader_docx
    result = Engine.on_file(master).notice(as_of=as_of, kind=kind, issue=True, reissue=reissue)
    for line in result.notice:
        console().print(line)
    if result.issued:
        console().print(f"\n{result.issued}")
    if docx_path is not None:
        if result.leaders:
            write_leader_docx(result.leaders, docx_path)
        else:
            write_docx(result.notice_doc, docx_path)
        console().print(f"\n已另存 Word 文档：{docx_path}")


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@guarded
def rollback(master: Path) -> None:
    """Undo the last run: restore the master from its backup and forget what that run stored.

    \b
    Example:
        xladdin rollback ./demo/指挥部母表.xlsm
    """
    from xladdin.console import print_rollback
    from xladdin.engine.operations import Engine
    print_rollback(*Engine.on_file(master).rollback())


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("submission")
@click.option("--why", required=True, help="Why it is withdrawn (recorded in the store), e.g. 多报 18 亩.")
@click.option("--who", default=None, help="Who withdraws it (default: the signed-in user).")
@click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD", help="Recompute as of this date (default: today).")
@guarded
def withdraw(master: Path, submission: str, why: str, who: str | None, as_of: dt.date | None) -> None:
    """Withdraw one accepted submission (SUBMISSION: its file name or hash) and recompute the history from
    the others; recorded with who and why. `xladdin rollback` undoes it.

    \b
    Example:
        xladdin withdraw ./demo/指挥部母表.xlsm 城南片区_1120.xlsx --why "多报 18 亩，应为 12.5 亩"
    """
    from xladdin.engine.operations import Engine
    from xladdin.engine.withdraw import signed_in_user
    result = Engine.on_file(master).withdraw(submission, who=who or signed_in_user(), why=why, as_of=as_of)
    name, group, date = result.withdrawn
    console().print(f"已撤回 {group} {date} 的报送《{name}》（原因：{why}），汇总和红黑榜已按其余报送重算。"
                    f"该组可重新报送 {date} 的正确台账；如撤回有误，运行 xladdin rollback 可恢复。")


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD", help="Statistics date (default: today).")
@guarded
def rebuild(master: Path, as_of: dt.date | None) -> None:
    """Rebuild the history store from the 归档 folder (when it is lost); the old store is kept beside it.

    \b
    Example:
        xladdin rebuild ./demo/指挥部母表.xlsm
    """
    from xladdin.engine.operations import Engine
    report = Engine.on_file(master).rebuild(as_of=as_of)
    kept = f"原历史库另存为 {report['kept']}；" if report["kept"] else ""
    console().print(f"已从归档重建历史库：重新校验 {report['files']} 个文件，接收 {report['accepted']} 个，"
                    f"重新撤回 {report['withdrawn']} 个；{kept}汇总和红黑榜已重算。")


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--group", help="Only this work group (责任工作组).")
@click.option("--project", help="Only this project (项目编号).")
@click.option("--all", "include_superseded", is_flag=True, help="Include rows superseded by a resubmission.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Export every matching row to .xlsx or .csv instead of printing the latest ones.")
@guarded
def history(master: Path, group: str | None, project: str | None, include_superseded: bool,
            out: Path | None) -> None:
    """Show or export the stored history of accepted rows.

    \b
    Example:
        xladdin history ./demo/指挥部母表.xlsm --project SJ-03
        xladdin history ./demo/指挥部母表.xlsm --out 历史导出.xlsx
    """
    from xladdin.console import print_history
    from xladdin.engine.operations import Engine
    from xladdin.workbook.export import write_frame
    frame = Engine.on_file(master).history(group=group, project=project, include_superseded=include_superseded)
    if out is not None:
        if out.suffix.lower() not in (".csv", ".xlsx"):
            fail(f"导出文件 {out.name} 应以 .xlsx 或 .csv 结尾。", EXIT_SETTINGS)
        try:
            write_frame(frame, out, "历史")
        except OSError as exc:  # write_frame leaves nothing half-written
            fail(write_failed("历史导出", exc), EXIT_MASTER if exc.errno in MACHINE_LIMITS else EXIT_SETTINGS)
        console().print(f"已导出 {len(frame)} 行到 {out}")
        return
    print_history(frame)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--new", "renew", is_flag=True,
              help="Replace every code (the old ones stop working and their sessions end).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable list (JSON).")
@guarded
def codes(master: Path, renew: bool, as_json: bool) -> None:
    """Issue the 报送平台's codes: each work group's 报送码 and HQ's 管理码.

    Codes are stored hashed in the history store, so each is shown once, when issued: groups added to the
    项目清单 since get theirs on the next call; a lost code is replaced with --new.

    \b
    Example:
        xladdin codes 攻坚指挥部/指挥部母表.xlsm
        xladdin codes 攻坚指挥部/指挥部母表.xlsm --new --json
    """
    from xladdin.console import print_codes
    from xladdin.engine.operations import Engine
    issued = Engine.on_file(master).codes(renew=renew)
    if as_json:
        admin = next(c for c in issued if c.holder == "")
        click.echo(json.dumps({"master": str(master), "admin": admin.to_dict(),
                               "groups": [c.to_dict() for c in issued if c.holder != ""],
                               "codes": {c.to_dict()["holder"]: c.code for c in issued if c.code}},
                              ensure_ascii=False, indent=1))
        return
    print_codes(issued)


@main.command("serve")
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves the whole intranet.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@guarded
def serve_command(master: Path, host: str, port: int) -> None:
    """Serve the 报送平台: groups upload ledgers in a browser and see the verdict at once; HQ sees the roster.

    Stop it with Ctrl+C. Issue the codes first with `xladdin codes MASTER`.

    \b
    Example:
        xladdin serve 攻坚指挥部/指挥部母表.xlsm --host 0.0.0.0
    """
    from xladdin.engine.operations import Engine
    from xladdin.web import addresses, serve
    engine = Engine.on_file(master)
    groups = engine.groups()  # the master is readable before anyone is told to come
    held = engine.code_hashes()
    console().print(f"报送平台已启动（母表 {master.name}，{len(groups)} 个工作组）。请在浏览器中打开：")
    for address in addresses(host, port):
        console().print(f"  [bold]{address}[/]")
    if not held:
        console().print("尚未发放报送码：请另开一个窗口运行 [bold]xladdin codes[/] 发放各工作组的报送码和管理码。")
    elif host == "127.0.0.1":
        console().print("（只有本机能打开；要让各工作组在内网访问，请加 --host 0.0.0.0）")
    console().print("按 Ctrl+C 停止。")
    serve(master, host, port)
    console().print("报送平台已停止。")


@main.command("excel-setup")
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--interpreter", type=click.Path(dir_okay=False, path_type=Path),
              help="Windows path of the python(w).exe Excel should start (default: this Python, on Windows).")
@click.option("--check", "check_only", is_flag=True, help="Only check; write nothing into the master.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (JSON).")
@guarded
def excel_setup_command(master: Path, interpreter: Path | None, check_only: bool, as_json: bool) -> None:
    """Make the master's buttons and worksheet functions work on this PC (run it on the Windows PC).

    Writes this Python into the master's hidden xlwings.conf sheet, drops empty keys that would hide the
    ribbon's settings, and checks pywin32, the xlwings DLL and Excel's macro settings. Exit 2 when
    something on this PC needs fixing (each problem is printed with its fix).

    \b
    Example:
        xladdin excel-setup 攻坚指挥部/指挥部母表.xlsm
    """
    from xladdin.console import print_setup_report
    from xladdin.excel_setup import excel_setup
    report = excel_setup(master, interpreter=interpreter, write=not check_only)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_setup_report(report, check_only)
    if report.problems:
        sys.exit(EXIT_SETTINGS)


@main.command("offline-bundle")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--python", "pythons", multiple=True, metavar="3.X",
              help="Only these Python versions of the Windows PCs (repeat the option); default: every version "
                   "constraints.txt has Windows wheels for.")
def offline_bundle(out: Path, pythons: tuple[str, ...]) -> None:
    """Collect everything a Windows PC without internet needs into OUT, with 安装.cmd.

    Run it on a machine that reaches a package index; copy OUT to the PC and double-click 安装.cmd there
    (or drop the master onto it).

    \b
    Example:
        xladdin offline-bundle ./xladdin-离线安装包
    """
    from xladdin.bundle import INSTALLER, BundleError, make_bundle
    try:
        bundle = make_bundle(out, tuple(pythons))
    except BundleError as exc:
        fail(str(exc), EXIT_SETTINGS)
    shown = "、".join(reversed(bundle.pythons))
    console().print(f"已收集 {len(bundle.wheels)} 个安装包（Windows 64 位，Python {shown}）到 [bold]{out}[/]。")
    console().print(f"把整个文件夹拷到要用母表的电脑上，双击 {INSTALLER}（或把母表拖到它上面）。")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"))
@click.option("--as-of", callback=_parse_as_of, metavar="YYYY-MM-DD", help="Last day of the campaign (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (JSON).")
@guarded
def demo(directory: Path, as_of: dt.date | None, as_json: bool) -> None:
    """Build a demo campaign in DIRECTORY (default ./demo) and run the one-click job on it; a second,
    city-level campaign (ten counties ranked on county totals) goes to DIRECTORY/全市演示.

    \b
    Example:
        xladdin demo ./demo
    """
    from xladdin.demo import MASTER_NAME, build_demo
    manifest = build_demo(directory, as_of)
    if not as_json:
        console().print(f"已生成演示数据：{len(manifest['files'])} 个报送文件，"
                         f"{manifest['start']} 至 {manifest['as_of']}，放在 {directory / manifest['inbox']}")
    result = _run_command("run", directory / MASTER_NAME, None, dt.date.fromisoformat(manifest["as_of"]), as_json)
    if not as_json:
        console().rule("通报")
        for line in result.notice:
            console().print(line)
        console().print(f"\n母表在：[bold]{result.master.resolve()}[/]")
    city_demo(directory / "全市演示", dt.date.fromisoformat(manifest["as_of"]), quiet=as_json)


def city_demo(directory: Path, as_of: dt.date, quiet: bool = False) -> JobResult:
    """The city-level demo: build, run, and say what the city's 红黑榜 says about 清河县."""
    from xladdin.citydemo import OUR_COUNTY, build_city_demo
    from xladdin.domain.rank import verdicts
    from xladdin.engine.operations import Engine
    result = Engine.on_file(build_city_demo(directory, as_of)).run(as_of=as_of)
    if not quiet:
        console().rule(f"全市红黑榜中的{OUR_COUNTY}")
        for line in verdicts(result.ranking, OUR_COUNTY, result.settings).values():
            console().print(line)
        console().print(f"\n市级母表在：[bold]{result.master.resolve()}[/]")
    return result


if __name__ == "__main__":
    main()
