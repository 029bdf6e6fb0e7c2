"""The notices as Word documents: the 通报 and 督查日报 in the GB/T 9704 layout, the 专报 one page per leader."""

from __future__ import annotations

from pathlib import Path

from .notice import KIND_WORDS, NUMERALS, Notice


def write_docx(notice: Notice, path: Path) -> Path:
    """The notice as a Word document in the GB/T 9704 layout: the issuer in red over the 期数 and a red
    rule (版头); the title in 小标宋 二号 centred; body in 仿宋_GB2312 三号, two-character indent, 28-point
    lines, section headings in 黑体; issuer and date at the bottom right; the 红黑榜 as a 附表 on its own
    page; 抄送 at the end; page numbers "— 1 —" (a PAGE field) in 宋体 四号 at the foot."""
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    red = RGBColor(0xE6, 0x00, 0x12)

    def run(paragraph, text: str, font: str, size: float, bold: bool = False, color=None):
        r = paragraph.add_run(text)
        r.font.name = font
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        r.font.size = Pt(size)
        r.bold = bold
        if color is not None:
            r.font.color.rgb = color
        return r

    def paragraph(align=None, indent: bool = True, container=None, exact: float | None = 28):
        p = (container or document).add_paragraph()
        fmt = p.paragraph_format
        if exact:
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(exact)
        fmt.space_before = fmt.space_after = Pt(0)
        if indent:
            fmt.first_line_indent = Pt(32)
        if align is not None:
            p.alignment = align
        return p

    def rule(p, color: str = "E60012", size: int = 12) -> None:
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (("w:val", "single"), ("w:sz", str(size)), ("w:space", "1"), ("w:color", color)):
            bottom.set(qn(key), value)
        borders.append(bottom)
        p._p.get_or_add_pPr().append(borders)

    # 版头
    head = paragraph(WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=None)
    run(head, notice.header.full_issuer + KIND_WORDS[notice.kind], "方正小标宋简体", 26, color=red)
    number = paragraph(WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    run(number, notice.number_text or " ", "仿宋_GB2312", 16)
    rule(number)
    paragraph(indent=False)
    title = paragraph(WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=36)
    run(title, notice.title, "方正小标宋简体", 22)
    paragraph(indent=False)
    for i, text in enumerate(notice.body()):
        p = paragraph(WD_ALIGN_PARAGRAPH.JUSTIFY, indent=not (i == 0 and notice.header.to))
        numbered = next(((NUMERALS[j], h) for j, (h, _) in enumerate(notice.sections)
                         if text.startswith(f"{NUMERALS[j]}、{h}。")), None)
        if numbered:
            heading = f"{numbered[0]}、{numbered[1]}。"
            run(p, heading, "黑体", 16)
            run(p, text[len(heading):], "仿宋_GB2312", 16)
        else:
            run(p, text, "仿宋_GB2312", 16)
    paragraph(indent=False)
    for text in (notice.header.full_issuer, notice.date_text):
        p = paragraph(WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        p.paragraph_format.right_indent = Pt(64)
        run(p, text, "仿宋_GB2312", 16)
    if notice.table:
        landscape = document.add_section(WD_SECTION.NEW_PAGE)  # the 附表 is wide: its pages turn sideways
        landscape.orientation = WD_ORIENT.LANDSCAPE
        landscape.page_width, landscape.page_height = Mm(297), Mm(210)
        landscape.top_margin, landscape.bottom_margin = Mm(28), Mm(26)
        landscape.left_margin, landscape.right_margin = Mm(25), Mm(25)
        label = paragraph(indent=False)
        run(label, "附表", "黑体", 16)
        caption = paragraph(WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=36)
        run(caption, notice.table_title, "方正小标宋简体", 18)
        head, *body_rows = notice.table
        metric_count = (len(head) - 2) // 3
        table = document.add_table(rows=len(body_rows) + 2, cols=len(head))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        widths = [Mm(30)] + [Mm(w) for _ in range(metric_count) for w in (18, 10, 16)] + [Mm(41)]
        for column, width in zip(table.columns, widths):  # the grid (LibreOffice) and each cell (Word)
            column.width = width
        for row in table.rows:
            for cell, width in zip(row.cells, widths):
                cell.width = width

        def put(r: int, c: int, value: str, font: str) -> None:
            cell = table.cell(r, c)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
            run(cell.paragraphs[0], value, font, 9)

        table.cell(0, 0).merge(table.cell(1, 0))
        put(0, 0, head[0], "黑体")
        for m in range(metric_count):
            first = 1 + 3 * m
            table.cell(0, first).merge(table.cell(0, first + 2))
            put(0, first, head[first], "黑体")
            for i, part in enumerate(("数值", "名次", "较上期")):
                put(1, first + i, part, "黑体")
        table.cell(0, len(head) - 1).merge(table.cell(1, len(head) - 1))
        put(0, len(head) - 1, head[-1], "黑体")
        for r, values in enumerate(body_rows, start=2):
            for c, value in enumerate(values):
                put(r, c, value, "仿宋_GB2312")
    if notice.header.cc:
        paragraph(indent=False)
        cc = paragraph(indent=False)
        rule(cc, "000000", 6)
        run(cc, f"抄送：{notice.header.cc}", "仿宋_GB2312", 14)
    _page_number_footer(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path


def write_leader_docx(notices: list[Notice], path: Path) -> Path:
    """The 专报: one page per leader (title, sections, the projects table), page numbers at the foot."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(30), Mm(28)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    def run(p, text: str, font: str, size: float):
        r = p.add_run(text)
        r.font.name = font
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        r.font.size = Pt(size)
        return r

    for i, notice in enumerate(notices):
        if i:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        head = document.add_paragraph()
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run(head, notice.title, "方正小标宋简体", 18)
        for text in notice.body():
            p = document.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(28)
            p.paragraph_format.space_after = Pt(2)
            run(p, text, "仿宋_GB2312", 14)
        table = document.add_table(rows=len(notice.table), cols=len(notice.table[0]))
        table.style = "Table Grid"
        for r, values in enumerate(notice.table):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                run(cell.paragraphs[0], value, "黑体" if r == 0 else "仿宋_GB2312", 10.5)
        for text in (notice.header.full_issuer, notice.date_text):
            sign = document.add_paragraph()
            sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            sign.paragraph_format.space_after = Pt(0)
            run(sign, text, "仿宋_GB2312", 14)
    _page_number_footer(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path


def _page_number_footer(document) -> None:
    """"— 1 —" at the foot of every page: a PAGE field between dashes, 宋体 四号."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def run(text: str):
        r = footer.add_run(text)
        r.font.name = "宋体"
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
        r.font.size = Pt(14)
        return r

    run("— ")
    field_run = run("")
    for tag, text in (("w:fldChar", "begin"), ("w:instrText", " PAGE "), ("w:fldChar", "separate"),
                      ("w:t", "1"), ("w:fldChar", "end")):
        element = OxmlElement(tag)
        if tag == "w:fldChar":
            element.set(qn("w:fldCharType"), text)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = text
        field_run._r.append(element)
    run(" —")
