"""Bad requests written byte by byte on a raw socket: each gets its own 4xx problem.

Never a 5xx, a hang or a traceback: the socket has a timeout, the server a read
timeout, and no log record of level ERROR may appear while a case runs.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from sms_contract import build_payload
from sms_contract.mock_provider.testing import SmsProvider

NAMESPACE = "bad-requests"
SEND = f"/ns/{NAMESPACE}/sms"
LIMIT = 64 * 1024
#: The server's read timeout (short, so the stalled-body case is quick).
READ_TIMEOUT = 1.0
#: The test's own bound: no case may make it wait longer than this.
SOCKET_TIMEOUT = 20.0


@dataclass(frozen=True)
class Bad:
    """One raw request and the answer it must get."""

    request: bytes
    status: int
    code: str | None = None
    pointer: str | None = None
    #: Half-close the socket after sending (False: stay silent, as a stalled client).
    half_close: bool = True
    headers: dict[str, str] = field(default_factory=dict)


def valid(**overrides: Any) -> dict[str, Any]:
    """A valid payload, fields overridden as given."""
    payload = build_payload(
        "+33612345678", "Votre RDV est confirmé", sender="INOCX", ret_id="raw-1"
    ).to_json_dict()
    payload.update(overrides)
    return payload


def without(name: str) -> dict[str, Any]:
    """A valid payload missing ``name``."""
    payload = valid()
    del payload[name]
    return payload


def raw_post(
    body: bytes,
    content_type: str | None = "application/json",
    *,
    length: int | None = None,
    extra: str = "",
    path: str = SEND,
) -> bytes:
    """A POST with ``body`` exactly as given; ``length`` overrides Content-Length."""
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    head += f"Content-Length: {len(body) if length is None else length}\r\n{extra}\r\n"
    return head.encode("latin-1") + body


def chunked(body: bytes, chunk: int = 4096) -> bytes:
    """A chunked POST of ``body``."""
    head = (
        f"POST {SEND} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    parts = [
        f"{len(body[i : i + chunk]):x}\r\n".encode() + body[i : i + chunk] + b"\r\n"
        for i in range(0, len(body), chunk)
    ]
    return head + b"".join(parts) + b"0\r\n\r\n"


def payload(document: Any) -> bytes:
    """``document`` as UTF-8 JSON (non-ASCII kept as is)."""
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def invalid(document: Any, code: str, pointer: str) -> Bad:
    """A well-formed JSON body that breaks one contract rule (422)."""
    return Bad(raw_post(payload(document)), 422, code, pointer)


def malformed(body: bytes, code: str, pointer: str | None = None) -> Bad:
    """A body that is not a readable JSON object (400)."""
    return Bad(raw_post(body), 400, code, pointer)


def get(target: str, method: str = "GET") -> bytes:
    """A request without a body."""
    return f"{method} {target} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


GOOD = payload(valid())
EMOJI = "Merci 🙏"

CASES: dict[str, Bad] = {
    # -- Content-Type (415) ------------------------------------------------------------
    "content-type-missing": Bad(raw_post(GOOD, None), 415, "content_type", ""),
    "content-type-text-plain": Bad(raw_post(GOOD, "text/plain"), 415, "content_type"),
    "content-type-charset-latin-1": Bad(
        raw_post(GOOD, "application/json; charset=latin-1"), 415, "content_type"
    ),
    "content-type-charset-utf-16": Bad(
        raw_post(GOOD, "application/json; charset=utf-16"), 415, "content_type"
    ),
    "content-type-form": Bad(
        raw_post(GOOD, "application/x-www-form-urlencoded"), 415, "content_type"
    ),
    # -- size and framing (413, 400, 408) -----------------------------------------------
    "body-over-limit-content-length": Bad(raw_post(b" " * (LIMIT + 1)), 413, "too_large", ""),
    "body-over-limit-chunked": Bad(chunked(b" " * (LIMIT + 1)), 413, "too_large", ""),
    "body-declared-100mb-sent-short": Bad(raw_post(GOOD, length=100_000_000), 413, "too_large"),
    "content-length-longer-than-body-then-close": Bad(
        raw_post(GOOD, length=len(GOOD) + 50), 400, "incomplete_body", ""
    ),
    "content-length-longer-than-body-then-stall": Bad(
        raw_post(GOOD, length=len(GOOD) + 50), 408, "body_timeout", "", half_close=False
    ),
    "content-length-not-a-number": Bad(
        f"POST {SEND} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Content-Length: abc\r\n\r\n".encode(),
        400,
    ),
    "chunk-size-not-hex": Bad(
        f"POST {SEND} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".encode(),
        400,
        "unreadable_body",
    ),
    "body-empty": malformed(b"", "empty_body", ""),
    "body-whitespace-only": malformed(b" \r\n\t ", "empty_body"),
    "post-without-content-length": Bad(
        (
            f"POST {SEND} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\r\n"
        ).encode(),
        400,
        "empty_body",
    ),
    # -- bytes and JSON syntax (400) -----------------------------------------------------
    "invalid-utf8": malformed(b'{"text": "caf\xe9"}', "invalid_utf8"),
    "overlong-utf8-slash": malformed(b'{"text": "\xc0\xaf"}', "invalid_utf8"),
    "truncated-json": malformed(GOOD[:-7], "invalid_json"),
    "trailing-garbage": malformed(GOOD + b" trailing", "invalid_json"),
    "two-objects": malformed(GOOD + GOOD, "invalid_json"),
    "single-quotes": malformed(b"{'type': 'MARKETING'}", "invalid_json"),
    "trailing-comma": malformed(GOOD[:-1] + b",}", "invalid_json"),
    "comment": malformed(b"/* hi */" + GOOD, "invalid_json"),
    "raw-control-character": malformed(GOOD.replace(b"RDV", b"R\x01V"), "invalid_json"),
    "json-array": malformed(b"[" + GOOD + b"]", "not_an_object", ""),
    "json-number": malformed(b"42", "not_an_object"),
    "json-string": malformed(b'"hello"', "not_an_object"),
    "json-null": malformed(b"null", "not_an_object"),
    "json-true": malformed(b"true", "not_an_object"),
    "duplicate-key": malformed(GOOD[:-1] + b', "retId": "raw-2"}', "duplicate_key", "/retId"),
    "nan": malformed(GOOD.replace(b'"credits": 1', b'"credits": NaN'), "non_finite_number"),
    "infinity": malformed(
        GOOD.replace(b'"credits": 1', b'"credits": Infinity'), "non_finite_number"
    ),
    "minus-infinity": malformed(
        GOOD.replace(b'"credits": 1', b'"credits": -Infinity'), "non_finite_number"
    ),
    "number-1e400": malformed(
        GOOD.replace(b'"credits": 1', b'"credits": 1e400'), "non_finite_number"
    ),
    "integer-5000-digits": malformed(
        GOOD.replace(b'"credits": 1', b'"credits": ' + b"7" * 5000), "number_too_long"
    ),
    "arrays-nested-10000-deep": malformed(b"[" * 10_000 + b"]" * 10_000, "too_deep"),
    "objects-nested-10000-deep": malformed(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "too_deep"),
    "field-nested-40-deep": malformed(
        payload(valid(text=json.loads("[" * 40 + "]" * 40))), "too_deep", "/text" + "/0" * 31
    ),
    "lone-high-surrogate-in-text": malformed(
        GOOD.replace(b"Votre", b"\\ud83dVotre"), "lone_surrogate", "/text"
    ),
    "lone-low-surrogate-in-key": malformed(GOOD[:-1] + b', "\\udc00": 1}', "lone_surrogate"),
    "byte-order-mark": malformed(b"\xef\xbb\xbf" + GOOD, "byte_order_mark"),
    # -- schema (422) --------------------------------------------------------------------
    **{
        f"missing-{name}": invalid(without(name), "required", f"/{name}")
        for name in ("type", "to", "retId", "isUnicode", "text", "credits")
    },
    "type-lowercase": invalid(valid(type="notification"), "enum", "/type"),
    "type-unknown": invalid(valid(type="SMS"), "enum", "/type"),
    "to-with-spaces": invalid(valid(to="+33 6 12 34 56 78"), "pattern", "/to"),
    "to-national": invalid(valid(to="0612345678"), "pattern", "/to"),
    "to-sixteen-digits": invalid(valid(to="+3361234567890123"), "pattern", "/to"),
    "to-a-number": invalid(valid(to=33612345678), "type", "/to"),
    "ret-id-empty": invalid(valid(retId=""), "min_length", "/retId"),
    "ret-id-too-long": invalid(valid(retId="r" * 129), "max_length", "/retId"),
    "ret-id-integer": invalid(valid(retId=42), "type", "/retId"),
    "is-unicode-string": invalid(valid(isUnicode="false"), "type", "/isUnicode"),
    "is-unicode-integer": invalid(valid(isUnicode=0), "type", "/isUnicode"),
    "text-empty": invalid(valid(text=""), "min_length", "/text"),
    "text-null": invalid(valid(text=None), "type", "/text"),
    "text-too-long": invalid(valid(text="a" * 39_016), "max_length", "/text"),
    "credits-zero": invalid(valid(credits=0), "minimum", "/credits"),
    "credits-256": invalid(valid(credits=256), "maximum", "/credits"),
    "credits-string": invalid(valid(credits="1"), "type", "/credits"),
    "credits-fraction": invalid(valid(credits=1.5), "type", "/credits"),
    "credits-boolean": invalid(valid(credits=True), "type", "/credits"),
    "sender-a-number": invalid(valid(sender=12345), "type", "/sender"),
    "notification-sender-absent": invalid(without("sender"), "type_rule", "/type"),
    "notification-sender-null": invalid(valid(sender=None), "type_rule", "/type"),
    "notification-sender-empty": invalid(valid(sender=""), "type_rule", "/type"),
    "is-unicode-false-with-emoji": invalid(
        valid(text=EMOJI, credits=1), "is_unicode_mismatch", "/isUnicode"
    ),
    # Under the default reading unicode=allowed, credits count as UCS-2 once declared.
    "credits-as-gsm-for-is-unicode-true": invalid(
        valid(isUnicode=True, text="a" * 100, credits=1), "credits_mismatch", "/credits"
    ),
    "credits-too-high-for-text": invalid(valid(credits=2), "credits_mismatch", "/credits"),
    "credits-too-low-for-text": invalid(
        valid(text="a" * 161, credits=1), "credits_mismatch", "/credits"
    ),
    # -- routing (405, 404) --------------------------------------------------------------
    "method-put-on-send": Bad(get(SEND, "PUT"), 405, headers={"allow": "POST"}),
    "method-delete-on-send": Bad(get("/sms", "DELETE"), 405, headers={"allow": "POST"}),
    "method-patch-on-messages": Bad(get("/api/messages", "PATCH"), 405),
    "unknown-path": Bad(get("/nope"), 404),
    "namespace-with-bang": Bad(raw_post(GOOD, path="/ns/bad!name/sms"), 404),
    "namespace-65-characters": Bad(raw_post(GOOD, path=f"/ns/{'n' * 65}/sms"), 404),
    "namespace-empty": Bad(raw_post(GOOD, path="/ns//sms"), 404),
    # -- admin query parameters (400, 404) -----------------------------------------------
    "limit-not-a-number": Bad(get("/api/messages?limit=abc"), 400, "type", "/query/limit"),
    "limit-zero": Bad(get("/api/messages?limit=0"), 400, "range", "/query/limit"),
    "limit-1001": Bad(get("/api/messages?limit=1001"), 400, "range", "/query/limit"),
    "limit-fraction": Bad(get("/api/messages?limit=1.5"), 400, "type", "/query/limit"),
    "limit-nan": Bad(get("/api/messages?limit=nan"), 400, "type", "/query/limit"),
    "limit-undecodable": Bad(get("/api/messages?limit=%ff"), 400, "type", "/query/limit"),
    "offset-negative": Bad(get("/api/messages?offset=-1"), 400, "range", "/query/offset"),
    "status-unknown": Bad(get("/api/messages?status=lost"), 400, "enum", "/query/status"),
    "type-filter-unknown": Bad(get("/api/messages?type=sms"), 400, "enum", "/query/type"),
    "since-not-a-date": Bad(get("/api/messages?since=yesterday"), 400, "format", "/query/since"),
    "since-without-zone": Bad(
        get("/api/messages?since=2026-01-01T00:00:00"), 400, "format", "/query/since"
    ),
    "namespace-filter-bad": Bad(
        get("/api/messages?namespace=bad!"), 400, "pattern", "/query/namespace"
    ),
    "to-filter-too-long": Bad(get(f"/api/messages?to={'1' * 201}"), 400, "max_length", "/query/to"),
    "clear-bad-namespace": Bad(
        get("/api/messages?namespace=a/b", "DELETE"), 400, "pattern", "/query/namespace"
    ),
    "wait-without-ret-id": Bad(get("/api/messages/wait"), 400, "required", "/query/retId"),
    "wait-timeout-not-a-number": Bad(
        get("/api/messages/wait?retId=x&timeout=soon"), 400, "type", "/query/timeout"
    ),
    "wait-timeout-negative": Bad(
        get("/api/messages/wait?retId=x&timeout=-1"), 400, "range", "/query/timeout"
    ),
    "wait-timeout-infinite": Bad(
        get("/api/messages/wait?retId=x&timeout=1e999"), 400, "range", "/query/timeout"
    ),
    "wait-timeout-over-max": Bad(
        get("/api/messages/wait?retId=x&timeout=61"), 400, "range", "/query/timeout"
    ),
    "message-id-beyond-sqlite": Bad(get("/api/messages/99999999999999999999999"), 404),
    "message-id-not-a-number": Bad(get("/api/messages/abc"), 404),
    "unknown-schema-document": Bad(get("/schema/passwd"), 404),
}


@dataclass
class RawResponse:
    """A parsed HTTP/1.1 answer."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes


def exchange(port: int, data: bytes, *, half_close: bool) -> RawResponse:
    """Send ``data`` and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as client:
        client.sendall(data)
        if half_close:
            client.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return RawResponse(int(status_line.split()[1]), headers, body, received)


@pytest.fixture(scope="module")
def server(make_sms_provider) -> SmsProvider:
    """A plain-HTTP provider with a short read timeout."""
    return make_sms_provider(tls=False, read_timeout=READ_TIMEOUT)


@pytest.fixture(autouse=True)
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail when the server logs an error (a traceback) while a case runs."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_bad_request_gets_its_4xx_problem_never_a_5xx_hang_or_traceback(server, case):
    port = int(server.base_url.rsplit(":", 1)[1])
    answer = exchange(port, case.request, half_close=case.half_close)
    assert answer.status == case.status, answer.raw[:600]
    assert b"Traceback" not in answer.raw
    assert answer.headers["content-type"] == "application/problem+json"
    problem = json.loads(answer.body)
    assert problem["status"] == case.status
    assert problem["type"].startswith("https://")
    assert isinstance(problem["detail"], str) and problem["detail"]
    if case.code is not None:
        found = [(v["pointer"], v["code"]) for v in problem["violations"]]
        assert case.code in [code for _, code in found], found
        if case.pointer is not None:
            assert (case.pointer, case.code) in found, found
    for name, value in case.headers.items():
        assert value in answer.headers[name]
