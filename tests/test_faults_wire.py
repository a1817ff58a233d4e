"""Faults below HTTP, seen from a raw socket, on werkzeug's server (HTTPS and HTTP)
and on real gunicorn workers; and what must hold across two gunicorn workers."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from helpers.raw_http import RemoteServer, post_raw, serve_process
from helpers.sends import FR, post, sms

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.testing import SmsProvider

FAULTS_FILE = """\
faults:
  - id: file-418
    namespace: from-file
    status: 418
    detail: from the faults file
"""


def payload(to=FR, **fields):
    return sms("hello", to=to, **fields)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """``sms-contract serve`` with two gunicorn workers, a faults file and a 2 s fault limit."""
    state = tmp_path_factory.mktemp("serve")
    (state / "faults.yaml").write_text(FAULTS_FILE)
    options = ("--faults", str(state / "faults.yaml"), "--fault-max-seconds", "2")
    with serve_process(state, *options, workers=2) as base_url:
        yield RemoteServer(base_url, ProviderConfig(db_path=state / "inbox.sqlite3"))


@pytest.fixture(params=["werkzeug-https", "werkzeug-http", "gunicorn-http"])
def provider(request, make_sms_provider):
    """A fresh namespace on each kind of server."""
    if request.param == "gunicorn-http":
        server = request.getfixturevalue("gunicorn")
        return SmsProvider(server, f"t-{uuid.uuid4().hex[:12]}")  # type: ignore[arg-type]
    return make_sms_provider(tls=request.param == "werkzeug-https")


def raw(provider, body, timeout=5.0, close=False):
    return post_raw(provider.url, body, ca_bundle=provider.ca_bundle, timeout=timeout, close=close)


def faults_of_last(provider):
    (message,) = provider.messages()
    return message


# -- every server ------------------------------------------------------------------


def test_reset_aborts_the_connection_with_a_tcp_reset_and_no_byte(provider):
    answer = raw(provider, payload(to="+447700900001"))
    assert (answer.ending, answer.data) == ("reset", b"")
    message = faults_of_last(provider)
    assert (message["httpStatus"], message["faults"][0]["action"]) == (0, "reset")
    assert post(provider, payload()).status_code == 200  # the server serves on


def test_empty_closes_the_connection_without_any_byte(provider):
    answer = raw(provider, payload(to="+447700900002"))
    assert (answer.ending, answer.data) == ("eof", b"")
    assert faults_of_last(provider)["faults"][0]["action"] == "empty"


def test_truncate_sends_the_status_line_and_headers_then_part_of_the_body(provider):
    answer = raw(provider, payload(to="+447700900003"))
    assert answer.ending == "eof"
    assert answer.head.startswith(b"HTTP/1.1 200 ")
    declared = int(answer.header("Content-Length") or 0)
    assert 0 < len(answer.body) < declared
    assert len(answer.body) == declared // 2
    assert faults_of_last(provider)["status"] == "accepted"


def test_truncate_to_zero_bytes_sends_the_headers_only(provider):
    provider.add_fault(truncate=0, to=FR)
    answer = raw(provider, payload())
    assert answer.head.startswith(b"HTTP/1.1 200 ") and answer.body == b""
    assert int(answer.header("Content-Length") or 0) > 0


def test_hang_holds_the_connection_until_the_client_gives_up(provider):
    answer = raw(provider, payload(to="+447700900004"), timeout=0.5)
    assert (answer.ending, answer.data) == ("timeout", b"")
    deadline = time.monotonic() + 10
    while "endedBy" not in (entry := faults_of_last(provider)["faults"][0]):
        assert time.monotonic() < deadline, "the server never saw the client leave"
        time.sleep(0.05)
    assert entry["endedBy"] == "client"
    assert post(provider, payload()).status_code == 200


def test_hang_ends_at_the_rule_s_limit_with_a_close_and_no_byte(provider):
    provider.add_fault(hang=1, to=FR)
    answer = raw(provider, payload(), timeout=10)
    assert (answer.ending, answer.data) == ("eof", b"")
    assert 0.9 <= answer.seconds < 9
    assert faults_of_last(provider)["faults"][0]["endedBy"] == "server-limit"


def test_a_status_fault_is_a_whole_http_answer_on_the_wire(provider):
    answer = raw(provider, payload(to="+447700900503"), close=True)
    assert answer.ending == "eof" and answer.head.startswith(b"HTTP/1.1 503 ")
    assert len(answer.body) == int(answer.header("Content-Length") or -1)


# -- two gunicorn workers --------------------------------------------------------------


def fresh_connection_post(url, body):
    """One send on its own connection, so the sends spread over the workers."""
    return requests.post(url, json=body, headers={"Connection": "close"}, timeout=30)


def test_the_rate_limit_is_exact_across_two_gunicorn_workers(gunicorn):
    provider = SmsProvider(gunicorn, f"rl-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    provider.add_fault(rate_limit={"limit": 5, "window": 60})
    bodies = [payload() for _ in range(30)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda body: fresh_connection_post(provider.url, body), bodies))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] * 5 + [429] * 25
    waits = [int(a.headers["Retry-After"]) for a in answers if a.status_code == 429]
    assert all(1 <= wait <= 60 for wait in waits)
    assert len(provider.accepted()) == 5
    assert len(provider.rejected()) == 25


def test_a_rule_added_through_the_api_applies_in_every_worker(gunicorn):
    provider = SmsProvider(gunicorn, f"all-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    with provider.fault(status=503):
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(
                pool.map(lambda b: fresh_connection_post(provider.url, b), [payload()] * 12)
            )
        assert {answer.status_code for answer in answers} == {503}
    assert fresh_connection_post(provider.url, payload()).status_code == 200


def test_fail_twice_counts_the_attempts_of_a_ret_id_across_workers(gunicorn):
    provider = SmsProvider(gunicorn, f"ft-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    body = payload(to="+447700900302")
    codes = [fresh_connection_post(provider.url, body).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_the_rules_of_the_faults_file_apply_from_the_start(gunicorn):
    provider = SmsProvider(gunicorn, "from-file")  # type: ignore[arg-type]
    assert [rule["id"] for rule in provider.faults()] == ["file-418"]
    answer = fresh_connection_post(provider.url, payload())
    assert (answer.status_code, answer.json()["detail"]) == (418, "from the faults file")


def test_the_magic_hang_is_bounded_by_the_server_fault_limit(gunicorn):
    provider = SmsProvider(gunicorn, f"hang-{uuid.uuid4().hex[:8]}")  # type: ignore[arg-type]
    answer = raw(provider, payload(to="+447700900004"), timeout=20)
    assert (answer.ending, answer.data) == ("eof", b"")
    assert 1.8 <= answer.seconds < 15
