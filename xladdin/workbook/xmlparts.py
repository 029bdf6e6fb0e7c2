"""Text-level helpers for the XML parts of an OOXML package: escaping, the attributes of a tag's text,
where a part's relationships are and what they point at, and the zip the parts are stored in.

The parts are patched as text, never parsed into trees: what the add-in does not own stays byte for byte.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile

from xladdin.workbook.master import ILLEGAL_CHARACTERS_RE


def escape(text: str) -> str:
    """Text as XML character data (what xml.sax.saxutils.escape does, without importing urllib and http),
    without the characters no XML part may hold."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """Text as a double-quoted XML attribute value."""
    text = escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{text}"'


def unescape(text: str) -> str:
    """An attribute or text back from its five predefined XML entities."""
    if "&" not in text:
        return text
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    return text.replace("&amp;", "&")


def attr(attrs: str, name: str) -> str | None:
    """An attribute's value in a tag's attribute text, as written (None when absent)."""
    match = re.search(rf'(?:^|\s){name}="([^"]*)"', attrs)
    return match.group(1) if match else None


def set_attr(tag: str, name: str, value: str) -> str:
    """Set an attribute on the opening tag text `<x a="1" ...>`."""
    if re.search(rf'\s{name}="[^"]*"', tag):
        return re.sub(rf'(\s{name}=)"[^"]*"', lambda m: f'{m.group(1)}"{value}"', tag, count=1)
    end = -2 if tag.endswith("/>") else -1
    return f'{tag[:end]} {name}="{value}"{tag[end:]}'


def zip_of(infos: list[zipfile.ZipInfo], parts: dict[str, bytes]) -> bytes:
    """The parts zipped again, in the order and with the entries' dates of infos."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename])
    return buffer.getvalue()


def rels_of(part: str) -> str:
    """The relationships part of a part: xl/worksheets/_rels/sheet1.xml.rels for xl/worksheets/sheet1.xml."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(source: str, target: str) -> str:
    """The part a relationship of source points at, from its Target (relative, or absolute from the root)."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def rel_targets(parts: dict[str, bytes], part: str, type_suffix: str) -> list[str]:
    """The parts within the package that part's relationships of a type (ending in type_suffix) point at."""
    rels = parts.get(rels_of(part))
    if rels is None:
        return []
    found = []
    for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels.decode("utf-8")):
        if (attr(m.group(1), "Type") or "").endswith(type_suffix) and attr(m.group(1), "TargetMode") != \
                "External":
            found.append(resolve(part, unescape(attr(m.group(1), "Target"))))
    return found


def compressed_entries(raw: bytes) -> dict[str, tuple[zipfile.ZipInfo, int]]:
    """Each entry of the zip `raw`: its central-directory info and the offset its compressed data start at."""
    entries = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for info in archive.infolist():
            start = info.header_offset
            if raw[start:start + 4] != b"PK\x03\x04":
                continue
            name_length, extra_length = struct.unpack("<HH", raw[start + 26:start + 30])
            entries[info.filename] = (info, start + 30 + name_length + extra_length)
    return entries


def write_compressed(archive: zipfile.ZipFile, source: zipfile.ZipInfo, data: bytes | memoryview) -> None:
    """Add an entry whose data are already compressed (`data`, as `source` describes them: method, CRC,
    sizes), copied as they are instead of inflated and deflated again."""
    entry = zipfile.ZipInfo(source.filename, source.date_time)
    entry.compress_type, entry.external_attr, entry.create_system = (source.compress_type, source.external_attr,
                                                                     source.create_system)
    entry.CRC, entry.compress_size, entry.file_size = source.CRC, source.compress_size, source.file_size
    entry.flag_bits = source.flag_bits & ~0x08  # sizes go in the local header: no data descriptor
    entry.header_offset = archive.fp.tell()
    archive.fp.write(entry.FileHeader())
    archive.fp.write(data)
    archive.filelist.append(entry)
    archive.NameToInfo[entry.filename] = entry
    archive.start_dir = archive.fp.tell()
    archive._didModify = True
