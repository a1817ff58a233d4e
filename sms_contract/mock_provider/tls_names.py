"""The local certificate for more names than localhost: a CI service's or a compose
service's name, so that clients on that network can check it."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from cryptography import x509

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


def certified_names(certificate: Path) -> set[str]:
    """The DNS names and IP addresses a PEM certificate is valid for."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = set(alternative.get_values_for_type(x509.DNSName))
    return names | {str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)}


def local_tls_for_names(directory: Path, names: tuple[str, ...]) -> tuple[TlsFiles, bool]:
    """The local CA and a certificate valid for ``names`` (``check_tls_names``'s), and
    whether a certificate made for other names was replaced.

    The replacement includes the CA (its key is never kept, so nothing could sign
    a new certificate with it): clients then need the new CA.
    """
    files = ensure_local_tls(directory, names)
    wanted = {_ip(name) or name for name in names}
    if wanted <= certified_names(files.cert):
        return files, False
    for path in (files.ca_cert, files.cert, files.key):
        path.unlink(missing_ok=True)
    return ensure_local_tls(directory, names), True
