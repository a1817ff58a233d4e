"""Where a run may connect: the address rule, and the one way every connection is made.

In ``public`` mode (a hosted checker, ``serve --verify-targets public``) a run
may reach public addresses only: a host name is resolved, and a connection is
refused when any of its addresses is loopback, private, link-local, multicast,
reserved, unspecified or otherwise not global. Every connection of the run (the
TCP check, each TLS handshake, each HTTP request) resolves and checks again,
then connects to the very address it checked, with the name kept for SNI,
certificate checks and ``Host``: a name that resolves to a public address when
checked and to ``127.0.0.1`` a moment later (DNS rebinding) reaches nothing.
In ``any`` mode (the CLI, a server bound to loopback) connections are made the
same way, with no address refused (and through the environment's proxy when one
is set, as ``requests`` does).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any, Literal

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from sms_contract.exceptions import TargetRefused

TargetMode = Literal["any", "public"]
TARGET_MODES: tuple[TargetMode, ...] = ("any", "public")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``socket.getaddrinfo``'s signature (tests give their own resolver).
Resolver = Callable[..., list[tuple[Any, ...]]]

#: The kinds of address a public run refuses, in the order they are named.
_REFUSED_KINDS = (
    ("is_unspecified", "an unspecified"),
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),
    ("is_multicast", "a multicast"),
    ("is_reserved", "a reserved"),
    ("is_private", "a private"),
)


def _embedded(address: IpAddress) -> list[IpAddress]:
    """The IPv4 addresses an IPv6 one carries (mapped, 6to4, Teredo), which the network
    takes it to, then ``address`` itself: the first refused names the kind."""
    found: list[IpAddress] = []
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
    return [*found, address]


def address_refusal(address: IpAddress) -> str | None:
    """What kind of address a public run may not connect to ``address`` is
    (``a loopback address``); ``None`` when it may."""
    for candidate in _embedded(address):
        for attribute, kind in _REFUSED_KINDS:
            if getattr(candidate, attribute):
                return f"{kind} address"
        if not candidate.is_global:
            return "not a public address"
    return None


class Connector:
    """Opens every connection of a run: resolve, check (``public``), connect to the
    address checked. ``TargetRefused`` says which address was refused and why."""

    def __init__(self, mode: TargetMode = "any", *, resolve: Resolver | None = None) -> None:
        if mode not in TARGET_MODES:
            raise ValueError(f"the target mode is any or public, not {mode!r}")
        self.mode = mode
        self._resolve = resolve

    def addresses(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """The ``getaddrinfo`` entries of ``host`` a connection may use, every one
        checked; ``socket.gaierror`` when the name does not resolve."""
        resolve = self._resolve or socket.getaddrinfo  # looked up now: tests patch it
        found = resolve(host, port, 0, socket.SOCK_STREAM)
        if self.mode == "public":
            for *_kind, sockaddr in found:
                address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
                kind = address_refusal(address)
                if kind is not None:
                    named = address if str(address) == host.strip("[]") else f"{host} ({address})"
                    raise TargetRefused(
                        f"{named} is {kind}: this checker reaches public addresses only"
                    )
        return found

    def connect(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """A TCP connection to one checked address of ``host`` (each tried in turn)."""
        error: OSError | None = None
        for family, kind, proto, _name, sockaddr in self.addresses(host, port):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
            except OSError as failure:
                sock.close()
                error = failure
                continue
            return sock
        raise error or OSError(f"{host} has no address")

    def mount(self, session: Any) -> None:
        """Make every request of the ``requests`` session connect through this connector.

        In ``public`` mode the environment's proxies are not used: through a proxy,
        the address reached would be the proxy's choice, not one checked here.
        """
        adapter = _GuardedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if self.mode == "public":
            session.trust_env = False


def _open(connection: HTTPConnection, connector: Connector) -> socket.socket:
    """urllib3's ``_new_conn`` through ``connector``, with urllib3's own errors."""
    timeout = connection.timeout
    seconds = timeout if isinstance(timeout, int | float) else socket.getdefaulttimeout()
    try:
        sock = connector.connect(connection.host, connection.port, seconds)
    except socket.gaierror as error:
        raise NameResolutionError(connection.host, connection, error) from error
    except TimeoutError as error:
        message = f"Connection to {connection.host} timed out. (connect timeout={seconds})"
        raise ConnectTimeoutError(connection, message) from error
    except OSError as error:
        message = f"Failed to establish a new connection: {error}"
        raise NewConnectionError(connection, message) from error
    for option in connection.socket_options or ():
        sock.setsockopt(*option)
    return sock


class _GuardedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose pools open their connections through a connector."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        connector = self._connector

        def new_conn(connection: HTTPConnection) -> socket.socket:
            return _open(connection, connector)

        # urllib3's class names: they appear in the error messages a report shows.
        http = type("HTTPConnection", (HTTPConnection,), {"_new_conn": new_conn})
        https = type("HTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("HTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("HTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
