"""The <hyperlinks> of a worksheet and the relationships of their external targets: the links inside the
regions a run rewrote are replaced by the links it wrote there; every other link stays as it was.
"""

from __future__ import annotations

import re

from xladdin.base.schema import parse_range
from xladdin.workbook.master import Link
from xladdin.workbook.xmlparts import attr, quoteattr

_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HYPERLINK_TYPE = f"{_R_NS}/hyperlink"
# Elements that must follow <hyperlinks> in a worksheet (ECMA-376 order), for inserting it.
_AFTER_HYPERLINKS = ("printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                     "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
                     "legacyDrawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
                     "extLst")


def patch_hyperlinks(xml: str, prefix: str, rels: str, regions: list[tuple[int, int, int, int]],
                     new: list[tuple[str, Link]]) -> tuple[str, str]:
    """The sheet XML after <sheetData> (xml; prefix, its elements' namespace prefix) and the sheet's
    relationships part (rels, "" when it has none), with the hyperlinks inside regions (c1, r1, c2, r2)
    replaced by new (cell reference, link)."""

    def inside(ref: str) -> bool:
        try:
            col, row, _, _ = parse_range(ref)
        except ValueError:
            return False
        return any(c1 <= col <= c2 and r1 <= row <= r2 for c1, r1, c2, r2 in regions)

    rels = rels or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    block = re.search(r"<(\w+:)?hyperlinks\b[^>]*>(.*?)</(?:\w+:)?hyperlinks>", xml, re.S)
    kept, dropped_ids = [], set()
    if block:
        for link in re.finditer(r"<(?:\w+:)?hyperlink\b([^>]*?)/>", block.group(2)):
            ref = attr(link.group(1), "ref") or ""
            rid = re.search(r'\b\w+:id="([^"]+)"', link.group(1))
            if inside(ref):
                if rid:
                    dropped_ids.add(rid.group(1))
            else:
                kept.append(link.group(0))
    if dropped_ids:  # one pass over the relationships, not one per link: a run writes thousands of links

        def drop(found: re.Match) -> str:
            rid = re.search(r'\bId="([^"]+)"', found.group(0))
            return "" if rid and rid.group(1) in dropped_ids and _HYPERLINK_TYPE in found.group(0) else found.group(0)

        rels = re.sub(r"<Relationship\b[^>]*/>", drop, rels)
    used = set(re.findall(r'\bId="([^"]+)"', rels))
    serial, added = 1, []
    for ref, link in new:
        attrs = f' ref="{ref}"'
        if link.location:
            attrs += f" location={quoteattr(link.location)}"
        if link.target:
            while f"rIdXl{serial}" in used:
                serial += 1
            rid = f"rIdXl{serial}"
            used.add(rid)
            added.append(f'<Relationship Id="{rid}" Type="{_HYPERLINK_TYPE}" '
                         f'Target={quoteattr(link.target)} TargetMode="External"/>')
            attrs += f' xmlns:r="{_R_NS}" r:id="{rid}"'
        kept.append(f"<{prefix}hyperlink{attrs}/>")
    if added:  # inserted once: a replace per link copied the whole part each time (n² in the links)
        end = rels.rindex("</Relationships>")
        rels = rels[:end] + "".join(added) + rels[end:]
    content = f"<{prefix}hyperlinks>" + "".join(kept) + f"</{prefix}hyperlinks>" if kept else ""
    if block:
        xml = xml[:block.start()] + content + xml[block.end():]
    elif content:
        follower = re.search(r"<(?:\w+:)?(" + "|".join(_AFTER_HYPERLINKS) + r")\b", xml)
        at = follower.start() if follower else xml.rindex("</")
        xml = xml[:at] + content + xml[at:]
    return xml, rels
