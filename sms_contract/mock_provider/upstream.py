"""The proxy's upstream: where a proxied send goes on to, and the HTTP client that
takes it there (``sms-contract proxy``, docs/proxy.md).

No Flask here, and no requests: the URL and CA rules are the platform's, from
the sender's ``sender/transport.py`` (https only, plain http only to a loopback
host, no credentials in the URL), and so is the naming of network failures.
The client opens one connection per exchange and closes it after the answer: a
send is never written to a pooled connection the upstream may have closed
meanwhile, so nothing is sent twice.

Every exchange has one deadline (``timeout``) for the connection, the TLS
handshake, the request and the whole answer: each read waits at most the time
left, and under gevent (``serve``'s workers) a timer bounds the name lookup too.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi

from sms_contract.core.credentials import basic_authorization, check_login, redact_header
from sms_contract.core.outcome import classify
from sms_contract.exceptions import ConfigError, ConfigurationError, InvalidLogin
from sms_contract.mock_provider.limits import total_deadline
from sms_contract.sender.transport import (
    NetworkFailure,
    check_ca_bundle,
    check_provider_url,
    describe_network_error,
)

#: Headers that concern one connection only (RFC 9110 7.6.1): never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: Request headers the proxy writes itself: the upstream's Host, the body's length;
#: an ``Expect: 100-continue`` was the client's business with the proxy.
_OWN_REQUEST_HEADERS = frozenset({"host", "content-length", "expect"})
#: Answer headers the proxy's server writes itself (gunicorn and werkzeug always
#: write Date and Server; the length is that of the body passed on).
_OWN_ANSWER_HEADERS = frozenset({"content-length", "date", "server"})

#: The largest upstream answer passed on; a longer one is a 502 (an SMS provider
#: answers a few hundred bytes).
MAX_ANSWER_BYTES = 1024 * 1024
#: How much of an answer's body an inbox entry keeps.
BODY_EXCERPT_CHARS = 4096
#: The longest ``timeout`` accepted, in seconds.
MAX_TIMEOUT = 600.0
#: The outcomes an attempt can have: ``core.outcome``'s three, and ``error`` for
#: no answer at all (which a sender reads as retryable).
OUTCOMES = ("accepted", "permanent", "retryable", "error")
#: The option that gives the upstream's CA, named in certificate hints.
CA_OPTION = "--upstream-cacert"


@dataclass(frozen=True)
class UpstreamConfig:
    """Where a proxy forwards sends, and how.

    ``login`` and ``password`` replace the client's ``Authorization`` on the way
    up (it is passed through unchanged otherwise); the password is left out of
    ``repr`` and is never recorded. ``insecure`` skips the certificate check.
    ``block_invalid`` answers a send the checks refuse in the upstream's place
    (as ``serve`` does) instead of forwarding it.
    """

    url: str
    ca_bundle: Path | None = None
    insecure: bool = False
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    block_invalid: bool = False

    def __post_init__(self) -> None:
        try:
            check_provider_url(self.url, allow_http_loopback=True)
            if self.ca_bundle is not None:
                check_ca_bundle(self.ca_bundle)
        except ConfigurationError as error:
            raise ConfigError(f"upstream: {error}") from None
        if self.ca_bundle is not None and self.insecure:
            raise ConfigError(
                "upstream: a CA file makes no sense with certificate checks turned off"
            )
        if self.login is not None:
            try:
                check_login(self.login)
            except InvalidLogin as error:
                raise ConfigError(f"upstream login {self.login!r} refused: {error}") from None
            if not self.password:
                raise ConfigError(f"upstream: the login {self.login!r} needs a password")
        elif self.password is not None:
            raise ConfigError("upstream: a password was given without a login")
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise ConfigError(
                f"upstream: the timeout must be over 0 and at most {MAX_TIMEOUT:g} seconds"
            )

    @property
    def auth_mode(self) -> str:
        """``replaced`` when the proxy sends its own login, else ``passed-through``."""
        return "replaced" if self.login is not None else "passed-through"


@dataclass(frozen=True)
class Exchange:
    """One request to the upstream and what came back: an answer (``status`` set)
    or a ``failure`` (no usable answer)."""

    started_at: float
    elapsed: float
    status: int | None = None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    failure: NetworkFailure | None = None

    @property
    def outcome(self) -> str:
        """``error`` without a usable answer, else the answer's reading (``core.outcome``)."""
        if self.failure is not None or self.status is None:
            return "error"
        return classify(self.status).value


def end_to_end(headers: Iterable[tuple[str, str]], own: frozenset[str]) -> list[tuple[str, str]]:
    """``headers`` without the hop-by-hop ones (those named in ``Connection`` too)
    and without ``own`` (lower-case names the proxy writes itself)."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    dropped = HOP_BY_HOP | own | named
    return [(name, value) for name, value in pairs if name.lower() not in dropped]


def request_headers(
    config: UpstreamConfig, headers: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The client's headers as they go upstream: end-to-end ones only, with the
    proxy's login in place of the client's ``Authorization`` when it has one."""
    kept = end_to_end(headers, _OWN_REQUEST_HEADERS)
    if config.login is None or config.password is None:
        return kept
    kept = [(name, value) for name, value in kept if name.lower() != "authorization"]
    return [*kept, ("Authorization", basic_authorization(config.login, config.password))]


def answer_headers(exchange: Exchange) -> list[tuple[str, str]]:
    """The upstream's answer headers as the proxy passes them to the client."""
    return end_to_end(exchange.headers, _OWN_ANSWER_HEADERS)


class _DeadlineReader(io.RawIOBase):
    """Reads a socket, each read waiting at most the time left before ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(_time_left(self._deadline))
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """The socket ``http.client`` writes to and reads from, under one deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_time_left(self._deadline))
        self._sock.sendall(data)

    def makefile(self, mode: str) -> io.BufferedReader:
        assert mode == "rb"
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def close(self) -> None:
        # http.client closes the connection once the answer is under way (it reads
        # on through the file): the exchange closes the socket when it is done.
        pass


def _time_left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the upstream's deadline passed")
    return left


class UpstreamClient:
    """Sends requests to the upstream of ``config``; safe to share between threads
    and greenlets (each exchange has its own connection)."""

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        parts = urlsplit(config.url)
        self._https = parts.scheme.lower() == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._host_header = parts.netloc
        self.where = f"{self._host}:{self._port}"
        self._context: ssl.SSLContext | None = None
        if self._https:
            self._context = ssl.create_default_context(
                # The sender's trust (requests reads certifi's bundle) unless a CA file is given.
                cafile=str(config.ca_bundle or certifi.where())
            )
            if config.insecure:
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE

    def exchange(self, method: str, headers: list[tuple[str, str]], body: bytes) -> Exchange:
        """Send one request and read the whole answer, within ``config.timeout``.

        Never raises for a network problem: the ``Exchange`` then holds the failure.
        """
        timeout = self.config.timeout
        started_at = time.time()
        started = time.monotonic()
        try:
            with total_deadline(timeout):
                status, reason, answer_headers, data = self._exchange(
                    method, headers, body, started + timeout
                )
        except Exception as error:  # every network error, named the sender's way
            failure = describe_network_error(error, self.where, timeout, ca_option=CA_OPTION)
            return Exchange(started_at, time.monotonic() - started, failure=failure)
        elapsed = time.monotonic() - started
        if status < 200:  # http.client passes over 100 Continue; any other 1xx is no answer
            failure = NetworkFailure(
                "network", f"{self.where} answered {status}, an interim status, and no more"
            )
            return Exchange(started_at, elapsed, status, reason, answer_headers, failure=failure)
        if data is None:
            failure = NetworkFailure(
                "too-large", f"the answer of {self.where} is over {MAX_ANSWER_BYTES} bytes"
            )
            return Exchange(started_at, elapsed, status, reason, answer_headers, failure=failure)
        return Exchange(started_at, elapsed, status, reason, answer_headers, data)

    def _exchange(
        self, method: str, headers: list[tuple[str, str]], body: bytes, deadline: float
    ) -> tuple[int, str, tuple[tuple[str, str], ...], bytes | None]:
        sock = socket.create_connection((self._host, self._port), timeout=_time_left(deadline))
        try:
            # The request follows the TLS handshake's last message at once: with Nagle's
            # algorithm it would wait for that message's (delayed) ACK, some 40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._context is not None:
                sock.settimeout(_time_left(deadline))
                sock = self._context.wrap_socket(sock, server_hostname=self._host)
            connection = http.client.HTTPConnection(self._host, self._port)
            connection.sock = _DeadlineSocket(sock, deadline)
            connection.putrequest(method, self._target, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", self._host_header)
            for name, value in headers:
                connection.putheader(name, value)
            if body or method == "POST":
                connection.putheader("Content-Length", str(len(body)))
            connection.putheader("Connection", "close")
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = _read_answer(response)
            return response.status, response.reason, tuple(response.getheaders()), data
        finally:
            sock.close()


def _read_answer(response: http.client.HTTPResponse) -> bytes | None:
    """The whole body, or ``None`` once it is over ``MAX_ANSWER_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def interrupted_attempt(config: UpstreamConfig) -> dict[str, Any]:
    """The attempt recorded on an entry left pending by a proxy that stopped (or
    crashed) before the upstream answered: it is closed when a proxy starts."""
    failure = NetworkFailure(
        "interrupted", "the proxy stopped before the upstream answered; its client got no answer"
    )
    exchange = Exchange(time.time(), 0.0, failure=failure)
    return attempt_record(config, exchange, method="POST", answered=None)


def attempt_record(
    config: UpstreamConfig, exchange: Exchange, *, method: str, answered: int | None
) -> dict[str, Any]:
    """What an inbox entry keeps of one forwarded attempt: never a password, the
    answer's secret headers redacted, its body cut to ``BODY_EXCERPT_CHARS``.
    ``answered`` is the status the proxy gave its client."""
    text = exchange.body.decode("utf-8", "replace")
    failure = exchange.failure
    return {
        "at": datetime.fromtimestamp(exchange.started_at, UTC).isoformat(timespec="milliseconds"),
        "url": config.url,
        "method": method,
        "auth": config.auth_mode,
        "insecure": config.insecure,
        "status": exchange.status,
        "reason": exchange.reason,
        "outcome": exchange.outcome,
        "headers": _header_map(exchange.headers),
        "body": text[:BODY_EXCERPT_CHARS],
        "bodyBytes": len(exchange.body),
        "bodyTruncated": len(text) > BODY_EXCERPT_CHARS,
        "elapsedMs": round(exchange.elapsed * 1000, 3),
        "error": None if failure is None else {"kind": failure.kind, "message": failure.message},
        "answered": answered,
    }


def _header_map(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as one object, a repeated one joined with ``, ``, secret ones redacted."""
    merged: dict[str, str] = {}
    for name, value in headers:
        shown = redact_header(name, value)
        merged[name] = f"{merged[name]}, {shown}" if name in merged else shown
    return merged
