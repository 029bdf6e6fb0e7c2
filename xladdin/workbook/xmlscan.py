"""What python-calamine does not report in an .xlsx/.xlsm sheet: error values, formulas without a
cached value, hidden rows. Read from the sheet's XML with defusedxml (no entity expansion), and only
when a cheap byte scan shows the sheet has any of them.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET

from xladdin.base.located import UncachedFormula

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# <f> / <f ...> is a formula element; "<f" alone would also match <formula1> of a data validation.
_HINTS = (b't="e"', b"<f>", b"<f ", b":f>", b":f ", b'hidden="1"', b'hidden="true"')
_ADDRESS = re.compile(r"^([A-Z]+)(\d+)$")


# DDE ('cmd'|' /c calc'!A0) and functions that reach outside the workbook.
UNSAFE = re.compile(r"\|\s*'?[^|]*'?!|\b(WEBSERVICE|FILTERXML|CALL|REGISTER(\.ID)?|EXEC|RTD|DDE\w*)\s*\(", re.I)



@dataclass
class SheetExtras:
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row0, col0) -> '#REF!'
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)  # (row0, col0) -> formula text
    hidden_rows: set[int] = field(default_factory=set)  # 1-based sheet rows
    unsafe: dict[str, str] = field(default_factory=dict)  # cell address -> formula calling outside


def _index(address: str) -> tuple[int, int] | None:
    match = _ADDRESS.match(address)
    if not match:
        return None
    letters, digits = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
    rid = None
    for node in workbook.iter(f"{_MAIN}sheet"):
        if node.get("name") == sheet:
            rid = node.get(f"{_REL}id")
    if rid is None:
        return None
    rels = SafeET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iter(f"{_PKG_REL}Relationship"):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return None


def declared_extent(path: str, sheet: str) -> tuple[int, int, int] | None:
    """(rows, columns, XML bytes) of a sheet as its <dimension> and zip entry declare them, read
    from the first bytes only; rows and columns are 0 when no dimension is given; None if not found."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None:
                return None
            size = archive.getinfo(part).file_size
            with archive.open(part) as handle:
                head = handle.read(4096).decode("utf-8", "ignore")
    except (zipfile.BadZipFile, KeyError, OSError, SafeET.ParseError, ValueError):
        return None
    match = re.search(r'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+\d+:)?([A-Z]+)(\d+)"', head)
    where = _index(match.group(2) + match.group(3)) if match else None
    return (where[0] + 1, where[1] + 1, size) if where else (0, 0, size)


def scan_sheet(path: str, sheet: str, max_bytes: int = 512 * 1024 * 1024) -> SheetExtras:
    """Error cells, uncached formulas and hidden rows of one sheet; empty when the file is not OOXML."""
    extras = SheetExtras()
    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, sheet)
            if part is None or archive.getinfo(part).file_size > max_bytes:
                return extras
            data = archive.read(part)
    except (zipfile.BadZipFile, KeyError, OSError, SafeET.ParseError):
        return extras
    if not any(hint in data for hint in _HINTS):
        return extras
    row_hidden = f"{_MAIN}row"
    for _, node in SafeET.iterparse(io.BytesIO(data), events=("end",)):
        if node.tag == row_hidden:
            if node.get("hidden") in ("1", "true"):
                extras.hidden_rows.add(int(node.get("r", "0")))
            node.clear()
            continue
        if node.tag != f"{_MAIN}c":
            continue
        where = _index(node.get("r", ""))
        if where is not None:
            value = node.find(f"{_MAIN}v")
            formula = node.find(f"{_MAIN}f")
            if formula is not None and formula.text and UNSAFE.search(formula.text):
                extras.unsafe[node.get("r", "")] = "=" + formula.text[:60]
            if node.get("t") == "e" and value is not None and value.text:
                extras.errors[where] = value.text.strip()
            elif formula is not None and (value is None or value.text in (None, "")) and node.get("t") != "str":
                extras.uncached[where] = "=" + (formula.text or "")
        node.clear()
    return extras


def overlay(rows: list[list[object]], extras: SheetExtras) -> None:
    """Put error literals and uncached formulas into the grid where calamine left blanks."""
    for mapping, make in ((extras.errors, str), (extras.uncached, UncachedFormula)):
        for (r, c), text in mapping.items():
            while len(rows) <= r:
                rows.append([])
            row = rows[r]
            if len(row) <= c:
                row.extend([""] * (c + 1 - len(row)))
            if row[c] in ("", None):
                row[c] = make(text)
