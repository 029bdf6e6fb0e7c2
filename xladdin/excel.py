"""xlwings entry points: the buttons' macros and the worksheet functions, a few lines each.

The same functions serve classic xlwings on Windows (RunPython, or imported as Subs/UDFs through the
ribbon's Import Functions; UDF module `xladdin.excel` in the xlwings.conf sheet) and xlwings
Server/Lite (the `book` argument is injected). All work is done by xladdin.engine.operations (the named operations) and
xladdin.domain.worksheet; nothing of the domain lives here.
"""

from __future__ import annotations

import logging
import time

import xlwings as xw

from xladdin.base.errors import MasterUnusable, SettingsError
from xladdin.base.fs import os_message
from xladdin.domain import worksheet
from xladdin.engine.model import summary_sentence
from xladdin.engine.operations import Engine
from xladdin.engine.withdraw import signed_in_user
from xladdin.notices.compose import DAILY, LEADER, WEEKLY
from xladdin.progress import stage_text
from xladdin.workbook.live import LiveBook

log = logging.getLogger(__name__)


def _book(book):
    return book if book is not None else xw.Book.caller()


def _quiet(app, on: bool) -> None:
    """Screen updating and calculation off while writing, back on after (where the engine allows)."""
    for name, value in (("screen_updating", not on), ("calculation", "manual" if on else "automatic")):
        try:
            setattr(app, name, value)
        except Exception:  # not every engine supports every property; writing works regardless
            pass


def _status_bar(app, text: str | bool) -> None:
    """Excel's status bar says what the run is doing (False hands it back to Excel)."""
    try:
        app.status_bar = text
    except Exception:  # engines without a status bar (xlwings Server, Lite): the alert says the rest
        pass


def _status_progress(app):
    """The run's stages on the status bar (xladdin：校验报送文件 12/40……), at most ten updates a second."""
    last = [0.0]

    def tell(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if total and 0 < done < total and now - last[0] < 0.1:
            return  # each update is a call into Excel: a province's thousands of files would cost seconds
        last[0] = now
        _status_bar(app, stage_text(stage, done, total))

    return tell


def _alert(book, text: str, title: str = "xladdin") -> None:
    try:
        book.app.alert(text, title=title)
    except Exception:  # engines without alerts: the status table on 控制台 says the same
        log.info("%s: %s", title, text)


def _live(book, operation: str, **options) -> str:
    """Run one of the engine's operations on the open workbook; deliberate problems become a plain
    Chinese alert."""
    book = _book(book)
    _quiet(book.app, True)
    _status_bar(book.app, "xladdin：正在读取、校验和汇总台账，请稍候……")
    try:
        live = LiveBook(book)
        engine = Engine.on_book(live, live.base_dir)
        result = getattr(engine, operation)(progress=_status_progress(book.app), **options)
        message = "\n".join(filter(None, (summary_sentence(result), result.issued)))
    except (SettingsError, MasterUnusable) as exc:
        message = str(exc)
    except OSError as exc:  # disk full, no permission on 归档 or 退回, a path too long
        message = os_message(exc)
    except Exception:
        log.exception("xladdin failed")
        message = "运行出错，未完成。请把母表和收件箱文件一起发给技术支持。"
    finally:
        _quiet(book.app, False)
        _status_bar(book.app, False)
    _alert(book, message)
    return message


@xw.script
def xladdin_run(book: xw.Book = None):
    """一键汇总：校验收件箱中的台账，汇总、排名，写校验报告、报送记录和通报。"""
    return _live(book, "run")


@xw.script
def xladdin_validate(book: xw.Book = None):
    """校验收件箱中的台账，不改动母表。"""
    return _live(book, "validate")


@xw.script
def xladdin_consolidate(book: xw.Book = None):
    """校验并汇总收件箱中的台账（不重算红黑榜）。"""
    return _live(book, "consolidate")


@xw.script
def xladdin_rank(book: xw.Book = None):
    """按历史数据重算汇总和红黑榜（不读取收件箱）。"""
    return _live(book, "rank")


@xw.script
def xladdin_notice(book: xw.Book = None):
    """发督查日报：写到“通报”表，编期数并存 Word 到通报存档（同时刷新汇总和红黑榜）。"""
    return _live(book, "notice", kind=DAILY, issue=True)


@xw.script
def xladdin_notice_weekly(book: xw.Book = None):
    """发周通报：写到“通报”表，编期数并存 Word（附红黑榜）到通报存档。"""
    return _live(book, "notice", kind=WEEKLY, issue=True)


@xw.script
def xladdin_notice_leaders(book: xw.Book = None):
    """领导专报：每位责任领导一页，写到“通报”表并存 Word 到通报存档（不编期数）。"""
    return _live(book, "notice", kind=LEADER, issue=True)


@xw.script
def xladdin_withdraw(submission: str = "", why: str = "", who: str = "", book: xw.Book = None):
    """撤回报送：撤回一份已接收的报送（如多报），写明原因，按其余报送重算汇总和红黑榜。"""
    book = _book(book)
    submission = str(submission or "").strip()
    if not submission:  # not named (the button's VBA asks for it): the row selected on 报送记录
        try:
            submission = LiveBook(book).selected_submission()
        except SettingsError as exc:
            _alert(book, str(exc))
            return str(exc)
    who = str(who or "").strip() or signed_in_user()
    return _live(book, "withdraw", submission=submission, why=str(why or ""), who=who)


@xw.script
def xladdin_templates(book: xw.Book = None):
    """按项目清单为每个工作组生成填报模板（已填入各组上次报送的累计数，自带自查），放在母表旁的“填报模板”文件夹。"""
    book = _book(book)
    live = LiveBook(book)
    try:
        paths = Engine.on_book(live, live.base_dir).templates()
        message = f"已生成 {len(paths)} 个工作组的填报模板，在 {live.base_dir / '填报模板'}。"
    except SettingsError as exc:
        message = str(exc)
    _alert(book, message)
    return message


# -- worksheet functions -----------------------------------------------------------------------

def described(name: str):
    """The function's description (Excel's Insert Function dialog) from worksheet.DESCRIPTIONS: applied
    first, so that xlwings' decorators above it read it as the docstring."""
    def apply(func):
        func.__doc__ = worksheet.description(name)
        return func
    return apply


@xw.func
@xw.arg("done", err_to_str=True, doc="累计完成数，如累计征地面积")
@xw.arg("plan", err_to_str=True, doc="计划数；为 0 或空时结果为空")
@described("COMPLETION_RATE")
def COMPLETION_RATE(done, plan):
    return worksheet.completion_rate(done, plan)


@xw.func
@xw.arg("value", err_to_str=True, doc="要排名的数值")
@xw.arg("values", err_to_str=True, doc="参与排名的区域；空白和文字不参与")
@xw.arg("dense", err_to_str=True, doc="可选：TRUE 为中国式排名（1,1,2），默认跳位（1,1,3）")
@described("RANK_OF")
def RANK_OF(value, values, dense=False):
    return worksheet.rank_of(value, values, dense)


@xw.func
@xw.arg("values", ndim=2, err_to_str=True, doc="一列数值")
@xw.arg("dense", err_to_str=True, doc="可选：TRUE 为中国式排名")
@described("RANKS")
def RANKS(values, dense=False):
    return worksheet.ranks(values, dense)


@xw.func
@xw.arg("value", err_to_str=True, doc="本单位的指标值")
@xw.arg("values", err_to_str=True, doc="全部单位的指标值")
@xw.arg("red_k", err_to_str=True, doc="可选：红榜名额，默认 3")
@xw.arg("black_k", err_to_str=True, doc="可选：黑榜名额，默认 3")
@xw.arg("rule", err_to_str=True, doc="可选：上榜规则，前后K名 或 不超过三分之一（默认）；与“设置”的上榜规则一致")
@described("LIST_FLAG")
def LIST_FLAG(value, values, red_k=3, black_k=3, rule=""):
    return worksheet.list_flag(value, values, red_k, black_k, rule)


@xw.func
@xw.arg("unit", err_to_str=True, doc="排名单位，如工作组名称")
@xw.arg("metric", err_to_str=True, doc="指标：征地完成率、进度占比率、净地完成率 或 工业用地征地完成率")
@xw.arg("table", ndim=2, err_to_str=True, doc="红黑榜表（含表头），如 tblRanking[#All]")
@xw.arg("what", err_to_str=True, doc="可选：值、排名（默认）、榜、上期排名、名次变化、平均、低于平均 或 连续上榜期数")
@described("RANK_LOOKUP")
def RANK_LOOKUP(unit, metric, table, what="排名"):
    return worksheet.rank_lookup(unit, metric, table, what)


@xw.func
@xw.arg("now", err_to_str=True, doc="本期累计数区域")
@xw.arg("before", err_to_str=True, doc="期初累计数区域（与本期区域同样大小）")
@described("PROGRESS_RATIO")
def PROGRESS_RATIO(now, before):
    return worksheet.progress_ratio(now, before)


@xw.func
@xw.arg("deadline", err_to_str=True, doc="净地交付期限")
@xw.arg("today", err_to_str=True, doc="可选：从哪天算起，默认今天")
@described("DAYS_LEFT")
def DAYS_LEFT(deadline, today=None):
    return worksheet.days_left(deadline, today)
