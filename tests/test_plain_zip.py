"""The per-file path reads a plain package's zip directory itself (workbook/guard.PlainZip) and looks for
what calamine does not report with a few byte searches (issue 29, item 4): it must read what zipfile
reads, refuse what zipfile refuses, and find what a full parse finds."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from xladdin.workbook.guard import Limits, PlainZip, screen_read
from xladdin.workbook.xmlscan import _parsed, scan_part

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PARTS = {
    "[Content_Types].xml": b"<Types/>",
    "xl/workbook.xml": f'<workbook xmlns="{MAIN}"><sheets/></workbook>'.encode(),
    "xl/worksheets/sheet1.xml": b"<worksheet>" + b"<row r='1'><c r='A1'><v>1</v></c></row>" * 400 + b"</worksheet>",
    "xl/\u8fdb\u5ea6.xml": "名字是中文".encode(),  # a UTF-8 name (flag bit 11)
}


def package(method: int = zipfile.ZIP_DEFLATED, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in PARTS.items():
            archive.writestr(name, data)
        archive.comment = comment
    return buffer.getvalue()


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_plain_package_reads_as_zipfile_reads_it(method):
    data = package(method)
    fast, slow = PlainZip.of(data), zipfile.ZipFile(io.BytesIO(data))
    assert fast is not None
    assert fast.namelist() == slow.namelist() == list(PARTS)
    for info in slow.infolist():
        mine = fast.getinfo(info.filename)
        assert (mine.CRC, mine.file_size, mine.compress_size) == (info.CRC, info.file_size, info.compress_size)
        assert fast.read(info.filename) == slow.read(info.filename) == PARTS[info.filename]
    with pytest.raises(KeyError):
        fast.getinfo("xl/missing.xml")


def test_what_is_not_plain_is_left_to_zipfile(tmp_path):
    data = package(comment=b"a comment after the directory")
    assert PlainZip.of(data) is None
    path = tmp_path / "commented.xlsx"
    path.write_bytes(data)
    warnings, archive, raw = screen_read(path, Limits())
    assert isinstance(archive, zipfile.ZipFile) and raw == data and warnings == []
    assert archive.read("xl/workbook.xml") == PARTS["xl/workbook.xml"]


def _local_header(data: bytes, name: str) -> int:
    return data.index(name.encode()) - 30  # the first time the name is written: its entry's local header


def _directory_entry(data: bytes, name: str) -> int:
    return data.rindex(name.encode()) - 46  # the last: its central directory entry


def test_an_entry_that_inflates_past_its_declared_size_is_refused_as_zipfile_refuses_it():
    data = bytearray(package())
    name = "xl/worksheets/sheet1.xml"
    # Declare a smaller size in the directory (and the local header): a zip bomb's lie.
    struct.pack_into("<L", data, _directory_entry(bytes(data), name) + 24, 100)
    struct.pack_into("<L", data, _local_header(bytes(data), name) + 22, 100)
    fast, slow = PlainZip.of(bytes(data)), zipfile.ZipFile(io.BytesIO(bytes(data)))
    assert fast.getinfo(name).file_size == slow.getinfo(name).file_size == 100
    with pytest.raises(zipfile.BadZipFile):
        slow.read(name)
    with pytest.raises(zipfile.BadZipFile):
        fast.read(name)


def test_an_entry_whose_header_names_another_file_is_refused_as_zipfile_refuses_it():
    data = bytearray(package())
    name = "xl/workbook.xml"
    at = _local_header(bytes(data), name) + 30
    data[at:at + len(name)] = b"xl/workbook.xmz"
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(data))).read(name)
    with pytest.raises(zipfile.BadZipFile):
        PlainZip.of(bytes(data)).read(name)


def sheet(rows: str, root: str = f'<worksheet xmlns="{MAIN}">', close: str = "</worksheet>") -> bytes:
    return f"{root}<sheetData>{rows}</sheetData>{close}".encode()


@pytest.mark.parametrize("data", [
    sheet("<row r='2' hidden='1'/><row r='3' hidden = \"true\"/>"),  # hidden rows however the XML quotes them
    sheet('<row r="1"><c r="A1"><f/></c></row>'),  # a bare formula element, no cached value
    sheet('<row r="1"><c r="A1"><f\n>1+1</f></c></row>'),  # a line break after the name
    # A prefix declared for the main namespace further in, not on the root.
    sheet(f'<row r="1"><x:c r="B2" xmlns:x="{MAIN}"><x:f>SUM(A1)</x:f></x:c></row>'),
    sheet('<row r="1"><c r="A1" t="e"><v>#REF!</v></c></row>'),
])
def test_the_byte_searches_find_what_the_parse_finds(data):
    fast, full = scan_part(None, "", data=data), _parsed(data)
    assert (fast.errors, fast.uncached, fast.hidden_rows) == (full.errors, full.uncached, full.hidden_rows)
    assert fast.errors or fast.uncached or fast.hidden_rows


def test_a_plain_sheet_with_data_validations_has_nothing_to_report():
    # <formula1> of a data validation is not a formula cell; <family> of a rich-text run is no formula either.
    data = sheet('<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><family val="2"/></rPr><t>x</t></r></is></c></row>',
                 close='<dataValidations><dataValidation><formula1>DATE(2000,1,1)</formula1></dataValidation>'
                       '</dataValidations></worksheet>')
    found = scan_part(None, "", data=data)
    assert not (found.errors or found.uncached or found.hidden_rows or found.unsafe)
