"""Repairs of what an older xladdin wrote into a master: characters no XML part may hold (Excel and openpyxl
refuse such a file), and conditional-format fills without the bgColor Excel colours them from.
"""

from __future__ import annotations

import re

# What a part must not hold, as bytes: C0 controls but tab and line breaks, U+FFFE and U+FFFF in UTF-8,
# and the same as character references (&#1; &#xFFFE; ...), which XML forbids as well.
_C0 = bytes(range(0, 9)) + b"\x0b\x0c" + bytes(range(14, 32))
_BAD_REF = re.compile(rb"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{3}[eEfF])|"
                      rb"0*(?:[0-8]|1[124-9]|2[0-9]|3[01]|5529[6-9]|55[3-9][0-9]{2}|56[0-9]{3}|57[0-2][0-9]{2}|"
                      rb"573[0-3][0-9]|5734[0-3]|6553[45]));")


def repair_parts(parts: dict[str, bytes]) -> list[str]:
    """Drop from every XML part the characters XML cannot hold (a master that carries them cannot be
    opened by Excel or openpyxl); returns the parts repaired."""
    repaired = []
    for name, data in parts.items():
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        bad = len(data.translate(None, _C0)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data \
            or (b"&#" in data and _BAD_REF.search(data) is not None)
        if bad:
            data = data.translate(None, _C0).replace(b"\xef\xbf\xbe", b"").replace(b"\xef\xbf\xbf", b"")
            parts[name] = _BAD_REF.sub(b"", data)
            repaired.append(name)
    return repaired


def repair_dxf_fills(parts: dict[str, bytes]) -> None:
    """Give every conditional-format solid fill a bgColor equal to its fgColor when it lacks one:
    Excel colours a differential fill from bgColor, LibreOffice from fgColor (masters built before
    both were written show their 红黑榜 uncoloured in Excel)."""
    styles = parts.get("xl/styles.xml")
    if not styles or b"<dxfs" not in styles:
        return
    text = styles.decode("utf-8")
    block = re.search(r"<(?:\w+:)?dxfs\b.*?</(?:\w+:)?dxfs>", text, re.S)
    if block is None:
        return

    def repair(match: re.Match) -> str:
        fill = match.group(0)
        if "bgColor" in fill:
            return fill
        colour = re.search(r"<((?:\w+:)?)fgColor\b([^>]*?)/>", fill)
        if colour is None:
            return fill
        return fill.replace(colour.group(0), colour.group(0) + f"<{colour.group(1)}bgColor{colour.group(2)}/>")

    repaired = re.sub(r"<(?:\w+:)?patternFill\b[^>]*>.*?</(?:\w+:)?patternFill>", repair, block.group(0),
                      flags=re.S)
    if repaired != block.group(0):
        parts["xl/styles.xml"] = (text[:block.start()] + repaired + text[block.end():]).encode("utf-8")
