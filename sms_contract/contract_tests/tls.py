"""TLS facts about an endpoint: reachability, negotiated version, certificate, legacy versions."""

from __future__ import annotations

import os
import socket
import ssl
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from sms_contract.contract_tests.targets import Connector
from sms_contract.exceptions import TargetRefused, Unreachable

#: Versions a modern endpoint should refuse (RFC 8996).
LEGACY_VERSIONS = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
_LEGACY_NAMES = {ssl.TLSVersion.TLSv1: "TLS 1.0", ssl.TLSVersion.TLSv1_1: "TLS 1.1"}


@dataclass(frozen=True)
class Trust:
    """What to trust: a CA file or folder, or the default store."""

    cafile: str | None = None
    capath: str | None = None

    @classmethod
    def from_verify(cls, verify: str | bool) -> Trust:
        """The trust requests uses for ``verify`` (a path or ``True``)."""
        if isinstance(verify, str):
            return cls(capath=verify) if os.path.isdir(verify) else cls(cafile=verify)
        import certifi

        return cls(cafile=certifi.where())


@dataclass
class Certificate:
    """The parts of the server certificate a partner needs to see."""

    subject: str
    issuer: str
    names: list[str]
    not_before: datetime
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> int:
        """Whole days until the certificate expires (negative once expired)."""
        return (self.not_after - (now or datetime.now(UTC))).days

    def facts(self) -> dict[str, str]:
        """The certificate as report facts."""
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "names": ", ".join(self.names) or "(none)",
            "valid from": self.not_before.isoformat(),
            "valid until": self.not_after.isoformat(),
        }


@dataclass
class TlsFacts:
    """The outcome of the handshakes with the endpoint."""

    version: str | None = None
    cipher: str | None = None
    certificate: Certificate | None = None
    handshake_error: str | None = None
    verify_error: str | None = None
    elapsed: float = 0.0
    legacy: dict[str, str] = field(default_factory=dict)


def connect(
    host: str, port: int, timeout: float, connector: Connector | None = None
) -> socket.socket:
    """A TCP connection (through ``connector``), or ``Unreachable`` saying why not
    (``TargetRefused`` for an address the run may not reach)."""
    try:
        return (connector or Connector()).connect(host, port, timeout)
    except socket.gaierror as error:
        raise Unreachable(f"cannot resolve {host}: {error.strerror or error}") from None
    except ConnectionRefusedError:
        raise Unreachable(f"{host}:{port} refused the connection") from None
    except TimeoutError:
        raise Unreachable(f"{host}:{port} did not answer within {timeout:g} s") from None
    except OSError as error:
        raise Unreachable(f"cannot connect to {host}:{port}: {error.strerror or error}") from None


def _handshake(
    context: ssl.SSLContext, host: str, port: int, timeout: float, connector: Connector | None
) -> tuple[str | None, str | None, bytes | None]:
    sock = connect(host, port, timeout, connector)
    try:
        with context.wrap_socket(sock, server_hostname=host) as tls:
            cipher = tls.cipher()
            return tls.version(), cipher[0] if cipher else None, tls.getpeercert(binary_form=True)
    except TimeoutError:
        message = f"{host}:{port} did not finish the TLS handshake in {timeout:g} s"
        raise Unreachable(message) from None
    finally:
        sock.close()


def probe(
    host: str, port: int, trust: Trust, timeout: float, connector: Connector | None = None
) -> TlsFacts:
    """Handshake twice: without verification (version, cipher, certificate),
    then verifying the chain and the host name against ``trust``."""
    facts = TlsFacts()
    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    plain.check_hostname = False
    plain.verify_mode = ssl.CERT_NONE
    started = datetime.now(UTC)
    try:
        facts.version, facts.cipher, der = _handshake(plain, host, port, timeout, connector)
    except ssl.SSLError as error:
        facts.handshake_error = _describe(error)
        return facts
    except ConnectionError as error:
        facts.handshake_error = f"the connection closed during the handshake: {error}"
        return facts
    facts.elapsed = (datetime.now(UTC) - started).total_seconds()
    if der:
        facts.certificate = _certificate(der)
    verified = ssl.create_default_context(cafile=trust.cafile, capath=trust.capath)
    try:
        _handshake(verified, host, port, timeout, connector)
    except ssl.SSLCertVerificationError as error:
        facts.verify_error = error.verify_message or _describe(error)
    except ssl.SSLError as error:
        facts.verify_error = _describe(error)
    return facts


def probe_legacy(
    host: str, port: int, timeout: float, connector: Connector | None = None
) -> dict[str, str]:
    """For TLS 1.0 and 1.1: ``refused``, ``accepted`` or ``untestable: why``."""
    results = {}
    for version in LEGACY_VERSIONS:
        name = _LEGACY_NAMES[version]
        try:
            context = _legacy_context(version)
        except (ValueError, ssl.SSLError) as error:
            results[name] = f"untestable: this machine's TLS library cannot offer it ({error})"
            continue
        try:
            negotiated, _cipher, _der = _handshake(context, host, port, timeout, connector)
        except TargetRefused:
            raise  # not a refusal by the endpoint: the run may not reach it
        except ssl.SSLError as error:
            if "NO_PROTOCOLS_AVAILABLE" in str(error) or "NO_CIPHERS" in str(error):
                results[name] = "untestable: this machine's TLS library cannot offer it"
            else:
                results[name] = f"refused ({_describe(error)})"
        except (ConnectionError, Unreachable) as error:
            results[name] = f"refused (connection closed: {error})"
        else:
            results[name] = f"accepted (negotiated {negotiated})"
    return results


def _legacy_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def _describe(error: ssl.SSLError) -> str:
    return str(error.reason or error).replace("_", " ").lower() if error.reason else str(error)


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string()


def _certificate(der: bytes) -> Certificate:
    cert = x509.load_der_x509_certificate(der)
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = [str(value) for value in extension.value.get_values_for_type(x509.DNSName)]
        names += [str(value) for value in extension.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    return Certificate(
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        names=names,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )
