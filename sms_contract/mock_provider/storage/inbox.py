"""The inbox: every send the fake provider received, in one SQLite file.

All gunicorn workers share the file (WAL mode), so a message recorded by one
worker is seen by all. Reads use one connection per thread; writes go through
``GroupCommit`` (one writing connection per process, concurrent sends sharing
a transaction). A send is committed before its answer goes out.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sms_contract.core.validation import Violation
from sms_contract.mock_provider.storage.database import SharedDatabase

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
    response TEXT,
    readings TEXT
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
-- The counters follow the messages inside SQLite: a new row is one more send
-- received, a raised attempt count one more retry; pruning and clearing leave them.
CREATE TRIGGER IF NOT EXISTS count_new_message AFTER INSERT ON messages BEGIN
    INSERT INTO counters (namespace, received, accepted, rejected)
    VALUES (NEW.namespace, 1, NEW.status = 'accepted', NEW.status = 'rejected')
    ON CONFLICT (namespace) DO UPDATE SET received = received + 1,
        accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected;
END;
CREATE TRIGGER IF NOT EXISTS count_retry AFTER UPDATE OF attempts ON messages BEGIN
    INSERT INTO counters (namespace, received, accepted, duplicates)
    VALUES (NEW.namespace, 1, 1, 1)
    ON CONFLICT (namespace) DO UPDATE SET received = received + 1,
        accepted = accepted + 1, duplicates = duplicates + 1;
END;
"""

_COLUMNS = (
    "id, namespace, received_at, last_seen_at, status, http_status, ret_id, recipient, "
    "type, sender, text, login, body, body_hash, payload, violations, warnings, headers, "
    "client, duration_ms, faults, response, readings"
)
_INSERT = f"INSERT INTO messages ({_COLUMNS}) VALUES ({', '.join('?' * 23)})"
#: One statement for an accepted send: a new row, or the retry of an accepted
#: retId with the same body (attempts + 1); no row comes back for a conflict.
_UPSERT = (
    f"{_INSERT} ON CONFLICT (namespace, ret_id) WHERE status = 'accepted' "
    "DO UPDATE SET attempts = attempts + 1, last_seen_at = excluded.received_at "
    "WHERE body_hash = excluded.body_hash RETURNING id, attempts"
)

#: How often ``wait`` looks for a message another worker may have written.
_WAIT_POLL_SECONDS = 0.01
_WAIT_POLL_MAX_SECONDS = 0.1
#: The largest id SQLite can hold; a bigger one names no message.
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Received:
    """One send as the inbox records it; a step that learns more makes a new one
    (``dataclasses.replace``), so no record changes under another's feet.

    ``refusal`` is the problem (slug, detail) the answer states when the send is
    not accepted; ``faults`` lists the faults applied (docs/faults.md).
    """

    namespace: str
    status: str
    http_status: int
    body: str
    body_hash: str
    payload: dict[str, Any] | None = None
    violations: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    client: str | None = None
    login: str | None = None
    duration_ms: float | None = None
    faults: tuple[dict[str, Any], ...] = ()
    refusal: tuple[str, str] | None = None
    #: The readings the send was judged under (``Readings.to_dict()``).
    readings: dict[str, str] | None = None
    received_at: float = field(default_factory=time.time)

    def field_text(self, name: str) -> str | None:
        """A payload field as text, when the payload has it as a string."""
        value = (self.payload or {}).get(name)
        return value if isinstance(value, str) else None

    def conflicting(self, earlier_id: int) -> Received:
        """This send refused as a conflict: its retId was accepted with another body."""
        conflict = Violation(
            "/retId",
            "ret_id_conflict",
            f"retId {self.field_text('retId')!r} was already accepted as message "
            f"{earlier_id} with a different body",
        )
        return replace(
            self,
            status="rejected",
            http_status=409,
            violations=(*self.violations, conflict),
            refusal=("ret-id-conflict", "a retry must repeat the body of the first send exactly"),
        )


@dataclass(frozen=True)
class Stored:
    """Where a send landed: its id, whether it repeated an earlier one, its attempt."""

    id: int
    duplicate: bool = False
    conflict: bool = False
    attempts: int = 1


#: Builds the answer of a stored send (inside its transaction, so it is stored too).
Respond = Callable[[Received, Stored], dict[str, Any]]


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
    """The messages table of a ``SharedDatabase``; safe to share between threads."""

    def __init__(self, db: SharedDatabase, *, max_messages: int = 100_000) -> None:
        self.max_messages = max_messages
        self._db = db
        self._db.reader().executescript(_SCHEMA)
        _add_missing_columns(self._db)

    # -- writing ----------------------------------------------------------------

    def record(self, item: Received, respond: Respond) -> tuple[Stored, dict[str, Any]]:
        """Store a send and the answer ``respond`` builds for it; return once committed.

        An accepted retId seen before in the namespace is a retry when the body
        is the same (one row, its attempt count raised) and a conflict when it
        differs (a rejected row with a ``ret_id_conflict`` violation).
        """
        return self._db.write(lambda db, batch: self._record(db, batch, item, respond))

    def _record(
        self, db: sqlite3.Connection, batch: dict[str, Any], item: Received, respond: Respond
    ) -> tuple[Stored, dict[str, Any]]:
        # The id is known before the insert, so the answer (which holds it) is
        # stored by the same statement; ``batch`` carries the last id of this
        # transaction from one send to the next.
        if "last_id" not in batch:
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
            batch["last_id"] = int(row[0]) if row else 0
        new_id = batch["last_id"] + 1
        if item.status == "accepted":
            stored = Stored(new_id)
            response = respond(item, stored)
            rows = db.execute(_UPSERT, _row(new_id, item, response)).fetchall()
            if rows and rows[0]["attempts"] > 1:  # a retry of the same body
                stored = Stored(rows[0]["id"], duplicate=True, attempts=rows[0]["attempts"])
                if item.faults:  # the faults of every attempt stay on the one entry
                    _append_faults(db, stored.id, item.faults)
                return stored, respond(item, stored)
            if not rows:  # accepted before with another body
                earlier = db.execute(
                    "SELECT id FROM messages "
                    "WHERE namespace = ? AND ret_id = ? AND status = 'accepted'",
                    (item.namespace, item.field_text("retId")),
                ).fetchone()
                item = item.conflicting(int(earlier["id"]))
                stored = Stored(new_id, conflict=True)
                response = respond(item, stored)
                db.execute(_INSERT, _row(new_id, item, response))
        else:
            stored = Stored(new_id)
            response = respond(item, stored)
            db.execute(_INSERT, _row(new_id, item, response))
        batch["last_id"] = new_id
        if new_id > self.max_messages:
            # An index range on the primary key: nearly free when nothing is due.
            db.execute("DELETE FROM messages WHERE id <= ?", (new_id - self.max_messages,))
        return stored, response

    def set_faults(self, message_id: int, faults: Sequence[dict[str, Any]]) -> None:
        """Replace the faults recorded on a message (a fault's outcome, known later)."""
        self._db.write(
            lambda db, _: db.execute(
                "UPDATE messages SET faults = ? WHERE id = ?", (_dump(faults), message_id)
            )
        )

    @staticmethod
    def delete(db: sqlite3.Connection, namespace: str | None = None) -> int:
        """Delete every message (of ``namespace`` when given) inside the caller's
        write transaction; return how many."""
        if namespace is None:
            return int(db.execute("DELETE FROM messages").rowcount)
        return int(db.execute("DELETE FROM messages WHERE namespace = ?", (namespace,)).rowcount)

    # -- reading ----------------------------------------------------------------

    def get(self, message_id: int) -> dict[str, Any] | None:
        """One message by id."""
        if not 0 < message_id <= _MAX_ID:
            return None
        row = (
            self._db.reader()
            .execute("SELECT * FROM messages WHERE id = ?", (message_id,))
            .fetchone()
        )
        return _message(row) if row is not None else None

    def find(self, where: MessageFilter) -> tuple[list[dict[str, Any]], int]:
        """The messages matching ``where``, newest first, and how many match in all."""
        clauses, values = _where(where)
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        db = self._db.reader()
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
        pause = _WAIT_POLL_SECONDS
        while True:
            rows, _ = self.find(where)
            if rows:
                return rows[0]
            if time.monotonic() >= deadline:
                return None
            time.sleep(pause)
            # Looking less often the longer it takes keeps many waits cheap.
            pause = min(pause * 1.5, _WAIT_POLL_MAX_SECONDS)

    def counters(self) -> list[dict[str, Any]]:
        """Monotonic counts per namespace (they survive pruning and clearing)."""
        rows = self._db.reader().execute("SELECT * FROM counters ORDER BY namespace").fetchall()
        return [dict(row) for row in rows]

    def namespaces(self) -> list[str]:
        """Every namespace that has messages."""
        rows = (
            self._db.reader()
            .execute("SELECT DISTINCT namespace FROM messages ORDER BY namespace")
            .fetchall()
        )
        return [row[0] for row in rows]


#: Columns added since the first release: an older inbox file gets them on open.
_ADDED_COLUMNS = {"readings": "TEXT"}


def _add_missing_columns(db: SharedDatabase) -> None:
    present = {row[1] for row in db.reader().execute("PRAGMA table_info(messages)")}
    missing = {name: kind for name, kind in _ADDED_COLUMNS.items() if name not in present}
    if missing:

        def work(conn: sqlite3.Connection, _batch: dict[str, Any]) -> None:
            now = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
            for name, kind in missing.items():
                if name not in now:  # another worker may have added it meanwhile
                    conn.execute(f"ALTER TABLE messages ADD COLUMN {name} {kind}")

        db.write(work)


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


def _append_faults(
    db: sqlite3.Connection, message_id: int, faults: Sequence[dict[str, Any]]
) -> None:
    (earlier,) = db.execute("SELECT faults FROM messages WHERE id = ?", (message_id,)).fetchone()
    combined = [*json.loads(earlier), *faults]
    db.execute("UPDATE messages SET faults = ? WHERE id = ?", (_dump(combined), message_id))


def _row(message_id: int, item: Received, response: dict[str, Any]) -> tuple[Any, ...]:
    """The values of ``_INSERT`` for ``item``."""
    return (
        message_id,
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
        _dump([v.to_dict() for v in item.violations]),
        _dump([w.to_dict() for w in item.warnings]),
        _dump(item.headers),
        item.client,
        item.duration_ms,
        _dump(list(item.faults)),
        _dump(response),
        _dump(item.readings),
    )


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    if not value and isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
        "readings": load("readings"),
    }
