"""Rewrite the issue-code table of README.md from the catalogue (tests/test_docs.py keeps them equal)."""

from pathlib import Path

from xladdin.issues import CATALOGUE

README = Path(__file__).resolve().parent.parent / "README.md"
HEAD = "| code | severity | title |\n|---|---|---|\n"

text = README.read_text(encoding="utf-8")
start = text.index(HEAD) + len(HEAD)
end = text.index("\n## ", start)
rows = "".join(f"| `{t.code}` | {t.severity} | {t.title} |\n" for t in CATALOGUE.values())
README.write_text(text[:start] + rows + text[end:], encoding="utf-8")
