"""``sms-contract serve``: run the fake provider over HTTPS.

Its options and its start are shared with ``sms-contract proxy`` (cli/proxy.py),
which serves the same app with an upstream."""

from __future__ import annotations

import ipaddress
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import click

from sms_contract.cli._common import env_option, fail, reading_option
from sms_contract.cli._state import require_state_dirs
from sms_contract.core.readings import DEFAULTS, Readings
from sms_contract.exceptions import ConfigError, RuleError
from sms_contract.exit_codes import EXIT_USAGE
from sms_contract.mock_provider.config import ProviderConfig, VerifyTargets
from sms_contract.mock_provider.faults.rules import load_rules_file
from sms_contract.mock_provider.server import ServeOptions, run
from sms_contract.mock_provider.tls import LOCAL_HOSTS, TlsFiles
from sms_contract.mock_provider.tls_names import check_tls_names, local_tls_for_names
from sms_contract.mock_provider.upstream import UpstreamConfig

_EXAMPLE = {
    "type": "NOTIFICATION",
    "sender": "INOCX",
    "to": "+33612345678",
    "retId": "hello-1",
    "isUnicode": False,
    "text": "Hello from sms-contract",
    "credits": 1,
}


def _read_credentials(pairs: tuple[str, ...], file: Path | None) -> tuple[tuple[str, str], ...]:
    lines = list(pairs)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as error:
            fail(f"cannot read the credentials file {file}: {error.strerror}")
        lines += [line.strip() for line in text.splitlines() if line.strip()]
    result = []
    for line in lines:
        login, separator, password = line.partition(":")
        if not separator or not login:
            fail("credentials are LOGIN:PASSWORD (the password is never printed)")
        result.append((login, password))
    return tuple(result)


#: The default state directory of ``serve`` (a proxy keeps its own, see cli/proxy.py).
STATE_DIR = ".state"

Command = TypeVar("Command", bound=Callable[..., Any])


def server_options(*, state_dir: str) -> Callable[[Command], Command]:
    """Every option of ``serve`` (listener, TLS, auth, inbox, limits, faults, readings),
    each also read from its ``SMS_CONTRACT_*`` variable; ``state_dir`` is the default
    of ``--state-dir``. The command receives them as keyword arguments, for ``start``."""

    def decorate(command: Command) -> Command:
        for option in reversed(_server_options(state_dir)):
            command = option(command)
        return command

    return decorate


def _server_options(state_dir: str) -> list[Callable[[Any], Any]]:
    return [
        env_option(
            "--host", env="HOST", default="127.0.0.1", show_default=True, help="Address to bind."
        ),
        env_option(
            "--port", env="PORT", default=8443, show_default=True, type=click.IntRange(0, 65535)
        ),
        env_option(
            "--workers", env="WORKERS", default=2, show_default=True, type=click.IntRange(1, 64)
        ),
        env_option(
            "--worker-class",
            env="WORKER_CLASS",
            type=click.Choice(["gevent", "gthread"]),
            default="gevent",
            show_default=True,
            help="gevent: a greenlet per connection (slow or idle clients hold no thread); "
            "gthread: --threads threads per worker.",
        ),
        env_option(
            "--threads",
            env="THREADS",
            default=8,
            show_default=True,
            type=click.IntRange(1, 256),
            help="Threads per worker (gthread only).",
        ),
        env_option(
            "--connections",
            env="CONNECTIONS",
            default=1000,
            show_default=True,
            type=click.IntRange(10, 100_000),
            help="Open connections per worker (gevent only).",
        ),
        env_option(
            "--head-timeout",
            env="HEAD_TIMEOUT",
            default=5,
            show_default=True,
            type=click.IntRange(1, 600),
            help="Seconds for a request head to arrive (408 past it; gevent only), "
            "and the keep-alive idle time.",
        ),
        env_option(
            "--state-dir",
            env="STATE_DIR",
            default=state_dir,
            show_default=True,
            type=click.Path(path_type=Path, file_okay=False),
            help="Where the inbox and the local CA live.",
        ),
        env_option(
            "--db",
            env="DB",
            type=click.Path(path_type=Path, dir_okay=False),
            help="The SQLite inbox file [default: STATE_DIR/inbox.sqlite3].",
        ),
        env_option(
            "--path",
            "send_path",
            env="SEND_PATH",
            default="/sms",
            show_default=True,
            help="Send path.",
        ),
        env_option(
            "--cert", env="CERT", type=click.Path(path_type=Path, exists=True, dir_okay=False)
        ),
        env_option(
            "--key", env="KEY", type=click.Path(path_type=Path, exists=True, dir_okay=False)
        ),
        env_option(
            "--tls-name",
            "tls_names",
            env="TLS_NAMES",
            multiple=True,
            metavar="NAME",
            help="Another host name or IP the local certificate is valid for, besides "
            "localhost, 127.0.0.1 and ::1 (a CI service's name; repeat; the env var takes "
            "them space-separated).",
        ),
        env_option(
            "--http", "plain_http", env="HTTP", is_flag=True, help="Serve plain HTTP (no TLS)."
        ),
        env_option(
            "--auth",
            env="AUTH",
            type=click.Choice(["none", "any", "strict"]),
            default="none",
            show_default=True,
            help="none; any (Basic required, any credentials); strict (the configured pairs).",
        ),
        env_option(
            "--credential",
            "credentials",
            env="CREDENTIALS",
            multiple=True,
            metavar="LOGIN:PASSWORD",
            help="A pair accepted by --auth strict (repeat; the env var takes them "
            "space-separated, so a password with a space needs --credentials-file).",
        ),
        env_option(
            "--credentials-file",
            env="CREDENTIALS_FILE",
            type=click.Path(path_type=Path, dir_okay=False),
            help="A file of LOGIN:PASSWORD lines (keeps passwords out of the process list).",
        ),
        reading_option,
        env_option(
            "--strict-fields",
            env="STRICT_FIELDS",
            is_flag=True,
            help="Refuse unknown fields (the same as --reading unknown-fields=reject).",
        ),
        env_option(
            "--max-body",
            env="MAX_BODY",
            default=65536,
            show_default=True,
            type=click.IntRange(1024),
        ),
        env_option(
            "--max-messages",
            env="MAX_MESSAGES",
            default=100_000,
            show_default=True,
            type=click.IntRange(1),
        ),
        env_option(
            "--read-timeout",
            env="READ_TIMEOUT",
            default=10.0,
            show_default=True,
            type=click.FloatRange(0, 3600, min_open=True),
            help="Seconds a request body may stall before the answer is 408.",
        ),
        env_option(
            "--body-timeout",
            env="BODY_TIMEOUT",
            default=30.0,
            show_default=True,
            type=click.FloatRange(0, 3600, min_open=True),
            help="Seconds for a whole request body before the answer is 408 (gevent only).",
        ),
        env_option(
            "--max-streams",
            env="MAX_STREAMS",
            default=16,
            show_default=True,
            type=click.IntRange(0, 10_000),
            help="Open inbox event streams per worker (503 past it; the UI then polls).",
        ),
        env_option(
            "--max-waits",
            env="MAX_WAITS",
            default=64,
            show_default=True,
            type=click.IntRange(0, 10_000),
            help="Open /api/messages/wait requests per worker (503 past it).",
        ),
        env_option("--admin-token", env="ADMIN_TOKEN", help="Require this bearer token on /api."),
        env_option(
            "--admin-token-file",
            env="ADMIN_TOKEN_FILE",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Read the admin token from this file (keeps it out of the process list).",
        ),
        env_option(
            "--allowed-host",
            "allowed_hosts",
            env="ALLOWED_HOSTS",
            multiple=True,
            metavar="NAME",
            help="A Host name the server answers to (repeat). Bound to loopback it answers to "
            "localhost, 127.0.0.1 and ::1 plus these; bound elsewhere, to any name unless given.",
        ),
        env_option(
            "--verify-targets",
            env="VERIFY_TARGETS",
            type=click.Choice(["public", "any", "off"]),
            help="The verify page (/verify, /api/verify/runs): public checks public endpoints "
            "only (no loopback, private, link-local, multicast or reserved address, checked on "
            "every connection); any, any address; off removes the page and its API. "
            "[default: any bound to loopback, else public]",
        ),
        env_option(
            "--verify-max-runs",
            env="VERIFY_MAX_RUNS",
            default=2,
            show_default=True,
            type=click.IntRange(1, 100),
            help="Verify runs under way at once on the whole server (429 past it; one per client).",
        ),
        env_option(
            "--sync",
            env="SYNC",
            type=click.Choice(["normal", "full"]),
            default="normal",
            show_default=True,
            help="normal: survives a server crash; full: also a power cut (fsync per send).",
        ),
        env_option("--access-log", env="ACCESS_LOG", is_flag=True, help="Log every request."),
        env_option(
            "--faults",
            "faults_file",
            env="FAULTS",
            type=click.Path(path_type=Path, exists=True, dir_okay=False),
            help="Fault rules to start with, JSON or YAML (see docs/faults.md).",
        ),
        env_option(
            "--fault-max-seconds",
            env="FAULT_MAX_SECONDS",
            default=60.0,
            show_default=True,
            type=click.FloatRange(0, 3600, min_open=True),
            help="Longest a fault may hold a send (delay, hang).",
        ),
    ]


@click.command()
@server_options(state_dir=STATE_DIR)
def serve(**settings: Any) -> None:
    """Serve the fake SMS provider (gunicorn, gevent workers), over HTTPS by default.

    On first run a local CA and a certificate for localhost, 127.0.0.1 and ::1
    are created in STATE_DIR/tls; point clients at STATE_DIR/tls/ca.pem. Every
    option can also be set through the environment variable shown. Stop with
    Ctrl-C or SIGTERM (graceful).
    """
    start(settings)


def start(settings: dict[str, Any], upstream: UpstreamConfig | None = None) -> None:
    """Check ``settings`` (``server_options``' values), print the banner and serve
    until stopped; a proxy when ``upstream`` is given. Bad settings stop it with
    one ``error:`` line (exit 2)."""
    config, options, custom_cert = _prepare(upstream=upstream, **settings)
    if upstream is not None:
        check_not_itself(upstream, options)
    click.echo(_banner(config, options, custom_cert=custom_cert))
    run(config, options)


def _prepare(
    *,
    upstream: UpstreamConfig | None,
    host: str,
    port: int,
    workers: int,
    worker_class: str,
    threads: int,
    connections: int,
    head_timeout: int,
    state_dir: Path,
    db: Path | None,
    send_path: str,
    cert: Path | None,
    key: Path | None,
    tls_names: tuple[str, ...],
    plain_http: bool,
    auth: str,
    credentials: tuple[str, ...],
    credentials_file: Path | None,
    readings: Readings,
    strict_fields: bool,
    max_body: int,
    max_messages: int,
    read_timeout: float,
    body_timeout: float,
    max_streams: int,
    max_waits: int,
    admin_token: str | None,
    admin_token_file: Path | None,
    allowed_hosts: tuple[str, ...],
    verify_targets: str | None,
    verify_max_runs: int,
    sync: str,
    access_log: bool,
    faults_file: Path | None,
    fault_max_seconds: float,
) -> tuple[ProviderConfig, ServeOptions, bool]:
    if (cert is None) != (key is None):
        fail("--cert and --key go together")
    try:
        config = ProviderConfig(
            db_path=db or state_dir / "inbox.sqlite3",
            send_path=send_path,
            auth=auth,  # type: ignore[arg-type]
            credentials=_read_credentials(credentials, credentials_file),
            readings=readings,
            strict_fields=strict_fields,
            max_body_bytes=max_body,
            max_messages=max_messages,
            read_timeout=read_timeout,
            body_timeout=body_timeout,
            max_streams=max_streams,
            max_waits=max_waits,
            admin_token=_admin_token(admin_token, admin_token_file),
            allowed_hosts=_allowed_hosts(host, allowed_hosts),
            verify_targets=_verify_targets(verify_targets, host),
            verify_max_runs=verify_max_runs,
            sync=sync,  # type: ignore[arg-type]
            faults_file=faults_file,
            fault_max_seconds=fault_max_seconds,
            upstream=upstream,
        )
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)
    if faults_file is not None:
        try:  # read again at start; checked here so that nothing starts with a bad file
            load_rules_file(faults_file, max_seconds=fault_max_seconds)
        except RuleError as error:
            fail(f"bad fault rule in {faults_file}: {error}", EXIT_USAGE)
    try:
        names = check_tls_names(tls_names)
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)
    own_ca = not plain_http and cert is None
    require_state_dirs(config.db_path, state_dir if own_ca else None)
    tls = None
    if own_ca:
        tls, replaced = local_tls_for_names(state_dir / "tls", names)
        if replaced:
            click.echo(
                f"note: a new local CA for {', '.join(names)} (the names changed): "
                f"give clients the new {tls.ca_cert}",
                err=True,
            )
    elif not plain_http and cert and key:
        tls = TlsFiles(cert, cert, key)
    options = ServeOptions(
        host,
        port,
        workers,
        threads,
        tls,
        access_log=access_log,
        worker_class=worker_class,  # type: ignore[arg-type]
        connections=connections,
        head_timeout=head_timeout,
    )
    return config, options, cert is not None


def _admin_token(given: str | None, file: Path | None) -> str | None:
    if file is None:
        return given
    if given is not None:
        fail("--admin-token and --admin-token-file go alone, not together", EXIT_USAGE)
    try:
        return file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the admin token file {file}: {error}")


def _allowed_hosts(host: str, extra: tuple[str, ...]) -> tuple[str, ...] | None:
    """The Host allowlist: the loopback names when bound to loopback, plus ``extra``."""
    names = tuple(name.strip().lower().strip("[]") for name in extra if name.strip())
    if is_loopback(host):
        return (*LOCAL_HOSTS, *names)
    return names or None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address) is reachable from this machine only."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _verify_targets(given: str | None, host: str) -> VerifyTargets:
    """``--verify-targets``, else ``any`` bound to loopback and ``public`` elsewhere: a
    server others can reach checks public endpoints only unless told otherwise."""
    if given is None:
        return "any" if is_loopback(host) else "public"
    return cast(VerifyTargets, given)


def _verify_line(config: ProviderConfig, base: str) -> str:
    if config.verify_targets == "off":
        return "  verify     off"
    reach = "public endpoints only" if config.verify_targets == "public" else "any endpoint"
    return (
        f"  verify     {base}/verify   checks {reach}, at most {config.verify_max_runs} "
        "run(s) at once"
    )


def _banner(config: ProviderConfig, options: ServeOptions, *, custom_cert: bool) -> str:
    host = {"0.0.0.0": "localhost", "::": "localhost", "::1": "[::1]"}.get(
        options.host, options.host
    )
    base = f"{options.scheme}://{host}:{options.port}"
    curl = ["curl"]
    if options.tls and not custom_cert:
        curl += ["--cacert", str(options.tls.ca_cert)]
    if config.auth != "none":
        curl += ["-u", "LOGIN:PASSWORD"]
    curl += ["-H", "Content-Type: application/json", "-d", json.dumps(_EXAMPLE)]
    curl.append(base + config.send_path)
    lines = [
        "sms-contract fake SMS provider"
        if config.upstream is None
        else "sms-contract validating proxy",
        f"  send URL   {base}{config.send_path}   (isolated: {base}/ns/NAME{config.send_path})",
        *_upstream_lines(config.upstream),
        f"  inbox      {base}/   API {base}/api/messages   OpenAPI {base}/openapi.json",
        f"  auth       {config.auth}"
        + (f" ({len(config.credentials)} login(s))" if config.auth == "strict" else ""),
        f"  readings   {config.readings}"
        + ("   (the defaults)" if config.readings == DEFAULTS else "")
        + "   (sms-contract readings)",
        f"  database   {config.db_path}",
        f"  faults     {config.faults_file or 'none'}   API {base}/api/faults   "
        f"magic recipients +447700900xxx (docs/faults.md)",
        _verify_line(config, base),
    ]
    if options.tls and not custom_cert:
        lines.append(f"  CA         {options.tls.ca_cert}   (give it to clients: --cacert)")
    if config.admin_token is None and not is_loopback(options.host):
        lines += [
            "",
            f"WARNING: bound to {options.host} with no admin token: anyone who can reach "
            "this port can read every message and plant faults (--admin-token-file).",
        ]
    if config.upstream is not None and config.upstream.insecure:
        lines += [
            "",
            "WARNING: the upstream's certificate is not verified (--upstream-insecure): "
            "whoever sits between here and it can read and change every send; each "
            "record says so.",
        ]
    lines += ["", "Send a test SMS:", "  " + shlex.join(curl), ""]
    return "\n".join(lines)


def _upstream_lines(upstream: UpstreamConfig | None) -> list[str]:
    """What a proxy's banner says of its upstream (never a password)."""
    if upstream is None:
        return []
    if upstream.insecure:
        trust = "NOT VERIFIED (--upstream-insecure)"
    elif not upstream.url.lower().startswith("https:"):
        trust = "none: plain http to a local server"
    elif upstream.ca_bundle is not None:
        trust = f"verified with the CA {upstream.ca_bundle}"
    else:
        trust = "verified with the CA bundle the sender trusts (--upstream-cacert for another)"
    if upstream.login is None:
        auth = "the client's Authorization, passed through"
    else:
        auth = f"replaced by the login {upstream.login!r} (password from the environment)"
    mode = (
        "block-invalid: a send the checks refuse is answered here, as serve would, "
        "and not forwarded"
        if upstream.block_invalid
        else "observe: every send is forwarded; what breaks the contract is recorded "
        "(--block-invalid to answer it here)"
    )
    return [
        f"  upstream   {upstream.url}   (timeout {upstream.timeout:g} s)",
        f"    TLS      {trust}",
        f"    auth     {auth}",
        f"    mode     {mode}",
    ]


def check_not_itself(upstream: UpstreamConfig, options: ServeOptions) -> None:
    """Stop (exit 2) when the upstream is this very server: each send would come
    back to it until the connections run out."""
    parts = urlsplit(upstream.url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    host = (parts.hostname or "").lower()
    bound = options.host in ("0.0.0.0", "::") or is_loopback(options.host)
    if port == options.port and bound and (host == "localhost" or is_loopback(host)):
        fail(f"the upstream {upstream.url} is this proxy itself (port {port})", EXIT_USAGE)
