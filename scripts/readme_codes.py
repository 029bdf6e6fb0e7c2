"""Rewrite docs/issue-codes.md's table from the catalogue (tests/test_docs.py keeps them equal)."""

from pathlib import Path

from xladdin.issues import CATALOGUE

CODES = Path(__file__).resolve().parent.parent / "docs" / "issue-codes.md"
HEAD = "| code | severity | title |\n|---|---|---|\n"


def table() -> str:
    return HEAD + "".join(f"| `{t.code}` | {t.severity} | {t.title} |\n" for t in CATALOGUE.values())


if __name__ == "__main__":
    text = CODES.read_text(encoding="utf-8")
    start = text.index(HEAD)
    end = text.index("\n\n", start) + 1 if "\n\n" in text[start:] else len(text)
    CODES.write_text(text[:start] + table() + text[end:], encoding="utf-8")
