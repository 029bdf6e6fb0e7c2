"""Screening a submission before anything parses it: size, zip bombs, passwords, macros, links.

Limits come from 设置; every check reads only the file's header or its zip directory, so a hostile
file costs no more than its own size to refuse.
"""

from __future__ import annotations

import io
import zipfile
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
        archive = zipfile.ZipFile(io.BytesIO(data))
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
