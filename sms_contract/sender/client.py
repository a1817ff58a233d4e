"""The sender's HTTP client: POST one SMS to a provider, retry, test the connection.

``ProviderClient`` does what the platform does: it refuses a URL that is not
``https://``, checks the login's character set, sends HTTP Basic and the JSON
body through one ``requests.Session``, and reads the answer as SPEC.md
reading 9 says (see :mod:`sms_contract.core.outcome`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from sms_contract import __version__
from sms_contract.core.credentials import InvalidLogin, basic_authorization, check_login
from sms_contract.core.model import SmsPayload
from sms_contract.core.outcome import Outcome, classify, retry_after_seconds
from sms_contract.core.validation import Violation
from sms_contract.exceptions import ConfigurationError, ProviderRejected, ProviderUnavailable
from sms_contract.sender.transport import (
    LibraryErrors,
    NetworkFailure,
    check_ca_bundle,
    check_provider_url,
    describe_network_error,
)

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=utf-8"
USER_AGENT = f"sms-contract/{__version__}"


# -- configuration ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to retry a retryable failure.

    ``max_attempts`` counts every try (1 = no retry). The wait before retry
    ``n`` is a uniform draw in ``[0, min(backoff_max, backoff_base * 2**(n-1))]``
    ("full jitter"), unless the provider sent ``Retry-After``, which wins. No
    attempt starts once ``total_timeout`` seconds have passed since the first.
    """

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    total_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ConfigurationError("backoff_base and backoff_max must not be negative")
        if self.total_timeout <= 0:
            raise ConfigurationError("total_timeout must be positive")

    def backoff_ceiling(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (1 = after the first failure)."""
        return float(min(self.backoff_max, self.backoff_base * 2.0 ** min(retry - 1, 64)))

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``retry``: full jitter under the ceiling."""
        return (rng or random.Random()).uniform(0.0, self.backoff_ceiling(retry))


DEFAULT_RETRY = RetryPolicy()


class _BasicAuth(AuthBase):
    """HTTP Basic with a UTF-8 password (requests' own encodes latin-1), never shown."""

    def __init__(self, login: str, password: str) -> None:
        self._header = basic_authorization(login, password)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "<HTTP Basic credentials (hidden)>"


# -- results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendResult:
    """A send the provider accepted (a 2xx)."""

    status: int
    attempts: int
    elapsed: float
    ret_id: str
    message_id: str | None = None
    duplicate: bool | None = None
    body: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``sms-contract send --json``)."""
        return {
            "outcome": "accepted",
            "status": self.status,
            "attempts": self.attempts,
            "elapsed": round(self.elapsed, 3),
            "retId": self.ret_id,
            "messageId": self.message_id,
            "duplicate": self.duplicate,
            "body": self.body,
        }


class ConnectionOutcome(StrEnum):
    """The verdict of a connection test."""

    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    UNREACHABLE = "unreachable"
    TLS_PROBLEM = "tls_problem"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """What the "Test connection" button would show (SPEC.md reading 3)."""

    outcome: ConnectionOutcome
    message: str
    status: int | None
    elapsed: float
    method: str = "GET"

    @property
    def ok(self) -> bool:
        """True when the provider took the credentials."""
        return self.outcome is ConnectionOutcome.OK

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``sms-contract test-connection --json``)."""
        return {
            "outcome": self.outcome.value,
            "message": self.message,
            "status": self.status,
            "method": self.method,
            "elapsed": round(self.elapsed, 3),
        }


# -- the client -------------------------------------------------------------------

#: requests' and urllib3's own errors, for ``describe_network_error``.
REQUESTS_ERRORS = LibraryErrors(
    tls=(requests.exceptions.SSLError,),
    dns=(urllib3.exceptions.NameResolutionError,),
    connect_timeout=(requests.exceptions.ConnectTimeout,),
    timeout=(requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError),
    dropped=(requests.exceptions.ChunkedEncodingError,),
)


def encode_body(payload: SmsPayload) -> bytes:
    """The exact bytes POSTed for ``payload``: compact JSON, UTF-8, no ``\\u`` escapes."""
    document = payload.to_json_dict()
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _read_body(response: requests.Response) -> Any:
    content = response.content
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return response.text


class ProviderClient:
    """Send SMS payloads to one provider URL, as the platform does.

    Raises ``ConfigurationError`` at construction for a non-https URL (plain
    http only to loopback with ``allow_http_loopback``), a login outside the
    platform's character set, a login without password, or an unreadable CA file.
    ``verify=False`` turns certificate checks off; ``rng`` draws the jittered
    waits (pass a seeded one for reproducible waits).
    """

    def __init__(
        self,
        url: str,
        login: str | None = None,
        password: str | None = None,
        *,
        ca_bundle: str | Path | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        allow_http_loopback: bool = False,
        verify: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self.url = check_provider_url(url, allow_http_loopback=allow_http_loopback)
        parts = urlsplit(self.url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        self._where = f"{parts.hostname}:{port}"
        if login is not None:
            try:
                check_login(login)
            except InvalidLogin as error:
                raise ConfigurationError(str(error)) from None
            if password is None:
                raise ConfigurationError(f"the login {login!r} needs a password")
            if password == "":
                raise ConfigurationError(f"the password for the login {login!r} is empty")
        elif password is not None:
            raise ConfigurationError("a password was given without a login")
        if not timeout > 0:
            raise ConfigurationError("the timeout must be a positive number of seconds")
        if ca_bundle is not None and not verify:
            raise ConfigurationError("a CA file makes no sense with certificate checks turned off")
        self.login = login
        self.timeout = float(timeout)
        self.retry = retry
        self._verify: bool | str = check_ca_bundle(ca_bundle) if ca_bundle is not None else verify
        self._auth = _BasicAuth(login, password) if login is not None and password else None
        self._rng = rng or random.Random()
        self._session = requests.Session()
        # No retries at the transport level: ``send`` owns the retry loop (see there).
        adapter = HTTPAdapter(max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = USER_AGENT

    def __repr__(self) -> str:
        secret = "'***'" if self._auth is not None else "None"
        return f"ProviderClient(url={self.url!r}, login={self.login!r}, password={secret})"

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def _request(self, method: str, *, timeout: float, body: bytes | None = None) -> Any:
        headers = {"Accept": "application/json, application/problem+json"}
        if body is not None:
            headers["Content-Type"] = CONTENT_TYPE
        try:
            return self._session.request(
                method,
                self.url,
                data=body,
                headers=headers,
                auth=self._auth,
                timeout=timeout,
                verify=self._verify,
                allow_redirects=False,
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as error:
            raise ConfigurationError(f"the provider URL cannot be used: {error}") from None

    # Why a hand-rolled loop rather than urllib3's ``Retry`` in the adapter:
    # ``Retry`` has no bound on the total time (its Retry-After sleep is capped
    # only by ``retry_after_max``), its ``backoff_jitter`` adds jitter on top of
    # the exponential wait rather than drawing the whole wait ("full jitter"),
    # the attempt count is hard to recover once it raises ``MaxRetryError``, and
    # its ``status_forcelist`` would be a second copy of the classification that
    # lives in ``outcome.classify``. The loop below is short and owns all four.
    def send(self, payload: SmsPayload) -> SendResult:
        """POST ``payload``; retry what SPEC.md reading 9 calls retryable.

        Every attempt sends the same bytes, hence the same ``retId``. Returns a
        ``SendResult`` on a 2xx; raises ``ProviderRejected`` on a permanent
        answer and ``ProviderUnavailable`` when the last attempt failed, when a
        ``Retry-After`` or the next wait would pass ``retry.total_timeout``, or
        at once on a TLS problem (a certificate does not fix itself on retry).
        """
        body = encode_body(payload)
        policy = self.retry
        started = time.monotonic()
        deadline = started + policy.total_timeout
        attempt = 0
        while True:
            attempt += 1
            timeout = max(0.001, min(self.timeout, deadline - time.monotonic()))
            retry_after: float | None = None
            status: int | None = None
            try:
                response = self._request("POST", timeout=timeout, body=body)
            except requests.RequestException as error:
                failure = describe_network_error(
                    error, self._where, timeout, library=REQUESTS_ERRORS
                )
                last = failure.message
                if failure.kind == "tls":
                    raise self._unavailable(attempt, started, None, failure, last) from None
            else:
                status = response.status_code
                outcome = classify(status)
                if outcome is Outcome.ACCEPTED:
                    return self._accepted(response, payload, attempt, started)
                if outcome is Outcome.PERMANENT:
                    raise _rejection(response)
                failure = NetworkFailure("status", f"HTTP {status}")
                last = f"HTTP {status}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt >= policy.max_attempts:
                raise self._unavailable(attempt, started, status, failure, last)
            wait = retry_after if retry_after is not None else policy.backoff(attempt, self._rng)
            if time.monotonic() + wait >= deadline:
                why = f"retrying in {wait:.1f} s would pass the {policy.total_timeout:g} s limit"
                raise self._unavailable(attempt, started, status, failure, f"{last}; {why}")
            log.info("attempt %d to %s: %s; next attempt in %.2f s", attempt, self.url, last, wait)
            time.sleep(wait)

    def _accepted(
        self, response: requests.Response, payload: SmsPayload, attempts: int, started: float
    ) -> SendResult:
        body = _read_body(response)
        message_id = duplicate = None
        if isinstance(body, dict):
            raw_id = body.get("id")
            if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
                message_id = str(raw_id)
            if isinstance(body.get("duplicate"), bool):
                duplicate = body["duplicate"]
        return SendResult(
            status=response.status_code,
            attempts=attempts,
            elapsed=time.monotonic() - started,
            ret_id=payload.ret_id,
            message_id=message_id,
            duplicate=duplicate,
            body=body,
        )

    def _unavailable(
        self,
        attempts: int,
        started: float,
        status: int | None,
        failure: NetworkFailure,
        last: str,
    ) -> ProviderUnavailable:
        elapsed = time.monotonic() - started
        return ProviderUnavailable(
            f"the provider at {self.url} did not accept the SMS after {attempts} attempt(s) "
            f"in {elapsed:.1f} s; last: {last}",
            attempts=attempts,
            elapsed=elapsed,
            status=status,
            error=None if status is not None else failure.message,
            kind=failure.kind,
        )

    def test_connection(self) -> ConnectionCheck:
        """SPEC.md reading 3: an authenticated ``GET`` on the URL (``HEAD`` when
        ``GET`` answers 405); 2xx is ok, 401/403 bad credentials. No retry."""
        started = time.monotonic()
        method = "GET"
        try:
            response = self._request(method, timeout=self.timeout)
            if response.status_code == 405:
                method = "HEAD"
                response = self._request(method, timeout=self.timeout)
        except requests.RequestException as error:
            failure = describe_network_error(
                error, self._where, self.timeout, library=REQUESTS_ERRORS
            )
            elapsed = time.monotonic() - started
            if failure.kind == "tls":
                message = f"TLS problem with the provider: {failure.message}."
                return ConnectionCheck(
                    ConnectionOutcome.TLS_PROBLEM, message, None, elapsed, method
                )
            message = f"Cannot reach the provider: {failure.message}."
            return ConnectionCheck(ConnectionOutcome.UNREACHABLE, message, None, elapsed, method)
        elapsed = time.monotonic() - started
        status = response.status_code
        outcome, message = self._judge(status, method, response.headers.get("Location"))
        return ConnectionCheck(outcome, message, status, elapsed, method)

    def _judge(
        self, status: int, method: str, location: str | None
    ) -> tuple[ConnectionOutcome, str]:
        login = self.login
        if 200 <= status <= 299:
            if login is None:
                text = f"The provider answered HTTP {status} to {method} without authentication."
            else:
                text = f"The provider accepted the login {login!r} (HTTP {status} to {method})."
            return ConnectionOutcome.OK, text
        if status in (401, 403):
            if login is None:
                text = (
                    f"The provider requires authentication (HTTP {status}): enable it and "
                    "enter the login and password the provider gave you."
                )
            elif status == 401:
                text = (
                    f"The provider refused the login {login!r} (HTTP 401): "
                    "check the login and the password."
                )
            else:
                text = (
                    f"The provider refused access to the login {login!r} (HTTP 403): "
                    "check the password and that this account may send SMS."
                )
            return ConnectionOutcome.BAD_CREDENTIALS, text
        if 300 <= status <= 399:
            target = f" to {location}" if location else ""
            text = (
                f"The provider answered HTTP {status}, a redirect{target}: "
                "enter the final https URL instead (redirects are not followed)."
            )
        elif status == 404:
            text = "The provider answered HTTP 404 (not found): check the URL's path."
        elif status >= 500:
            text = (
                f"The provider answered HTTP {status} (a server error): "
                "try again later or ask the provider."
            )
        else:
            text = (
                f"The provider answered HTTP {status} to {method}, which is neither success "
                "nor a credentials refusal: ask the provider what its endpoint expects."
            )
        return ConnectionOutcome.UNEXPECTED, text


def _rejection(response: requests.Response) -> ProviderRejected:
    body = _read_body(response)
    detail: str | None = None
    violations: list[Violation] = []
    if isinstance(body, dict):
        for key in ("detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                detail = body[key]
                break
        items = body.get("violations")
        if isinstance(items, list):
            violations = [
                Violation(
                    str(item.get("pointer", "")),
                    str(item.get("code", "")),
                    str(item.get("message", "")),
                )
                for item in items
                if isinstance(item, dict)
            ]
    elif isinstance(body, str) and body.strip():
        detail = body.strip().splitlines()[0][:200]
    return ProviderRejected(response.status_code, tuple(violations), detail, body)
