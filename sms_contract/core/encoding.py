"""GSM 03.38 / UCS-2 analysis of an SMS text: encoding, units, credits and parts.

This module is the only home of the GSM 03.38 tables and of the credit formulas
(SPEC.md readings 6 and 7): concatenated parts, and the ``simple`` reading of
the help page's sentence. Everything else in the project imports them.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

#: GSM 03.38 default alphabet, in code order 0x00..0x7F (0x1B, the escape to
#: the extension table, is not a character and is left out).
GSM_DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

#: GSM 03.38 extension table: each costs two septets (escape + code).
GSM_EXTENSION_TABLE = "\f^{}\\[~]|€"

GSM_DEFAULT_SET = frozenset(GSM_DEFAULT_ALPHABET)
GSM_EXTENSION_SET = frozenset(GSM_EXTENSION_TABLE)
GSM_SET = GSM_DEFAULT_SET | GSM_EXTENSION_SET

#: Capacity of one SMS, and of each part of a concatenated SMS (the user data
#: header of a concatenated part takes 7 septets / 3 UCS-2 units).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

#: Most parts a concatenated SMS can have (the part counter is one octet).
MAX_PARTS = 255


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_at(text: str) -> int | None:
    """The index of the first lone UTF-16 surrogate in ``text`` (never valid
    Unicode, so never sendable), or ``None`` when there is none."""
    found = _LONE_SURROGATE.search(text)
    return found.start() if found else None


@dataclass(frozen=True, slots=True)
class OffendingChar:
    """A character outside the GSM alphabet, at code-point index ``index``."""

    index: int
    char: str

    @property
    def codepoint(self) -> str:
        """The character as ``U+XXXX``."""
        return f"U+{ord(self.char):04X}"


@dataclass(frozen=True)
class Analysis:
    """What one text costs to send as SMS.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2.
    ``parts`` are ``(start, end)`` code-point slices of the text, one per credit.
    """

    text: str
    encoding: Encoding
    units: int
    parts: tuple[tuple[int, int], ...]

    @cached_property
    def offending(self) -> tuple[OffendingChar, ...]:
        """The characters that force UCS-2 (none for GSM-7), found on first use."""
        if self.encoding == "GSM-7":
            return ()
        return tuple(OffendingChar(m.start(), m.group()) for m in _NOT_GSM.finditer(self.text))

    @property
    def is_unicode(self) -> bool:
        """The payload's ``isUnicode``: true when the text needs UCS-2."""
        return self.encoding == "UCS-2"

    @property
    def credits(self) -> int:
        """The payload's ``credits``: the number of SMS parts."""
        return len(self.parts)

    @property
    def simple_credits(self) -> int:
        """Credits by the help page's sentence read literally: ``ceil(units / 160)``
        for GSM-7, ``ceil(units / 70)`` for UCS-2, ignoring the headers of
        concatenated parts (the ``credits=simple`` reading)."""
        single = GSM7_SINGLE if self.encoding == "GSM-7" else UCS2_SINGLE
        return -(-self.units // single)

    @property
    def unit_name(self) -> str:
        """What ``units`` counts: ``septets`` or ``UTF-16 units``."""
        return "septets" if self.encoding == "GSM-7" else "UTF-16 units"

    @property
    def part_capacity(self) -> int:
        """Units in each part of a concatenated SMS (153 or 67)."""
        return GSM7_PART if self.encoding == "GSM-7" else UCS2_PART

    @property
    def single_capacity(self) -> int:
        """Units in one SMS that is not split (160 or 70)."""
        return GSM7_SINGLE if self.encoding == "GSM-7" else UCS2_SINGLE

    @property
    def part_texts(self) -> list[str]:
        """The text of each part."""
        return [self.text[start:end] for start, end in self.parts]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (the ``sms-contract count --json`` output)."""
        return {
            "encoding": self.encoding,
            "isUnicode": self.is_unicode,
            "units": self.units,
            "credits": self.credits,
            "length": len(self.text),
            "parts": [{"start": s, "end": e, "text": self.text[s:e]} for s, e in self.parts],
            "offending": [
                {"index": o.index, "char": o.char, "codepoint": o.codepoint} for o in self.offending
            ],
        }


def analyze(text: str, *, ucs2: bool = False) -> Analysis:
    """Analyse ``text``: encoding, units, credits, parts and offending characters.

    The encoding is the one the text needs; ``ucs2=True`` counts it as UCS-2
    anyway, as a payload declaring ``isUnicode`` true for a text GSM-7 could
    carry is sent.
    """
    if ucs2:
        return _ucs2(text)
    length = len(text)
    first = _NOT_GSM_DEFAULT.search(text)
    if first is None:
        # Fast path: plain GSM, one septet per character, no per-character work.
        if length <= GSM7_SINGLE:
            return Analysis(text, "GSM-7", length, ((0, length),))
        return Analysis(text, "GSM-7", length, _slices(length, GSM7_PART))
    if _NOT_GSM.search(text, first.start()) is None:
        # GSM-7 with extension characters: two septets each.
        doubles = [match.start() for match in _GSM_EXTENSION.finditer(text)]
        units = length + len(doubles)
        if units <= GSM7_SINGLE:
            return Analysis(text, "GSM-7", units, ((0, length),))
        return Analysis(text, "GSM-7", units, _split(length, doubles, GSM7_PART))
    return _ucs2(text)


def _ucs2(text: str) -> Analysis:
    """The text counted in UTF-16 units: a character outside the BMP is a
    surrogate pair, two units."""
    length = len(text)
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units <= UCS2_SINGLE:
        return Analysis(text, "UCS-2", units, ((0, length),))
    if units == length:
        return Analysis(text, "UCS-2", units, _slices(length, UCS2_PART))
    doubles = [match.start() for match in _OUTSIDE_BMP.finditer(text)]
    return Analysis(text, "UCS-2", units, _split(length, doubles, UCS2_PART))


def _character_class(characters: str, negate: bool = False) -> re.Pattern[str]:
    return re.compile(f"[{'^' if negate else ''}{re.escape(characters)}]")


#: Matchers compiled from the tables above: a character outside the default
#: alphabet, outside both tables, in the extension table (two septets), and
#: outside the Basic Multilingual Plane (two UTF-16 units).
_NOT_GSM_DEFAULT = _character_class(GSM_DEFAULT_ALPHABET, negate=True)
_NOT_GSM = _character_class(GSM_DEFAULT_ALPHABET + GSM_EXTENSION_TABLE, negate=True)
_GSM_EXTENSION = _character_class(GSM_EXTENSION_TABLE)
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010ffff]")


def _slices(length: int, capacity: int) -> tuple[tuple[int, int], ...]:
    """Parts of a text whose characters all take one unit."""
    return tuple((start, min(start + capacity, length)) for start in range(0, length, capacity))


def _split(length: int, doubles: list[int], capacity: int) -> tuple[tuple[int, int], ...]:
    """Greedy split into parts of at most ``capacity`` units, the characters at
    the sorted indexes ``doubles`` taking two units and the others one.

    A character is never cut: an escape pair or a surrogate pair that would
    straddle a boundary moves whole to the next part.
    """
    parts: list[tuple[int, int]] = []
    start = first = 0  # doubles[first:] are the two-unit characters at or after start
    while start < length:
        end = min(start + capacity, length)
        after = bisect_left(doubles, end, first)
        # The longest prefix that fits: drop characters from the end until it does.
        while (end - start) + (after - first) > capacity:
            end -= 1
            if after > first and doubles[after - 1] == end:
                after -= 1
        parts.append((start, end))
        start, first = end, after
    return tuple(parts)


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the GSM 03.38 tables."""
    return GSM_SET.issuperset(text)
