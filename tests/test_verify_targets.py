"""Where a run may connect (``contract_tests/targets.py``): the public-address rule, a
check on every connection, each connection pinned to the address checked."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
import requests
import urllib3.util.connection
from helpers.scripted_server import Reply
from helpers.verify_cli import TO, run_verify

from sms_contract.contract_tests.probes import MAX_ANSWER_BYTES, RequestSpec, Target
from sms_contract.contract_tests.runner import Options, Runner
from sms_contract.contract_tests.targets import Connector, address_refusal
from sms_contract.exceptions import TargetRefused

REFUSED = {
    "127.0.0.1": "a loopback address",
    "127.8.9.10": "a loopback address",
    "::1": "a loopback address",
    "0.0.0.0": "an unspecified address",
    "::": "an unspecified address",
    "10.1.2.3": "a private address",
    "172.16.0.1": "a private address",
    "192.168.1.1": "a private address",
    "fc00::1": "a private address",
    "169.254.169.254": "a link-local address",
    "fe80::1": "a link-local address",
    "224.0.0.1": "a multicast address",
    "ff02::1": "a multicast address",
    "240.0.0.1": "a reserved address",
    "100.64.0.1": "not a public address",
    # IPv6 forms that reach an IPv4 address: mapped, 6to4, Teredo.
    "::ffff:127.0.0.1": "a loopback address",
    "2002:7f00:1::": "a loopback address",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe": "a private address",
}


@pytest.mark.parametrize(("address", "kind"), REFUSED.items())
def test_a_public_run_refuses_every_address_that_is_not_public(address: str, kind: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_a_public_address_is_allowed(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def entry(address: str, port: int = 443) -> tuple[Any, ...]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


def resolver(*answers: list[str]) -> Callable[..., list[tuple[Any, ...]]]:
    """A resolver giving each answer in turn (the last one again once used up)."""
    queue = list(answers)

    def resolve(host: str, port: int, *_args: Any) -> list[tuple[Any, ...]]:
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [entry(address, port) for address in addresses]

    return resolve


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    connector = Connector("public", resolve=resolver(["8.8.8.8", "10.0.0.7"]))
    with pytest.raises(TargetRefused, match=r"sms\.example \(10\.0\.0\.7\) is a private"):
        connector.addresses("sms.example", 443)


def test_dns_rebinding_is_caught_because_each_connection_resolves_and_checks_again() -> None:
    connector = Connector("public", resolve=resolver(["8.8.8.8"], ["127.0.0.1"]))
    assert connector.addresses("sms.example", 443)[0][4][0] == "8.8.8.8"
    with pytest.raises(TargetRefused, match="loopback"):
        connector.addresses("sms.example", 443)


class _RecordingSocket:
    """Stands in for a socket: records where it would connect, connects nowhere."""

    connected: ClassVar[list[Any]] = []

    def __init__(self, *_args: Any) -> None:
        pass

    def settimeout(self, _timeout: float | None) -> None:
        pass

    def connect(self, sockaddr: Any) -> None:
        self.connected.append(sockaddr)


def test_a_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups: list[str] = []
    answers = resolver(["8.8.4.4"], ["127.0.0.1"])

    def resolve(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        lookups.append(host)
        return answers(host, port, *args)

    monkeypatch.setattr(socket, "socket", _RecordingSocket)
    _RecordingSocket.connected = []
    Connector("public", resolve=resolve).connect("sms.example", 443, 5.0)
    # One lookup, and the socket connects to its answer: no second lookup to rebind.
    assert lookups == ["sms.example"]
    assert _RecordingSocket.connected == [("8.8.4.4", 443)]


def test_requests_use_the_connectors_resolution_and_keep_the_name_for_tls_and_host(
    scripted_server: Any, ca_bundle: Any
) -> None:
    server = scripted_server(hosts=("pinned.test",))
    session = requests.Session()
    # pinned.test resolves nowhere but here: a connection that looked it up itself would fail.
    Connector("any", resolve=resolver(["127.0.0.1"])).mount(session)
    answer = session.get(f"https://pinned.test:{server.port}/sms", verify=str(ca_bundle), timeout=5)
    assert answer.status_code == 200
    assert server.requests[0].headers["Host"] == f"pinned.test:{server.port}"


@pytest.fixture
def resolving(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Names the test resolves to an address of its choice (others as usual)."""
    names: dict[str, str] = {}
    system = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [entry(names[host], int(port))]
        return system(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield names


def _forbidden(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("a connection made around the connector")


def test_every_connection_of_a_run_goes_through_the_connector(
    scripted_server: Any, ca_bundle: Any, resolving: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = scripted_server(hosts=("partner.test",))
    resolving["partner.test"] = "127.0.0.1"
    monkeypatch.setattr(socket, "create_connection", _forbidden)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", _forbidden)
    url = f"https://partner.test:{server.port}/sms"
    options = Options(url, TO, cacert=str(ca_bundle), max_sends=2, only=("tls", "connection"))
    report = Runner(options).run()
    assert report.unreachable is None
    assert {r.spec.id: r.status.value for r in report.results}["tls.certificate"] == "pass"
    assert server.requests, "the HTTP requests reached the endpoint"


def test_a_public_run_refuses_a_name_that_resolves_to_loopback_and_sends_nothing(
    scripted_server: Any, ca_bundle: Any, resolving: dict[str, str]
) -> None:
    server = scripted_server(hosts=("partner.test",))
    resolving["partner.test"] = "127.0.0.1"
    url = f"https://partner.test:{server.port}/sms"
    report = Runner(Options(url, TO, cacert=str(ca_bundle), targets="public")).run()
    assert report.unreachable == (
        "partner.test (127.0.0.1) is a loopback address: this checker reaches public addresses only"
    )
    assert server.requests == []


def test_the_cli_targets_public_option_refuses_a_loopback_url(scripted_server: Any) -> None:
    server = scripted_server()
    result = run_verify(server.url, "--to", TO, "--targets", "public")
    assert result.exit_code == 3
    assert "127.0.0.1 is a loopback address" in result.output
    assert server.requests == []


def test_an_endless_answer_is_read_up_to_a_bound_only(scripted_server: Any, ca_bundle: Any) -> None:
    size = 5 * MAX_ANSWER_BYTES
    server = scripted_server(default=Reply(200, body=b"x" * size))
    target = Target(server.url, verify=str(ca_bundle), timeout=10)
    exchange = target.send(RequestSpec("big", "GET"))
    assert exchange.status == 200 and exchange.answer.startswith("xxx")
    assert target.last_response is not None
    assert len(target.last_response.content) == MAX_ANSWER_BYTES
