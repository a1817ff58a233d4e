"""The requests the checks need ("probes") and the one HTTP client that sends them.

Every probe is planned as a list of ``RequestSpec`` before anything is sent,
so a dry run shows exactly what a live run would send, and the send budget is
known up front. Every SMS goes to the partner's own number (``--to``, or the
15-digit ``--long-to``); every POST counts against the budget, even one that
should be refused.
"""

from __future__ import annotations

import json
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from sms_contract import __version__
from sms_contract.contract_tests.catalogue import PAYLOAD_VARIANTS, Variant
from sms_contract.contract_tests.evidence import (
    SHOWN_HEADERS,
    Exchange,
    Redactor,
    body_excerpt,
    excerpt,
)
from sms_contract.contract_tests.targets import Connector
from sms_contract.core.credentials import basic_authorization
from sms_contract.core.model import build_payload
from sms_contract.exceptions import BudgetExhausted, CredentialsInClear, Unreachable

#: The Content-Type of every send (reading 1).
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
USER_AGENT = f"sms-contract-verify/{__version__}"
#: An unknown field a tolerant provider ignores (reading 10).
UNKNOWN_FIELD = ("campaignRef", "sms-contract-verify")
#: Requests left unanswered (timeouts) before an endpoint that never answered is unreachable.
SILENT_TIMEOUTS = 2
#: The most of an answer's body that is read: no endpoint can fill the checker's memory
#: (a hosted checker's least of all). Far more than any SMS provider answers.
MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RequestSpec:
    """One planned request. ``auth`` is ``right`` (the given credentials, or none
    without ``--login``), ``none`` or ``wrong`` (the login, a wrong password)."""

    label: str
    method: str
    auth: str = "right"
    body: dict[str, Any] | bytes | None = None

    @property
    def sends(self) -> int:
        """1 for a POST (it may send an SMS), else 0."""
        return 1 if self.method == "POST" else 0


@dataclass(frozen=True)
class Setup:
    """What the probes are built from: the numbers and whether a login is given."""

    to: str
    long_to: str | None = None
    login: str | None = None
    run_id: str = ""

    def ret_id(self, label: str) -> str:
        """A retId unique to this run and probe, easy to find in the partner's logs."""
        return f"sms-contract-verify-{self.run_id}-{label}"


def new_run_id() -> str:
    """A short id for one run."""
    return uuid.uuid4().hex[:8]


def variant_payload(setup: Setup, name: str, variant: Variant) -> dict[str, Any]:
    """The payload of a variant, built with ``build_payload``."""
    to = setup.long_to if variant.long_to and setup.long_to else setup.to
    payload = build_payload(
        to,
        variant.text,
        sender=variant.sender,
        type=variant.type,
        ret_id=setup.ret_id(name),
        readings=variant.readings,
        is_unicode=variant.is_unicode,
    ).to_json_dict()
    if variant.null_sender:
        payload = {"type": payload["type"], "sender": None, **payload}
    return payload


def _variant(name: str) -> Variant:
    return PAYLOAD_VARIANTS[f"payload.{name}"][3]


def invalid_bodies(setup: Setup) -> list[tuple[str, dict[str, Any] | bytes]]:
    """Payloads a provider should refuse with a 4xx; all addressed to ``--to``."""
    text = "[sms-contract verify] an invalid payload: please refuse it"
    broken = json.dumps({"type": "NOTIFICATION", "to": setup.to, "text": text})[:-1]
    return [
        ("invalid-json", broken.encode("utf-8")),
        ("missing-fields", {"type": "NOTIFICATION", "to": setup.to, "text": text}),
        (
            "wrong-types",
            {
                "type": "SPAM",
                "sender": "INOCX",
                "to": setup.to,
                "retId": setup.ret_id("wrong-types"),
                "isUnicode": "yes",
                "text": text,
                "credits": "many",
            },
        ),
    ]


def plan(probe: str, setup: Setup) -> list[RequestSpec]:
    """The requests of ``probe`` (the TLS and fuzz probes send no planned request)."""
    if probe.startswith("send:"):
        name = probe.removeprefix("send:")
        return [RequestSpec(probe, "POST", body=variant_payload(setup, name, _variant(name)))]
    notification = _variant("notification")
    match probe:
        case "get-good":
            return [RequestSpec(probe, "GET")]
        case "get-wrong":
            return [RequestSpec(probe, "GET", "wrong")] if setup.login else []
        case "post-none":
            return [RequestSpec(probe, "POST", "none", variant_payload(setup, probe, notification))]
        case "post-wrong":
            return [
                RequestSpec(probe, "POST", "wrong", variant_payload(setup, probe, notification))
            ]
        case "unknown-field":
            name, value = UNKNOWN_FIELD
            payload = {**variant_payload(setup, probe, notification), name: value}
            return [RequestSpec(probe, "POST", body=payload)]
        case "retry":
            payload = variant_payload(setup, probe, notification)
            return [
                RequestSpec("retry-first", "POST", body=payload),
                RequestSpec("retry-again", "POST", body=payload),
            ]
        case "invalid":
            return [RequestSpec(label, "POST", body=body) for label, body in invalid_bodies(setup)]
        case "tls" | "tls-legacy" | "fuzz":
            return []
    raise KeyError(f"unknown probe {probe!r}")


def carries_credentials(probe: str, setup: Setup) -> bool:
    """True when a request of ``probe`` sends the login (right or wrong password)."""
    if setup.login is None:
        return False
    # The generated payloads of --fuzz are sent with the right credentials.
    return probe == "fuzz" or any(request.auth != "none" for request in plan(probe, setup))


class _Authorization(AuthBase):
    """Sets (or leaves out) the Authorization header; also keeps .netrc out."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        if self.value is not None:
            request.headers["Authorization"] = self.value
        return request


class Target:
    """The endpoint under test: one ``requests`` session, ``verify`` passed on
    every request, a send budget, and redaction of every secret.

    ``connector`` opens every connection (``contract_tests.targets``).
    ``credentials_refused`` (why, when the URL is plain http) makes any request
    carrying credentials raise ``CredentialsInClear`` instead of leaving. Once
    the first ``SILENT_TIMEOUTS`` requests all went unanswered, every further
    request raises ``Unreachable``.
    """

    def __init__(
        self,
        url: str,
        *,
        login: str | None = None,
        password: str | None = None,
        verify: str | bool = True,
        timeout: float = 10.0,
        max_sends: int = 20,
        credentials_refused: str | None = None,
        connector: Connector | None = None,
    ) -> None:
        self.url = url
        self.credentials_refused = credentials_refused
        self.login = login
        self._password = password or ""
        self._wrong_password = f"wrong-{uuid.uuid4().hex[:12]}"
        self.verify = verify
        self.timeout = timeout
        self.max_sends = max_sends
        self.sent = 0
        self.answered = 0
        self.timeouts = 0
        #: The raw answer of the last request (``None`` after a network failure).
        self.last_response: requests.Response | None = None
        self.redact = Redactor(login, (self._password, self._wrong_password))
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Every connection goes through the connector (the address rule, pinned).
        (connector or Connector()).mount(self.session)

    @property
    def sends_left(self) -> int:
        """Sends still allowed by the budget."""
        return max(0, self.max_sends - self.sent)

    def describe_auth(self, auth: str) -> str:
        """The credentials of a request, for reports (never the password)."""
        if self.login is None or auth == "none":
            return "no credentials"
        if auth == "wrong":
            return f"login {self.login!r}, wrong password"
        return f"login {self.login!r}, password ***"

    def authorization(self, auth: str) -> str | None:
        """The Authorization header for ``auth`` (``None`` for none)."""
        if self.login is None or auth == "none":
            return None
        if self.credentials_refused is not None:
            raise CredentialsInClear(self.credentials_refused)
        password = self._wrong_password if auth == "wrong" else self._password
        return basic_authorization(self.login, password)

    def silence(self, enough: int = SILENT_TIMEOUTS) -> str | None:
        """Why the endpoint counts as unreachable though it accepts connections: it
        answered nothing, and ``enough`` requests timed out. ``None`` otherwise."""
        if self.answered or self.timeouts < max(1, enough):
            return None
        parts = urlsplit(self.url)
        return (
            f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)} "
            f"accepts connections but answered none of {self.timeouts} request(s) "
            f"within {self.timeout:g} s"
        )

    def send(self, spec: RequestSpec) -> Exchange:
        """Send ``spec`` (POST counts against the budget) and record the exchange."""
        data: bytes | None = None
        headers: dict[str, str] = {}
        if isinstance(spec.body, dict):
            data = json.dumps(spec.body, ensure_ascii=False).encode("utf-8")
        elif isinstance(spec.body, bytes):
            data = spec.body
        if data is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        return self.request(
            spec.label, spec.method, spec.auth, data, headers, shown=body_excerpt(spec.body)
        )

    def request(
        self,
        label: str,
        method: str,
        auth: str,
        data: bytes | None,
        headers: dict[str, str],
        *,
        shown: str | None = None,
    ) -> Exchange:
        """One raw request; nothing is sent past ``--max-sends`` (``BudgetExhausted``),
        with credentials over refused plain http (``CredentialsInClear``), or to a
        silent endpoint (``Unreachable``)."""
        silence = self.silence()
        if silence is not None:
            raise Unreachable(silence)
        authorization = _Authorization(self.authorization(auth))
        if method == "POST":
            if self.sent >= self.max_sends:
                raise BudgetExhausted(f"the send budget of {self.max_sends} is spent")
            self.sent += 1
        exchange = Exchange(
            label,
            method,
            safe_url(self.url),
            self.describe_auth(auth),
            body=self.redact(excerpt(shown)) if shown is not None else None,
        )
        self.last_response = None
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Unverified HTTPS request")
                answer = self.session.request(
                    method,
                    self.url,
                    data=data,
                    headers=headers,
                    auth=authorization,
                    verify=self.verify,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                _read_bounded(answer)
        except requests.Timeout:
            self.timeouts += 1
            exchange.elapsed = time.perf_counter() - started
            exchange.error = f"no answer within {self.timeout:g} s (timeout)"
            return exchange
        except requests.RequestException as error:
            exchange.elapsed = time.perf_counter() - started
            exchange.error = self.redact(excerpt(f"{type(error).__name__}: {error}"))
            return exchange
        exchange.elapsed = time.perf_counter() - started
        self.answered += 1
        self.last_response = answer
        exchange.status, exchange.reason = answer.status_code, answer.reason or ""
        exchange.headers = {
            name: self.redact(excerpt(answer.headers[name], 200))
            for name in SHOWN_HEADERS
            if name in answer.headers
        }
        exchange.answer = self.redact(excerpt(answer.text))
        try:
            exchange.document = self.redact.deep(answer.json())
        except ValueError:
            exchange.document = None
        return exchange


def _read_bounded(answer: requests.Response) -> None:
    """Read at most ``MAX_ANSWER_BYTES`` of the body of a streamed ``answer``, which
    ``content`` then holds, and close it: the rest is never read."""
    kept = bytearray()
    try:
        for chunk in answer.iter_content(64 * 1024):
            kept += chunk
            if len(kept) > MAX_ANSWER_BYTES:
                break
    finally:
        answer.close()
    # Where requests keeps a body it has read: content, text and json() read it there.
    answer._content = bytes(kept[:MAX_ANSWER_BYTES])


def safe_url(url: str) -> str:
    """``url`` without any user information."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()
