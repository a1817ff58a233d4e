"""The send pipeline: one POSTed SMS, from the request to the answer, step by step.

Every entry point that takes a send (the send route; later a checker page or a
proxy) runs these steps, in this order. The first step that refuses answers
with a problem+json body listing every violation:

1. ``authenticate``: the auth mode's credentials (401 with the Basic challenge).
2. ``read_body``: the body, bounded in size and time (408 when it stalls; 400
   when it ends early or its chunks are broken).
3. ``screen``: the media type (415), then the size (413).
4. ``parse``: a readable JSON object (400).
5. ``judge``: the contract, under the readings in force (422 listing every
   violation; warnings never refuse).
6. ``plan_faults``: fault rules and magic recipients (docs/faults.md). A fault
   that answers (any 4xx/5xx, 429, reset, empty, hang) takes the place of the
   verdict and is never an acceptance; a delay or a truncation lets it through.
7. ``store``: committed before the answer; a retry of an accepted retId is the
   same message (200, ``duplicate``), another body under it a conflict (409).
8. ``answer``: 200 with the provider's id, or the problem.

A proxy (``ProviderConfig.upstream``) runs steps 1 to 6 unchanged, then
``forward`` in place of 7 and 8: the send is stored (pending), its bytes go
upstream, the upstream's answer is added to the entry and passed on to the
client (502/504 when there is none). A body not read whole (408, 413, a short
400) is answered as above, and so, with ``block_invalid``, is every refusal.

A GET or HEAD on the send URL is the test connection: step 1, then 200 (a
proxy passes it on to the upstream and records nothing either).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request

from sms_contract.core.findings import Violation
from sms_contract.core.jsontext import canonical_bytes
from sms_contract.core.readings import Readings
from sms_contract.core.validation import check_document, parse_object
from sms_contract.exceptions import BodyError
from sms_contract.mock_provider.answer import Answer, status_line
from sms_contract.mock_provider.auth import AuthResult, authenticate, challenge, redacted_headers
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.faults import apply as faults
from sms_contract.mock_provider.faults.rules import FaultPlan, SendFacts
from sms_contract.mock_provider.faults.wire import client_socket
from sms_contract.mock_provider.limits import total_deadline
from sms_contract.mock_provider.namespaces import NAMESPACE_RULE, is_namespace
from sms_contract.mock_provider.problems import (
    PROBLEM_CONTENT_TYPE,
    PROBLEMS,
    problem_body,
)
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.storage.inbox import Received, Stored, accepted_answer
from sms_contract.mock_provider.upstream import (
    Exchange,
    UpstreamClient,
    answer_headers,
    attempt_record,
    request_headers,
)

#: How much of an over-long body is read (and dropped) so the client sees the
#: 413 rather than a reset connection; past that the connection is closed.
DRAIN_LIMIT = 1024 * 1024

#: The Content-Type values nearly every client sends, accepted without parsing them.
_JSON_MEDIA_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a send is not accepted: a problem slug, its detail and the violations."""

    slug: str
    detail: str
    violations: tuple[Violation, ...] = ()

    @classmethod
    def of(cls, slug: str, code: str, message: str) -> Refusal:
        """A refusal with one violation of the whole body."""
        return cls(slug, message, (Violation("", code, message),))


@dataclass(frozen=True, slots=True)
class Body:
    """What ``read_body`` read: the bytes, and why it stopped short when it did."""

    raw: bytes
    failure: Refusal | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The contract's verdict on a send (steps 3 to 5)."""

    payload: dict[str, Any] | None
    refusal: Refusal | None
    warnings: tuple[Violation, ...] = ()

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The violations the verdict found (none when accepted)."""
        return self.refusal.violations if self.refusal else ()


def handle_send(
    state: ProviderState, req: Request, namespace: str, upstream: UpstreamClient | None = None
) -> Answer:
    """Run the whole pipeline for one request on the send URL; a proxy's ``upstream``
    client takes the send on (``forward``)."""
    started = time.perf_counter()
    if not is_namespace(namespace):
        return Answer.problem("not-found", NAMESPACE_RULE)
    auth = authenticate(state.config, req)
    if not auth.allowed:
        return Answer.problem("unauthorized", auth.reason, headers=challenge(state.config))
    if req.method in ("GET", "HEAD"):
        if upstream is not None:
            return pass_on(upstream, _exchange(upstream, req, b""))
        return Answer.json(200, {"status": "ok", "namespace": namespace, "login": auth.login})
    body = read_body(req, state.config)
    verdict = judge(state.config, screen(req, body) or parse(body))
    plan = plan_faults(state, namespace, verdict.payload, auth.login)
    applied: tuple[dict[str, Any], ...] = ()
    if plan is not None:
        if plan.answers:
            item = received(namespace, req, auth, body, verdict, state.config.readings)
            return faults.answer(state, req.environ, item, plan, started, challenge(state.config))
        applied = faults.let_through(plan)
    item = received(
        namespace,
        req,
        auth,
        body,
        verdict,
        state.config.readings,
        faults=applied,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    response = store(state, item) if upstream is None else forward(state, req, item, body, upstream)
    return response if plan is None else faults.finish(req.environ, response, plan)


# -- 2. read ---------------------------------------------------------------------------


def read_body(req: Request, config: ProviderConfig) -> Body:
    """Up to ``max_body_bytes + 1`` bytes of the body, or why it could not be read whole.

    A pause longer than ``config.read_timeout``, or (under gevent) a body not
    whole after ``config.body_timeout``, ends the read (408): a client that
    trickles its body cannot hold the server. The socket's own timeout is put
    back afterwards: the wait for the next request on a kept-alive connection
    is the server's keep-alive time, not the body's read timeout.
    """
    sock = client_socket(req.environ)
    if sock is None:
        return _read_body(req, config)
    kept = sock.gettimeout()
    sock.settimeout(config.read_timeout)
    try:
        return _read_body(req, config)
    finally:
        with contextlib.suppress(OSError):  # a connection a fault or the client closed
            sock.settimeout(kept)


def _read_body(req: Request, config: ProviderConfig) -> Body:
    limit = config.max_body_bytes
    declared = req.content_length
    if declared is not None and declared > limit:
        # The verdict is known; draining only lets the client read it.
        with contextlib.suppress(Exception), total_deadline(config.read_timeout):
            _drain(req, min(declared, DRAIN_LIMIT))
        return Body(b"", _too_large(limit))
    try:
        with total_deadline(config.body_timeout):
            data = _read_up_to(req, limit + 1 if declared is None else declared)
    except TimeoutError:
        message = (
            f"the body stopped arriving for {config.read_timeout:g} s, "
            f"or took over {config.body_timeout:g} s in all"
        )
        return Body(b"", Refusal.of("request-timeout", "body_timeout", message))
    except Exception as error:  # broken framing (a bad chunk) or a dropped connection
        message = f"the body could not be read: {error}"[:200]
        return Body(b"", Refusal.of("malformed-body", "unreadable_body", message))
    if len(data) > limit:
        return Body(b"", _too_large(limit))
    if declared is not None and len(data) < declared:
        message = f"the body ended after {len(data)} of the {declared} bytes of Content-Length"
        return Body(data, Refusal.of("malformed-body", "incomplete_body", message))
    return Body(data)


def _too_large(limit: int) -> Refusal:
    message = f"the body is over the limit of {limit} bytes"
    return Refusal.of("payload-too-large", "too_large", message)


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


# -- 3. screen, 4. parse, 5. judge --------------------------------------------------------


def screen(req: Request, body: Body) -> Refusal | None:
    """The first refusal among reading (408/400), media type (415) and size (413)."""
    failure = body.failure
    if failure is not None and failure.slug != "payload-too-large":
        return failure
    media_problem = media_type_problem(req)
    if media_problem:
        return Refusal.of("unsupported-media-type", "content_type", media_problem)
    return failure


def media_type_problem(req: Request) -> str | None:
    """Why the Content-Type is not JSON in UTF-8, or ``None`` when it is."""
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


def parse(body: Body) -> dict[str, Any] | Refusal:
    """The body as a JSON object, or the 400 refusal that says why it is not one."""
    try:
        return parse_object(body.raw)
    except BodyError as error:
        return Refusal("malformed-body", error.violation.message, (error.violation,))


def judge(config: ProviderConfig, parsed: dict[str, Any] | Refusal) -> Verdict:
    """The contract's verdict on a parsed payload (a refusal passes through)."""
    if isinstance(parsed, Refusal):
        return Verdict(None, parsed)
    check = check_document(parsed, readings=config.readings)
    warnings = tuple(check.warnings)
    if check.violations:
        count = len(check.violations)
        detail = f"the payload breaks {count} rule(s) of the contract"
        return Verdict(
            parsed, Refusal("invalid-payload", detail, tuple(check.violations)), warnings
        )
    return Verdict(parsed, None, warnings)


def received(
    namespace: str,
    req: Request,
    auth: AuthResult,
    body: Body,
    verdict: Verdict,
    readings: Readings,
    *,
    faults: tuple[dict[str, Any], ...] = (),
    duration_ms: float | None = None,
) -> Received:
    """The inbox record of a judged send, with the faults applied to it."""
    refusal = verdict.refusal
    accepted = refusal is None
    return Received(
        namespace=namespace,
        status="accepted" if accepted else "rejected",
        http_status=200 if refusal is None else PROBLEMS[refusal.slug][0],
        body=body.raw.decode("utf-8", "replace"),
        body_hash=canonical_hash(verdict.payload) if accepted else _raw_hash(body.raw),
        payload=verdict.payload,
        violations=verdict.violations,
        warnings=verdict.warnings,
        headers=redacted_headers(req),
        client=req.remote_addr,
        login=auth.login,
        refusal=None if refusal is None else (refusal.slug, refusal.detail),
        readings=_readings_dict(readings),
        faults=faults,
        duration_ms=duration_ms,
    )


@cache
def _readings_dict(readings: Readings) -> dict[str, str]:
    # One dict per readings (a server has one), shared by the records: never changed.
    return readings.to_dict()


def canonical_hash(payload: Any) -> str:
    """The SHA-256 of a payload's canonical JSON: a retry with the same fields in
    another order or spacing is the same message."""
    return hashlib.sha256(canonical_bytes(payload)).hexdigest()


def _raw_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# -- 6. faults ---------------------------------------------------------------------------


def plan_faults(
    state: ProviderState, namespace: str, payload: dict[str, Any] | None, login: str | None
) -> FaultPlan | None:
    """The faults for a send whose body is a JSON object; ``None`` when none apply."""
    if payload is None:
        return None
    return state.plan_faults(SendFacts.of(namespace, payload, login))


# -- 7. store, 8. answer ------------------------------------------------------------------


def store(state: ProviderState, item: Received) -> Answer:
    """Commit the send with its answer, then answer."""
    stored, answer = state.record(item, answer_body)
    return verdict_answer(item, stored, answer)


def verdict_answer(item: Received, stored: Stored, answer: dict[str, Any]) -> Answer:
    """The answer of a stored send: 200 with the provider's id, or the problem."""
    if item.status == "accepted" and not stored.conflict:
        return Answer.json(item.http_status, answer)
    return Answer.json(409 if stored.conflict else item.http_status, answer, PROBLEM_CONTENT_TYPE)


def answer_body(item: Received, stored: Stored) -> dict[str, Any]:
    """The JSON answer for a recorded send (built inside the inbox transaction)."""
    ret_id = item.field_text("retId")
    if item.refusal is not None:
        slug, detail = item.refusal
        extra: dict[str, Any] = {}
        if not stored.conflict:
            extra["warnings"] = [w.to_dict() for w in item.warnings]
        return problem_body(
            slug, detail, violations=item.violations, **extra, id=stored.id, retId=ret_id
        )
    return accepted_answer(
        stored.id,
        ret_id,
        (item.payload or {}).get("credits"),
        [w.to_dict() for w in item.warnings],
        stored.attempts if stored.duplicate else 1,
    )


# -- a proxy: forward instead of 7 and 8 ---------------------------------------------------


def forward(
    state: ProviderState, req: Request, item: Received, body: Body, upstream: UpstreamClient
) -> Answer:
    """Store the send, pending; send its exact bytes upstream; add the upstream's
    answer to the entry, then pass that answer on (or a 502/504 without one).

    The entry is committed before the send goes upstream, so a send the upstream
    never answered is still on record; its answer is committed before the client
    gets it, so a client that saw the answer finds it recorded.
    """
    blocks = upstream.config.block_invalid
    forwards = body.failure is None and not (blocks and item.refusal is not None)
    stored, answer = state.record(replace(item, forwarding=forwards), answer_body)
    if forwards and blocks and stored.conflict:
        state.cancel_forwarding(stored.id)
        forwards = False
    if not forwards:
        return verdict_answer(item, stored, answer)
    exchange = _exchange(upstream, req, body.raw)
    response = pass_on(upstream, exchange, id=stored.id, retId=item.field_text("retId"))
    record = attempt_record(upstream.config, exchange, method=req.method, answered=response.code)
    state.add_upstream(stored.id, item.namespace, record)
    return response


def _exchange(upstream: UpstreamClient, req: Request, raw: bytes) -> Exchange:
    headers = request_headers(upstream.config, req.headers.items())
    return upstream.exchange(req.method, headers, raw)


def pass_on(upstream: UpstreamClient, exchange: Exchange, **extra: Any) -> Answer:
    """The upstream's answer as the client gets it: its status line, headers (less
    the hop-by-hop ones) and body; without one, a 504 after the timeout, else a 502,
    naming the cause (``extra`` goes into that problem)."""
    failure = exchange.failure
    if failure is not None:
        slug = "upstream-timeout" if failure.kind == "timeout" else "upstream-failed"
        return Answer.problem(
            slug, failure.message, cause=failure.kind, upstream=upstream.config.url, **extra
        )
    assert exchange.status is not None
    # The status line as it came, reason phrase included ("202 Queued").
    status = (
        f"{exchange.status} {exchange.reason}" if exchange.reason else status_line(exchange.status)
    )
    return Answer(status, tuple(answer_headers(exchange)), exchange.body)
