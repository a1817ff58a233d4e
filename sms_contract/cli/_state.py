"""What ``serve`` needs on disk before it starts: writable directories and a local
certificate for the names clients use. A problem is one ``error:`` line, exit 2."""

from __future__ import annotations

import ipaddress
import re
import tempfile
from pathlib import Path

import click
from cryptography import x509

from sms_contract.cli._common import fail
from sms_contract.mock_provider.tls import LOCAL_HOSTS, TlsFiles, ensure_local_tls

#: A DNS name (labels of letters, digits, '-' and '_', as container service names have).
_DNS_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*"
)


def require_writable(directory: Path, role: str, setting: str) -> None:
    """Create ``directory`` when missing and prove it writable, or stop with one line.

    Checked before anything is written, so a read-only or missing volume is a
    sentence naming the setting to change, not a traceback from deep inside.
    """
    hint = f"mount a writable volume there or choose another with {setting}"
    if directory.exists() and not directory.is_dir():
        fail(f"{role} {directory} is not a directory; {hint}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fail(f"cannot create {role} {directory} ({error.strerror}); {hint}")
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        fail(f"{role} {directory} is not writable ({error.strerror}); {hint}")


def require_state_dirs(db_path: Path, state_dir: Path | None) -> None:
    """Check the directories ``serve`` writes: ``state_dir`` (the local CA) when
    used, and the inbox's directory."""
    if state_dir is not None:
        require_writable(state_dir, "the state directory", "--state-dir (SMS_CONTRACT_STATE_DIR)")
    if state_dir is None or db_path.parent.resolve() != state_dir.resolve():
        require_writable(db_path.parent, "the inbox's directory", "--db (SMS_CONTRACT_DB)")


def check_tls_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The certificate's names: the local ones, then ``names`` (host names or IPs)."""
    for name in names:
        if not _is_ip(name) and not _DNS_NAME.fullmatch(name):
            fail(f"--tls-name {name!r} is neither a host name nor an IP address")
    return tuple(dict.fromkeys((*LOCAL_HOSTS, *names)))


def _certified_names(certificate: Path) -> set[str]:
    """The DNS names and IP addresses a PEM certificate is valid for."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = set(alternative.get_values_for_type(x509.DNSName))
    return names | {str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)}


def local_tls(directory: Path, extra_names: tuple[str, ...]) -> TlsFiles:
    """The local CA and a certificate valid for localhost and ``extra_names``.

    A certificate made for other names is replaced, CA included (its key is never
    kept, so nothing else could sign a new one): clients then need the new CA.
    """
    names = check_tls_names(extra_names)
    files = ensure_local_tls(directory, names)
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    if not wanted <= _certified_names(files.cert):
        for path in (files.ca_cert, files.cert, files.key):
            path.unlink(missing_ok=True)
        files = ensure_local_tls(directory, names)
        click.echo(
            f"note: a new local CA for {', '.join(names)} (the names changed): "
            f"give clients the new {files.ca_cert}",
            err=True,
        )
    return files


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
