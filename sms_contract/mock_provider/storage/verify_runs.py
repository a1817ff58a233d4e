"""Runs of the checker started from the web, in the inbox's SQLite file, so that every
worker sees a run whichever worker runs it.

A run is reserved (a ``running`` row) before it connects anywhere: the limits
(one run per client address, a number per server) are counted inside that
write transaction, so two workers cannot both take the last place. Each
finished check is appended as it comes; the report is stored at the end.
Nothing here ever holds a password: the caller stores the request without it.

A run whose process is gone (a restart, a worker that died) cannot finish: it
is marked ``interrupted`` when the server starts, and whenever a reservation
finds its process dead or its time long past.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sms_contract.exceptions import VerifyBusy
from sms_contract.mock_provider.storage.database import SharedDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verify_runs (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    pid INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
    started_at REAL NOT NULL,
    finished_at REAL,
    request TEXT NOT NULL,
    total INTEGER NOT NULL,
    checks TEXT NOT NULL DEFAULT '[]',
    report TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS verify_runs_running ON verify_runs (status) WHERE status = 'running';
"""

#: Runs kept; older finished ones are deleted as new ones start.
MAX_STORED_RUNS = 1000
#: The Retry-After of a refused run: the client's own run is under way, or the server is full.
CLIENT_RETRY_SECONDS = 5
SERVER_RETRY_SECONDS = 10


@dataclass(frozen=True)
class RunFilter:
    """Which runs a listing shows: ``client`` only (every client when ``None``)."""

    client: str | None = None
    limit: int = 100
    offset: int = 0


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, under another user
        return True
    return True


class VerifyRunStore:
    """The ``verify_runs`` table of a ``SharedDatabase``; safe to share between threads.

    ``longest_seconds`` is how long a run may last: one still ``running`` well
    after that is taken for interrupted.
    """

    def __init__(self, db: SharedDatabase, *, longest_seconds: float) -> None:
        self._db = db
        self.longest_seconds = longest_seconds
        with self._db.reading() as conn:
            conn.executescript(_SCHEMA)

    @property
    def closed(self) -> bool:
        """Whether the database was closed (the server is stopping)."""
        return self._db.closed

    # -- writing ----------------------------------------------------------------

    def reserve(
        self,
        run_id: str,
        *,
        client: str,
        request: dict[str, Any],
        total: int,
        max_running: int,
    ) -> None:
        """Store a new ``running`` run for ``client``; ``VerifyBusy`` (nothing stored)
        when the client has one running already or ``max_running`` are running."""
        now = time.time()

        def work(db: sqlite3.Connection, _batch: object) -> None:
            self._interrupt_orphans(db, now)
            running = db.execute(
                "SELECT client FROM verify_runs WHERE status = 'running'"
            ).fetchall()
            if any(row["client"] == client for row in running):
                raise VerifyBusy(
                    f"a run from {client} is under way already: one run at a time per client",
                    CLIENT_RETRY_SECONDS,
                )
            if len(running) >= max_running:
                raise VerifyBusy(
                    f"{len(running)} run(s) are under way, the most this server runs at once; "
                    "retry later",
                    SERVER_RETRY_SECONDS,
                )
            db.execute(
                "INSERT INTO verify_runs (id, client, pid, status, started_at, request, total) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (run_id, client, os.getpid(), now, _dump(request), total),
            )
            db.execute(
                "DELETE FROM verify_runs WHERE status != 'running' AND rowid <= "
                "(SELECT max(rowid) FROM verify_runs) - ?",
                (MAX_STORED_RUNS,),
            )

        self._db.write(work)

    def _interrupt_orphans(self, db: sqlite3.Connection, now: float) -> None:
        rows = db.execute(
            "SELECT id, pid, started_at FROM verify_runs WHERE status = 'running'"
        ).fetchall()
        for row in rows:
            if not _alive(row["pid"]):
                reason = "the server process running it stopped before the end"
            elif now - row["started_at"] > 2 * self.longest_seconds:
                reason = f"not finished within {2 * self.longest_seconds:g} s"
            else:
                continue
            self._set_interrupted(db, row["id"], reason, now)

    @staticmethod
    def _set_interrupted(db: sqlite3.Connection, run_id: str, reason: str, now: float) -> None:
        db.execute(
            "UPDATE verify_runs SET status = 'interrupted', reason = ?, finished_at = ? "
            "WHERE id = ? AND status = 'running'",
            (reason, now, run_id),
        )

    def discard(self, run_id: str) -> None:
        """Forget a reserved run that never started (refused before its first check)."""
        self._db.write(
            lambda db, _batch: db.execute(
                "DELETE FROM verify_runs WHERE id = ? AND status = 'running'", (run_id,)
            )
        )

    def add_check(self, run_id: str, check: dict[str, Any]) -> None:
        """Append one finished check to a running run."""
        self._db.write(
            lambda db, _batch: db.execute(
                "UPDATE verify_runs SET checks = json_insert(checks, '$[#]', json(?)) "
                "WHERE id = ? AND status = 'running'",
                (_dump(check), run_id),
            )
        )

    def finish(self, run_id: str, report: dict[str, Any]) -> None:
        """Store the report of a run and mark it ``done`` (its checks become the report's)."""
        now = time.time()
        self._db.write(
            lambda db, _batch: db.execute(
                "UPDATE verify_runs SET status = 'done', finished_at = ?, report = ?, checks = ? "
                "WHERE id = ? AND status = 'running'",
                (now, _dump(report), _dump(report["checks"]), run_id),
            )
        )

    def interrupt(self, run_id: str, reason: str) -> None:
        """Mark a running run ``interrupted``, saying why."""
        now = time.time()
        self._db.write(lambda db, _batch: self._set_interrupted(db, run_id, reason, now))

    def interrupt_all(self, reason: str) -> int:
        """Mark every running run ``interrupted`` (a server start: none can finish); how many."""
        now = time.time()

        def work(db: sqlite3.Connection, _batch: object) -> int:
            changed = db.execute(
                "UPDATE verify_runs SET status = 'interrupted', reason = ?, finished_at = ? "
                "WHERE status = 'running'",
                (reason, now),
            )
            return int(changed.rowcount)

        return self._db.write(work)

    # -- reading ----------------------------------------------------------------

    def get(self, run_id: str, *, checks_from: int = 0) -> dict[str, Any] | None:
        """One run, with its checks from position ``checks_from`` on."""
        with self._db.reading() as db:
            row = db.execute("SELECT * FROM verify_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        checks = json.loads(row["checks"])
        report = json.loads(row["report"]) if row["report"] is not None else None
        return {
            **_summary(row, len(checks), report),
            "checksFrom": checks_from,
            "checks": checks[checks_from:],
            "report": report,
        }

    def find(self, where: RunFilter) -> tuple[list[dict[str, Any]], int]:
        """The runs matching ``where``, newest first, and how many match in all."""
        clause, values = (
            ("WHERE client = ?", [where.client]) if where.client is not None else ("", [])
        )
        with self._db.reading() as db:
            total = db.execute(f"SELECT count(*) FROM verify_runs {clause}", values).fetchone()[0]
            rows = db.execute(
                "SELECT id, status, started_at, finished_at, request, total, reason, "
                "json_array_length(checks) AS done, json_extract(report, '$.verdict') AS verdict "
                f"FROM verify_runs {clause} ORDER BY rowid DESC LIMIT ? OFFSET ?",
                [*values, where.limit, where.offset],
            ).fetchall()
        runs = [
            _summary(
                row,
                row["done"],
                {"verdict": json.loads(row["verdict"])} if row["verdict"] else None,
            )
            for row in rows
        ]
        return runs, int(total)


def _summary(row: sqlite3.Row, done: int, report: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "startedAt": _iso(row["started_at"]),
        "finishedAt": _iso(row["finished_at"]) if row["finished_at"] is not None else None,
        "request": json.loads(row["request"]),
        "total": row["total"],
        "done": done,
        "verdict": report["verdict"] if report is not None else None,
        "reason": row["reason"],
    }


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
