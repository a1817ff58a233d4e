"""The local certificate for more names than localhost: a CI service's or a compose
service's name, so that clients on that network can check it."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from sms_contract.exceptions import ConfigError
from sms_contract.mock_provider.tls import LOCAL_HOSTS, TlsFiles, ensure_local_tls

#: A DNS name (labels of letters, digits, '-' and '_', as container service names have).
_DNS_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*"
)


def _ip(name: str) -> str | None:
    """``name`` as a canonical IP address, or ``None`` when it is not one."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return None


def check_tls_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The certificate's names: the local ones, then ``names`` (host names or IPs).

    ``ConfigError`` names the first that is neither.
    """
    for name in names:
        if _ip(name) is None and not _DNS_NAME.fullmatch(name):
            raise ConfigError(f"--tls-name {name!r} is neither a host name nor an IP address")
    return tuple(dict.fromkeys((*LOCAL_HOSTS, *names)))


def local_tls_for_names(directory: Path, names: tuple[str, ...]) -> tuple[TlsFiles, bool]:
    """The local CA and a certificate valid for ``names`` (``check_tls_names``'s), and
    whether the CA is new where there was another: clients then need the new one
    (the CA is name-constrained, so a name it does not cover needs a new CA)."""
    earlier = _read(directory / "ca.pem")
    files = ensure_local_tls(directory, names)
    return files, earlier is not None and earlier != _read(files.ca_cert)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
