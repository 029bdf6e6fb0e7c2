"""What python-calamine does not report in an .xlsx/.xlsm sheet: error values, formulas without a
cached value, hidden rows. Read from the sheet's XML bytes, and only when a cheap byte scan shows the
sheet has any of them; a part that declares a DTD is parsed by defusedxml instead, which refuses it.
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
# <f>, <f .../>, <f/> is a formula element; "<f" alone would also match <formula1> of a data validation.
# A prefixed formula element (<x:f>) needs its prefix declared for the main namespace (Excel never does).
_MAIN_URIS = (b"spreadsheetml/2006/main", b"/ooxml/spreadsheetml/main")
_PREFIX_DECLARED = re.compile(rb"xmlns:[\w.-]+\s*=\s*[\"'][^\"']*$")
_AFTER_NAME = frozenset(b"> /\t\r\n")  # what may follow an element's name
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


_HOSTILE = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype")  # left to defusedxml, which refuses them
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"([\w:]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_CELL = re.compile(rb"<((?:\w+:)?)c\b([^>]*?)(?:/>|>(.*?)</\1c>)", re.S)
_FORMULA = re.compile(rb"<((?:\w+:)?)f\b[^>]*?(?:/>|>(.*?)</\1f>)", re.S)
_VALUE = re.compile(rb"<((?:\w+:)?)v\b[^>]*?(?:/>|>(.*?)</\1v>)", re.S)
_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(raw: bytes) -> str:
    """XML character data or an attribute's value as text (the five entities and character references)."""
    text = raw.decode("utf-8", "replace")
    if "&" not in text:
        return text

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name[0] == "#":
            return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
        return _NAMED[name]

    return _REFERENCE.sub(one, text)


def _attributes(raw: bytes) -> dict[str, str]:
    """An element's attributes by local name (r:id → id; the first of two local names wins)."""
    found: dict[str, str] = {}
    for name, double, single in _ATTRIBUTE.findall(raw):
        local = name.rsplit(b":", 1)[-1].decode("ascii", "replace")
        found.setdefault(local, _unescape(double if double or not single else single))
    return found


_PARTS: dict[tuple, str | None] = {}  # (sheet, workbook part's and relationships' CRC and size) -> part


def sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip entry of a named sheet, from xl/workbook.xml and its relationships, read as bytes (a part
    declaring a DTD goes through defusedxml, which refuses it). Files made from one template share these
    two parts: found once per process for each pair, by the CRC and size the zip directory gives."""
    book_info, rels_info = archive.getinfo("xl/workbook.xml"), archive.getinfo("xl/_rels/workbook.xml.rels")
    key = (sheet, book_info.CRC, book_info.file_size, rels_info.CRC, rels_info.file_size)
    if key not in _PARTS:
        if len(_PARTS) > 4096:
            _PARTS.clear()
        _PARTS[key] = _find_sheet_part(archive, sheet)
    return _PARTS[key]


def _find_sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    book = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    if any(mark in book or mark in rels for mark in _HOSTILE):
        return _sheet_part(archive, sheet)
    rid = None
    for raw in _SHEET.findall(book):
        attributes = _attributes(raw)
        if attributes.get("name") == sheet:
            rid = attributes.get("id")
    if rid is None:
        return None
    for raw in _RELATIONSHIP.findall(rels):
        attributes = _attributes(raw)
        if attributes.get("Id") == rid:
            return _target(attributes.get("Target", ""))
    return None


def _target(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


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
            return _target(rel.get("Target", ""))
    return None


def part_extent(archive: zipfile.ZipFile, part: str, data: bytes | None = None) -> tuple[int, int, int]:
    """(rows, columns, XML bytes) of a sheet part as its <dimension> and zip entry declare them, read
    from the first bytes only (of `data` when the part was read already); rows and columns are 0 when no
    dimension is given."""
    size = archive.getinfo(part).file_size
    if data is not None:
        head = data[:4096].decode("utf-8", "ignore")
    else:
        with archive.open(part) as handle:
            head = handle.read(4096).decode("utf-8", "ignore")
    match = re.search(r'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]+\d+:)?([A-Z]+)(\d+)"', head)
    where = _index(match.group(2) + match.group(3)) if match else None
    return (where[0] + 1, where[1] + 1, size) if where else (0, 0, size)


def declared_extent(path: str, sheet: str) -> tuple[int, int, int] | None:
    """part_extent of a named sheet of a file; None if not found."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, sheet)
            return None if part is None else part_extent(archive, part)
    except (zipfile.BadZipFile, KeyError, OSError, SafeET.ParseError, ValueError):
        return None


def scan_sheet(path: str, sheet: str, max_bytes: int = 512 * 1024 * 1024) -> SheetExtras:
    """Error cells, uncached formulas and hidden rows of one sheet; empty when the file is not OOXML."""
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, sheet)
            return SheetExtras() if part is None else scan_part(archive, part, max_bytes)
    except (zipfile.BadZipFile, KeyError, OSError, SafeET.ParseError):
        return SheetExtras()


def scan_part(archive: zipfile.ZipFile, part: str, max_bytes: int = 512 * 1024 * 1024,
              data: bytes | None = None) -> SheetExtras:
    """Error cells, uncached formulas and hidden rows of one sheet part (`data`: its bytes, when read
    already): a byte-level pass over its XML (one regular expression per element kind), only when a
    byte search shows it has any of them; a part declaring a DTD goes through defusedxml, which refuses it."""
    if data is None:
        if archive.getinfo(part).file_size > max_bytes:
            return SheetExtras()
        data = archive.read(part)
    # Four byte searches over a plain sheet, none of which finds anything (a regex alternation is slower).
    errors = b't="e"' in data
    hidden = b"hidden" in data
    formulas = _element(data, b"<f") or _prefixed(data) and _element(data, b":f")
    if not (errors or hidden or formulas):
        return SheetExtras()
    if any(mark in data for mark in _HOSTILE):
        return _parsed(data)
    extras = SheetExtras()
    if hidden:
        for raw in _ROW.findall(data):
            attributes = _attributes(raw)
            if attributes.get("hidden") in ("1", "true"):
                extras.hidden_rows.add(int(attributes.get("r", "0")))
    if not (errors or formulas):
        return extras
    for _prefix, raw, inner in _CELL.findall(data):
        if b"f" not in inner and b't="e"' not in raw:
            continue
        attributes = _attributes(raw)
        address = attributes.get("r", "")
        where = _index(address)
        if where is None:
            continue
        formula = _FORMULA.search(inner)
        value = _VALUE.search(inner)
        formula_text = _unescape(formula.group(2)) if formula is not None and formula.group(2) else None
        value_text = _unescape(value.group(2)) if value is not None and value.group(2) else None
        if formula_text and UNSAFE.search(formula_text):
            extras.unsafe[address] = "=" + formula_text[:60]
        kind = attributes.get("t")
        if kind == "e" and value_text:
            extras.errors[where] = value_text.strip()
        elif formula is not None and not value_text and kind != "str":
            extras.uncached[where] = "=" + (formula_text or "")
    return extras


def _prefixed(data: bytes) -> bool:
    """Whether the part declares a prefix for the main namespace (xmlns:x="…/main"), so that its elements
    may be written <x:f>: found by the namespace's name (a long needle, quickly skipped over)."""
    for uri in _MAIN_URIS:
        at = data.find(uri)
        while at >= 0:
            if _PREFIX_DECLARED.search(data, max(0, at - 200), at):
                return True
            at = data.find(uri, at + len(uri))
    return False


def _element(data: bytes, opening: bytes) -> bool:
    """Whether `opening` (b"<f") occurs as a whole element name: followed by '>', '/' or a space, not
    as the start of a longer name (<formula1>, <family>)."""
    end = len(data)
    at = data.find(opening)
    while at >= 0:
        after = at + len(opening)
        if after < end and data[after] in _AFTER_NAME:
            return True
        at = data.find(opening, after)
    return False


def _parsed(data: bytes) -> SheetExtras:
    """scan_part by a full defusedxml parse (which refuses entities and DTDs)."""
    extras = SheetExtras()
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
