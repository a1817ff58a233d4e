"""The magic recipients: built-in fault rules in a number range no real phone answers.

Send to ``+447700900503`` and get a 503, with no configuration at all. Each
rule names one recipient of the UK Ofcom drama range; docs/faults.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sms_contract.mock_provider.faults.rules import MAGIC_PREFIX, MAGIC_RANGE, FaultRule


def _magic(suffix: str, description: str, **action: Any) -> FaultRule:
    fields = {"id": MAGIC_PREFIX + suffix, "to": MAGIC_RANGE + suffix, "description": description}
    return FaultRule.model_validate({**fields, **action}, context={"builtin": True})


def _first(attempts: int) -> str:
    return "the first attempt" if attempts == 1 else f"the first {attempts} attempts"


_STATUSES = (400, 401, 403, 404, 408, 409, 410, 413, 415, 422, 429, 500, 501, 502, 503, 504)

#: The built-in rules: one recipient each, in the fiction range, in every namespace.
MAGIC: tuple[FaultRule, ...] = (
    _magic("001", "connection reset (RST), no answer", reset=True),
    _magic("002", "connection closed without any answer", empty=True),
    _magic("003", "the normal answer, cut half-way through its body", truncate=True),
    _magic("004", "no answer until the client gives up (bounded by the server cap)", hang=True),
    _magic("101", "the normal answer after 1 s", delay=1.0),
    _magic("102", "the normal answer after 2 s", delay=2.0),
    _magic("105", "the normal answer after 5 s", delay=5.0),
    _magic("110", "the normal answer after 10 s", delay=10.0),
    _magic("130", "the normal answer after 30 s", delay=30.0),
    _magic("199", "the normal answer after 0.5 to 3 s", delay=(0.5, 3.0)),
    *(
        _magic(
            f"30{n}",
            f"503 for {_first(n)} of each retId, then normal",
            status=503,
            times=n,
        )
        for n in (1, 2, 3)
    ),
    *(
        _magic(
            f"31{n}",
            f"429 with Retry-After: 1 for {_first(n)} of each retId, then normal",
            status=429,
            retry_after=1,
            times=n,
        )
        for n in (1, 2)
    ),
    *(
        _magic(
            f"32{n}",
            f"connection reset for {_first(n)} of each retId, then normal",
            reset=True,
            times=n,
        )
        for n in (1, 2)
    ),
    *(
        _magic(
            str(code),
            f"always {code}" + (" with Retry-After: 1" if code == 429 else ""),
            status=code,
            retry_after=1 if code == 429 else None,
        )
        for code in _STATUSES
    ),
)


def _by_recipient(rules: Iterable[FaultRule]) -> Mapping[str, tuple[FaultRule, ...]]:
    found: dict[str, tuple[FaultRule, ...]] = {}
    for rule in rules:
        assert rule.to is not None, "every magic rule names its one recipient"
        found[rule.to] = (*found.get(rule.to, ()), rule)
    return MappingProxyType(found)


#: The magic rules by their recipient, in the order of ``MAGIC``.
_MAGIC_BY_TO = _by_recipient(MAGIC)


def magic_rules_for(to: str | None) -> tuple[FaultRule, ...]:
    """The magic rules a send to ``to`` may match: each names one recipient, so a
    send is tried against those of its own recipient only."""
    return _MAGIC_BY_TO.get(to, ()) if to is not None else ()
