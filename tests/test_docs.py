"""The README stays true: its two commands, every issue code, every command."""

from __future__ import annotations

from pathlib import Path

from xladdin.cli import main
from xladdin.issues import CATALOGUE

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_lists_every_issue_code():
    for code in CATALOGUE:
        assert f"`{code}`" in README


def test_readme_documents_every_command():
    for name in main.commands:
        assert f"xladdin {name}" in README


def test_ci_runs_the_readme_test_command():
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    test_command = [line for line in block.splitlines() if "pytest" in line][0].strip()
    assert test_command in CI
