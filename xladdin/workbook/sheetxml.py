"""One worksheet's rows and cells as XML text: the <sheetData> split into rows to be patched and put back
(SheetData), and the <c> element of a value (cell_xml, column_cells).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from xladdin.base.errors import MasterUnusable
from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import cell_address, column_index
from xladdin.workbook.master import ILLEGAL_CHARACTERS_RE, ColumnFormula, Formula
from xladdin.workbook.xmlparts import attr, escape

_EPOCH = dt.datetime(1899, 12, 30)
_FORMULA_ATTRS = re.compile(r"<(?:\w+:)?f\b([^>]*?)/?>")


def _text(content: str | bytes) -> str:
    """A row's cells as text (rows the writer made are kept as UTF-8)."""
    return content.decode("utf-8") if isinstance(content, bytes) else content


def _letters(text: str, at: int) -> str:
    """The column letters of a cell reference starting at `at` ('' if there are none)."""
    end = at
    while end < len(text) and end - at < 3 and "A" <= text[end] <= "Z":
        end += 1
    return text[at:end] if end < len(text) and text[end].isdigit() else ""


_UNREADABLE_SHEET = "母表的工作表结构无法识别。请从“备份”文件夹恢复。"


class SheetData:
    """The <sheetData> of one worksheet split into rows, to be patched and put back.

    A row's cells stay one string until something needs them one by one: a run rewrites whole rows
    of its tables, and parsing every cell of a large sheet only to replace it would dominate the job.
    """

    _CELL = r'<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)'

    def __init__(self, xml: str):
        match = re.search(r"<(\w+:)?sheetData\b[^>]*?(/>|>)", xml)
        if match is None:
            raise MasterUnusable(_UNREADABLE_SHEET)
        self.prefix = match.group(1) or ""
        p = re.escape(self.prefix)
        start = match.end()
        if match.group(2) == "/>":
            self.head, self.tail = xml[:match.start()] + f"<{self.prefix}sheetData>", \
                f"</{self.prefix}sheetData>" + xml[match.end():]
            start = end = 0
        else:  # the rows are found in place: a copy of a large sheet's body would double its memory
            end = xml.index(f"</{self.prefix}sheetData>", start)
            self.head, self.tail = xml[:start], xml[end:]
        # row -> [attrs, cells]: cells either the row's cell XML as one string, or {col: cell xml}
        self.rows: dict[int, list] = {}
        self._widths: dict[int, int] = {}  # row -> last column, for rows this writer filled whole
        self._fast_cell = re.compile(rf'<{p}c\b[^>]*?\br="([A-Z]{{1,3}})\d+"[^>]*?(?:/>|>.*?</{p}c>)', re.S)
        self._slow_cell = re.compile(self._CELL.format(p=p), re.S)
        self._first_ref = re.compile(rf'<{p}c\b[^>]*?\br="([A-Z]{{1,3}})\d+"')
        row_number = re.compile(r'(?:^|\s)r="(\d+)"')
        spans = re.compile(r'\sspans="[^"]*"')
        last_row = 0
        for attrs, content in self._scan_rows(xml, start, end):
            found = row_number.search(attrs)
            number = int(found.group(1)) if found else last_row + 1
            last_row = number
            self.rows[number] = [spans.sub("", attrs) if " spans=" in attrs else attrs, content]

    def _scan_rows(self, xml: str, start: int, end: int):
        """(attributes, content) of each <row> between start and end, found with str.find: a row's
        attributes never hold '>' (numbers and flags), and rows do not nest."""
        opening, closing = f"<{self.prefix}row", f"</{self.prefix}row>"
        find, pos = xml.find, start
        while True:
            at = find(opening, pos, end)
            if at < 0:
                return
            after = at + len(opening)
            if xml[after] not in " \t\r\n/>":  # another element whose name starts with "row"
                pos = after
                continue
            close = find(">", after, end)
            if close < 0:
                raise MasterUnusable(_UNREADABLE_SHEET)
            if xml[close - 1] == "/":
                yield xml[after:close - 1], ""
                pos = close + 1
            else:
                stop = find(closing, close, end)
                if stop < 0:
                    raise MasterUnusable(_UNREADABLE_SHEET)
                yield xml[after:close], xml[close + 1:stop]
                pos = stop + len(closing)

    def cells(self, row: int) -> dict[int, str]:
        """The row's cells by column, parsed now if they were not yet."""
        entry = self.rows.setdefault(row, ["", {}])
        if isinstance(entry[1], (str, bytes)):
            entry[1] = self._parse(_text(entry[1]))
            self._widths.pop(row, None)  # known from the cells from now on
        return entry[1]

    def _parse(self, content: str) -> dict[int, str]:
        p = self.prefix
        matches = list(self._fast_cell.finditer(content))
        if len(matches) == content.count(f"<{p}c ") + content.count(f"<{p}c>"):
            return {column_index(cell.group(1)): cell.group(0) for cell in matches}
        cells, last_col = {}, 0  # cells without an r attribute (allowed, rare): positions follow their order
        for cell in self._slow_cell.finditer(content):
            ref = attr(cell.group(1), "r")
            col = column_index(re.match(r"[A-Z]+", ref).group(0)) if ref else last_col + 1
            last_col = col
            cells[col] = cell.group(0)
        return cells

    def _span(self, content: str) -> tuple[int, int] | None:
        """First and last column of a row's unparsed cells (cells are in column order); None if
        there are none, (0, 0) if a cell has no reference to tell."""
        p = self.prefix
        last = max(content.rfind(f"<{p}c "), content.rfind(f"<{p}c>"))
        if last < 0:
            return None
        quick = f'<{p}c r="'  # where r comes first, as Excel, openpyxl and this writer put it
        if content.startswith(quick) and content.startswith(quick, last):
            first, final = _letters(content, len(quick)), _letters(content, last + len(quick))
            if first and final:
                return column_index(first), column_index(final)
        first, final = self._first_ref.match(content, content.find(f"<{p}c")), self._first_ref.match(content, last)
        if first is None or final is None:
            return 0, 0
        return column_index(first.group(1)), column_index(final.group(1))

    def style(self, row: int, col: int) -> str | None:
        entry = self.rows.get(row)
        if entry is None:
            return None
        xml = self.cells(row).get(col)
        return attr(xml.split(">", 1)[0], "s") if xml else None

    def put(self, row: int, col: int, xml: str | None) -> None:
        cells = self.cells(row)
        if xml is None:
            cells.pop(col, None)
        else:
            cells[col] = xml

    def shared_indexes(self, top: int, bottom: int, left: int, right: int) -> set[int]:
        """The indexes (si) of the shared formulas whose first cell lies outside rows top..bottom,
        columns left..right: a block written there may take any other index."""
        used: set[int] = set()
        for row, entry in self.rows.items():
            content = entry[1]
            if isinstance(content, dict):
                cells = [xml for col, xml in content.items() if not (top <= row <= bottom and left <= col <= right)]
            else:
                text = _text(content)
                if 't="shared"' not in text or "ref=" not in text:
                    continue
                cells = [text] if not top <= row <= bottom else [
                    xml for col, xml in self.cells(row).items() if not left <= col <= right]
            for xml in cells:
                for attrs in _FORMULA_ATTRS.findall(xml):
                    if attr(attrs, "t") == "shared" and attr(attrs, "ref") and (si := attr(attrs, "si") or "").isdigit():
                        used.add(int(si))
        return used

    def replace_run(self, row: int, left: int, right: int, cells, last: int = 0) -> None:
        """Cells left..right of a row replaced by `cells` (their XML, in column order; empty clears them),
        `last` the column of the last one."""
        entry = self.rows.get(row)
        # A row the writer makes whole is kept as UTF-8: the 作战图时间表's and 节点计划's rows (formulas
        # with the sheet's Chinese name, next to Chinese names) take two bytes a character as text.
        if entry is None:
            if cells:
                self.rows[row] = ["", "".join(cells).encode("utf-8")]
                self._widths[row] = last
            return
        if isinstance(entry[1], (str, bytes)):
            span = self._span(_text(entry[1]))
            if span is None or (left <= span[0] and span[1] <= right):  # nothing else in the row
                entry[1] = "".join(cells).encode("utf-8")
                self._widths[row] = last
                return
        existing = self.cells(row)
        for col in range(left, right + 1):
            existing.pop(col, None)
        existing.update(zip(range(left, left + len(cells)), cells))

    def chunks(self, rows_per_chunk: int = 2000):
        """The sheet XML as UTF-8 in pieces of a few thousand rows, in order, never all of it at once (the
        rows this writer made are UTF-8 already and go out as they are)."""
        p = self.prefix
        numbers = sorted(self.rows)
        last_row = last_col = 0
        for number in numbers:  # the extent first: <dimension> comes before the rows
            cells = self.rows[number][1]
            if isinstance(cells, (str, bytes)):
                width = self._widths.get(number)
                if width is None:
                    span = self._span(_text(cells)) if cells else None
                    width = span[1] if span else 0
            else:
                width = max(cells, default=0)
            if cells:
                last_row, last_col = number, max(last_col, width)
        head = self.head
        if last_row and last_col:
            ref = f"A1:{cell_address(last_row, last_col)}"
            head = re.sub(r'(<(?:\w+:)?dimension\b[^>]*?\bref=)"[^"]*"', lambda m: f'{m.group(1)}"{ref}"', head,
                          count=1)
        yield head.encode("utf-8")
        parts = []
        opening, closing = f"<{p}row".encode(), f"</{p}row>".encode()
        for number in numbers:
            attrs, cells = self.rows[number]
            content = cells if isinstance(cells, bytes) else cells.encode("utf-8") if isinstance(cells, str) \
                else "".join(cells[c] for c in sorted(cells)).encode("utf-8")
            if not content and not attrs.strip(" "):
                continue
            attrs = attrs if ' r="' in attrs or attrs.startswith('r="') else f' r="{number}"{attrs}'
            parts.append(b"%s%s>%s%s" % (opening, attrs.encode("utf-8"), content, closing))
            if len(parts) >= rows_per_chunk:
                yield b"".join(parts)
                parts = []
        yield b"".join(parts)
        yield self.tail.encode("utf-8")


def cell_xml(prefix: str, ref: str, value: object, style: str | None) -> str:
    """One <c> element; submitted text is always an inline string, never a formula."""
    s = f' s="{style}"' if style else ""
    p = prefix
    kind = type(value)
    if kind is float:
        if value != value:  # NaN
            return f'<{p}c r="{ref}"{s}/>'
        return f'<{p}c r="{ref}"{s}><{p}v>{_number(value)}</{p}v></{p}c>'
    if kind is str:
        text = _clean(value)
        if not text:  # blank, as the cell of a text never given: COUNTA and Ctrl+arrow skip it
            return f'<{p}c r="{ref}"{s}/>'
        return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{text}</{p}t>'
                f'</{p}is></{p}c>')
    if value is None:
        return f'<{p}c r="{ref}"{s}/>'
    if isinstance(value, Formula):
        return formula_cell(p, ref, s, f'<{p}f>{escape(str(value)[1:])}</{p}f>', value.cached)
    if isinstance(value, bool):
        return f'<{p}c r="{ref}"{s} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and pd.isna(value):
            return f'<{p}c r="{ref}"{s}/>'
        number = repr(float(value)) if isinstance(value, float) and not float(value).is_integer() else str(
            int(value))
        return f'<{p}c r="{ref}"{s}><{p}v>{number}</{p}v></{p}c>'
    if isinstance(value, (dt.date, dt.datetime)):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (moment - _EPOCH).total_seconds() / 86400
        number = str(int(serial)) if serial.is_integer() else repr(serial)
        return f'<{p}c r="{ref}"{s}><{p}v>{number}</{p}v></{p}c>'
    if isinstance(value, float) or (hasattr(value, "dtype") and pd.isna(value)):
        return f'<{p}c r="{ref}"{s}/>'
    return (f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">{_clean(str(value))}</{p}t>'
            f'</{p}is></{p}c>')


def formula_cell(p: str, ref: str, s: str, element: str, cached: object) -> str:
    """A formula's <c> element: `element` its <f> element, `s` its style attribute, `cached` the value
    computed for it (a date as its serial, text or NaN as text, None: no value)."""
    cached = cached.item() if hasattr(cached, "item") else cached  # numpy scalars
    if isinstance(cached, (dt.date, dt.datetime)):  # a date formula (完成日期, a week's Monday): its serial
        moment = cached if isinstance(cached, dt.datetime) else dt.datetime.combine(cached, dt.time())
        cached = (moment - _EPOCH).total_seconds() / 86400
    if isinstance(cached, bool):
        return f'<{p}c r="{ref}"{s} t="b">{element}<{p}v>{int(cached)}</{p}v></{p}c>'
    if isinstance(cached, (int, float)) and not pd.isna(cached):
        return f'<{p}c r="{ref}"{s}>{element}<{p}v>{_number(cached)}</{p}v></{p}c>'
    if isinstance(cached, str) or (isinstance(cached, float) and pd.isna(cached)):
        text = "" if not isinstance(cached, str) else _clean(cached)  # NaN: the formula's ""
        return f'<{p}c r="{ref}"{s} t="str">{element}<{p}v>{text}</{p}v></{p}c>'
    return f'<{p}c r="{ref}"{s}>{element}</{p}c>'


def _computed_cells(p: str, letter: str, top: int, values, style: str | None, elements) -> list[str]:
    """The <c> elements from row `top` down of formula cells: `elements` yields each one's <f> element,
    `values` its computed value (text, numbers and NaN in a tight loop, anything else by formula_cell)."""
    s = f' s="{style}"' if style else ""
    open_, v_open, v_close = f'<{p}c r="{letter}', f"<{p}v>", f"</{p}v></{p}c>"
    texts: dict[str, str] = {}
    out = []
    append = out.append
    for r, cached, element in zip(itertools.count(top), values, elements):
        kind = type(cached)
        if kind is str:
            shown = texts.get(cached)
            if shown is None:
                shown = texts[cached] = _clean(cached)
            append(f'{open_}{r}"{s} t="str">{element}{v_open}{shown}{v_close}')
        elif (kind is int or kind is float) and cached == cached:
            append(f'{open_}{r}"{s}>{element}{v_open}{_number(cached)}{v_close}')
        elif kind is float:  # NaN: the formula's ""
            append(f'{open_}{r}"{s} t="str">{element}{v_open}{v_close}')
        else:
            append(formula_cell(p, f"{letter}{r}", s, element, cached))
    return out


def column_cells(prefix: str, letter: str, top: int, values: list[object], style: str | None,
                  kinds: set[type]) -> list[str]:
    """The <c> elements of one column from row `top` down (`kinds`: the types of its values): a column
    of numbers or of text (the usual managed column) in one tight loop, anything else cell by cell."""
    p, s = prefix, f' s="{style}"' if style else ""
    if kinds <= {float, int, type(None)}:
        empty, open_, close = f'"{s}/>', f'<{p}c r="{letter}', f'</{p}v></{p}c>'
        return [f"{open_}{r}{empty}" if v is None or v != v else
                f'{open_}{r}"{s}><{p}v>{_number(v)}{close}' for r, v in enumerate(values, top)]
    if kinds <= {dt.date, type(None)}:
        empty, open_, close = f'"{s}/>', f'<{p}c r="{letter}', f'</{p}v></{p}c>'
        epoch = _EPOCH.date()
        return [f"{open_}{r}{empty}" if v is None else f'{open_}{r}"{s}><{p}v>{(v - epoch).days}{close}'
                for r, v in enumerate(values, top)]
    if kinds <= {str, type(None)}:
        texts = [v or "" for v in values]
        joined = "\x1f".join(texts)
        if ILLEGAL_CHARACTERS_RE.search(joined):
            texts = [ILLEGAL_CHARACTERS_RE.sub("", t) for t in texts]
        if "&" in joined or "<" in joined or ">" in joined:
            texts = [escape(t) for t in texts]
        open_ = f'<{p}c r="{letter}'
        text_open, text_close = f'"{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">', f"</{p}t></{p}is></{p}c>"
        return [f'{open_}{r}"{s}/>' if not t else f"{open_}{r}{text_open}{t}{text_close}"
                for r, t in zip(range(top, top + len(values)), texts)]
    if kinds <= {Formula, type(None)}:
        return _formula_cells(p, letter, top, values, style)
    return [cell_xml(p, f"{letter}{r}", v, style) for r, v in enumerate(values, top)]


def _formula_cells(p: str, letter: str, top: int, values: list[object], style: str | None) -> list[str]:
    """column_cells for a column of formulas (the 节点计划's dates, the 作战图时间表's weeks: hundreds of
    thousands at city size): what cell_xml writes, without its type tests per cell; a formula with
    another kind of cached value, or with a character no XML part may hold, goes through cell_xml."""
    s = f' s="{style}"' if style else ""
    open_, f_open, f_close, v_open, v_close = f'<{p}c r="{letter}', f"<{p}f>", f"</{p}f>", f"<{p}v>", f"</{p}v></{p}c>"
    search = ILLEGAL_CHARACTERS_RE.search
    texts: dict[str, str] = {}
    out = []
    append = out.append
    for r, v in enumerate(values, top):
        if v is None:
            append(f'{open_}{r}"{s}/>')
            continue
        cached = v.cached
        kind = type(cached)
        if (kind is not str and kind is not int and kind is not float) or search(v):
            append(cell_xml(p, f"{letter}{r}", v, style))
            continue
        text = v[1:]
        if "&" in text:
            text = text.replace("&", "&amp;")
        if "<" in text:
            text = text.replace("<", "&lt;")
        if ">" in text:
            text = text.replace(">", "&gt;")
        if kind is str:
            shown = texts.get(cached)
            if shown is None:
                shown = texts[cached] = _clean(cached)
            append(f'{open_}{r}"{s} t="str">{f_open}{text}{f_close}{v_open}{shown}{v_close}')
        elif cached != cached:  # NaN: the formula's ""
            append(f'{open_}{r}"{s} t="str">{f_open}{text}{f_close}{v_open}{v_close}')
        else:
            append(f'{open_}{r}"{s}>{f_open}{text}{f_close}{v_open}{_number(cached)}{v_close}')
    return out


def formula_column_cells(p: str, letter: str, top: int, values: list[object], style: str | None,
                         formula: ColumnFormula, offset: int) -> list[str]:
    """column_cells for a column of a ColumnFormula written cell by cell (with a text per row, as the
    节点计划's 计划 and 完成, or a single row): what _formula_cells writes for
    Formula(formula.at(offset + k), values[k]), without the objects. `values` the computed values from row
    `top` down, `offset` the first one's index in the table."""
    template, first = formula.template, formula.first
    args = formula.args if formula.args is not None else [""] * (offset + len(values))  # a row's number only
    if ILLEGAL_CHARACTERS_RE.search(template + "".join(set(args[offset:offset + len(values)]))):
        return [cell_xml(p, f"{letter}{r}", Formula(formula.at(offset + k), v), style)
                for k, (r, v) in enumerate(enumerate(values, top))]
    # The template as str.format's positions ({0} the row, {1} the text): quicker per cell than a mapping.
    template = re.sub(r"%\(r\)d|%\(a\)s|%%", lambda m: {"%(r)d": "{0}", "%(a)s": "{1}", "%%": "%"}[m.group(0)],
                      escape(template[1:]).replace("{", "{{").replace("}", "}}"))
    form = f"<{p}f>{template}</{p}f>".format
    shown: dict[str, str] = {}

    def elements():
        for i in range(offset, offset + len(values)):
            arg = args[i]
            text = shown.get(arg)
            if text is None:
                text = shown[arg] = escape(arg)
            yield form(first + i, text)

    return _computed_cells(p, letter, top, values, style, elements())


def shared_formula_cells(p: str, letter: str, top: int, values: list[object], style: str | None, si: int,
                         master: tuple[str, str] | None) -> list[str]:
    """column_cells for a column of one shared formula (ColumnFormula): `values` the computed values from
    row `top` down; `master` (the formula's text with its '=', the column's range) when `top` is the
    group's first row, whose cell carries the text once; every other cell only the group's index `si`."""
    shared = itertools.repeat(f'<{p}f t="shared" si="{si}"/>')
    if master is not None:
        first = f'<{p}f t="shared" ref="{master[1]}" si="{si}">{escape(_clean_formula(master[0][1:]))}</{p}f>'
        shared = itertools.chain((first,), shared)
    return _computed_cells(p, letter, top, values, style, shared)


def _clean_formula(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text) if ILLEGAL_CHARACTERS_RE.search(text) else text


def _number(value: float | int) -> str:
    if type(value) is int:
        return str(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _clean(text: str) -> str:
    """Text as XML character data: illegal control characters dropped, markup escaped."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return escape(text)
