"""ProviderClient against real local HTTP(S) servers: configuration, sending,
retries, rejections and the connection test."""

from __future__ import annotations

import json
import logging
import random
import time
from email.utils import formatdate

import pytest
from helpers.raw_http import free_port
from helpers.scripted_server import Reply

from sms_contract.core.credentials import basic_authorization, parse_basic
from sms_contract.core.model import build_payload
from sms_contract.exceptions import ConfigurationError, ProviderRejected, ProviderUnavailable
from sms_contract.sender.client import (
    ConnectionOutcome,
    ProviderClient,
    RetryPolicy,
    check_provider_url,
    encode_body,
)

PASSWORD = "s3cr3t-pässword:with colon"
FAST = RetryPolicy(max_attempts=5, backoff_base=0.02, backoff_max=0.05, total_timeout=10.0)
#: Slack for thread scheduling when timing retries.
SLACK = 0.4


@pytest.fixture
def payload():
    return build_payload("+33612345678", "Votre RDV est confirmé 😀", sender="INOCX")


def https_client(server, ca_bundle, **kwargs):
    kwargs.setdefault("retry", FAST)
    return ProviderClient(server.url, ca_bundle=ca_bundle, **kwargs)


class _Ceiling(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


# -- configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://sms.example.com/hook", "ftp://sms.example.com/", "sms.example.com/hook", "//x/y"],
)
def test_provider_url_must_start_with_https(url):
    with pytest.raises(ConfigurationError, match="https://"):
        ProviderClient(url)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/sms", "http://127.4.5.6/", "http://[::1]:9/", "http://localhost/"],
)
def test_plain_http_to_loopback_needs_the_explicit_allowance(url):
    with pytest.raises(ConfigurationError, match="allow"):
        ProviderClient(url)
    assert ProviderClient(url, allow_http_loopback=True).url == url


@pytest.mark.parametrize("url", ["http://10.0.0.1/sms", "http://sms.example.com/", "http://[::2]/"])
def test_plain_http_is_refused_off_loopback_even_with_the_allowance(url):
    with pytest.raises(ConfigurationError, match="only to a local test server"):
        ProviderClient(url, allow_http_loopback=True)


def test_credentials_inside_the_url_are_refused_without_echoing_them():
    with pytest.raises(ConfigurationError) as caught:
        ProviderClient("https://user:hunter2@sms.example.com/")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["", "https://", "https://exa mple.com/", "https://bad_host!.com/", "https://h:99999/"]
)
def test_unusable_urls_are_configuration_errors(url):
    with pytest.raises(ConfigurationError):
        check_provider_url(url)


@pytest.mark.parametrize("login", ["a", "inocx_01+sms.test@example-corp.fr", "A.B-C"])
def test_login_with_the_platform_characters_is_accepted(login):
    assert ProviderClient("https://sms.example.com/", login, "pw").login == login


@pytest.mark.parametrize("login", ["", "with space", "colon:login", "é", "a/b", "semi;colon"])
def test_login_outside_the_platform_characters_is_refused(login):
    with pytest.raises(ConfigurationError, match="letters, digits"):
        ProviderClient("https://sms.example.com/", login, "pw")


def test_login_needs_a_password_and_a_password_needs_a_login():
    with pytest.raises(ConfigurationError, match="needs a password"):
        ProviderClient("https://sms.example.com/", "inocx")
    with pytest.raises(ConfigurationError, match="empty"):
        ProviderClient("https://sms.example.com/", "inocx", "")
    with pytest.raises(ConfigurationError, match="without a login"):
        ProviderClient("https://sms.example.com/", password="pw")


def test_missing_or_unreadable_ca_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        ProviderClient("https://sms.example.com/", ca_bundle=tmp_path / "nope.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="no readable PEM"):
        ProviderClient("https://sms.example.com/", ca_bundle=junk)
    with pytest.raises(ConfigurationError, match="is not a file"):
        ProviderClient("https://sms.example.com/", ca_bundle=tmp_path)


def test_password_never_shows_in_repr():
    client = ProviderClient("https://sms.example.com/", "inocx", PASSWORD)
    assert PASSWORD not in repr(client)
    assert "'***'" in repr(client)
    assert "inocx" in repr(client)


# -- what is sent -----------------------------------------------------------------


def test_body_is_compact_utf8_json_of_the_payload(scripted_server, ca_bundle, payload):
    server = scripted_server()
    https_client(server, ca_bundle).send(payload)
    (request,) = server.requests
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.body == encode_body(payload)
    assert "😀".encode() in request.body and b"\\u" not in request.body
    assert b": " not in request.body and b", " not in request.body
    assert json.loads(request.body) == payload.to_json_dict()


def test_http_basic_header_carries_login_and_utf8_password(scripted_server, ca_bundle, payload):
    server = scripted_server()
    https_client(server, ca_bundle, login="inocx@corp", password=PASSWORD).send(payload)
    header = server.requests[0].headers["Authorization"]
    assert header == basic_authorization("inocx@corp", PASSWORD)
    assert parse_basic(header) == ("inocx@corp", PASSWORD)


def test_no_authorization_header_without_a_login(scripted_server, ca_bundle, payload):
    server = scripted_server()
    https_client(server, ca_bundle).send(payload)
    assert "Authorization" not in server.requests[0].headers


def test_accepted_result_reports_status_id_duplicate_and_attempts(
    scripted_server, ca_bundle, payload
):
    server = scripted_server(Reply(202, json={"id": 42, "duplicate": True, "retId": "x"}))
    result = https_client(server, ca_bundle).send(payload)
    assert (result.status, result.attempts, result.message_id, result.duplicate) == (
        202,
        1,
        "42",
        True,
    )
    assert result.ret_id == payload.ret_id
    assert result.body["retId"] == "x"
    assert 0 <= result.elapsed < 5


def test_accepted_without_json_body_has_no_message_id(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(204))
    result = https_client(server, ca_bundle).send(payload)
    assert (result.status, result.message_id, result.duplicate, result.body) == (
        204,
        None,
        None,
        None,
    )


def test_plain_http_loopback_send_works_when_allowed(scripted_server, payload):
    server = scripted_server(tls=False)
    client = ProviderClient(server.url, allow_http_loopback=True, retry=FAST)
    assert client.send(payload).status == 200


# -- retries ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_retryable_statuses_are_retried_until_accepted(scripted_server, ca_bundle, payload, status):
    server = scripted_server(Reply(status), Reply(status))
    result = https_client(server, ca_bundle).send(payload)
    assert (result.status, result.attempts) == (200, 3)
    assert len(server.requests) == 3
    assert all(gap < FAST.backoff_max + SLACK for gap in server.gaps())


def test_every_attempt_sends_the_same_ret_id_and_bytes(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(503), Reply(500), Reply(429))
    https_client(server, ca_bundle).send(payload)
    assert len(server.requests) == 4
    assert {request.body for request in server.requests} == {encode_body(payload)}
    assert {request.json()["retId"] for request in server.requests} == {payload.ret_id}


def test_waits_grow_exponentially_up_to_backoff_max(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(503), Reply(503), Reply(503))
    policy = RetryPolicy(max_attempts=4, backoff_base=0.1, backoff_max=0.3, total_timeout=10)
    https_client(server, ca_bundle, retry=policy, rng=_Ceiling()).send(payload)
    for gap, ceiling in zip(server.gaps(), [0.1, 0.2, 0.3], strict=True):
        assert ceiling - 0.01 <= gap < ceiling + SLACK


def test_retry_after_in_seconds_is_honoured(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(503, headers={"Retry-After": "1"}))
    result = https_client(server, ca_bundle).send(payload)
    assert result.attempts == 2
    assert 0.99 <= server.gaps()[0] < 1 + SLACK


def test_retry_after_as_http_date_is_honoured(scripted_server, ca_bundle, payload):
    # HTTP-dates have one-second resolution: two seconds ahead is a wait of 1 to 2 s.
    when = formatdate(time.time() + 2, usegmt=True)
    server = scripted_server(Reply(429, headers={"Retry-After": when}))
    result = https_client(server, ca_bundle).send(payload)
    assert result.attempts == 2
    assert 0.95 <= server.gaps()[0] < 2 + SLACK


def test_retry_after_beyond_the_total_time_gives_up_at_once(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(503, headers={"Retry-After": "120"}))
    with pytest.raises(ProviderUnavailable, match="would pass the 10 s limit") as caught:
        https_client(server, ca_bundle).send(payload)
    assert (caught.value.attempts, caught.value.status) == (1, 503)
    assert caught.value.elapsed < 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_permanent_4xx_is_not_retried(scripted_server, ca_bundle, payload, status):
    server = scripted_server(Reply(status))
    with pytest.raises(ProviderRejected) as caught:
        https_client(server, ca_bundle).send(payload)
    assert caught.value.status == status
    assert len(server.requests) == 1


def test_rejection_carries_the_problem_json_violations(scripted_server, ca_bundle, payload):
    problem = {
        "type": "about:blank",
        "title": "Invalid payload",
        "status": 422,
        "detail": "2 violations",
        "violations": [
            {"pointer": "/to", "code": "pattern", "message": "to must be in E.164"},
            {"pointer": "/credits", "code": "credits_mismatch", "message": "credits is 2"},
        ],
    }
    headers = {"Content-Type": "application/problem+json"}
    server = scripted_server(Reply(422, json=problem, headers=headers))
    with pytest.raises(ProviderRejected) as caught:
        https_client(server, ca_bundle).send(payload)
    error = caught.value
    assert error.detail == "2 violations"
    assert [(v.pointer, v.code) for v in error.violations] == [
        ("/to", "pattern"),
        ("/credits", "credits_mismatch"),
    ]
    assert "/to pattern" in str(error)
    assert error.body == problem


def test_rejection_with_a_text_body_keeps_its_first_line(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(400, body="bad things\nmore"))
    with pytest.raises(ProviderRejected) as caught:
        https_client(server, ca_bundle).send(payload)
    assert (caught.value.detail, caught.value.violations) == ("bad things", ())


def test_redirects_are_not_followed_but_rejected(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(302, headers={"Location": "https://127.0.0.1:1/other"}))
    with pytest.raises(ProviderRejected) as caught:
        https_client(server, ca_bundle).send(payload)
    assert caught.value.status == 302
    assert len(server.requests) == 1


def test_unavailable_after_max_attempts(scripted_server, ca_bundle, payload):
    server = scripted_server(default=Reply(503))
    policy = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02)
    with pytest.raises(ProviderUnavailable) as caught:
        https_client(server, ca_bundle, retry=policy).send(payload)
    error = caught.value
    assert (error.attempts, error.status, error.kind, error.error) == (3, 503, "status", None)
    assert len(server.requests) == 3
    assert "after 3 attempt(s)" in str(error)


def test_total_time_bounds_the_retries(scripted_server, ca_bundle, payload):
    server = scripted_server(default=Reply(500))
    policy = RetryPolicy(max_attempts=1000, backoff_base=0.05, backoff_max=0.1, total_timeout=0.6)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as caught:
        https_client(server, ca_bundle, retry=policy).send(payload)
    assert time.monotonic() - started < 0.6 + SLACK
    assert 2 <= caught.value.attempts < 1000


def test_connection_reset_and_close_are_retried(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(reset=True), Reply(close=True))
    result = https_client(server, ca_bundle).send(payload)
    assert result.attempts == 3
    assert {request.body for request in server.requests} == {encode_body(payload)}


def test_connection_reset_over_plain_http_is_retried(scripted_server, payload):
    server = scripted_server(Reply(reset=True), Reply(close=True), tls=False)
    client = ProviderClient(server.url, allow_http_loopback=True, retry=FAST)
    assert client.send(payload).attempts == 3


def test_answer_slower_than_the_timeout_is_retried(scripted_server, ca_bundle, payload):
    server = scripted_server(Reply(delay=1.0))
    result = https_client(server, ca_bundle, timeout=0.2).send(payload)
    assert result.attempts == 2


def test_refused_connection_is_retried_then_unavailable(payload):
    policy = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02)
    client = ProviderClient(f"https://127.0.0.1:{free_port()}/sms", retry=policy)
    with pytest.raises(ProviderUnavailable) as caught:
        client.send(payload)
    error = caught.value
    assert (error.attempts, error.status, error.kind) == (3, None, "refused")
    assert "refused the connection" in error.error


def test_untrusted_certificate_is_not_retried(scripted_server, payload):
    server = scripted_server()
    with pytest.raises(ProviderUnavailable) as caught:
        ProviderClient(server.url, retry=FAST).send(payload)
    assert (caught.value.attempts, caught.value.kind) == (1, "tls")
    assert "--cacert" in str(caught.value)
    assert server.requests == []


def test_password_is_in_no_message_or_log(scripted_server, ca_bundle, payload, caplog):
    server = scripted_server(default=Reply(503))
    policy = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.01)
    client = https_client(server, ca_bundle, login="inocx", password=PASSWORD, retry=policy)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderUnavailable) as caught:
        client.send(payload)
    check = client.test_connection()
    encoded = basic_authorization("inocx", PASSWORD).split()[1]
    for text in (str(caught.value), caplog.text, check.message, repr(client)):
        assert PASSWORD not in text and encoded not in text
    assert "attempt 1" in caplog.text


# -- test_connection --------------------------------------------------------------


def test_connection_ok_with_good_credentials(scripted_server, ca_bundle):
    server = scripted_server(Reply(200, json={"ok": True}))
    check = https_client(server, ca_bundle, login="inocx", password="pw").test_connection()
    assert (check.outcome, check.status, check.method, check.ok) == (
        ConnectionOutcome.OK,
        200,
        "GET",
        True,
    )
    assert "accepted the login 'inocx'" in check.message
    (request,) = server.requests
    assert request.method == "GET" and request.body == b""
    assert parse_basic(request.headers["Authorization"]) == ("inocx", "pw")


def test_connection_falls_back_to_head_when_get_answers_405(scripted_server, ca_bundle):
    server = scripted_server(Reply(405), Reply(204))
    check = https_client(server, ca_bundle, login="inocx", password="pw").test_connection()
    assert (check.outcome, check.method, check.status) == (ConnectionOutcome.OK, "HEAD", 204)
    assert [request.method for request in server.requests] == ["GET", "HEAD"]


@pytest.mark.parametrize(("status", "hint"), [(401, "check the login and the password"), (403, "")])
def test_connection_401_and_403_are_bad_credentials(scripted_server, ca_bundle, status, hint):
    server = scripted_server(Reply(status, headers={"WWW-Authenticate": 'Basic realm="sms"'}))
    check = https_client(server, ca_bundle, login="inocx", password="pw").test_connection()
    assert (check.outcome, check.status) == (ConnectionOutcome.BAD_CREDENTIALS, status)
    assert "refused" in check.message and "'inocx'" in check.message and hint in check.message
    assert len(server.requests) == 1


def test_connection_401_without_login_asks_for_authentication(scripted_server, ca_bundle):
    server = scripted_server(Reply(401))
    check = https_client(server, ca_bundle).test_connection()
    assert check.outcome is ConnectionOutcome.BAD_CREDENTIALS
    assert "requires authentication" in check.message


def test_connection_refused_is_unreachable():
    check = ProviderClient(f"https://127.0.0.1:{free_port()}/").test_connection()
    assert (check.outcome, check.status) == (ConnectionOutcome.UNREACHABLE, None)
    assert "refused the connection" in check.message


def test_connection_unknown_host_is_unreachable():
    check = ProviderClient("https://no-such-host.invalid/sms", timeout=5).test_connection()
    assert check.outcome is ConnectionOutcome.UNREACHABLE
    assert "cannot be resolved" in check.message


def test_connection_timeout_is_unreachable(scripted_server, ca_bundle):
    server = scripted_server(Reply(delay=1.0))
    check = https_client(server, ca_bundle, timeout=0.2).test_connection()
    assert check.outcome is ConnectionOutcome.UNREACHABLE
    assert "within 0.2 s" in check.message


def test_connection_untrusted_certificate_is_a_tls_problem(scripted_server):
    server = scripted_server()
    check = ProviderClient(server.url).test_connection()
    assert check.outcome is ConnectionOutcome.TLS_PROBLEM
    assert "not trusted" in check.message and "--cacert" in check.message


def test_connection_hostname_mismatch_is_a_tls_problem(scripted_server, ca_bundle):
    server = scripted_server(hosts=("other.example",))
    check = https_client(server, ca_bundle).test_connection()
    assert check.outcome is ConnectionOutcome.TLS_PROBLEM
    assert "not valid for that host name" in check.message


def test_connection_tls_to_a_plain_http_port_is_a_tls_problem(scripted_server):
    server = scripted_server(tls=False)
    check = ProviderClient(server.url.replace("http://", "https://")).test_connection()
    assert check.outcome is ConnectionOutcome.TLS_PROBLEM
    assert "handshake" in check.message


@pytest.mark.parametrize(("status", "hint"), [(404, "path"), (500, "server error"), (302, "final")])
def test_connection_other_statuses_are_unexpected(scripted_server, ca_bundle, status, hint):
    server = scripted_server(Reply(status, headers={"Location": "https://x.example/"}))
    check = https_client(server, ca_bundle).test_connection()
    assert (check.outcome, check.status) == (ConnectionOutcome.UNEXPECTED, status)
    assert hint in check.message
