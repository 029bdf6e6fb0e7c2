"""What a cold `xladdin run` loads: a second click with nothing new loads none of the heavy libraries (its
figures were kept, 控制台 is written from their plain part), a run that computes loads pandas but neither the
Word writer, openpyxl nor xlwings, and the kept frames come back when something asks for them. Checked on the
imports a real process makes (python -X importtime), not on timings (those are in benchmarks/README.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.campaigns import generate
from tests.conftest import AS_OF, RUN_AT
from xladdin.base.faults import STRICT_VARIABLE
from xladdin.engine import runcache
from xladdin.engine.operations import Engine

HEAVY = ("pandas", "numpy", "openpyxl", "docx", "xlwings")


@pytest.fixture
def campaign(tmp_path) -> Path:
    """A small campaign as the benchmarks make them (a master, one ledger per group in its inbox), never run."""
    return generate(tmp_path / "campaign", 3, 8)


def cold_run(master: Path, *options: str) -> set[str]:
    """`xladdin run MASTER` in a new interpreter as staff run it (not in the suite's strict mode, which reads
    kept frames back at once); the top-level packages it imported."""
    env = {k: v for k, v in os.environ.items() if k != STRICT_VARIABLE}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "xladdin.cli", "run", str(master),
                           "--as-of", AS_OF.isoformat(), *options], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return {match.group(1).split(".")[0] for match in re.finditer(r"^import time:.*\|\s*([\w.]+)$", done.stderr,
                                                                  re.MULTILINE)}


def test_a_second_click_from_the_command_loads_no_heavy_library(campaign):
    computed = cold_run(campaign)
    assert "pandas" in computed  # the first run computed its figures (the checks below are not vacuous)
    clicked = cold_run(campaign)
    assert clicked.isdisjoint(HEAVY), sorted(clicked & set(HEAVY))
    assert "xladdin" in clicked and "sqlite3" in clicked  # importtime was read: the run's own modules are there


def test_a_run_that_computes_loads_neither_the_word_writer_nor_openpyxl_nor_xlwings(campaign):
    assert cold_run(campaign).isdisjoint({"docx", "openpyxl", "xlwings"})


def test_kept_frames_are_read_when_first_asked_for_and_equal_the_computed_ones(campaign, monkeypatch):
    monkeypatch.delenv(STRICT_VARIABLE, raising=False)  # as a real run: the frames left in their pickle
    first = Engine.on_file(campaign, now=RUN_AT).run(as_of=AS_OF, workers=1)
    second = Engine.on_file(campaign, now=RUN_AT).run(as_of=AS_OF, workers=1)
    assert isinstance(second, runcache.KeptResult)
    assert not set(runcache.FRAMES) & set(vars(second))  # nothing unpickled by the run itself
    entries = second.ranking_entries()  # what the command prints, from the plain part
    assert not set(runcache.FRAMES) & set(vars(second))
    assert entries == first.ranking_entries() and second.roster_entries() == first.roster_entries()
    assert second.summary.equals(first.summary) and second.ranking.equals(first.ranking)  # read on first use
    assert second.totals.equals(first.totals) and repr(second.counts) == repr(first.counts)  # NaN where no plan
    figures = ("as_of", "period_start", "ranking", "roster")  # --json's figures (the rest is the run's own files)
    assert [second.to_dict()[k] for k in figures] == [first.to_dict()[k] for k in figures]
