"""Screening a submission before anything parses it: size, zip bombs, passwords, macros, links.

Limits come from 设置; every check reads only the file's header or its zip directory, so a hostile
file costs no more than its own size to refuse.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from xladdin.base.issues import Code
from xladdin.domain.settings import Settings

_DEFAULT = Settings()

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


@dataclass(frozen=True)
class Limits:
    """The screening limits, in the units the checks use; the defaults are 设置's (settings.TABLE)."""

    max_file_bytes: int = _DEFAULT.max_file_mb * 2**20
    max_unzip_bytes: int = _DEFAULT.max_unzip_mb * 2**20
    max_rows: int = _DEFAULT.max_rows
    max_cols: int = _DEFAULT.max_cols
    max_cell_chars: int = _DEFAULT.max_cell_chars

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(settings.max_file_mb * 2**20, settings.max_unzip_mb * 2**20, settings.max_rows, settings.max_cols,
                   settings.max_cell_chars)


@dataclass
class Rejection(Exception):
    """A file refused before it is read: an issue code and its message fields."""

    code: str
    fields: dict[str, str] = field(default_factory=dict)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def screen(path: Path, limits: Limits) -> list[str]:
    """Refuse (raise Rejection) what must not be parsed; return warning codes for what may be."""
    warnings, archive = screen_open(path, limits)
    if archive is not None:
        archive.close()
    return warnings


def screen_open(path: Path, limits: Limits) -> tuple[list[str], zipfile.ZipFile | None]:
    """screen, and the file's zip directory left open when it is one (the caller closes it)."""
    warnings, archive, _ = screen_read(path, limits)
    return warnings, archive


def screen_read(path: Path, limits: Limits) -> tuple[list[str], zipfile.ZipFile | None, bytes | None]:
    """screen_open, and the file's bytes when it is a zip: read once (within max_file_bytes, checked
    first), they serve the screen's zip directory, the sheet's part and calamine alike."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise Rejection(Code.FILE_TOO_LARGE, {"detail": "大小", "value": _size(size),
                                           "expected": _size(limits.max_file_bytes)})
    suffix = path.suffix.lower()
    if suffix == ".csv" or size == 0:
        return [], None, None
    data = path.read_bytes()
    head = data[:8]
    if suffix in (".xlsx", ".xlsm") and head.startswith(CFB_MAGIC):
        if ENCRYPTED in data:
            raise Rejection(Code.PASSWORD_PROTECTED)
        return [], None, None  # a legacy .xls under a new name: calamine reads it by content or says why not
    if suffix == ".xls" and head.startswith(CFB_MAGIC) and ENCRYPTED in data:
        raise Rejection(Code.PASSWORD_PROTECTED)
    if not head.startswith(ZIP_MAGIC):
        return [], None, None
    try:
        archive = PlainZip.of(data) or zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return [], None, None  # calamine will report it as unreadable
    try:
        return _screen_zip(archive, limits), archive, data
    except BaseException:
        archive.close()
        raise


def _screen_zip(archive: zipfile.ZipFile, limits: Limits) -> list[str]:
    warnings = []
    infos = archive.infolist()
    inflated = sum(info.file_size for info in infos)
    if inflated > limits.max_unzip_bytes:
        raise Rejection(Code.FILE_TOO_LARGE, {"detail": "解压后", "value": _size(inflated),
                                           "expected": _size(limits.max_unzip_bytes)})
    names = [info.filename for info in infos]
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        warnings.append(Code.HAS_MACROS)
    if any(name.startswith("xl/externalLinks/") for name in names):
        warnings.append(Code.EXTERNAL_LINKS)
    return warnings


_END = struct.Struct("<4s4H2LH")  # end of central directory: signature, disks, counts, size, offset, comment
_ENTRY = struct.Struct("<4s6H3L5H2L")  # central directory entry
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_DEFLATED_OR_STORED = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


@dataclass
class _Entry:
    filename: str
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int
    compress_type: int
    raw_name: bytes


class PlainZip:
    """The zip directory of a plain package (what Excel, WPS and openpyxl write: one disk, no zip64, no
    encryption, entries stored or deflated, names the same in the directory and the entries), read with struct from bytes already in memory; the part of
    zipfile.ZipFile that screening and the reader use (infolist, getinfo, read, close). Anything else
    is left to zipfile (`of` gives None), which knows every case and refuses the broken ones."""

    def __init__(self, data: bytes, entries: dict[str, _Entry], order: list[_Entry]):
        self._data, self._entries, self._order = data, entries, order

    @classmethod
    def of(cls, data: bytes) -> "PlainZip | None":
        end = len(data) - _END.size
        if end < 0 or data[end:end + 4] != b"PK\x05\x06":
            return None  # a comment after the directory, or no directory where it belongs
        _, disk, start_disk, _on_disk, count, size, offset, comment = _END.unpack_from(data, end)
        if disk or start_disk or comment or offset + size != end or 0xFFFF in (count,) or offset == 0xFFFFFFFF:
            return None
        entries: dict[str, _Entry] = {}
        order: list[_Entry] = []
        at = offset
        for _ in range(count):
            if at + _ENTRY.size > end:
                return None
            (sig, _made, _needed, flags, method, _time, _date, crc, csize, usize, nlen, xlen, clen, _disk, _iattr,
             _eattr, local) = _ENTRY.unpack_from(data, at)
            if sig != b"PK\x01\x02" or flags & 0x61 or method not in _DEFLATED_OR_STORED \
                    or 0xFFFFFFFF in (csize, usize, local):
                return None
            raw = data[at + _ENTRY.size:at + _ENTRY.size + nlen]
            name = raw.decode("utf-8" if flags & 0x800 else "cp437")
            name = name.split("\0", 1)[0]  # as zipfile reads a name
            entry = _Entry(name, crc, csize, usize, local, method, raw)
            entries[name] = entry  # a name twice: the last, as zipfile finds it
            order.append(entry)
            at += _ENTRY.size + nlen + xlen + clen
        if at != end:
            return None
        return cls(data, entries, order)

    def infolist(self) -> list[_Entry]:
        return list(self._order)

    def namelist(self) -> list[str]:
        return [entry.filename for entry in self._order]

    def getinfo(self, name: str) -> _Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"There is no item named {name!r} in the archive") from None

    def read(self, name: str) -> bytes:
        """An entry's bytes, inflated no further than its declared size and checked against its CRC."""
        entry = self.getinfo(name)
        data = self._data
        at = entry.header_offset
        if at + _LOCAL.size > len(data):
            raise zipfile.BadZipFile("Truncated file header")
        sig, *_, nlen, xlen = _LOCAL.unpack_from(data, at)
        if sig != b"PK\x03\x04":
            raise zipfile.BadZipFile("Bad magic number for file header")
        if data[at + _LOCAL.size:at + _LOCAL.size + nlen] != entry.raw_name:
            raise zipfile.BadZipFile(f"File name in directory {name!r} and header differ.")
        start = at + _LOCAL.size + nlen + xlen
        raw = data[start:start + entry.compress_size]
        if len(raw) != entry.compress_size:
            raise zipfile.BadZipFile("Truncated file")
        if entry.compress_type == zipfile.ZIP_STORED:
            out = raw
        else:
            inflate = zlib.decompressobj(-15)
            out = inflate.decompress(raw, entry.file_size + 1)  # a bomb stops one byte past what it declared
        if len(out) != entry.file_size or zlib.crc32(out) != entry.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
        return out

    def open(self, name: str):
        return io.BytesIO(self.read(name))

    def close(self) -> None:
        self._data = b""

    def __enter__(self) -> "PlainZip":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
