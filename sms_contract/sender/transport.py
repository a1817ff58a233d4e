"""The platform's transport rules, with no HTTP library: which URLs a provider may
have, which CA file can be trusted, and how a request that got no answer is named.

The sender's client (``client.py``, over requests), ``verify`` and a proxy's
upstream client (over ``http.client``) all take them from here. Importing this
module imports no HTTP library: a server's master process (which gevent patches
only after the fork) stays free of one.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sms_contract.exceptions import ConfigurationError

#: Loopback hosts that may be reached over plain http, for tests only.
LOOPBACK_NAMES = frozenset({"localhost"})
_HOST_LABEL = re.compile(rb"[A-Za-z0-9_-]{1,63}")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_provider_url(url: str, *, allow_http_loopback: bool = False) -> str:
    """Return ``url`` when the platform would accept it as a provider URL, else
    raise ``ConfigurationError``.

    It must start with ``https://``; plain ``http://`` passes only to a loopback
    host and only with ``allow_http_loopback`` (for local tests). A login or
    password inside the URL is refused, so that it never shows in a message.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError("the provider URL is empty")
    if url != url.strip() or any(char.isspace() for char in url):
        raise ConfigurationError("the provider URL holds spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ConfigurationError(f"the provider URL cannot be read: {error}") from None
    if "@" in parts.netloc:
        raise ConfigurationError(
            "the provider URL must not hold a login or password; give them separately"
        )
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.netloc:
        raise ConfigurationError(f"the provider URL must start with https:// (got {url!r})")
    host = parts.hostname or ""
    if not host:
        raise ConfigurationError(f"the provider URL has no host name (got {url!r})")
    check_host_name(host)
    if port == 0:
        raise ConfigurationError("the provider URL's port must be between 1 and 65535")
    refusal = plain_http_refusal(url, allow_http_loopback=allow_http_loopback)
    if refusal is not None:
        raise ConfigurationError(refusal)
    return url


def plain_http_refusal(url: str, *, allow_http_loopback: bool = False) -> str | None:
    """Why nothing secret may go to the plain http ``url``; ``None`` when it may.

    The one rule for plain http, shared by ``send`` and ``verify``: ``http://``
    only to a loopback host and only when allowed explicitly
    (``allow_http_loopback``, ``--allow-http``), for local tests. Any other
    scheme is not this function's business (``None``).
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return None
    if not is_loopback(parts.hostname or ""):
        return (
            f"the provider URL must start with https:// (got {url!r}); plain http is "
            "allowed only to a local test server (127.0.0.0/8, ::1, localhost)"
        )
    if not allow_http_loopback:
        return (
            f"the provider URL must start with https:// (got {url!r}); plain http to a "
            "local test server must be allowed explicitly (allow_http_loopback, --allow-http)"
        )
    return None


def check_host_name(host: str) -> None:
    """Refuse (``ConfigurationError``) a host that is neither an IP address nor a valid
    DNS name: no resolver is asked about a name that cannot exist."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        labels = host.encode("idna").rstrip(b".").split(b".")
    except UnicodeError:
        raise ConfigurationError(f"the host name {host!r} is not valid") from None
    if not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ConfigurationError(f"the host name {host!r} is not valid")


def check_ca_bundle(ca_bundle: str | Path) -> str:
    """``ca_bundle`` as a path string once it holds a readable PEM certificate, else
    ``ConfigurationError`` naming what is wrong with it."""
    path = Path(ca_bundle)
    if not path.exists():
        raise ConfigurationError(f"the CA file {path} does not exist")
    if not path.is_file():
        raise ConfigurationError(f"the CA file {path} is not a file")
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError):
        raise ConfigurationError(f"the CA file {path} holds no readable PEM certificate") from None
    return str(path)


# -- network errors ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkFailure:
    """A request that got no HTTP answer, in words.

    ``kind`` is ``dns``, ``refused``, ``reset``, ``timeout``, ``tls`` or ``network``.
    """

    kind: str
    message: str


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and everything it wraps (causes, contexts, urllib3 reasons, args)."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        stack.extend(item for item in linked if isinstance(item, BaseException))


#: A connection closed mid-exchange (TLS EOF included): retryable, not a TLS problem.
_DROPPED_TLS = (ssl.SSLEOFError, ssl.SSLZeroReturnError)
_DROPPED = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    *_DROPPED_TLS,
)


@dataclass(frozen=True, slots=True)
class LibraryErrors:
    """The errors an HTTP library raises of its own, beside the standard library's:
    ``describe_network_error`` reads them like their standard kin."""

    #: A TLS failure with no ``ssl.SSLError`` left to read.
    tls: tuple[type[BaseException], ...] = ()
    #: A name that cannot be resolved (anywhere among the causes).
    dns: tuple[type[BaseException], ...] = ()
    #: No connection in time.
    connect_timeout: tuple[type[BaseException], ...] = ()
    #: No answer in time (anywhere among the causes).
    timeout: tuple[type[BaseException], ...] = ()
    #: An answer cut short.
    dropped: tuple[type[BaseException], ...] = ()


#: ``http.client`` raises the standard library's errors only.
STANDARD_LIBRARY = LibraryErrors()


def describe_network_error(
    error: BaseException,
    where: str,
    timeout: float,
    *,
    ca_option: str = "--cacert",
    library: LibraryErrors = STANDARD_LIBRARY,
) -> NetworkFailure:
    """Name what went wrong when a request to ``where`` (host:port) got no answer;
    ``ca_option`` is the option that gives a CA file, named in a certificate hint,
    and ``library`` the HTTP library's own errors (none for ``http.client``)."""
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or str(cause.reason or "verification failed")
            if "mismatch" in reason.lower():
                return NetworkFailure(
                    "tls",
                    f"the certificate of {where} is not valid for that host name ({reason}): "
                    "check the URL's host name",
                )
            return NetworkFailure(
                "tls",
                f"the certificate of {where} is not trusted ({reason}): if the provider uses a "
                f"self-signed certificate or a private CA, give that CA certificate ({ca_option})",
            )
    for cause in causes:
        if isinstance(cause, ssl.SSLError) and not isinstance(cause, _DROPPED_TLS):
            reason = cause.reason or str(cause)
            return NetworkFailure("tls", f"the TLS handshake with {where} failed ({reason})")
    if isinstance(error, library.tls):
        return NetworkFailure("tls", f"the TLS handshake with {where} failed")
    if any(isinstance(c, (socket.gaierror, *library.dns)) for c in causes):
        host = where.rsplit(":", 1)[0]
        return NetworkFailure("dns", f"the host name {host} cannot be resolved: check the URL")
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return NetworkFailure(
            "refused",
            f"{where} refused the connection: check that the provider is running "
            "and that the port is right",
        )
    if isinstance(error, library.connect_timeout):
        return NetworkFailure("timeout", f"no connection to {where} within {timeout:g} s")
    if any(isinstance(c, (TimeoutError, *library.timeout)) for c in causes):
        return NetworkFailure("timeout", f"no answer from {where} within {timeout:g} s")
    if any(isinstance(c, _DROPPED) for c in causes) or isinstance(error, library.dropped):
        return NetworkFailure("reset", f"{where} closed the connection without a full answer")
    return NetworkFailure("network", f"network error with {where}: {type(error).__name__}")
