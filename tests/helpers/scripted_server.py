"""A real HTTP(S) server in a thread that answers from a script, for client tests.

Each request takes the next ``Reply`` of the script (the ``default`` reply once
the script is used up) and is recorded with its headers, body and arrival time::

    with ScriptedServer([Reply(503), Reply(200, json={"id": "m1"})]) as server:
        requests.post(server.url, json={})  # 503
        requests.post(server.url, json={})  # 200
        assert len(server.requests) == 2

A ``Reply`` may also wait before answering (``delay``, to trigger timeouts),
close the connection without answering (``close``) or reset it (``reset``).
Pass ``ssl_context`` to serve HTTPS (see ``tls_context`` for trustme). The
werkzeug server closes the connection after each answer (no keep-alive).
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import trustme
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

#: The answer to a request once the script is used up.
DEFAULT_REPLY_JSON = {"id": "msg-1", "status": "accepted"}


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    json: Any = None
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close: bool = False
    reset: bool = False

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes and the headers to send."""
        headers = dict(self.headers)
        if self.json is not None:
            headers.setdefault("Content-Type", "application/json")
            return jsonlib.dumps(self.json).encode("utf-8"), headers
        body = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        return body, headers


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; ``arrived`` is ``time.monotonic()``."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)


Script = Iterable[Reply] | Callable[[RecordedRequest], Reply]


class _QuietHandler(WSGIRequestHandler):
    def handle(self) -> None:
        with contextlib.suppress(OSError):  # a scripted close or reset: no descriptor left
            super().handle()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass


class ScriptedServer:
    """A threaded werkzeug server on 127.0.0.1 (an ephemeral port) answering from a script.

    ``script`` is a list of ``Reply`` (played in order, then ``default``) or a
    function from the ``RecordedRequest`` to its ``Reply``.
    """

    def __init__(
        self,
        script: Script = (),
        *,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        path: str = "/sms",
        default: Reply | None = None,
    ) -> None:
        self.requests: list[RecordedRequest] = []
        self.default = default or Reply(200, json=DEFAULT_REPLY_JSON)
        self._lock = threading.Lock()
        self._pending: list[Reply] = []
        self._responder: Callable[[RecordedRequest], Reply] | None = None
        self.play(script)
        self._server: BaseWSGIServer = make_server(
            host,
            0,
            self._app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ssl_context,
        )
        scheme = "https" if ssl_context is not None else "http"
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"{scheme}://{shown_host}:{self._server.server_port}{path}"
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def play(self, script: Script) -> None:
        """Replace what is left of the script."""
        with self._lock:
            if callable(script):
                self._responder, self._pending = script, []
            else:
                self._responder, self._pending = None, list(script)

    def start(self) -> ScriptedServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests' arrivals."""
        times = [request.arrived for request in self.requests]
        return [later - earlier for earlier, later in pairwise(times)]

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._responder is not None:
                return self._responder(request)
            return self._pending.pop(0) if self._pending else self.default

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        arrived = time.monotonic()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
        path = environ.get("PATH_INFO", "")
        request = RecordedRequest(environ["REQUEST_METHOD"], path, headers, body, arrived)
        reply = self._next_reply(request)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.close or reply.reset:
            connection: socket.socket = environ["werkzeug.socket"]
            if reply.reset:  # closing with a zero linger sends RST instead of FIN
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                connection.shutdown(socket.SHUT_RDWR)
            # The handler's file objects keep the socket open: close the descriptor itself.
            os.close(connection.detach())
            # werkzeug treats a ConnectionError from the app as a dropped connection.
            raise ConnectionResetError("scripted: connection dropped without an answer")
        data, reply_headers = reply.encoded()
        reason = _REASONS.get(reply.status, "Scripted")
        start_response(f"{reply.status} {reason}", list(reply_headers.items()))
        return [data]


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def tls_context(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    """A server-side TLS context with a certificate from ``ca`` for ``hosts``
    (127.0.0.1, ::1 and localhost by default)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(hosts or ("127.0.0.1", "::1", "localhost"))).configure_cert(context)
    return context
