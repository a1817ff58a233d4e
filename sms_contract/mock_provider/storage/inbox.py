"""The inbox: every send the fake provider received, in one SQLite file.

All gunicorn workers share the file (WAL mode), so a message recorded by one
worker is seen by all. Reads use one connection per thread; writes go through
``GroupCommit`` (one writing connection per process, concurrent sends sharing
a transaction). A send is committed before its answer goes out.

An accepted send is stored as received: its body, not also the payload parsed
from it nor the answer built from the row, which the views compute when read
(``_message``). A rejected one keeps both, as they cannot be told from the
row alone.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sms_contract.core.jsontext import dumps
from sms_contract.core.validation import Violation
from sms_contract.mock_provider.storage.database import SharedDatabase

#: The messages table. Without AUTOINCREMENT, whose sequence row every insert
#: rewrote (a page more per send): ``message_ids`` keeps ids from coming back.
_MESSAGES_TABLE = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
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
    readings TEXT,
    upstream TEXT,
    upstream_outcome TEXT
);
"""

_SCHEMA = (
    _MESSAGES_TABLE
    + """
-- One accepted send per retId and namespace. ``status`` is a column too, so
-- that counting the accepted rows reads this index alone (``counters()``).
CREATE UNIQUE INDEX IF NOT EXISTS messages_accepted
    ON messages (namespace, ret_id, status) WHERE status = 'accepted';
CREATE INDEX IF NOT EXISTS messages_namespace ON messages (namespace, id);
CREATE INDEX IF NOT EXISTS messages_ret_id ON messages (ret_id);
-- The rejected rows, for counting and listing them without reading the table
-- (an accepted send writes nothing here; ``status`` is a column so that a
-- count reads the index alone). With ``messages_accepted``, every row is
-- counted from a partial index.
CREATE INDEX IF NOT EXISTS messages_rejected ON messages (namespace, id, status)
    WHERE status = 'rejected';
CREATE TABLE IF NOT EXISTS counters (
    namespace TEXT PRIMARY KEY,
    received INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0
);
-- A proxy's upstream answers per outcome (the last attempt of each forward),
-- counted as they come: pruning and clearing leave them.
CREATE TABLE IF NOT EXISTS upstream_counters (
    namespace TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, outcome)
);
-- The counters hold what the messages no longer show: the rows pruned or
-- cleared (folded in by ``_fold``), and every retry (this trigger: retries are
-- few). ``counters()`` adds the rows there are, so an insert writes no counter.
CREATE TRIGGER IF NOT EXISTS count_retry AFTER UPDATE OF attempts ON messages BEGIN
    INSERT INTO counters (namespace, received, accepted, duplicates)
    VALUES (NEW.namespace, 1, 1, 1)
    ON CONFLICT (namespace) DO UPDATE SET received = received + 1,
        accepted = accepted + 1, duplicates = duplicates + 1;
END;
-- The last id given out, kept when the newest messages are deleted (a clear),
-- so that no id is ever given twice.
CREATE TABLE IF NOT EXISTS message_ids (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last INTEGER NOT NULL
);
"""
)

#: The last id given out: the newest message's, or the one kept by a clear.
_LAST_ID = (
    "SELECT max(coalesce((SELECT max(id) FROM messages), 0), "
    "coalesce((SELECT last FROM message_ids), 0))"
)
_KEEP_LAST_ID = (
    "INSERT INTO message_ids (one, last) VALUES (1, ?) "
    "ON CONFLICT (one) DO UPDATE SET last = max(last, excluded.last)"
)

#: What an older inbox file has and this version replaces, by kind: a trigger
#: counted every new row (the counters then included the rows there are), and
#: the unique index had no ``status`` column.
_OLD = {"trigger": "count_new_message", "index": "messages_accepted_ret_id"}

#: The counts of the rows that ``{where}`` selects, per namespace, added to the
#: counters (before those rows are deleted). ``+namespace``: grouping by the
#: bare column, SQLite reads all of ``messages_namespace`` in order rather than
#: the few rows selected (pruning one row per send at the cap took 5 ms so).
_FOLD = """
INSERT INTO counters (namespace, received, accepted, rejected)
SELECT namespace, count(*), sum(status = 'accepted'), sum(status = 'rejected')
FROM messages WHERE {where} GROUP BY +namespace
ON CONFLICT (namespace) DO UPDATE SET received = received + excluded.received,
    accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected
"""

#: The counters: what they hold plus the rows there are (one statement, so one
#: snapshot). Counting the rows reads the two partial indexes, never the table,
#: and each row once: the accepted ones in ``messages_accepted``, the rejected
#: ones in ``messages_rejected``.
_COUNTERS = """
WITH live AS (
    SELECT namespace, count(*) AS accepted, 0 AS rejected FROM messages
    WHERE status = 'accepted' GROUP BY namespace
    UNION ALL
    SELECT namespace, 0, count(*) FROM messages WHERE status = 'rejected' GROUP BY namespace
), rows AS (
    SELECT namespace, sum(accepted) AS accepted, sum(rejected) AS rejected
    FROM live GROUP BY namespace
), names AS (
    SELECT namespace FROM counters UNION SELECT namespace FROM rows
)
SELECT names.namespace AS namespace,
    coalesce(c.received, 0) + coalesce(r.accepted + r.rejected, 0) AS received,
    coalesce(c.accepted, 0) + coalesce(r.accepted, 0) AS accepted,
    coalesce(c.rejected, 0) + coalesce(r.rejected, 0) AS rejected,
    coalesce(c.duplicates, 0) AS duplicates
FROM names
LEFT JOIN counters AS c ON c.namespace = names.namespace
LEFT JOIN rows AS r ON r.namespace = names.namespace
ORDER BY names.namespace
"""

#: The namespaces in order, each found by one search of ``messages_namespace``
#: for the first one after the last (``DISTINCT`` would read every entry).
_NAMESPACES = """
WITH RECURSIVE names (namespace) AS (
    SELECT min(namespace) FROM messages
    UNION ALL
    SELECT (SELECT min(namespace) FROM messages WHERE namespace > names.namespace)
    FROM names WHERE names.namespace IS NOT NULL
)
SELECT namespace FROM names WHERE namespace IS NOT NULL
"""

_COLUMNS = (
    "id, namespace, received_at, last_seen_at, status, http_status, ret_id, recipient, "
    "type, sender, text, login, body, body_hash, payload, violations, warnings, headers, "
    "client, duration_ms, faults, response, readings, upstream_outcome"
)
_INSERT = f"INSERT INTO messages ({_COLUMNS}) VALUES ({', '.join('?' * 24)})"
#: One statement for an accepted send: a new row, or the retry of an accepted
#: retId with the same body (attempts + 1); no row comes back for a conflict.
#: The id is chosen beforehand: SQLite's own would come back after a clear.
#: A proxy forwards the retry too: the entry is pending again meanwhile.
_UPSERT = (
    f"{_INSERT} ON CONFLICT (namespace, ret_id, status) WHERE status = 'accepted' "
    "DO UPDATE SET attempts = attempts + 1, last_seen_at = excluded.received_at, "
    "upstream_outcome = coalesce(excluded.upstream_outcome, upstream_outcome) "
    "WHERE body_hash = excluded.body_hash RETURNING id, attempts"
)

#: How often ``wait`` looks for a message another worker may have written.
_WAIT_POLL_SECONDS = 0.01
_WAIT_POLL_MAX_SECONDS = 0.1
#: The largest id SQLite can hold; a bigger one names no message.
_MAX_ID = 2**63 - 1
#: The upstream outcome of an entry whose send a proxy is forwarding right now.
FORWARDING = "pending"
#: Forwarded attempts an entry keeps (the newest); each has its number.
MAX_UPSTREAM_ATTEMPTS = 20


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
    #: A proxy forwards this send once it is stored: the entry is pending until
    #: the upstream's answer is added (``Inbox.add_upstream``).
    forwarding: bool = False
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


#: Builds the answer of a stored send, inside its transaction (the answer to a
#: refused send is stored with it; that to an accepted one is ``accepted_answer``).
Respond = Callable[[Received, Stored], dict[str, Any]]


def accepted_answer(
    message_id: int,
    ret_id: str | None,
    credits: Any,
    warnings: list[dict[str, str]],
    attempts: int = 1,
) -> dict[str, Any]:
    """The answer to an accepted send: the send URL's, and the ``response`` of its
    message (that of the first attempt)."""
    answer: dict[str, Any] = {
        "id": message_id,
        "retId": ret_id,
        "status": "accepted",
        "credits": credits,
    }
    if attempts > 1:
        answer.update(duplicate=True, attempts=attempts)
    if warnings:
        answer["warnings"] = warnings
    return answer


@dataclass(frozen=True)
class MessageFilter:
    """Filters of the inbox listing; ``None`` means "any"."""

    namespace: str | None = None
    to: str | None = None
    ret_id: str | None = None
    type: str | None = None
    status: str | None = None
    since: float | None = None
    #: The outcome of the last forwarded attempt (a proxy's entries).
    upstream: str | None = None
    #: Leave out the entries a proxy is still forwarding.
    settled: bool = False
    limit: int = 100
    offset: int = 0


class Inbox:
    """The messages table of a ``SharedDatabase``; safe to share between threads."""

    def __init__(self, db: SharedDatabase, *, max_messages: int = 100_000) -> None:
        self.max_messages = max_messages
        self._db = db
        with self._db.reading() as conn:
            conn.executescript(_SCHEMA)
        _add_missing_columns(self._db)
        _upgrade(self._db)
        _drop_autoincrement(self._db)

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
        # Ids follow one another with no gap (pruning counts on it); ``batch``
        # carries the last one of this transaction from one send to the next.
        if "last_id" not in batch:
            batch["last_id"] = int(db.execute(_LAST_ID).fetchone()[0])
        new_id = batch["last_id"] + 1
        conflict = False
        if item.status == "accepted":
            rows = db.execute(_UPSERT, (new_id, *_values(item, None, None))).fetchall()
            if rows and rows[0][1] > 1:  # a retry of the same body
                stored = Stored(rows[0][0], duplicate=True, attempts=rows[0][1])
                if item.faults:  # the faults of every attempt stay on the one entry
                    _append_faults(db, stored.id, item.faults)
                return stored, respond(item, stored)
            if rows:
                batch["last_id"] = new_id
                self._prune(db, new_id)
                return Stored(new_id), respond(item, Stored(new_id))
            # Accepted before with another body: a conflict, recorded as rejected.
            earlier = db.execute(
                "SELECT id FROM messages "
                "WHERE namespace = ? AND ret_id = ? AND status = 'accepted'",
                (item.namespace, item.field_text("retId")),
            ).fetchone()
            item, conflict = item.conflicting(int(earlier[0])), True
        # A refusal's answer cannot be told from the row: it is stored with it.
        stored = Stored(new_id, conflict=conflict)
        response = respond(item, stored)
        db.execute(_INSERT, (new_id, *_values(item, _dump(item.payload), _dump(response))))
        batch["last_id"] = new_id
        self._prune(db, new_id)
        return stored, response

    def _prune(self, db: sqlite3.Connection, new_id: int) -> None:
        if new_id > self.max_messages:
            # An index range on the primary key: nearly free when nothing is due.
            _delete(db, "id <= ?", (new_id - self.max_messages,))

    def add_upstream(self, message_id: int, namespace: str, attempt: dict[str, Any]) -> None:
        """Add a forwarded attempt's upstream answer to an entry (numbered, the newest
        ``MAX_UPSTREAM_ATTEMPTS`` kept) and count its outcome; the entry is no
        longer pending. The count stays even when the entry was deleted meanwhile."""

        def work(db: sqlite3.Connection, _batch: dict[str, Any]) -> None:
            _append_upstream(db, message_id, namespace, attempt)

        self._db.write(work)

    def cancel_forwarding(self, message_id: int) -> None:
        """The entry will not be forwarded after all (a conflict a proxy blocks)."""
        self._db.write(
            lambda db, _: db.execute(
                "UPDATE messages SET upstream_outcome = NULL WHERE id = ? AND upstream_outcome = ?",
                (message_id, FORWARDING),
            )
        )

    def interrupt_forwarding(self, attempt: dict[str, Any]) -> int:
        """Close every entry left pending by a proxy that stopped mid-forward with
        ``attempt`` (an error saying so); return how many there were."""

        def work(db: sqlite3.Connection, _batch: dict[str, Any]) -> int:
            rows = db.execute(
                "SELECT id, namespace FROM messages WHERE upstream_outcome = ?", (FORWARDING,)
            ).fetchall()
            for message_id, namespace in rows:
                _append_upstream(db, message_id, namespace, attempt)
            return len(rows)

        return self._db.write(work)

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
        db.execute(_KEEP_LAST_ID, db.execute(_LAST_ID).fetchone())
        if namespace is None:
            return _delete(db, "true", ())
        return _delete(db, "namespace = ?", (namespace,))

    # -- reading ----------------------------------------------------------------

    def get(self, message_id: int) -> dict[str, Any] | None:
        """One message by id."""
        if not 0 < message_id <= _MAX_ID:
            return None
        with self._db.reading() as db:
            row = db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row is not None else None

    def find(self, where: MessageFilter) -> tuple[list[dict[str, Any]], int]:
        """The messages matching ``where``, newest first, and how many match in all."""
        clauses, values = _where(where)
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._db.reading() as db:
            total = db.execute(f"SELECT count(*) FROM messages{sql_where}", values).fetchone()[0]
            rows = db.execute(
                f"SELECT * FROM messages{sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
                [*values, where.limit, where.offset],
            ).fetchall()
        return [_message(row) for row in rows], int(total)

    def overview(self, where: MessageFilter) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The messages matching ``where``, newest first, and how many match its other
        filters whatever their status: ``all``, ``accepted`` and ``rejected``."""
        # Each count reads a partial index when the other filters allow (none, or
        # a namespace), never the table; all = accepted + rejected (``CHECK``).
        counted: list[str] = []
        values: list[Any] = []
        for status in ("accepted", "rejected"):
            clauses, status_values = _where(replace(where, status=status))
            counted.append(f"(SELECT count(*) FROM messages WHERE {' AND '.join(clauses)})")
            values += status_values
        clauses, page_values = _where(where)
        page_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._db.reading() as db:
            accepted, rejected = db.execute(f"SELECT {', '.join(counted)}", values).fetchone()
            rows = db.execute(
                f"SELECT * FROM messages{page_where} ORDER BY id DESC LIMIT ? OFFSET ?",
                [*page_values, where.limit, where.offset],
            ).fetchall()
        counts = {"all": accepted + rejected, "accepted": accepted, "rejected": rejected}
        return [_message(row) for row in rows], counts

    def wait(self, ret_id: str, namespace: str | None, timeout: float) -> dict[str, Any] | None:
        """The first message with ``ret_id``, as soon as any worker has stored it."""
        deadline = time.monotonic() + timeout
        # An entry a proxy is forwarding shows once the upstream's answer is in.
        where = MessageFilter(namespace=namespace, ret_id=ret_id, settled=True, limit=1)
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
        with self._db.reading() as db:
            return [dict(row) for row in db.execute(_COUNTERS).fetchall()]

    def upstream_counters(self) -> list[dict[str, Any]]:
        """Monotonic counts of upstream answers per namespace and outcome."""
        with self._db.reading() as db:
            rows = db.execute("SELECT * FROM upstream_counters ORDER BY namespace, outcome")
            return [dict(row) for row in rows.fetchall()]

    def namespaces(self) -> list[str]:
        """Every namespace that has messages."""
        with self._db.reading() as db:
            return [row[0] for row in db.execute(_NAMESPACES).fetchall()]


#: Columns added since the first release: an older inbox file gets them on open.
_ADDED_COLUMNS = {"readings": "TEXT", "upstream": "TEXT", "upstream_outcome": "TEXT"}


def _add_missing_columns(db: SharedDatabase) -> None:
    with db.reading() as conn:
        present = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    missing = {name: kind for name, kind in _ADDED_COLUMNS.items() if name not in present}
    if missing:

        def work(conn: sqlite3.Connection, _batch: dict[str, Any]) -> None:
            now = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
            for name, kind in missing.items():
                if name not in now:  # another worker may have added it meanwhile
                    conn.execute(f"ALTER TABLE messages ADD COLUMN {name} {kind}")

        db.write(work)


def _upgrade(db: SharedDatabase) -> None:
    """Bring an older inbox file to this version: rows counted when read (its
    counters lose the rows there are, the insert trigger goes), and the old
    unique index dropped (``_SCHEMA`` made the new one)."""

    def old(conn: sqlite3.Connection) -> set[tuple[str, str]]:
        rows = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE (type, name) IN (VALUES (?, ?), (?, ?))",
            [value for item in _OLD.items() for value in item],
        )
        return {(kind, name) for kind, name in rows.fetchall()}

    def work(conn: sqlite3.Connection, _batch: dict[str, Any]) -> None:
        found = old(conn)  # another worker may have done it meanwhile
        if ("trigger", _OLD["trigger"]) in found:
            conn.execute(f"DROP TRIGGER {_OLD['trigger']}")
            conn.execute(
                "UPDATE counters SET received = counters.received - live.received, "
                "accepted = counters.accepted - live.accepted, "
                "rejected = counters.rejected - live.rejected "
                "FROM (SELECT namespace, count(*) AS received, sum(status = 'accepted') "
                "AS accepted, sum(status = 'rejected') AS rejected FROM messages "
                "GROUP BY namespace) AS live WHERE counters.namespace = live.namespace"
            )
        if ("index", _OLD["index"]) in found:
            conn.execute(f"DROP INDEX {_OLD['index']}")

    with db.reading() as conn:
        found = old(conn)
    if found:
        db.write(work)


def _drop_autoincrement(db: SharedDatabase) -> None:
    """Rebuild an older inbox file's messages table without AUTOINCREMENT: the
    rows, ids and counts stay, and the sequence's last id goes to ``message_ids``."""

    def has_it(conn: sqlite3.Connection) -> bool:
        row = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
        ).fetchone()
        return row is not None and "AUTOINCREMENT" in row[0].upper()

    def work(conn: sqlite3.Connection, _batch: dict[str, Any]) -> None:
        if not has_it(conn):  # another worker did it meanwhile
            return
        (last,) = conn.execute(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)"
        ).fetchone()
        conn.execute(_MESSAGES_TABLE.replace("messages (", "messages_rebuilt (", 1))
        old = [row[1] for row in conn.execute("PRAGMA table_info(messages)")]
        new = {row[1] for row in conn.execute("PRAGMA table_info(messages_rebuilt)")}
        columns = ", ".join(name for name in old if name in new)
        conn.execute(f"INSERT INTO messages_rebuilt ({columns}) SELECT {columns} FROM messages")
        conn.execute("DROP TABLE messages")  # its indexes and trigger too: made again below
        conn.execute("ALTER TABLE messages_rebuilt RENAME TO messages")
        for statement in _statements(_SCHEMA):
            conn.execute(statement)
        conn.execute(_KEEP_LAST_ID, (last,))

    with db.reading() as conn:
        if not has_it(conn):
            return
    db.write(work)


def _statements(script: str) -> list[str]:
    """The SQL statements of ``script``, one by one (``executescript`` would commit)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    return statements


def _delete(db: sqlite3.Connection, where: str, values: tuple[Any, ...]) -> int:
    """Delete the messages ``where`` selects, their counts kept in the counters."""
    db.execute(_FOLD.format(where=where), values)
    return int(db.execute(f"DELETE FROM messages WHERE {where}", values).rowcount)


#: A status as a literal: SQLite then knows that a partial index holds exactly
#: the rows it selects and reads no row of the table (with ``status = ?`` it would).
_STATUS_TERMS = {status: f"status = '{status}'" for status in ("accepted", "rejected")}


def _where(where: MessageFilter) -> tuple[list[str], list[Any]]:
    columns = {
        "namespace": where.namespace,
        "recipient": where.to,
        "ret_id": where.ret_id,
        "type": where.type,
        "status": None if where.status in _STATUS_TERMS else where.status,
        "upstream_outcome": where.upstream,
    }
    clauses = [f"{column} = ?" for column, value in columns.items() if value is not None]
    values: list[Any] = [value for value in columns.values() if value is not None]
    if where.status in _STATUS_TERMS:
        clauses.append(_STATUS_TERMS[where.status])
    if where.since is not None:
        clauses.append("received_at >= ?")
        values.append(where.since)
    if where.settled:
        clauses.append("upstream_outcome IS NOT ?")
        values.append(FORWARDING)
    return clauses, values


def _append_upstream(
    db: sqlite3.Connection, message_id: int, namespace: str, attempt: dict[str, Any]
) -> None:
    """Add ``attempt`` to the entry's upstream answers and count its outcome."""
    row = db.execute("SELECT upstream FROM messages WHERE id = ?", (message_id,)).fetchone()
    if row is not None:
        earlier = json.loads(row[0] or "[]")
        number = earlier[-1]["attempt"] + 1 if earlier else 1
        kept = [*earlier, {"attempt": number, **attempt}][-MAX_UPSTREAM_ATTEMPTS:]
        db.execute(
            "UPDATE messages SET upstream = ?, upstream_outcome = ? WHERE id = ?",
            (_dump(kept), attempt["outcome"], message_id),
        )
    db.execute(
        "INSERT INTO upstream_counters (namespace, outcome, count) VALUES (?, ?, 1) "
        "ON CONFLICT (namespace, outcome) DO UPDATE SET count = count + 1",
        (namespace, attempt["outcome"]),
    )


def _append_faults(
    db: sqlite3.Connection, message_id: int, faults: Sequence[dict[str, Any]]
) -> None:
    (earlier,) = db.execute("SELECT faults FROM messages WHERE id = ?", (message_id,)).fetchone()
    combined = [*json.loads(earlier), *faults]
    db.execute("UPDATE messages SET faults = ? WHERE id = ?", (_dump(combined), message_id))


def _values(item: Received, payload: str | None, response: str | None) -> tuple[Any, ...]:
    """The values of ``_INSERT`` for ``item`` but the id, with the payload and the
    answer as stored (``None`` for an accepted send: computed when read)."""
    fields = item.payload or {}

    def text(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) else None

    return (
        item.namespace,
        item.received_at,
        item.received_at,
        item.status,
        item.http_status,
        text("retId"),
        text("to"),
        text("type"),
        text("sender"),
        text("text"),
        item.login,
        item.body,
        item.body_hash,
        payload,
        _dump_findings(item.violations),
        _dump_findings(item.warnings),
        dumps(item.headers),
        item.client,
        item.duration_ms,
        _dump(list(item.faults)),
        response,
        _dump(item.readings),
        FORWARDING if item.forwarding else None,
    )


def _dump_findings(findings: tuple[Violation, ...]) -> str:
    return dumps([finding.to_dict() for finding in findings]) if findings else "[]"


def _dump(value: Any) -> str | None:
    return None if value is None else dumps(value)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def _message(row: sqlite3.Row) -> dict[str, Any]:
    def load(column: str) -> Any:
        value = row[column]
        return None if value is None else json.loads(value)

    payload, response, warnings = load("payload"), load("response"), load("warnings")
    if row["status"] == "accepted" and payload is None:
        # Stored as received: the body parsed as the send's payload, and the
        # answer it got (the first one; a retry's answer adds ``duplicate``).
        payload = json.loads(row["body"])
        response = accepted_answer(row["id"], row["ret_id"], payload.get("credits"), warnings)
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
        "payload": payload,
        "body": row["body"],
        "violations": load("violations"),
        "warnings": warnings,
        "headers": load("headers"),
        "client": row["client"],
        "durationMs": row["duration_ms"],
        "faults": load("faults"),
        "response": response,
        "readings": load("readings"),
        "upstream": load("upstream"),
        "upstreamOutcome": row["upstream_outcome"],
    }
