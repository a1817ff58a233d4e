"""Web UI sessions, in the inbox's SQLite file so that every worker knows them.

A session is a random value in the browser's cookie; the file keeps only its
SHA-256, so reading the file gives no session away. Signing out deletes the
row: the cookie is then worth nothing, even if it was copied. Each row also
keeps a digest of the admin token it was opened with, so a restart with
another token ends every session.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time

from sms_contract.mock_provider.storage.database import SharedDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ui_sessions (
    digest TEXT PRIMARY KEY,
    token_digest TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

#: How long a session lasts without signing in again.
SESSION_SECONDS = 12 * 3600


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class SessionStore:
    """Open, check and end UI sessions; safe to share between threads."""

    def __init__(self, db: SharedDatabase) -> None:
        self._db = db
        with self._db.reading() as conn:
            conn.executescript(_SCHEMA)

    def open(self, admin_token: str) -> str:
        """A new session for a sign-in with ``admin_token``; the cookie value."""
        session = secrets.token_urlsafe(32)
        now = time.time()

        def work(db: sqlite3.Connection, _shared: object) -> None:
            db.execute("DELETE FROM ui_sessions WHERE expires_at <= ?", (now,))
            db.execute(
                "INSERT INTO ui_sessions (digest, token_digest, expires_at) VALUES (?, ?, ?)",
                (_digest(session), _digest(admin_token), now + SESSION_SECONDS),
            )

        self._db.write(work)
        return session

    def valid(self, session: str, admin_token: str) -> bool:
        """Whether ``session`` is open, unexpired and was opened with ``admin_token``."""
        with self._db.reading() as db:
            row = db.execute(
                "SELECT token_digest FROM ui_sessions WHERE digest = ? AND expires_at > ?",
                (_digest(session), time.time()),
            ).fetchone()
        return row is not None and secrets.compare_digest(row[0], _digest(admin_token))

    def end(self, session: str) -> None:
        """End ``session`` (signing out)."""
        self._db.write(
            lambda db, _shared: db.execute(
                "DELETE FROM ui_sessions WHERE digest = ?", (_digest(session),)
            )
        )
