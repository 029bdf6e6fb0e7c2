"""Column widths from content, and the print scale they lead to: what a sheet looks like on screen and on A4.

Widths follow content at each run but only ever grow: a column staff widened stays as wide, and a
column never shrinks under a figure it showed before (the simplest rule that keeps a hand-set width).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata

from xladdin.workbook.layout import MANAGED_SHEETS, PRINT_TITLE_COLUMNS, print_extent
from xladdin.workbook.master import Formula

CAP = 50.0  # no column wider than this: longer text wraps
PADDING = 2.0
DEFAULT_WIDTH = 8.43
SAMPLE = 2000  # rows looked at per column: a province's 50,000 rows are as wide as their first thousands
# A4 printable width with 0.25" side margins, in pixels at 96 dpi, and the body font the sheets use.
PRINTABLE_PX = {"landscape": (297 - 12.7) / 25.4 * 96, "portrait": (210 - 12.7) / 25.4 * 96}
BODY_PT = 11.0
MIN_PT = 9.0


def display_width(value: object) -> float:
    """Characters a value takes on screen: Chinese (wide) characters count double, the longest line counts."""
    if value is None:
        return 0.0
    if type(value) is Formula:  # a formula shows what it computes: a name, a list, a rank, a figure
        cached = value.cached
        if isinstance(cached, str) or (isinstance(cached, int) and not isinstance(cached, bool)):
            return display_width(cached)
        return 10.0
    if isinstance(value, bool):
        return 5.0
    if isinstance(value, dt.datetime):
        return 16.0 if (value.hour or value.minute) else 10.0
    if isinstance(value, dt.date):
        return 10.0
    if isinstance(value, float):
        return float(len(f"{value:,.2f}"))
    if isinstance(value, int):
        return float(len(f"{value:,}"))
    if type(value) is str and not value.startswith("="):
        return _text_width(value)
    text = str(getattr(value, "text", value))
    if text.startswith("="):
        cached = getattr(value, "cached", None)  # a formula shows what it computes: a name, a list, a rank
        if isinstance(cached, str) or (isinstance(cached, int) and not isinstance(cached, bool)):
            return display_width(cached)
        return 10.0  # a figure in the column's number format
    return _text_width(text)


@functools.lru_cache(maxsize=65536)
def _text_width(text: str) -> float:
    """display_width of a text (statuses, names and marks repeat down a column: measured once each)."""
    if text.isascii():
        return float(max((len(line) for line in text.splitlines() or [""]), default=0))
    return float(max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                      for line in text.splitlines() or [""]), default=0))


def wanted_width(values) -> float:
    """The width a column of values asks for, capped."""
    widest = 0.0
    for value in values[:SAMPLE]:  # display_width's commonest cases inline: a run measures some 70,000 values
        if value is None:
            continue
        kind = type(value)
        if kind is str and not value.startswith("="):
            width = _text_width(value)
        elif kind is Formula and type(value.cached) is str and not value.cached.startswith("="):
            width = _text_width(value.cached)
        else:
            width = display_width(value)
        if width > widest:
            widest = width
    return min(CAP, widest + PADDING) if widest else 0.0


def column_px(width: float) -> float:
    """Excel's pixels for a column width (Calibri 11 at 96 dpi: 7 px per character and 5 of padding)."""
    return math.floor(width * 7 + 5)


_COL = re.compile(r"<(\w+:)?col\b([^>]*?)/>")


def _attr(attrs: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', attrs)
    return found.group(1) if found else None


def _with(attrs: str, **values: str) -> str:
    for name, value in values.items():
        if re.search(rf'\b{name}="', attrs):
            attrs = re.sub(rf'\b{name}="[^"]*"', f'{name}="{value}"', attrs)
        else:
            attrs += f' {name}="{value}"'
    return attrs


def default_width(head: str) -> float:
    found = re.search(r'<(?:\w+:)?sheetFormatPr\b[^>]*\bdefaultColWidth="([\d.]+)"', head)
    return float(found.group(1)) if found else DEFAULT_WIDTH


def current_widths(head: str, first: int, last: int) -> dict[int, float]:
    """The width of each column first..last as the sheet's <cols> sets it."""
    widths = {c: default_width(head) for c in range(first, last + 1)}
    for match in _COL.finditer(head):
        lo, hi, width = int(_attr(match.group(2), "min")), int(_attr(match.group(2), "max")), _attr(match.group(2), "width")
        for c in range(max(lo, first), min(hi, last) + 1):
            if width is not None and _attr(match.group(2), "hidden") not in ("1", "true"):
                widths[c] = float(width)
    return widths


def widen(head: str, wanted: dict[int, float]) -> str:
    """The sheet head with each column at least as wide as wanted (never narrower than it was)."""
    prefix = (re.search(r"<(\w+:)?sheetData\b", head) or re.search(r"<(\w+:)?worksheet\b", head)).group(1) or ""
    ranges = [(int(_attr(m.group(2), "min")), int(_attr(m.group(2), "max")), m.group(2)) for m in _COL.finditer(head)]
    fallback = default_width(head)
    changed = False
    for col, width in sorted(wanted.items()):
        width = round(width, 2)
        hit = next((i for i, (lo, hi, _) in enumerate(ranges) if lo <= col <= hi), None)
        if hit is None:
            if width > fallback:
                ranges.append((col, col, f' min="{col}" max="{col}" width="{width}" customWidth="1"'))
                changed = True
            continue
        lo, hi, attrs = ranges[hit]
        now = float(_attr(attrs, "width") or fallback)
        if width <= now or _attr(attrs, "hidden") in ("1", "true"):
            continue
        pieces = []
        if lo < col:
            pieces.append((lo, col - 1, _with(attrs, min=str(lo), max=str(col - 1))))
        pieces.append((col, col, _with(attrs, min=str(col), max=str(col), width=str(width), customWidth="1")))
        if col < hi:
            pieces.append((col + 1, hi, _with(attrs, min=str(col + 1), max=str(hi))))
        ranges[hit:hit + 1] = pieces
        changed = True
    if not changed:
        return head
    cols = f"<{prefix}cols>" + "".join(f"<{prefix}col{attrs}/>" for _, _, attrs in sorted(ranges)) + f"</{prefix}cols>"
    block = re.search(r"<(\w+:)?cols\b.*?</(\w+:)?cols>", head, re.S)
    if block:
        return head[:block.start()] + cols + head[block.end():]
    at = re.search(r"<(\w+:)?sheetData\b", head).start()
    return head[:at] + cols + head[at:]


def pages_wide(widths: list[float], title_widths: list[float], orientation: str) -> int:
    """Pages across that keep the body at 9 pt or more when fitted to that many pages' width."""
    total = sum(column_px(w) for w in widths)
    titles = sum(column_px(w) for w in title_widths)
    printable = PRINTABLE_PX[orientation]
    pages = 1
    while printed_scale(total, titles, printable, pages) * BODY_PT < MIN_PT and pages < 20:
        pages += 1
    return pages


def printed_scale(total_px: float, titles_px: float, printable_px: float, pages: int) -> float:
    """The scale fit-to-width prints at: the columns (titles repeated on every page after the first) over
    the pages' width, never above 100%."""
    need = total_px + titles_px * (pages - 1)
    return min(1.0, pages * printable_px / need) if need else 1.0


def fit_print(sheet: str, head: str, tail: str) -> str:
    """Pages across for the widths as they now are, on sheets printed fitted to width (fitToPage)."""
    setup = re.search(r"<(?:\w+:)?pageSetup\b[^>]*?/>", tail)
    if setup is None or not re.search(r'<(?:\w+:)?pageSetUpPr\b[^>]*\bfitToPage="(1|true)"', head) \
            or sheet not in MANAGED_SHEETS:
        return tail
    _, last = print_extent(sheet)
    widths = list(current_widths(head, 1, last).values())
    orientation = "portrait" if 'orientation="portrait"' in setup.group(0) else "landscape"
    pages = pages_wide(widths, widths[:PRINT_TITLE_COLUMNS.get(sheet, 0)], orientation)
    tag = setup.group(0)
    tag = re.sub(r'\bfitToWidth="\d+"', f'fitToWidth="{pages}"', tag) if "fitToWidth=" in tag else \
        tag.replace("/>", f' fitToWidth="{pages}"/>')
    return tail[:setup.start()] + tag + tail[setup.end():]
