"""A small MS-CFB (compound file) writer: version 3, 512-byte sectors, a mini stream for small streams.

olefile reads compound files but cannot create one, and a vbaProject.bin is a few dozen kilobytes in a
handful of storages, so the container is written here. Section numbers are those of [MS-CFB].
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
ENTRIES_PER_SECTOR = SECTOR // 128
IDS_PER_SECTOR = SECTOR // 4
HEADER_DIFAT = 109

FREESECT, ENDOFCHAIN, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
RED, BLACK = 0, 1
STORAGE, STREAM, ROOT = 1, 2, 5
SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


@dataclass
class Storage:
    """A storage: named streams (bytes) and sub-storages, and the storage's CLSID (16 bytes)."""

    entries: dict[str, "bytes | Storage"] = field(default_factory=dict)
    clsid: bytes = bytes(16)


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    clsid: bytes = bytes(16)
    children: list[int] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(name: str) -> tuple[int, list[int]]:
    """2.6.4: shorter names first, then code point by code point of the upper-cased name."""
    units = name.encode("utf-16-le")
    upper = [ord(c.upper()) if len(c.upper()) == 1 else ord(c) for c in name]
    return len(units) // 2, upper


def _check_name(name: str) -> None:
    if not name or len(name.encode("utf-16-le")) > 62 or any(c in name for c in "/\\:!"):
        raise ValueError(f"invalid compound file entry name: {name!r}")


def _tree(ids: list[int], entries: list[_Entry]) -> int:
    """Siblings as a balanced binary search tree, coloured as a valid red-black tree; returns the root id."""
    ordered = sorted(ids, key=lambda i: _sort_key(entries[i].name))
    depth: dict[int, int] = {}
    null_depths: list[int] = []

    def build(lo: int, hi: int, level: int) -> int:
        if lo >= hi:
            null_depths.append(level)
            return NOSTREAM
        mid = (lo + hi) // 2
        node = ordered[mid]
        depth[node] = level
        entries[node].left = build(lo, mid, level + 1)
        entries[node].right = build(mid + 1, hi, level + 1)
        return node

    root = build(0, len(ordered), 0)
    # A size-balanced tree has its empty links on two adjacent levels at most; colouring the nodes on the
    # level of the shallowest empty link red gives every root-to-leaf path the same number of black nodes.
    shallow = min(null_depths)
    for node, level in depth.items():
        entries[node].color = RED if level == shallow and level > 0 else BLACK
    return root


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i < count - 1 else ENDOFCHAIN


def write(root: Storage) -> bytes:
    """The compound file holding root's streams and storages."""
    entries = [_Entry("Root Entry", ROOT, clsid=root.clsid)]

    def add(storage: Storage, parent: int) -> None:
        for name, item in storage.entries.items():
            _check_name(name)
            entries.append(_Entry(name, STORAGE if isinstance(item, Storage) else STREAM,
                                  data=b"" if isinstance(item, Storage) else bytes(item),
                                  clsid=item.clsid if isinstance(item, Storage) else bytes(16)))
            index = len(entries) - 1
            entries[parent].children.append(index)
            if isinstance(item, Storage):
                add(item, index)

    add(root, 0)
    for entry in entries:
        if entry.children:
            entry.child = _tree(entry.children, entries)
    streams = [e for e in entries if e.kind == STREAM]
    small = [e for e in streams if len(e.data) < MINI_CUTOFF]
    large = [e for e in streams if len(e.data) >= MINI_CUTOFF]

    mini = bytearray()
    mini_fat: list[int] = []
    for entry in small:
        entry.size = len(entry.data)
        if not entry.data:
            continue
        entry.start = len(mini) // MINI_SECTOR
        count = -(-len(entry.data) // MINI_SECTOR)
        mini += entry.data.ljust(count * MINI_SECTOR, b"\0")
        mini_fat += [0] * count
        _chain(mini_fat, entry.start, count)

    def sectors(n: int, unit: int) -> int:
        return -(-n // unit)

    n_dir = sectors(len(entries), ENTRIES_PER_SECTOR)
    n_minifat = sectors(len(mini_fat), IDS_PER_SECTOR)
    n_mini = sectors(len(mini), SECTOR)
    n_large = sum(sectors(len(e.data), SECTOR) for e in large)
    n_fat = 1
    while n_fat * IDS_PER_SECTOR < n_fat + n_dir + n_minifat + n_mini + n_large:
        n_fat += 1
    if n_fat > HEADER_DIFAT:
        raise ValueError("compound file too large for this writer (no DIFAT sectors)")
    total = n_fat + n_dir + n_minifat + n_mini + n_large
    fat = [FREESECT] * (n_fat * IDS_PER_SECTOR)
    for i in range(n_fat):
        fat[i] = FATSECT
    dir_start = n_fat
    _chain(fat, dir_start, n_dir)
    minifat_start = dir_start + n_dir
    _chain(fat, minifat_start, n_minifat)
    mini_start = minifat_start + n_minifat
    _chain(fat, mini_start, n_mini)
    body = bytearray()
    at = mini_start + n_mini
    for entry in large:
        count = sectors(len(entry.data), SECTOR)
        entry.start, entry.size = at, len(entry.data)
        _chain(fat, at, count)
        body += entry.data.ljust(count * SECTOR, b"\0")
        at += count
    assert at == total
    entries[0].start = mini_start if mini else ENDOFCHAIN
    entries[0].size = len(mini)

    directory = bytearray()
    for entry in entries:
        name = entry.name.encode("utf-16-le")
        directory += struct.pack("<64sHBBIII16sIQQIQ", name, len(name) + 2, entry.kind, entry.color, entry.left,
                                 entry.right, entry.child, entry.clsid, 0, 0, 0,
                                 entry.start if entry.kind != STORAGE else 0, entry.size)
    empty = struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, bytes(16), 0, 0, 0, 0, 0)
    directory += empty * (n_dir * ENTRIES_PER_SECTOR - len(entries))

    difat = list(range(n_fat)) + [FREESECT] * (HEADER_DIFAT - n_fat)
    header = SIGNATURE + struct.pack(
        "<16sHHHHH6sIIIIIIIII", bytes(16), 0x003E, 0x0003, 0xFFFE, 9, 6, bytes(6), 0, n_fat, dir_start, 0,
        MINI_CUTOFF, minifat_start if n_minifat else ENDOFCHAIN, n_minifat, ENDOFCHAIN, 0)
    header += struct.pack(f"<{HEADER_DIFAT}I", *difat)
    minifat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    minifat_bytes += b"\xff" * (n_minifat * SECTOR - len(minifat_bytes))
    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += directory
    out += minifat_bytes
    out += bytes(mini).ljust(n_mini * SECTOR, b"\0")
    out += body
    assert len(out) == SECTOR * (1 + total)
    return bytes(out)
