"""The 红黑榜 as Excel formulas over the 汇总 table: portable to Excel 2010+, WPS and LibreOffice.

Only SUMIFS, COUNTIF(S), ROUND, IF, ISNUMBER, AND, OR, NOT, SMALL, MIN, COUNT, TRIM, SUBSTITUTE and
_xlfn.RANK.EQ; every reference absolute or row-relative so that staff can audit a cell by clicking it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rank import ROUND_DIGITS
from ..schema import INDUSTRIAL, METRICS, SHEET_SUMMARY, SUMMARY_FIELDS, YES, column_letter
from ..settings import SETTING_NAMES

RED_K = SETTING_NAMES["红榜数量"]
BLACK_K = SETTING_NAMES["黑榜数量"]


@dataclass(frozen=True)
class SummaryRange:
    """Where the 汇总 data rows are: first column and the first/last data row on the sheet."""

    first_col: int
    first_row: int
    last_row: int

    def column(self, key: str) -> str:
        index = [k for k, _, _ in SUMMARY_FIELDS].index(key)
        letter = column_letter(self.first_col + index)
        return f"'{SHEET_SUMMARY}'!${letter}${self.first_row}:${letter}${self.last_row}"


def ranking_formulas(summary: SummaryRange, unit_key: str, first_row: int, units: int,
                     first_col: int = 1) -> list[list[str]]:
    """One row of formulas per unit: values and ranks per metric, then 榜单."""
    unit_range = summary.column(unit_key)
    plan = summary.column("plan_mu")
    acquired = summary.column("acquired_mu")
    progress = summary.column("progress")
    net = summary.column("net_land")
    kind = summary.column("project_type")
    last_row = first_row + units - 1
    unit_col = column_letter(first_col)
    rows = []
    for r in range(first_row, last_row + 1):
        unit = f"${unit_col}{r}"
        by_unit = f"{unit_range},{unit}"
        industrial = f"{by_unit},{kind},\"{INDUSTRIAL}\""
        values = {
            "acquisition_rate": _rate(f"SUMIFS({acquired},{by_unit})", f"SUMIFS({plan},{by_unit})"),
            "progress_ratio": _rate(f"COUNTIFS({by_unit},{progress},\"{YES}\")", f"COUNTIF({unit_range},{unit})"),
            "net_land_rate": _rate(f"SUMIFS({plan},{by_unit},{net},\"{YES}\")", f"SUMIFS({plan},{by_unit})"),
            "industrial_rate": _rate(f"SUMIFS({acquired},{industrial})", f"SUMIFS({plan},{industrial})"),
        }
        cells: list[str] = []
        red_flags, black_flags = [], []
        for i, (key, label) in enumerate(METRICS):
            value_col = column_letter(first_col + 1 + 2 * i)
            rank_col = column_letter(first_col + 2 + 2 * i)
            value, rank = f"{value_col}{r}", f"{rank_col}{r}"
            column = f"{value_col}${first_row}:{value_col}${last_row}"
            cells.append(values[key])
            cells.append(f"=IF(ISNUMBER({value}),_xlfn.RANK.EQ({value},{column},0),\"\")")
            red = f"AND(ISNUMBER({rank}),{rank}<={RED_K})"
            black = (f"AND(ISNUMBER({value}),{value}<=SMALL({column},MIN({BLACK_K},COUNT({column}))),"
                     f"NOT({red}))")
            red_flags.append((red, label))
            black_flags.append((black, label))
        cells.append("=" + _list_text(red_flags, black_flags))
        rows.append(cells)
    return rows


def _rate(numerator: str, denominator: str) -> str:
    return f"=IF({denominator}>0,ROUND({numerator}/{denominator},{ROUND_DIGITS}),\"\")"


def _joined(flags: list[tuple[str, str]]) -> str:
    """'征地完成率、净地完成率' for the flags that hold (labels contain no spaces)."""
    pieces = "&".join(f"IF({cond},\"{label} \",\"\")" for cond, label in flags)
    return f"SUBSTITUTE(TRIM({pieces}),\" \",\"、\")"


def _list_text(red: list[tuple[str, str]], black: list[tuple[str, str]]) -> str:
    any_red = "OR(" + ",".join(c for c, _ in red) + ")"
    any_black = "OR(" + ",".join(c for c, _ in black) + ")"
    return (f"TRIM(IF({any_red},\"红榜：\"&{_joined(red)},\"\")&\" \"&"
            f"IF({any_black},\"黑榜：\"&{_joined(black)},\"\"))")
