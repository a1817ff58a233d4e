"""Query parameters of the admin API: read, bounded, and refused with a 400 naming
the parameter and the rule."""

from __future__ import annotations

import math
from datetime import datetime

from flask import Response, request

from sms_contract.core.findings import Violation
from sms_contract.exceptions import QueryError
from sms_contract.mock_provider.namespaces import NAMESPACE_RULE, is_namespace
from sms_contract.mock_provider.problems import problem


def query_error(name: str, code: str, message: str) -> QueryError:
    """The error for query parameter ``name`` breaking rule ``code``."""
    return QueryError(Violation(f"/query/{name}", code, message))


def bad_query(error: QueryError) -> Response:
    """The 400 answer for a ``QueryError`` (a blueprint error handler)."""
    return problem("bad-request", str(error), violations=[error.violation])


def text_arg(name: str, *, choices: tuple[str, ...] = (), max_length: int = 200) -> str | None:
    """A string parameter, when given; ``choices`` limits its values."""
    value = request.args.get(name)
    if value is None:
        return None
    if choices and value not in choices:
        raise query_error(name, "enum", f"{name} must be one of {', '.join(choices)}")
    if len(value) > max_length:
        raise query_error(name, "max_length", f"{name} must have at most {max_length} characters")
    return value


def namespace_arg() -> str | None:
    """The ``namespace`` parameter, when given."""
    value = text_arg("namespace")
    if value is not None and not is_namespace(value):
        raise query_error("namespace", "pattern", NAMESPACE_RULE)
    return value


def number_arg(name: str, default: float, low: float, high: float) -> float:
    """A finite number between ``low`` and ``high``, or ``default`` when absent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise query_error(name, "type", f"{name} must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise query_error(name, "range", f"{name} must be between {low:g} and {high:g}")
    return value


def integer_arg(name: str, default: int, low: int, high: int) -> int:
    """An integer between ``low`` and ``high``, or ``default`` when absent."""
    value = float(number_arg(name, default, low, high))
    if not value.is_integer():
        raise query_error(name, "type", f"{name} must be an integer")
    return int(value)


def since_arg() -> float | None:
    """``since``: an ISO 8601 date-time with a zone, or Unix seconds."""
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        return float(raw) if raw.replace(".", "", 1).isdigit() else _iso_seconds(raw)
    except ValueError:
        raise query_error(
            "since", "format", "since must be an ISO 8601 date-time or Unix seconds"
        ) from None


def _iso_seconds(raw: str) -> float:
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment.timestamp()
