"""The fake provider's configuration: one typed object that every part reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sms_contract.core.credentials import check_login
from sms_contract.core.readings import DEFAULTS, Readings, parse_readings
from sms_contract.exceptions import ConfigError, ReadingError, RuleError
from sms_contract.mock_provider.faults.rules import parse_rules
from sms_contract.mock_provider.upstream import UpstreamConfig

AuthMode = Literal["none", "any", "strict"]
SyncMode = Literal["normal", "full"]
#: Which endpoints the verify page may check (``off``: no page, no API).
VerifyTargets = Literal["public", "any", "off"]


def _header_safe(token: str) -> bool:
    """Printable ASCII without spaces: what a header carries the same in every client."""
    return bool(token) and all("!" <= char <= "~" for char in token)


def _readings(given: Readings | Mapping[str, str] | str, strict_fields: bool) -> Readings:
    """``given`` as ``Readings``; ``strict_fields`` forces ``unknown-fields=reject``."""
    try:
        if isinstance(given, str):
            readings = parse_readings([given])
        elif isinstance(given, Readings):
            readings = given
        else:
            readings = Readings.from_mapping(given)
    except ReadingError as error:
        raise ConfigError(str(error)) from None
    return replace(readings, unknown_fields="reject") if strict_fields else readings


def _upstream(given: UpstreamConfig | Mapping[str, Any] | str | None) -> UpstreamConfig | None:
    """``given`` as an ``UpstreamConfig`` (``ConfigError`` when it cannot be used)."""
    if given is None or isinstance(given, UpstreamConfig):
        return given
    if isinstance(given, str):
        return UpstreamConfig(given)
    return UpstreamConfig(**given)


def _check_faults(config: ProviderConfig) -> None:
    if not 0 < config.fault_max_seconds <= 3600:
        raise ConfigError("the fault time limit must be over 0 and at most 3600 seconds")
    try:
        parse_rules(config.faults, max_seconds=config.fault_max_seconds)
    except RuleError as error:
        raise ConfigError(f"bad fault rule: {error}") from None


@dataclass(frozen=True)
class ProviderConfig:
    """Everything the fake provider's app needs; built once, shared read-only.

    ``credentials`` holds ``(login, password)`` pairs for ``auth="strict"``; it
    is left out of ``repr`` so that a password is never printed.
    """

    db_path: Path = Path(".state/inbox.sqlite3")
    send_path: str = "/sms"
    auth: AuthMode = "none"
    credentials: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    realm: str = "sms-contract"
    max_body_bytes: int = 64 * 1024
    #: The readings of the contract the sends are judged under (``core/readings.py``):
    #: a ``Readings``, a mapping (``{"unicode": "exact"}``) or a string
    #: (``"unicode=exact credits=simple"``), read over the defaults.
    readings: Readings = DEFAULTS
    #: Refuse unknown fields: the same as the reading ``unknown-fields=reject``.
    strict_fields: bool = False
    max_messages: int = 100_000
    admin_token: str | None = field(default=None, repr=False)
    #: Fault rules to start with (docs/faults.md): a JSON or YAML file, then these
    #: (dicts or ``FaultRule``); a server starts with exactly these rules. The
    #: file is read when the server starts (``ProviderState.install_start_rules``).
    faults_file: Path | None = None
    faults: tuple[Any, ...] = ()
    #: Longest a fault may hold a send (delay, hang), in seconds.
    fault_max_seconds: float = 60.0
    #: ``normal``: a send is in the WAL before the answer (survives a crash of
    #: the server); ``full``: also fsynced (survives a power cut), slower.
    sync: SyncMode = "normal"
    #: Longest ``timeout`` accepted by ``/api/messages/wait``, in seconds.
    max_wait: float = 60.0
    #: Longest pause while reading a request body before answering 408, in seconds.
    read_timeout: float = 10.0
    #: Longest time for a whole request body (408 past it), in seconds; enforced
    #: under ``serve`` (gevent), where a read can be interrupted.
    body_timeout: float = 30.0
    #: Event streams (``/api/events``) and waits (``/api/messages/wait``) open at
    #: once, per server process; past it the answer is 503 with Retry-After.
    max_streams: int = 16
    max_waits: int = 64
    #: Host names the server answers to (any Host when ``None``): ``serve`` bound
    #: to a loopback address allows ``localhost``, ``127.0.0.1`` and ``::1``.
    allowed_hosts: tuple[str, ...] | None = None
    #: Make this a proxy (``sms-contract proxy``, docs/proxy.md): every send is
    #: checked and recorded as usual, then forwarded to this upstream, whose
    #: answer goes back to the client. An ``UpstreamConfig``, its fields as a
    #: mapping, or just the upstream's URL.
    upstream: UpstreamConfig | None = None
    #: The verify page and ``/api/verify/runs``: ``public`` checks public addresses only
    #: (``serve``'s default off loopback), ``any`` any address, ``off`` removes both.
    verify_targets: VerifyTargets = "any"
    #: Verify runs under way at once on the whole server (429 past it).
    verify_max_runs: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "upstream", _upstream(self.upstream))
        object.__setattr__(self, "readings", _readings(self.readings, self.strict_fields))
        _check_faults(self)
        if not self.send_path.startswith("/") or self.send_path.startswith(("/api", "/ns/")):
            raise ConfigError(
                f"the send path must start with '/' and not be under /api or /ns/: "
                f"{self.send_path!r}"
            )
        if self.auth not in ("none", "any", "strict"):
            raise ConfigError(f"auth must be none, any or strict, not {self.auth!r}")
        if self.auth == "strict" and not self.credentials:
            raise ConfigError("auth=strict needs at least one login:password pair")
        for login, _password in self.credentials:
            try:
                check_login(login)
            except ValueError as error:
                raise ConfigError(f"login {login!r} refused: {error}") from None
        if self.admin_token is not None and not _header_safe(self.admin_token):
            raise ConfigError(
                "the admin token must be 1 or more printable ASCII characters (letters, "
                "digits, punctuation): HTTP headers carry other characters as Latin-1, "
                "so no client could send it"
            )
        if self.max_body_bytes < 1024:
            raise ConfigError("the body limit must be at least 1024 bytes")
        if not 0 < self.read_timeout <= 3600:
            raise ConfigError("the read timeout must be more than 0 and at most 3600 seconds")
        if not 0 < self.body_timeout <= 3600:
            raise ConfigError("the body timeout must be more than 0 and at most 3600 seconds")
        if self.max_streams < 0 or self.max_waits < 0:
            raise ConfigError("the stream and wait caps cannot be negative")
        if not 0 <= self.max_wait <= 3600:
            raise ConfigError("the longest wait must be between 0 and 3600 seconds")
        if self.max_messages < 1:
            raise ConfigError("the inbox must keep at least one message")
        if self.verify_targets not in ("public", "any", "off"):
            raise ConfigError(
                f"verify targets must be public, any or off, not {self.verify_targets!r}"
            )
        if not 1 <= self.verify_max_runs <= 100:
            raise ConfigError("the verify runs at once must be between 1 and 100")


def default_wait(config: ProviderConfig) -> float:
    """The ``timeout`` of ``/api/messages/wait`` when none is given: 10 s, or less."""
    return min(10.0, config.max_wait)
