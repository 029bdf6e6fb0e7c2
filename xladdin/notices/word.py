"""The notices as Word documents: the 通报 and 督查日报 in the GB/T 9704 layout, the 专报 one page per leader."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from pathlib import Path

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm, Pt, RGBColor, Twips
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from xladdin.notices.compose import KIND_WORDS, Notice, section_number

TITLE_FONT, HEADING_FONT, BODY_FONT, FOOTER_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312", "宋体"
RED = RGBColor(0xE6, 0x00, 0x12)
A4, A4_LANDSCAPE = (210, 297), (297, 210)  # millimetres, width by height


def write_docx(notice: Notice, path: Path) -> Path:
    """The notice as a Word document in the GB/T 9704 layout: the issuer in red over the 期数 and a red
    rule (版头); the title in 小标宋 二号 centred; body in 仿宋_GB2312 三号, two-character indent, 28-point
    lines, section headings in 黑体; issuer and date at the bottom right; the 红黑榜 as a 附表 on its own
    page; 抄送 at the end; page numbers "— 1 —" (a PAGE field) in 宋体 四号 at the foot."""
    document = Document()
    _page_setup(document.sections[0], A4, margins=(37, 35, 28, 26))
    _masthead(document, notice)
    _title(document, notice)
    _body(document, notice)
    formal = "附件：" in "".join(notice.lines())  # the 附件说明 and 印发 line when the notice has them
    if formal:
        _annex_note(document, notice)
    _signature(document, notice)
    if notice.table:
        _appendix(document, notice)
    if notice.annexes:
        _annexes(document, notice)
    if notice.header.cc or formal:
        _imprint(document, notice, formal)
    return _save(document, path)


def write_leader_docx(notices: list[Notice], path: Path) -> Path:
    """The 专报: one page per leader (title, sections, the projects table), page numbers at the foot."""
    document = Document()
    _page_setup(document.sections[0], A4, margins=(30, 28, 28, 26))
    for i, notice in enumerate(notices):
        if i:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _leader_page(document, notice)
    return _save(document, path)


def _save(document: WordDocument, path: Path) -> Path:
    """Page numbers at the foot, then the file (its folder made if need be)."""
    _page_number_footer(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path


def _page_setup(section: Section, size: tuple[int, int], margins: tuple[int, int, int, int]) -> None:
    """Paper size (width, height) and margins (top, bottom, left, right), in millimetres."""
    section.page_width, section.page_height = Mm(size[0]), Mm(size[1])
    top, bottom, left, right = margins
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)


def _run(paragraph: Paragraph, text: str, font: str, size: float, *, bold: bool | None = None,
         color: RGBColor | None = None) -> Run:
    """Text in one font for Latin and Chinese alike, at a size in points; bold and colour only when given."""
    run = paragraph.add_run(text)
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def _official_run(paragraph: Paragraph, text: str, font: str, size: float, color: RGBColor | None = None) -> Run:
    """A run of the 通报: never bold (the typeface carries the weight), red only in the 版头."""
    return _run(paragraph, text, font, size, bold=False, color=color)


def _paragraph(document: WordDocument, align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = True,
               exact: float | None = 28) -> Paragraph:
    """A new paragraph of the 通报: no space around it, lines exactly `exact` points apart (single when None),
    the first line indented two characters of 三号 unless `indent` is false."""
    paragraph = document.add_paragraph()
    fmt = paragraph.paragraph_format
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(exact)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(32)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _rule(paragraph: Paragraph, color: str = "E60012", size: int = 12) -> None:
    """A line under the paragraph (its bottom border), `size` in eighths of a point."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1"), ("w:color", color)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _masthead(document: WordDocument, notice: Notice) -> None:
    """版头: the issuer and the kind of notice in red 小标宋, the 期数 over a red rule, a blank line."""
    head = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=None)
    _official_run(head, notice.header.full_issuer + KIND_WORDS[notice.kind], TITLE_FONT, 26, color=RED)
    number = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _official_run(number, notice.number_text or " ", BODY_FONT, 16)
    _rule(number)
    _paragraph(document, indent=False)


def _title(document: WordDocument, notice: Notice) -> None:
    """The title in 小标宋 二号, centred, then a blank line."""
    title = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=36)
    _official_run(title, notice.title, TITLE_FONT, 22)
    _paragraph(document, indent=False)


def _body(document: WordDocument, notice: Notice) -> None:
    """主送 (not indented), the opening, the numbered sections with their headings in 黑体, the closing."""
    for i, text in enumerate(notice.body()):
        paragraph = _paragraph(document, WD_ALIGN_PARAGRAPH.JUSTIFY, indent=not (i == 0 and notice.header.to))
        heading = _section_heading(notice, text)
        if heading:
            _official_run(paragraph, heading, HEADING_FONT, 16)
            text = text[len(heading):]
        _official_run(paragraph, text, BODY_FONT, 16)


def _section_heading(notice: Notice, text: str) -> str:
    """"一、总体进展。" when the paragraph is a numbered section of the notice, else ""."""
    return next((f"{section_number(j)}{heading}。" for j, (heading, _) in enumerate(notice.sections)
                 if text.startswith(f"{section_number(j)}{heading}。")), "")


def _signature(document: WordDocument, notice: Notice) -> None:
    """落款: a blank line, then the issuer and the date at the right, two characters in from the margin."""
    _paragraph(document, indent=False)
    for text in (notice.header.full_issuer, notice.date_text):
        paragraph = _paragraph(document, WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        paragraph.paragraph_format.right_indent = Pt(64)
        _official_run(paragraph, text, BODY_FONT, 16)


def _annex_note(document: WordDocument, notice: Notice) -> None:
    """附件说明 (GB/T 9704 7.3.4): a blank line after the text, then 附件：1．… two characters in, the further
    titles aligned under the first."""
    _paragraph(document, indent=False)
    for i, text in enumerate(notice.annex_note()):
        paragraph = _paragraph(document, WD_ALIGN_PARAGRAPH.LEFT, indent=False)
        fmt = paragraph.paragraph_format
        fmt.left_indent = Pt(32 + 48 + 24)  # a wrapped title under its own first character
        fmt.first_line_indent = Pt(-24) if i else Pt(-48 - 24)  # the numbers under each other, past "附件："
        _official_run(paragraph, text.lstrip("　"), BODY_FONT, 16)


def _appendix(document: WordDocument, notice: Notice) -> None:
    """附表 on pages of its own turned sideways (the table is wide): the label, its title, the grid."""
    landscape = document.add_section(WD_SECTION.NEW_PAGE)
    landscape.orientation = WD_ORIENT.LANDSCAPE
    _page_setup(landscape, A4_LANDSCAPE, margins=(28, 26, 25, 25))
    label = _paragraph(document, indent=False)
    _official_run(label, notice.annex_label(0) if notice.annexes else "附表", HEADING_FONT, 16)
    caption = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=36)
    caption.paragraph_format.keep_with_next = True
    caption.paragraph_format.space_after = Pt(6)
    _official_run(caption, notice.table_title, TITLE_FONT, 18)
    _ranking_grid(document, notice.table)


def _ranking_grid(document: WordDocument, rows: list[list[str]]) -> None:
    """The 红黑榜 grid: two header rows (each metric over 数值, 名次, 较上期), then a row per unit; the unit and
    榜单 columns over both header rows."""
    head, *body_rows = rows
    metric_count = (len(head) - 2) // 3
    parts = [head[0]] + [part for _ in range(metric_count) for part in RANK_PARTS] + [head[-1]]
    columns = [[part] + [row[c] for row in body_rows] for c, part in enumerate(parts)]
    spans = [(1 + 3 * m, 3 + 3 * m, head[1 + 3 * m]) for m in range(metric_count)]
    widths, size, whole = _plan_columns(columns, _text_width(document), spans)
    table = _fixed_table(document, len(body_rows) + 2, widths)
    table.cell(0, 0).merge(table.cell(1, 0))
    table.cell(0, len(head) - 1).merge(table.cell(1, len(head) - 1))
    for first, last, _ in spans:
        table.cell(0, first).merge(table.cell(0, last))
    _set_widths(table, widths)  # the merged cells span their columns' widths
    _cell_text(table.cell(0, 0), head[0], size, header=True)
    _cell_text(table.cell(0, len(head) - 1), head[-1], size, header=True)
    for first, _, name in spans:
        _cell_text(table.cell(0, first), name, size, header=True)
        for i, part in enumerate(RANK_PARTS):
            _cell_text(table.cell(1, first + i), part, size, header=True)
    cells, width = _grid_cells(table)
    for r, values in enumerate(body_rows, start=2):
        for c, value in enumerate(values):
            _cell_text(cells[r * width + c], value, size, centred=whole[c])
    _rows_stay_whole(table, header_rows=2)


RANK_PARTS = ("数值", "名次", "较上期")  # a metric's three columns in the 红黑榜
TABLE_SIZES_PT = (10.5, 9.0)  # 五号; 小五 for a table whose one-line columns do not fit at 五号
CELL_MARGIN_TWIPS = 57  # 1 mm left and right of the text in a cell (Word's default is 1.9 mm)
CELL_PAD_TWIPS = 23  # 0.4 mm above and below it, so that the text does not touch the rules
WHOLE_EM = 8.0  # a column whose longest text is at most this many ems keeps every text on one line
WRAP_MIN_EM = (6.0, 8.0)  # a column that wraps is as wide as its longest phrase (between 、，；) within these
BREAKS = re.compile(r"[、，；,; ]")
SLACK_EM = 0.5  # room left in a one-line column for the fonts' differences between Word and LibreOffice
NARROW_EM = {" ": 0.32, ".": 0.32, ",": 0.32, ":": 0.34, ";": 0.34, "-": 0.34, "(": 0.39, ")": 0.39, "%": 0.95,
             "/": 0.34}
NUMBER_LIKE = re.compile(r"[\d.,:%/\- ]*(\d+年)?(\d+月)?(\d+日)?[\d.,%]*(亩|天|个|项|位)?")


def text_em(text: str) -> float:
    """The width of the text on one line in ems of its font size: a Han character or full-width sign is 1, a
    digit or Latin letter 0.64 (DejaVu's, which LibreOffice puts in for the missing 仿宋_GB2312, is wider than
    仿宋's 0.5), narrow signs less, and 0.25 where Han meets a digit or letter (Word and LibreOffice both put
    about a fifth of an em of space there)."""
    total, previous = 0.0, None
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in "WF"
        total += 1.0 if wide else NARROW_EM.get(ch, 0.72 if ch.isupper() else 0.64)
        kind = "han" if wide and ch.isalnum() else "latin" if ch.isascii() and ch.isalnum() else None
        if kind and previous and kind != previous:
            total += 0.25
        previous = kind
    return total


def _plan_columns(columns: list[list[str]], area: int, spans: list[tuple[int, int, str]] = ()
                  ) -> tuple[list[int], float, list[bool]]:
    """Each column's width in twips over the text area's `area`, the font size of the table and which columns
    keep their texts on one line. `columns` holds each column's texts, its header first; `spans` a header
    text over columns first..last. A column whose texts are short or all dates and numbers (11月21日, 95.81%,
    2027年1月18日) keeps them on one line; the others (project names, problems) share what is left, wrapping
    as little as they can; slack goes to them. At 五号, or at 小五 when the one-line columns do not fit."""
    ems = [[text_em(text) for text in column] for column in columns]
    whole = [max(column) <= WHOLE_EM or all(NUMBER_LIKE.fullmatch(text) for text in texts[1:])
             for column, texts in zip(ems, columns)]
    for size in TABLE_SIZES_PT:
        widths = _fit_columns(columns, ems, whole, area, size, spans)
        if widths:
            return widths, size, whole
    size = TABLE_SIZES_PT[-1]  # too many columns even at 小五: each its share of its one-line width
    need = [_need(max(column), size, True) for column in ems]
    return _spread([0] * len(need), need, area), size, whole


def _phrase_em(texts: list[str]) -> float:
    """How narrow a wrapping column may be, in ems: its longest phrase between 、，； on one line, at least six
    characters and at most eight (a list of 征地完成率红榜、… breaks between its items where it can)."""
    longest = max((text_em(phrase) for text in texts for phrase in BREAKS.split(text)), default=0.0)
    return min(max(longest, WRAP_MIN_EM[0]), WRAP_MIN_EM[1])


def _need(em: float, size: float, whole: bool) -> float:
    """Twips for a text of `em` ems at `size` points on one line, the cell's margins and (for a column that
    must not wrap) the slack included."""
    return (em + (SLACK_EM if whole else 0.1)) * size * 20 + 2 * CELL_MARGIN_TWIPS


def _fit_columns(columns: list[list[str]], ems: list[list[float]], whole: list[bool], area: int, size: float,
                 spans: list[tuple[int, int, str]]) -> list[int] | None:
    """The widths at `size` points, or None when the one-line columns and the wrapping ones at their least do
    not fit in `area` twips."""
    need = [_need(max(column), size, keep) for column, keep in zip(ems, whole)]
    for first, last, text in spans:  # a header over several columns fits over them
        short = _need(text_em(text), size, True) - sum(need[first:last + 1])
        for c in range(first, last + 1):
            need[c] += max(0.0, short) / (last + 1 - first)
    wrapping = [c for c, keep in enumerate(whole) if not keep]
    rest = area - sum(need[c] for c, keep in enumerate(whole) if keep)
    least = {c: min(need[c], _need(_phrase_em(columns[c]), size, False)) for c in wrapping}
    if rest < sum(least.values()):
        return None
    if not wrapping:  # short texts only: each column its one-line width and an even part of the slack
        return _spread(need, [1.0] * len(need), area)
    if sum(need[c] for c in wrapping) <= rest:  # every text on one line: the names get the slack
        return _spread(need, [need[c] if c in least else 0 for c in range(len(need))], area)
    fitted = _share(ems, wrapping, least, need, rest, size)
    return _spread([fitted.get(c, need[c]) for c in range(len(need))], [0] * len(need), area)


def _share(ems: list[list[float]], wrapping: list[int], least: dict[int, float], need: list[float], rest: float,
           size: float) -> dict[int, float]:
    """`rest` twips shared by the wrapping columns so that the table has as few lines as it can (a row is as
    high as its tallest cell), then as few wrapped cells (a name whole beside a problem on two lines), then
    the shares as even against their needs as can be."""
    rows = range(len(ems[0]))

    def lines(c: int, width: float) -> list[int]:
        usable = max(1.0, width - 2 * CELL_MARGIN_TWIPS) / (size * 20)
        return [max(1, math.ceil(ems[c][r] / usable - 1e-9)) for r in rows]

    if len(wrapping) > 3:  # many wrapping columns: in proportion to their needs
        total = sum(need[c] for c in wrapping)
        return {c: max(least[c], rest * need[c] / total) for c in wrapping}
    steps = 120 if len(wrapping) == 2 else 30
    options = [[least[c] + (min(need[c], rest) - least[c]) * i / steps for i in range(steps + 1)]
               for c in wrapping[:-1]]
    best, best_score = None, None
    for chosen in itertools.product(*options):
        last = rest - sum(chosen)
        if last < least[wrapping[-1]]:
            continue
        shares = dict(zip(wrapping, (*chosen, last)))
        per_column = [lines(c, w) for c, w in shares.items()]
        score = (sum(max(cells) for cells in zip(*per_column)),  # the table's lines, then the wrapped cells
                 sum(n > 1 for cells in per_column for n in cells), -min(w / need[c] for c, w in shares.items()))
        if best_score is None or score < best_score:
            best, best_score = shares, score
    return best or {c: rest * need[c] / sum(need[c] for c in wrapping) for c in wrapping}


def _spread(widths: list[float], weights: list[float], area: int) -> list[int]:
    """Whole twips summing to `area`: each width plus its part of the slack in proportion to its weight, what
    rounding leaves on the widest."""
    slack = area - sum(widths)
    total = sum(weights)
    out = [int(w + (slack * weight / total if total else 0)) for w, weight in zip(widths, weights)]
    out[out.index(max(out))] += area - sum(out)
    return out


def _text_width(document: WordDocument) -> int:
    """The text area's width of the document's last section, in twips."""
    section = document.sections[-1]
    return int((section.page_width - section.left_margin - section.right_margin) / 635)


def _fixed_table(document: WordDocument, rows: int, widths: list[int]) -> Table:
    """A grid table of `rows` rows that keeps its column widths in Word and LibreOffice alike: fixed layout,
    the table's width, the grid's columns and every cell the same widths, 1 mm margins in the cells, centred."""
    table = document.add_table(rows=rows, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout w:type="fixed"
    properties = table._tbl.tblPr
    table_width = properties.find(qn("w:tblW"))
    if table_width is None:
        table_width = OxmlElement("w:tblW")
        properties.append(table_width)
    table_width.set(qn("w:type"), "dxa")
    table_width.set(qn("w:w"), str(sum(widths)))
    margins = OxmlElement("w:tblCellMar")
    for side, twips in (("top", CELL_PAD_TWIPS), ("left", CELL_MARGIN_TWIPS), ("bottom", CELL_PAD_TWIPS),
                        ("right", CELL_MARGIN_TWIPS)):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(twips))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    look = properties.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)
    else:
        properties.append(margins)
    _set_widths(table, widths)
    return table


def _set_widths(table: Table, widths: list[int]) -> None:
    """The grid's columns in twips, and each cell the width of the columns it spans (LibreOffice reads the
    grid, Word the cells; with them equal both draw the same table)."""
    for column, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        column.set(qn("w:w"), str(width))
    for tr in table._tbl.tr_lst:
        first = 0
        for tc in tr.tc_lst:
            span = tc.grid_span
            tc.width = Twips(sum(widths[first:first + span]))
            first += span


def _cell_text(cell, text: str, size: float, *, header: bool = False, centred: bool = True) -> None:
    """A cell's text, single-spaced, in 黑体 bold for a header and 仿宋 otherwise, centred or (long text) at
    the left, the cell's content centred in its height; the paragraph mark at the same size, so an empty cell
    is no taller than a line of text."""
    paragraph = cell.paragraphs[0]
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if header or centred else WD_ALIGN_PARAGRAPH.LEFT
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    if text:
        _run(paragraph, text, HEADING_FONT if header else BODY_FONT, size, bold=header)
    mark = OxmlElement("w:rPr")
    for tag in ("w:sz", "w:szCs"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), str(round(size * 2)))
        mark.append(element)
    paragraph._p.get_or_add_pPr().append(mark)


def _rows_stay_whole(table: Table, header_rows: int) -> None:
    """No row split across pages; the header rows repeated at the top of each page the table runs onto."""
    for i, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        for tag in ("w:cantSplit",) + (("w:tblHeader",) if i < header_rows else ()):
            element = OxmlElement(tag)
            element.set(qn("w:val"), "true")
            properties.append(element)


def _annexes(document: WordDocument, notice: Notice) -> None:
    """The further 附件 on portrait pages after the 附表, one after another: each its label (附件2) in 黑体,
    its title in 小标宋 centred (both kept with the table), and its table in 五号 (小五 when too wide) with the
    header row repeated on every page."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.PORTRAIT
    _page_setup(section, A4, margins=(30, 28, 26, 26))
    offset = 1 if notice.table else 0
    for i, (title, rows) in enumerate(notice.annexes):
        if i:
            _paragraph(document, indent=False, exact=None)
        label = _paragraph(document, indent=False)
        label.paragraph_format.keep_with_next = True
        _official_run(label, notice.annex_label(i + offset), HEADING_FONT, 16)
        caption = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=30)
        caption.paragraph_format.keep_with_next = True
        caption.paragraph_format.space_after = Pt(6)
        _official_run(caption, title, TITLE_FONT, 16)
        _simple_table(document, rows)


def _simple_table(document: WordDocument, rows: list[list[str]]) -> None:
    """A table of one header row (黑体, repeated on each page) over its rows, its widths from its texts."""
    columns = [list(column) for column in zip(*rows)]
    widths, size, whole = _plan_columns(columns, _text_width(document))
    table = _fixed_table(document, len(rows), widths)
    cells, width = _grid_cells(table)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            _cell_text(cells[r * width + c], value, size, header=r == 0, centred=whole[c])
    _rows_stay_whole(table, header_rows=1)


def _grid_cells(table) -> tuple[list, int]:
    """Every cell of a table, row by row (a merged cell once per grid position it covers), and the width
    of a row: python-docx's table.cell(r, c) builds this whole list on each call, so filling a table cell
    by cell grew with the square of its rows."""
    return table._cells, len(table.columns)


def _imprint(document: WordDocument, notice: Notice, formal: bool) -> None:
    """版记 (GB/T 9704 7.4): 抄送 in 四号 between thin rules, then 印发机关 at the left and 印发日期 at the right
    over the closing rule."""
    _paragraph(document, indent=False)
    if notice.header.cc:
        cc = _paragraph(document, indent=False)
        _rule(cc, "000000", 6)
        _official_run(cc, f"抄送：{notice.header.cc}", BODY_FONT, 14)
    if not formal:
        return
    line = _paragraph(document, indent=False)
    _rule(line, "000000", 6)
    tabs = line.paragraph_format.tab_stops
    tabs.add_tab_stop(Mm(158), alignment=WD_TAB_ALIGNMENT.RIGHT)
    _official_run(line, f"{notice.header.full_issuer}\t{notice.date_text}印发", BODY_FONT, 14)


def _leader_page(document: WordDocument, notice: Notice) -> None:
    """One leader's 专报: the title in 小标宋, the paragraphs in 仿宋 四号, the projects table, issuer and date."""
    head = document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(head, notice.title, TITLE_FONT, 18)
    for text in notice.body():
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Pt(28)
        paragraph.paragraph_format.space_after = Pt(2)
        _run(paragraph, text, BODY_FONT, 14)
    _leader_table(document, notice.table)
    for text in (notice.header.full_issuer, notice.date_text):
        sign = document.add_paragraph()
        sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        sign.paragraph_format.space_after = Pt(0)
        _run(sign, text, BODY_FONT, 14)


def _leader_table(document: WordDocument, rows: list[list[str]]) -> None:
    """The leader's projects, one per row under a 黑体 header row, 五号, in widths from the texts."""
    _simple_table(document, rows)


def _page_number_footer(document: WordDocument) -> None:
    """"— 1 —" at the foot of every page: a PAGE field between dashes, 宋体 四号."""
    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "— ", FOOTER_FONT, 14)
    _page_field(_run(footer, "", FOOTER_FONT, 14))
    _run(footer, " —", FOOTER_FONT, 14)


def _page_field(run: Run) -> None:
    """A PAGE field inside the run (its cached result "1" until Word or LibreOffice updates it)."""
    for tag, text in (("w:fldChar", "begin"), ("w:instrText", " PAGE "), ("w:fldChar", "separate"),
                      ("w:t", "1"), ("w:fldChar", "end")):
        element = OxmlElement(tag)
        if tag == "w:fldChar":
            element.set(qn("w:fldCharType"), text)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
