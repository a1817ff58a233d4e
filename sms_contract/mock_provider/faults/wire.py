"""The client's connection under the WSGI server, for faults below HTTP.

gunicorn puts the client socket in ``environ["gunicorn.socket"]`` and
werkzeug's server in ``environ["werkzeug.socket"]`` (both may be TLS
sockets). ``ClientConnection`` wraps either one.

Closing is done by putting a dead socket in place of the client's file
descriptor (``dup2``): the TCP connection closes at once (with a reset when
SO_LINGER is 0), while the descriptor number stays taken until the server
closes it as usual. So no other connection can get that number while the
server still holds it, and the server's own writes of the answer simply
fail with a broken pipe, which both servers treat as a client gone.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time
from collections.abc import Mapping
from typing import Any

from gevent import monkey

_ENVIRON_KEYS = ("gunicorn.socket", "werkzeug.socket")
#: How often a hanging connection is looked at for the client's close.
_HANGUP_POLL_SECONDS = 0.05
_SYSTEM_POLL = monkey.get_original("select", "poll")


def client_socket(environ: Mapping[str, Any]) -> socket.socket | None:
    """The client socket of a WSGI request, when the server exposes it."""
    for key in _ENVIRON_KEYS:
        sock = environ.get(key)
        if isinstance(sock, socket.socket):
            return sock
    return None


class ClientConnection:
    """The raw connection of the request being handled."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def of(cls, environ: Mapping[str, Any]) -> ClientConnection | None:
        """The connection of a WSGI request, when the server exposes it."""
        sock = client_socket(environ)
        return cls(sock) if sock is not None else None

    def send(self, data: bytes) -> None:
        """Write ``data`` as is (through TLS when the connection has it)."""
        self.sock.sendall(data)

    def reset(self) -> None:
        """Abort the connection: SO_LINGER 0, then close, so the peer gets a RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._close_underneath()

    def close(self) -> None:
        """Close the connection (FIN) without sending anything more."""
        self._close_underneath()

    def wait_for_peer_close(self, limit: float) -> bool:
        """Block until the client closes its side or ``limit`` seconds pass;
        true when the client closed."""
        deadline = time.monotonic() + limit
        hangup = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR
        # The system's poll, asked without waiting: gevent's own poll knows no
        # POLLRDHUP, and ``time.sleep`` between looks lets other greenlets run.
        poller = _SYSTEM_POLL()
        poller.register(self.sock.fileno(), hangup)
        while (remaining := deadline - time.monotonic()) > 0:
            # POLLRDHUP reports a FIN even while unread bytes wait; without it
            # (not Linux) only a reset or an error ends the wait early.
            if poller.poll(0):
                return True
            time.sleep(min(remaining, _HANGUP_POLL_SECONDS))
        return False

    def _close_underneath(self) -> None:
        keep, peer = socket.socketpair()
        peer.close()
        try:
            os.dup2(keep.fileno(), self.sock.fileno())
        finally:
            keep.close()
