"""The [MS-OVBA] primitives a VBA project is made of: the compression of its dir and module streams
(2.4.1) and the data encryption of the PROJECT stream's protection fields (2.4.3). Section numbers are
those of [MS-OVBA].
"""

from __future__ import annotations

import struct

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

def encrypt(data: bytes, project_id: str, seed: int) -> str:
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
