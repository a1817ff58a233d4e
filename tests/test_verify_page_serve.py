"""The verify page's runs under ``sms-contract serve`` (gunicorn, gevent workers): a run is
known to every process, holds up no send, is marked interrupted by a restart; a server
bound off loopback checks public endpoints only; the password stays out of its files."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.raw_http import serve_process
from helpers.scripted_server import Reply
from helpers.sends import sms as valid_sms
from helpers.verify_cli import LOGIN, PASSWORD, TO
from helpers.verify_page import follow_run, run_body, start_run
from verify_servers import Served, provider_fixture, tls_files_fixture  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow

#: How long the slow endpoint takes per answer: a run against it lasts.
SLOW_ANSWER_SECONDS = 3.0


def slow_body(scripted_server: Any, ca_bundle: Path) -> tuple[Any, dict[str, Any]]:
    server = scripted_server(default=Reply(200, json={"id": "m1"}, delay=SLOW_ANSWER_SECONDS))
    return server, {"url": server.url, "to": TO, "cacert": ca_bundle.read_text(encoding="utf-8")}


def test_a_run_started_through_one_server_process_is_followed_through_another(
    tmp_path: Path, provider: Callable[..., Served]
) -> None:
    target = provider()
    state = tmp_path / "state"
    # Two servers on one state directory: one database, as the workers of one server.
    with serve_process(state, workers=1) as first, serve_process(state, workers=1) as second:
        started = start_run(first, run_body(target))
        assert started.status_code == 202, started.text
        run, batches = follow_run(second, started.json()["id"])
        assert run["status"] == "done" and run["verdict"]["outcome"] == "pass"
        assert sum(len(batch) for batch in batches) == run["total"]
        report = requests.get(second + run["links"]["json"], timeout=10)
        assert report.json()["verdict"]["outcome"] == "pass"


def test_a_run_holds_up_no_send(tmp_path: Path, scripted_server: Any, ca_bundle: Path) -> None:
    endpoint, body = slow_body(scripted_server, ca_bundle)
    with serve_process(tmp_path / "state", workers=1) as base:
        run_id = start_run(base, body).json()["id"]
        took = []
        for _ in range(5):
            began = time.monotonic()
            answer = requests.post(f"{base}/sms", json=valid_sms(), timeout=30)
            took.append(time.monotonic() - began)
            assert answer.status_code == 200
        run = requests.get(f"{base}/api/verify/runs/{run_id}", timeout=10).json()
        assert run["status"] == "running", "the sends went out while the run waited"
        # One worker, a run waiting 3 s on each answer: a send that waited for it would
        # take that long.
        assert max(took) < SLOW_ANSWER_SECONDS / 2, took
        endpoint.stop()
        assert follow_run(base, run_id)[0]["status"] == "done"


def test_a_restart_marks_the_run_under_way_interrupted(
    tmp_path: Path, scripted_server: Any, ca_bundle: Path
) -> None:
    _endpoint, body = slow_body(scripted_server, ca_bundle)
    state = tmp_path / "state"
    with serve_process(state, workers=1) as base:
        run_id = start_run(base, body).json()["id"]
        assert requests.get(f"{base}/api/verify/runs/{run_id}", timeout=10).json()["status"] == (
            "running"
        )
    with serve_process(state, workers=1) as base:
        run = requests.get(f"{base}/api/verify/runs/{run_id}", timeout=10).json()
        assert run["status"] == "interrupted"
        assert run["reason"] in (
            "the server restarted before the end of the run",
            "the server stopped before the end of the run",
        )
        page = requests.get(f"{base}/verify/runs/{run_id}", timeout=10).text
        assert "Interrupted:" in page
        report = requests.get(f"{base}/api/verify/runs/{run_id}/report.html", timeout=10)
        assert report.status_code == 409


def test_a_server_bound_off_loopback_checks_public_endpoints_only(
    tmp_path: Path, provider: Callable[..., Served]
) -> None:
    target = provider()
    state = tmp_path / "state"
    with serve_process(state, "--host", "0.0.0.0", workers=1) as base:
        refused = start_run(base, run_body(target))
        assert refused.status_code == 422
        assert refused.json()["detail"] == (
            "localhost (127.0.0.1) is a loopback address: this checker reaches public "
            "addresses only"
        )
    assert target.recorded.requests == []
    banner = state.with_name(state.name + ".log").read_text(encoding="utf-8")
    assert "checks public endpoints only" in banner


def test_the_password_stays_out_of_the_servers_log_and_database(
    tmp_path: Path, provider: Callable[..., Served]
) -> None:
    state = tmp_path / "state"
    with serve_process(state, "--access-log", workers=1) as base:
        started = start_run(base, run_body(provider("echo-secrets")))
        run, _batches = follow_run(base, started.json()["id"])
        assert run["status"] == "done"
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode())
    files = [state.with_name(state.name + ".log"), *state.glob("inbox.sqlite3*")]
    for path in files:
        content = path.read_bytes()
        assert PASSWORD.encode() not in content and token.rstrip(b"=") not in content, path
