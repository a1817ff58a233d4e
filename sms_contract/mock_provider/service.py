"""The service layer: one ``ProviderState`` per app owns the configuration, the one
SQLite database, the inbox and the fault store, and offers the operations every
front calls (the send pipeline, the admin API, the web UI and the pytest fixture).

No HTTP here, and no SQL outside ``storage``: a front asks for an operation, and
the state runs it so that every front gets the same effect (clearing the inbox
from the UI resets the same attempt counts as ``DELETE /api/messages``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sms_contract.exceptions import MagicRuleProtected
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.faults.magic import MAGIC
from sms_contract.mock_provider.faults.rules import (
    FaultPlan,
    FaultRule,
    SendFacts,
    parse_rule,
    start_rules,
)
from sms_contract.mock_provider.limits import Slots
from sms_contract.mock_provider.storage.database import SharedDatabase
from sms_contract.mock_provider.storage.faults import FaultStore
from sms_contract.mock_provider.storage.inbox import (
    Inbox,
    MessageFilter,
    Received,
    Respond,
    Stored,
)
from sms_contract.mock_provider.storage.sessions import SessionStore
from sms_contract.mock_provider.verify_runs import WebRuns


class ProviderState:
    """The fake provider's state and operations; safe to share between threads."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.database = SharedDatabase(
            config.db_path, sync="FULL" if config.sync == "full" else "NORMAL"
        )
        self.inbox = Inbox(self.database, max_messages=config.max_messages)
        self.faults = FaultStore(self.database, max_seconds=config.fault_max_seconds)
        #: Web UI sign-ins, known to every worker.
        self.sessions = SessionStore(self.database)
        #: Checker runs started from the web (``verify_runs``), known to every worker.
        self.verify_runs = WebRuns(self.database, config)
        #: Open event streams and waits of this process (``max_streams``, ``max_waits``).
        self.streams = Slots(config.max_streams)
        self.waits = Slots(config.max_waits)

    def close(self) -> None:
        """Close every connection this state opened."""
        self.database.close()

    def install_start_rules(self) -> None:
        """Replace every fault rule and count with the configuration's rules, and mark
        the verify runs a previous server left running as interrupted (a server
        start; call once, before serving)."""
        config = self.config
        rules = start_rules(config.faults_file, config.faults, max_seconds=config.fault_max_seconds)
        self.faults.replace_all(rules)
        self.verify_runs.interrupt_all()

    # -- sends ----------------------------------------------------------------------

    def plan_faults(self, facts: SendFacts) -> FaultPlan | None:
        """The faults that apply to a send (``None`` when no rule matches it)."""
        return self.faults.decide(facts)

    def record(self, item: Received, respond: Respond) -> tuple[Stored, dict[str, Any]]:
        """Store a send and its answer; return once committed (see ``Inbox.record``)."""
        return self.inbox.record(item, respond)

    def add_upstream(self, message_id: int, namespace: str, attempt: dict[str, Any]) -> None:
        """Record a forwarded attempt's upstream answer on its entry, and count it."""
        self.inbox.add_upstream(message_id, namespace, attempt)

    def cancel_forwarding(self, message_id: int) -> None:
        """A stored send will not be forwarded after all: the entry is not pending."""
        self.inbox.cancel_forwarding(message_id)

    def interrupt_forwarding(self, attempt: dict[str, Any]) -> int:
        """Close the entries a stopped proxy left pending with ``attempt``; how many."""
        return self.inbox.interrupt_forwarding(attempt)

    def update_faults(self, message_id: int, entries: Sequence[dict[str, Any]]) -> None:
        """Replace the faults recorded on a message (an outcome known after the answer)."""
        self.inbox.set_faults(message_id, entries)

    # -- reading the inbox ----------------------------------------------------------

    def messages(self, where: MessageFilter) -> tuple[list[dict[str, Any]], int]:
        """The messages matching ``where``, newest first, and how many match in all."""
        return self.inbox.find(where)

    def overview(self, where: MessageFilter) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The messages matching ``where``, newest first, and how many match its other
        filters by status (``all``, ``accepted``, ``rejected``)."""
        return self.inbox.overview(where)

    def message(self, message_id: int) -> dict[str, Any] | None:
        """One message by id."""
        return self.inbox.get(message_id)

    def wait(self, ret_id: str, namespace: str | None, timeout: float) -> dict[str, Any] | None:
        """The first message with ``ret_id`` as soon as any worker stored it, or ``None``."""
        return self.inbox.wait(ret_id, namespace, timeout)

    def namespaces(self) -> list[str]:
        """Every namespace that holds messages."""
        return self.inbox.namespaces()

    def counters(self) -> list[dict[str, Any]]:
        """Monotonic counts per namespace (they survive pruning and clearing)."""
        return self.inbox.counters()

    def upstream_counters(self) -> list[dict[str, Any]]:
        """Monotonic counts of a proxy's upstream answers per namespace and outcome."""
        return self.inbox.upstream_counters()

    def changes(self) -> int:
        """A number that changes whenever any worker commits (for live views)."""
        return self.database.commits()

    # -- clearing -------------------------------------------------------------------

    def clear(self, namespace: str | None = None) -> int:
        """Delete the messages (of ``namespace`` when given) and start the fault
        counts again: attempt counts and rate-limit slots (docs/faults.md).
        Return how many messages were deleted."""

        def work(db: Any, _batch: dict[str, Any]) -> int:
            deleted = self.inbox.delete(db, namespace)
            self.faults.forget_counts(db, namespace)
            return deleted

        return self.database.write(work)

    # -- fault rules ----------------------------------------------------------------

    def fault_rules(self, namespace: str | None = None) -> list[FaultRule]:
        """The user rules in the order they are tried (those scoped to ``namespace``)."""
        return [r for r in self.faults.rules() if namespace is None or r.namespace == namespace]

    def fault_rule(self, rule_id: str) -> FaultRule | None:
        """One rule by id, the magic ones included."""
        return next((r for r in (*self.faults.rules(), *MAGIC) if r.id == rule_id), None)

    def add_fault(self, data: Mapping[str, Any]) -> FaultRule:
        """Validate and store one rule after the others; ``RuleError`` names every
        field at fault, ``DuplicateRuleId`` a taken id."""
        return self.faults.add(parse_rule(data, max_seconds=self.faults.max_seconds))

    def remove_fault(self, rule_id: str) -> bool:
        """Delete one rule; whether it existed. ``MagicRuleProtected`` for a magic one."""
        if any(rule.id == rule_id for rule in MAGIC):
            raise MagicRuleProtected(rule_id)
        return self.faults.remove(rule_id)

    def clear_faults(self, namespace: str | None = None) -> int:
        """Delete every rule (those scoped to ``namespace`` when given); return how many."""
        return self.faults.clear(namespace)

    # -- verify runs (the web's checker) ----------------------------------------------

    def start_verify_run(self, request: Mapping[str, Any], client: str) -> str:
        """Check and start a verify run for ``client`` (its address); the run's id.
        Refused with ``InvalidRunInput``, ``VerifyBusy``, ``Unreachable`` (``TargetRefused``)
        or ``TlsFailure``; see ``verify_runs.WebRuns.start``."""
        return self.verify_runs.start(request, client)

    def verify_run(self, run_id: str, checks_from: int = 0) -> dict[str, Any] | None:
        """One verify run (its checks from position ``checks_from``), from any worker."""
        return self.verify_runs.get(run_id, checks_from)

    def list_verify_runs(
        self, client: str, limit: int = 100, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """The verify runs ``client`` may see, newest first, and how many in all."""
        return self.verify_runs.find(client, limit, offset)
