"""The catalogue of conformance checks run by ``sms-contract verify``, in one place.

Each check has a stable id, a level and the rule it checks:

- ``MUST``: the documented contract (CONTRACT.md, "as documented"); a failure
  makes the run fail (exit code 1).
- ``SHOULD``: one of the project's readings, or good practice; a failure is
  advice.
- ``INFO``: facts worth knowing; never a failure.

The implementations live in ``checks.py`` under the same ids, the requests in
``probes.py`` under the probe names listed here, and the partner guide
(``docs/verify.md``) has a section per id; tests keep the four in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sms_contract.exceptions import UnknownSelector


class Level(StrEnum):
    """How much a check matters."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    INFO = "INFO"


#: What a check may need before it can run; ``runner.py`` says why one is missing.
REQUIREMENTS = ("http", "https", "login", "long_to", "fuzz")


@dataclass(frozen=True)
class CheckSpec:
    """One check: its id, level, the rule in one line and where the rule comes from.

    ``probes`` name the requests it needs (shared between checks, each sent
    once); ``requires`` what must be true before it runs.
    """

    id: str
    level: Level
    title: str
    basis: str
    probes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ("http",)


@dataclass(frozen=True)
class Variant:
    """A payload variant: built with ``build_payload`` so ``isUnicode`` and
    ``credits`` are right. ``sender=None`` leaves the field out; ``null_sender``
    sends ``"sender": null``; ``long_to`` sends to the 15-digit ``--long-to``."""

    text: str
    type: str = "NOTIFICATION"
    sender: str | None = "INOCX"
    null_sender: bool = False
    long_to: bool = False


_TAG = "[sms-contract verify]"
_LONG_GSM = (
    f"{_TAG} A long plain text split into concatenated parts. "
    + "The quick brown fox jumps over the lazy dog. " * 8
).strip()
_EMOJI = (
    f"{_TAG} Emoji 🎉🚀 outside the Basic Multilingual Plane cost two UTF-16 units "
    "each, so this message needs two parts 📱✅"
)

#: payload check id -> (level, title, basis, variant).
PAYLOAD_VARIANTS: dict[str, tuple[Level, str, str, Variant]] = {
    "payload.notification": (
        Level.MUST,
        "A NOTIFICATION with a sender is accepted (2xx)",
        "documented: the seven fields, type NOTIFICATION",
        Variant(f"{_TAG} Your appointment is confirmed for 12/03 at 10:00."),
    ),
    "payload.marketing-no-sender": (
        Level.MUST,
        "A MARKETING SMS without the sender field is accepted (2xx)",
        "documented: without a sender the type switches to MARKETING",
        Variant(f"{_TAG} Sale: -30% this week. STOP 36111", type="MARKETING", sender=None),
    ),
    "payload.marketing-null-sender": (
        Level.SHOULD,
        'A MARKETING SMS with "sender": null is accepted (2xx)',
        "reading 4: a null sender means not set",
        Variant(
            f"{_TAG} Sale: -30% this week. STOP 36111",
            type="MARKETING",
            sender=None,
            null_sender=True,
        ),
    ),
    "payload.marketing-empty-sender": (
        Level.SHOULD,
        'A MARKETING SMS with "sender": "" is accepted (2xx)',
        "reading 4: an empty sender means not set",
        Variant(f"{_TAG} Sale: -30% this week. STOP 36111", type="MARKETING", sender=""),
    ),
    "payload.gsm-plain": (
        Level.MUST,
        "A plain GSM-7 text (isUnicode false, 1 credit) is accepted (2xx)",
        "documented: isUnicode false for the standard SMS alphabet",
        Variant(f"{_TAG} Plain text: order #42 shipped, 2 items @ $10 (50% off)!"),
    ),
    "payload.gsm-extension": (
        Level.SHOULD,
        "A GSM-7 text with extension characters (€ [ ] { } ~ ^ | \\) is accepted (2xx)",
        "reading 6: the extension table is GSM-7 (isUnicode false), two septets each",
        Variant(f"{_TAG} Price: 10€ [promo] {{code}} ~ ^ | \\ end"),
    ),
    "payload.gsm-accents": (
        Level.SHOULD,
        "A text with accents of the GSM alphabet (é è à ù Ç) is accepted as GSM-7 (2xx)",
        "reading 6: é è à ù ì ò É Ç are in the GSM alphabet (isUnicode false)",
        Variant(f"{_TAG} Rendez-vous confirmé à 10h, très bien. Où ? Ça marche."),
    ),
    "payload.ucs2-accents": (
        Level.MUST,
        "A text with characters outside GSM-7 (ê û ’) is accepted with isUnicode true (2xx)",
        "documented: isUnicode true for accents outside the standard alphabet",
        Variant(f"{_TAG} Fête de l’été : -30 % dès maintenant, sûr !"),
    ),
    "payload.emoji-multipart": (
        Level.MUST,
        "A UCS-2 text with emoji needing several credits is accepted (2xx)",
        "documented: emoji make a text Unicode; credits count the SMS consumed",
        Variant(_EMOJI),
    ),
    "payload.gsm-long-multipart": (
        Level.MUST,
        "A long GSM-7 text needing several credits is accepted (2xx)",
        "documented: credits count the SMS a send consumes",
        Variant(_LONG_GSM),
    ),
    "payload.e164-15-digits": (
        Level.SHOULD,
        "A recipient number of 15 digits, the E.164 maximum, is accepted (2xx)",
        "reading 5: international format is E.164, up to 15 digits",
        Variant(f"{_TAG} A recipient number of 15 digits.", long_to=True),
    ),
}

_PAYLOAD_CHECKS = tuple(
    CheckSpec(
        check_id,
        level,
        title,
        basis,
        probes=(f"send:{check_id.removeprefix('payload.')}",),
        requires=("http", "long_to") if variant.long_to else ("http",),
    )
    for check_id, (level, title, basis, variant) in PAYLOAD_VARIANTS.items()
)

#: Every check, in the order they run.
CATALOGUE: tuple[CheckSpec, ...] = (
    CheckSpec(
        "tls.https",
        Level.MUST,
        "The provider URL starts with https://",
        "documented: the provider URL must start with https://",
        requires=(),
    ),
    CheckSpec(
        "tls.certificate",
        Level.MUST,
        "The certificate is valid: trusted chain, right host name, within its dates",
        "documented: https; the platform verifies certificates",
        probes=("tls",),
        requires=("https",),
    ),
    CheckSpec(
        "tls.version",
        Level.MUST,
        "The TLS handshake negotiates TLS 1.2 or later",
        "documented https, as standardised today (RFC 8996 deprecates TLS 1.0 and 1.1)",
        probes=("tls",),
        requires=("https",),
    ),
    CheckSpec(
        "tls.legacy-refused",
        Level.SHOULD,
        "Handshakes offering only TLS 1.0 or TLS 1.1 are refused",
        "good practice (RFC 8996)",
        probes=("tls-legacy",),
        requires=("https",),
    ),
    CheckSpec(
        "tls.expiry",
        Level.INFO,
        "The certificate stays valid for at least 30 more days",
        "good practice: renew before expiry",
        probes=("tls",),
        requires=("https",),
    ),
    CheckSpec(
        "connection.test",
        Level.SHOULD,
        "Test connection: GET (or HEAD) answers 2xx with good credentials, 401/403 with bad",
        "reading 3: the Test connection button (advice, never a contract failure)",
        probes=("get-good", "get-wrong"),
    ),
    CheckSpec(
        "auth.required",
        Level.MUST,
        "A send without credentials is refused (4xx)",
        "documented: the provider may require a login and a password",
        probes=("post-none",),
        requires=("http", "login"),
    ),
    CheckSpec(
        "auth.wrong-password",
        Level.MUST,
        "A send with the right login and a wrong password is refused (4xx)",
        "documented: the provider may require a login and a password",
        probes=("post-wrong",),
        requires=("http", "login"),
    ),
    CheckSpec(
        "auth.challenge",
        Level.SHOULD,
        "Refused credentials get 401 with a WWW-Authenticate: Basic header",
        "reading 2: HTTP Basic; some HTTP clients send credentials only after a challenge",
        probes=("post-none", "post-wrong"),
        requires=("http", "login"),
    ),
    CheckSpec(
        "auth.accepted",
        Level.MUST,
        "A send with the right credentials is accepted (2xx)",
        "documented: the provider may require a login and a password",
        probes=("send:notification",),
        requires=("http", "login"),
    ),
    *_PAYLOAD_CHECKS,
    CheckSpec(
        "tolerance.unknown-field",
        Level.SHOULD,
        "A payload with an extra, unknown field is accepted (2xx)",
        "reading 10: ignore unknown fields so the format can grow",
        probes=("unknown-field",),
    ),
    CheckSpec(
        "idempotency.retry",
        Level.SHOULD,
        "A second send with the same retId is treated as the same SMS",
        "reading 8: a send with a known retId is a retry, not a new SMS",
        probes=("retry",),
    ),
    CheckSpec(
        "validation.rejects-invalid",
        Level.SHOULD,
        "Invalid payloads (broken JSON, missing fields, wrong types) are not accepted",
        "reading 9: a 4xx tells the platform the payload will never be accepted",
        probes=("invalid",),
    ),
    CheckSpec(
        "validation.no-5xx",
        Level.MUST,
        "Invalid payloads never get a 5xx",
        "documented payload format; a 5xx makes the platform retry a send that cannot succeed",
        probes=("invalid",),
    ),
    CheckSpec(
        "latency.5s",
        Level.SHOULD,
        "Every answer arrives within 5 seconds (the threshold is --latency)",
        "good practice: the platform waits for the answer of each send",
        probes=("get-good",),
    ),
    CheckSpec(
        "fuzz.no-5xx",
        Level.MUST,
        "Generated payloads (--fuzz) never get a 5xx",
        "documented payload format, explored from the provider OpenAPI",
        probes=("fuzz",),
        requires=("http", "fuzz"),
    ),
    CheckSpec(
        "fuzz.conformance",
        Level.SHOULD,
        "Generated payloads (--fuzz): valid ones accepted, invalid ones refused (4xx), "
        "answers as the OpenAPI describes",
        "the provider OpenAPI and readings 9 and 10",
        probes=("fuzz",),
        requires=("http", "fuzz"),
    ),
)

BY_ID: dict[str, CheckSpec] = {spec.id: spec for spec in CATALOGUE}


def _matches(check_id: str, selector: str) -> bool:
    return check_id == selector or check_id.startswith(selector.rstrip(".") + ".")


def select(only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> list[CheckSpec]:
    """The checks to run: those matching an ``only`` selector (all when none),
    minus those matching a ``skip`` one. A selector is an id or a prefix ending
    at a dot (``payload``, ``tls``, ``auth.required``)."""
    for selector in (*only, *skip):
        if not any(_matches(spec.id, selector) for spec in CATALOGUE):
            known = ", ".join(sorted({spec.id.split(".")[0] for spec in CATALOGUE}))
            raise UnknownSelector(
                f"{selector!r} names no check (prefixes: {known}; see --list-checks)"
            )
    chosen = [s for s in CATALOGUE if not only or any(_matches(s.id, o) for o in only)]
    return [s for s in chosen if not any(_matches(s.id, k) for k in skip)]
