"""Whether a phone number in E.164 is valid: phonenumbers' verdict, found faster.

``phonenumbers.is_valid_number(phonenumbers.parse(number, None))`` reads any
format a person may type; for an E.164 string (``+`` and ASCII digits) most of
that work has nothing to do, and the rest is matching the national number
against up to eleven patterns of its region, one by one. ``is_valid_number``
here reaches the same verdict from the same metadata: the country code read as
``parse`` reads it, the region chosen as ``region_code_for_number`` chooses it,
and the region's number types matched as ``_number_type_helper`` matches them,
but through one pattern per region and length (the types' patterns joined).
Anything that would take ``parse`` down another road (a national prefix to
strip, anything but ASCII digits) is left to the library itself.
``tests/test_numbers.py`` holds the two to the same verdict on every region's
example numbers, their neighbours and random numbers of every country code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

#: The digits after the ``+`` of the numbers decided here (E.164's own range).
_E164_DIGITS = (7, 15)
#: ``parse`` reads at most three digits of country code.
_MAX_COUNTRY_CODE_DIGITS = 3
#: ``parse`` refuses a national number shorter than this, or longer than the second.
_MIN_NATIONAL, _MAX_NATIONAL = 2, 17
#: The descriptions ``_number_type_helper`` tries after the general one; any match
#: gives a known type. The mobile one counts only when its pattern is not the
#: fixed line's (the library's own shortcut, kept so the verdict is the same).
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)
#: A back-reference would point elsewhere once patterns are joined.
_BACK_REFERENCE = re.compile(r"\\[1-9]|\(\?P=")


@lru_cache(maxsize=4096)
def is_valid_number(number: str) -> bool:
    """True when ``number`` (E.164, with its ``+``) is a valid number of some region,
    exactly as ``phonenumbers.is_valid_number(phonenumbers.parse(number, None))``."""
    digits = number[1:]
    e164 = number[:1] == "+" and digits.isascii() and digits.isdigit() and digits[:1] != "0"
    if not (e164 and _E164_DIGITS[0] <= len(digits) <= _E164_DIGITS[1]):
        return _library_verdict(number)
    for size in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
        country_code = int(digits[:size])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False  # parse: "Country calling code supplied was not recognised"
    national = digits[size:]
    regions = COUNTRY_CODE_TO_REGION_CODE[country_code]
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
    if metadata is None or _may_strip_national_prefix(metadata, national):
        return _library_verdict(number)
    if not _MIN_NATIONAL <= len(national) <= _MAX_NATIONAL:
        return False
    # ``national`` is the national significant number as the library rebuilds it
    # (its leading zeros counted as it counts them).
    if len(regions) == 1:
        return _known_type(national, metadata)
    return _valid_in_one_of(regions, national)


def _library_verdict(number: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, None)))
    except phonenumbers.NumberParseException:
        return False


def _may_strip_national_prefix(metadata: PhoneMetadata, national: str) -> bool:
    """Whether ``parse`` would consider stripping a national prefix (or carrier code)."""
    prefix = metadata.national_prefix_for_parsing
    return bool(prefix) and _compiled(prefix).match(national) is not None


def _valid_in_one_of(regions: tuple[str, ...], national: str) -> bool:
    """A country code shared by several regions: the first region whose leading digits
    match decides, else the first where the number has a known type."""
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if _compiled(metadata.leading_digits).match(national):
                return _known_type(national, metadata)
        elif _known_type(national, metadata):
            return True
    return False


def _known_type(national: str, metadata: PhoneMetadata) -> bool:
    """``_number_type_helper(national, metadata) != UNKNOWN``."""
    patterns = _patterns_of(metadata)
    general = patterns.general
    if general is None or not patterns.general_lengths_allow(len(national)):
        return False
    if general.fullmatch(national) is None:
        return False
    return any(p.fullmatch(national) is not None for p in patterns.types_of_length(len(national)))


@dataclass
class _RegionPatterns:
    """A region's patterns, compiled once: the general one, and per length the
    patterns of the types that allow that length (joined when that is safe)."""

    metadata: PhoneMetadata
    #: ``None`` when the region has no general pattern (no number is valid).
    general: re.Pattern[str] | None
    general_lengths: tuple[int, ...]
    by_length: dict[int, tuple[re.Pattern[str], ...]]

    def general_lengths_allow(self, length: int) -> bool:
        return not self.general_lengths or length in self.general_lengths

    def types_of_length(self, length: int) -> tuple[re.Pattern[str], ...]:
        found = self.by_length.get(length)
        if found is None:
            found = self.by_length[length] = _joined(_type_patterns(self.metadata, length))
        return found


#: By the ``id`` of the library's metadata object (kept in the value, so never reused).
_REGION_PATTERNS: dict[int, _RegionPatterns] = {}


def _patterns_of(metadata: PhoneMetadata) -> _RegionPatterns:
    found = _REGION_PATTERNS.get(id(metadata))
    if found is None or found.metadata is not metadata:
        desc = metadata.general_desc
        pattern = desc.national_number_pattern if desc is not None else None
        general = _compiled(pattern) if pattern else None
        lengths = tuple(desc.possible_length) if desc is not None else ()
        found = _RegionPatterns(metadata, general, lengths, {})
        _REGION_PATTERNS[id(metadata)] = found
    return found


def _type_patterns(metadata: PhoneMetadata, length: int) -> list[str]:
    names = list(_TYPES)
    if not metadata.same_mobile_and_fixed_line_pattern:
        names.append("mobile")
    patterns = []
    for name in names:
        desc = getattr(metadata, name)
        if desc is None or not desc.national_number_pattern:
            continue
        if desc.possible_length and length not in desc.possible_length:
            continue
        patterns.append(desc.national_number_pattern)
    return patterns


def _joined(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    """One pattern matching where any of ``patterns`` matches the whole number."""
    if not patterns:
        return ()
    if any(_BACK_REFERENCE.search(p) for p in patterns):
        return tuple(_compiled(p) for p in patterns)
    return (re.compile("|".join(f"(?:{p})" for p in patterns)),)


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
