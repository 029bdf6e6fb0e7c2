"""What calamine does not tell of an .xls (BIFF8) sheet: its error cells (#DIV/0!, #REF!…, which calamine reads
as blanks that became 0) and its hidden rows, so an .xls is checked as its .xlsx twin is (xmlscan.py).

Read from the Workbook stream's records only: BOUNDSHEET (where each sheet starts), FORMULA and BOOLERR
(a cached error), ROW (a row's height of zero: hidden).
"""

from __future__ import annotations

import struct

import olefile

from xladdin.workbook.xmlscan import SheetExtras

_BOF, _EOF, _BOUNDSHEET, _FORMULA, _BOOLERR, _ROW = 0x0809, 0x000A, 0x0085, 0x0006, 0x0205, 0x0208
_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
           0x2A: "#N/A"}
_ROW_HIDDEN = 0x0020  # fDyZero


def scan_biff(path: str, sheet: str, max_bytes: int = 256 * 1024 * 1024) -> SheetExtras:
    """Error cells and hidden rows of one sheet of an .xls; empty when the file cannot be read this way."""
    extras = SheetExtras()
    try:
        with olefile.OleFileIO(path) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None or ole.get_size(stream) > max_bytes:
                return extras
            data = ole.openstream(stream).read()
    except Exception:  # not an OLE file, or a broken one: calamine's reading stands alone
        return extras
    try:
        start = _sheet_offset(data, sheet)
        if start is not None:
            _scan_sheet(data, start, extras)
    except (struct.error, IndexError, UnicodeDecodeError):
        return SheetExtras()
    return extras


def _records(data: bytes, at: int):
    while at + 4 <= len(data):
        kind, size = struct.unpack_from("<HH", data, at)
        yield at, kind, data[at + 4:at + 4 + size]
        at += 4 + size


def _sheet_offset(data: bytes, sheet: str) -> int | None:
    for _, kind, body in _records(data, 0):
        if kind == _BOUNDSHEET:
            offset, length, flags = struct.unpack_from("<I", body, 0)[0], body[6], body[7]
            raw = body[8:8 + length * (2 if flags & 1 else 1)]
            name = raw.decode("utf-16-le" if flags & 1 else "latin-1")
            if name == sheet:
                return offset
        elif kind == _EOF:  # the workbook globals end before the first sheet
            return None
    return None


def _scan_sheet(data: bytes, start: int, extras: SheetExtras) -> None:
    for at, kind, body in _records(data, start):
        if kind == _EOF:
            return
        if kind == _FORMULA and len(body) >= 14:
            row, col = struct.unpack_from("<HH", body, 0)
            result = body[6:14]
            if result[6:8] == b"\xff\xff" and result[0] == 0x02:  # a cached error value
                extras.errors[(row, col)] = _ERRORS.get(result[2], "#VALUE!")
        elif kind == _BOOLERR and len(body) >= 8:
            row, col = struct.unpack_from("<HH", body, 0)
            if body[7] == 1:
                extras.errors[(row, col)] = _ERRORS.get(body[6], "#VALUE!")
        elif kind == _ROW and len(body) >= 16:
            row = struct.unpack_from("<H", body, 0)[0]
            if struct.unpack_from("<H", body, 12)[0] & _ROW_HIDDEN:
                extras.hidden_rows.add(row + 1)
