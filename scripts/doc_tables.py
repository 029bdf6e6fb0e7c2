"""Rewrite the tables of docs/ that come from the package's own tables (tests/test_docs.py keeps them equal):
docs/issue-codes.md from the issue catalogue, docs/settings.md from the 设置 table."""

from pathlib import Path

from xladdin.base.issues import CATALOGUE
from xladdin.domain.settings import TABLE

DOCS = Path(__file__).resolve().parent.parent / "docs"
CODES = DOCS / "issue-codes.md"
SETTINGS = DOCS / "settings.md"
CODES_HEAD = "| code | severity | title |\n|---|---|---|\n"
SETTINGS_HEAD = "| 设置项 | 默认值 | 填写 | 说明 | 定义名称 |\n|---|---|---|---|---|\n"
KINDS = {"text": "文字", "text-or-blank": "文字，可留空", "int": "不小于 1 的整数", "ratio": "小数，如 0.3",
         "date": "日期，可留空", "time": "时间，如 21:00", "zone": "时区，如 UTC+8", "weight": "数字，可留空"}


def codes_table() -> str:
    return CODES_HEAD + "".join(f"| `{t.code}` | {t.severity} | {t.title} |\n" for t in CATALOGUE.values())


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def settings_table() -> str:
    rows = []
    for s in TABLE:
        kind = "、".join(s.choices) if s.kind == "choice" else KINDS[s.kind]
        default = "（空）" if s.default in (None, "") else s.default
        rows.append(f"| {s.key} | {_cell(default)} | {kind} | {_cell(s.note)} | {f'`{s.name}`' if s.name else ''} |\n")
    return SETTINGS_HEAD + "".join(rows)


def _replace(path: Path, head: str, table: str) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index(head)
    end = text.find("\n\n", start)
    end = len(text) if end < 0 else end + 1
    path.write_text(text[:start] + table + text[end:], encoding="utf-8")


if __name__ == "__main__":
    _replace(CODES, CODES_HEAD, codes_table())
    _replace(SETTINGS, SETTINGS_HEAD, settings_table())
