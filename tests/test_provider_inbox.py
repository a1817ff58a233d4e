"""The inbox's write path: group commit, retries, conflicts and counters under threads."""

from __future__ import annotations

import fcntl
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sms_contract.mock_provider.storage.database import (
    GroupCommit,
    ProcessLock,
    SharedDatabase,
    _Job,
)
from sms_contract.mock_provider.storage.inbox import (
    Inbox,
    MessageFilter,
    Received,
    Stored,
    accepted_answer,
)


def received(ret_id: str, text: str = "hello", namespace: str = "n") -> Received:
    """An accepted send as the endpoint hands it to the inbox."""
    payload = {"retId": ret_id, "to": "+33612345678", "type": "MARKETING", "text": text}
    return Received(
        namespace=namespace,
        status="accepted",
        http_status=200,
        body="{}",
        body_hash=f"{ret_id}:{text}",
        payload=payload,
    )


def answer(_item: Received, stored: Stored) -> dict[str, Any]:
    return {"id": stored.id, "duplicate": stored.duplicate, "conflict": stored.conflict}


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    database = SharedDatabase(tmp_path / "inbox.sqlite3")
    yield Inbox(database)
    database.close()


def test_concurrent_sends_and_retries_from_many_threads_are_each_stored_once(inbox):
    results: list[tuple[str, Stored]] = []
    lock = threading.Lock()

    def sender(worker: int) -> None:
        for index in range(60):
            ret_id = f"r-{(worker * 60 + index) % 400}"  # 480 sends, 80 of them retries
            stored, _ = inbox.record(received(ret_id), answer)
            with lock:
                results.append((ret_id, stored))

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids: dict[str, set[int]] = {}
    for ret_id, stored in results:
        ids.setdefault(ret_id, set()).add(stored.id)
    assert len(ids) == 400 and all(len(found) == 1 for found in ids.values())
    assert sum(stored.duplicate for _, stored in results) == 80
    messages, total = inbox.find(MessageFilter(limit=1000))
    assert total == 400
    assert sum(m["attempts"] for m in messages) == 480
    (counts,) = inbox.counters()
    assert (counts["received"], counts["accepted"], counts["duplicates"]) == (480, 480, 80)


def test_the_stored_answer_carries_the_id_the_row_got(inbox):
    refused = replace(received("a"), status="rejected", http_status=422)
    first, response = inbox.record(refused, answer)
    second, _ = inbox.record(received("b"), answer)
    assert second.id == first.id + 1
    assert inbox.get(first.id)["response"] == response
    assert inbox.get(second.id)["response"] == accepted_answer(second.id, "b", None, [])


def test_an_accepted_send_stores_no_payload_nor_answer_but_its_views_show_both(inbox, tmp_path):
    item = replace(received("v"), body='{"retId":"v","credits":2}', payload={"retId": "v"})
    stored, _ = inbox.record(item, answer)
    with sqlite3.connect(tmp_path / "inbox.sqlite3") as db:
        assert db.execute("SELECT payload, response FROM messages").fetchall() == [(None, None)]
    view = inbox.get(stored.id)
    assert view["payload"] == {"retId": "v", "credits": 2}
    assert view["response"] == accepted_answer(stored.id, "v", 2, [])


def test_a_retry_with_another_body_is_stored_as_a_rejected_conflict(inbox):
    first, _ = inbox.record(received("same", "one"), answer)
    item = received("same", "two")
    conflict, response = inbox.record(item, answer)
    assert conflict.conflict and conflict.id != first.id
    assert response["conflict"] is True
    row = inbox.get(conflict.id)
    assert row["status"] == "rejected" and row["httpStatus"] == 409
    assert row["violations"][0]["code"] == "ret_id_conflict"
    assert inbox.get(first.id)["attempts"] == 1


def test_work_that_fails_is_undone_alone_and_the_rest_of_its_batch_is_committed(tmp_path):
    path = tmp_path / "db.sqlite3"
    database = SharedDatabase(path)
    Inbox(database)  # creates the schema
    database.close()

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    commits = GroupCommit(tmp_path / "db.lock", connect)

    def insert(db: sqlite3.Connection, _shared: dict[str, Any]) -> int:
        return db.execute("INSERT INTO counters (namespace) VALUES ('kept')").rowcount

    def fail(db: sqlite3.Connection, _shared: dict[str, Any]) -> int:
        db.execute("INSERT INTO counters (namespace) VALUES ('undone')")
        raise RuntimeError("the disk is full")

    good, bad = _Job(insert), _Job(fail)
    commits._commit([good, bad])  # one transaction for both, as under load
    assert good.outcome() == 1
    with pytest.raises(RuntimeError, match="disk is full"):
        bad.outcome()
    names = commits.run(lambda db, _: db.execute("SELECT namespace FROM counters").fetchall())
    assert [name for (name,) in names] == ["kept"]
    commits.close()


def test_the_faults_of_every_attempt_stay_on_the_one_entry(inbox):
    first = replace(received("f"), faults=({"rule": "a"},))
    stored, _ = inbox.record(first, answer)
    retry = replace(received("f"), faults=({"rule": "b"},))
    inbox.record(retry, answer)
    assert inbox.get(stored.id)["faults"] == [{"rule": "a"}, {"rule": "b"}]
    inbox.set_faults(stored.id, [{"rule": "c"}])
    assert inbox.get(stored.id)["faults"] == [{"rule": "c"}]


def _counts(inbox: Inbox) -> dict[str, tuple[int, int, int, int]]:
    return {
        c["namespace"]: (c["received"], c["accepted"], c["rejected"], c["duplicates"])
        for c in inbox.counters()
    }


def test_counters_stay_monotonic_across_pruning_and_clearing(tmp_path):
    database = SharedDatabase(tmp_path / "inbox.sqlite3")
    inbox = Inbox(database, max_messages=3)
    for index in range(5):
        inbox.record(received(f"a{index}", namespace="a"), answer)
    inbox.record(received("a4", namespace="a"), answer)  # a retry
    inbox.record(replace(received("b0", namespace="b"), status="rejected"), answer)
    expected = {"a": (6, 6, 0, 1), "b": (1, 0, 1, 0)}
    assert _counts(inbox) == expected
    assert inbox.find(MessageFilter())[1] < 6  # the oldest were pruned
    database.write(lambda db, _: inbox.delete(db, "a"))
    assert _counts(inbox) == expected
    database.write(lambda db, _: inbox.delete(db))
    assert _counts(inbox) == expected
    inbox.record(received("a9", namespace="a"), answer)
    assert _counts(inbox)["a"] == (7, 7, 0, 1)
    database.close()


def test_an_older_inbox_file_keeps_its_counts_once_rows_are_counted_when_read(tmp_path):
    path = tmp_path / "inbox.sqlite3"
    database = SharedDatabase(path)
    inbox = Inbox(database)
    inbox.record(received("x"), answer)
    inbox.record(replace(received("y"), status="rejected"), answer)
    database.close()
    # As the version before wrote it: a trigger counted each new row, and the
    # unique index had no status column.
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX messages_accepted")
        db.execute(
            "CREATE UNIQUE INDEX messages_accepted_ret_id ON messages (namespace, ret_id) "
            "WHERE status = 'accepted'"
        )
        db.execute(
            "CREATE TRIGGER count_new_message AFTER INSERT ON messages BEGIN "
            "INSERT INTO counters (namespace, received, accepted, rejected) "
            "VALUES (NEW.namespace, 1, NEW.status = 'accepted', NEW.status = 'rejected') "
            "ON CONFLICT (namespace) DO UPDATE SET received = received + 1, "
            "accepted = accepted + excluded.accepted, rejected = rejected + excluded.rejected; END"
        )
        db.execute(
            "UPDATE counters SET received = received + 2, accepted = accepted + 1, "
            "rejected = rejected + 1"
        )
    database = SharedDatabase(path)
    inbox = Inbox(database)
    assert _counts(inbox) == {"n": (2, 1, 1, 0)}
    inbox.record(received("z"), answer)
    assert _counts(inbox) == {"n": (3, 2, 1, 0)}
    assert inbox.record(received("z", "another body"), answer)[0].conflict
    database.close()
    with sqlite3.connect(path) as db:
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "messages_accepted" in indexes and "messages_accepted_ret_id" not in indexes


def test_the_wal_starts_again_while_two_processes_write_without_pause(tmp_path):
    # Two databases on one file stand for two workers, each with its writer and
    # its checkpointing thread. A checkpoint beside the writers never caught up:
    # the WAL grew by every commit. Holding the writers' lock, it copies every
    # frame, and the next writer starts the WAL again from its beginning.
    path = tmp_path / "inbox.sqlite3"
    databases = [SharedDatabase(path), SharedDatabase(path)]
    inboxes = [Inbox(database) for database in databases]
    sends = 4000

    def write(worker: int) -> None:
        for index in range(sends):
            inboxes[worker].record(received(f"{worker}-{index}"), answer)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sqlite3.connect(path) as db:
        frame = db.execute("PRAGMA page_size").fetchone()[0] + 24
    # Every commit writes several frames; a WAL never started again would hold them all.
    assert path.with_name(path.name + "-wal").stat().st_size < 2 * sends * frame
    assert inboxes[0].find(MessageFilter(limit=0))[1] == 2 * sends
    for database in databases:
        database.close()


def test_the_overview_counts_by_status_from_indexes_alone(tmp_path):
    database = SharedDatabase(tmp_path / "inbox.sqlite3")
    inbox = Inbox(database)
    for index in range(3):
        inbox.record(received(f"a{index}", namespace="a"), answer)
    inbox.record(replace(received("r", namespace="a"), status="rejected"), answer)
    inbox.record(received("b", namespace="b"), answer)
    rows, counts = inbox.overview(MessageFilter(namespace="a", status="rejected"))
    assert [row["retId"] for row in rows] == ["r"]
    assert counts == {"all": 4, "accepted": 3, "rejected": 1}
    assert inbox.overview(MessageFilter())[1] == {"all": 5, "accepted": 4, "rejected": 1}
    assert inbox.namespaces() == ["a", "b"]
    # Counting reads a partial index, never the table (a scan at 100,000 rows).
    with database.reading() as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT (SELECT count(*) FROM messages WHERE status = 'accepted'), "
            "(SELECT count(*) FROM messages WHERE namespace = 'a' AND status = 'rejected')"
        ).fetchall()
    database.close()
    steps = [step[3] for step in plan if "messages" in step[3]]
    assert len(steps) == 2 and all("COVERING INDEX" in step for step in steps), steps


def _steps_of_one_send(inbox: Inbox, database: SharedDatabase, ret_id: str) -> int:
    """SQLite virtual-machine steps (in hundreds) the writer takes to store one send."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    database.write(lambda db, _: db.set_progress_handler(count, 100))
    inbox.record(received(ret_id), answer)
    database.write(lambda db, _: db.set_progress_handler(None, 100))
    return steps[0]


def test_pruning_at_the_cap_reads_the_pruned_rows_not_the_whole_inbox(tmp_path):
    database = SharedDatabase(tmp_path / "inbox.sqlite3")
    small, large = Inbox(database, max_messages=50), Inbox(database, max_messages=3000)
    for index in range(3050):
        large.record(received(f"fill-{index}"), answer)
    # Each send past the cap deletes the oldest message: its cost must not grow
    # with the messages kept (it did: the fold scanned an index of all of them).
    at_large_cap = _steps_of_one_send(large, database, "past-large-cap")
    database.write(lambda db, _: small.delete(db))
    for index in range(60):
        small.record(received(f"small-{index}"), answer)
    at_small_cap = _steps_of_one_send(small, database, "past-small-cap")
    assert at_large_cap <= at_small_cap + 5
    database.close()


def test_a_writer_finding_the_lock_taken_pauses_longer_each_time_until_it_is_free(tmp_path):
    holder, writer = ProcessLock(tmp_path / "db.lock"), ProcessLock(tmp_path / "db.lock")
    holder.acquire()  # another process committing
    pauses: list[float] = []

    def pause(seconds: float) -> None:  # gevent's sleep serves other connections here
        pauses.append(seconds)
        if len(pauses) == 4:
            holder.release()

    writer.acquire(pause=pause)
    assert len(pauses) == 4 and pauses == sorted(pauses) and pauses[0] < pauses[-1]
    with open(tmp_path / "db.lock") as third, pytest.raises(BlockingIOError):
        fcntl.flock(third, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the writer holds it now
    writer.release()
    for lock in (holder, writer):
        lock.close()


def test_sends_queued_while_another_process_holds_the_lock_share_the_next_commit(tmp_path):
    path = tmp_path / "inbox.sqlite3"
    database = SharedDatabase(path)
    inbox = Inbox(database)
    inbox.record(received("first"), answer)
    other_process = ProcessLock(path.with_name(path.name + ".lock"))
    other_process.acquire()
    senders = [
        threading.Thread(target=inbox.record, args=(received(f"queued-{n}"), answer))
        for n in range(5)
    ]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 10
    while len(database._commits._queue) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    before = database.commits()
    other_process.release()
    for sender in senders:
        sender.join()
    assert database.commits() == before + 1
    assert inbox.find(MessageFilter(limit=0))[1] == 6
    other_process.close()
    database.close()


_GREENLETS_SENDING = """
from gevent import monkey

monkey.patch_all()

import sys
from pathlib import Path

import gevent

from sms_contract.mock_provider.storage.database import SharedDatabase
from sms_contract.mock_provider.storage.inbox import Inbox, MessageFilter, Received

database = SharedDatabase(Path(sys.argv[1]))
inbox = Inbox(database)
before = database.commits()


def send(n):
    payload = {"retId": f"g-{n}", "to": "+33612345678", "type": "MARKETING", "text": "hi"}
    item = Received(
        namespace="n", status="accepted", http_status=200, body="{}", body_hash=f"g-{n}",
        payload=payload,
    )
    inbox.record(item, lambda _item, stored: {"id": stored.id})


gevent.joinall([gevent.spawn(send, n) for n in range(10)])
print(database.commits() - before, inbox.find(MessageFilter(limit=0))[1])
database.close()
"""


def test_under_gevent_the_sends_of_a_workers_connections_share_a_commit(tmp_path):
    # A worker serves every connection in one thread: a leader committing at
    # once would store each send alone. It lets the greenlets ready to run queue.
    script = tmp_path / "greenlets.py"
    script.write_text(_GREENLETS_SENDING)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "inbox.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["1", "10"]


def test_an_id_is_never_given_twice_even_once_the_newest_messages_are_deleted(tmp_path):
    database = SharedDatabase(tmp_path / "inbox.sqlite3")
    inbox = Inbox(database)
    inbox.record(received("a"), answer)
    newest = inbox.record(received("b", namespace="other"), answer)[0].id
    database.write(lambda db, _: inbox.delete(db, "other"))
    after_namespace = inbox.record(received("c"), answer)[0].id
    database.write(lambda db, _: inbox.delete(db))
    after_clear = inbox.record(received("d"), answer)[0].id
    assert (after_namespace, after_clear) == (newest + 1, newest + 2)
    database.close()


def test_an_older_inbox_file_with_autoincrement_is_rebuilt_keeping_rows_ids_and_counts(tmp_path):
    path = tmp_path / "inbox.sqlite3"
    database = SharedDatabase(path)
    inbox = Inbox(database)
    for ret_id in ("x", "y", "z"):
        inbox.record(received(ret_id), answer)
    inbox.record(received("z"), answer)  # a retry
    database.close()
    # As the version before wrote it: ids from AUTOINCREMENT, whose sequence
    # went further than the rows left (the newest had been deleted).
    with sqlite3.connect(path) as db:
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'messages'").fetchone()
        db.execute(
            sql.replace("messages (", "messages_old (", 1).replace(
                "PRIMARY KEY", "PRIMARY KEY AUTOINCREMENT", 1
            )
        )
        db.execute("INSERT INTO messages_old SELECT * FROM messages")
        db.execute("DROP TABLE messages")
        db.execute("ALTER TABLE messages_old RENAME TO messages")
        db.execute("UPDATE sqlite_sequence SET seq = 7 WHERE name = 'messages'")
        db.execute("DROP TABLE message_ids")
    database = SharedDatabase(path)
    inbox = Inbox(database)
    with sqlite3.connect(path) as db:
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'messages'").fetchone()
        indexes = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "AUTOINCREMENT" not in sql.upper()
    assert {"messages_accepted", "messages_namespace", "messages_ret_id"} <= indexes
    assert [m["retId"] for m in inbox.find(MessageFilter())[0]] == ["z", "y", "x"]
    assert inbox.get(3)["attempts"] == 2  # the retry trigger counts on the new table
    assert _counts(inbox) == {"n": (4, 4, 0, 1)}
    assert inbox.record(received("w"), answer)[0].id == 8
    assert inbox.record(received("z"), answer)[0].duplicate
    assert _counts(inbox) == {"n": (6, 6, 0, 2)}
    database.close()
