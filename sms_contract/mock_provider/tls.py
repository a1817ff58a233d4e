"""A local certificate authority and a server certificate for localhost."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme

#: The names the local server certificate is valid for.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA to trust, and the server's certificate chain and key."""

    ca_cert: Path
    cert: Path
    key: Path


def ensure_local_tls(directory: Path, hosts: tuple[str, ...] = LOCAL_HOSTS) -> TlsFiles:
    """Create (once) a local CA and a server certificate in ``directory``.

    The CA's private key is never written: nobody can mint more certificates
    that clients of this CA would trust.
    """
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    if files.ca_cert.exists() and files.cert.exists() and files.key.exists():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="sms-contract local CA")
    leaf = authority.issue_cert(*hosts)
    files.cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    files.key.touch(mode=0o600)
    os.chmod(files.key, 0o600)
    files.key.write_bytes(leaf.private_key_pem.bytes())
    # Written last: its presence marks a complete set.
    files.ca_cert.write_bytes(authority.cert_pem.bytes())
    return files
