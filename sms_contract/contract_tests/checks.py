"""How each check of the catalogue judges what its probes saw.

One function per check id (``IMPLEMENTATIONS``); each reads the exchanges of
its probes from the ``Evidence`` view and returns a ``Verdict``. No function
here sends anything: ``runner.py`` runs the probes first, within the budget.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sms_contract.contract_tests.catalogue import PAYLOAD_VARIANTS
from sms_contract.contract_tests.evidence import Exchange
from sms_contract.contract_tests.fuzz import FuzzResult
from sms_contract.contract_tests.tls import TlsFacts

#: A certificate expiring sooner than this is reported (``tls.expiry``).
EXPIRY_WARNING_DAYS = 30

#: Keys of an answer that may carry the provider's message id.
_ID_KEYS = ("id", "messageId", "message_id", "msgId", "smsId", "sms_id", "uuid", "reference")
#: Keys of an answer that may say "this is a retry".
_DUPLICATE_KEYS = ("duplicate", "isDuplicate", "is_duplicate", "replayed", "idempotent")
_DUPLICATE_STATUSES = ("duplicate", "already_received", "already-received", "replayed")


class Status(StrEnum):
    """The result of one check."""

    PASS = "pass"
    FAIL = "fail"
    INFO = "info"
    SKIP = "skip"


@dataclass
class Verdict:
    """A check's result: status, one-line summary, details, facts and exchanges."""

    status: Status
    summary: str
    details: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)


class Evidence(Protocol):
    """The runner's view that checks read."""

    url: str
    latency: float
    tls: TlsFacts | None
    legacy: dict[str, str]
    fuzz: FuzzResult | None

    def exchanges(self, probe: str) -> list[Exchange]:
        """The exchanges of ``probe`` (empty when it sent nothing)."""

    def all_exchanges(self) -> list[Exchange]:
        """Every exchange so far, in order."""


def _pass(summary: str, *exchanges: Exchange, **kwargs: Any) -> Verdict:
    return Verdict(Status.PASS, summary, exchanges=list(exchanges), **kwargs)


def _fail(summary: str, *exchanges: Exchange, **kwargs: Any) -> Verdict:
    return Verdict(Status.FAIL, summary, exchanges=list(exchanges), **kwargs)


def _answer(exchange: Exchange) -> str:
    if not exchange.answered:
        return f"no answer ({exchange.error})"
    return f"{exchange.status} {exchange.reason}".strip()


# -- TLS ------------------------------------------------------------------------------


def tls_https(run: Evidence) -> Verdict:
    """The URL's scheme is https."""
    if run.url.lower().startswith("https://"):
        return _pass("the URL uses https")
    return _fail(
        "the URL is not https: the platform only accepts provider URLs starting with https://",
        facts={"url": run.url},
    )


def _tls(run: Evidence) -> TlsFacts:
    assert run.tls is not None, "the tls probe ran"
    return run.tls


def tls_certificate(run: Evidence) -> Verdict:
    """The certificate verifies (chain, host name, dates)."""
    tls = _tls(run)
    facts = tls.certificate.facts() if tls.certificate else {}
    if tls.handshake_error:
        return _fail(f"no TLS handshake, so no certificate: {tls.handshake_error}")
    if tls.verify_error:
        return _fail(f"the certificate is not valid: {tls.verify_error}", facts=facts)
    return _pass("the certificate chain, host name and dates are valid", facts=facts)


def tls_version(run: Evidence) -> Verdict:
    """The negotiated version is TLS 1.2 or later."""
    tls = _tls(run)
    if tls.handshake_error:
        return _fail(f"no handshake at TLS 1.2 or later: {tls.handshake_error}")
    facts = {"version": tls.version or "?", "cipher": tls.cipher or "?"}
    if tls.version in ("TLSv1.2", "TLSv1.3"):
        return _pass(f"negotiated {tls.version}", facts=facts)
    return _fail(f"negotiated {tls.version}, older than TLS 1.2", facts=facts)


def tls_legacy_refused(run: Evidence) -> Verdict:
    """TLS 1.0 and 1.1 handshakes are refused."""
    facts = dict(run.legacy)
    accepted = [name for name, result in facts.items() if result.startswith("accepted")]
    if accepted:
        return _fail(f"the endpoint still accepts {' and '.join(accepted)}", facts=facts)
    if any(result.startswith("untestable") for result in facts.values()):
        return Verdict(
            Status.INFO, "not fully tested: this machine cannot offer TLS 1.0/1.1", facts=facts
        )
    return _pass("TLS 1.0 and TLS 1.1 are refused", facts=facts)


def tls_expiry(run: Evidence) -> Verdict:
    """The certificate has at least 30 days left."""
    tls = _tls(run)
    if tls.certificate is None:
        return Verdict(Status.SKIP, "no certificate was received")
    days = tls.certificate.days_left()
    facts = {"valid until": tls.certificate.not_after.isoformat(), "days left": str(days)}
    if days < 0:
        return Verdict(Status.INFO, f"the certificate expired {-days} day(s) ago", facts=facts)
    if days < EXPIRY_WARNING_DAYS:
        return Verdict(Status.INFO, f"the certificate expires in {days} day(s)", facts=facts)
    return _pass(f"the certificate is valid for {days} more days", facts=facts)


# -- connection test and authentication -----------------------------------------------


def connection_test(run: Evidence) -> Verdict:
    """GET/HEAD: 2xx with good credentials, 401/403 with a wrong password."""
    good = run.exchanges("get-good")
    wrong = run.exchanges("get-wrong")
    problems = []
    if not any(e.outcome == "accepted" for e in good):
        problems.append(
            "GET (and HEAD) with the right credentials got "
            + ", ".join(_answer(e) for e in good)
            + "; the platform's Test connection expects a 2xx"
        )
    # With a GET answered 405, the HEAD that follows is the one that counts.
    if wrong and wrong[-1].status not in (401, 403):
        refused = _answer(wrong[-1])
        problems.append(f"a wrong password got {refused}; Test connection expects 401 or 403")
    if problems:
        return _fail(problems[0], *good, *wrong, details=problems[1:])
    return _pass(
        "the right credentials pass, a wrong password is refused"
        if wrong
        else "a GET without credentials passes",
        *good,
        *wrong,
    )


def _refused(run: Evidence, probe: str, what: str) -> Verdict:
    exchanges = run.exchanges(probe)
    exchange = exchanges[0]
    if exchange.status is not None and 400 <= exchange.status <= 499:
        return _pass(f"{what} is refused with {_answer(exchange)}", exchange)
    if exchange.outcome == "accepted":
        return _fail(f"{what} is accepted ({_answer(exchange)}): anyone can send SMS", exchange)
    return _fail(f"{what} got {_answer(exchange)} instead of a 4xx refusal (401)", exchange)


def auth_required(run: Evidence) -> Verdict:
    """A send without credentials is refused."""
    return _refused(run, "post-none", "a send without credentials")


def auth_wrong_password(run: Evidence) -> Verdict:
    """A send with a wrong password is refused."""
    return _refused(run, "post-wrong", "a send with a wrong password")


def auth_challenge(run: Evidence) -> Verdict:
    """Refusals of credentials are 401 with WWW-Authenticate: Basic."""
    refusals = [
        e
        for e in run.exchanges("post-none") + run.exchanges("post-wrong")
        if e.status is not None and 400 <= e.status <= 499
    ]
    if not refusals:
        return Verdict(Status.SKIP, "no refusal to examine (see auth.required)")
    problems = []
    for e in refusals:
        challenge = e.headers.get("www-authenticate", "")
        if e.status != 401:
            problems.append(f"{e.label}: {_answer(e)} instead of 401")
        elif not challenge.lower().startswith("basic"):
            shown = repr(challenge) if challenge else "no WWW-Authenticate header"
            problems.append(f"{e.label}: 401 with {shown}; expected 'Basic realm=...'")
    if problems:
        return _fail(problems[0], *refusals, details=problems[1:])
    return _pass("each refusal is 401 with WWW-Authenticate: Basic", *refusals)


def auth_accepted(run: Evidence) -> Verdict:
    """A send with the right credentials is accepted."""
    exchange = run.exchanges("send:notification")[0]
    if exchange.outcome == "accepted":
        return _pass(f"accepted with {_answer(exchange)}", exchange)
    return _fail(f"the right credentials got {_answer(exchange)}", exchange)


# -- payloads -------------------------------------------------------------------------


def _payload_check(probe: str) -> Callable[[Evidence], Verdict]:
    def check(run: Evidence) -> Verdict:
        exchange = run.exchanges(probe)[0]
        if exchange.outcome == "accepted":
            return _pass(f"accepted with {_answer(exchange)}", exchange)
        reading = {
            "permanent": "the platform reads it as a permanent rejection of this SMS",
            "retryable": "the platform would retry it, in vain",
        }[exchange.outcome]
        return _fail(f"refused with {_answer(exchange)}: {reading}", exchange)

    check.__doc__ = f"The payload of probe {probe} is accepted."
    return check


def tolerance_unknown_field(run: Evidence) -> Verdict:
    """An extra field is ignored, not refused."""
    exchange = run.exchanges("unknown-field")[0]
    if exchange.outcome == "accepted":
        return _pass(f"an unknown field is tolerated ({_answer(exchange)})", exchange)
    return _fail(
        f"an unknown field got {_answer(exchange)}: a new field would break every send",
        exchange,
    )


# -- idempotency ----------------------------------------------------------------------


def _message_id(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    for key in _ID_KEYS:
        value = document.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _says_duplicate(exchange: Exchange) -> bool:
    document = exchange.document
    if not isinstance(document, dict):
        return False
    if any(document.get(key) is True for key in _DUPLICATE_KEYS):
        return True
    status = document.get("status")
    return isinstance(status, str) and status.lower() in _DUPLICATE_STATUSES


def idempotency_retry(run: Evidence) -> Verdict:
    """The retry gets a 2xx showing the same message (same id, or a duplicate flag)."""
    first, again = run.exchanges("retry")
    if first.outcome != "accepted":
        return Verdict(
            Status.SKIP,
            f"the first send was not accepted ({_answer(first)}); nothing to retry",
            exchanges=[first, again],
        )
    if again.outcome != "accepted":
        return _fail(
            f"the retry got {_answer(again)}: answer a retry like the first send (2xx), "
            "or the platform counts the SMS as failed",
            first,
            again,
        )
    if _says_duplicate(again):
        return _pass("the retry's answer says it is a duplicate", first, again)
    first_id, again_id = _message_id(first.document), _message_id(again.document)
    if first_id is not None and first_id == again_id:
        return _pass(f"the retry's answer carries the same id ({first_id})", first, again)
    if first_id is not None and again_id is not None:
        return _fail(
            f"the retry got a new id ({again_id}, first {first_id}): it was treated as a new SMS",
            first,
            again,
        )
    return Verdict(
        Status.INFO,
        "both sends were accepted; the answers do not show whether the retry was "
        "recognised (no id, no duplicate flag): make sure the SMS is sent once",
        exchanges=[first, again],
    )


# -- validation -----------------------------------------------------------------------


def validation_rejects_invalid(run: Evidence) -> Verdict:
    """No invalid payload is accepted (2xx) or answered with a non-error status."""
    exchanges = run.exchanges("invalid")
    accepted = [e for e in exchanges if e.status is not None and e.status < 400]
    if accepted:
        labels = ", ".join(f"{e.label} ({_answer(e)})" for e in accepted)
        return _fail(f"invalid payloads were accepted: {labels}", *exchanges)
    refused = [e for e in exchanges if e.status is not None and 400 <= e.status <= 499]
    return _pass(
        f"{len(refused)} of {len(exchanges)} invalid payloads refused with a 4xx; none accepted",
        *exchanges,
    )


def validation_no_5xx(run: Evidence) -> Verdict:
    """No invalid payload gets a 5xx."""
    exchanges = run.exchanges("invalid")
    errors = [e for e in exchanges if e.status is not None and e.status >= 500]
    if errors:
        labels = ", ".join(f"{e.label} ({_answer(e)})" for e in errors)
        return _fail(
            f"invalid payloads got a server error: {labels}; the platform would retry them forever",
            *exchanges,
        )
    return _pass("no invalid payload got a 5xx", *exchanges)


# -- latency --------------------------------------------------------------------------


def latency(run: Evidence) -> Verdict:
    """Every answer so far came within the threshold."""
    timed = [e for e in run.all_exchanges() if e.answered or "timeout" in (e.error or "")]
    if not timed:
        return Verdict(Status.SKIP, "no request was answered, so nothing to time")
    slow = [e for e in timed if not e.answered or e.elapsed > run.latency]
    times = [e.elapsed for e in timed]
    facts = {
        "requests": str(len(timed)),
        "median": f"{statistics.median(times):.3f} s",
        "slowest": f"{max(times):.3f} s",
        "threshold": f"{run.latency:g} s",
    }
    if slow:
        return _fail(
            f"{len(slow)} of {len(timed)} answers took longer than {run.latency:g} s "
            f"(slowest {max(times):.2f} s)",
            *slow[:5],
            facts=facts,
        )
    return _pass(f"every answer within {run.latency:g} s (slowest {max(times):.2f} s)", facts=facts)


# -- fuzzing --------------------------------------------------------------------------


def _fuzz_facts(run: Evidence) -> tuple[FuzzResult, dict[str, str]]:
    assert run.fuzz is not None, "the fuzz probe ran"
    fuzz = run.fuzz
    facts = {"cases": f"{fuzz.ran} of {fuzz.requested}", "seed": str(fuzz.seed)}
    return fuzz, facts


def fuzz_no_5xx(run: Evidence) -> Verdict:
    """No generated payload got a 5xx."""
    fuzz, facts = _fuzz_facts(run)
    if fuzz.server_errors:
        return _fail(
            f"{len(fuzz.server_errors)} generated payload(s) got a server error",
            *fuzz.exchanges[:5],
            details=fuzz.server_errors[:10],
            facts=facts,
        )
    return _pass(f"{fuzz.ran} generated payloads, no 5xx", facts=facts)


def fuzz_conformance(run: Evidence) -> Verdict:
    """Generated payloads get the answers the contract and the OpenAPI describe."""
    fuzz, facts = _fuzz_facts(run)
    if fuzz.nonconforming:
        return _fail(
            f"{len(fuzz.nonconforming)} answer(s) do not conform",
            *fuzz.exchanges[:5],
            details=fuzz.nonconforming[:10],
            facts=facts,
        )
    return _pass(f"{fuzz.ran} generated payloads, every answer conforms", facts=facts)


#: check id -> its judge. ``test_verify_catalogue`` keeps this in step with the catalogue.
IMPLEMENTATIONS: dict[str, Callable[[Evidence], Verdict]] = {
    "tls.https": tls_https,
    "tls.certificate": tls_certificate,
    "tls.version": tls_version,
    "tls.legacy-refused": tls_legacy_refused,
    "tls.expiry": tls_expiry,
    "connection.test": connection_test,
    "auth.required": auth_required,
    "auth.wrong-password": auth_wrong_password,
    "auth.challenge": auth_challenge,
    "auth.accepted": auth_accepted,
    **{
        check_id: _payload_check(f"send:{check_id.removeprefix('payload.')}")
        for check_id in PAYLOAD_VARIANTS
    },
    "tolerance.unknown-field": tolerance_unknown_field,
    "idempotency.retry": idempotency_retry,
    "validation.rejects-invalid": validation_rejects_invalid,
    "validation.no-5xx": validation_no_5xx,
    "latency.5s": latency,
    "fuzz.no-5xx": fuzz_no_5xx,
    "fuzz.conformance": fuzz_conformance,
}
