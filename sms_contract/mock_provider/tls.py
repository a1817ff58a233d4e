"""A local certificate authority and a server certificate for localhost.

Lifetimes clients accept: the CA lasts ``CA_DAYS`` (10 years), the server
certificate ``SERVER_DAYS`` (under the 398 days browsers and Apple's TLS stack
allow) and is issued again on a start less than ``RENEW_DAYS`` before it ends.
Issuing it again needs the CA's key, so the key is kept (``ca-key.pem``, mode
0600 in a 0700 directory); the CA is name-constrained to the loopback names
and the names it was made for (``--tls-name``), so even a stolen key signs
nothing a client would trust for another host. Asking for a name the CA does
not cover makes a new CA, which clients must then be given.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The names the local server certificate is valid for.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
SERVER_DAYS = 365
RENEW_DAYS = 30
#: Certificates start this long before now, so a client whose clock lags accepts them.
_BACKDATE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA to trust, and the server's certificate chain and key."""

    ca_cert: Path
    cert: Path
    key: Path


def ensure_local_tls(directory: Path, hosts: tuple[str, ...] = LOCAL_HOSTS) -> TlsFiles:
    """Make sure ``directory`` holds a CA and a server certificate for ``hosts`` that
    are valid for a while yet; create or renew what is missing, old or foreign."""
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    ca_key_path = directory / "ca-key.pem"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    authority = _load_authority(files.ca_cert, ca_key_path, now, hosts)
    if authority is None:
        authority = _new_authority(now, hosts)
        _write_private(ca_key_path, _key_pem(authority[1]))
        files.ca_cert.write_bytes(authority[0].public_bytes(serialization.Encoding.PEM))
    if not _server_cert_usable(files.cert, authority[0], now, hosts):
        cert, key = _new_server_cert(authority, hosts, now)
        _write_private(files.key, _key_pem(key))
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


_Authority = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _load_authority(
    cert_path: Path, key_path: Path, now: datetime.datetime, hosts: tuple[str, ...]
) -> _Authority | None:
    """The CA kept in the directory, unless missing, unreadable, near its end, or
    constrained away from one of ``hosts``."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _near_end(cert, now):
        return None
    if cert.public_key() != key.public_key():  # a key of another CA
        return None
    if not set(_permitted(hosts)) <= set(_constraints(cert)):
        return None
    return cert, key


def _constraints(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return []
    return list(constraints.permitted_subtrees or [])


def _permitted(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    """The names a CA for ``hosts`` may sign for: the loopback ones and ``hosts``."""
    found: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
        x509.IPAddress(ipaddress.ip_network("::1/128")),
    ]
    for host in hosts:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            name: x509.GeneralName = x509.DNSName(host)
        else:
            if address.is_loopback:
                continue
            name = x509.IPAddress(ipaddress.ip_network(address))
        if name not in found:
            found.append(name)
    return found


def _server_cert_usable(
    path: Path, ca_cert: x509.Certificate, now: datetime.datetime, hosts: tuple[str, ...]
) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    covered = all(_general_name(host) in names for host in hosts)
    return covered and lifetime.days < 398 and not _near_end(cert, now)


def _near_end(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_after_utc - now < datetime.timedelta(days=RENEW_DAYS)


def _new_authority(now: datetime.datetime, hosts: tuple[str, ...]) -> _Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sms-contract local CA")])
    permitted = _permitted(hosts)
    cert = (
        _builder(name, name, key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.NameConstraints(permitted, None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _new_server_cert(
    authority: _Authority, hosts: tuple[str, ...], now: datetime.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = authority
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now, SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime.datetime,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now - _BACKDATE + datetime.timedelta(days=days))
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file only its owner can read, from its first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(path, 0o600)
