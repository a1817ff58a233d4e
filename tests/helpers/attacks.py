"""Connections that try to hold a server, and a probe that times valid sends meanwhile.

``AttackMix`` keeps open, until it stops: inbox event streams (reconnecting
like a browser tab), idle TCP connections, connections sending their request
head a line every ``pause`` seconds, and connections trickling a request
body a byte every ``pause`` seconds. Each attacker starts again when the
server ends its connection, so the pressure holds for the whole mix. The
tests run it at a small scale; ``make bench`` (bench/attack.py) at full scale.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests


@dataclass(frozen=True)
class Mix:
    """How many attackers of each kind."""

    streams: int = 0
    idle: int = 0
    slow_heads: int = 0
    slow_bodies: int = 0
    #: Seconds between two lines of a slow head, or two bytes of a slow body.
    pause: float = 1.0


@dataclass
class AttackMix:
    """Run ``mix`` against ``base_url`` inside a ``with`` block."""

    base_url: str
    mix: Mix
    ca: Path | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    #: Attacker connections opened in all (each kind restarts when cut off).
    opened: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> AttackMix:
        kinds: list[tuple[int, Callable[[], None]]] = [
            (self.mix.idle, self._idle),
            (self.mix.slow_heads, self._slow_head),
            (self.mix.slow_bodies, self._slow_body),
            (self.mix.streams, self._stream),
        ]
        for count, attack in kinds:
            for _ in range(count):
                thread = threading.Thread(target=self._repeat, args=(attack,), daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _repeat(self, attack: Callable[[], None]) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                attack()
            self._stop.wait(0.2)

    def _connect(self, *, tls: bool = True) -> socket.socket:
        parts = urlsplit(self.base_url)
        sock = socket.create_connection((parts.hostname or "localhost", parts.port or 80), 10)
        with self._lock:
            self.opened += 1
        if tls and parts.scheme == "https":
            context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
            return context.wrap_socket(sock, server_hostname=parts.hostname)
        return sock

    def _hold(self, sock: socket.socket) -> None:
        """Read (and drop) what the server sends until it closes or the mix stops."""
        sock.settimeout(0.5)
        while not self._stop.is_set():
            try:
                if not sock.recv(65536):
                    return
            except TimeoutError:
                continue

    def _idle(self) -> None:
        # A TCP connection that never says anything (not even a TLS hello).
        with self._connect(tls=False) as sock:
            self._hold(sock)

    def _slow_head(self) -> None:
        with self._connect() as sock:
            lines = [b"POST /sms HTTP/1.1\r\n", b"Host: localhost\r\n"]
            lines += [f"X-Slow-{n}: {'x' * 20}\r\n".encode() for n in range(1000)]
            for line in lines:
                if self._stop.wait(self.mix.pause):
                    return
                sock.sendall(line)

    def _slow_body(self) -> None:
        with self._connect() as sock:
            head = (
                "POST /sms HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n"
            )
            sock.sendall(head.encode())
            for _ in range(100000):
                if self._stop.wait(self.mix.pause):
                    return
                sock.sendall(b" ")

    def _stream(self) -> None:
        with self._connect() as sock:
            sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n")
            self._hold(sock)


@dataclass(frozen=True)
class Probe:
    """The valid sends made under attack: each one's status (0: no answer) and seconds."""

    statuses: list[int]
    seconds: list[float]

    def answered_within(self, limit: float) -> int:
        """How many sends got a 200 within ``limit`` seconds."""
        return sum(
            s == 200 and t <= limit for s, t in zip(self.statuses, self.seconds, strict=True)
        )


def probe_sends(base_url: str, count: int, ca: Path | None, limit: float = 2.0) -> Probe:
    """``count`` valid sends one after the other, each on a new connection."""
    statuses, seconds = [], []
    for index in range(count):
        body = {
            "type": "NOTIFICATION",
            "sender": "INOCX",
            "to": "+33612345678",
            "retId": f"probe-{uuid.uuid4().hex[:8]}-{index}",
            "isUnicode": False,
            "text": "a send under attack",
            "credits": 1,
        }
        started = time.perf_counter()
        try:
            answer = requests.post(
                base_url + "/sms", json=body, verify=str(ca) if ca else True, timeout=limit
            )
            statuses.append(answer.status_code)
        except requests.RequestException:
            statuses.append(0)
        seconds.append(time.perf_counter() - started)
    return Probe(statuses, seconds)
