"""Issuing a notice: its 期数, its Word file in the 通报存档 folder, its record in the store.

The same notice for the same date issued twice is kept once; a changed one gets a new 期 unless staff
ask to re-issue (`--reissue`), and then the old file stays beside it renamed …-作废. Nothing is replaced
silently.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from xladdin.domain.settings import Settings
from xladdin.notices.archive import archive_name, free_path, issued_for, next_number, record_issue, void
from xladdin.notices.compose import KIND_WORDS, Header, Notice


def notice_header(settings: Settings) -> Header:
    """The issuer, 期数 pattern, addressees and the opening and closing paragraphs from 设置."""
    return Header(county=settings.county, issuer=settings.issuer, number_pattern=settings.number_pattern,
                  to=settings.notice_to, cc=settings.notice_cc, opening=settings.notice_opening,
                  closing=settings.notice_closing, level=settings.level)


def issue_notice(store, notice: Notice, base_dir: Path, settings: Settings, reissue: bool, now: dt.datetime) -> str:
    """Number, archive and record the notice, issued at the run's `now`; returns what was done, in Chinese."""
    year = notice.as_of.year
    existing = issued_for(store, notice.kind, notice.as_of)
    note = ""
    if existing is not None and not reissue:
        notice.number = existing.number
        if "\n".join(notice.lines()) == existing.text:
            return f"与已发出的第{existing.number}期内容相同，未重复存档：{existing.file}"
        notice.number = next_number(store, notice.kind, year)
        note = (f"统计截至同一天的第{existing.number}期已发出且内容不同，本次另编为第{notice.number}期"
                "（如要替换第{0}期，请加 --reissue）。".format(existing.number))
    elif existing is not None:
        voided = void(store, base_dir, notice.kind, existing.year, existing.number)
        notice.number = existing.number
        note = f"第{existing.number}期重新印发，原文件已改名为：{'、'.join(voided)}。"
    else:
        notice.number = next_number(store, notice.kind, year)
    folder = base_dir / settings.notice_archive
    path = free_path(folder / archive_name(notice.kind, notice.as_of.year, notice.number, notice.as_of))
    from xladdin.notices.word import write_docx  # python-docx only when a notice is issued

    write_docx(notice, path)
    store.on_rollback(lambda: path.unlink(missing_ok=True))  # a run that is not committed issued nothing
    relative = str(Path(settings.notice_archive) / path.name)
    record_issue(store, notice.kind, year, notice.number, notice.as_of, now, relative, "\n".join(notice.lines()))
    return note + f"已发出第{notice.number}期{KIND_WORDS[notice.kind]}，存档：{relative}"


def leader_reports_name(as_of) -> str:
    return f"专报（截至{as_of.isoformat()}）.docx"


def issue_leader_reports(leaders: list[Notice], as_of, base_dir: Path, settings: Settings) -> str:
    """The 专报, one page per 责任领导, written as one Word file in 通报存档 (not numbered: a 专报 is
    a working paper, not a 期 of a series); returns what was done, in Chinese."""
    if not leaders:
        return "没有需要专报的责任领导（项目清单中未填责任领导）。"
    # An earlier 专报 of the same date is kept: the new one takes the next free name.
    from xladdin.notices.word import write_leader_docx

    path = write_leader_docx(leaders, free_path(base_dir / settings.notice_archive / leader_reports_name(as_of)))
    return f"已写出 {len(leaders)} 位责任领导的专报：{Path(settings.notice_archive) / path.name}"
