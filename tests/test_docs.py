"""The README stays true and short: its two commands, every command; the issue-code table of
docs/issue-codes.md is the catalogue's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from xladdin.base.issues import CATALOGUE
from xladdin.cli import main
from xladdin.domain.settings import TABLE

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
CODES = (ROOT / "docs" / "issue-codes.md").read_text(encoding="utf-8")


def _doc_tables():
    spec = importlib.util.spec_from_file_location("doc_tables", ROOT / "scripts" / "doc_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_issue_code_table_is_generated_from_the_catalogue():
    assert _doc_tables().codes_table() in CODES  # regenerate with: python scripts/doc_tables.py
    for code in CATALOGUE:
        assert f"`{code}`" in CODES


def test_the_settings_doc_is_generated_from_the_settings_table():
    settings_doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert _doc_tables().settings_table() in settings_doc  # regenerate with: python scripts/doc_tables.py
    for setting in TABLE:
        assert f"| {setting.key} |" in settings_doc


def test_readme_documents_every_command():
    for name in main.commands:
        assert f"xladdin {name}" in README


def test_readme_is_an_orientation():
    assert len(README.encode("utf-8")) < 10 * 1024
    for linked in ("docs/reference.md", "docs/issue-codes.md", "docs/settings.md", "benchmarks/README.md",
                   "docs/在Excel中使用.md"):
        assert linked in README and (ROOT / linked).is_file()


def test_ci_runs_the_readme_test_command():
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    test_command = [line for line in block.splitlines() if "pytest" in line][0].strip()
    assert test_command in CI
