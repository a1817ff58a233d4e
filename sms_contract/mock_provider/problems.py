"""RFC 9457 problem+json answers, and the one table of the statuses the fake
provider answers with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, json

from sms_contract.core.findings import Violation

PROBLEM_TYPE_BASE = "https://sms-contract.inocx.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

#: problem slug -> (HTTP status, title). Every refusal of the fake provider is one of these.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "The request is malformed"),
    "malformed-body": (400, "The body is not a readable JSON object"),
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Forbidden"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "wait-timeout": (404, "No such message arrived in time"),
    "request-timeout": (408, "The body did not arrive in time"),
    "ret-id-conflict": (409, "This retId was already accepted with a different body"),
    "payload-too-large": (413, "The body is too large"),
    "unsupported-media-type": (415, "The body must be application/json"),
    "invalid-payload": (422, "The payload breaks the SMS contract"),
    "internal-error": (500, "Internal error of the fake provider"),
    # Fault injection (docs/faults.md): the status of an injected fault is the rule's.
    "injected-fault": (503, "A fault injected on purpose by a fault rule"),
    "rate-limited": (429, "Too many sends (an injected rate limit)"),
    "invalid-fault-rule": (422, "The fault rule is invalid"),
    "fault-rule-conflict": (409, "A fault rule with this id exists already"),
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
        json.dumps(problem_body(slug, detail, violations=violations, **extra)),
        status=PROBLEMS[slug][0],
        headers=dict(headers or {}),
        content_type=PROBLEM_CONTENT_TYPE,
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
