"""The gunicorn worker of ``serve``: gevent, one greenlet per connection.

A connection that sends nothing, or its request head slowly, costs a greenlet
and a file descriptor, never a thread that a send needs. Each connection's
first request head (TLS handshake included) must arrive within the head
deadline, else the answer is a 408; later heads on a kept-alive connection
get the same time, and the connection is closed quietly when it passes.
Errors that gunicorn answers itself (a header too large, a bad request line)
go out as problem+json like every other refusal.
"""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import gevent
from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker

from sms_contract.mock_provider.auth import challenge
from sms_contract.mock_provider.problems import error_answer


class ProviderWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker with a deadline on every request head."""

    def init_process(self) -> None:
        """Patch the standard library (gevent), then start serving."""
        # gunicorn writes its own refusals with ``util.write_error``; the
        # provider's clients expect problem+json from every refusal.
        util.write_error = partial(_write_problem, _challenge(self.app))
        super().init_process()

    def patch(self) -> None:
        """gevent's monkey patching, then what depends on it."""
        super().patch()
        # Accepted sockets inherit it: a TLS handshake that stalls ends here
        # (``handle`` then makes the socket blocking, under the head deadline).
        socket.setdefaulttimeout(self._head_seconds)
        # Made after the patching, so it is a greenlet-local: one per connection.
        self._connection = threading.local()
        #: Connections waiting for a request head: a graceful stop closes them.
        self._waiting: set[_ConnectionState] = set()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """A graceful stop: no new connections, and no wait for idle ones."""
        super().handle_exit(sig, frame)
        # gunicorn waits until every connection is done; an idle keep-alive
        # connection would hold the stop for a whole head deadline.
        for state in list(self._waiting):
            state.interrupt()

    def run(self) -> None:
        """Serve; a client that drops its connection (even mid-handshake) is no error."""
        # gevent's hub prints a traceback for every greenlet ending in an
        # exception: an abandoned TLS handshake would flood the log.
        hub = gevent.get_hub()
        hub.NOT_ERROR = (*hub.NOT_ERROR, OSError)
        # What is loaded by now (the app, the contract's schema, phonenumbers'
        # metadata: some 70,000 objects) lives as long as the worker. Out of the
        # collector's sight, a full collection takes under a millisecond rather
        # than 60 to 90: a pause every request in the worker would wait through.
        gc.freeze()
        super().run()

    @property
    def _head_seconds(self) -> float:
        # gunicorn's keep-alive time: an idle connection and a slow head end alike.
        return float(self.cfg.keepalive)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Serve one connection; remember whether it has had an answer yet."""
        self._connection.state = _ConnectionState(client)
        super().handle(listener, client, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        """Serve one request of the connection, then let the other connections run."""
        self._connection.state.requests += 1
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            # A greenlet runs until it waits: a keep-alive client whose next
            # request is always there would otherwise be served ahead of all.
            gevent.sleep(0)

    def timeout_ctx(self) -> Any:
        """The deadline of one request head (gunicorn reads the head inside it)."""
        return _head_deadline(self._head_seconds, self._connection.state, self._waiting)


class _ConnectionState:
    """One connection: how many requests it has had, and the deadline of the head
    it is waiting for."""

    __slots__ = ("client", "greenlet", "requests", "stopping", "timer")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.requests = 0
        self.stopping = False
        self.timer: gevent.Timeout | None = None
        self.greenlet: Any = None

    def interrupt(self) -> None:
        """End the wait for a head now, quietly (the worker is stopping)."""
        self.stopping = True
        if self.timer is not None and self.greenlet is not None:
            gevent.kill(self.greenlet, self.timer)  # asynchronous: it never waits


@contextmanager
def _head_deadline(
    seconds: float, state: _ConnectionState, waiting: set[_ConnectionState]
) -> Iterator[None]:
    """End the block after ``seconds``; a connection with no request yet gets a 408."""
    timer = gevent.Timeout(seconds)
    timer.start()
    state.timer, state.greenlet = timer, gevent.getcurrent()
    waiting.add(state)
    try:
        yield
    except gevent.Timeout as fired:
        if fired is not timer:
            raise
        if state.requests == 0 and not state.stopping:
            detail = f"the request head did not arrive within {seconds:g} s"
            status, headers, body = error_answer(408, detail, slug="head-timeout")
            _send_quietly(state.client, status, headers, body)
        # Swallowed: gunicorn sees no request and closes the connection.
    finally:
        waiting.discard(state)
        state.timer = None
        timer.close()


def _challenge(application: Any) -> dict[str, str]:
    """The Basic challenge, for a provider that asks senders for credentials."""
    config = getattr(application, "provider_config", None)
    return challenge(config) if config is not None and config.auth != "none" else {}


def _write_problem(
    basic_challenge: dict[str, str], sock: Any, status_int: int, reason: str, mesg: str
) -> None:
    """gunicorn's error writer, answering problem+json instead of HTML.

    A 431 carries the challenge: the header that was too large may be the
    credentials, and the client should learn what to send instead.
    """
    extra = basic_challenge if status_int == 431 else {}
    status, headers, body = error_answer(status_int, mesg or reason, headers=extra)
    _send_quietly(sock, status, headers, body)


def _send_quietly(sock: Any, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
    head = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers)]
    head += [f"Content-Length: {len(body)}", "Connection: close"]
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    try:
        sock.settimeout(1.0)
        sock.sendall(data)
    except OSError:
        pass  # the client is gone; nothing to tell it
