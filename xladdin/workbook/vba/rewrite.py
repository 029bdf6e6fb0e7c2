"""An existing master's VBA project: read (its modules, and everything else it holds), and written again
with our modules replaced or added while every module staff wrote is kept with its source, its cookie line
and its workspace line. Section numbers are those of [MS-OVBA].
"""

from __future__ import annotations

import io
import os
import re
import struct
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from xladdin.base.errors import MasterUnusable
from xladdin.workbook.vba import cfb
from xladdin.workbook.vba.ovba import decompress
from xladdin.workbook.vba.project import (
    CLASS,
    CODEPAGE,
    DESIGNER,
    DOCUMENT,
    MODULE,
    Module,
    ProjectBase,
    encoding,
    write_project,
)


class VbaProjectError(MasterUnusable):
    """The master's VBA project cannot be read, so it cannot be rewritten without losing staff macros."""


def _records(data: bytes):
    """(id, payload) of each dir-stream record; PROJECTVERSION's size field does not count its six bytes."""
    pos = 0
    while pos + 6 <= len(data):
        record_id, size = struct.unpack_from("<HI", data, pos)
        if record_id == 0x09:
            size = 6
        if pos + 6 + size > len(data):
            raise ValueError(f"record 0x{record_id:02X} runs past the dir stream")
        yield pos, record_id, data[pos + 6:pos + 6 + size]
        pos += 6 + size
        if record_id == 0x10:
            return
    raise ValueError("dir stream has no terminator")


@dataclass
class _Parsed:
    modules: list[Module]
    base: ProjectBase


def _parse(data: bytes) -> _Parsed:
    import olefile

    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        dir_stream = decompress(ole.openstream("VBA/dir").read())
        codepage = CODEPAGE
        head_end = None
        entries: list[dict] = []
        current: dict | None = None
        for pos, record_id, payload in _records(dir_stream):
            if record_id == 0x03:
                codepage = struct.unpack("<H", payload)[0]
            elif record_id == 0x0F:
                head_end = pos
            elif record_id == 0x19:
                current = {"name": payload, "kind": MODULE, "offset": 0, "help": 0, "doc": b"", "doc_u": b"",
                           "private": False, "read_only": False}
                entries.append(current)
            elif current is not None:
                key = {0x47: "name_u", 0x1A: "stream", 0x32: "stream_u", 0x1C: "doc", 0x48: "doc_u"}.get(record_id)
                if key:
                    current[key] = payload
                elif record_id == 0x31:
                    current["offset"] = struct.unpack("<I", payload)[0]
                elif record_id == 0x1E:
                    current["help"] = struct.unpack("<I", payload)[0]
                elif record_id == 0x22:
                    current["kind"] = CLASS
                elif record_id == 0x25:
                    current["read_only"] = True
                elif record_id == 0x28:
                    current["private"] = True
        if head_end is None:
            raise ValueError("dir stream has no module list")
        codec = encoding(codepage)
        lines = ole.openstream("PROJECT").read().split(b"\r\n")
        kinds: dict[str, str] = {}
        item_lines: list[tuple[str | None, str | None, bytes]] = []
        properties: list[bytes] = []
        id_line = b""
        section = None
        host: list[bytes] = []
        workspace: dict[str, bytes] = {}
        for line in lines:
            if line.startswith(b"["):
                section = line
            if section is None:
                key, _, value = line.partition(b"=")
                text = value.decode(codec, errors="replace")
                if key == b"ID":
                    id_line = line
                elif key in (b"Document", b"Module", b"Class", b"BaseClass"):
                    name = text.split("/&H")[0] if key == b"Document" else text
                    kinds[name.lower()] = {b"Document": DOCUMENT, b"Module": MODULE, b"Class": CLASS,
                                           b"BaseClass": DESIGNER}[key]
                    item_lines.append((name, kinds[name.lower()], line))
                elif key == b"Package":
                    item_lines.append((None, None, line))
                elif line:
                    properties.append(line)
            elif section.lower() == b"[workspace]":
                if line and not line.startswith(b"["):
                    workspace[line.partition(b"=")[0].decode(codec, errors="replace").lower()] = line
            elif line or host:
                host.append(line)
        if not id_line:
            raise ValueError("PROJECT stream has no ID")
        modules = []
        for e in entries:
            name = e["name_u"].decode("utf-16-le") if e.get("name_u") else e["name"].decode(codec)
            stream = e["stream_u"].decode("utf-16-le") if e.get("stream_u") else e["stream"].decode(codec)
            kind = e["kind"] if e["kind"] == MODULE else kinds.get(name.lower(), CLASS)
            source = decompress(ole.openstream(f"VBA/{stream}").read()[e["offset"]:])
            modules.append(Module(name, kind, source, stream if stream != name else "", e["doc"], e["doc_u"],
                                  e["help"], e["private"], e["read_only"]))
        extra: dict[str, bytes | cfb.Storage] = {}
        for path in ole.listdir(streams=True, storages=True):
            if path[0] in ("PROJECT", "PROJECTwm", "VBA"):
                continue
            _place(extra, path, ole)
        base = ProjectBase(codepage, dir_stream[:head_end], id_line, item_lines, properties,
                     b"\r\n".join(host).rstrip(b"\r\n"), workspace, extra)
        return _Parsed(modules, base)
    finally:
        ole.close()


def _place(tree: dict, path: list[str], ole) -> None:
    """Copy one entry outside PROJECT/VBA (a form's designer storage, PROJECTlk) as it is."""
    for depth, name in enumerate(path[:-1]):
        node = tree.get(name)
        if not isinstance(node, cfb.Storage):
            node = tree[name] = cfb.Storage(clsid=_clsid(ole, path[:depth + 1]))
        tree = node.entries
    if ole.get_type(path) == 1:  # storage
        tree.setdefault(path[-1], cfb.Storage(clsid=_clsid(ole, path)))
    else:
        tree[path[-1]] = ole.openstream(path).read()


def _clsid(ole, path: list[str]) -> bytes:
    text = ole.getclsid(path)
    return uuid.UUID(text).bytes_le if text else bytes(16)


def read_modules(data: bytes) -> list[Module]:
    """The modules of a vbaProject.bin; VbaProjectError when it cannot be read."""
    return _read(data).modules


def _read(data: bytes) -> _Parsed:
    try:
        return _parse(data)
    except (OSError, EOFError, ValueError, KeyError, IndexError, struct.error) as exc:  # a flaw in the file
        error = VbaProjectError("母表中的宏工程（VBA）已损坏，无法读取。为免丢失其中的宏，本次没有改动母表。"
                                "请用 Excel 打开母表检查宏，或从“备份”文件夹恢复上一份母表。")
        error.detail = f"{type(exc).__name__}: {exc}"  # for the log, not for staff
        raise error from exc


def rewrite_project(existing: bytes, ours: Callable[[int], list[Module]], leftovers: tuple[Module, ...] = ()) -> bytes:
    """existing with each of our modules (ours(code page) gives them) replaced or added, and every other
    module kept with its source.

    A module in leftovers is dropped only when its source is exactly the leftover's: staff may have edited it.
    """
    parsed = _read(existing)
    by_name = {m.name.lower(): m for m in ours(parsed.base.codepage)}
    stale = {(m.name.lower(), _normalized(m.code)) for m in leftovers}
    modules: list[Module] = []
    for m in parsed.modules:
        if m.name.lower() in by_name:
            mine = by_name.pop(m.name.lower())
            modules.append(replace(mine, stream=m.stream if m.stream_name != mine.name else ""))
        elif (m.name.lower(), _normalized(m.code)) not in stale:
            modules.append(m)
    modules += by_name.values()
    return write_project(modules, parsed.base)


def _normalized(code: bytes) -> bytes:
    return re.sub(rb"\s+", b" ", code).strip()


def replace_in_package(path: Path, rewrite) -> None:
    """Rewrite xl/vbaProject.bin of an .xlsm in place with rewrite(old_bytes); every other part unchanged."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        parts = {info.filename: archive.read(info) for info in infos}
    if "xl/vbaProject.bin" not in parts:
        raise VbaProjectError(f"{path.name} 中没有宏工程（VBA）。请使用 xladdin init 新建的 .xlsm 母表。")
    parts["xl/vbaProject.bin"] = rewrite(parts["xl/vbaProject.bin"])
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in infos:
                archive.writestr(info, parts[info.filename])
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
