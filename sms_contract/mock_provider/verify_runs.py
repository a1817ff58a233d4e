"""Runs of the checker (``sms-contract verify``) started from the web: what a request may
ask, how a run starts, and the run itself in the background of the worker.

A run starts in three steps, all before the 202 answer: the request is checked
(the messages of the ``verify`` command), a place is reserved in the database
(one run per client address, ``verify_max_runs`` per server), then the endpoint
is reached (TCP, TLS handshakes, through the address rule of ``verify_targets``):
an unreachable endpoint, an address the server may not reach or a TLS failure
refuses the run, and frees its place. The checks then run in a background
thread (a greenlet under ``serve``: their network waits block no send), each
stored as it finishes, so any worker can show the run's progress.

The password lives in memory for the length of the run only: it is never
stored, logged or shown, and every text of the report is redacted of it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import ssl
import tempfile
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent

from sms_contract.contract_tests.catalogue import DEFAULT_MAX_SENDS
from sms_contract.contract_tests.inputs import (
    check_number,
    check_run_login,
    check_selection,
    check_url,
    selectors,
)
from sms_contract.core.readings import DEFAULTS
from sms_contract.exceptions import InvalidRunInput, TlsFailure, Unreachable
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.limits import run_deadline
from sms_contract.mock_provider.storage.database import SharedDatabase
from sms_contract.mock_provider.storage.verify_runs import RunFilter, VerifyRunStore
from sms_contract.sender.transport import plain_http_refusal

if TYPE_CHECKING:  # the checker itself is imported where a run starts (a worker)
    from sms_contract.contract_tests.runner import Options, Result, Runner

_log = logging.getLogger(__name__)

#: The most sends a web run may ask for (``maxSends``): enough for every check.
MAX_SENDS = DEFAULT_MAX_SENDS
#: Seconds to wait for each connection and answer, as ``verify``'s default.
RUN_TIMEOUT = 10.0
#: The longest a run may last (enforced under ``serve``, where a wait can be interrupted).
RUN_SECONDS = 600.0
#: The longest the endpoint may take to be reached before the 202 answer.
REACH_SECONDS = 30.0
#: Bounds of the request's texts.
MAX_URL = 2048
MAX_SECRET = 1024
MAX_CA = 32 * 1024
MAX_SELECTORS = 64

#: Every field of a run request, as the API names them.
FIELDS = (
    "url",
    "to",
    "longTo",
    "login",
    "password",
    "cacert",
    "only",
    "skip",
    "maxSends",
    "allowHttp",
)


@dataclass(frozen=True)
class RunRequest:
    """A run as asked for, checked; the password and the CA are never part of ``repr``."""

    url: str
    to: str
    long_to: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    cacert: str | None = field(default=None, repr=False)
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    max_sends: int = MAX_SENDS
    allow_http: bool = False

    def stored(self) -> dict[str, Any]:
        """What is kept of the request: never the password, and of the CA only whether
        one was given."""
        return {
            "url": self.url,
            "to": self.to,
            "longTo": self.long_to,
            "login": self.login,
            "cacert": self.cacert is not None,
            "only": list(self.only),
            "skip": list(self.skip),
            "maxSends": self.max_sends,
            "allowHttp": self.allow_http,
        }


def _text(data: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRunInput(name, f"{name} must be a string", "type")
    if len(value) > limit:
        raise InvalidRunInput(name, f"{name} must have at most {limit} characters", "max_length")
    return value


def _selectors(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > MAX_SELECTORS
        or not all(isinstance(item, str) and len(item) <= 200 for item in value)
    ):
        raise InvalidRunInput(
            name, f"{name} must be a list of at most {MAX_SELECTORS} check ids or prefixes", "type"
        )
    return selectors(value)


def parse_run_request(data: Mapping[str, Any]) -> RunRequest:
    """Check a run request (the JSON object of ``POST /api/verify/runs``), field by field
    in the form's order, with the messages of the ``verify`` command;
    ``InvalidRunInput`` names the first field at fault."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidRunInput(
            unknown[0],
            f"unknown field {unknown[0]!r}; a run takes {', '.join(FIELDS)}",
            "unknown_field",
        )
    allow_http = data.get("allowHttp", False)
    if not isinstance(allow_http, bool):
        raise InvalidRunInput("allowHttp", "allowHttp must be true or false", "type")
    url = _text(data, "url", MAX_URL)
    if url is None:
        raise InvalidRunInput("url", "url is required: the endpoint to check", "required")
    check_url(url, credentials_hint="login and password")
    refusal = plain_http_refusal(url, allow_http_loopback=allow_http)
    if refusal is not None:
        raise InvalidRunInput("url", refusal, "https_only")
    to = _text(data, "to", 32)
    if to is None:
        raise InvalidRunInput(
            "to", "to is required: every SMS of the run goes to this number of yours", "required"
        )
    check_number(to, "to")
    long_to = _text(data, "longTo", 32)
    if long_to is not None:
        check_number(long_to, "longTo", digits=15)
    login, password = _text(data, "login", 256), _text(data, "password", MAX_SECRET)
    if login is not None:
        check_run_login(login, "login")
        if url.lower().startswith("http://"):
            raise InvalidRunInput(
                "login",
                "credentials never travel over plain http: give an https:// URL, "
                "or leave login and password out",
                "credentials_in_clear",
            )
        if not password:
            raise InvalidRunInput("password", "password is required with login", "required")
    elif password is not None:
        raise InvalidRunInput("password", "password needs login", "required")
    cacert = _ca(_text(data, "cacert", MAX_CA))
    only, skip = _selectors(data, "only"), _selectors(data, "skip")
    check_selection(only, skip)
    max_sends = data.get("maxSends", MAX_SENDS)
    if isinstance(max_sends, bool) or not isinstance(max_sends, int):
        raise InvalidRunInput("maxSends", "maxSends must be an integer", "type")
    if not 0 <= max_sends <= MAX_SENDS:
        raise InvalidRunInput(
            "maxSends", f"maxSends must be between 0 and {MAX_SENDS} on this server", "range"
        )
    return RunRequest(
        url=url,
        to=to,
        long_to=long_to,
        login=login,
        password=password,
        cacert=cacert,
        only=only,
        skip=skip,
        max_sends=max_sends,
        allow_http=allow_http,
    )


def _ca(pem: str | None) -> str | None:
    """``pem`` when it holds at least one readable PEM certificate."""
    if pem is None:
        return None
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError):
        raise InvalidRunInput(
            "cacert", "the CA (cacert) holds no readable PEM certificate", "pem"
        ) from None
    return pem


def tls_refusal(runner: Runner) -> str | None:
    """Why no check could send a request over TLS (the message of the check that says
    it), or ``None``: a web run does not go on past an invalid certificate."""
    tls = runner.tls
    if tls is None:
        return None
    if tls.handshake_error:
        return f"no handshake at TLS 1.2 or later: {tls.handshake_error}"
    if tls.verify_error:
        return (
            f"the certificate is not valid: {tls.verify_error} (for a private CA, give its "
            "certificate in cacert, PEM)"
        )
    return None


class WebRuns:
    """Starts, runs and reads the web's verify runs; safe to share between threads."""

    def __init__(self, database: SharedDatabase, config: ProviderConfig) -> None:
        self.config = config
        self.store = VerifyRunStore(database, longest_seconds=RUN_SECONDS)

    def start(self, data: Mapping[str, Any], client: str) -> str:
        """Check ``data``, reserve a place, reach the endpoint, then run in the
        background; the run's id. ``InvalidRunInput``, ``VerifyBusy``,
        ``Unreachable`` (``TargetRefused``) or ``TlsFailure`` refuse it."""
        request = parse_run_request(data)
        run_id = secrets.token_urlsafe(12)
        ca_file = _ca_file(request.cacert)
        try:
            # Here, not at the top: the master process must not import the HTTP client
            # before gevent patches its workers, and only a worker starts runs.
            from sms_contract.contract_tests.runner import Runner

            runner = Runner(_options(request, ca_file, self.config))
            self.store.reserve(
                run_id,
                client=client,
                request=request.stored(),
                total=len(runner.specs),
                max_running=self.config.verify_max_runs,
            )
        except BaseException:
            _remove(ca_file)
            raise
        try:
            _reach(runner)
        except BaseException:
            self.store.discard(run_id)
            _remove(ca_file)
            raise
        thread = threading.Thread(
            target=self._run, args=(run_id, runner, ca_file), name=f"verify-{run_id}", daemon=True
        )
        thread.start()
        return run_id

    def _run(self, run_id: str, runner: Runner, ca_file: str | None) -> None:
        from sms_contract.contract_tests.reports import build, check_entry

        redact = runner.target.redact

        def progress(result: Result) -> None:
            self.store.add_check(run_id, check_entry(result, redact))

        try:
            with run_deadline(RUN_SECONDS):
                report = runner.run(progress)
            self.store.finish(run_id, build(report, redact))
        except gevent.Timeout:
            self.store.interrupt(run_id, f"stopped: a run may last {RUN_SECONDS:g} s at most")
        except Exception as error:
            if self.store.closed:  # the server stopped under the run: its next start says so
                return
            # The traceback holds code, not values; its message is redacted all the same.
            trace = redact("".join(traceback.format_exception(error)))
            _log.error("verify run %s failed:\n%s", run_id, trace)
            self.store.interrupt(run_id, redact(f"the run failed: {type(error).__name__}: {error}"))
        except BaseException:  # the worker is stopping (a greenlet killed)
            with contextlib.suppress(Exception):
                self.store.interrupt(run_id, "the server stopped before the end of the run")
            raise
        finally:
            _remove(ca_file)

    def get(self, run_id: str, checks_from: int = 0) -> dict[str, Any] | None:
        """One run and its checks from position ``checks_from``."""
        return self.store.get(run_id, checks_from=checks_from)

    def find(self, client: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """The runs a client may list, newest first: every run when an admin token guards
        the server, else the client's own (another partner's endpoint is not shown)."""
        shown = None if self.config.admin_token is not None else client
        return self.store.find(RunFilter(shown, limit, offset))

    def interrupt_all(self) -> int:
        """Mark the runs a previous server left running ``interrupted``; how many."""
        return self.store.interrupt_all("the server restarted before the end of the run")


def _options(request: RunRequest, ca_file: str | None, config: ProviderConfig) -> Options:
    from sms_contract.contract_tests.runner import Options

    return Options(
        request.url,
        request.to,
        long_to=request.long_to,
        login=request.login,
        password=request.password,
        cacert=ca_file,
        allow_http=request.allow_http,
        max_sends=request.max_sends,
        timeout=RUN_TIMEOUT,
        only=request.only,
        skip=request.skip,
        targets="public" if config.verify_targets == "public" else "any",
        # As the verify command: payloads built under the default readings.
        readings=DEFAULTS.to_dict(),
    )


def _reach(runner: Runner) -> None:
    """Reach the endpoint before answering: ``Unreachable`` or ``TlsFailure`` when no
    check could run."""
    try:
        with run_deadline(REACH_SECONDS):
            runner.reach()
    except gevent.Timeout:
        raise Unreachable(f"the endpoint was not reached within {REACH_SECONDS:g} s") from None
    refusal = tls_refusal(runner)
    if refusal is not None:
        raise TlsFailure(refusal)


def _ca_file(pem: str | None) -> str | None:
    """The CA in a private temporary file, as the HTTP and TLS libraries read it."""
    if pem is None:
        return None
    descriptor, path = tempfile.mkstemp(prefix="sms-contract-ca-", suffix=".pem")
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(pem)
    return path


def _remove(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
