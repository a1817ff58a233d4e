"""GSM 03.38 / UCS-2 analysis of an SMS text: encoding, units, credits and parts.

This module is the only home of the GSM 03.38 tables and of the credit formula
(CONTRACT.md readings 6 and 7). Everything else in the project imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class OffendingChar:
    """A character outside the GSM alphabet, at code-point index ``index``."""

    index: int
    char: str

    @property
    def codepoint(self) -> str:
        """The character as ``U+XXXX``."""
        return f"U+{ord(self.char):04X}"


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one text costs to send as SMS.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2.
    ``parts`` are ``(start, end)`` code-point slices of the text, one per credit.
    """

    text: str
    encoding: Encoding
    units: int
    parts: tuple[tuple[int, int], ...]
    offending: tuple[OffendingChar, ...] = ()

    @property
    def is_unicode(self) -> bool:
        """The payload's ``isUnicode``: true when the text needs UCS-2."""
        return self.encoding == "UCS-2"

    @property
    def credits(self) -> int:
        """The payload's ``credits``: the number of SMS parts."""
        return len(self.parts)

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


def analyze(text: str) -> Analysis:
    """Analyse ``text``: encoding, units, credits, parts and offending characters."""
    length = len(text)
    # Fast path: the common short plain-GSM text needs no per-character work.
    if length <= GSM7_SINGLE and GSM_DEFAULT_SET.issuperset(text):
        return Analysis(text, "GSM-7", length, ((0, length),) if length else ((0, 0),))
    if GSM_SET.issuperset(text):
        return _analyze_gsm(text)
    return _analyze_ucs2(text)


def _analyze_gsm(text: str) -> Analysis:
    extension = GSM_EXTENSION_SET
    units = len(text) + sum(1 for char in text if char in extension)
    if units <= GSM7_SINGLE:
        return Analysis(text, "GSM-7", units, ((0, len(text)),))
    costs = [2 if char in extension else 1 for char in text]
    return Analysis(text, "GSM-7", units, _split(costs, GSM7_PART))


def _analyze_ucs2(text: str) -> Analysis:
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    units = sum(costs)
    offending = tuple(
        OffendingChar(index, char) for index, char in enumerate(text) if char not in GSM_SET
    )
    parts = ((0, len(text)),) if units <= UCS2_SINGLE else _split(costs, UCS2_PART)
    return Analysis(text, "UCS-2", units, parts, offending)


def _split(costs: list[int], capacity: int) -> tuple[tuple[int, int], ...]:
    """Greedy split into parts of at most ``capacity`` units.

    A character is never cut: an escape pair or a surrogate pair that would
    straddle a boundary moves whole to the next part.
    """
    parts: list[tuple[int, int]] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > capacity:
            parts.append((start, index))
            start, used = index, 0
        used += cost
    parts.append((start, len(costs)))
    return tuple(parts)


def is_gsm(text: str) -> bool:
    """True when every character of ``text`` is in the GSM 03.38 tables."""
    return GSM_SET.issuperset(text)
