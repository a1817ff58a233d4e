"""The inbox: every send the fake provider received, in one SQLite file.

All gunicorn workers share the file (WAL mode, a busy timeout, one connection
per thread), so a message recorded by one worker is seen by all. A send is
committed before its answer goes out.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    received_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    http_status INTEGER NOT NULL,
    ret_id TEXT,
    recipient TEXT,
    type TEXT,
    sender TEXT,
    text TEXT,
    login TEXT,
    body TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    payload TEXT,
    violations TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]',
    headers TEXT NOT NULL DEFAULT '{}',
    client TEXT,
    duration_ms REAL,
    attempts INTEGER NOT NULL DEFAULT 1,
    faults TEXT NOT NULL DEFAULT '[]',
    response TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_accepted_ret_id
    ON messages (namespace, ret_id) WHERE status = 'accepted';
CREATE INDEX IF NOT EXISTS messages_namespace ON messages (namespace, id);
CREATE INDEX IF NOT EXISTS messages_ret_id ON messages (ret_id);
CREATE TABLE IF NOT EXISTS counters (
    namespace TEXT PRIMARY KEY,
    received INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0
);
"""

#: How often ``wait`` looks for a message another worker may have written.
_WAIT_POLL_SECONDS = 0.01
#: The largest id SQLite can hold; a bigger one names no message.
_MAX_ID = 2**63 - 1


@dataclass
class Received:
    """One send as the inbox records it."""

    namespace: str
    status: str
    http_status: int
    body: str
    body_hash: str
    payload: dict[str, Any] | None = None
    violations: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    client: str | None = None
    login: str | None = None
    duration_ms: float | None = None
    faults: list[dict[str, Any]] = field(default_factory=list)
    received_at: float = field(default_factory=time.time)

    def field_text(self, name: str) -> str | None:
        """A payload field as text, when the payload has it as a string."""
        value = (self.payload or {}).get(name)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Stored:
    """Where a send landed: its id, whether it repeated an earlier one, its attempt."""

    id: int
    duplicate: bool = False
    conflict: bool = False
    attempts: int = 1


def _mark_conflict(item: Received, earlier_id: int) -> None:
    item.status, item.http_status = "rejected", 409
    item.violations.append(
        {
            "pointer": "/retId",
            "code": "ret_id_conflict",
            "message": f"retId {item.field_text('retId')!r} was already accepted as message "
            f"{earlier_id} with a different body",
        }
    )


@dataclass(frozen=True)
class MessageFilter:
    """Filters of the inbox listing; ``None`` means "any"."""

    namespace: str | None = None
    to: str | None = None
    ret_id: str | None = None
    type: str | None = None
    status: str | None = None
    since: float | None = None
    limit: int = 100
    offset: int = 0


class Inbox:
    """The SQLite inbox; safe to share between threads (one connection each)."""

    def __init__(self, path: Path, *, max_messages: int = 100_000, sync: str = "normal") -> None:
        self.path = Path(path)
        self.max_messages = max_messages
        self._sync = "FULL" if sync == "full" else "NORMAL"
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection().executescript(_SCHEMA)

    # -- connections ------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(f"PRAGMA synchronous = {self._sync}")
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        # IMMEDIATE takes the write lock up front, so the retId check and the
        # insert of two workers can never interleave.
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- writing ----------------------------------------------------------------

    def record(
        self, item: Received, respond: Callable[[Stored], dict[str, Any]]
    ) -> tuple[Stored, dict[str, Any]]:
        """Store a send and the answer ``respond`` builds for it, in one transaction.

        An accepted retId seen before in the namespace is a retry when the body
        is the same (one row, its attempt count raised) and a conflict when it
        differs (a rejected row with a ``ret_id_conflict`` violation).
        """
        with self._transaction() as db:
            earlier = None
            if item.status == "accepted":
                earlier = db.execute(
                    "SELECT id, body_hash, attempts FROM messages "
                    "WHERE namespace = ? AND ret_id = ? AND status = 'accepted'",
                    (item.namespace, item.field_text("retId")),
                ).fetchone()
            if earlier is not None and earlier["body_hash"] == item.body_hash:
                return self._retry(db, item, earlier, respond)
            if earlier is not None:
                _mark_conflict(item, int(earlier["id"]))
            new_id = self._insert(db, item)
            stored = Stored(new_id, conflict=earlier is not None)
            response = respond(stored)
            db.execute("UPDATE messages SET response = ? WHERE id = ?", (_dump(response), new_id))
            self._count(db, item.namespace, item.status)
            if new_id > self.max_messages:
                # An index range on the primary key: nearly free when nothing is due.
                db.execute("DELETE FROM messages WHERE id <= ?", (new_id - self.max_messages,))
            return stored, response

    @staticmethod
    def _insert(db: sqlite3.Connection, item: Received) -> int:
        cursor = db.execute(
            "INSERT INTO messages (namespace, received_at, last_seen_at, status, "
            "http_status, ret_id, recipient, type, sender, text, login, body, body_hash, "
            "payload, violations, warnings, headers, client, duration_ms, faults) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.namespace,
                item.received_at,
                item.received_at,
                item.status,
                item.http_status,
                item.field_text("retId"),
                item.field_text("to"),
                item.field_text("type"),
                item.field_text("sender"),
                item.field_text("text"),
                item.login,
                item.body,
                item.body_hash,
                _dump(item.payload),
                _dump(item.violations),
                _dump(item.warnings),
                _dump(item.headers),
                item.client,
                item.duration_ms,
                _dump(item.faults),
            ),
        )
        return int(cursor.lastrowid or 0)

    def _retry(
        self,
        db: sqlite3.Connection,
        item: Received,
        earlier: sqlite3.Row,
        respond: Callable[[Stored], dict[str, Any]],
    ) -> tuple[Stored, dict[str, Any]]:
        stored = Stored(int(earlier["id"]), duplicate=True, attempts=int(earlier["attempts"]) + 1)
        db.execute(
            "UPDATE messages SET attempts = attempts + 1, last_seen_at = ? WHERE id = ?",
            (item.received_at, stored.id),
        )
        self._count(db, item.namespace, "accepted", duplicate=True)
        return stored, respond(stored)

    @staticmethod
    def _count(
        db: sqlite3.Connection, namespace: str, status: str, duplicate: bool = False
    ) -> None:
        db.execute(
            f"INSERT INTO counters (namespace, received, {status}, duplicates) "
            f"VALUES (?, 1, 1, ?) ON CONFLICT (namespace) DO UPDATE SET "
            f"received = received + 1, {status} = {status} + 1, "
            f"duplicates = duplicates + excluded.duplicates",
            (namespace, int(duplicate)),
        )

    def clear(self, namespace: str | None = None) -> int:
        """Delete every message (of ``namespace`` when given); return how many."""
        with self._transaction() as db:
            if namespace is None:
                return db.execute("DELETE FROM messages").rowcount
            return db.execute("DELETE FROM messages WHERE namespace = ?", (namespace,)).rowcount

    # -- reading ----------------------------------------------------------------

    def get(self, message_id: int) -> dict[str, Any] | None:
        """One message by id."""
        if not 0 < message_id <= _MAX_ID:
            return None
        row = (
            self._connection()
            .execute("SELECT * FROM messages WHERE id = ?", (message_id,))
            .fetchone()
        )
        return _message(row) if row is not None else None

    def find(self, where: MessageFilter) -> tuple[list[dict[str, Any]], int]:
        """The messages matching ``where``, newest first, and how many match in all."""
        clauses, values = _where(where)
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        db = self._connection()
        total = db.execute(f"SELECT count(*) FROM messages{sql_where}", values).fetchone()[0]
        rows = db.execute(
            f"SELECT * FROM messages{sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*values, where.limit, where.offset],
        ).fetchall()
        return [_message(row) for row in rows], int(total)

    def wait(self, ret_id: str, namespace: str | None, timeout: float) -> dict[str, Any] | None:
        """The first message with ``ret_id``, as soon as any worker has stored it."""
        deadline = time.monotonic() + timeout
        where = MessageFilter(namespace=namespace, ret_id=ret_id, limit=1)
        while True:
            rows, _ = self.find(where)
            if rows:
                return rows[0]
            if time.monotonic() >= deadline:
                return None
            time.sleep(_WAIT_POLL_SECONDS)

    def counters(self) -> list[dict[str, Any]]:
        """Monotonic counts per namespace (they survive pruning and clearing)."""
        rows = self._connection().execute("SELECT * FROM counters ORDER BY namespace").fetchall()
        return [dict(row) for row in rows]

    def namespaces(self) -> list[str]:
        """Every namespace that has messages."""
        rows = (
            self._connection()
            .execute("SELECT DISTINCT namespace FROM messages ORDER BY namespace")
            .fetchall()
        )
        return [row[0] for row in rows]


def _where(where: MessageFilter) -> tuple[list[str], list[Any]]:
    columns = {
        "namespace": where.namespace,
        "recipient": where.to,
        "ret_id": where.ret_id,
        "type": where.type,
        "status": where.status,
    }
    clauses = [f"{column} = ?" for column, value in columns.items() if value is not None]
    values: list[Any] = [value for value in columns.values() if value is not None]
    if where.since is not None:
        clauses.append("received_at >= ?")
        values.append(where.since)
    return clauses, values


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def _message(row: sqlite3.Row) -> dict[str, Any]:
    def load(column: str) -> Any:
        value = row[column]
        return None if value is None else json.loads(value)

    return {
        "id": row["id"],
        "namespace": row["namespace"],
        "status": row["status"],
        "httpStatus": row["http_status"],
        "receivedAt": _iso(row["received_at"]),
        "lastSeenAt": _iso(row["last_seen_at"]),
        "retId": row["ret_id"],
        "to": row["recipient"],
        "type": row["type"],
        "sender": row["sender"],
        "text": row["text"],
        "login": row["login"],
        "attempts": row["attempts"],
        "payload": load("payload"),
        "body": row["body"],
        "violations": load("violations"),
        "warnings": load("warnings"),
        "headers": load("headers"),
        "client": row["client"],
        "durationMs": row["duration_ms"],
        "faults": load("faults"),
        "response": load("response"),
    }
