"""Driving ``/api/verify/runs`` in tests: start a run, follow it as the page does."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from helpers.verify_cli import LOGIN, PASSWORD, TO

#: The longest a test waits for a run to end (a full run against a local provider
#: takes a few seconds; a slow one up to a minute).
RUN_WAIT_SECONDS = 90.0


def run_body(target: Any, **fields: Any) -> dict[str, Any]:
    """A run of every check against ``target`` (a served test provider: ``url``, ``ca``)
    with the test number and credentials and its CA, ``fields`` overriding."""
    assert target.ca is not None
    body = {
        "url": target.url,
        "to": TO,
        "login": LOGIN,
        "password": PASSWORD,
        "cacert": Path(target.ca).read_text(encoding="utf-8"),
    }
    return {**body, **fields}


def start_run(base_url: str, body: dict[str, Any], **kwargs: Any) -> requests.Response:
    """``POST /api/verify/runs`` with ``body`` as JSON."""
    kwargs.setdefault("timeout", 60)
    return requests.post(f"{base_url}/api/verify/runs", json=body, **kwargs)


def follow_run(base_url: str, run_id: str, **kwargs: Any) -> tuple[dict[str, Any], list[list[str]]]:
    """Poll a run as the page does (``from`` = the checks seen) until it is over; the
    last answer and, per poll, the ids of the checks it brought."""
    kwargs.setdefault("timeout", 30)
    seen = 0
    batches: list[list[str]] = []
    deadline = time.monotonic() + RUN_WAIT_SECONDS
    while time.monotonic() < deadline:
        answer = requests.get(
            f"{base_url}/api/verify/runs/{run_id}", params={"from": seen}, **kwargs
        )
        assert answer.status_code == 200, answer.text
        run: dict[str, Any] = answer.json()
        assert run["checksFrom"] == seen
        batches.append([check["id"] for check in run["checks"]])
        seen += len(run["checks"])
        if run["status"] != "running":
            return run, batches
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still running after {RUN_WAIT_SECONDS} s")


def post_from(
    base_url: str, source: str, path: str, body: dict[str, Any]
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST ``body`` as JSON from the local address ``source`` (``127.0.0.2``): another
    client, as the server counts them. Plain http to a server on 127.0.0.1 only."""
    parts = urlsplit(base_url)
    assert parts.scheme == "http" and parts.port
    connection = http.client.HTTPConnection(
        "127.0.0.1", parts.port, timeout=60, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), json.loads(answer.read())
    finally:
        connection.close()
