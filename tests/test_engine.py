"""The engine's named operations: what each one reads and writes, and every door calling them by name."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin import cli
from xladdin.demo import MASTER_NAME
from xladdin.engine.operations import OPERATIONS, Engine

AS_OF = dt.date(2026, 11, 24)


@pytest.fixture
def campaign(tmp_path, demo_at):
    demo_at(tmp_path, AS_OF)
    return tmp_path / MASTER_NAME


def _table(path, name):
    workbook = openpyxl.load_workbook(path)
    for ws in workbook.worksheets:
        if name in ws.tables:
            return [[c.value for c in row] for row in ws[ws.tables[name].ref]]
    raise AssertionError(name)


def test_validate_changes_nothing(campaign):
    before = campaign.read_bytes()
    inbox = sorted(p.name for p in (campaign.parent / "报送").iterdir())
    result = Engine.on_file(campaign).validate(as_of=AS_OF)
    assert result.files and not result.wrote
    assert campaign.read_bytes() == before
    assert sorted(p.name for p in (campaign.parent / "报送").iterdir()) == inbox
    assert not (campaign.parent / "归档").exists()
    Engine.on_file(campaign).run(as_of=AS_OF)
    (campaign.parent / "报送" / "新到的台账.xlsx").write_bytes((campaign.parent / "报送" / inbox[0]).read_bytes()[:100])
    stored, master = (campaign.parent / "历史库.sqlite").read_bytes(), campaign.read_bytes()
    Engine.on_file(campaign).validate(as_of=AS_OF)
    assert (campaign.parent / "历史库.sqlite").read_bytes() == stored and campaign.read_bytes() == master


def test_rank_never_reads_the_inbox(campaign):
    result = Engine.on_file(campaign).rank(as_of=AS_OF)
    assert result.wrote and result.inbox is None and result.files == []
    assert not (campaign.parent / "归档").exists()


def test_consolidate_leaves_the_ranking_as_it_was(campaign):
    engine = Engine.on_file(campaign)
    ranking = _table(campaign, "tblRanking")
    result = engine.consolidate(as_of=AS_OF)
    assert result.wrote and result.files
    assert _table(campaign, "tblRanking") == ranking
    assert len(_table(campaign, "tblSummary")) == len(result.summary) + 1
    ranked = engine.run(as_of=AS_OF)
    assert _table(campaign, "tblRanking") != ranking and ranked.ranking is not None


def test_an_engine_works_on_one_master():
    with pytest.raises(ValueError):
        Engine()
    with pytest.raises(ValueError):
        Engine(master="a.xlsm", book=object())


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_each_command_is_the_engine_operation_of_its_name(campaign, monkeypatch, operation):
    called = []
    real = getattr(Engine, operation)

    def spy(self, **options):
        called.append(operation)
        return real(self, **options)

    monkeypatch.setattr(Engine, operation, spy)
    arguments = [operation, str(campaign), "--as-of", AS_OF.isoformat()]
    outcome = CliRunner().invoke(cli.main, arguments + (["--json"] if operation != "notice" else []))
    assert outcome.exit_code == 0, outcome.output
    assert called == [operation]


@pytest.mark.parametrize("macro, operation, kind", [
    ("xladdin_run", "run", None), ("xladdin_validate", "validate", None),
    ("xladdin_consolidate", "consolidate", None), ("xladdin_rank", "rank", None),
    ("xladdin_notice", "notice", "daily"), ("xladdin_notice_weekly", "notice", "weekly"),
    ("xladdin_notice_leaders", "notice", "leader")])
def test_each_button_is_the_engine_operation_of_its_name(tmp_path, monkeypatch, demo_at, macro, operation, kind):
    import os

    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    from xladdin import excel

    from .xlwings_payload import payload_for

    demo_at(tmp_path, dt.date.today())
    monkeypatch.chdir(tmp_path)
    called = []
    real = getattr(Engine, operation)

    def spy(self, **options):
        called.append((operation, self.book is not None, options.get("kind"), options.get("issue")))
        return real(self, **options)

    monkeypatch.setattr(Engine, operation, spy)
    book = xw.Book(json=payload_for(tmp_path / MASTER_NAME))
    book.set_mock_caller()
    message = getattr(excel, macro)()
    assert called == [(operation, True, kind, True if kind else None)]  # the notice buttons issue
    if kind in ("daily", "weekly"):
        words = {"daily": "督查日报", "weekly": "通报"}[kind]
        assert f"已发出第1期{words}" in message
        assert any(p.name.startswith(f"{words}{dt.date.today().year}年第1期") for p in (tmp_path / "通报存档").iterdir())
    elif kind == "leader":
        assert "位责任领导的专报" in message and list((tmp_path / "通报存档").glob("专报（截至*）.docx"))
