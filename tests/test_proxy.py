"""The proxy in-process (``LiveProvider`` with an upstream): what goes upstream, what
comes back, what is recorded, in observe and block modes, and every way an
upstream can fail, each answered and recorded within the timeout."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.scripted_server import Reply, ScriptedServer
from helpers.sends import FR, post, sms

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.server import prepare
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.storage.inbox import Received
from sms_contract.mock_provider.testing import LiveProvider, SmsProvider, provider_config
from sms_contract.mock_provider.upstream import UpstreamConfig

#: The upstream timeout of these proxies, and the slack allowed past it.
TIMEOUT = 1.0
SLACK = 1.5
LOGIN, PASSWORD = "inocx", "up-s3cret pässword"
CLIENT_LOGIN, CLIENT_PASSWORD = "platform", "client-s3cret"

Proxy = Callable[..., SmsProvider]


@pytest.fixture
def proxy_to(tmp_path: Path) -> Iterator[Proxy]:
    """``proxy_to(url_or_upstream_config, **provider_options)``: a proxy in front of
    it (plain HTTP listener unless ``tls=True``), stopped after the test."""
    started: list[LiveProvider] = []

    def start(upstream: str | UpstreamConfig, tls: bool = False, **options: Any) -> SmsProvider:
        folder = tmp_path / f"proxy-{len(started)}"
        if isinstance(upstream, str):
            upstream = UpstreamConfig(upstream, timeout=TIMEOUT)
        server = LiveProvider(
            provider_config(folder, upstream=upstream, **options),
            tls_dir=folder / "tls" if tls else None,
        )
        started.append(server)
        return server.view()

    yield start
    for server in started:
        server.stop()


def upstream_of(server: ScriptedServer, ca_bundle: Path | None, **options: Any) -> UpstreamConfig:
    return UpstreamConfig(server.url, ca_bundle=ca_bundle, timeout=TIMEOUT, **options)


def only(proxy: SmsProvider) -> dict[str, Any]:
    (message,) = proxy.messages()
    return message


def last_attempt(message: dict[str, Any]) -> dict[str, Any]:
    attempt: dict[str, Any] = message["upstream"][-1]
    return attempt


# -- what goes upstream ---------------------------------------------------------------


def test_the_body_goes_upstream_byte_for_byte_with_its_content_type(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    raw = (
        '{ "type":"NOTIFICATION" ,\n\t"sender": "INOCX", "to":"+33612345678", '
        '"retId": "bytes-1", "isUnicode": true, "text": "Caf\\u00e9 \u00e0 9h \U0001f600", '
        '"credits": 1, "extra": [1.50, 2e0] }'
    ).encode("utf-8")
    content_type = "application/json; charset=UTF-8"
    answer = requests.post(proxy.url, data=raw, headers={"Content-Type": content_type}, timeout=10)
    assert answer.status_code == 200
    (seen,) = upstream.requests
    assert seen.body == raw
    assert seen.headers["Content-Type"] == content_type
    assert seen.headers["Content-Length"] == str(len(raw))
    assert seen.method == "POST" and seen.path == "/sms"
    assert only(proxy)["body"] == raw.decode("utf-8")


def test_end_to_end_headers_go_upstream_and_hop_by_hop_ones_do_not(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    headers = {
        "User-Agent": "ino-cx-platform/7",
        "X-Request-Id": "req-42",
        "Connection": "keep-alive, X-Hop",
        "X-Hop": "only for the proxy",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic cHJveHk6cHJveHk=",
        "TE": "trailers",
    }
    assert post(proxy, sms(), headers=headers).status_code == 200
    (seen,) = upstream.requests
    assert seen.headers["User-Agent"] == "ino-cx-platform/7"
    assert seen.headers["X-Request-Id"] == "req-42"
    for hop in ("X-Hop", "Keep-Alive", "Proxy-Authorization", "Te"):
        assert hop not in seen.headers, hop
    assert seen.headers["Connection"] == "close"  # the proxy's own, one send per connection
    assert seen.headers["Host"] == f"127.0.0.1:{upstream.port}"


def test_the_clients_authorization_is_passed_through_unchanged(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    post(proxy, sms(), auth=(CLIENT_LOGIN, CLIENT_PASSWORD))
    (seen,) = upstream.requests
    token = base64.b64encode(f"{CLIENT_LOGIN}:{CLIENT_PASSWORD}".encode()).decode()
    assert seen.headers["Authorization"] == f"Basic {token}"
    message = only(proxy)
    assert message["headers"]["Authorization"] == "Basic [redacted]"
    assert message["login"] == CLIENT_LOGIN
    assert last_attempt(message)["auth"] == "passed-through"


def test_the_upstream_login_replaces_the_clients_authorization(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    config = upstream_of(upstream, ca_bundle, login=LOGIN, password=PASSWORD)
    proxy = proxy_to(config)
    post(proxy, sms(), auth=(CLIENT_LOGIN, CLIENT_PASSWORD))
    post(proxy, sms())  # no Authorization from the client: the proxy's still goes up
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    assert [seen.headers["Authorization"] for seen in upstream.requests] == [f"Basic {token}"] * 2
    assert [m["upstream"][0]["auth"] for m in proxy.messages()] == ["replaced", "replaced"]


# -- what comes back ------------------------------------------------------------------


def test_the_upstreams_answer_comes_back_unchanged_less_hop_by_hop_headers(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    body = b"queued: 7f3a\n\xe2\x9c\x93"
    reply = Reply(
        222,  # no standard reason phrase: the scripted server says "Scripted"
        body=body,
        headers={
            "Content-Type": "text/plain; charset=utf-8",
            "X-Provider-Id": "7f3a",
            "Keep-Alive": "timeout=99",
            "Cache-Control": "no-store",
        },
    )
    proxy = proxy_to(upstream_of(scripted_server(reply), ca_bundle))
    answer = post(proxy, sms())
    assert (answer.status_code, answer.reason) == (222, "Scripted")
    assert answer.content == body
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers["X-Provider-Id"] == "7f3a"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Length"] == str(len(body))
    assert "Keep-Alive" not in answer.headers
    assert "Transfer-Encoding" not in answer.headers
    attempt = last_attempt(only(proxy))
    assert (attempt["status"], attempt["reason"]) == (222, "Scripted")
    assert (attempt["outcome"], attempt["answered"]) == ("accepted", 222)
    assert attempt["headers"]["X-Provider-Id"] == "7f3a"
    assert attempt["body"] == body.decode("utf-8")
    assert attempt["bodyBytes"] == len(body) and attempt["error"] is None
    assert attempt["elapsedMs"] >= 0 and attempt["insecure"] is False


def test_an_answer_without_content_type_gets_none_from_the_proxy(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    proxy = proxy_to(upstream_of(scripted_server(Reply(200, body=b"OK")), ca_bundle))
    answer = post(proxy, sms())
    assert (answer.status_code, answer.content) == (200, b"OK")
    assert "Content-Type" not in answer.headers


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "accepted"), (400, "permanent"), (401, "permanent"), (429, "retryable"),
     (500, "retryable"), (503, "retryable")],
)  # fmt: skip
def test_each_upstream_status_is_read_as_the_sender_reads_it_and_passed_on(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path, status: int, outcome: str
) -> None:
    reply = Reply(status, json={"status": status}, headers={"Retry-After": "3"})
    proxy = proxy_to(upstream_of(scripted_server(reply), ca_bundle))
    answer = post(proxy, sms())
    assert (answer.status_code, answer.json()) == (status, {"status": status})
    assert answer.headers["Retry-After"] == "3"
    message = only(proxy)
    assert message["status"] == "accepted"  # the verdict stays the contract's
    assert (message["upstreamOutcome"], last_attempt(message)["outcome"]) == (outcome, outcome)


# -- observe and block ----------------------------------------------------------------


def test_observe_mode_forwards_a_send_that_breaks_the_contract_and_records_both(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    accepts_anything = scripted_server()  # answers 200 to whatever it gets
    proxy = proxy_to(upstream_of(accepts_anything, ca_bundle))
    bad = sms(credits=3)
    answer = post(proxy, bad)
    assert answer.status_code == 200  # the upstream's answer, not the verdict
    assert [seen.json() for seen in accepts_anything.requests] == [bad]
    message = only(proxy)
    assert (message["status"], message["httpStatus"]) == ("rejected", 422)
    assert [v["code"] for v in message["violations"]] == ["credits_mismatch"]
    assert message["response"]["status"] == 422  # what serve would have answered
    assert message["upstreamOutcome"] == "accepted"


def test_observe_mode_forwards_unreadable_json_and_a_wrong_media_type_too(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server(default=Reply(400, json={"error": "bad"}))
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    for data, content_type, verdict in (
        (b'{"type": ', "application/json", 400),
        (json.dumps(sms()).encode(), "text/plain", 415),
    ):
        answer = requests.post(
            proxy.url, data=data, headers={"Content-Type": content_type}, timeout=10
        )
        assert answer.status_code == 400, verdict
    assert upstream.requests[0].body == b'{"type": '
    assert sorted(m["httpStatus"] for m in proxy.messages()) == [400, 415]
    assert {m["upstreamOutcome"] for m in proxy.messages()} == {"permanent"}


def test_block_mode_answers_every_refusal_itself_and_forwards_only_valid_sends(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle, block_invalid=True))
    refused = [
        post(proxy, sms(credits=3)),
        requests.post(proxy.url, data=b"{", headers={"Content-Type": "application/json"}),
        requests.post(proxy.url, data=b"{}", headers={"Content-Type": "text/plain"}),
    ]
    assert [answer.status_code for answer in refused] == [422, 400, 415]
    assert refused[0].headers["Content-Type"] == "application/problem+json"
    assert upstream.requests == []
    good = sms()
    assert post(proxy, good).json() == {"id": "msg-1", "status": "accepted"}
    assert [seen.json() for seen in upstream.requests] == [good]
    by_status = {m["httpStatus"]: m for m in proxy.messages()}
    assert [by_status[s]["upstream"] for s in (422, 400, 415)] == [None, None, None]
    assert [by_status[s]["upstreamOutcome"] for s in (422, 400, 415)] == [None, None, None]
    assert by_status[200]["upstreamOutcome"] == "accepted"


def test_block_mode_answers_a_ret_id_conflict_itself(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle, block_invalid=True))
    first = sms()
    post(proxy, first)
    conflict = post(proxy, {**first, "text": "another text"})
    assert conflict.status_code == 409
    assert len(upstream.requests) == 1
    (entry,) = proxy.messages(status="rejected")
    assert (entry["upstream"], entry["upstreamOutcome"]) == (None, None)


def test_a_body_not_read_whole_is_never_forwarded_even_in_observe_mode(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle), max_body_bytes=1024)
    answer = post(proxy, sms(text="x" * 2000))
    assert answer.status_code == 413
    assert upstream.requests == []
    assert only(proxy)["upstream"] is None


# -- faults ---------------------------------------------------------------------------


def test_a_fault_that_answers_never_forwards(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    proxy.add_fault(status=503)
    assert post(proxy, sms()).status_code == 503
    assert post(proxy, sms(to="+447700900503")).status_code == 503  # a magic recipient
    assert upstream.requests == []
    assert [m["upstream"] for m in proxy.messages()] == [None, None]


def test_a_delay_applies_before_forwarding(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    proxy.add_fault(delay=0.4)
    sent = time.monotonic()
    assert post(proxy, sms()).status_code == 200
    (seen,) = upstream.requests
    assert seen.arrived - sent >= 0.4
    assert [f["action"] for f in only(proxy)["faults"]] == ["delay"]


# -- upstream failures ----------------------------------------------------------------


def assert_failure_answered(
    proxy: SmsProvider, status: int, cause: str, upstream_status: int | None = None
) -> dict[str, Any]:
    """Send once; the answer is ``status`` problem+json naming ``cause`` within the
    timeout, and the entry records the error (with the status the upstream gave,
    if any); return the attempt recorded."""
    body = sms()
    started = time.monotonic()
    answer = post(proxy, body)
    assert time.monotonic() - started < TIMEOUT + SLACK
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["cause"] == cause and problem["retId"] == body["retId"]
    assert problem["type"].endswith("/upstream-timeout" if status == 504 else "/upstream-failed")
    message = only(proxy)
    assert (message["status"], message["upstreamOutcome"]) == ("accepted", "error")
    attempt = last_attempt(message)
    assert attempt["status"] == upstream_status and attempt["outcome"] == "error"
    assert attempt["error"] == {"kind": cause, "message": problem["detail"]}
    assert attempt["answered"] == status
    return attempt


def test_a_refused_connection_is_a_502_naming_it(proxy_to: Proxy) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    attempt = assert_failure_answered(proxy_to(f"http://127.0.0.1:{port}/sms"), 502, "refused")
    assert "refused the connection" in attempt["error"]["message"]


def test_a_name_that_does_not_resolve_is_a_502_naming_it(proxy_to: Proxy) -> None:
    attempt = assert_failure_answered(proxy_to("https://no-such-host.invalid/sms"), 502, "dns")
    assert "no-such-host.invalid" in attempt["error"]["message"]


def test_a_certificate_from_an_unknown_ca_is_a_502_that_names_the_cacert_option(
    proxy_to: Proxy, scripted_server: Any
) -> None:
    upstream = scripted_server()
    attempt = assert_failure_answered(proxy_to(upstream.url), 502, "tls")
    assert "--upstream-cacert" in attempt["error"]["message"]
    assert upstream.requests == []


def test_tls_to_a_plain_http_server_is_a_502(proxy_to: Proxy, scripted_server: Any) -> None:
    upstream = scripted_server(tls=False)
    assert_failure_answered(proxy_to(upstream.url.replace("http:", "https:")), 502, "tls")


def test_a_reset_and_a_close_without_answer_are_502s(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    for reply in (Reply(reset=True), Reply(close=True)):
        upstream = scripted_server(reply)
        assert_failure_answered(proxy_to(upstream_of(upstream, ca_bundle)), 502, "reset")


def test_an_upstream_slower_than_the_timeout_is_a_504_at_the_timeout(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server(Reply(200, delay=TIMEOUT + 3))
    started = time.monotonic()
    assert_failure_answered(proxy_to(upstream_of(upstream, ca_bundle)), 504, "timeout")
    assert time.monotonic() - started >= TIMEOUT


@pytest.fixture
def trickling_server() -> Iterator[int]:
    """A server that answers one byte at a time, 0.2 s apart, for ever; its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000:
                    if stop.wait(0.2):
                        return
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(timeout=5)


def test_an_answer_that_trickles_in_is_cut_at_the_timeout(
    proxy_to: Proxy, trickling_server: int
) -> None:
    proxy = proxy_to(f"http://127.0.0.1:{trickling_server}/sms")
    assert_failure_answered(proxy, 504, "timeout")


def test_an_answer_over_the_size_limit_is_a_502(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server(Reply(200, body=b"x" * (1024 * 1024 + 1)))
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    attempt = assert_failure_answered(proxy, 502, "too-large", upstream_status=200)
    assert attempt["body"] == "" and "1048576 bytes" in attempt["error"]["message"]


def test_with_insecure_an_unknown_ca_is_accepted_and_every_record_says_so(
    proxy_to: Proxy, scripted_server: Any
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(UpstreamConfig(upstream.url, insecure=True, timeout=TIMEOUT))
    assert post(proxy, sms()).status_code == 200
    assert last_attempt(only(proxy))["insecure"] is True


# -- recording ------------------------------------------------------------------------


def test_every_forwarded_retry_of_a_ret_id_is_kept_on_its_one_entry(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server(Reply(503), Reply(200, json={"id": "m-9"}))
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    body = sms()
    assert [post(proxy, body).status_code for _ in range(2)] == [503, 200]
    assert len(upstream.requests) == 2
    message = only(proxy)
    assert message["attempts"] == 2
    assert [(a["attempt"], a["status"]) for a in message["upstream"]] == [(1, 503), (2, 200)]
    assert message["upstreamOutcome"] == "accepted"


def test_wait_for_answers_once_the_upstreams_answer_is_recorded(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    proxy = proxy_to(upstream_of(scripted_server(Reply(200, delay=0.5)), ca_bundle))
    body = sms()
    sender = threading.Thread(target=post, args=(proxy, body))
    sender.start()
    try:
        time.sleep(0.2)  # the entry is stored, its upstream answer not yet
        (pending,) = proxy.messages()
        assert (pending["upstreamOutcome"], pending["upstream"]) == ("pending", None)
        message = proxy.wait_for(body["retId"], timeout=5)
    finally:
        sender.join()
    assert message["upstreamOutcome"] == "accepted"
    assert last_attempt(message)["status"] == 200


def test_the_inbox_filters_and_metrics_count_by_upstream_outcome(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    script = [Reply(200), Reply(200), Reply(422), Reply(503), Reply(reset=True)]
    proxy = proxy_to(upstream_of(scripted_server(*script), ca_bundle))
    for _ in script:
        post(proxy, sms())
    counts = {
        outcome: len(proxy.messages(upstream=outcome))
        for outcome in ("accepted", "permanent", "retryable", "error")
    }
    assert counts == {"accepted": 2, "permanent": 1, "retryable": 1, "error": 1}
    refused = proxy.api("GET", "/api/messages", params={"upstream": "maybe"})
    assert refused.status_code == 400
    assert refused.json()["violations"][0]["pointer"] == "/query/upstream"
    metrics = requests.get(proxy.base_url + "/metrics", timeout=10).text
    for outcome, count in counts.items():
        line = f'sms_contract_upstream_total{{namespace="{proxy.namespace}",outcome="{outcome}"}}'
        assert f"{line} {count}\n" in metrics


def test_the_test_connection_goes_upstream_and_is_not_recorded(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server(Reply(401, json={"error": "who?"}, headers={"X-Why": "login"}))
    proxy = proxy_to(upstream_of(upstream, ca_bundle))
    answer = requests.get(proxy.url, auth=(CLIENT_LOGIN, CLIENT_PASSWORD), timeout=10)
    assert (answer.status_code, answer.json(), answer.headers["X-Why"]) == (
        401,
        {"error": "who?"},
        "login",
    )
    (seen,) = upstream.requests
    assert seen.method == "GET" and seen.headers["Authorization"].startswith("Basic ")
    assert proxy.messages() == []


def test_the_proxys_own_auth_mode_guards_it_before_anything_goes_upstream(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    upstream = scripted_server()
    proxy = proxy_to(
        upstream_of(upstream, ca_bundle),
        auth="strict",
        credentials=((CLIENT_LOGIN, CLIENT_PASSWORD),),
    )
    assert post(proxy, sms()).status_code == 401
    assert upstream.requests == []
    assert post(proxy, sms(), auth=(CLIENT_LOGIN, CLIENT_PASSWORD)).status_code == 200
    assert len(upstream.requests) == 1


def test_no_password_is_stored_or_shown_anywhere(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path, tmp_path: Path
) -> None:
    upstream = scripted_server(Reply(200, json={"id": 1}, headers={"Set-Cookie": "session=abc"}))
    config = upstream_of(upstream, ca_bundle, login=LOGIN, password=PASSWORD)
    proxy = proxy_to(config, tls=True)
    assert PASSWORD not in repr(config) and PASSWORD not in repr(proxy.server.config)
    post(proxy, sms(), auth=(CLIENT_LOGIN, CLIENT_PASSWORD))
    post(proxy, sms(credits=9), auth=(CLIENT_LOGIN, CLIENT_PASSWORD))
    message = proxy.messages()[0]
    assert last_attempt(message)["headers"]["Set-Cookie"] == "[redacted]"
    secrets = [PASSWORD, CLIENT_PASSWORD]
    secrets += [
        base64.b64encode(f"{login}:{password}".encode()).decode()
        for login, password in ((LOGIN, PASSWORD), (CLIENT_LOGIN, CLIENT_PASSWORD))
    ]
    shown = [
        proxy.api("GET", path).text
        for path in (
            f"/api/messages?namespace={proxy.namespace}",
            f"/api/messages/{message['id']}",
            "/",
            f"/messages/{message['id']}",
            "/metrics",
            "/healthz",
            "/openapi.json",
            f"/api/events?once=1&namespace={proxy.namespace}",
        )
    ]
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("inbox.sqlite3*"))
    assert stored
    for secret in secrets:
        assert secret.encode() not in stored, secret
        for text in shown:
            assert secret not in text


# -- the web UI -----------------------------------------------------------------------


def test_the_message_page_shows_the_upstreams_answer_beside_the_verdict(
    proxy_to: Proxy, scripted_server: Any, ca_bundle: Path
) -> None:
    reply = Reply(200, json={"accepted": "yes"}, headers={"X-Provider-Id": "p-7"})
    proxy = proxy_to(upstream_of(scripted_server(reply), ca_bundle))
    post(proxy, sms(credits=4))
    message = only(proxy)
    page = proxy.api("GET", f"/messages/{message['id']}").text
    assert "422 rejected" in page and "upstream: 200 accepted" in page
    assert "X-Provider-Id" in page and "p-7" in page
    assert "credits_mismatch" in page
    inbox = proxy.api("GET", "/", params={"upstream": "accepted"}).text
    assert 'data-count="upstream-accepted">1<' in inbox
    assert "200 accepted" in inbox
    assert "validating proxy" in inbox


def test_entries_a_stopped_proxy_left_pending_are_closed_when_it_starts(tmp_path: Path) -> None:
    config = ProviderConfig(db_path=tmp_path / "inbox.sqlite3", upstream="https://localhost/sms")
    state = ProviderState(config)
    try:
        item = Received("default", "accepted", 200, "{}", "hash", forwarding=True)
        stored, _ = state.record(item, lambda _item, _stored: {})
    finally:
        state.close()
    prepare(config)
    state = ProviderState(config)
    try:
        message = state.message(stored.id)
    finally:
        state.close()
    assert message is not None and message["upstreamOutcome"] == "error"
    assert last_attempt(message)["error"]["kind"] == "interrupted"


def test_a_proxy_in_front_of_the_fixture_records_both_sides(
    make_sms_provider: Callable[..., SmsProvider], sms_provider: SmsProvider
) -> None:
    proxy = make_sms_provider(upstream=sms_provider)
    body = sms(to=FR)
    answer = proxy.send(body)
    assert answer.json()["status"] == "accepted"
    upstream_entry = sms_provider.wait_for(body["retId"])
    proxy_entry = proxy.wait_for(body["retId"])
    assert upstream_entry["body"] == proxy_entry["body"]
    assert last_attempt(proxy_entry)["body"] == answer.text
