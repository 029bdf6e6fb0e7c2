"""The workbook-level parts a run patches besides the sheets: xl/workbook.xml (which part holds each sheet,
the defined names the add-in writes under, the flag that has Excel recalculate on open), the table parts
(their extent and columns) and the charts' series, which follow the ranges they plot.
"""

from __future__ import annotations

import re
from collections.abc import Container

from xladdin.base.schema import column_letter, parse_range
from xladdin.workbook.xmlparts import attr, escape, quoteattr, resolve, set_attr, unescape


def sheet_parts(workbook: str, rels: str) -> dict[str, str]:
    """Sheet name -> the part that holds it (e.g. xl/worksheets/sheet1.xml), from the workbook part and
    its relationships."""
    targets = {m.group(1): m.group(2) for m in re.finditer(
        r'<Relationship\b(?=[^>]*\bId="([^"]+)")(?=[^>]*\bTarget="([^"]+)")[^>]*>', rels)}
    parts: dict[str, str] = {}
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)/?>", workbook):
        name, rid = attr(m.group(1), "name"), attr(m.group(1), "r:id")
        if name is not None and rid in targets:
            parts[unescape(name)] = resolve("xl/workbook.xml", targets[rid])
    return parts


def name_target(workbook: str, name: str, sheets: Container[str]) -> tuple[str, tuple[int, int, int, int]] | None:
    """The sheet and range (min_col, min_row, max_col, max_row) a defined name points at; None when the
    workbook has no such name or it points anywhere but a cell range of one of sheets."""
    match = re.search(rf'<(?:\w+:)?definedName\b[^>]*\bname="{re.escape(name)}"[^>]*>([^<]*)<', workbook)
    if match is None:
        return None
    text = unescape(match.group(1))
    sheet, _, ref = text.rpartition("!")
    sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
    if sheet not in sheets:
        return None
    try:
        return sheet, parse_range(ref)
    except ValueError:
        return None


def set_name(workbook: str, name: str, text: str) -> str:
    """The workbook with a defined name pointing at text (a reference such as '通报'!$A$3:$A$9)."""
    return re.sub(rf'(<(?:\w+:)?definedName\b[^>]*\bname="{re.escape(name)}"[^>]*>)[^<]*(<)',
                  lambda m: m.group(1) + escape(text) + m.group(2), workbook, count=1)


def name_text(workbook: str, name: str) -> str | None:
    """The text a defined name holds (a constant such as "abc" without its quotes); None without the name."""
    match = re.search(rf'<(?:\w+:)?definedName\b[^>]*\bname="{re.escape(name)}"[^>]*>([^<]*)<', workbook)
    if match is None:
        return None
    return unescape(match.group(1)).strip().strip('"')


def put_hidden_name(workbook: str, name: str, value: str) -> str:
    """The workbook with a hidden defined name holding the text constant `value` (replaced if present)."""
    if name_text(workbook, name) is not None:
        return set_name(workbook, name, f'"{value}"')
    prefix = re.search(r"<(\w+:)?workbook\b", workbook).group(1) or ""
    entry = f'<{prefix}definedName name="{name}" hidden="1">{escape(chr(34) + value + chr(34))}</{prefix}definedName>'
    close = re.search(r"</(?:\w+:)?definedNames>", workbook)
    if close:
        return workbook[:close.start()] + entry + workbook[close.start():]
    sheets = re.search(r"</(?:\w+:)?sheets>", workbook)
    return (workbook[:sheets.end()] + f"<{prefix}definedNames>{entry}</{prefix}definedNames>"
            + workbook[sheets.end():])


def full_calc_on_load(workbook: str) -> str:
    """The workbook with fullCalcOnLoad set on its calcPr (one added after the names or sheets if none)."""
    calc = re.search(r"<(\w+:)?calcPr\b[^>]*?/?>", workbook)
    if calc:
        tag = set_attr(calc.group(0), "fullCalcOnLoad", "1")
        return workbook[:calc.start()] + tag + workbook[calc.end():]
    prefix = re.search(r"<(\w+:)?workbook\b", workbook).group(1) or ""
    anchor = re.search(r"</(?:\w+:)?definedNames>|</(?:\w+:)?sheets>", workbook)
    return workbook[:anchor.end()] + f'<{prefix}calcPr fullCalcOnLoad="1"/>' + workbook[anchor.end():]


def table_of(xml: str) -> tuple[str, str]:
    """A table part's name (its displayName) and range."""
    head = re.search(r"<(?:\w+:)?table\b([^>]*)>", xml)
    return attr(head.group(1), "displayName") or attr(head.group(1), "name"), attr(head.group(1), "ref")


def resize_table(xml: str, ref: str) -> str:
    """A table part with its range and its autoFilter's set to ref."""
    xml = re.sub(r"(<(?:\w+:)?table\b[^>]*?\sref=)\"[^\"]*\"", lambda m: f'{m.group(1)}"{ref}"', xml, count=1)
    return re.sub(r"(<(?:\w+:)?autoFilter\b[^>]*?\sref=)\"[^\"]*\"", lambda m: f'{m.group(1)}"{ref}"', xml,
                  count=1)


def set_table_columns(xml: str, labels: list[str]) -> str:
    """A table part with its column list replaced by labels, in order."""
    columns = "".join(f'<tableColumn id="{i}" name={quoteattr(label)}/>' for i, label in enumerate(labels, 1))
    return re.sub(r"<((?:\w+:)?)tableColumns\b[^>]*?(?:/>|>.*?</(?:\w+:)?tableColumns>)",
                  lambda m: f'<{m.group(1)}tableColumns count="{len(labels)}">'
                            + columns.replace("<tableColumn", f"<{m.group(1)}tableColumn")
                            + f"</{m.group(1)}tableColumns>", xml, count=1, flags=re.S)


def retarget_chart(xml: str, sheet: str, first_col: int, last_col: int, first_row: int, last_row: int) -> str:
    """A chart part with each series range on sheet that starts at first_row, within first_col..last_col,
    running down to last_row instead."""
    def retarget(match: re.Match) -> str:
        text = unescape(match.group(2))
        target, _, ref = text.rpartition("!")
        if target.strip("'").replace("''", "'") != sheet:
            return match.group(0)
        try:
            c1, r1, c2, _ = parse_range(ref)
        except ValueError:
            return match.group(0)
        if c1 < first_col or c2 > last_col or r1 != first_row:
            return match.group(0)
        new = f"{target}!${column_letter(c1)}${r1}:${column_letter(c2)}${last_row}"
        return f"{match.group(1)}{escape(new)}{match.group(3)}"

    return re.sub(r"(<(?:\w+:)?f>)([^<]*)(</(?:\w+:)?f>)", retarget, xml)
