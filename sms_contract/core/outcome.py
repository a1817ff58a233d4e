"""How to read a provider's answer (SPEC.md reading 9), in one place.

The contract does not say what a provider answers. This project reads any
``2xx`` as accepted, a ``4xx`` other than ``408``/``429`` as a permanent
rejection, and ``408``, ``429``, ``5xx`` and network failures as retryable,
honouring ``Retry-After``. Anything else (``1xx``, ``3xx``: the sender follows
no redirect) is permanent too: retrying the same request cannot change it.

The sender's client and the conformance checker both import this module.
"""

from __future__ import annotations

import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from enum import StrEnum

#: The 4xx statuses that mean "try again later" rather than "never".
RETRYABLE_4XX = frozenset({408, 429})

_DELTA_SECONDS = re.compile(r"[0-9]+")


class Outcome(StrEnum):
    """What a provider's answer means for the send."""

    ACCEPTED = "accepted"
    PERMANENT = "permanent"
    RETRYABLE = "retryable"


def classify(status: int | None) -> Outcome:
    """The outcome of an HTTP ``status``; ``None`` stands for a network failure
    (no answer at all), which is retryable."""
    if status is None or status in RETRYABLE_4XX or 500 <= status <= 599:
        return Outcome.RETRYABLE
    if 200 <= status <= 299:
        return Outcome.ACCEPTED
    return Outcome.PERMANENT


def retry_after_seconds(header: str | None, now: float | None = None) -> float | None:
    """The delay a ``Retry-After`` header asks for, in seconds, or ``None`` when
    the header is absent or unreadable.

    Both forms of RFC 9110 are read: delta-seconds (``120``) and an HTTP-date
    (``Wed, 21 Oct 2015 07:28:00 GMT``), the latter against ``now`` (a Unix
    time, :func:`time.time` by default). A date in the past gives ``0``.
    """
    if header is None:
        return None
    value = header.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000" or no zone: HTTP-dates are always GMT
        moment = moment.replace(tzinfo=UTC)
    reference = time.time() if now is None else now
    return max(0.0, moment.timestamp() - reference)
