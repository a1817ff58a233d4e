"""RFC 9457 problem+json answers, and the one table of the statuses the fake
provider answers with."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Response

from sms_contract.core.findings import Violation
from sms_contract.core.jsontext import dump_bytes

_log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://sms-contract.inocx.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

#: problem slug -> (HTTP status, title). Every refusal of the fake provider is one of these.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "The request is malformed"),
    "malformed-body": (400, "The body is not a readable JSON object"),
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Forbidden"),
    "cross-site": (403, "A state-changing request from another site"),
    "unknown-host": (403, "The Host header names a host this server does not serve"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "wait-timeout": (404, "No such message arrived in time"),
    "request-timeout": (408, "The body did not arrive in time"),
    "head-timeout": (408, "The request head did not arrive in time"),
    "ret-id-conflict": (409, "This retId was already accepted with a different body"),
    "payload-too-large": (413, "The body is too large"),
    "unsupported-media-type": (415, "The body must be application/json"),
    "invalid-payload": (422, "The payload breaks the SMS contract"),
    "header-too-large": (431, "A request header is too large"),
    "uri-too-long": (414, "The request line is too long"),
    "expectation-failed": (417, "The expectation cannot be met"),
    "not-implemented": (501, "The request uses a feature this server does not implement"),
    "over-capacity": (503, "Too many requests of this kind are open; retry later"),
    "internal-error": (500, "Internal error of the fake provider"),
    # A proxy's own answers when its upstream gives none it can pass on (docs/proxy.md).
    "upstream-failed": (502, "The upstream gave no answer that can be passed on"),
    "upstream-timeout": (504, "The upstream did not answer in time"),
    # Fault injection (docs/faults.md): the status of an injected fault is the rule's.
    "injected-fault": (503, "A fault injected on purpose by a fault rule"),
    "rate-limited": (429, "Too many sends (an injected rate limit)"),
    "invalid-fault-rule": (422, "The fault rule is invalid"),
    "fault-rule-conflict": (409, "A fault rule with this id exists already"),
    # The verify page and /api/verify/runs (docs/verify.md, "In a browser").
    "invalid-verify-run": (422, "The verify run cannot be started with this request"),
    "target-refused": (422, "The endpoint's address is one this server does not check"),
    "target-unreachable": (422, "The endpoint cannot be reached"),
    "target-tls": (422, "The endpoint's TLS cannot be used"),
    "verify-busy": (429, "Too many verify runs are under way; retry later"),
    "report-not-ready": (409, "The run has no report: it is not done"),
}


def problem(
    slug: str,
    detail: str,
    *,
    violations: Iterable[Violation] = (),
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response for ``slug``, listing every violation."""
    return Response(
        dump_bytes(problem_body(slug, detail, violations=violations, **extra)),
        status=PROBLEMS[slug][0],
        headers=dict(headers or {}),
        content_type=PROBLEM_CONTENT_TYPE,
    )


#: Status -> slug, for answers given outside Flask (gunicorn's own refusals).
_SLUG_OF_STATUS = {
    400: "bad-request",
    403: "forbidden",
    408: "request-timeout",
    414: "uri-too-long",
    417: "expectation-failed",
    431: "header-too-large",
    501: "not-implemented",
}


def error_answer(
    status: int, detail: str, *, slug: str | None = None, headers: Mapping[str, str] | None = None
) -> tuple[str, list[tuple[str, str]], bytes]:
    """A problem answer as raw parts (status line, headers, body), for a server's own
    refusals written straight to the socket."""
    slug = slug or _SLUG_OF_STATUS.get(status, "internal-error")
    body = problem_body(slug, detail)
    body["status"] = status  # gunicorn's status stands even where the slug is generic
    return (
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", PROBLEM_CONTENT_TYPE), *(headers or {}).items()],
        dump_bytes(body),
    )


def problem_body(
    slug: str, detail: str, *, violations: Iterable[Violation] = (), **extra: Any
) -> dict[str, Any]:
    """The JSON object of a problem answer."""
    status, title = PROBLEMS[slug]
    return {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "violations": [v.to_dict() for v in violations],
        **extra,
    }


def unexpected_error(error: Exception) -> Response:
    """The 500 answer of a failure nobody foresaw, logged with its traceback."""
    _log.exception("unexpected error", exc_info=error)
    return problem("internal-error", "the fake provider failed; see its log")
