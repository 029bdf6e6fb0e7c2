"""Issuing notices: typography of every generated text, 期数 kept in the store, the 通报存档 folder, re-issue,
and ledgers returned and not corrected listed across runs until corrected."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.cli import main
from xladdin.demo import MASTER_NAME
from xladdin.engine.pipeline import execute
from xladdin.notices.archive import all_issued
from xladdin.notices.compose import move_words
from xladdin.notices.typography import problems, tidy
from xladdin.notices.word import write_docx
from xladdin.store.history import Store

from .conftest import AS_OF
from .test_ranking_formulas import CASES, make_campaign


@pytest.mark.parametrize("text, kind", [
    ("全县项目 18 个", "空格"), ("完成率 45.20%，较上期", "空格"), ("工作组,请于", "半角"), ("原因(见附表)", "半角"),
    ("临期（剩 5 天）", "空格"), ("城南（临期（剩5天））", "括号套括号"), ("详见《甲组_1115.xlsx》", "文件名"),
    ("累计数减少（进度台账!E5）", "单元格"), ("第一组（↑1）", "箭头"), ("征地完成率 —，", "破折号"),
])
def test_the_checker_names_each_broken_rule(text, kind):
    found = problems(text)
    assert found and any(kind in p for p in found), found


def test_clean_official_text_passes_and_tidy_repairs_screen_sentences():
    clean = "全县纳入攻坚的项目共18个，征地完成率67.50%；石桥安置小区（二期）（滨江片区工作组，已逾期8天）。"
    assert problems(clean) == []
    screen = "应报 6 个工作组：已报 4 个；未报 1 个（第五组）；征地完成率 —。"
    assert problems(screen) and problems(tidy(screen)) == []
    assert tidy(screen) == "应报6个工作组：已报4个；未报1个（第五组）；征地完成率暂无。"


@pytest.mark.parametrize("move, words", [("↑1", "较上期上升1位"), ("↓3", "较上期下降3位"), ("—", "与上期持平"),
                                         ("新", "本期新参与排名")])
def test_movement_is_written_in_words(move, words):
    assert move_words(move) == words


def _all_texts(result, tmp_path):
    """Every text a reader sees: the notice lines, the 附表 cells and the Word document's paragraphs."""
    from docx import Document

    texts = result.notice_doc.texts()
    path = write_docx(result.notice_doc, tmp_path / f"{result.notice_doc.kind}.docx")
    document = Document(path)
    texts += [p.text for p in document.paragraphs]
    texts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return texts


def test_every_generated_text_follows_the_typography_rules(demo, tmp_path):
    directory, _, _ = demo
    master = directory / MASTER_NAME
    checked = 0
    for day in (AS_OF - dt.timedelta(days=3), AS_OF):
        for kind in ("daily", "weekly"):
            result = execute(master, as_of=day, intake=False, write=False, notice_kind=kind)
            for text in _all_texts(result, tmp_path):
                assert problems(text) == [], text
                checked += 1
    for seed, settings in enumerate(CASES[:3]):  # generated campaigns: ties, zero plans, no industrial projects
        folder = tmp_path / f"case{seed}"
        folder.mkdir()
        campaign = make_campaign(folder, seed, settings)
        for kind in ("daily", "weekly"):
            for text in _all_texts(execute(campaign, as_of=AS_OF, intake=False, write=False, notice_kind=kind),
                                   tmp_path):
                assert problems(text) == [], text
    assert checked > 50


def test_a_seven_day_period_is_stated_as_seven_days(demo):
    directory, _, _ = demo
    result = execute(directory / MASTER_NAME, as_of=AS_OF, intake=False, write=False, notice_kind="weekly")
    days = (result.as_of - result.period_start).days
    first = result.period_start + dt.timedelta(days=1)
    stated = f"{first.month}月{first.day}日至{AS_OF.month}月{AS_OF.day}日"
    assert stated in result.notice_doc.title and days == 7
    assert (AS_OF - first).days + 1 == days  # both ends counted: seven days, not eight


def test_the_weekly_notice_carries_what_a_notice_needs(demo):
    directory, _, _ = demo
    result = execute(directory / MASTER_NAME, as_of=AS_OF, intake=False, write=False, notice_kind="weekly")
    notice = result.notice_doc
    sections = dict(notice.sections)
    week = sections["本周新增"]
    units = result.summary["group"].unique()
    assert f"等{len(units)}个" in week  # per unit: the largest gains named (设置 › 通报点名数), all counted
    assert len([u for u in units if u in week]) == result.settings.notice_named
    assert notice.header.opening and notice.body()[1] == notice.header.opening
    assert notice.body()[-1] == notice.header.closing
    ranking = result.ranking.set_index(result.ranking["unit"].astype(str))
    assert sorted(row[0] for row in notice.table[1:]) == sorted(ranking.index)
    for row in notice.table[1:]:
        assert row[1] == f"{ranking.at[row[0], 'acquisition_rate'] * 100:.2f}%"
        assert row[2] == str(int(ranking.at[row[0], "acquisition_rate_rank"]))
        marks = row[-1].split("、")
        assert ("征地完成率红榜" in marks) == bool(ranking.at[row[0], "acquisition_rate_red"])
        assert ("征地完成率黑榜" in marks) == bool(ranking.at[row[0], "acquisition_rate_black"])


def test_settings_name_the_county_issuer_number_and_addressees(demo, tmp_path):
    directory, _, _ = demo
    master = tmp_path / MASTER_NAME
    shutil.copy(directory / MASTER_NAME, master)
    shutil.copy(directory / "历史库.sqlite", tmp_path / "历史库.sqlite")
    wb = openpyxl.load_workbook(master, keep_vba=True)
    ws = wb["设置"]
    wanted = {"县名": "清河县", "期数格式": "清攻坚〔{年}〕{期}号", "主送": "各乡镇、各工作组", "抄送": ""}
    for row in ws.iter_rows():
        if row[0].value in wanted:
            row[1].value = wanted[row[0].value]
    wb.save(master)
    result = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    lines = result.notice
    assert lines[0] == "清河县重点项目和民生工程用地保障攻坚指挥部通报"
    assert lines[1] == f"清攻坚〔{AS_OF.year}〕1号"
    assert "各乡镇、各工作组：" in lines and not any(line.startswith("抄送") for line in lines)



def test_issue_numbers_persist_and_the_same_notice_is_archived_once(small_copy, tmp_path):
    master = small_copy
    first = execute(master, as_of=AS_OF - dt.timedelta(days=7), intake=False, command="notice",
                    notice_kind="weekly", issue=True)
    assert first.notice_doc.number == 1
    daily = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="daily", issue=True)
    assert daily.notice_doc.number == 1  # each kind numbers on its own
    second = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    assert second.notice_doc.number == 2 and f"〔{AS_OF.year}〕第2期" in second.notice
    again = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    assert again.notice_doc.number == 2 and "未重复存档" in again.issued
    issued = all_issued(Store(tmp_path / "历史库.sqlite"))
    assert [(i.kind, i.number) for i in issued] == [("weekly", 1), ("daily", 1), ("weekly", 2)]
    files = sorted(p.name for p in (tmp_path / "通报存档").iterdir())
    assert len(files) == 3 and all((tmp_path / i.file).exists() for i in issued)
    # reproducible: the archived text is what the same command writes for that date
    assert issued[2].text == "\n".join(again.notice_doc.lines())
    # listed in the master, on the 通报 sheet after the notice
    ws = openpyxl.load_workbook(master)["通报"]
    sheet = [c.value for c in ws["A"] if c.value]
    assert "通报存档（已发出的通报、督查日报）：" in sheet
    assert sum(1 for line in sheet if str(line).endswith(".docx")) == 3


def test_a_changed_notice_gets_a_new_issue_and_reissue_keeps_the_old_file_as_void(small_copy, tmp_path):
    master = small_copy
    execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    db = sqlite3.connect(tmp_path / "历史库.sqlite")
    db.execute("UPDATE notices SET text=text||'（旧稿）'")  # the history changed since: a different notice
    db.commit()
    db.close()
    changed = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    assert changed.notice_doc.number == 2 and "第1期已发出且内容不同" in changed.issued
    reissued = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True,
                       reissue=True)
    assert reissued.notice_doc.number == 2
    names = sorted(p.name for p in (tmp_path / "通报存档").iterdir())
    assert any(n.startswith("通报2026年第2期") and n.endswith("-作废.docx") for n in names)
    assert any(n.startswith("通报2026年第2期") and not n.endswith("-作废.docx") for n in names)
    states = [(i.number, i.state) for i in all_issued(Store(tmp_path / "历史库.sqlite"))]
    assert states == [(1, "有效"), (2, "作废"), (2, "有效")]


def _notices(tmp_path) -> list[tuple[int, str, str]]:
    db = sqlite3.connect(tmp_path / "历史库.sqlite")
    try:
        return db.execute("SELECT number, state, file FROM notices WHERE kind='weekly' ORDER BY notice_id").fetchall()
    finally:
        db.close()


def test_rolling_back_the_run_that_issued_a_notice_withdraws_it_and_frees_its_number(small_copy, tmp_path):
    master = small_copy
    execute(master, as_of=AS_OF - dt.timedelta(days=7), intake=False, command="notice", notice_kind="weekly",
            issue=True)
    second = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    assert second.notice_doc.number == 2
    issued_file = tmp_path / _notices(tmp_path)[1][2]
    assert issued_file.exists()
    result = CliRunner().invoke(main, ["rollback", str(master)])
    assert result.exit_code == 0, result.output
    assert "通报已撤销" in result.output
    (first_number, first_state, _), (number, state, file) = _notices(tmp_path)
    assert (first_number, first_state) == (1, "有效")  # an earlier run's notice is untouched
    assert (number, state) == (2, "已撤销") and file.endswith("-已撤销.docx")
    assert not issued_file.exists() and (tmp_path / file).exists()  # kept, under a name that says so
    again = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    assert again.notice_doc.number == 2  # the withdrawn 期 is issued anew under its number
    assert [(n, s) for n, s, _ in _notices(tmp_path)] == [(1, "有效"), (2, "已撤销"), (2, "有效")]
    ws = openpyxl.load_workbook(master)["通报"]
    assert any("已撤销" in str(c.value) for c in ws["A"])  # the archive list on the 通报 sheet says so


def test_rolling_back_a_reissue_puts_the_voided_notice_back_in_force(small_copy, tmp_path):
    master = small_copy
    execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    original = tmp_path / _notices(tmp_path)[0][2]
    first_bytes = original.read_bytes()
    _reissue(master, tmp_path)
    (_, voided, voided_file), (_, reissued, reissued_file) = _notices(tmp_path)
    assert (voided, reissued) == ("作废", "有效") and voided_file.endswith("-作废.docx")
    assert tmp_path / reissued_file == original  # the reissue took the 期's file name
    assert CliRunner().invoke(main, ["rollback", str(master)]).exit_code == 0
    (number, state, file), (_, withdrawn, withdrawn_file) = _notices(tmp_path)
    assert (number, state, withdrawn) == (1, "有效", "已撤销")
    assert tmp_path / file == original and original.read_bytes() == first_bytes  # the first one, under its name
    assert (tmp_path / withdrawn_file).exists() and not (tmp_path / voided_file).exists()


def _reissue(master, tmp_path):
    db = sqlite3.connect(tmp_path / "历史库.sqlite")
    db.execute("UPDATE notices SET text=text||'（旧稿）'")  # the history changed since: the reissue differs
    db.commit()
    db.close()
    execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True, reissue=True)


def test_a_notice_reinstated_by_a_rollback_gets_its_own_name_back_after_several_reissues(small_copy, tmp_path):
    master = small_copy
    execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    own = _notices(tmp_path)[0][2]
    _reissue(master, tmp_path)
    _reissue(master, tmp_path)  # the second 作废 file of the 期 needs a name of its own
    names = sorted(p.name for p in (tmp_path / "通报存档").iterdir())
    assert len(names) == 3 and len(set(names)) == 3  # nothing overwritten
    assert CliRunner().invoke(main, ["rollback", str(master)]).exit_code == 0
    states = _notices(tmp_path)
    assert [(n, s) for n, s, _ in states] == [(1, "作废"), (1, "有效"), (1, "已撤销")]
    assert states[1][2] == own and (tmp_path / own).exists()  # in force again, under the 期's own name
    assert len(list((tmp_path / "通报存档").iterdir())) == 3


def test_a_rollback_stopped_by_a_notice_open_in_word_changes_nothing(small_copy, tmp_path, monkeypatch):
    master = small_copy
    execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    _reissue(master, tmp_path)
    before = (_notices(tmp_path), sorted(p.name for p in (tmp_path / "通报存档").iterdir()), master.read_bytes())
    real = Path.replace

    def locked(self, target):  # Word holds the voided file open: Windows refuses to rename it
        if "作废" in self.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, target)

    monkeypatch.setattr(Path, "replace", locked)
    result = CliRunner().invoke(main, ["rollback", str(master)])
    monkeypatch.undo()
    assert result.exit_code == 3 and "请关闭后重试" in result.output
    after = (_notices(tmp_path), sorted(p.name for p in (tmp_path / "通报存档").iterdir()), master.read_bytes())
    assert after == before  # the reissued notice's file was renamed first: that rename is undone
    assert CliRunner().invoke(main, ["rollback", str(master)]).exit_code == 0  # closed in Word: it works


def test_a_run_of_the_excel_buttons_is_rolled_back_in_the_store_and_leaves_the_master_alone(demo_copy, tmp_path,
                                                                                             monkeypatch):
    from xladdin.workbook.package import MasterBook

    master = demo_copy
    monkeypatch.setattr(MasterBook, "back_up", lambda self, settings, now: None)  # as the live book: no backup
    execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="weekly", issue=True)
    monkeypatch.undo()
    saved = master.read_bytes()
    result = CliRunner().invoke(main, ["rollback", str(master)])
    assert result.exit_code == 0, result.output
    said = result.output.replace("\n", "")  # rich wraps long lines
    assert "在 Excel 中点按钮完成的" in said and "通报已撤销" in said
    assert master.read_bytes() == saved
    assert [(n, s) for n, s, _ in _notices(tmp_path)] == [(1, "已撤销")]


def test_a_returned_ledger_is_listed_until_it_is_corrected(demo_copy, tmp_path):
    master = demo_copy
    db = sqlite3.connect(tmp_path / "历史库.sqlite")
    rows = db.execute("SELECT group_name, report_date, received_at, status FROM submissions").fetchall()
    returned = {(g, d) for g, d, r, s in rows if s == "已退回" and d and d <= AS_OF.isoformat()
                and not any(g2 == g and d2 == d and s2 != "已退回" and r2 >= r for g2, d2, r2, s2 in rows)}
    assert returned
    later = AS_OF + dt.timedelta(days=2)  # days later, from `xladdin notice`, nothing in the inbox
    result = execute(master, as_of=later, intake=False, command="notice")
    section = dict(result.notice_doc.sections)["退回修改未更正的台账"]
    assert f"共{len(returned)}份" in section
    for group, date in returned:
        day = dt.date.fromisoformat(date)
        assert f"{group}{day.month}月{day.day}日的台账" in section if group else "填报单位不明" in section
    group, date = sorted(r for r in returned if r[0])[0]
    db.execute("INSERT INTO submissions (sha256, file_name, received_at, group_name, report_date, reporter, status,"
               " errors, warnings, row_count, issues) VALUES ('fix','fix.xlsx',?,?,?,'','已接收',0,0,0,'[]')",
               (f"{later.isoformat()}T20:00:00", group, date))
    db.commit()
    db.close()
    after = execute(master, as_of=later, intake=False, command="notice")
    section = dict(after.notice_doc.sections).get("退回修改未更正的台账", "")
    day = dt.date.fromisoformat(date)
    assert f"{group}{day.month}月{day.day}日的台账" not in section
    assert (f"共{len(returned) - 1}份" in section) if len(returned) > 1 else section == ""


def test_the_notice_command_issues_weekly_and_daily(demo_copy, tmp_path):
    master = demo_copy
    runner = CliRunner()
    out = runner.invoke(main, ["notice", str(master), "--weekly", "--as-of", AS_OF.isoformat()])
    assert out.exit_code == 0, out.output
    assert "已发出第1期通报" in out.output and "附件1：红黑榜" in out.output
    out = runner.invoke(main, ["notice", str(master), "--as-of", AS_OF.isoformat()])
    assert out.exit_code == 0 and "已发出第1期督查日报" in out.output
    assert len(list((tmp_path / "通报存档").glob("*.docx"))) == 2


def test_one_leader_report_per_leader_with_their_projects(demo_copy, tmp_path):
    from docx import Document

    from xladdin.notices.word import write_leader_docx

    master = demo_copy
    result = execute(master, as_of=AS_OF, intake=False, command="notice", notice_kind="leader")
    leaders = [v for v in dict.fromkeys(result.summary["leader"]) if v]
    assert len(result.leaders) == len(leaders)
    for notice, leader in zip(result.leaders, leaders):
        mine = result.summary[result.summary["leader"] == leader]
        assert [row[0] for row in notice.table[1:]] == list(mine["project_name"])
        assert f"包保项目{len(mine)}个" in notice.sections[0][1]
        for text in notice.texts():
            assert problems(text) == [], text
    path = write_leader_docx(result.leaders, tmp_path / "专报.docx")
    document = Document(path)
    breaks = document.element.body.xml.count('w:type="page"')
    assert breaks == len(leaders) - 1 and len(document.tables) == len(leaders)
    assert "PAGE" in document.sections[0].footer._element.xml
    sheet = [c.value for c in openpyxl.load_workbook(master)["通报"]["A"] if c.value]
    assert sum(1 for line in sheet if str(line).endswith("专报（截至" + f"{AS_OF.year}年{AS_OF.month}月{AS_OF.day}日）")) \
        == len(leaders)


def test_the_by_leader_option_writes_the_word_file(demo_copy, tmp_path):
    master = demo_copy
    out = CliRunner().invoke(main, ["notice", str(master), "--by-leader", "--as-of", AS_OF.isoformat()])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "通报存档" / f"专报（截至{AS_OF.isoformat()}）.docx").exists()
