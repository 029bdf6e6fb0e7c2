"""Text at the edges: identifiers as a person sees them, and what XML cannot hold.

A project code or plot name with a zero-width space, a full-width letter or an en dash looks the same
as the right one; it is matched as the right one. When a match still fails, the message shows what was
invisible, so that staff can see why.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and other invisible format characters a chat app or a copy from a web page leaves in.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
# Dash variants (hyphen, non-breaking hyphen, figure/en/em dash, minus, small and full-width hyphens).
_DASHES = str.maketrans({ch: "-" for ch in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2796\ufe58\ufe63\uff0d"})
# What no XML part may hold: C0 controls but tab and line breaks, lone surrogates, U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text without the characters no XML part may hold."""
    return XML_ILLEGAL.sub("", text) if XML_ILLEGAL.search(text) else text


def clean_key(text: str) -> str:
    """An identifier as a person reads it: full width folded (NFKC), invisible characters and
    characters XML cannot hold dropped, every dash a hyphen-minus, outer spaces trimmed."""
    if text.isascii() and text.isprintable():
        return text.strip()
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_DASHES)
    return xml_safe(text).strip()


def show_invisible(text: str) -> str:
    """Text with every character a person cannot see (or tell from a look-alike) written as [U+XXXX]."""
    shown = []
    for ch in text:
        category = unicodedata.category(ch)
        visible = ch == " " or (category[0] not in "CZ" and unicodedata.normalize("NFKC", ch) == ch
                                and ch.translate(_DASHES) == ch)
        shown.append(ch if visible else f"[U+{ord(ch):04X}]")
    return "".join(shown)

# What makes a spreadsheet read a typed value as a formula (or, for tab and CR, hide the start of one):
# text that starts with one of these is written with a leading apostrophe (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_DIGITS = "零一二三四五六七八九"
_UNITS = ((10 ** 8, "亿"), (10 ** 4, "万"), (1000, "千"), (100, "百"), (10, "十"))


def chinese_number(n: int) -> str:
    """A count or a place in Chinese numerals, as notices write them: 1 → 一, 10 → 十, 11 → 十一, 20 → 二十,
    101 → 一百零一, 110 → 一百一十, 1005 → 一千零五, 20000 → 二万. Section numbers (十一、) and places
    (第二十一名) come from here, for any count."""
    if n < 0:
        return "负" + chinese_number(-n)
    if n < 10:
        return _DIGITS[n]
    text = _spelled(n)
    return text[1:] if text.startswith("一十") else text  # 十, 十一 … 十九, 十万: no leading 一


def _spelled(n: int) -> str:
    """n ≥ 10 with every unit spelled (一百一十, not 一百十); zeros between units read once (一千零五)."""
    for size, unit in _UNITS:
        if n >= size:
            head, rest = divmod(n, size)
            text = (_spelled(head) if head >= 10 else _DIGITS[head]) + unit
            if rest == 0:
                return text
            gap = "零" if rest < size // 10 else ""
            return text + gap + (_spelled(rest) if rest >= 10 else _DIGITS[rest])
    return _DIGITS[n]
