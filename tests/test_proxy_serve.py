"""``sms-contract proxy`` for real, in front of ``sms-contract serve`` (gunicorn, gevent
workers, HTTPS both ways): the guide's two-terminal example as written, and 2,000
sends at once with none lost or duplicated on either side."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import shlex
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.raw_http import free_port, serve_process, stop_process
from helpers.scripted_server import RecordedRequest, Reply, ScriptedServer
from helpers.sends import sms

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "proxy.md").read_text(encoding="utf-8")
SMS_CONTRACT = str(Path(sys.executable).with_name("sms-contract"))
START_TIMEOUT = 60.0


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


@contextmanager
def running(command: list[str], cwd: Path, health: str, ca: Path) -> Iterator[None]:
    """``command`` in the background in ``cwd`` until the block ends; up once ``health``
    answers (trusting ``ca``, which the command creates)."""
    log = (cwd / f"{command[1]}.log").open("wb")
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, (cwd / f"{command[1]}.log").read_text()
            assert time.monotonic() < deadline, f"{command[1]} did not start"
            try:
                if requests.get(health, verify=str(ca), timeout=2).ok:
                    break
            except (requests.ConnectionError, OSError):
                time.sleep(0.1)
        yield
    finally:
        stop_process(process)
        log.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the guide's example uses curl")
def test_the_guides_two_terminal_example_works_as_written(tmp_path: Path) -> None:
    serve_block, proxy_block, curl_block = sh_blocks(GUIDE)[:3]
    ports = {"9443": str(free_port()), "8443": str(free_port())}

    def as_run(text: str) -> str:
        for documented, free in ports.items():
            text = text.replace(documented, free)
        return text.strip()

    serve_command = shlex.split(as_run(serve_block))
    proxy_command = shlex.split(as_run(proxy_block))
    assert (serve_command[1], proxy_command[1]) == ("serve", "proxy")
    serve_command[0] = proxy_command[0] = SMS_CONTRACT
    serve_ca = tmp_path / ".state" / "tls" / "ca.pem"
    proxy_ca = tmp_path / ".state" / "proxy" / "tls" / "ca.pem"
    with (
        running(serve_command, tmp_path, f"https://127.0.0.1:{ports['9443']}/healthz", serve_ca),
        running(proxy_command, tmp_path, f"https://127.0.0.1:{ports['8443']}/healthz", proxy_ca),
    ):
        send = as_run(curl_block).split("\n# ")[0]
        answer = subprocess.run(
            ["bash", "-c", send], cwd=tmp_path, capture_output=True, text=True, timeout=30
        )
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout) == {
            "id": 1,
            "retId": "proxy-1",
            "status": "accepted",
            "credits": 1,
        }
        inbox = requests.get(
            f"https://127.0.0.1:{ports['8443']}/api/messages", verify=str(proxy_ca), timeout=10
        ).json()
        upstream_inbox = requests.get(
            f"https://127.0.0.1:{ports['9443']}/api/messages", verify=str(serve_ca), timeout=10
        ).json()
    (message,) = inbox["messages"]
    assert (message["status"], message["violations"]) == ("accepted", [])
    assert message["upstreamOutcome"] == "accepted"
    (attempt,) = message["upstream"]
    assert (attempt["status"], json.loads(attempt["body"])["retId"]) == (200, "proxy-1")
    (received,) = upstream_inbox["messages"]
    assert received["body"] == message["body"]


def test_one_gevent_worker_waits_for_many_upstreams_at_once_and_cuts_each_at_the_timeout(
    tmp_path: Path,
) -> None:
    def script(request: RecordedRequest) -> Reply:
        slow = "slow" in request.json()["text"]
        return Reply(200, json={"ok": True}, delay=10.0 if slow else 1.0)

    with (
        ScriptedServer(script) as upstream,
        serve_process(
            tmp_path / "proxy", "--upstream", upstream.url, "--upstream-timeout", "3",
            workers=1, command="proxy",
        ) as base,
        ThreadPoolExecutor(24) as pool,
    ):  # fmt: skip

        def send(text: str) -> tuple[int, float]:
            started = time.monotonic()
            answer = requests.post(f"{base}/sms", json=sms(text), timeout=60)
            return answer.status_code, time.monotonic() - started

        started = time.monotonic()
        answers = list(pool.map(send, ["slow answer"] * 4 + ["quick answer"] * 20))
        took = time.monotonic() - started
    # Each waits in a greenlet of its own: together they take about the longest one.
    assert [status for status, _ in answers] == [504] * 4 + [200] * 20
    assert all(3 <= seconds < 6 for _, seconds in answers[:4])
    assert took < 6


# -- load -----------------------------------------------------------------------------

SENDS = 2000
#: Open connections the test needs: its own sends, the proxy's in and out, serve's in.
FILES_NEEDED = 4 * SENDS + 1000


def raise_file_limit() -> None:
    """Let this process (and the servers it starts) open a few thousand sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= FILES_NEEDED:
        return
    if hard != resource.RLIM_INFINITY and hard < FILES_NEEDED:
        pytest.skip(f"{SENDS} connections at once need {FILES_NEEDED} open files (hard {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_NEEDED, hard))


async def send_all(port: int, ca: str, path: str, bodies: list[dict[str, Any]]) -> list[bytes]:
    """Open one TLS connection per body, then POST every body at once; every answer
    read to the end."""
    context = ssl.create_default_context(cafile=ca)

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname="localhost"
        )

    async def send(
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], body: dict[str, Any]
    ) -> bytes:
        reader, writer = stream
        data = json.dumps(body).encode("utf-8")
        head = (
            f"POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        writer.write(head.encode("ascii") + data)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer

    streams = await asyncio.gather(*(connect() for _ in bodies))
    sending = asyncio.gather(
        *(send(stream, body) for stream, body in zip(streams, bodies, strict=True))
    )
    return await asyncio.wait_for(sending, timeout=240)


def listing(base: str, ca: str, namespace: str) -> list[dict[str, Any]]:
    """Every message of ``namespace``, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        page = requests.get(
            f"{base}/api/messages",
            params={"namespace": namespace, "limit": 1000, "offset": len(found)},
            verify=ca,
            timeout=60,
        ).json()["messages"]
        if not page:
            return found
        found += page


def metric(base: str, ca: str, line_start: str) -> int:
    for line in requests.get(f"{base}/metrics", verify=ca, timeout=30).text.splitlines():
        if line.startswith(line_start + " "):
            return int(line.rsplit(" ", 1)[1])
    return 0


def test_2000_sends_at_once_through_the_proxy_are_each_recorded_once_on_both_sides(
    tmp_path: Path,
) -> None:
    raise_file_limit()
    namespace = f"load-{uuid.uuid4().hex[:8]}"
    bodies = [sms(retId=f"{namespace}-{number}") for number in range(SENDS)]
    # Generous deadlines: this checks that nothing is lost or doubled, not how fast
    # 2 workers on a small machine shake hands 4,000 times.
    slow_ok = ("--head-timeout", "120")
    with serve_process(tmp_path / "serve", *slow_ok, tls=True) as upstream_base:
        upstream_ca = str(tmp_path / "serve" / "tls" / "ca.pem")
        proxy_options = [
            "--upstream",
            f"{upstream_base.replace('localhost', '127.0.0.1')}/ns/{namespace}/sms",
            "--upstream-cacert",
            upstream_ca,
            "--upstream-timeout",
            "120",
            *slow_ok,
        ]
        with serve_process(tmp_path / "proxy", *proxy_options, tls=True, command="proxy") as base:
            proxy_ca = str(tmp_path / "proxy" / "tls" / "ca.pem")
            port = int(base.rsplit(":", 1)[1])
            started = time.monotonic()
            answers = asyncio.run(send_all(port, proxy_ca, f"/ns/{namespace}/sms", bodies))
            seconds = time.monotonic() - started
            proxied = listing(base, proxy_ca, namespace)
            received = listing(upstream_base, upstream_ca, namespace)
            counted = metric(
                base,
                proxy_ca,
                f'sms_contract_upstream_total{{namespace="{namespace}",outcome="accepted"}}',
            )
            duplicates = metric(
                upstream_base,
                upstream_ca,
                f'sms_contract_duplicates_total{{namespace="{namespace}"}}',
            )
    statuses = Counter(answer.split(b" ", 2)[1] for answer in answers)
    assert statuses == {b"200": SENDS}, statuses
    answered = [json.loads(answer.partition(b"\r\n\r\n")[2]) for answer in answers]
    assert [a["retId"] for a in answered] == [b["retId"] for b in bodies]
    assert len({a["id"] for a in answered}) == SENDS  # the upstream's ids, one each
    expected = sorted(body["retId"] for body in bodies)
    assert sorted(m["retId"] for m in proxied) == expected
    assert sorted(m["retId"] for m in received) == expected
    assert {m["attempts"] for m in proxied} == {m["attempts"] for m in received} == {1}
    assert {(m["upstreamOutcome"], len(m["upstream"])) for m in proxied} == {("accepted", 1)}
    assert {m["upstream"][0]["status"] for m in proxied} == {200}
    assert (counted, duplicates) == (SENDS, 0)
    print(f"{SENDS} proxied sends at once in {seconds:.1f} s")
