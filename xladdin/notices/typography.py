"""Chinese typography of issued text: the checker the tests run over every generated notice, and the
tidying that sentences written for the screen get before they enter a notice.

Rules (those of official documents): no space between a Han character and a digit or Latin letter;
full-width punctuation next to Han text; no bracket inside a bracket; no arrows for movement; no file
names or spreadsheet cell addresses (those belong in 校验报告).
"""

from __future__ import annotations

import functools
import re
from types import SimpleNamespace

HAN = "\u3400-\u4dbf\u4e00-\u9fff"


@functools.cache
def _rules() -> SimpleNamespace:
    """The patterns, compiled when first used (their Han ranges in look-behinds cost a cold start 12 ms)."""
    return SimpleNamespace(
        space_around=re.compile(rf"(?<=[{HAN}）】》”])[ \u00a0\u3000]+(?=[0-9A-Za-z（《“])"
                                rf"|(?<=[0-9A-Za-z%）】》”])[ \u00a0\u3000]+(?=[{HAN}（《“])"
                                rf"|(?<=[{HAN}])[ \u00a0\u3000]+(?=[{HAN}])"),
        half_punct=re.compile(rf"(?<=[{HAN}])[,;:!?()]|[,;:!?()](?=[{HAN}])"),
        file_name=re.compile(r"[^\s，。；、（）]+\.(?:xlsx|xlsm|xls|csv|docx|et|wps)\b", re.IGNORECASE),
        # A sheet-qualified address (进度台账!E5) or one named as a cell (单元格E5); a bare "G5" may be a project code.
        cell=re.compile(r"(?:!|单元格)\$?[A-Z]{1,3}\$?[1-9][0-9]{0,6}(?![0-9A-Za-z])"),
        arrows=re.compile("[↑↓←→▲▼]"),
        lone_dash=re.compile(rf"(?<=[{HAN}])\s*—(?=[，。；、）]|$)"),  # a dash standing for "no value"
    )


_FULL = str.maketrans({",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）"})


def problems(text: str) -> list[str]:
    """What breaks the rules in one text, each as a short Chinese note quoting the place (empty: clean)."""
    found, rules = [], _rules()

    def note(kind: str, match: re.Match) -> None:
        start, end = max(0, match.start() - 6), min(len(text), match.end() + 6)
        found.append(f"{kind}：…{text[start:end]}…")

    for match in rules.space_around.finditer(text):
        note("汉字与数字或字母之间有空格", match)
    for match in rules.half_punct.finditer(text):
        note("汉字旁用了半角标点", match)
    for match in rules.file_name.finditer(text):
        note("正文中出现文件名", match)
    for match in rules.cell.finditer(text):
        note("正文中出现单元格地址", match)
    for match in rules.lone_dash.finditer(text):
        note("用破折号代替“暂无”", match)
    for match in rules.arrows.finditer(text):
        note("用箭头表示升降", match)
    depth = 0
    for i, ch in enumerate(text):
        if ch in "（(":
            depth += 1
            if depth == 2:
                found.append(f"括号套括号：…{text[max(0, i - 8):i + 8]}…")
        elif ch in "）)":
            depth = max(0, depth - 1)
    return found


def tidy(text: str) -> str:
    """A screen sentence made fit for a notice: spaces between Han and digits dropped, punctuation next to
    Han made full width. (Brackets inside brackets are the writer's business: this cannot guess.)"""
    rules = _rules()
    text = rules.lone_dash.sub("暂无", text)
    text = rules.space_around.sub("", text)
    return rules.half_punct.sub(lambda m: m.group(0).translate(_FULL), text)


def unbracket(text: str) -> str:
    """Inner brackets turned into a comma clause, for text that will stand inside brackets itself."""
    return re.sub(r"（([^（）]*)）", r"，\1", text)
