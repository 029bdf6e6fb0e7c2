"""A corpus of broken and hostile submissions, generated (never binary blobs of unknown origin).

Each entry: file name (saying what it is), the expected outcome (accepted, rejected, duplicate) and,
for a rejection, the issue codes any of which is the right reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from xladdin.base.schema import REGISTRY_FIELDS
from xladdin.demo import registry_rows
from xladdin.workbook.ledger import HEADER_ROW, build_ledger

from .ledgers import GROUP, good_rows


@dataclass
class Case:
    name: str
    expect: str  # accepted | rejected | duplicate | skipped (listed with a reason, not read)
    codes: set[str] = field(default_factory=set)  # for rejected: one of these; for accepted: warnings expected


# A project HQ renumbered (issue 27): the corpus master's 项目清单 names SJ-07's code before it in 原编号, and
# a ledger made from an old template still sends that code.
FORMER_ID = ("SJ-07", "SJ-2025-07")


def corpus_registry_rows(as_of: dt.date) -> list[list[object]]:
    """The demo's 项目清单 rows with FORMER_ID's 原编号 filled in: the master the corpus is run against."""
    rows = registry_rows(as_of)
    keys = [f.key for f in REGISTRY_FIELDS]
    for row in rows:
        if row[keys.index("project_id")] == FORMER_ID[0]:
            row[keys.index("former_id")] = FORMER_ID[1]
    return rows


def _ledger(registry, date, rows=None, unit=GROUP):
    return build_ledger(unit, registry[registry["group"] == GROUP], date, rows or good_rows(registry))


def _save(wb, path: Path) -> bytes:
    wb.save(path)
    return path.read_bytes()


def rezip(path: Path, change) -> None:
    """Rewrite an xlsx's parts through `change(parts)`, as a hostile tool would."""
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def sheet_with_formula(path: Path, cell: str, formula: str, cached: str) -> None:
    def change(parts):
        xml = parts["xl/worksheets/sheet1.xml"].decode()
        start = xml.index(f'<c r="{cell}"')
        end = xml.index("</c>", start) + 4 if xml.find("/>", start) > xml.find("</c>", start) else \
            xml.index("/>", start) + 2
        parts["xl/worksheets/sheet1.xml"] = (xml[:start] + f'<c r="{cell}" t="str"><f>{formula}</f><v>{cached}</v></c>'
                                             + xml[end:]).encode()
    rezip(path, change)


def build_corpus(directory: Path, registry, date: dt.date) -> list[Case]:
    """Write every corpus file into `directory` (one day's inbox); returns what each must do."""
    directory.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    good = directory / "正常台账.xlsx"
    good_bytes = _save(_ledger(registry, date), good)
    cases.append(Case(good.name, "accepted"))

    def add(name: str, data: bytes, expect: str, *codes: str) -> None:
        (directory / name).write_bytes(data)
        cases.append(Case(name, expect, set(codes)))

    add("零字节.xlsx", b"", "rejected", "file-unreadable")
    add("截断的压缩包.xlsx", good_bytes[: len(good_bytes) // 2], "rejected", "file-unreadable")
    add("纯文本冒充.xlsx", "这不是表格\n".encode() * 50, "rejected", "file-unreadable")
    add("PDF冒充.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 2000, "rejected", "file-unreadable")
    add("设了密码.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le")
        + b"\0" * 3000, "rejected", "password-protected")
    add("乱码的旧版.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20, "rejected", "file-unreadable")
    add("空压缩包.xlsx", _empty_zip(), "rejected", "file-unreadable")
    add("随机字节.csv", bytes(range(256)) * 10, "rejected", "header-missing", "file-unreadable")
    # Encodings.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _ledger(registry, date).active.iter_rows(values_only=True):
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row])
    add("GBK编码.csv", buffer.getvalue().encode("gb18030"), "accepted")
    add("UTF16编码.csv", buffer.getvalue().encode("utf-16"), "rejected", "header-missing", "file-unreadable")
    # Shapes.
    add("百万行.xlsx", _million_rows(good_bytes), "rejected", "too-many-rows", "file-too-large")
    wb = _ledger(registry, date)
    wb.active["XFD5"] = 1
    add("一万六千列.xlsx", _bytes(wb), "rejected", "too-many-columns")
    rows = good_rows(registry)
    rows[0]["problems"] = "很长的说明" * 30000
    add("超长文字.xlsx", _bytes(_ledger(registry, date, rows)), "rejected", "cell-too-long")
    wb = _ledger(registry, date)
    wb.active.merge_cells(start_row=HEADER_ROW, start_column=2, end_row=HEADER_ROW, end_column=3)
    add("表头合并跨列.xlsx", _bytes(wb), "rejected", "column-missing")
    wb = _ledger(registry, date)
    wb.active.insert_rows(HEADER_ROW)
    wb.active.cell(HEADER_ROW, 5).value = "累计完成情况"
    add("两行表头.xlsx", _bytes(wb), "accepted")
    wb = _ledger(registry, date)
    ws = wb.active
    ws.insert_rows(HEADER_ROW + 3)
    for c in range(1, 16):
        ws.cell(HEADER_ROW + 3, c).value = ws.cell(HEADER_ROW, c).value
    add("表头重复出现.xlsx", _bytes(wb), "accepted")
    for label, text in (("横线", date.isoformat()), ("斜线", date.strftime("%Y/%m/%d")),
                        ("中文", f"{date.year}年{date.month}月{date.day}日"), ("点号", date.strftime("%Y.%m.%d")),
                        ("八位数字", date.strftime("%Y%m%d"))):
        wb = _ledger(registry, date)
        wb.active["E2"].value = text
        add(f"日期文本_{label}.xlsx", _bytes(wb), "duplicate" if False else "accepted", "supersedes")
    wb = _ledger(registry, date)
    wb.active["E2"].value = date.strftime("%m/%d/%Y")
    add("日期文本_美式有歧义.xlsx", _bytes(wb), "rejected", "date-missing")
    rows = good_rows(registry)
    for row in rows:
        for key in ("acquired_mu", "houses_agreed", "houses_demolished", "crops", "fixtures", "graves", "cleared_mu"):
            row[key] = "#REF!"
    add("满是错误值.xlsx", _bytes(_ledger(registry, date, rows)), "rejected", "excel-error")
    rows = good_rows(registry)
    for row in rows:
        row["acquired_mu"] = -5
    add("全是负数.xlsx", _bytes(_ledger(registry, date, rows)), "rejected", "negative")
    rows = good_rows(registry)
    rows[0]["acquired_mu"] = 1e308
    add("天文数字.xlsx", _bytes(_ledger(registry, date, rows)), "rejected", "far-above-plan")
    rows = good_rows(registry)
    rows[0]["acquired_mu"] = True
    add("布尔值.xlsx", _bytes(_ledger(registry, date, rows)), "rejected", "not-a-number")
    rows = good_rows(registry)
    rows[0]["project_id"] = "=1+1"
    add("编号是没有结果的公式.xlsx", _bytes(_ledger(registry, date, rows)), "rejected", "formula-no-value")
    # Bombs.
    add("压缩炸弹.xlsx", _zip_bomb(good_bytes), "rejected", "file-too-large")
    add("实体炸弹.xlsx", _entity_bomb(good_bytes), "rejected", "file-unreadable")
    # Formulas and links: never executed, never copied as formulas.
    path = directory / "DDE公式.xlsx"
    _save(_ledger(registry, date), path)
    sheet_with_formula(path, "O5", "cmd|' /c calc'!A0", "0")
    cases.append(Case(path.name, "rejected", {"unsafe-formula"}))
    path = directory / "WEBSERVICE公式.xlsx"
    _save(_ledger(registry, date), path)
    sheet_with_formula(path, "O6", 'WEBSERVICE("http://example.com/x")', "ok")
    cases.append(Case(path.name, "rejected", {"unsafe-formula"}))
    path = directory / "HYPERLINK公式.xlsx"
    _save(_ledger(registry, date), path)
    sheet_with_formula(path, "O7", 'HYPERLINK("http://example.com","点此查看")', "点此查看")
    cases.append(Case(path.name, "accepted", set()))
    wb = _ledger(registry, date)
    wb.active["O5"].value = '=HYPERLINK("http://example.com","看这里")'
    wb.active["O5"].data_type = "s"  # typed as text (Excel: a leading apostrophe)
    add("公式模样的文字.xlsx", _bytes(wb), "accepted")
    path = directory / "外部链接.xlsx"
    _save(_ledger(registry, date), path)
    rezip(path, lambda parts: parts.__setitem__("xl/externalLinks/externalLink1.xml", b"<externalLink/>"))
    cases.append(Case(path.name, "accepted", {"external-links"}))
    path = directory / "带宏的台账.xlsm"
    _save(_ledger(registry, date), path)
    rezip(path, lambda parts: parts.__setitem__("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 100))
    cases.append(Case(path.name, "accepted", {"has-macros"}))
    # Names and duplicates.
    add("文件名 带空格&引号'和#号.xlsx", _bytes(_ledger(registry, date, good_rows(registry)[::-1])), "accepted")
    add("正常台账 - 副本.xlsx", good_bytes, "duplicate")
    wb = _ledger(registry, date)
    wb.active["O5"] = "同组同日第二份"
    add("同组同日_第二份.xlsx", _bytes(wb), "accepted", "supersedes")
    # A project's total counted once (issue 27): a 小计 line under its 地块, a project line above them.
    first, *others = good_rows(registry)
    plots = [dict(first, plot="东地块", acquired_mu=5.0, houses_agreed=1, houses_demolished=1, crops=1, fixtures=1,
                  cleared_mu=4.0),
             dict(first, plot="西地块", acquired_mu=5.5, houses_agreed=1, houses_demolished=0, crops=0, fixtures=0,
                  cleared_mu=4.0)]
    add("小计行.xlsx", _bytes(_ledger(registry, date, plots + [dict(first, plot="小计")] + others)), "accepted",
        "total-line")
    add("项目行加其中地块.xlsx", _bytes(_ledger(registry, date, [first] + [dict(p, plot="其中" + p["plot"])
                                                                 for p in plots] + others)), "accepted", "total-line")
    add("合计与地块不符.xlsx", _bytes(_ledger(registry, date, plots + [dict(first, plot="合计", acquired_mu=12.0)]
                                             + others)), "rejected", "total-mismatch")
    sj07 = next(r for r in others if r["project_id"] == "SJ-07")
    far = [dict(sj07, plot=f"{k}号地块", acquired_mu=70.0) for k in (1, 2)]
    add("地块之和超计划两倍.xlsx", _bytes(_ledger(registry, date, [first] + far + [r for r in others if r is not sj07])),
        "rejected", "far-above-plan")
    # 项目编号/名称 merged down over a project's 地块 rows (issue 27): every row is the project; a rejected
    # one still gets its marked-up copy, the note on the merged block's top-left cell.
    merged = _ledger(registry, date, plots + others)
    for column in "BC":
        merged.active.merge_cells(f"{column}{HEADER_ROW + 1}:{column}{HEADER_ROW + 2}")
    add("项目编号合并单元格.xlsx", _bytes(merged), "accepted")
    wrong = [dict(p, project_id="SJ-99") for p in plots + [dict(plots[1], plot="北地块")]]
    merged = _ledger(registry, date, wrong + others)
    for column in "BC":
        merged.active.merge_cells(f"{column}{HEADER_ROW + 1}:{column}{HEADER_ROW + 3}")
    add("合并单元格且编号有错.xlsx", _bytes(merged), "rejected", "project-unknown")
    # An old template still sending a renumbered project's former code: read as the project, and told.
    add("改编号前的模板.xlsx", _bytes(_ledger(registry, date, [dict(r, project_id=FORMER_ID[1])
                                                        if r["project_id"] == FORMER_ID[0] else r
                                                        for r in good_rows(registry)])), "accepted", "project-renumbered")
    # A same-day correction of one project keeps the others' rows (and says so).
    add("只更正一个项目.xlsx", _bytes(_ledger(registry, date, [first])), "accepted", "project-missing")
    # Template and identity.
    wb = _ledger(registry, date)
    wb.active.title = "Sheet1"
    add("工作表改了名.xlsx", _bytes(wb), "rejected", "sheet-missing")
    wb = _ledger(registry, date)
    wb.active["B2"] = None
    add("没填单位.xlsx", _bytes(wb), "rejected", "unit-missing")
    add("他组冒名.xlsx", _bytes(_ledger(registry, date, unit="某某工作组")), "rejected", "unit-unknown")
    wb = _ledger(registry, date)
    for row in wb.active.iter_rows(min_row=HEADER_ROW + 1):
        for cell in row:
            cell.value = None
    add("只有表头.xlsx", _bytes(wb), "rejected", "no-rows")
    wb = openpyxl.Workbook()
    wb.active.title = "进度台账"
    add("空白工作表.xlsx", _bytes(wb), "rejected", "header-missing", "unit-missing")
    cases.extend(_chat_and_file_manager(directory, registry, date, good_bytes))
    return cases


def _chat_and_file_manager(directory: Path, registry, date: dt.date, good_bytes: bytes) -> list[Case]:
    """What a chat app (WeChat, QQ, DingTalk) and a file manager (Finder, Explorer, a browser) leave in
    a shared inbox: renamed copies of the same file, owner and lock files of a ledger still open,
    metadata files, half-finished downloads, other spreadsheet formats, folders, links."""
    cases: list[Case] = []

    def add(name: str, data: bytes | None, expect: str, *codes: str) -> None:
        if data is not None:
            (directory / name).write_bytes(data)
        cases.append(Case(name, expect, set(codes)))

    # The same ledger received twice: WeChat and a browser add (1), Explorer "- 副本", QQ a number.
    add("正常台账(1).xlsx", good_bytes, "duplicate")
    add("正常台账 (2).xlsx", good_bytes, "duplicate")
    add("正常台账_1.xlsx", good_bytes, "duplicate")
    add("微信图片_正常台账.xlsx", good_bytes, "duplicate")
    # Files Excel, WPS, LibreOffice and the operating systems create beside a ledger.
    add("~$正常台账.xlsx", b"\x05owner" + b"\0" * 160, "skipped")
    add(".~lock.正常台账.xlsx#", "张三,DESKTOP,/home,25.11.2026 18:00,file:///;".encode(), "skipped")
    add(".DS_Store", b"\0\0\0\1Bud1" + b"\0" * 100, "skipped")
    add("._正常台账.xlsx", b"\0\5\26\7" + b"\0" * 80, "skipped")  # macOS AppleDouble
    add("Thumbs.db", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "skipped")
    add("desktop.ini", "[.ShellClassInfo]\r\n".encode("utf-16"), "skipped")
    # Downloads not finished, and formats to convert first.
    add("正常台账.xlsx.download", good_bytes[:1000], "skipped")
    add("正常台账.xlsx.crdownload", good_bytes[:1000], "skipped")
    add("城南台账.ods", b"PK\3\4" + b"\0" * 100, "skipped")
    add("城南台账.et", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "skipped")
    add("城南台账.pdf", b"%PDF-1.4\n", "skipped")
    # A folder a chat app's "save all" makes, and links.
    (directory / "微信文件_2026-11").mkdir()
    (directory / "微信文件_2026-11" / "正常台账.xlsx").write_bytes(good_bytes)
    add("微信文件_2026-11", None, "skipped")
    (directory / "指向收件箱外.csv").symlink_to("/etc/hostname")
    add("指向收件箱外.csv", None, "skipped")
    (directory / "失效的快捷方式.xlsx").symlink_to(directory / "已被删除.xlsx")
    add("失效的快捷方式.xlsx", None, "skipped")
    return cases


def _bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "empty")
    return buffer.getvalue()


def _replace_part(good: bytes, name: str, data: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(good))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info.filename, data if info.filename == name else source.read(info))
        for extra_name, extra_data in (extra or {}).items():
            archive.writestr(extra_name, extra_data)
    return buffer.getvalue()


def _million_rows(good: bytes) -> bytes:
    """A sheet of 1,000,000 rows (40 MB of XML, about 1 MB zipped)."""
    xml = zipfile.ZipFile(io.BytesIO(good)).read("xl/worksheets/sheet1.xml").decode()
    head, _, rest = xml.partition("<sheetData>")
    body, _, tail = rest.partition("</sheetData>")
    many = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(40, 1_000_001))
    return _replace_part(good, "xl/worksheets/sheet1.xml", (head + "<sheetData>" + body + many + "</sheetData>"
                                                             + tail).encode())


def _zip_bomb(good: bytes) -> bytes:
    """A normal ledger plus a part that inflates to 1 GiB (1 MB on disk)."""
    buffer = io.BytesIO(_replace_part(good, "", b""))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as handle:
            block = b"\0" * 2**20
            for _ in range(1024):
                handle.write(block)
    return buffer.getvalue()


def _entity_bomb(good: bytes) -> bytes:
    """The billion-laughs XML entity expansion inside the ledger sheet."""
    xml = zipfile.ZipFile(io.BytesIO(good)).read("xl/worksheets/sheet1.xml").decode()
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    doctype = f"<!DOCTYPE worksheet [{entities}]>"
    xml = xml.replace("<worksheet", doctype + "<worksheet", 1).replace("<sheetData>", '<sheetData><row r="1">'
                                                                       '<c r="Z1" t="inlineStr"><is><t>&lol9;</t>'
                                                                       '</is></c><c r="Y1"><f>1+1</f></c></row>', 1)
    return _replace_part(good, "xl/worksheets/sheet1.xml", xml.encode())
