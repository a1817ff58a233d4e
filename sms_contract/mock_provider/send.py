"""The send endpoint: authenticate, validate in order, record, answer.

Order of the checks (each failure a problem+json answer listing every
violation): 401 credentials, 415 Content-Type, 413 size, 400 readable JSON
object, 422 contract (schema and consistency), then 200 accepted, or 409 when
an accepted retId comes back with another body.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from flask import Flask, Request, Response, jsonify, request

from sms_contract.mock_provider import fault_http
from sms_contract.mock_provider.auth import authenticate, challenge, redacted_headers
from sms_contract.mock_provider.config import DEFAULT_NAMESPACE, NAMESPACE_PATTERN
from sms_contract.mock_provider.inbox import Received, Stored
from sms_contract.mock_provider.problems import (
    PROBLEM_CONTENT_TYPE,
    PROBLEMS,
    problem,
    problem_body,
)
from sms_contract.mock_provider.state import provider
from sms_contract.validation import BodyError, check_document, parse_object

#: How much of an over-long body is read (and dropped) so the client sees the
#: 413 rather than a reset connection; past that the connection is closed.
_DRAIN_LIMIT = 1024 * 1024


def register(app: Flask, send_path: str) -> None:
    """Add the send endpoint at ``send_path`` and ``/ns/<namespace><send_path>``."""
    methods = ["POST", "GET", "HEAD"]
    app.add_url_rule(send_path, "send", receive, methods=methods)
    app.add_url_rule(f"/ns/<namespace>{send_path}", "send_ns", receive, methods=methods)


def receive(namespace: str = DEFAULT_NAMESPACE) -> Response:
    """POST one SMS; GET or HEAD is the test connection."""
    started = time.perf_counter()
    state = provider()
    if not NAMESPACE_PATTERN.fullmatch(namespace):
        return problem("not-found", "a namespace is 1 to 64 letters, digits, '_', '.' or '-'")
    auth = authenticate(state.config, request)
    if not auth.allowed:
        return problem("unauthorized", auth.reason, headers=challenge(state.config))
    if request.method in ("GET", "HEAD"):
        return jsonify(status="ok", namespace=namespace, login=auth.login)
    raw, complete = _read_body(request, state.config.max_body_bytes)
    item = Received(
        namespace=namespace,
        status="rejected",
        http_status=0,
        body=raw.decode("utf-8", "replace"),
        body_hash=hashlib.sha256(raw).hexdigest(),
        headers=redacted_headers(request),
        client=request.remote_addr,
        login=auth.login,
    )
    refusal = _refusal(request, raw, complete, state.config.max_body_bytes, item)
    if refusal is None:
        check = check_document(item.payload, strict_fields=state.config.strict_fields)
        item.violations = [v.to_dict() for v in check.violations]
        item.warnings = [w.to_dict() for w in check.warnings]
        if check.violations:
            count = len(check.violations)
            refusal = ("invalid-payload", f"the payload breaks {count} rule(s) of the contract")
        else:
            item.status, item.http_status = "accepted", 200
            item.body_hash = _canonical_hash(item.payload)
    if refusal is not None:
        item.http_status = PROBLEMS[refusal[0]][0]
    # Fault rules (docs/faults.md) apply once the body is a JSON object; one that
    # answers takes the place of the contract's verdict (never an acceptance).
    fault_plan = fault_http.plan(item)
    if fault_plan is not None:
        if fault_plan.answers:
            return fault_http.answer(state.inbox, item, fault_plan, started)
        fault_http.prepare(item, fault_plan)
    item.duration_ms = (time.perf_counter() - started) * 1000
    _stored, answer = state.inbox.record(item, lambda stored: _answer(item, stored, refusal))
    response = jsonify(answer)
    response.status_code = item.http_status
    if item.status == "rejected":
        response.content_type = PROBLEM_CONTENT_TYPE
    if not complete:
        response.headers["Connection"] = "close"
    return response


def _read_body(req: Request, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit + 1`` bytes of the body, and whether the whole body was read."""
    declared = req.content_length
    if declared is not None and declared > limit:
        drained = 0
        while drained < min(declared, _DRAIN_LIMIT):
            chunk = req.stream.read(65536)
            if not chunk:
                break
            drained += len(chunk)
        return b"", drained >= declared
    data = req.stream.read(limit + 1)
    return data, len(data) <= limit


def _refusal(
    req: Request, raw: bytes, complete: bool, limit: int, item: Received
) -> tuple[str, str] | None:
    """The first failing check among 415, 413 and 400, else ``None``."""
    media_problem = _media_type_problem(req)
    if media_problem:
        item.violations = [{"pointer": "", "code": "content_type", "message": media_problem}]
        return "unsupported-media-type", media_problem
    if not complete or len(raw) > limit or (req.content_length or 0) > limit:
        message = f"the body is over the limit of {limit} bytes"
        item.violations = [{"pointer": "", "code": "too_large", "message": message}]
        item.body = ""
        return "payload-too-large", message
    try:
        item.payload = parse_object(raw)
    except BodyError as error:
        item.violations = [error.violation.to_dict()]
        return "malformed-body", error.violation.message
    return None


def _media_type_problem(req: Request) -> str | None:
    if not req.content_type:
        return "the Content-Type header is missing; send application/json; charset=utf-8"
    if req.mimetype != "application/json":
        return f"Content-Type is {req.mimetype!r}; send application/json; charset=utf-8"
    charset = req.mimetype_params.get("charset")
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return f"charset is {charset!r}; the body must be UTF-8"
    return None


def _canonical_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _answer(item: Received, stored: Stored, refusal: tuple[str, str] | None) -> dict[str, Any]:
    """The JSON answer for a recorded send (built inside the inbox transaction)."""
    ret_id = item.field_text("retId")
    if stored.conflict:
        return problem_body(
            "ret-id-conflict",
            "a retry must repeat the body of the first send exactly",
            violations=item.violations,
            id=stored.id,
            retId=ret_id,
        )
    if refusal is not None:
        slug, detail = refusal
        return problem_body(
            slug,
            detail,
            violations=item.violations,
            warnings=item.warnings,
            id=stored.id,
            retId=ret_id,
        )
    answer: dict[str, Any] = {
        "id": stored.id,
        "retId": ret_id,
        "status": "accepted",
        "credits": (item.payload or {}).get("credits"),
    }
    if stored.duplicate:
        answer.update(duplicate=True, attempts=stored.attempts)
    if item.warnings:
        answer["warnings"] = item.warnings
    return answer
