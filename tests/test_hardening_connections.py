"""Connections that try to hold ``sms-contract serve`` (gevent workers), over real
sockets: event streams, idle sockets, slow heads and trickled bodies, each bounded,
and valid sends answered meanwhile. The full-scale figures are in ``make bench``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from helpers.attacks import AttackMix, Mix, probe_sends
from helpers.raw_http import RawConnection, serve_process

pytestmark = pytest.mark.slow

HEAD_SECONDS = 2
BODY_SECONDS = 3
STREAMS = 3
WAITS = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One worker, so the per-process caps are exact; small deadlines and caps."""
    state = tmp_path_factory.mktemp("hardening")
    options = ["--head-timeout", str(HEAD_SECONDS), "--body-timeout", str(BODY_SECONDS)]
    options += ["--read-timeout", "2", "--max-streams", str(STREAMS), "--max-waits", str(WAITS)]
    with serve_process(state, *options, workers=1, tls=True) as base_url:
        yield base_url, state / "tls" / "ca.pem"


def _problem(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_valid_sends_answer_within_2_s_while_streams_idle_sockets_slow_heads_and_bodies_hold_on(
    served,
):
    base_url, ca = served
    mix = Mix(streams=3 * STREAMS, idle=40, slow_heads=10, slow_bodies=10, pause=0.5)
    with AttackMix(base_url, mix, ca) as attack:
        time.sleep(1.5)  # every attacker connected and holding
        probe = probe_sends(base_url, 10, ca, limit=2.0)
        assert attack.opened >= 60
    assert probe.answered_within(2.0) == 10, probe


def test_a_request_head_sent_a_line_at_a_time_is_cut_off_with_a_408_at_the_head_deadline(served):
    base_url, ca = served
    with RawConnection(base_url, str(ca), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(b"POST /sms HTTP/1.1\r\n")
        for number in range(20):
            time.sleep(0.4)
            try:
                connection.sendall(f"X-Slow-{number}: x\r\n".encode())
            except OSError:
                break
        answer = connection.read_all(timeout=10)
    assert time.monotonic() - started < HEAD_SECONDS + 3
    status, problem = _problem(answer.data)
    assert status == 408
    assert problem["type"].endswith("/head-timeout")


def test_an_idle_connection_is_closed_at_the_head_deadline(served):
    base_url, _ca = served
    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=HEAD_SECONDS + 5) as sock:
        started = time.monotonic()
        while sock.recv(65536):
            pass  # whatever the server says, it must then close
        assert time.monotonic() - started < HEAD_SECONDS + 3


def test_a_body_trickled_a_byte_at_a_time_is_cut_off_with_a_408_at_the_total_body_deadline(
    served,
):
    base_url, ca = served
    head = (
        b"POST /sms HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    with RawConnection(base_url, str(ca), timeout=15) as connection:
        connection.sendall(head)
        started = time.monotonic()
        for _ in range(40):  # a byte every 0.25 s: no pause is long, the whole is
            time.sleep(0.25)
            try:
                connection.sendall(b" ")
            except OSError:
                break
            if time.monotonic() - started > BODY_SECONDS + 1:
                break
        answer = connection.read_all(timeout=10)
    status, problem = _problem(answer.data)
    assert status == 408
    assert problem["violations"][0]["code"] == "body_timeout"
    assert time.monotonic() - started < BODY_SECONDS + 5


def _open_stream(base_url: str, ca: Path) -> requests.Response:
    return requests.get(f"{base_url}/api/events", stream=True, verify=str(ca), timeout=10)


def test_event_streams_past_the_cap_get_a_503_with_retry_after_and_polling_still_works(served):
    base_url, ca = served
    held = [_open_stream(base_url, ca) for _ in range(STREAMS)]
    try:
        assert all(stream.status_code == 200 for stream in held)
        refused = _open_stream(base_url, ca)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"].isdigit()
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/over-capacity")
        polled = requests.get(f"{base_url}/api/events?once=1", verify=str(ca), timeout=10)
        assert polled.status_code == 200
        assert "messages" in polled.json()
    finally:
        for stream in held:
            stream.close()


def test_waits_past_the_cap_get_a_503_with_retry_after(served):
    base_url, ca = served

    def wait(ret_id: str) -> requests.Response:
        params = {"retId": ret_id, "timeout": 3}
        return requests.get(
            f"{base_url}/api/messages/wait", params=params, verify=str(ca), timeout=10
        )

    with ThreadPoolExecutor(WAITS) as pool:
        holding = [pool.submit(wait, f"never-{n}") for n in range(WAITS)]
        time.sleep(1.0)
        refused = wait("one-too-many")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"].isdigit()
        assert [f.result().status_code for f in holding] == [404] * WAITS


def test_an_idle_keep_alive_connection_does_not_hold_a_graceful_stop(tmp_path: Path) -> None:
    state = tmp_path / "state"
    session = requests.Session()  # keeps its connection open after the request
    with serve_process(state, "--head-timeout", "60", workers=1, tls=True) as base_url:
        assert session.get(base_url + "/healthz", verify=str(state / "tls" / "ca.pem")).ok
        stopping = time.monotonic()
    # serve_process sends SIGTERM and waits; the idle connection must not make it
    # wait the 60 s head deadline (nor be killed after 20 s).
    assert time.monotonic() - stopping < 12
    session.close()
