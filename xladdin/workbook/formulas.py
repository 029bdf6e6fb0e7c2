"""The 红黑榜 as Excel formulas over the 汇总 table: portable to Excel 2010+, WPS and LibreOffice.

Every value, rank, flag and movement is a formula staff can click and audit; list sizes and weights
are read live from 设置 through defined names. The lint at the bottom checks that every formula the
add-in writes uses only functions Excel 2010 has, with the `_xlfn.` prefix where Excel needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xladdin.base.schema import (
    INDUSTRIAL,
    METRICS,
    NET_AT_START,
    SHEET_RANKING,
    SHEET_SUMMARY,
    SUMMARY_FIELDS,
    YES,
    column_letter,
)
from xladdin.domain.rank import AVERAGE_DIGITS, BELOW, ROUND_DIGITS
from xladdin.domain.settings import SETTING_NAMES, WEIGHT_KEYS, Settings
from xladdin.workbook.layout import RANKING_KEYS

RED_K = SETTING_NAMES["红榜数量"]
BLACK_K = SETTING_NAMES["黑榜数量"]
WEIGHT_NAMES = [SETTING_NAMES[label] for label in WEIGHT_KEYS.values()]


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


def rank_formula(value: str, column: str, dense: bool, ascending: bool = False) -> str:
    """Rank of a cell among a column's numbers (text and blanks ignored), as an expression."""
    if not dense:
        return f"_xlfn.RANK.EQ({value},{column},{1 if ascending else 0})"
    # 中国式排名: 1 + the number of distinct numbers above (or below) the value.
    compare = "<" if ascending else ">"
    return f"SUMPRODUCT(ISNUMBER({column})*({column}{compare}{value})/COUNTIF({column},{column}&\"\"))+1"


def list_flag(value: str, column: str, by_rank: bool = False) -> str:
    """红榜/黑榜/blank for a value among a column's numbers: rank.decide_lists as an expression.

    Black first: the units at or below the value fit in the black list's places (= RANK.EQ > n − places),
    or the value is 0 and some unit is above 0 (under 前后K名: or the value is the lowest and some unit is
    above it); then red for a value above 0 whose RANK.EQ is within the
    red places (前后K名) or whose units at or above it fit in them (不超过三分之一). Places: K under
    前后K名, MIN(K, INT(n/3)) and at least 1 under the third rule; none when n < 2.
    """
    ranked = f"COUNT({column})"

    def places(k: str) -> str:
        return f"IF({ranked}<2,0,{k})" if by_rank else f"IF({ranked}<2,0,MAX(1,MIN({k},INT({ranked}/3))))"

    below = f"SUMPRODUCT(ISNUMBER({column})*({column}<={value}))"
    zero = f"AND({value}=0,MAX({column})>0)"
    if by_rank:  # 倒数第一 (alone or tied) where another unit is above it
        zero = f"OR({zero},AND({value}=MIN({column}),MAX({column})>{value}))"
    red_place = (f"_xlfn.RANK.EQ({value},{column},0)" if by_rank
                 else f"SUMPRODUCT(ISNUMBER({column})*({column}>={value}))")
    return (f"IF(ISNUMBER({value}),IF(OR({below}<={places(BLACK_K)},{zero}),\"黑榜\","
            f"IF(AND({value}>0,{red_place}<={places(RED_K)}),\"红榜\",\"\")),\"\")")


def ranking_rows(units: list[str], previous: dict[str, dict[str, float]], summary: SummaryRange,
                 settings: Settings, first_row: int, first_col: int = 1,
                 streaks: dict[str, dict[str, int]] | None = None,
                 pooled: dict[str, float] | None = None) -> list[list[object]]:
    """The 红黑榜 table body: per unit its name, formulas for every figure, and as values last period's
    ranks, the periods in a row on a list (streaks: unit -> metric -> count, from the store) and, when
    设置 › 平均水平口径 = 合计, the pooled averages (`pooled`: metric -> rate, as the run computed them)."""
    col = {key: column_letter(first_col + i) for i, key in enumerate(RANKING_KEYS)}
    last_row = first_row + max(1, len(units)) - 1
    unit_range = summary.column(settings.rank_unit_key)
    plan, acquired = summary.column("plan_mu"), summary.column("acquired_mu")
    progress, net, kind = summary.column("progress"), summary.column("net_land"), summary.column("project_type")
    rows = []
    for offset, unit in enumerate(units):
        r = first_row + offset
        cell = {key: f"{col[key]}{r}" for key in RANKING_KEYS}
        span = {key: f"{col[key]}${first_row}:{col[key]}${last_row}" for key in RANKING_KEYS}
        by_unit = f"{unit_range},${col['unit']}{r}"
        count = f"COUNTIF({unit_range},${col['unit']}{r})"
        progress_projects = (f"({count}-COUNTIFS({by_unit},{progress},\"{NET_AT_START}\"))"
                             if settings.leave_out_net_at_start else count)
        industrial = f"{by_unit},{kind},\"{INDUSTRIAL}\""
        net_rate = (_rate(f"SUMIFS({plan},{by_unit},{net},\"{YES}\")", f"SUMIFS({plan},{by_unit})")
                    if settings.net_land_basis == "面积" else _rate(f"COUNTIFS({by_unit},{net},\"{YES}\")", count))
        values = {
            "unit": unit,
            "acquisition_rate": _rate(f"SUMIFS({acquired},{by_unit})", f"SUMIFS({plan},{by_unit})"),
            "progress_ratio": _rate(f"COUNTIFS({by_unit},{progress},\"{YES}\")", progress_projects),
            "net_land_rate": net_rate,
            "industrial_rate": _rate(f"SUMIFS({acquired},{industrial})", f"SUMIFS({plan},{industrial})"),
        }
        for key, label in METRICS:
            value, rank = cell[key], cell[f"{key}_rank"]
            values[f"{key}_rank"] = f"=IF(ISNUMBER({value}),{rank_formula(value, span[key], settings.dense)},\"\")"
            values[f"{key}_flag"] = "=" + list_flag(value, span[key], settings.by_rank)
            values[f"{key}_prev"] = previous.get(unit, {}).get(key)
            prev = cell[f"{key}_prev"]
            average = cell[f"{key}_average"]
            # 设置 › 平均水平口径 = 合计: the pooled rate, a value from the run (rank.pooled_rates)
            values[f"{key}_average"] = (pooled.get(key) if pooled is not None else
                                        f"=IF(COUNT({span[key]})>0,ROUND(AVERAGE({span[key]}),{AVERAGE_DIGITS}),\"\")")
            values[f"{key}_below"] = f"=IF(ISNUMBER({value}),IF({value}<{average},\"{BELOW}\",\"\"),\"\")"
            values[f"{key}_streak"] = (streaks or {}).get(unit, {}).get(key, 0)
            values[f"{key}_move"] = (f"=IF(ISNUMBER({rank}),IF(ISNUMBER({prev}),IF({prev}>{rank},\"↑\"&({prev}-{rank}),"
                                     f"IF({prev}<{rank},\"↓\"&({rank}-{prev}),\"—\")),\"新\"),\"\")")
        values["list_text"] = "=" + _list_text([(cell[f"{key}_flag"], label) for key, label in METRICS])
        weighted = "+".join(f"{w}*N({cell[key]})" for w, (key, _) in zip(WEIGHT_NAMES, METRICS))
        present = "+".join(f"{w}*ISNUMBER({cell[key]})" for w, (key, _) in zip(WEIGHT_NAMES, METRICS))
        values["composite"] = f"=IF(({present})>0,ROUND(({weighted})/({present}),{ROUND_DIGITS}),\"\")"
        values["composite_rank"] = (f"=IF(ISNUMBER({cell['composite']}),"
                                    f"{rank_formula(cell['composite'], span['composite'], settings.dense)},\"\")")
        rows.append([values[key] for key in RANKING_KEYS])
    return rows


def sorted_rows(ranking_rows: int, ranked: int, key: str, first_row: int, first_col: int, keys_row: int,
                keys_col: int) -> list[list[str]]:
    """One metric's block of the 红黑榜 as read out: for k = 1..ranked, the unit with the k-th smallest
    sort key (rank + ROW()/100000, so ties keep the 红黑榜's order): its rank, name, value and list.

    SMALL over the helper column and MATCH back to its row: no array formula, Excel 2010 functions."""
    col = {k: column_letter(first_col + i) for i, k in enumerate(RANKING_KEYS)}
    last_row = first_row + max(1, ranking_rows) - 1
    letter = column_letter(keys_col + 1 + [k for k, _ in METRICS].index(key))
    keys = f"${letter}${keys_row}:${letter}${keys_row + max(1, ranking_rows) - 1}"

    def column(name: str) -> str:
        return f"'{SHEET_RANKING}'!${col[name]}${first_row}:${col[name]}${last_row}"

    rows = []
    for k in range(1, ranked + 1):
        at = f"MATCH(SMALL({keys},{k}),{keys},0)"
        rows.append([f"=IFERROR(INDEX({column(name)},{at}),\"\")"
                     for name in (f"{key}_rank", "unit", key, f"{key}_flag")])
    return rows


def sort_key_rows(ranking_rows: int, first_row: int, first_col: int, keys_row: int) -> list[list[str]]:
    """The helper table of the sorted view: per 红黑榜 row its unit and, per metric, rank + ROW()/100000
    (blank when the unit is not ranked on it); ROW() is the helper's own row, which follows the 红黑榜's."""
    col = {k: column_letter(first_col + i) for i, k in enumerate(RANKING_KEYS)}
    rows = []
    for offset in range(ranking_rows):
        r = first_row + offset
        rank = {key: f"'{SHEET_RANKING}'!${col[f'{key}_rank']}${r}" for key, _ in METRICS}
        rows.append([f"='{SHEET_RANKING}'!${col['unit']}${r}",
                     *(f"=IF(ISNUMBER({rank[key]}),{rank[key]}+ROW()/{SORT_KEY_SCALE},\"\")" for key, _ in METRICS)])
    return rows


SORT_KEY_SCALE = 100000  # more rows than any 红黑榜 has units: the key's fraction never reaches the next rank


def _rate(numerator: str, denominator: str) -> str:
    return f"=IF({denominator}>0,ROUND({numerator}/{denominator},{ROUND_DIGITS}),\"\")"


def _joined(flags: list[tuple[str, str]], word: str) -> str:
    """'征地完成率、净地完成率' for the metrics whose flag cell says `word` (labels contain no spaces)."""
    pieces = "&".join(f"IF({flag}=\"{word}\",\"{label} \",\"\")" for flag, label in flags)
    return f"SUBSTITUTE(TRIM({pieces}),\" \",\"、\")"


def _list_text(flags: list[tuple[str, str]]) -> str:
    parts = []
    for word in ("红榜", "黑榜"):
        any_flag = "OR(" + ",".join(f"{flag}=\"{word}\"" for flag, _ in flags) + ")"
        parts.append(f"IF({any_flag},\"{word}：\"&{_joined(flags, word)},\"\")")
    return f"TRIM({parts[0]}&\" \"&{parts[1]})"


# -- lint -------------------------------------------------------------------------------------------

# Functions the add-in may write: all in Excel 2007 (no prefix needed) ...
EXCEL_2007 = frozenset({"SUMIFS", "COUNTIFS", "COUNTIF", "SUMPRODUCT", "ROUND", "IF", "ISNUMBER", "AND", "OR",
                        "NOT", "SMALL", "LARGE", "MIN", "MAX", "COUNT", "TRIM", "SUBSTITUTE", "N", "SUM",
                        "IFERROR", "INDEX", "MATCH", "TODAY", "HYPERLINK", "TEXT", "ABS", "DATE", "LEN", "INT",
                        "AVERAGE", "REPT", "WEEKDAY", "SEARCH", "ROW", "ASC", "ISTEXT", "ISERROR", "VALUE",
                        "EXACT", "COUNTA", "SUMIF"})
# ... and functions new in Excel 2010, which must carry the _xlfn. prefix in the file.
EXCEL_2010 = frozenset({"RANK.EQ", "RANK.AVG"})
# Never: later than Excel 2010, or not in WPS/LibreOffice alike.
FORBIDDEN = frozenset({"XLOOKUP", "FILTER", "SORTBY", "SORT", "UNIQUE", "LET", "LAMBDA", "TEXTJOIN", "CONCAT",
                       "IFS", "SWITCH", "MAXIFS", "MINIFS", "SEQUENCE", "XMATCH"})
_CALL = re.compile(r"(?<![A-Za-z0-9_.\"])((?:_xlfn\.|_xlws\.)?[A-Za-z][A-Za-z0-9.]*)\s*\(")
_STRING = re.compile(r'"(?:[^"]|"")*"')


def lint_formula(formula: str) -> list[str]:
    """Problems with one formula (empty when it is portable)."""
    problems = []
    for name in _CALL.findall(_STRING.sub('""', formula)):
        bare = name.split(".", 1)[1] if name.startswith(("_xlfn.", "_xlws.")) else name
        upper = bare.upper()
        if upper in FORBIDDEN:
            problems.append(f"{bare} is not available in Excel 2010")
        elif upper in EXCEL_2010 and not name.startswith("_xlfn."):
            problems.append(f"{bare} needs the _xlfn. prefix")
        elif upper not in EXCEL_2007 | EXCEL_2010:
            problems.append(f"{bare} is not on the list of portable functions")
    return problems
