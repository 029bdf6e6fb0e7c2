"""The notices as Word documents: the 通报 and 督查日报 in the GB/T 9704 layout, the 专报 one page per leader."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from xladdin.notices.compose import KIND_WORDS, Notice, section_number

TITLE_FONT, HEADING_FONT, BODY_FONT, FOOTER_FONT = "方正小标宋简体", "黑体", "仿宋_GB2312", "宋体"
RED = RGBColor(0xE6, 0x00, 0x12)
A4, A4_LANDSCAPE = (210, 297), (297, 210)  # millimetres, width by height
RANK_COLUMNS = (18, 10, 16)  # millimetres: a metric's 数值, 名次 and 较上期 columns in the 附表


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
    _official_run(caption, notice.table_title, TITLE_FONT, 18)
    _ranking_grid(document, notice.table)


def _ranking_grid(document: WordDocument, rows: list[list[str]]) -> None:
    """The 红黑榜 grid: two header rows (each metric over 数值, 名次, 较上期), then a row per unit, 小五."""
    head, *body_rows = rows
    metric_count = (len(head) - 2) // 3
    table = document.add_table(rows=len(body_rows) + 2, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _column_widths(table, [30] + [width for _ in range(metric_count) for width in RANK_COLUMNS] + [41])
    _grid_head(table, head, metric_count)
    for r, values in enumerate(body_rows, start=2):
        for c, value in enumerate(values):
            _grid_cell(table, r, c, value, BODY_FONT)


def _column_widths(table: Table, widths_mm: list[int]) -> None:
    """Each column's width on the grid (LibreOffice reads it there) and on each of its cells (Word does)."""
    widths = [Mm(width) for width in widths_mm]
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _grid_head(table: Table, head: list[str], metric_count: int) -> None:
    """The unit and 榜单 columns over both header rows, each metric's name over its three parts, in 黑体."""
    table.cell(0, 0).merge(table.cell(1, 0))
    _grid_cell(table, 0, 0, head[0], HEADING_FONT)
    for m in range(metric_count):
        first = 1 + 3 * m
        table.cell(0, first).merge(table.cell(0, first + 2))
        _grid_cell(table, 0, first, head[first], HEADING_FONT)
        for i, part in enumerate(("数值", "名次", "较上期")):
            _grid_cell(table, 1, first + i, part, HEADING_FONT)
    last = len(head) - 1
    table.cell(0, last).merge(table.cell(1, last))
    _grid_cell(table, 0, last, head[-1], HEADING_FONT)


def _grid_cell(table: Table, row: int, column: int, value: str, font: str) -> None:
    """A cell's text, centred, 小五."""
    paragraph = table.cell(row, column).paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    _official_run(paragraph, value, font, 9)


ANNEX_FONT_PT = 10.5  # 五号: the annex tables


def _annexes(document: WordDocument, notice: Notice) -> None:
    """The further 附件 on portrait pages after the 附表, one after another: each its label (附件2) in 黑体,
    its title in 小标宋 centred, and its table in 五号 with the header row repeated on every page."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.PORTRAIT
    _page_setup(section, A4, margins=(30, 28, 26, 26))
    offset = 1 if notice.table else 0
    for i, (title, rows) in enumerate(notice.annexes):
        if i:
            _paragraph(document, indent=False, exact=None)
        label = _paragraph(document, indent=False)
        _official_run(label, notice.annex_label(i + offset), HEADING_FONT, 16)
        caption = _paragraph(document, WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=30)
        _official_run(caption, title, TITLE_FONT, 16)
        _annex_table(document, rows)


def _annex_table(document: WordDocument, rows: list[list[str]]) -> None:
    """One annex: a grid, the header in 黑体 repeated on each page, a 序号 column narrow, text columns wide."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _column_widths(table, _annex_widths(rows, 158))
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header.append(repeat)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            paragraph = table.cell(r, c).paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if r == 0 or len(value) <= 8 else WD_ALIGN_PARAGRAPH.LEFT
            _official_run(paragraph, value, HEADING_FONT if r == 0 else BODY_FONT, ANNEX_FONT_PT)


def _annex_widths(rows: list[list[str]], total_mm: int) -> list[int]:
    """Column widths in millimetres over `total_mm`: a short column (at most eight characters, header included)
    as wide as its text on one line, the long ones sharing the rest in proportion to their longest text."""
    def width(text: object) -> float:  # a Han character at 五号 is about 3.7 mm, a digit half that
        return sum(3.8 if ord(ch) > 0x2e7f else 2.1 for ch in str(text))

    longest = [max(len(str(row[c])) for row in rows) for c in range(len(rows[0]))]
    widths = [max(width(row[c]) for row in rows) + 6 if n <= 8 else 0.0 for c, n in enumerate(longest)]
    rest = total_mm - sum(widths)
    long = {c: min(n, 30) for c, n in enumerate(longest) if n > 8}
    for c, n in long.items():
        widths[c] = rest * n / sum(long.values())
    return [max(8, round(w)) for w in widths]


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
    """The leader's projects, one per row under a 黑体 header row, 五号."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            _run(table.cell(r, c).paragraphs[0], value, HEADING_FONT if r == 0 else BODY_FONT, 10.5)


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
