"""``sms-contract serve`` for real: gunicorn, 2 gthread workers, HTTPS, a subprocess.

Load (20,000 sends from 32 threads), a kill -9 of the whole process group, a
graceful SIGTERM, and the body-reading rules on gunicorn's own sockets.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.raw_http import free_port
from helpers.sends import sms as valid_sms

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "serve-admin-token"
LOGIN, PASSWORD = "inocx", "s3cret with a space"
#: Bounds on waiting (never assertions on speed): start-up and shutdown.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclass
class Served:
    """A running ``sms-contract serve`` process group."""

    process: subprocess.Popen[bytes]
    port: int
    state_dir: Path

    @property
    def base_url(self) -> str:
        """The HTTPS root URL."""
        return f"https://localhost:{self.port}"

    @property
    def ca(self) -> str:
        """The local CA the server printed in its banner."""
        return str(self.state_dir / "tls" / "ca.pem")

    @property
    def db_path(self) -> Path:
        """The inbox file."""
        return self.state_dir / "inbox.sqlite3"

    def api(self, path: str, **params: Any) -> requests.Response:
        """GET an admin or operations path with the admin token."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return requests.get(
            self.base_url + path, params=params, headers=headers, verify=self.ca, timeout=30
        )

    def kill(self, sig: int) -> None:
        """Send ``sig`` to the master and every worker (one process group)."""
        os.killpg(self.process.pid, sig)


def start_serve(state_dir: Path, *extra: str) -> Served:
    """Start ``sms-contract serve`` in its own process group; return once /healthz answers."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("sms-contract")), "serve"]
    command += ["--port", str(port), "--state-dir", str(state_dir), "--workers", "2"]
    command += ["--admin-token", ADMIN_TOKEN, *extra]
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "serve.log", "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    served = Served(process, port, state_dir)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_text = (state_dir / "serve.log").read_text(errors="replace")
            raise AssertionError(f"serve exited with {process.returncode}:\n{log_text}")
        try:
            if requests.get(served.base_url + "/healthz", verify=served.ca, timeout=5).ok:
                return served
        except (requests.ConnectionError, OSError):
            pass
        time.sleep(0.05)
    served.kill(signal.SIGKILL)
    raise AssertionError(f"serve did not answer /healthz within {START_TIMEOUT:g} s")


def stop(served: Served) -> None:
    """Make sure nothing of ``served`` is left running."""
    if served.process.poll() is None:
        served.kill(signal.SIGKILL)
        served.process.wait(STOP_TIMEOUT)


def sms(ret_id: str) -> dict[str, Any]:
    """A valid payload with ``ret_id``."""
    return valid_sms("Votre code de confirmation est 482913", retId=ret_id)


def metric(served: Served, name: str, namespace: str) -> int:
    """One counter of /metrics for ``namespace``."""
    wanted = f'sms_contract_{name}_total{{namespace="{namespace}"}} '
    for line in served.api("/metrics").text.splitlines():
        if line.startswith(wanted):
            return int(line[len(wanted) :])
    return 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One real server for the load test and the socket tests: strict auth, 1 s read timeout."""
    state_dir = tmp_path_factory.mktemp("serve")
    served = start_serve(
        state_dir,
        *("--auth", "strict", "--credential", f"{LOGIN}:{PASSWORD}", "--read-timeout", "1"),
    )
    yield served
    stop(served)


# -- load ------------------------------------------------------------------------------------

SENDS = 20_000
UNIQUE = 18_000  # the last 2,000 sends are retries of earlier retIds
THREADS = 32


def test_20000_sends_from_32_threads_are_each_recorded_once_and_counted(server):
    namespace = f"load-{uuid.uuid4().hex[:8]}"
    url = f"{server.base_url}/ns/{namespace}/sms"
    local = threading.local()

    def send(index: int) -> tuple[str, int, int]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        ret_id = f"r-{index % UNIQUE}"
        answer = session.post(
            url, json=sms(ret_id), auth=(LOGIN, PASSWORD), verify=server.ca, timeout=60
        )
        return ret_id, answer.status_code, answer.json()["id"]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(send, range(SENDS), chunksize=50))

    assert Counter(status for _, status, _ in results) == {200: SENDS}
    ids_per_ret_id: dict[str, set[int]] = {}
    for ret_id, _, message_id in results:
        ids_per_ret_id.setdefault(ret_id, set()).add(message_id)
    assert len(ids_per_ret_id) == UNIQUE
    assert all(len(ids) == 1 for ids in ids_per_ret_id.values())

    db = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT ret_id, count(*), sum(attempts), min(status) FROM messages "
            "WHERE namespace = ? GROUP BY ret_id",
            (namespace,),
        ).fetchall()
    finally:
        db.close()
    assert len(rows) == UNIQUE
    assert {ret_id for ret_id, *_ in rows} == set(ids_per_ret_id)
    assert all(count == 1 and status == "accepted" for _, count, _, status in rows)
    assert sum(attempts for _, _, attempts, _ in rows) == SENDS

    assert server.api("/api/messages", namespace=namespace, limit=1).json()["total"] == UNIQUE
    assert metric(server, "received", namespace) == SENDS
    assert metric(server, "accepted", namespace) == SENDS
    assert metric(server, "duplicates", namespace) == SENDS - UNIQUE
    assert metric(server, "rejected", namespace) == 0


def test_a_password_with_a_space_given_on_the_command_line_is_kept_whole(server):
    url = server.base_url + "/sms"
    assert requests.get(url, auth=(LOGIN, PASSWORD), verify=server.ca, timeout=10).ok
    wrong = requests.get(url, auth=(LOGIN, "s3cret"), verify=server.ca, timeout=10)
    assert wrong.status_code == 401


def test_serve_enforces_the_admin_token_given_on_the_command_line(server):
    url = server.base_url + "/api/messages"
    refused = requests.get(url, verify=server.ca, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert server.api("/api/messages").status_code == 200
    assert requests.get(server.base_url + "/healthz", verify=server.ca, timeout=10).ok


# -- gunicorn's sockets ----------------------------------------------------------------------


def tls_exchange(served: Served, data: bytes, *, half_close: bool) -> tuple[int, dict[str, Any]]:
    """Send raw bytes over TLS; return the status and the JSON body of the answer.

    ``half_close`` ends the TCP stream under TLS (a ragged EOF, as a client that
    stops), yet still reads the answer.
    """
    context = ssl.create_default_context(cafile=served.ca)
    with (
        socket.create_connection(("127.0.0.1", served.port), timeout=20) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as client,
    ):
        client.sendall(data)
        if half_close:
            socket.socket.shutdown(client, socket.SHUT_WR)  # keeps the TLS session for reading
        received = b""
        while chunk := client.recv(65536):
            received += chunk
            if _complete(received):
                break
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body[: _content_length(head)])


def _content_length(head: bytes) -> int:
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value)
    raise AssertionError(f"no Content-Length in {head!r}")


def _complete(received: bytes) -> bool:
    head, separator, body = received.partition(b"\r\n\r\n")
    return bool(separator) and len(body) >= _content_length(head)


def raw_post(body: bytes, *, length: int) -> bytes:
    """A POST to /sms with credentials and an explicit Content-Length."""
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    head = (
        f"POST /sms HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    return head.encode() + body


BODY = json.dumps(sms("raw-serve")).encode()


def test_gunicorn_answers_408_when_the_body_stalls_past_the_read_timeout(server):
    status, problem = tls_exchange(server, raw_post(BODY, length=len(BODY) + 40), half_close=False)
    assert status == 408
    assert problem["violations"][0]["code"] == "body_timeout"


def test_a_kept_alive_connection_waits_the_keep_alive_time_not_the_read_timeout(server):
    # The server's read timeout is 1 s, its keep-alive 5 s: a client that sends its
    # next request 2 s after an answer must still be served on the same connection.
    context = ssl.create_default_context(cafile=server.ca)
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as client,
    ):
        statuses = []
        for ret_id in ("kept-alive-1", "kept-alive-2"):
            body = json.dumps(sms(ret_id)).encode()
            client.sendall(raw_post(body, length=len(body)))
            received = b""
            while not _complete(received):
                chunk = client.recv(65536)
                assert chunk, "the server closed the kept-alive connection"
                received += chunk
            statuses.append(int(received.split(b" ", 2)[1]))
            time.sleep(2)
    assert statuses == [200, 200]


def test_gunicorn_answers_400_when_the_body_ends_before_its_content_length(server):
    status, problem = tls_exchange(server, raw_post(BODY, length=len(BODY) + 40), half_close=True)
    assert status == 400
    assert problem["violations"][0]["code"] == "incomplete_body"


def test_gunicorn_answers_413_for_a_declared_body_over_the_limit(server):
    status, problem = tls_exchange(server, raw_post(b"{}", length=10_000_000), half_close=False)
    assert status == 413
    assert problem["violations"][0]["code"] == "too_large"


# -- crash and shutdown ----------------------------------------------------------------------


def test_a_kill_9_of_the_whole_server_loses_no_acknowledged_send(tmp_path):
    served = start_serve(tmp_path)
    namespace = "crash"
    url = f"{served.base_url}/ns/{namespace}/sms"
    acknowledged: list[str] = []
    enough = threading.Event()
    lock = threading.Lock()

    def keep_sending(worker: int) -> None:
        session = requests.Session()
        for index in range(100_000):
            ret_id = f"w{worker}-{index}"
            try:
                answer = session.post(url, json=sms(ret_id), verify=served.ca, timeout=10)
            except requests.RequestException:
                return  # the server is gone
            if answer.status_code == 200:
                with lock:
                    acknowledged.append(ret_id)
                    if len(acknowledged) >= 600:
                        enough.set()

    senders = [threading.Thread(target=keep_sending, args=(i,)) for i in range(8)]
    try:
        for sender in senders:
            sender.start()
        assert enough.wait(120), "the server stopped acknowledging sends"
        served.kill(signal.SIGKILL)
        for sender in senders:
            sender.join(30)
        assert served.process.wait(STOP_TIMEOUT) == -signal.SIGKILL
    finally:
        stop(served)

    restarted = start_serve(tmp_path)
    try:
        stored = restarted.api("/api/messages", namespace=namespace, limit=1000).json()
        pages = [stored["messages"]]
        for offset in range(1000, stored["total"], 1000):
            page = restarted.api("/api/messages", namespace=namespace, limit=1000, offset=offset)
            pages.append(page.json()["messages"])
        recorded = {m["retId"] for page in pages for m in page if m["status"] == "accepted"}
        missing = set(acknowledged) - recorded
        assert not missing, f"{len(missing)} acknowledged sends lost, e.g. {sorted(missing)[:5]}"
        retry = requests.post(
            f"{restarted.base_url}/ns/{namespace}/sms",
            json=sms(acknowledged[0]),
            verify=restarted.ca,
            timeout=10,
        )
        assert retry.json()["duplicate"] is True
    finally:
        stop(restarted)


def test_sigterm_stops_master_and_workers_gracefully_with_exit_code_0(tmp_path):
    served = start_serve(tmp_path)
    try:
        answer = requests.post(
            served.base_url + "/sms", json=sms("before-term"), verify=served.ca, timeout=10
        )
        assert answer.status_code == 200
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(STOP_TIMEOUT) == 0
        assert group_gone(served.process.pid, within=2.0), "a worker outlived its master"
    finally:
        stop(served)


def group_gone(group: int, *, within: float) -> bool:
    """Whether no process is left in ``group`` (a worker the master reaped may
    take a moment to leave the process table under load)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
