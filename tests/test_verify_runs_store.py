"""The verify runs' table (``storage/verify_runs.py``): places counted in one transaction,
runs whose process is gone marked interrupted, old runs pruned, never a password."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sms_contract.exceptions import VerifyBusy
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.storage import verify_runs
from sms_contract.mock_provider.storage.database import SharedDatabase
from sms_contract.mock_provider.storage.verify_runs import RunFilter, VerifyRunStore
from sms_contract.mock_provider.testing import provider_config

REQUEST = {"url": "https://sms.example/", "to": "+33612345678"}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SharedDatabase]:
    db = SharedDatabase(tmp_path / "inbox.sqlite3")
    yield db
    db.close()


def reserve(store: VerifyRunStore, run_id: str, client: str = "192.0.2.1", cap: int = 5) -> None:
    store.reserve(run_id, client=client, request=REQUEST, total=3, max_running=cap)


def dead_pid() -> int:
    """The id of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def set_column(database: SharedDatabase, run_id: str, column: str, value: Any) -> None:
    database.write(
        lambda db, _batch: db.execute(
            f"UPDATE verify_runs SET {column} = ? WHERE id = ?", (value, run_id)
        )
    )


def test_checks_are_appended_in_order_and_read_from_a_position(database: SharedDatabase) -> None:
    store = VerifyRunStore(database, longest_seconds=60)
    reserve(store, "r1")
    for name in ("a", "b", "c"):
        store.add_check("r1", {"id": name})
    run = store.get("r1", checks_from=1)
    assert run is not None
    assert (run["status"], run["done"], run["total"]) == ("running", 3, 3)
    assert [check["id"] for check in run["checks"]] == ["b", "c"]


def test_a_run_whose_process_died_is_interrupted_when_the_next_run_is_reserved(
    database: SharedDatabase,
) -> None:
    store = VerifyRunStore(database, longest_seconds=60)
    reserve(store, "orphan", client="192.0.2.1", cap=1)
    set_column(database, "orphan", "pid", dead_pid())
    reserve(store, "next", client="192.0.2.1", cap=1)  # neither the client's nor the cap's
    orphan = store.get("orphan")
    assert orphan is not None and orphan["status"] == "interrupted"
    assert orphan["reason"] == "the server process running it stopped before the end"


def test_a_run_far_past_the_longest_run_is_interrupted(database: SharedDatabase) -> None:
    store = VerifyRunStore(database, longest_seconds=60)
    reserve(store, "stuck")
    set_column(database, "stuck", "started_at", time.time() - 121)
    reserve(store, "next", client="192.0.2.2")
    stuck = store.get("stuck")
    assert stuck is not None and stuck["reason"] == "not finished within 120 s"


def test_a_late_write_to_an_interrupted_run_changes_nothing(database: SharedDatabase) -> None:
    store = VerifyRunStore(database, longest_seconds=60)
    reserve(store, "r1")
    store.interrupt("r1", "the server stopped")
    store.add_check("r1", {"id": "late"})
    store.finish("r1", {"checks": [{"id": "late"}], "verdict": {"outcome": "pass"}})
    run = store.get("r1")
    assert run is not None
    assert (run["status"], run["checks"], run["report"]) == ("interrupted", [], None)


def test_a_server_start_interrupts_the_runs_a_previous_server_left(tmp_path: Path) -> None:
    config = provider_config(tmp_path)
    before = ProviderState(config)
    reserve(before.verify_runs.store, "left")
    before.close()
    after = ProviderState(config)
    try:
        after.install_start_rules()
        run = after.verify_run("left")
        assert run is not None and run["status"] == "interrupted"
        assert run["reason"] == "the server restarted before the end of the run"
    finally:
        after.close()


def test_old_finished_runs_are_pruned_and_running_ones_kept(
    database: SharedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_runs, "MAX_STORED_RUNS", 3)
    store = VerifyRunStore(database, longest_seconds=60)
    reserve(store, "kept-running", client="192.0.2.99", cap=100)
    for number in range(6):
        reserve(store, f"r{number}", client=f"192.0.2.{number}", cap=100)
        store.interrupt(f"r{number}", "done with")
    runs, total = store.find(RunFilter())
    assert [run["id"] for run in runs] == ["r5", "r4", "r3", "kept-running"]
    assert total == 4


def test_the_cap_counts_every_client(database: SharedDatabase) -> None:
    store = VerifyRunStore(database, longest_seconds=60)
    reserve(store, "a", client="192.0.2.1", cap=2)
    reserve(store, "b", client="192.0.2.2", cap=2)
    with pytest.raises(VerifyBusy) as refused:
        reserve(store, "c", client="192.0.2.3", cap=2)
    assert refused.value.retry_after == 10
    assert store.get("c") is None
