"""Group commit: the writes waiting at the same moment share one SQLite transaction.

Every thread that wants to write queues its work. With no commit under way it
leads: it runs everything queued in one ``BEGIN IMMEDIATE`` ... ``COMMIT``, then
wakes each thread whose work it stored and hands the lead to the first thread
queued meanwhile. A thread whose work is stored returns at once, never waiting
behind the next commit. Under
load one commit stores many sends, and no answer leaves before the commit that
stored it. Work that fails is rolled back alone (a savepoint each); should the
commit itself fail, every piece of the batch fails (nothing half-stored).

Across processes (gunicorn workers), writers queue on ``flock`` on a file next to
the database: a blocking lock, where SQLite's busy handler would sleep 1 to
100 ms between tries and leave the database idle meanwhile.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy handler alone serialises the processes
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
#: Work gets the connection and a dict shared by the work of the same transaction.
Work = Callable[[sqlite3.Connection, dict[str, Any]], T]


class _Job(Generic[T]):
    """One piece of work and its outcome."""

    __slots__ = ("done", "error", "result", "wake", "work")

    def __init__(self, work: Work[T]) -> None:
        self.work = work
        self.done = False
        #: Held until the job is done or its turn to lead comes (then released once).
        self.wake = threading.Lock()
        self.wake.acquire()
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        """The result, or the exception the work (or its commit) raised."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit:
    """Runs write work in shared transactions on one connection per process."""

    def __init__(self, lock_path: Path, connect: Callable[[], sqlite3.Connection]) -> None:
        self._lock_path = lock_path
        self._connect = connect
        #: Guards the queue and ``_leading``; held for a moment only, never across a commit.
        self._mutex = threading.Lock()
        #: True while some thread leads (runs a commit or is about to).
        self._leading = False
        self._idle = threading.Condition(self._mutex)
        self._queue: list[_Job[Any]] = []
        self._db: sqlite3.Connection | None = None
        self._fd: int | None = None
        self._pid = 0

    def run(self, work: Work[T]) -> T:
        """Run ``work`` in a write transaction; return once that transaction is committed."""
        job = _Job(work)
        with self._mutex:
            self._queue.append(job)
            leads = not self._leading
            self._leading = True
        if not leads:
            # Woken once: when a commit has stored the job, or when it is the
            # first one queued after a commit ends and so leads the next.
            job.wake.acquire()
            if job.done:
                return job.outcome()
        with self._mutex:
            batch, self._queue = self._queue, []
        try:
            self._commit(batch)
        finally:
            for done in batch:
                if done is not job:
                    done.wake.release()
            with self._mutex:
                if self._queue:  # queued during the commit: the first one leads next
                    self._queue[0].wake.release()
                else:
                    self._leading = False
                    self._idle.notify_all()
        return job.outcome()

    def close(self) -> None:
        """Close this process's writing connection and lock file."""
        with self._mutex:
            while self._leading:
                self._idle.wait()
            if self._pid == os.getpid():
                if self._db is not None:
                    self._db.close()
                if self._fd is not None:
                    os.close(self._fd)
            self._db = self._fd = None
            self._pid = 0

    def _commit(self, batch: list[_Job[Any]]) -> None:
        try:
            with self._between_processes():
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")
                try:
                    shared: dict[str, Any] = {}
                    for job in batch:
                        self._run_one(db, job, shared)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
        except BaseException as error:  # nothing of the batch was stored
            for job in batch:
                job.result, job.error = None, error
            if not isinstance(error, Exception):
                raise
        finally:
            for job in batch:
                job.done = True

    @staticmethod
    def _run_one(db: sqlite3.Connection, job: _Job[Any], shared: dict[str, Any]) -> None:
        # A savepoint per job: work that fails is undone alone, and the rest of
        # the batch is still committed.
        db.execute("SAVEPOINT job")
        try:
            job.result = job.work(db, shared)
        except Exception as error:
            db.execute("ROLLBACK TO job")
            job.error = error
        db.execute("RELEASE job")

    def _connection(self) -> sqlite3.Connection:
        self._reopen_after_fork()
        if self._db is None:
            self._db = self._connect()
        return self._db

    def _reopen_after_fork(self) -> None:
        if self._pid != os.getpid():  # a forked child must not use its parent's handles
            self._db = self._fd = None
            self._pid = os.getpid()

    @contextmanager
    def _between_processes(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        self._reopen_after_fork()
        if self._fd is None:
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (``sqlite3.Connection`` cannot)."""


class SharedDatabase:
    """One SQLite file (WAL) shared by threads and worker processes: a reading
    connection per thread, and writes queued through one ``GroupCommit``.

    ``sync`` sets ``PRAGMA synchronous`` (``NORMAL`` or ``FULL``); ``None``
    keeps SQLite's default.
    """

    def __init__(self, path: Path, *, sync: str | None = None) -> None:
        self.path = Path(path)
        self._sync = sync
        self._local = threading.local()
        #: The reading connections still open, so ``close`` can close them all. Weak:
        #: a connection whose thread (or greenlet, under gevent) ended goes with it.
        self._readers: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._closed = False
        # Messages may hold personal data and the admin's sessions: owner only.
        # SQLite gives the -wal and -shm files the database file's mode.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        self._commits = GroupCommit(self.path.with_name(self.path.name + ".lock"), self._connect)

    def _connect(self) -> sqlite3.Connection:
        if self._closed:  # a late request thread must not reopen what was closed
            raise sqlite3.ProgrammingError(f"{self.path} was closed")
        db = sqlite3.connect(
            self.path,
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
            factory=_Connection,
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 30000")
        db.execute("PRAGMA journal_mode = WAL")
        if self._sync is not None:
            db.execute(f"PRAGMA synchronous = {self._sync}")
        return db

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called: no connection opens any more."""
        return self._closed

    def reader(self) -> sqlite3.Connection:
        """This thread's connection, for reading."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
            with self._readers_lock:
                self._readers.add(db)
        return db

    def data_version(self) -> int:
        """A number that changes whenever another connection (any worker) commits."""
        return int(self.reader().execute("PRAGMA data_version").fetchone()[0])

    def write(self, work: Work[T]) -> T:
        """Run ``work`` in a write transaction; return once it is committed."""
        return self._commits.run(work)

    def close(self) -> None:
        """Close every connection this object opened (readers of all threads, the writer)."""
        with self._readers_lock:
            self._closed = True
            readers = list(self._readers)
            self._readers.clear()
        for db in readers:
            db.close()
        self._local = threading.local()
        self._commits.close()
