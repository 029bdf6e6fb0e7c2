"""Regions a run need not rewrite: the digest of what each managed region was written with, kept with the
digests of the sheet parts the run saved. A later run that would write the same rows into a sheet part
that is still byte for byte what was saved leaves that region alone (as the 项目清单 is read again only
when its sheet changed). Staff editing a sheet, a restored backup or an upgrade changes the part's
digest, and every region on it is written again."""

from __future__ import annotations

import hashlib
import json


def content_digest(content: object) -> str:
    """A digest of a region's content (rows, lines or one value): the repr of a Formula carries its cached
    value and that of a Link its target, so neither is taken for plain text with the same characters."""
    rows = content if isinstance(content, list) else [content]
    digest = hashlib.sha1()
    update = digest.update
    for row in rows:  # row by row: the repr of a whole 80,000-row table at once is a few hundred MB
        update(repr(row).encode("utf-8", "surrogatepass"))
        update(b"\n")  # no repr holds a raw line break
    return digest.hexdigest()


def part_digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class RegionRecord:
    """The regions of one master as the last run left them: region -> (sheet part, content digest), and
    sheet part -> digest of the bytes saved."""

    def __init__(self, text: str | None, parts: dict[str, bytes], digest=part_digest):
        self.kept: dict[str, tuple[str, str]] = {}
        self.valid: set[str] = set()  # parts still as the record's run saved them
        self.written: dict[str, tuple[str, str]] = {}  # this run's regions (written or left alone)
        try:
            record = json.loads(text) if text else {}
            saved = {str(k): str(v) for k, v in record.get("parts", {}).items()}
            kept = {str(k): (str(v[0]), str(v[1])) for k, v in record.get("regions", {}).items()}
        except (ValueError, TypeError, AttributeError, IndexError):  # another version's record: none
            saved, kept = {}, {}
        self.valid = {part for part, kept in saved.items() if part in parts and digest(part) == kept}
        self.kept = {name: value for name, value in kept.items() if value[0] in self.valid}

    def unchanged(self, region: str, part: str, content: object) -> bool:
        """Whether `region` (on sheet part `part`) already holds `content`; the region is noted either way.
        A region written once in this run is never left alone the second time."""
        first = region not in self.written
        self.written[region] = (part, content_digest(content))
        return first and self.kept.get(region) == self.written[region]

    def text(self, saved_parts: dict[str, str]) -> str:
        """The record of the master just saved (`saved_parts`: sheet part -> digest of its bytes)."""
        regions = {**self.kept, **self.written}
        return json.dumps({"parts": saved_parts, "regions": {k: list(v) for k, v in regions.items()}},
                          ensure_ascii=False, sort_keys=True)
