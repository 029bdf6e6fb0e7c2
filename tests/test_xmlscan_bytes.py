"""The byte-level scan of a sheet's XML finds what a full defusedxml parse finds (issue 29: no parse per file)."""

from __future__ import annotations

import io
import zipfile

import pytest

from xladdin.workbook.xmlscan import _parsed, scan_part, sheet_part

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CELLS = [
    '<c r="A1" t="e"><v>#REF!</v></c>',
    '<c r="B1"><f>SUM(A1:A3)</f></c>',
    '<c r="C1"><f>SUM(A1:A3)</f><v></v></c>',
    '<c r="D1" t="str"><f>"a"&amp;"b"</f></c>',
    '<c r="E1"><f t="shared" si="0"/></c>',
    '<c r="F1"><f>A1&lt;B1</f><v>1</v></c>',
    '<c r="G1"><f>\'cmd\'|\' /c calc\'!A0</f><v>0</v></c>',
    '<c r="H1" s="2"/>',
    '<c r="I1" t="s"><v>3</v></c>',
    '<c r="J1"><f>WEBSERVICE("http://x?a=1&amp;b=2")</f></c>',
    '<c r="K1" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
    '<c t="e"><v>#N/A</v></c>',
]


def sheet(prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'
    cells = "".join(c.replace("<c ", f"<{p}c ").replace("</c>", f"</{p}c>").replace("<f", f"<{p}f")
                    .replace("</f>", f"</{p}f>").replace("<v", f"<{p}v").replace("</v>", f"</{p}v>") for c in CELLS)
    return (f'<?xml version="1.0"?><{p}worksheet {ns}><{p}sheetData>'
            f'<{p}row r="1">{cells}</{p}row><{p}row r="2" hidden="1"/><{p}row r="3" hidden="true" ht="3"/>'
            f'<{p}row r="4" hidden="0"/></{p}sheetData></{p}worksheet>').encode()


def package(data: bytes) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships"><sheets><sheet name="A &amp; B" sheetId="1" '
                         'r:id="rId7"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/relationships"><Relationship Id="rId7" Target="worksheets/sheet1.xml" '
                         'Type="x"/></Relationships>')
        archive.writestr("xl/worksheets/sheet1.xml", data)
    return zipfile.ZipFile(buffer)


@pytest.mark.parametrize("prefix", ["", "x"])
def test_the_byte_scan_equals_the_parse(prefix):
    data = sheet(prefix)
    archive = package(data)
    part = sheet_part(archive, "A & B")
    assert part == "xl/worksheets/sheet1.xml"
    fast, full = scan_part(archive, part), _parsed(data)
    assert (fast.errors, fast.uncached, fast.hidden_rows, fast.unsafe) == \
        (full.errors, full.uncached, full.hidden_rows, full.unsafe)
    assert fast.errors and fast.uncached and fast.unsafe and fast.hidden_rows == {2, 3}


def test_a_dtd_is_left_to_defusedxml():
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + sheet()[len(b'<?xml version="1.0"?>'):]
    with pytest.raises(ValueError):  # defusedxml's EntitiesForbidden
        scan_part(package(data), "xl/worksheets/sheet1.xml")
