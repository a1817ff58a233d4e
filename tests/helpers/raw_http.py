"""Raw HTTP/1.1 over a socket, to see exactly what a server sends (or does not),
and ``sms-contract serve`` run in a subprocess (real gunicorn workers)."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from sms_contract.mock_provider.config import ProviderConfig


@dataclass(frozen=True)
class RawAnswer:
    """Every byte received, and how the connection ended."""

    data: bytes
    #: ``eof`` (the server closed), ``reset`` (RST) or ``timeout`` (still open).
    ending: str
    seconds: float

    @property
    def head(self) -> bytes:
        """The status line and headers (empty when none came)."""
        return self.data.partition(b"\r\n\r\n")[0]

    @property
    def body(self) -> bytes:
        """What came after the headers."""
        return self.data.partition(b"\r\n\r\n")[2]

    def header(self, name: str) -> str | None:
        """One header of the answer."""
        for line in self.head.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


class RawConnection:
    """A client connection that reports exactly how the server ended it.

    TLS runs over memory buffers, so the TCP socket is read directly: a reset
    is a ``ConnectionResetError`` and a close is an end of file, even under
    TLS (where Python's ``ssl`` reports both as the same unexpected EOF).
    """

    def __init__(self, base_url: str, ca_bundle: str | None = None, timeout: float = 5.0) -> None:
        parts = urlsplit(base_url)
        self.sock = socket.create_connection(("127.0.0.1", parts.port or 80), timeout=timeout)
        self.tls: ssl.SSLObject | None = None
        if parts.scheme == "https":
            self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
            context = ssl.create_default_context(cafile=ca_bundle)
            self.tls = context.wrap_bio(self._in, self._out, server_hostname=parts.hostname)
            self._handshake()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()

    def _flush(self) -> None:
        if data := self._out.read():
            self.sock.sendall(data)

    def _handshake(self) -> None:
        assert self.tls is not None
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed during the TLS handshake") from None
                self._in.write(chunk)
            else:
                self._flush()
                return

    def sendall(self, data: bytes) -> None:
        """Send ``data`` (encrypted under TLS)."""
        if self.tls is None:
            self.sock.sendall(data)
            return
        self.tls.write(data)
        self._flush()

    def recv(self) -> bytes:
        """The next bytes of the answer; ``b""`` when the server closed."""
        if self.tls is None:
            return self.sock.recv(65536)
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return b""
                self._in.write(chunk)
            except ssl.SSLZeroReturnError:
                return b""

    def read_all(self, timeout: float) -> RawAnswer:
        """Read until the server closes, resets, or ``timeout`` passes in silence."""
        started = time.monotonic()
        self.sock.settimeout(timeout)
        data = b""
        try:
            while chunk := self.recv():
                data += chunk
            ending = "eof"
        except ConnectionResetError:
            ending = "reset"
        except TimeoutError:
            ending = "timeout"
        return RawAnswer(data, ending, time.monotonic() - started)


def request_bytes(path: str, payload: Any, host: str = "localhost", close: bool = False) -> bytes:
    """A POST of ``payload`` as JSON, keep-alive (as a sender writes it) unless ``close``."""
    body = json.dumps(payload).encode("utf-8")
    connection = "Connection: close\r\n" if close else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{connection}"
        f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def post_raw(
    url: str,
    payload: Any,
    *,
    ca_bundle: str | None = None,
    timeout: float = 5.0,
    close: bool = False,
) -> RawAnswer:
    """POST ``payload`` to ``url`` over a raw connection and read what comes back."""
    parts = urlsplit(url)
    with RawConnection(url, ca_bundle, timeout) as connection:
        connection.sendall(request_bytes(parts.path, payload, parts.netloc, close))
        return connection.read_all(timeout)


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_process(
    state_dir: Path, *args: str, workers: int = 2, tls: bool = False, command: str = "serve"
) -> Iterator[str]:
    """Run ``sms-contract serve`` (or ``proxy``, the same server: ``command``; plain
    HTTP unless ``tls``: then its local CA is ``state_dir/tls/ca.pem``) with
    ``workers`` gunicorn workers; yield its URL. Its output goes to ``STATE_DIR.log``."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from sms_contract.cli import main; main()",
        command,
        *([] if tls else ["--http"]),
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--state-dir",
        str(state_dir),
        *args,
    ]
    # The log sits beside the state directory, which serve creates itself (mode 0700).
    log_path = state_dir.with_name(state_dir.name + ".log")
    log = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"{'https' if tls else 'http'}://localhost:{port}"
    try:
        _wait_healthy(base, process, log_path, state_dir / "tls" / "ca.pem")
        yield base
    finally:
        stop_process(process)
        log.close()


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path, ca: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        verify = str(ca) if base.startswith("https") else True
        try:
            if requests.get(f"{base}/healthz", timeout=2, verify=verify).status_code == 200:
                return
        except (requests.ConnectionError, OSError):  # OSError: no CA file yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve was not healthy within 30 s:\n{log.read_text()}")


@dataclass
class RemoteServer:
    """A provider served by another process, seen like a ``LiveProvider`` so that
    ``SmsProvider(RemoteServer(url), namespace)`` works against it."""

    base_url: str
    config: ProviderConfig
    ca_bundle: str | None = None

    @property
    def verify(self) -> str | bool:
        """The ``verify`` argument of requests for this server."""
        return self.ca_bundle or True


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a server process as an operator would (SIGTERM), killing it if it lingers."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
