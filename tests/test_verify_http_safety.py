"""``verify`` never sends credentials over plain http, and gives up on a silent endpoint
(unreachable, exit 3) after at most two timeouts. Over real sockets."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from helpers.reports import read_report
from helpers.scripted_server import tls_context
from helpers.silent_server import SilentServer
from helpers.verify_cli import CREDENTIALS, ENV, LOGIN, TO, run_verify

from sms_contract.contract_tests.catalogue import CATALOGUE
from sms_contract.contract_tests.probes import SILENT_TIMEOUTS, RequestSpec, Target
from sms_contract.core.credentials import basic_authorization
from sms_contract.exceptions import CredentialsInClear
from sms_contract.sender.transport import plain_http_refusal

CLEAR = "so the credentials do not travel in clear"


def _checks(path: Path) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in read_report(path)["checks"]}


def test_plain_http_never_carries_the_credentials_and_the_skipped_checks_say_why(
    scripted_server, tmp_path
):
    server = scripted_server(tls=False)
    report = tmp_path / "r.json"
    result = run_verify(server.url, "--to", TO, *CREDENTIALS, "--json", str(report), env=ENV)
    assert result.exit_code == 1, result.output
    assert server.requests, "the checks without credentials still ran"
    assert [r.headers.get("Authorization") for r in server.requests] == [None] * len(
        server.requests
    )
    checks = _checks(report)
    assert checks["tls.https"]["status"] == "fail"
    skipped = [i for i, c in checks.items() if CLEAR in c["summary"]]
    assert {checks[i]["status"] for i in skipped} == {"skip"}
    assert {"auth.accepted", "payload.notification", "connection.test"} <= set(skipped)
    assert "--allow-http" in checks["payload.notification"]["summary"]
    assert checks["auth.required"]["status"] == "fail"  # sent without credentials: accepted


def test_plain_http_to_loopback_with_allow_http_sends_the_credentials(scripted_server, tmp_path):
    server = scripted_server(tls=False)
    report = tmp_path / "r.json"
    args = (server.url, "--to", TO, *CREDENTIALS, "--allow-http", "--json", str(report))
    result = run_verify(*args, env=ENV)
    sent = {r.headers.get("Authorization") for r in server.requests}
    assert basic_authorization(LOGIN, ENV["VERIFY_PW"]) in sent, result.output
    checks = _checks(report)
    assert checks["tls.https"]["status"] == "fail"
    assert not [i for i, c in checks.items() if CLEAR in c["summary"]]


def test_allow_http_never_sends_credentials_to_a_host_that_is_not_loopback(tmp_path):
    report = tmp_path / "r.json"
    args = ("http://sms.example.com/sms", "--to", TO, *CREDENTIALS, "--allow-http", "--dry-run")
    result = run_verify(*args, "--json", str(report), env=ENV)
    assert result.exit_code == 0
    summary = _checks(report)["payload.notification"]["summary"]
    assert CLEAR in summary and "allowed only to a local test server" in summary


def test_without_a_login_plain_http_checks_go_on_since_nothing_secret_is_sent(scripted_server):
    server = scripted_server(tls=False)
    result = run_verify(server.url, "--to", TO, "--only", "payload.notification")
    assert result.exit_code == 0, result.output
    assert [r.method for r in server.requests] == ["POST"]


def test_the_target_refuses_to_send_credentials_when_told_they_would_travel_in_clear():
    target = Target(
        "http://sms.example.com/sms", login=LOGIN, password="pw", credentials_refused="plain http"
    )
    with pytest.raises(CredentialsInClear):
        target.send(RequestSpec("post", "POST", body={"to": TO}))
    assert target.sent == 0


@pytest.mark.parametrize(
    ("url", "allowed", "refused"),
    [
        ("https://sms.example.com/", False, False),
        ("http://127.0.0.1:8080/sms", True, False),
        ("http://[::1]/sms", True, False),
        ("http://localhost/sms", True, False),
        ("http://127.0.0.1:8080/sms", False, True),
        ("http://sms.example.com/sms", True, True),
        ("http://10.0.0.1/sms", True, True),
    ],
)
def test_plain_http_is_allowed_only_to_loopback_and_only_when_asked(url, allowed, refused):
    assert (plain_http_refusal(url, allow_http_loopback=allowed) is not None) is refused


# -- a server that accepts connections and never answers ------------------------------------

TIMEOUT = 0.5


def _silent_run(server: SilentServer, *args: str) -> tuple[Any, float]:
    started = time.monotonic()
    result = run_verify(server.url, "--to", TO, "--timeout", str(TIMEOUT), *args, env=ENV)
    return result, time.monotonic() - started


def test_a_silent_http_server_is_unreachable_after_at_most_two_timeouts(tmp_path):
    report = tmp_path / "r.json"
    with SilentServer() as server:
        result, elapsed = _silent_run(server, *CREDENTIALS, "--allow-http", "--json", str(report))
        requests = len(server.received)
    assert result.exit_code == 3, result.output
    assert "UNREACHABLE" in result.stdout and "answered none of 2 request(s)" in result.stdout
    assert requests <= SILENT_TIMEOUTS == 2
    # Two timeouts and a little work; at the default 10 s that is about 20 s.
    assert elapsed < SILENT_TIMEOUTS * TIMEOUT + 4
    checks = _checks(report)
    assert [c for c in checks] == [spec.id for spec in CATALOGUE]
    assert checks["validation.no-5xx"]["summary"].startswith("unreachable: ")


def test_a_server_that_completes_tls_and_never_answers_is_unreachable_too(tls_ca, ca_bundle):
    with SilentServer(ssl_context=tls_context(tls_ca)) as server:
        args = ("--cacert", str(ca_bundle), "--skip", "tls.legacy-refused")
        result, elapsed = _silent_run(server, *args)
        requests = len(server.received)
    assert result.exit_code == 3, result.output
    assert "answered none of 2 request(s)" in result.stdout
    assert requests <= SILENT_TIMEOUTS
    assert elapsed < SILENT_TIMEOUTS * TIMEOUT + 4


def test_a_silent_http_server_without_allow_http_is_unreachable_and_never_sees_credentials():
    with SilentServer() as server:
        result, elapsed = _silent_run(server, *CREDENTIALS)
        received = list(server.received)
    assert result.exit_code == 3, result.output
    assert "answered none of 1 request(s)" in result.stdout
    assert len(received) == 1 and b"authorization" not in received[0].lower()
    assert elapsed < TIMEOUT + 4
