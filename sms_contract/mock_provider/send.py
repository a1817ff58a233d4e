"""The send endpoint: authenticate, validate in order, record, answer.

Order of the checks (each failure a problem+json answer listing every
violation): 401 credentials; 408 or 400 when the body itself cannot be read
(it stalls, ends early or has broken chunks); 415 Content-Type, 413 size, 400
readable JSON object, 422 contract (schema and consistency), then 200
accepted, or 409 when an accepted retId comes back with another body.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from sms_contract.core.validation import BodyError, check_document, parse_object
from sms_contract.mock_provider.auth import authenticate, challenge, redacted_headers
from sms_contract.mock_provider.config import (
    DEFAULT_NAMESPACE,
    NAMESPACE_PATTERN,
    ProviderConfig,
)
from sms_contract.mock_provider.faults import apply as fault_http
from sms_contract.mock_provider.limits import total_deadline
from sms_contract.mock_provider.problems import (
    PROBLEM_CONTENT_TYPE,
    PROBLEMS,
    problem,
    problem_body,
)
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.storage.inbox import Received, Stored

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
    # The request itself, not its context-local proxy: it is read many times below.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if not NAMESPACE_PATTERN.fullmatch(namespace):
        return problem("not-found", "a namespace is 1 to 64 letters, digits, '_', '.' or '-'")
    auth = authenticate(state.config, req)
    if not auth.allowed:
        return problem("unauthorized", auth.reason, headers=challenge(state.config))
    if req.method in ("GET", "HEAD"):
        return jsonify(status="ok", namespace=namespace, login=auth.login)
    raw, failure = _read_body(req, state.config)
    item = Received(
        namespace=namespace,
        status="rejected",
        http_status=0,
        body=raw.decode("utf-8", "replace"),
        body_hash=hashlib.sha256(raw).hexdigest(),
        headers=redacted_headers(req),
        client=req.remote_addr,
        login=auth.login,
    )
    refusal = _refusal(req, raw, failure, item)
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
    return Response(
        json.dumps(answer, ensure_ascii=False, separators=(",", ":")),
        status=item.http_status,
        content_type=PROBLEM_CONTENT_TYPE if item.status == "rejected" else "application/json",
    )


@dataclass(frozen=True, slots=True)
class _ReadFailure:
    """Why the body could not be read whole: a problem slug and a violation."""

    slug: str
    code: str
    message: str


def _read_body(req: Request, config: ProviderConfig) -> tuple[bytes, _ReadFailure | None]:
    """Up to ``limit + 1`` bytes of the body, or why it could not be read whole.

    A pause longer than ``config.read_timeout``, or (under gevent) a body not
    whole after ``config.body_timeout``, ends the read (408): a client that
    trickles its body cannot hold the server.
    """
    limit = config.max_body_bytes
    _bound_pauses(req, config.read_timeout)
    declared = req.content_length
    if declared is not None and declared > limit:
        # The verdict is known; draining only lets the client read it.
        with contextlib.suppress(Exception), total_deadline(config.read_timeout):
            _drain(req, min(declared, _DRAIN_LIMIT))
        return b"", _too_large(limit)
    try:
        with total_deadline(config.body_timeout):
            data = _read_up_to(req, limit + 1 if declared is None else declared)
    except TimeoutError:
        message = (
            f"the body stopped arriving for {config.read_timeout:g} s, "
            f"or took over {config.body_timeout:g} s in all"
        )
        return b"", _ReadFailure("request-timeout", "body_timeout", message)
    except Exception as error:  # broken framing (a bad chunk) or a dropped connection
        message = f"the body could not be read: {error}"[:200]
        return b"", _ReadFailure("malformed-body", "unreadable_body", message)
    if len(data) > limit:
        return b"", _too_large(limit)
    if declared is not None and len(data) < declared:
        message = f"the body ended after {len(data)} of the {declared} bytes of Content-Length"
        return data, _ReadFailure("malformed-body", "incomplete_body", message)
    return data, None


def _too_large(limit: int) -> _ReadFailure:
    return _ReadFailure(
        "payload-too-large", "too_large", f"the body is over the limit of {limit} bytes"
    )


def _bound_pauses(req: Request, seconds: float) -> None:
    """Set a read timeout on the client socket (gunicorn and werkzeug expose it)."""
    sock = req.environ.get("gunicorn.socket") or req.environ.get("werkzeug.socket")
    if sock is not None and hasattr(sock, "settimeout"):
        sock.settimeout(seconds)


def _read_up_to(req: Request, size: int) -> bytes:
    """Read until ``size`` bytes or the end of the body (a stream may return less)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = _read_chunk(req, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _drain(req: Request, size: int) -> None:
    """Read and drop up to ``size`` bytes, so the client sees the answer, not a reset."""
    drained = 0
    while drained < size:
        chunk = _read_chunk(req, min(65536, size - drained))
        if not chunk:
            break
        drained += len(chunk)


def _read_chunk(req: Request, size: int) -> bytes:
    """One read of the body: ``b""`` at its end, ``TimeoutError`` when it stalls."""
    try:
        return req.stream.read(size)
    except ClientDisconnected as error:  # werkzeug: the body ended before Content-Length
        if isinstance(error.__context__, TimeoutError):
            raise TimeoutError("the body stalled") from error
        return b""


def _refusal(
    req: Request, raw: bytes, failure: _ReadFailure | None, item: Received
) -> tuple[str, str] | None:
    """The first failing check among body reading, 415, 413 and 400, else ``None``."""
    if failure is not None and failure.slug != "payload-too-large":
        item.violations = [{"pointer": "", "code": failure.code, "message": failure.message}]
        return failure.slug, failure.message
    media_problem = _media_type_problem(req)
    if media_problem:
        item.violations = [{"pointer": "", "code": "content_type", "message": media_problem}]
        return "unsupported-media-type", media_problem
    if failure is not None:
        item.violations = [{"pointer": "", "code": failure.code, "message": failure.message}]
        item.body = ""
        return failure.slug, failure.message
    try:
        item.payload = parse_object(raw)
    except BodyError as error:
        item.violations = [error.violation.to_dict()]
        return "malformed-body", error.violation.message
    return None


#: The Content-Type values nearly every client sends, accepted without parsing them.
_JSON_MEDIA_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})


def _media_type_problem(req: Request) -> str | None:
    if req.content_type in _JSON_MEDIA_TYPES:
        return None
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
