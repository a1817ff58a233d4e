"""``sms-contract healthcheck``: exit 0 when a fake provider's ``/healthz`` answers ok.

The container image's ``HEALTHCHECK`` runs it, so the image needs no curl; CI
scripts run it to wait for a provider they started (``--wait``).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from sms_contract.cli._common import env_option, fail
from sms_contract.exit_codes import EXIT_INVALID, EXIT_OK, EXIT_UNREACHABLE

#: The prefix of the variables ``serve`` reads its options from.
#: Pause between two attempts while waiting.
RETRY_PAUSE = 0.25
#: What a bind-to-all address is reached through from the same machine.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}

_EPILOG = """\b
Examples:
  sms-contract healthcheck                  # the provider serve would start here
  sms-contract healthcheck --wait 30        # retry until it answers, at most 30 s
  sms-contract healthcheck --url https://localhost:8443/healthz --cacert ca.pem

\b
Without --url, the URL and the CA come from the same SMS_CONTRACT_* variables
as serve (HOST, PORT, HTTP, STATE_DIR, CERT): inside the container image,
https://127.0.0.1:8443/healthz trusting /data/tls/ca.pem.

\b
Exit codes: 0 healthy; 1 the server answers but is not healthy; 2 bad usage;
3 unreachable (refused, timeout, DNS, TLS).
"""


@dataclass(frozen=True)
class Probe:
    """The outcome of one attempt: an exit code and the line to print."""

    code: int
    message: str


def default_url(host: str, port: int, plain_http: bool) -> str:
    """The ``/healthz`` URL of a server ``serve`` started with these settings."""
    host = _LOOPBACK.get(host, host)
    try:
        literal = ipaddress.ip_address(host).version == 6
    except ValueError:
        literal = False
    netloc = f"[{host}]" if literal else host
    return f"{'http' if plain_http else 'https'}://{netloc}:{port}/healthz"


def tls_context(cacert: Path | None, insecure: bool) -> ssl.SSLContext:
    """The TLS context of one attempt: ``cacert``, else the system's CAs."""
    context = ssl.create_default_context(cafile=str(cacert) if cacert and not insecure else None)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _reason(error: BaseException) -> str:
    """A short, human reason for a failed connection."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the certificate is not trusted ({error.verify_message})"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error}); is it serving plain HTTP (--http)?"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(error, TimeoutError | socket.timeout):
        return "no answer in time"
    if isinstance(error, http.client.HTTPException | ConnectionResetError):
        return "the connection was closed without an HTTP answer; is it serving HTTPS?"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def probe(url: str, context: ssl.SSLContext, timeout: float) -> Probe:
    """One GET of ``url``: healthy, not healthy (it answered) or unreachable."""
    # A health check talks to a server next to it: never through a proxy.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=timeout) as response:
            status, body = response.status, response.read(65536)
    except urllib.error.HTTPError as error:
        return Probe(EXIT_INVALID, f"{url} answered HTTP {error.code}: not healthy")
    except urllib.error.URLError as error:
        reason = error.reason if isinstance(error.reason, BaseException) else None
        text = _reason(reason) if reason else str(error.reason)
        return Probe(EXIT_UNREACHABLE, f"{url} is unreachable: {text}")
    except (OSError, http.client.HTTPException) as error:
        return Probe(EXIT_UNREACHABLE, f"{url} is unreachable: {_reason(error)}")
    try:
        health: Any = json.loads(body)
    except ValueError:
        health = None
    if not isinstance(health, dict) or health.get("status") != "ok":
        return Probe(
            EXIT_INVALID, f"{url} answered HTTP {status} but not {{'status': 'ok'}}: not healthy"
        )
    version = health.get("version", "?")
    schema = health.get("schemaVersion", "?")
    return Probe(EXIT_OK, f"healthy: {url} (sms-contract {version}, schema {schema})")


def check(
    url: str, cacert: Path | None, insecure: bool, wait: float, timeout: float
) -> tuple[Probe, int]:
    """Probe ``url`` until healthy or ``wait`` seconds have passed: the last probe
    and the number of attempts."""
    deadline = time.monotonic() + wait
    attempts = 0
    while True:
        attempts += 1
        # The CA file may appear while waiting: serve writes it as it starts.
        usable_ca = cacert if cacert is not None and cacert.is_file() else None
        # While waiting, no attempt runs past the deadline.
        budget = max(0.1, min(timeout, deadline - time.monotonic())) if wait else timeout
        result = probe(url, tls_context(usable_ca, insecure), budget)
        left = deadline - time.monotonic()
        if result.code == EXIT_OK or left <= 0:
            return result, attempts
        time.sleep(min(RETRY_PAUSE, left))


@click.command(epilog=_EPILOG)
@click.option(
    "--url",
    metavar="URL",
    help="The health URL [default: built from --host, --port and --http].",
)
@click.option(
    "--cacert",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Trust this CA file (PEM) [default: STATE_DIR/tls/ca.pem when it exists].",
)
@click.option("--insecure", is_flag=True, help="Do not check the server's certificate.")
@click.option(
    "--wait",
    type=click.FloatRange(0, 3600),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Retry until healthy or SECONDS have passed.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds one attempt may take.",
)
@env_option("--host", env="HOST", default="127.0.0.1", show_default=True, help="serve's --host.")
@env_option("--port", env="PORT", default=8443, show_default=True, type=click.IntRange(1, 65535))
@env_option("--http", "plain_http", env="HTTP", is_flag=True, help="serve's --http (plain HTTP).")
@env_option(
    "--state-dir",
    env="STATE_DIR",
    default=".state",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="serve's --state-dir, where the local CA is.",
)
@env_option(
    "--cert",
    "own_cert",
    env="CERT",
    type=click.Path(path_type=Path, dir_okay=False),
    help="serve's --cert: with a certificate of your own, the loopback check does not "
    "verify it (it names your host, not 127.0.0.1).",
)
def healthcheck(
    url: str | None,
    cacert: Path | None,
    insecure: bool,
    wait: float,
    timeout: float,
    host: str,
    port: int,
    plain_http: bool,
    state_dir: Path,
    own_cert: Path | None,
) -> None:
    """Exit 0 when the fake provider's /healthz answers {"status": "ok"}.

    One line on stdout when healthy; else one `error:` line on stderr.
    """
    if cacert is not None and not wait and not cacert.is_file():
        fail(f"--cacert {cacert}: no such file")
    if url is None:
        url = default_url(host, port, plain_http)
        if cacert is None and not plain_http:
            cacert = state_dir / "tls" / "ca.pem"
            # A server's own certificate names its public host: checking that the
            # server next to us answers needs no trust in it.
            insecure = insecure or own_cert is not None
    elif not url.startswith(("http://", "https://")):
        fail(f"--url must start with http:// or https:// (got {url!r})")
    result, attempts = check(url, cacert, insecure, wait, timeout)
    if result.code == EXIT_OK:
        click.echo(result.message)
        sys.exit(EXIT_OK)
    waited = f" (after {attempts} attempts in {wait:g} s)" if wait else ""
    fail(result.message + waited, result.code)
