"""The fault rules, attempt counts and rate-limit slots, in the inbox's SQLite file.

Every gunicorn worker reads the same tables, so a rule added through one
worker applies in all of them; a decision that counts (an attempt, a
rate-limit slot) is taken in one write transaction, queued with the inbox's
writers (``GroupCommit``), so counts are exact across workers. A change of the
rules is announced through a count the database shares between processes, so a send
learns that its cached rules still hold without a query.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sms_contract.exceptions import DuplicateRuleId
from sms_contract.mock_provider.faults.magic import magic_rules_for
from sms_contract.mock_provider.faults.rules import FaultPlan, FaultRule, SendFacts
from sms_contract.mock_provider.storage.database import SharedDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fault_rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fault_attempts (
    namespace TEXT NOT NULL,
    ret_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_at REAL NOT NULL,
    PRIMARY KEY (namespace, ret_id)
);
CREATE TABLE IF NOT EXISTS fault_slots (
    rule_id TEXT NOT NULL,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS fault_slots_rule_key ON fault_slots (rule_id, key, at);
"""

T = TypeVar("T")

#: Attempt counts older than this are dropped (a retry comes within minutes).
_ATTEMPTS_KEPT_SECONDS = 24 * 3600


class FaultStore:
    """Fault rules and their counters; safe to share between threads."""

    def __init__(self, db: SharedDatabase, *, max_seconds: float = 60.0) -> None:
        self.max_seconds = max_seconds
        #: (change count, rules) read last; replaced whole, so threads never see half.
        self._cache: tuple[int, tuple[FaultRule, ...]] = (-1, ())
        # The inbox's database: rule and counter writes queue with its sends.
        self._db = db
        with self._db.reading() as conn:
            conn.executescript(_SCHEMA)

    def _write(self, work: Callable[[sqlite3.Connection], T], *, announce: bool = False) -> T:
        """Run ``work`` in a write transaction, queued with the inbox's writers;
        ``announce`` a change of the rules to every process."""
        return self._db.write(lambda db, _shared: work(db), announce=announce)

    # -- rules --------------------------------------------------------------------

    def rules(self) -> tuple[FaultRule, ...]:
        """The user rules in the order they are tried (oldest first)."""
        # Read before the rules: a change committed meanwhile raises it again.
        version = self._db.announced()
        cached_version, cached = self._cache
        if version == cached_version:
            return cached
        with self._db.reading() as db:
            rows = db.execute("SELECT rule FROM fault_rules ORDER BY seq").fetchall()
        rules = tuple(FaultRule.model_validate(json.loads(row[0])) for row in rows)
        self._cache = (version, rules)
        return rules

    def add(self, rule: FaultRule, *, source: str = "api") -> FaultRule:
        """Store ``rule`` after the others; it gets an id when it has none."""

        def work(db: sqlite3.Connection) -> FaultRule:
            return self._insert(db, rule, source)

        return self._write(work, announce=True)

    def replace_all(self, rules: Sequence[FaultRule], *, source: str = "config") -> None:
        """Drop every rule and counter, then store ``rules`` (a server start)."""

        def work(db: sqlite3.Connection) -> None:
            for table in ("fault_rules", "fault_attempts", "fault_slots"):
                db.execute(f"DELETE FROM {table}")
            for rule in rules:
                self._insert(db, rule, source)

        self._write(work, announce=True)

    def remove(self, rule_id: str) -> bool:
        """Delete one rule; whether it existed."""

        def work(db: sqlite3.Connection) -> int:
            deleted = db.execute("DELETE FROM fault_rules WHERE id = ?", (rule_id,)).rowcount
            db.execute("DELETE FROM fault_slots WHERE rule_id = ?", (rule_id,))
            return int(deleted)

        return bool(self._write(work, announce=True))

    def clear(self, namespace: str | None = None) -> int:
        """Delete every rule (only those scoped to ``namespace`` when given)."""

        def work(db: sqlite3.Connection) -> int:
            ids = [
                rule.id
                for rule in self._all_rules(db)
                if namespace is None or rule.namespace == namespace
            ]
            for rule_id in ids:
                db.execute("DELETE FROM fault_rules WHERE id = ?", (rule_id,))
                db.execute("DELETE FROM fault_slots WHERE rule_id = ?", (rule_id,))
            return len(ids)

        return self._write(work, announce=True)

    def forget_counts(self, db: sqlite3.Connection, namespace: str | None = None) -> None:
        """Reset the per-retId attempt counts and the rate-limit slots, inside the
        caller's write transaction: all of them, or those of ``namespace`` (its
        attempts, and the slots of rules counted per namespace)."""
        if namespace is None:
            db.execute("DELETE FROM fault_attempts")
            db.execute("DELETE FROM fault_slots")
            return
        db.execute("DELETE FROM fault_attempts WHERE namespace = ?", (namespace,))
        per_namespace = [
            rule.id
            for rule in self._all_rules(db)
            if rule.rate_limit is not None and rule.rate_limit.per == "namespace"
        ]
        db.executemany(
            "DELETE FROM fault_slots WHERE rule_id = ? AND key = ?",
            [(rule_id, namespace) for rule_id in per_namespace],
        )

    @staticmethod
    def _all_rules(db: sqlite3.Connection) -> list[FaultRule]:
        rows = db.execute("SELECT rule FROM fault_rules ORDER BY seq").fetchall()
        return [FaultRule.model_validate(json.loads(row[0])) for row in rows]

    @staticmethod
    def _insert(db: sqlite3.Connection, rule: FaultRule, source: str) -> FaultRule:
        if (
            rule.id is not None
            and db.execute("SELECT 1 FROM fault_rules WHERE id = ?", (rule.id,)).fetchone()
        ):
            raise DuplicateRuleId(f"a rule with id {rule.id!r} exists already")
        if rule.id is None:
            next_seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM fault_rules").fetchone()[0]
            candidate = f"f{next_seq}"
            while db.execute("SELECT 1 FROM fault_rules WHERE id = ?", (candidate,)).fetchone():
                candidate = f"f{next_seq}-{random.randrange(10**6)}"
            rule = rule.model_copy(update={"id": candidate})
        db.execute(
            "INSERT INTO fault_rules (id, rule, source, created_at) VALUES (?, ?, ?, ?)",
            (rule.id, json.dumps(rule.to_json()), source, time.time()),
        )
        return rule

    # -- deciding -----------------------------------------------------------------

    def decide(self, send: SendFacts) -> FaultPlan | None:
        """The faults for ``send``: ``None`` when no rule matches it.

        Rules are tried in order (user rules, then the magic ones); delays add
        up and the first rule that answers or truncates ends the search. A send
        that matches some rule counts as one attempt of its retId.
        """
        candidates = (*self.rules(), *magic_rules_for(send.to))
        matching = [rule for rule in candidates if rule.matches(send)]
        if not matching:
            return None
        now = time.time()

        def work(db: sqlite3.Connection) -> FaultPlan:
            plan = FaultPlan(attempt=self._next_attempt(db, send, now))
            for rule in matching:
                if rule.times is not None and plan.attempt > rule.times:
                    continue
                if rule.probability < 1 and random.random() >= rule.probability:
                    continue
                if self._apply(db, rule, send, plan, now):
                    break
            return plan

        plan = self._write(work)
        plan.delay = min(plan.delay, self.max_seconds)
        return plan

    def _apply(
        self, db: sqlite3.Connection, rule: FaultRule, send: SendFacts, plan: FaultPlan, now: float
    ) -> bool:
        """Apply one rule to ``plan``; true when it ends the search."""
        entry: dict[str, Any] = {"rule": rule.id, "action": rule.action, "attempt": plan.attempt}
        if rule.delay is not None:
            seconds = random.uniform(*rule.delay) if isinstance(rule.delay, tuple) else rule.delay
            seconds = round(min(seconds, self.max_seconds), 3)
            plan.delay += seconds
            plan.entries.append({**entry, "seconds": seconds})
            return False
        if rule.rate_limit is not None:
            key = send.namespace if rule.rate_limit.per == "namespace" else (send.login or "")
            retry_after = self._take_slot(db, rule, key, now)
            if retry_after is None:
                return False
            plan.rule, plan.retry_after = rule, retry_after
            plan.entries.append({**entry, "status": 429, "retryAfter": retry_after, "key": key})
            return True
        plan.rule = rule
        if rule.status is not None:
            plan.retry_after = rule.retry_after
            entry["status"] = rule.status
        if rule.truncate is not None:
            entry["bodyBytes"] = "half" if rule.truncate is True else rule.truncate
        if rule.hang is not None:
            entry["limit"] = (
                self.max_seconds if rule.hang is True else min(rule.hang, self.max_seconds)
            )
        plan.entries.append(entry)
        return True

    @staticmethod
    def _next_attempt(db: sqlite3.Connection, send: SendFacts, now: float) -> int:
        if send.ret_id is None:
            return 1
        row = db.execute(
            "INSERT INTO fault_attempts (namespace, ret_id, attempts, last_at) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (namespace, ret_id) DO UPDATE SET attempts = attempts + 1, "
            "last_at = excluded.last_at RETURNING attempts, rowid",
            (send.namespace, send.ret_id, now),
        ).fetchone()
        if int(row[1]) % 500 == 0:
            db.execute(
                "DELETE FROM fault_attempts WHERE last_at < ?", (now - _ATTEMPTS_KEPT_SECONDS,)
            )
        return int(row[0])

    @staticmethod
    def _take_slot(db: sqlite3.Connection, rule: FaultRule, key: str, now: float) -> int | None:
        """Take a slot of a sliding window; ``None`` when free, else the seconds
        until the oldest slot frees (the Retry-After)."""
        assert rule.rate_limit is not None and rule.id is not None
        limit, window = rule.rate_limit.limit, rule.rate_limit.window
        db.execute(
            "DELETE FROM fault_slots WHERE rule_id = ? AND key = ? AND at <= ?",
            (rule.id, key, now - window),
        )
        used, oldest = db.execute(
            "SELECT count(*), min(at) FROM fault_slots WHERE rule_id = ? AND key = ?",
            (rule.id, key),
        ).fetchone()
        if used < limit:
            db.execute(
                "INSERT INTO fault_slots (rule_id, key, at) VALUES (?, ?, ?)", (rule.id, key, now)
            )
            return None
        return max(1, math.ceil(oldest + window - now))
