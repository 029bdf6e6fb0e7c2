"""The master's VBA project (xl/vbaProject.bin), written from module sources; `vbarewrite` reads an existing
project and writes it again through here.

The project is source only, as [MS-OVBA] 2.3.4.1 allows: `_VBA_PROJECT` carries version 0xFFFF and no
performance cache, every module stream holds its compressed source from offset 0, and Office compiles the
modules when it opens the workbook. No cache is ever written or kept, real or made up. The streams follow
what EPPlus (ExcelVbaProject) and LibreOffice (oox/source/ole/vbaexport.cxx) write; section numbers are
those of [MS-OVBA].
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from xladdin.workbook.vba import cfb
from xladdin.workbook.vba.ovba import compress, encrypt

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
class ProjectBase:
    """What an existing project keeps when it is rewritten: everything but the module list."""

    codepage: int
    dir_head: bytes
    id_line: bytes
    items: list[tuple[str | None, str | None, bytes]]   # (module name, its kind, line); no name: Package=
    properties: list[bytes]
    host_extenders: bytes
    workspace: dict[str, bytes]
    extra: dict[str, "bytes | cfb.Storage"]


def _new_base() -> ProjectBase:
    properties = [f'Name="{PROJECT_NAME}"'.encode(), b'HelpContextID="0"', b'VersionCompatible32="393222000"',
                  f'CMG="{encrypt(bytes(4), PROJECT_ID, ENCRYPTION_SEED)}"'.encode(),   # no protection
                  f'DPB="{encrypt(bytes(1), PROJECT_ID, ENCRYPTION_SEED)}"'.encode(),   # no password
                  f'GC="{encrypt(bytes([0xFF]), PROJECT_ID, ENCRYPTION_SEED)}"'.encode()]  # visible
    return ProjectBase(CODEPAGE, _information(CODEPAGE), f'ID="{PROJECT_ID}"'.encode(), [], properties,
                 b"[Host Extender Info]\r\n&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n",
                 {}, {})


def write_project(modules: list[Module], base: ProjectBase) -> bytes:
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
    return write_project(list(modules), _new_base())
