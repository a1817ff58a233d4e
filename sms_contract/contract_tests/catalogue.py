"""The catalogue of conformance checks run by ``sms-contract verify``, in one place.

Each check has a stable id, a level and the rule it checks:

- ``MUST``: the documented contract (SPEC.md, the fields and rules the platform
  documents); a failure makes the run fail (exit code 1).
- ``SHOULD``: one of the project's readings, or good practice; a failure is
  advice.
- ``INFO``: facts worth knowing; never a failure.

The implementations live in ``checks.py`` under the same ids, the requests in
``probes.py`` under the probe names listed here, and the partner guide
(``docs/verify.md``) has a section per id; tests keep the four in step.

How to fix each check is written here, once (``fix``, Markdown code spans
allowed): the reports show it, and a test holds the guide's ``**Fix:**``
paragraphs to exactly these texts, since the guide is not in the wheel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sms_contract.core.readings import Readings
from sms_contract.exceptions import UnknownSelector

#: POSTs a run may send unless told otherwise: a full run needs 21.
DEFAULT_MAX_SENDS = 25


class Level(StrEnum):
    """How much a check matters."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    INFO = "INFO"


#: What a check may need before it can run; ``runner.py`` says why one is missing.
REQUIREMENTS = ("http", "https", "login", "long_to", "fuzz")


@dataclass(frozen=True)
class CheckSpec:
    """One check: its id, level, the rule in one line, where the rule comes from
    and how to fix a failure.

    ``probes`` name the requests it needs (shared between checks, each sent
    once); ``requires`` what must be true before it runs.
    """

    id: str
    level: Level
    title: str
    basis: str
    probes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ("http",)
    fix: str = ""


@dataclass(frozen=True)
class Variant:
    """A payload variant: built with ``build_payload`` so ``isUnicode`` and
    ``credits`` are right under ``readings``. ``sender=None`` leaves the field
    out; ``null_sender`` sends ``"sender": null``; ``long_to`` sends to the
    15-digit ``--long-to``; ``is_unicode=True`` declares UCS-2 for a GSM-7 text."""

    text: str
    type: str = "NOTIFICATION"
    sender: str | None = "INOCX"
    null_sender: bool = False
    long_to: bool = False
    is_unicode: bool | None = None
    readings: Readings = field(default_factory=Readings)


_TAG = "[sms-contract verify]"
_LONG_GSM = (
    f"{_TAG} A long plain text split into concatenated parts. "
    + "The quick brown fox jumps over the lazy dog. " * 8
).strip()
#: 310 septets: 3 concatenated parts of 153, but ceil(310 / 160) = 2 by the simple reading.
_SIMPLE_CREDITS = (
    f"{_TAG} Credits by the help page's sentence read literally: ceil(310 / 160) = 2, "
    "where concatenated parts of 153 make 3. " + "The quick brown fox jumps over the lazy dog. " * 6
)[:309] + "."
_EMOJI = (
    f"{_TAG} Emoji 🎉🚀 outside the Basic Multilingual Plane cost two UTF-16 units "
    "each, so this message needs two parts 📱✅"
)

#: payload check id -> (level, title, basis, variant, how to fix).
PAYLOAD_VARIANTS: dict[str, tuple[Level, str, str, Variant, str]] = {
    "payload.notification": (
        Level.MUST,
        "A NOTIFICATION with a sender is accepted (2xx)",
        "documented: the seven fields, type NOTIFICATION",
        Variant(f"{_TAG} Your appointment is confirmed for 12/03 at 10:00."),
        "accept `POST` with `Content-Type: application/json; charset=utf-8` and the seven fields "
        "`type`, `sender`, `to`, `retId`, `isUnicode`, `text`, `credits`; see the evidence for "
        "the body sent and your answer.",
    ),
    "payload.marketing-no-sender": (
        Level.MUST,
        "A MARKETING SMS without the sender field is accepted (2xx)",
        "documented: without a sender the type switches to MARKETING",
        Variant(f"{_TAG} Sale: -30% this week. STOP 36111", type="MARKETING", sender=None),
        "make `sender` optional; use your default sender when it is missing.",
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
        "treat `null` as a missing sender.",
    ),
    "payload.marketing-empty-sender": (
        Level.SHOULD,
        'A MARKETING SMS with "sender": "" is accepted (2xx)',
        "reading 4: an empty sender means not set",
        Variant(f"{_TAG} Sale: -30% this week. STOP 36111", type="MARKETING", sender=""),
        "treat the empty string as a missing sender, not as an invalid one.",
    ),
    "payload.gsm-plain": (
        Level.MUST,
        "A plain GSM-7 text (isUnicode false, 1 credit) is accepted (2xx)",
        "documented: isUnicode false for the standard SMS alphabet",
        Variant(f"{_TAG} Plain text: order #42 shipped, 2 items @ $10 (50% off)!"),
        "accept `POST` with `Content-Type: application/json; charset=utf-8` and the seven fields, "
        "`isUnicode` false and `credits` 1 for a plain text; see the evidence for the body sent "
        "and your answer.",
    ),
    "payload.gsm-extension": (
        Level.SHOULD,
        "A GSM-7 text with extension characters (€ [ ] { } ~ ^ | \\) is accepted (2xx)",
        "reading 6: the extension table is GSM-7 (isUnicode false), two septets each",
        Variant(f"{_TAG} Price: 10€ [promo] {{code}} ~ ^ | \\ end"),
        "do not refuse non-ASCII characters, and do not recompute `isUnicode` with a rule "
        "stricter than GSM 03.38 (`sms-contract count TEXT` shows the encoding of a text).",
    ),
    "payload.gsm-accents": (
        Level.SHOULD,
        "A text with accents of the GSM alphabet (é è à ù Ç) is accepted as GSM-7 (2xx)",
        "reading 6: é è à ù ì ò É Ç are in the GSM alphabet (isUnicode false)",
        Variant(f"{_TAG} Rendez-vous confirmé à 10h, très bien. Où ? Ça marche."),
        "decode the body as UTF-8, do not refuse non-ASCII characters, and do not recompute "
        "`isUnicode` with a rule stricter than GSM 03.38 (`sms-contract count TEXT` shows the "
        "encoding of a text).",
    ),
    "payload.ucs2-accents": (
        Level.MUST,
        "A text with characters outside GSM-7 (ê û ’) is accepted with isUnicode true (2xx)",
        "documented: isUnicode true for accents outside the standard alphabet",
        Variant(f"{_TAG} Fête de l’été : -30 % dès maintenant, sûr !"),
        "decode the body as UTF-8, store the text in a Unicode column, and send it as UCS-2 when "
        "`isUnicode` is true.",
    ),
    "payload.emoji-multipart": (
        Level.MUST,
        "A UCS-2 text with emoji needing several credits is accepted (2xx)",
        "documented: emoji make a text Unicode; credits count the SMS consumed",
        Variant(_EMOJI),
        "support 4-byte UTF-8 (e.g. `utf8mb4` in MySQL) and concatenated SMS; do not refuse "
        "`credits` above 1.",
    ),
    "payload.gsm-long-multipart": (
        Level.MUST,
        "A long GSM-7 text needing several credits is accepted (2xx)",
        "documented: credits count the SMS a send consumes",
        Variant(_LONG_GSM),
        "accept texts longer than 160 characters and send them as concatenated SMS.",
    ),
    "payload.ucs2-for-gsm-text": (
        Level.SHOULD,
        "A text GSM-7 could carry, sent with isUnicode true (credits counted as UCS-2), "
        "is accepted (2xx)",
        "reading 6, switch unicode (default allowed): the help page sets isUnicode true "
        "for accents; any text travels intact as UCS-2",
        Variant(f"{_TAG} Votre RDV est confirmé.", is_unicode=True),
        "when `isUnicode` is true, send the text as UCS-2 as declared, whatever its characters; "
        "do not refuse it because you would have chosen GSM-7. Refuse only `isUnicode` false "
        "for a text with a character outside GSM 03.38, which GSM-7 would garble.",
    ),
    "payload.credits-simple": (
        Level.SHOULD,
        "A 310-character GSM-7 text with credits by the simple reading (2, not 3 parts) "
        "is accepted (2xx)",
        "reading 7, switch credits=simple: the help page's '160 characters per credit' "
        "read literally; bill the parts you send",
        Variant(_SIMPLE_CREDITS, readings=Readings(credits="simple")),
        "do not refuse a send because `credits` differs from your own count: send the text, "
        'bill the parts you actually send, and report your count in the answer (`"credits": 3`) '
        "if you like.",
    ),
    "payload.e164-15-digits": (
        Level.SHOULD,
        "A recipient number of 15 digits, the E.164 maximum, is accepted (2xx)",
        "reading 5: international format is E.164, up to 15 digits",
        Variant(f"{_TAG} A recipient number of 15 digits.", long_to=True),
        "store numbers as strings of up to 16 characters (`+` and 15 digits), and do not validate "
        "them against one country's rules.",
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
        fix=fix,
    )
    for check_id, (level, title, basis, variant, fix) in PAYLOAD_VARIANTS.items()
)

#: Every check, in the order they run.
CATALOGUE: tuple[CheckSpec, ...] = (
    CheckSpec(
        "tls.https",
        Level.MUST,
        "The provider URL starts with https://",
        "documented: the provider URL must start with https://",
        requires=(),
        fix=(
            "serve the endpoint over HTTPS (a reverse proxy such as nginx or a cloud load "
            "balancer in front of your application is enough) and give the platform the "
            "`https://` URL."
        ),
    ),
    CheckSpec(
        "tls.certificate",
        Level.MUST,
        "The certificate is valid: trusted chain, right host name, within its dates",
        "documented: https; the platform verifies certificates",
        probes=("tls",),
        requires=("https",),
        fix=(
            "use a certificate from a public CA (Let's Encrypt works) for the exact host name of "
            "the URL, and serve the full chain (leaf and intermediates), not the leaf alone. A "
            "self-signed or private-CA certificate will not be trusted by the platform; for a "
            "staging endpoint with a private CA, pass `--cacert` to check the rest."
        ),
    ),
    CheckSpec(
        "tls.version",
        Level.MUST,
        "The TLS handshake negotiates TLS 1.2 or later",
        "documented https, as standardised today (RFC 8996 deprecates TLS 1.0 and 1.1)",
        probes=("tls",),
        requires=("https",),
        fix=(
            "enable TLS 1.2 and 1.3 on your server or load balancer (for nginx: `ssl_protocols "
            "TLSv1.2 TLSv1.3;`)."
        ),
    ),
    CheckSpec(
        "tls.legacy-refused",
        Level.SHOULD,
        "Handshakes offering only TLS 1.0 or TLS 1.1 are refused",
        "good practice (RFC 8996)",
        probes=("tls-legacy",),
        requires=("https",),
        fix="remove `TLSv1` and `TLSv1.1` from the enabled protocols.",
    ),
    CheckSpec(
        "tls.expiry",
        Level.INFO,
        "The certificate stays valid for at least 30 more days",
        "good practice: renew before expiry",
        probes=("tls",),
        requires=("https",),
        fix="renew it, and automate renewal (e.g. certbot or your cloud's managed certificates).",
    ),
    CheckSpec(
        "connection.test",
        Level.SHOULD,
        "Test connection: GET (or HEAD) answers 2xx with good credentials, 401/403 with bad",
        "reading 3: the Test connection button (advice, never a contract failure)",
        probes=("get-good", "get-wrong"),
        fix=(
            "answer `GET` (and `HEAD`) on the endpoint after checking the credentials, with `200` "
            "and any body; do not send anything."
        ),
    ),
    CheckSpec(
        "auth.required",
        Level.MUST,
        "A send without credentials is refused (4xx)",
        "documented: the provider may require a login and a password",
        probes=("post-none",),
        requires=("http", "login"),
        fix=(
            "check the HTTP Basic `Authorization` header on every request before anything else, "
            "and refuse a missing one with `401`."
        ),
    ),
    CheckSpec(
        "auth.wrong-password",
        Level.MUST,
        "A send with the right login and a wrong password is refused (4xx)",
        "documented: the provider may require a login and a password",
        probes=("post-wrong",),
        requires=("http", "login"),
        fix="compare both the login and the password (in constant time), and refuse with `401`.",
    ),
    CheckSpec(
        "auth.challenge",
        Level.SHOULD,
        "Refused credentials get 401 with a WWW-Authenticate: Basic header",
        "reading 2: HTTP Basic; some HTTP clients send credentials only after a challenge",
        probes=("post-none", "post-wrong"),
        requires=("http", "login"),
        fix=(
            "answer missing or wrong credentials with `401` and `WWW-Authenticate: Basic "
            'realm="sms"`; keep `403` for known credentials that may not send.'
        ),
    ),
    CheckSpec(
        "auth.accepted",
        Level.MUST,
        "A send with the right credentials is accepted (2xx)",
        "documented: the provider may require a login and a password",
        probes=("send:notification",),
        requires=("http", "login"),
        fix=(
            "check that the login and password configured for the platform are the ones your "
            "endpoint expects; the login may hold letters, digits and `_ + . @ -` only, and the "
            "password is sent as HTTP Basic (UTF-8)."
        ),
    ),
    *_PAYLOAD_CHECKS,
    CheckSpec(
        "tolerance.unknown-field",
        Level.SHOULD,
        "A payload with an extra, unknown field is accepted (2xx)",
        "reading 10: ignore unknown fields so the format can grow",
        probes=("unknown-field",),
        fix=(
            "ignore unknown fields instead of rejecting them (for example, do not set "
            '`additionalProperties: false` or `extra="forbid"` on your request model).'
        ),
    ),
    CheckSpec(
        "idempotency.retry",
        Level.SHOULD,
        "A second send with the same retId is treated as the same SMS",
        "reading 8: a send with a known retId is a retry, not a new SMS",
        probes=("retry",),
        fix=(
            "keep the `retId`s you accepted; on a second send with a known `retId`, send nothing "
            'and answer `200` with the first answer\'s id (and, if you like, `"duplicate": '
            "true`)."
        ),
    ),
    CheckSpec(
        "validation.rejects-invalid",
        Level.SHOULD,
        "Invalid payloads (broken JSON, missing fields, wrong types) are not accepted",
        "reading 9: a 4xx tells the platform the payload will never be accepted",
        probes=("invalid",),
        fix=(
            "validate the body against the contract (the JSON Schema: `sms-contract schema`) and "
            "answer `400` or `422` listing what is wrong."
        ),
    ),
    CheckSpec(
        "validation.no-5xx",
        Level.MUST,
        "Invalid payloads never get a 5xx",
        "documented payload format; a 5xx makes the platform retry a send that cannot succeed",
        probes=("invalid",),
        fix=(
            "catch parsing and validation errors and answer `400`/`422`; keep `5xx` for real, "
            "temporary failures of your side."
        ),
    ),
    CheckSpec(
        "latency.5s",
        Level.SHOULD,
        "Every answer arrives within 5 seconds (the threshold is --latency)",
        "good practice: the platform waits for the answer of each send",
        probes=("get-good",),
        fix=(
            "answer as soon as the SMS is safely queued; hand it to the operator asynchronously "
            "rather than waiting for the operator before answering."
        ),
    ),
    CheckSpec(
        "fuzz.no-5xx",
        Level.MUST,
        "Generated payloads (--fuzz) never get a 5xx",
        "documented payload format, explored from the provider OpenAPI",
        probes=("fuzz",),
        requires=("http", "fuzz"),
        fix=(
            "the details list each payload that failed; replay the run with `--fuzz-seed`, fix "
            "the crash, and answer invalid payloads with a `4xx`."
        ),
    ),
    CheckSpec(
        "fuzz.conformance",
        Level.SHOULD,
        "Generated payloads (--fuzz): valid ones accepted, invalid ones refused (4xx), "
        "answers as the OpenAPI describes",
        "the provider OpenAPI and readings 9 and 10",
        probes=("fuzz",),
        requires=("http", "fuzz"),
        fix=(
            "follow the details of each finding; refusals in `application/problem+json` (RFC "
            "9457) match the OpenAPI exactly, but the platform does not require it."
        ),
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
