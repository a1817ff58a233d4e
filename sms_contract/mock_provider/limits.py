"""Bounds that keep one kind of request from holding the server: a total deadline
for reading a body, and a cap on requests that stay open (event streams, waits)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import gevent
from gevent import monkey


def total_deadline(seconds: float) -> AbstractContextManager[object]:
    """Raise ``TimeoutError`` when the block lasts over ``seconds``.

    Under gevent (``serve``) this bounds every read inside the block together.
    Threaded servers cannot interrupt a blocked read: there the socket timeout
    (one pause) is the bound, so this is a no-op.
    """
    if monkey.is_module_patched("socket"):
        return gevent.Timeout(seconds, TimeoutError(f"not done within {seconds:g} s"))
    return nullcontext()


def run_deadline(seconds: float) -> AbstractContextManager[object]:
    """Interrupt the block after ``seconds`` with ``gevent.Timeout`` (``serve``; a no-op
    elsewhere). Unlike ``total_deadline`` it is no ``Exception``: no network library
    catches it as a timeout of its own and goes on."""
    if monkey.is_module_patched("socket"):
        return gevent.Timeout(seconds)
    return nullcontext()


class Slots:
    """At most ``limit`` holders at once in this process; taking one never waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = threading.BoundedSemaphore(limit)

    def take(self) -> bool:
        """Take a slot if one is free; the caller then calls ``give_back`` once."""
        return self._free.acquire(blocking=False)

    def give_back(self) -> None:
        """Free a slot taken by ``take``."""
        self._free.release()

    @contextmanager
    def held(self) -> Iterator[bool]:
        """A slot for the block when one is free (yields whether it got one)."""
        taken = self.take()
        try:
            yield taken
        finally:
            if taken:
                self.give_back()
