"""The proxy's upstream settings and header rules, without a network: the URL and CA
rules are the sender's (sender/transport.py), hop-by-hop headers stay behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms_contract.core.credentials import basic_authorization
from sms_contract.exceptions import ConfigError, ConfigurationError
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.upstream import (
    Exchange,
    UpstreamConfig,
    answer_headers,
    attempt_record,
    end_to_end,
    request_headers,
)
from sms_contract.sender.transport import check_provider_url

URLS = [
    "https://sms.example.com/inocx",
    "https://sms.example.com:8443/a/b?c=d",
    "http://127.0.0.1:9443/sms",
    "http://localhost:9443/sms",
    "http://[::1]:9443/sms",
    "http://sms.example.com/sms",
    "ftp://sms.example.com/sms",
    "sms.example.com/sms",
    "",
    " https://sms.example.com/sms",
    "https://login:password@sms.example.com/sms",
    "https://sms.example.com:0/sms",
    "https://sms.example.com:99999/sms",
    "https://bad_host!/sms",
    "https:///sms",
]


@pytest.mark.parametrize("url", URLS)
def test_the_upstream_url_rule_is_the_senders_with_plain_http_to_loopback(url: str) -> None:
    try:
        check_provider_url(url, allow_http_loopback=True)
        expected = None
    except ConfigurationError as error:
        expected = f"upstream: {error}"
    try:
        UpstreamConfig(url)
        refused = None
    except ConfigError as error:
        refused = str(error)
    assert refused == expected
    assert refused is None or "\n" not in refused


def test_a_ca_file_is_checked_and_goes_not_with_insecure(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")
    with pytest.raises(ConfigError, match="does not exist"):
        UpstreamConfig("https://sms.example.com/sms", ca_bundle=tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="no readable PEM"):
        UpstreamConfig("https://sms.example.com/sms", ca_bundle=not_pem)


def test_insecure_refuses_a_ca_file_as_the_sender_does(ca_bundle: Path) -> None:
    with pytest.raises(ConfigError, match="makes no sense"):
        UpstreamConfig("https://sms.example.com/sms", ca_bundle=ca_bundle, insecure=True)


@pytest.mark.parametrize(
    ("login", "password", "message"),
    [
        ("inocx", None, "needs a password"),
        ("inocx", "", "needs a password"),
        (None, "s3cret", "without a login"),
        ("in ocx", "s3cret", "login 'in ocx' refused"),
    ],
)
def test_the_upstream_login_needs_a_password_and_the_platforms_characters(
    login: str | None, password: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        UpstreamConfig("https://sms.example.com/sms", login=login, password=password)


@pytest.mark.parametrize("timeout", [0, -1, 601])
def test_the_timeout_is_over_zero_and_at_most_ten_minutes(timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout"):
        UpstreamConfig("https://sms.example.com/sms", timeout=timeout)


def test_the_provider_config_takes_a_url_or_a_mapping_and_never_shows_the_password() -> None:
    assert ProviderConfig(upstream="https://sms.example.com/sms").upstream == UpstreamConfig(
        "https://sms.example.com/sms"
    )
    config = ProviderConfig(
        upstream={"url": "https://sms.example.com/sms", "login": "inocx", "password": "pw-42"}
    )
    assert config.upstream is not None and config.upstream.password == "pw-42"
    assert "pw-42" not in repr(config)
    with pytest.raises(ConfigError, match="upstream"):
        ProviderConfig(upstream="http://sms.example.com/sms")


def test_hop_by_hop_headers_and_those_named_in_connection_are_dropped() -> None:
    headers = [
        ("Connection", "keep-alive, X-Hop"),
        ("X-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("TE", "trailers"),
        ("Trailer", "X-Sum"),
        ("Upgrade", "h2c"),
        ("Proxy-Authorization", "Basic eDp5"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Kept", "yes"),
        ("Authorization", "Basic YTpi"),
    ]
    assert end_to_end(headers, frozenset()) == [("X-Kept", "yes"), ("Authorization", "Basic YTpi")]


def test_the_request_gets_the_upstreams_host_and_length_and_the_proxys_login() -> None:
    given = [
        ("Host", "proxy.local:8443"),
        ("Content-Length", "12"),
        ("Expect", "100-continue"),
        ("Authorization", "Basic Y2xpZW50OnB3"),
        ("Content-Type", "application/json"),
    ]
    passed = UpstreamConfig("https://sms.example.com/sms")
    assert request_headers(passed, given) == [
        ("Authorization", "Basic Y2xpZW50OnB3"),
        ("Content-Type", "application/json"),
    ]
    replaced = UpstreamConfig("https://sms.example.com/sms", login="inocx", password="pw")
    assert request_headers(replaced, given) == [
        ("Content-Type", "application/json"),
        ("Authorization", basic_authorization("inocx", "pw")),
    ]


def test_the_answer_loses_the_headers_the_proxys_server_writes_itself() -> None:
    exchange = Exchange(
        0.0,
        0.01,
        200,
        "OK",
        (
            ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("Server", "provider"),
            ("Content-Length", "2"),
            ("Connection", "close"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ),
        b"ok",
    )
    assert answer_headers(exchange) == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    record = attempt_record(
        UpstreamConfig("https://sms.example.com/sms"), exchange, method="POST", answered=200
    )
    assert record["headers"]["Set-Cookie"] == "[redacted], [redacted]"
    assert (record["status"], record["outcome"], record["body"]) == (200, "accepted", "ok")


def test_a_long_answer_body_is_kept_cut_and_says_so() -> None:
    exchange = Exchange(0.0, 0.01, 500, "Error", (), b"e" * 10_000)
    record = attempt_record(
        UpstreamConfig("https://sms.example.com/sms"), exchange, method="POST", answered=500
    )
    assert len(record["body"]) == 4096 and record["bodyTruncated"] is True
    assert (record["bodyBytes"], record["outcome"]) == (10_000, "retryable")
