"""Group commit: the writes waiting at the same moment share one SQLite transaction.

Every thread that wants to write queues its work. With no commit under way it
leads: it runs everything queued in one ``BEGIN IMMEDIATE`` ... ``COMMIT``, then
wakes each thread whose work it stored and hands the lead to the first thread
queued meanwhile. A thread whose work is stored returns at once, never waiting
behind the next commit. Under
load one commit stores many sends, and no answer leaves before the commit that
stored it. Work that fails is rolled back alone (a savepoint each, when the
batch holds more than one); should the commit itself fail, every piece of the
batch fails (nothing half-stored).

Across processes (gunicorn workers), writers take turns with ``flock`` on a file
next to the database (SQLite's busy handler would sleep 1 to 100 ms between
tries and leave the database idle meanwhile). A leader that finds it taken
tries again after pauses of 50 µs growing to 1 ms (a patched ``time.sleep``:
under gevent the worker's other connections go on meanwhile, where a
blocking ``flock`` would stop them all), and takes the queue only once it holds
the lock: the sends that arrived during the wait share its commit.

No commit runs a checkpoint (copying the WAL back into the database, with two
fsyncs: milliseconds every few hundred commits, during which a gevent worker
would serve nothing): the writer never checkpoints, a thread of its own in
each process does (``Checkpoints``). That thread ends each checkpoint holding
the writers' lock between processes, so it copies every frame and the next
writer starts the WAL again from its beginning: with two processes writing
without pause, a checkpoint beside the writers never caught up, and the WAL
grew by every commit (25 KB per send, gigabytes at 100,000 sends).

A change every process must notice at once (the fault rules) is announced in
a counter shared through a memory-mapped file: a reader compares one integer
instead of asking SQLite on every send.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from gevent import monkey

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy handler alone serialises the processes
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

#: Idle reading connections kept per process (more are opened while needed).
READERS_KEPT = 4
#: Seconds between two looks at the WAL by the checkpointing thread.
CHECKPOINT_INTERVAL = 0.1
#: A writer finding the lock between processes taken tries again after
#: ``FIRST_PAUSE`` seconds, then after twice as long each time up to
#: ``LAST_PAUSE``; after ``POLL_SECONDS`` of this it blocks (a polling writer
#: could otherwise lose every race to a busy one).
FIRST_PAUSE = 0.00005
LAST_PAUSE = 0.001
POLL_SECONDS = 0.02
#: Real threads and locks, also where gevent patched ``threading``: the
#: checkpoint must run beside the event loop, not in it.
_start_thread = monkey.get_original("_thread", "start_new_thread")
_allocate_lock = monkey.get_original("_thread", "allocate_lock")

#: Forks of this process so far, counted in the child: handles opened before a
#: fork belong to the parent. (Cheaper than ``os.getpid``, a system call, per use.)
_forks = [0]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _forks.__setitem__(0, _forks[0] + 1))


def _process() -> int:
    """Which process this is: a number that changes in a forked child (``-1``: none)."""
    return _forks[0] if hasattr(os, "register_at_fork") else os.getpid()


def _let_greenlets_queue() -> None:
    """Under gevent, let the greenlets ready to run go first: a worker serves every
    connection in one thread, and a leader that never let go would commit each
    send alone (under load the sends of all its connections share a commit).
    Threads need no such turn, and ``time.sleep(0)`` would cost them 50 µs."""
    if monkey.is_module_patched("time"):
        time.sleep(0)


#: Work gets the connection and a dict shared by the work of the same transaction.
Work = Callable[[sqlite3.Connection, dict[str, Any]], T]


class _Job(Generic[T]):
    """One piece of work and its outcome."""

    __slots__ = ("announce", "done", "error", "result", "wake", "work")

    def __init__(self, work: Work[T], announce: bool = False) -> None:
        self.work = work
        #: Raise the count of announced changes once the job's transaction is committed.
        self.announce = announce
        self.done = False
        #: For a job that waits: held until it is done or its turn to lead comes
        #: (then released once). A job that leads at once needs none.
        self.wake: Any = None
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        """The result, or the exception the work (or its commit) raised."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit:
    """Runs write work in shared transactions on one connection per process."""

    def __init__(
        self,
        lock_path: Path,
        connect: Callable[[], sqlite3.Connection],
        counts: SharedCounts | None = None,
    ) -> None:
        self._lock_path = lock_path
        self._lock = ProcessLock(lock_path)
        self._counts = counts
        self._connect = connect
        #: Guards the queue and ``_leading``; held for a moment only, never across a
        #: commit nor anything that could wait, so a real lock serves greenlets too
        #: (gevent's own lock costs microseconds per use, on every send).
        self._mutex = _allocate_lock()
        #: True while some thread leads (runs a commit or is about to).
        self._leading = False
        #: ``close`` waits here for the last commit; told only when it waits.
        self._idle = threading.Condition(self._mutex)
        self._closing = False
        self._queue: list[_Job[Any]] = []
        self._db: sqlite3.Connection | None = None
        self._owner = -1
        self._checkpoints: Checkpoints | None = None
        #: Commits made by this process (the checkpointing thread looks at it).
        self.commits = 0

    def run(self, work: Work[T], *, announce: bool = False) -> T:
        """Run ``work`` in a write transaction; return once that transaction is committed.
        ``announce``: then raise the count of announced changes (every process sees it)."""
        job = _Job(work, announce)
        with self._mutex:
            self._queue.append(job)
            leads = not self._leading
            self._leading = True
            if not leads:
                job.wake = threading.Lock()
                job.wake.acquire()
        if not leads:
            # Woken once: when a commit has stored the job, or when it is the
            # first one queued after a commit ends and so leads the next.
            job.wake.acquire()
            if job.done:
                return job.outcome()
        batch: list[_Job[Any]] = []
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
                    if self._closing:
                        self._idle.notify_all()
        return job.outcome()

    def close(self) -> None:
        """Close this process's writing connection and lock file."""
        with self._mutex:
            self._closing = True
            while self._leading:
                self._idle.wait()
            self._closing = False
            if self._owner == _process():
                if self._checkpoints is not None:
                    self._checkpoints.stop()
                if self._db is not None:
                    self._db.close()
            self._lock.close()
            self._db = self._checkpoints = None
            self._owner = -1

    def _commit(self, batch: list[_Job[Any]]) -> None:
        """Take the writers' lock (under gevent, once the other greenlets ready to
        run have queued), then commit everything queued by then into ``batch``."""
        try:
            _let_greenlets_queue()
            self._lock.acquire(pause=time.sleep)
            try:
                batch += self._take_queue()
                self._commit_holding_lock(batch)
            finally:
                self._lock.release()
        except BaseException as error:  # nothing of the batch was stored
            if not batch:
                batch += self._take_queue()
            for job in batch:
                job.result, job.error = None, error
            if not isinstance(error, Exception):
                raise
        finally:
            for job in batch:
                job.done = True

    def _take_queue(self) -> list[_Job[Any]]:
        with self._mutex:
            batch, self._queue = self._queue, []
        return batch

    def _commit_holding_lock(self, batch: list[_Job[Any]]) -> None:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            shared: dict[str, Any] = {}
            if len(batch) == 1:
                # Alone in its transaction: work that fails rolls all of it
                # back (below), so no savepoint is needed (two statements fewer).
                batch[0].result = batch[0].work(db, shared)
            else:
                for job in batch:
                    self._run_one(db, job, shared)
            db.execute("COMMIT")
            self.commits += 1
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        # Still between processes: no other writer raises a count meanwhile.
        if self._counts is not None:
            self._counts.increment(_COMMITS)
            if any(job.announce for job in batch):
                self._counts.increment(_ANNOUNCED)

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
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpoints = Checkpoints(
                self._connect, lambda: self.commits, ProcessLock(self._lock_path)
            )
        return self._db

    def _reopen_after_fork(self) -> None:
        if self._owner != _process():  # a forked child must not use its parent's handles
            self._db = self._checkpoints = None
            self._owner = _process()


class ProcessLock:
    """An exclusive ``flock`` on a file, between processes and between the holders
    of separate ``ProcessLock`` objects in one process (each opens the file)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._owner = -1

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block, waiting for it first."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self, pause: Callable[[float], None] | None = None) -> None:
        """Wait for the lock and take it (``held`` is the block form; this one spares
        the send path a generator). With ``pause``, wait by trying again after
        each ``pause(seconds)`` (growing), then block once ``POLL_SECONDS`` have
        passed: under gevent a patched ``time.sleep`` lets the worker's other
        connections go on meanwhile, where a blocking ``flock`` stops them all."""
        if fcntl is None:
            return
        if self._owner != _process():  # a forked child must not use its parent's handle
            self._fd, self._owner = None, _process()
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        if pause is not None:
            delay, waited = FIRST_PAUSE, 0.0
            while waited < POLL_SECONDS:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    pause(delay)
                    waited += delay
                    delay = min(delay * 2, LAST_PAUSE)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        """Give the lock back (after ``acquire``)."""
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the file (this process's); a later ``held`` opens it again."""
        if self._fd is not None and self._owner == _process():
            os.close(self._fd)
        self._fd = None


class Checkpoints:
    """A thread that checkpoints the WAL after each interval in which this process
    committed, on a connection of its own (SQLite and ``flock`` release the GIL
    meanwhile): a first pass beside the writers copies most frames, a second one
    holding the writers' ``lock`` the few added meanwhile. No writer adds frames
    during that one, so it copies them all (unless a reader still needs the
    oldest), and the next writer starts the WAL again; commits wait for it
    (the second pass only: about a millisecond)."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        commits: Callable[[], int],
        lock: ProcessLock,
        interval: float = CHECKPOINT_INTERVAL,
    ) -> None:
        self._connect = connect
        self._commits = commits
        self._lock = lock
        self._interval = interval
        #: Held until ``stop``; the thread waits on it between two looks.
        self._stopping = _allocate_lock()
        self._stopping.acquire()
        #: Released by the thread once its connection is closed.
        self._stopped = _allocate_lock()
        self._stopped.acquire()
        _start_thread(self._run, ())

    def stop(self) -> None:
        """End the thread (its last checkpoint done) and wait for it, briefly."""
        self._stopping.release()
        self._stopped.acquire(timeout=5.0)

    def _run(self) -> None:
        try:
            db = self._connect()
        except sqlite3.Error:  # closed meanwhile
            self._stopped.release()
            return
        seen = 0
        try:
            while not self._stopping.acquire(timeout=self._interval):
                if self._commits() != seen:
                    seen = self._commits()
                    # Most frames are copied beside the writers; the pass holding
                    # their lock then copies only those added meanwhile.
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    with self._lock.held():
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the database went away; the last connection's close checkpoints
        finally:
            db.close()
            self._lock.close()
            self._stopped.release()


class SharedCounts:
    """Counters in a small memory-mapped file: every process that maps the file
    sees an increment at once, and reading one costs no system call.

    Increments must not race: ``GroupCommit`` makes them between processes.
    """

    _COUNT = struct.Struct("<Q")

    def __init__(self, path: Path, size: int) -> None:
        self._path = path
        self._bytes = size * self._COUNT.size
        self._map: mmap.mmap | None = None
        self._owner = -1

    def value(self, index: int) -> int:
        """Counter ``index`` now."""
        return int(self._COUNT.unpack_from(self._mapped(), index * self._COUNT.size)[0])

    def increment(self, index: int) -> None:
        """Add one to counter ``index`` (wrapping at 2**64: it only has to change)."""
        mapped, offset = self._mapped(), index * self._COUNT.size
        value = self._COUNT.unpack_from(mapped, offset)[0]
        self._COUNT.pack_into(mapped, offset, (value + 1) % 2**64)

    def close(self) -> None:
        """Unmap the file (a later read maps it again)."""
        if self._map is not None and self._owner == _process():
            self._map.close()
        self._map = None

    def _mapped(self) -> mmap.mmap:
        if self._map is None or self._owner != _process():
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < self._bytes:
                    os.ftruncate(fd, self._bytes)  # zeros: growing races harmlessly
                self._map = mmap.mmap(fd, self._bytes)
            finally:
                os.close(fd)  # the mapping keeps the file
            self._owner = _process()
        return self._map


#: The shared counters of a database: its commits, and the announced changes.
_COMMITS, _ANNOUNCED = 0, 1


class SharedDatabase:
    """One SQLite file (WAL) shared by threads and worker processes: reading
    connections lent from a small pool, and writes queued through one
    ``GroupCommit``.

    ``sync`` sets ``PRAGMA synchronous`` (``NORMAL`` or ``FULL``); ``None``
    keeps SQLite's default.
    """

    def __init__(self, path: Path, *, sync: str | None = None) -> None:
        self.path = Path(path)
        self._sync = sync
        #: Idle reading connections of this process. Lent per read rather than
        #: kept per thread: under gevent every client connection is a greenlet,
        #: and a page cache each would grow with them.
        self._idle: list[sqlite3.Connection] = []
        self._idle_owner = -1
        self._readers_lock = threading.Lock()
        self._closed = False
        # Messages may hold personal data and the admin's sessions: owner only.
        # SQLite gives the -wal and -shm files the database file's mode.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        self._counts = SharedCounts(self.path.with_name(self.path.name + ".counts"), 2)
        self._commits = GroupCommit(
            self.path.with_name(self.path.name + ".lock"), self._connect, self._counts
        )

    def _connect(self) -> sqlite3.Connection:
        if self._closed:  # a late request must not reopen what was closed
            raise sqlite3.ProgrammingError(f"{self.path} was closed")
        db = sqlite3.connect(
            self.path,
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
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

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading, the block's alone; fetch the rows inside it."""
        with self._readers_lock:
            if self._idle_owner != _process():  # a forked child: the parent's are not ours
                self._idle, self._idle_owner = [], _process()
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = self._connect()
        try:
            yield db
        finally:
            with self._readers_lock:
                keep = not self._closed and len(self._idle) < READERS_KEPT
                if keep:
                    self._idle.append(db)
            if not keep:
                db.close()

    def commits(self) -> int:
        """A number that changes whenever any process commits (live views poll it)."""
        return self._counts.value(_COMMITS)

    def announced(self) -> int:
        """A number raised after each commit of work written with ``announce``."""
        return self._counts.value(_ANNOUNCED)

    def write(self, work: Work[T], *, announce: bool = False) -> T:
        """Run ``work`` in a write transaction; return once it is committed. With
        ``announce``, ``announced()`` is raised after the commit, before returning."""
        return self._commits.run(work, announce=announce)

    def close(self) -> None:
        """Close every connection this object opened (idle readers, the writer); a
        reader lent out is closed when it comes back."""
        with self._readers_lock:
            self._closed = True
            idle = self._idle if self._idle_owner == _process() else []
            self._idle = []
        for db in idle:
            db.close()
        self._commits.close()
        self._counts.close()
