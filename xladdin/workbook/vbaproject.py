"""The master's VBA project (xl/vbaProject.bin), written from module sources, and rewritten in an existing
master without dropping a module that staff wrote.

The project is source only, as [MS-OVBA] 2.3.4.1 allows: `_VBA_PROJECT` carries version 0xFFFF and no
performance cache, every module stream holds its compressed source from offset 0, and Office compiles the
modules when it opens the workbook. No cache is ever written or kept, real or made up. The streams follow
what EPPlus (ExcelVbaProject) and LibreOffice (oox/source/ole/vbaexport.cxx) write; section numbers are
those of [MS-OVBA].
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

from . import cfb
from .master import MasterUnusable

# What a Chinese-locale Excel writes; the sources this package writes are ASCII, so any code page reads them.
CODEPAGE = 936
PROJECT_NAME = "VBAProject"
# Fixed, so that building the same master twice gives the same bytes.
PROJECT_ID = "{6A1D3C52-7E0B-4F4C-9C3E-58D1A7C0B214}"
ENCRYPTION_SEED = 0x5A
# stdole and Office, as Excel itself references them.
REFERENCES = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\Windows\System32\stdole2.tlb#OLE Automation"),
    ("Office", r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#C:\Program Files\Common Files\Microsoft Shared"
               r"\OFFICE16\MSO.DLL#Microsoft Office 16.0 Object Library"),
)
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
SHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"

MODULE, CLASS, DOCUMENT, DESIGNER = "module", "class", "document", "designer"


class VbaProjectError(MasterUnusable):
    """The master's VBA project cannot be read, so it cannot be rewritten without losing staff macros."""


@dataclass(frozen=True)
class Module:
    """One VBA module: its name, kind and source (Attribute lines included) in the project's code page."""

    name: str
    kind: str
    code: bytes
    stream: str = ""
    doc: bytes = b""
    doc_unicode: bytes = b""
    help_context: int = 0
    private: bool = False
    read_only: bool = False

    @property
    def stream_name(self) -> str:
        return self.stream or self.name

    def text(self, codepage: int = CODEPAGE) -> str:
        return self.code.decode(encoding(codepage), errors="replace")


def encoding(codepage: int) -> str:
    """Python's codec for a VBA project code page."""
    return {65001: "utf-8", 1200: "utf-16-le"}.get(codepage, f"cp{codepage}")


# -- 2.4.1 compression -----------------------------------------------------------------------------------

CHUNK = 4096


def _bit_count(position: int) -> int:
    """2.4.1.3.19.1: bits of a copy token's offset at this position of the decompressed chunk."""
    return max((position - 1).bit_length(), 4)


def compress(data: bytes) -> bytes:
    """A CompressedContainer (2.4.1.1.1) holding data."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data[start:start + CHUNK])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    body = bytearray()
    seen: dict[bytes, list[int]] = {}
    position, size = 0, len(chunk)

    def remember(at: int) -> None:
        key = chunk[at:at + 3]
        if len(key) == 3:
            seen.setdefault(key, []).append(at)

    while position < size:
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if position >= size:
                break
            bits = _bit_count(position) if position else 4  # nothing to copy from at 0
            longest = min((0xFFFF >> bits) + 3, size - position)
            best_length, best_at = 0, 0
            for candidate in reversed(seen.get(chunk[position:position + 3], [])[-48:]):
                length = 0
                while length < longest and chunk[candidate + length] == chunk[position + length]:
                    length += 1
                if length > best_length:
                    best_length, best_at = length, candidate
                    if length == longest:
                        break
            if best_length >= 3:
                token = ((position - best_at - 1) << (16 - bits)) | (best_length - 3)
                body += struct.pack("<H", token)
                body[flag_at] |= 1 << bit
                for at in range(position, position + best_length):
                    remember(at)
                position += best_length
            else:
                body.append(chunk[position])
                remember(position)
                position += 1
    if len(body) <= CHUNK:
        return struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
    if size < CHUNK:  # a raw chunk holds exactly 4096 bytes; padding would add NULs to the source
        raise ValueError("incompressible final chunk")
    return struct.pack("<H", 0x3000 | (CHUNK + 2 - 3)) + chunk


def decompress(data: bytes) -> bytes:
    """The bytes a CompressedContainer holds (2.4.1.3.1); ValueError when it is not one."""
    if not data or data[0] != 1:
        raise ValueError("not a compressed container")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated chunk header")
        header = data[pos] | data[pos + 1] << 8
        if (header >> 12) & 7 != 3:
            raise ValueError("bad chunk signature")
        end = min(len(data), pos + (header & 0x0FFF) + 3)
        pos += 2
        start = len(out)
        if not header & 0x8000:
            out += data[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > end:
                    raise ValueError("truncated copy token")
                token = data[pos] | data[pos + 1] << 8
                pos += 2
                bits = _bit_count(len(out) - start)
                length = (token & (0xFFFF >> bits)) + 3
                source = len(out) - ((token >> (16 - bits)) + 1)
                if source < start:
                    raise ValueError("copy token points before its chunk")
                for k in range(length):
                    out.append(out[source + k])
    return bytes(out)


# -- 2.4.3 data encryption (the PROJECT stream's CMG, DPB and GC) ----------------------------------------

def encrypt(data: bytes, project_id: str = PROJECT_ID, seed: int = ENCRYPTION_SEED) -> str:
    """2.4.3.2: data encrypted with the project's key, as the hex text the PROJECT stream carries."""
    project_key = sum(project_id.encode("ascii")) & 0xFF
    version_enc, key_enc = seed ^ 2, seed ^ project_key
    out = [seed, version_enc, key_enc]
    plain1, enc1, enc2 = project_key, key_enc, version_enc
    for plain in [0] * ((seed & 6) // 2) + list(struct.pack("<I", len(data))) + list(data):
        byte = plain ^ ((enc2 + plain1) & 0xFF)
        out.append(byte)
        plain1, enc1, enc2 = plain, byte, enc1
    return "".join(f"{b:02X}" for b in out)


# -- writing -----------------------------------------------------------------------------------------------

def _record(record_id: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _text_record(record_id: int, unicode_id: int, text: str, codepage: int) -> bytes:
    return _record(record_id, text.encode(encoding(codepage))) + _record(unicode_id, text.encode("utf-16-le"))


def _information(codepage: int) -> bytes:
    """PROJECTINFORMATION (2.3.4.2.1) and PROJECTREFERENCES (2.3.4.2.2) of a new project."""
    head = (_record(0x01, struct.pack("<I", 1))          # SysKind: Win32, as EPPlus and LibreOffice write
            + _record(0x02, struct.pack("<I", 0x409))    # Lcid: MUST be 0x409
            + _record(0x14, struct.pack("<I", 0x409))    # LcidInvoke: MUST be 0x409
            + _record(0x03, struct.pack("<H", codepage))
            + _record(0x04, PROJECT_NAME.encode("ascii"))
            + _record(0x05) + _record(0x40)              # DocString, empty
            + _record(0x06) + _record(0x3D)              # HelpFile, empty
            + _record(0x07, struct.pack("<I", 0))        # HelpContext
            + _record(0x08, struct.pack("<I", 0))        # LibFlags
            + struct.pack("<HIIH", 0x09, 4, 1467127224, 5)  # Version: its size field says 4, six bytes follow
            + _record(0x0C) + _record(0x3C))             # Constants, empty
    for name, libid in REFERENCES:
        head += _text_record(0x16, 0x3E, name, codepage)
        raw = libid.encode("ascii")
        head += _record(0x0D, struct.pack("<I", len(raw)) + raw + struct.pack("<IH", 0, 0))
    return head


def _module_records(modules: list[Module], codepage: int) -> bytes:
    """PROJECTMODULES (2.3.4.2.3): every module's name, stream, offset 0 (no cache) and type."""
    out = _record(0x0F, struct.pack("<H", len(modules))) + _record(0x13, struct.pack("<H", 0xFFFF))
    codec = encoding(codepage)
    for m in modules:
        out += _record(0x19, m.name.encode(codec)) + _record(0x47, m.name.encode("utf-16-le"))
        out += _text_record(0x1A, 0x32, m.stream_name, codepage)
        out += _record(0x1C, m.doc) + _record(0x48, m.doc_unicode)
        out += _record(0x31, struct.pack("<I", 0))
        out += _record(0x1E, struct.pack("<I", m.help_context))
        out += _record(0x2C, struct.pack("<H", 0xFFFF))
        out += _record(0x21 if m.kind == MODULE else 0x22)
        if m.read_only:
            out += _record(0x25)
        if m.private:
            out += _record(0x28)
        out += _record(0x2B)
    return out + _record(0x10)


def _item_line(module: Module, codepage: int) -> bytes:
    """A module's line in the PROJECT stream (2.3.1.3)."""
    name = module.name.encode(encoding(codepage))
    if module.kind == DOCUMENT:
        return b"Document=" + name + b"/&H00000000"
    return {MODULE: b"Module=", CLASS: b"Class=", DESIGNER: b"BaseClass="}[module.kind] + name


def _projectwm(modules: list[Module], codepage: int) -> bytes:
    """PROJECTwm (2.3.3): each module name in the code page and in UTF-16."""
    out = b"".join(m.name.encode(encoding(codepage)) + b"\0" + m.name.encode("utf-16-le") + b"\0\0"
                   for m in modules)
    return out + b"\0\0"


def _vba_project_stream() -> bytes:
    """_VBA_PROJECT (2.3.4.1): Reserved1, Version 0xFFFF, Reserved2, Reserved3 and no PerformanceCache."""
    return struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0000)


@dataclass
class _Base:
    """What an existing project keeps when it is rewritten: everything but the module list."""

    codepage: int
    dir_head: bytes
    id_line: bytes
    items: list[tuple[str | None, str | None, bytes]]   # (module name, its kind, line); no name: Package=
    properties: list[bytes]
    host_extenders: bytes
    workspace: dict[str, bytes]
    extra: dict[str, "bytes | cfb.Storage"]


def _new_base() -> _Base:
    properties = [f'Name="{PROJECT_NAME}"'.encode(), b'HelpContextID="0"', b'VersionCompatible32="393222000"',
                  f'CMG="{encrypt(bytes(4))}"'.encode(),   # no protection
                  f'DPB="{encrypt(bytes(1))}"'.encode(),   # no password
                  f'GC="{encrypt(bytes([0xFF]))}"'.encode()]  # visible
    return _Base(CODEPAGE, _information(CODEPAGE), f'ID="{PROJECT_ID}"'.encode(), [], properties,
                 b"[Host Extender Info]\r\n&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n",
                 {}, {})


def _write(modules: list[Module], base: _Base) -> bytes:
    names = [m.name.lower() for m in modules]
    if len(set(names)) != len(names):
        raise ValueError("two modules share a name")
    kinds = {m.name.lower(): m.kind for m in modules}
    # a module's old line stays (with its cookie) unless the module is gone or changed kind
    kept = [(name, line) for name, kind, line in base.items if name is None or kinds.get(name.lower()) == kind]
    known = {name.lower() for name, _ in kept if name}
    items = [line for _, line in kept]
    items += [_item_line(m, base.codepage) for m in modules if m.name.lower() not in known]
    workspace = [base.workspace.get(m.name.lower(), m.name.encode(encoding(base.codepage)) + b"=0, 0, 0, 0, C")
                 for m in modules]
    project = b"\r\n".join([base.id_line, *items, *base.properties]) + b"\r\n\r\n"
    project += base.host_extenders.rstrip(b"\r\n") + b"\r\n\r\n[Workspace]\r\n"
    project += b"".join(line + b"\r\n" for line in workspace)
    vba = cfb.Storage({"_VBA_PROJECT": _vba_project_stream(),
                       "dir": compress(base.dir_head + _module_records(modules, base.codepage))})
    for m in modules:
        vba.entries[m.stream_name] = compress(m.code)
    root = cfb.Storage({**base.extra, "PROJECT": project, "PROJECTwm": _projectwm(modules, base.codepage),
                        "VBA": vba})
    return cfb.write(root)


def build_project(modules: list[Module]) -> bytes:
    """A new vbaProject.bin holding these modules."""
    return _write(list(modules), _new_base())


# -- reading -------------------------------------------------------------------------------------------------

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
    base: _Base


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
        base = _Base(codepage, dir_stream[:head_end], id_line, item_lines, properties,
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
    return _write(modules, parsed.base)


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
