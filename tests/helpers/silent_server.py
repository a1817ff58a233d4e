"""A TCP server that accepts every connection and never answers, for timeout tests.

It reads what each client sends (and keeps it, so a test can tell how many
requests arrived) but writes nothing back and keeps the connection open until
it stops. With ``ssl_context`` it completes the TLS handshake first, then is
just as silent::

    with SilentServer() as server:
        ...  # requests to server.url time out
    assert len(server.received) <= 2
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading


class SilentServer:
    """Accepts connections on 127.0.0.1 (an ephemeral port); never answers."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, path: str = "/sms") -> None:
        self._context = ssl_context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}{path}"
        #: The bytes received on each connection that sent something, in order.
        self.received: list[bytes] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for connection in self._open:
                # shutdown wakes the thread blocked reading it; close alone may not.
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._open.append(connection)
            threading.Thread(target=self._listen, args=(connection,), daemon=True).start()

    def _listen(self, connection: socket.socket) -> None:
        # A failed handshake (a TLS 1.0 probe) or a client hanging up ends the connection.
        with contextlib.suppress(OSError):
            if self._context is not None:
                connection = self._context.wrap_socket(connection, server_side=True)
                with self._lock:
                    self._open.append(connection)
            data = connection.recv(65536)
            if data:
                with self._lock:
                    self.received.append(data)
            while connection.recv(65536):
                pass
