"""Cell values as staff type them: numbers as text, dates in several spellings, 是/否, error values."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

EXCEL_ERRORS = frozenset({"#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!", "#GETTING_DATA"})

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def plain_number(value: object) -> bool:
    """Whether a cell holds what a figure column usually holds: a float, finite and not negative, which
    parse_number would take as it is (the common case, tested before the general one)."""
    return type(value) is float and 0.0 <= value < math.inf


def excel_error(value: object) -> str | None:
    """The Excel error literal a cell holds (#REF! ...), or None."""
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        return value.strip().upper()
    return None


def parse_number(value: object, unit: str = "") -> tuple[float | None, bool]:
    """(number, was_text). None when the value is not unambiguously a number.

    Text is accepted when it is a plain number once full-width digits are folded, thousands
    separators removed and the column's own unit dropped: "１２", "1,200", "12.5亩".
    """
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        return (None, False) if math.isnan(value) or math.isinf(value) else (float(value), False)
    if not isinstance(value, str):
        return None, False
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    if unit and text.endswith(unit):
        text = text[: -len(unit)]
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _PLAIN.match(text):
        return None, True
    return float(text), True


def parse_date(value: object) -> dt.date | None:
    """A date from a date cell, an Excel serial, or text like 2026-11-20, 2026/11/20, 2026年11月20日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if 20000 < value < 80000:  # a plausible Excel serial date (1954..2119)
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            value = str(int(value))
        else:
            return None
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    text = text.split("T")[0] if re.match(r"^\d{4}-\d{2}-\d{2}T", text) else text
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    return None


def parse_yesno(value: object) -> str | None:
    """是 / 否 from the ways staff write them; None when it is neither."""
    if is_blank(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text in ("是", "Y", "y", "yes", "Yes", "YES", "√", "已净地"):
        return "是"
    if text in ("否", "N", "n", "no", "No", "NO", "×", "未净地"):
        return "否"
    return None


def format_number(number: float) -> str:
    """A figure as staff write it: 12, 12.5 (never 12.0)."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def display(value: object) -> str:
    """A raw cell value as text for a message."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\n", " ").strip()
    return text if len(text) <= 40 else text[:40] + "…"
