"""Compact JSON text, fast: orjson, and the standard library for what orjson refuses.

The text is what ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``
writes (UTF-8, no spaces), but for the exponent of very small or large floats
(``1e-7`` rather than ``1e-07``), which reads back as the same number.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """``value`` as compact JSON text."""
    return dump_bytes(value).decode("utf-8")


def dump_bytes(value: Any) -> bytes:
    """``value`` as compact JSON, encoded in UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, which JSON allows
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """``value`` as compact JSON with the keys of every object sorted: two values
    equal as JSON give the same bytes, whatever their key order or spacing."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")
