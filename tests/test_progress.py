"""A long run says what it is doing: stages through one callback of the engine, a bar on a terminal, the
status bar in Excel, nothing extra with --json."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner
from rich.console import Console

from benchmarks.bench import AS_OF, generate
from xladdin import cli
from xladdin.engine import model, pipeline
from xladdin.engine.operations import Engine
from xladdin.excel import _status_progress
from xladdin.progress import TerminalProgress


def test_a_run_reports_reading_and_checking_each_file_then_writing_the_master(tmp_path):
    master = generate(tmp_path, 3, 2)
    heard = []
    result = pipeline.execute(master, as_of=AS_OF, workers=1, progress=lambda *event: heard.append(event))
    files = len(result.files)
    stages = [stage for stage, _, _ in heard]
    assert stages.index(model.READING) < stages.index(model.CHECKING) < stages.index(model.SUMMING) \
        < stages.index(model.WRITING) < stages.index(model.SAVING)
    assert (model.READING, files, files) in heard and (model.CHECKING, files, files) in heard
    assert [done for stage, done, _ in heard if stage == model.CHECKING] == list(range(1, files + 1))


def test_validate_only_never_reports_writing(tmp_path):
    master = generate(tmp_path, 2, 2)
    heard = []
    pipeline.execute(master, as_of=AS_OF, write=False, workers=1, progress=lambda *event: heard.append(event))
    assert {stage for stage, _, _ in heard} == {model.READING, model.CHECKING, model.SUMMING}


def test_the_terminal_bar_shows_the_stage_and_count_once_shown(monkeypatch):
    out = io.StringIO()
    progress = TerminalProgress(Console(file=out, force_terminal=True, width=100))
    progress(model.CHECKING, 3, 7)
    progress._show()  # what the timer does once the run has lasted a second
    progress(model.CHECKING, 4, 7)
    progress.close()
    assert "校验报送文件" in out.getvalue() and "4/7" in out.getvalue()


def test_no_bar_when_stderr_is_not_a_terminal():
    out = io.StringIO()
    progress = TerminalProgress(Console(file=out, force_terminal=False))
    progress(model.READING, 1, 2)
    progress.close()
    assert out.getvalue() == "" and progress.timer is None


def test_json_output_is_the_summary_alone_and_the_engine_gets_no_progress(tmp_path, monkeypatch):
    master = generate(tmp_path, 2, 2)
    seen = {}
    real = Engine.validate

    def spy(self, **kwargs):
        seen["progress"] = kwargs.get("progress")
        return real(self, **kwargs)

    monkeypatch.setattr(Engine, "validate", spy)
    outcome = CliRunner().invoke(cli.main, ["validate", str(master), "--as-of", AS_OF.isoformat(), "--json"])
    assert outcome.exit_code == 0 and seen["progress"] is None
    json.loads(outcome.stdout)
    outcome = CliRunner().invoke(cli.main, ["validate", str(master), "--as-of", AS_OF.isoformat()])
    assert outcome.exit_code == 0 and isinstance(seen["progress"], TerminalProgress)


def test_excel_status_bar_says_the_stage():
    class App:
        status_bar = None
        shown: list = []

        def __setattr__(self, name, value):
            App.shown.append(value)

    app = App()
    tell = _status_progress(app)
    tell(model.READING, 0, 5)
    tell(model.WRITING, 0, 0)
    assert App.shown == ["xladdin：读取报送文件 0/5……", "xladdin：写入母表……"]
