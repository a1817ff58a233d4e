"""Provider credentials: the login character set and HTTP Basic (SPEC.md reading 2)."""

from __future__ import annotations

import base64
import hmac
import re

from sms_contract.exceptions import InvalidLogin

#: Request headers that carry a secret: never logged, stored or shown as sent.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-admin-token"})
#: Of those, the ones whose value starts with an auth scheme (``Basic``) worth keeping.
_SCHEMED_HEADERS = frozenset({"authorization", "proxy-authorization"})

#: The platform's login field accepts letters, digits and ``_ + . @ -`` only.
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_+.@-]+")
LOGIN_CHARACTERS = "letters, digits and _ + . @ -"


def check_login(login: str) -> str:
    """Return ``login`` when the platform would accept it, else raise ``InvalidLogin``."""
    if not LOGIN_PATTERN.fullmatch(login):
        bad = sorted({char for char in login if not LOGIN_PATTERN.fullmatch(char)})
        shown = ", ".join(repr(char) for char in bad) or "nothing (it is empty)"
        raise InvalidLogin(f"the login may hold only {LOGIN_CHARACTERS}; it holds {shown}")
    return login


def basic_authorization(login: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic."""
    token = base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(login, password)`` from an ``Authorization: Basic`` header, else ``None``
    (also for a header that is not ASCII base64 of UTF-8 text)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:
        # Not base64 (binascii.Error), a non-ASCII header (a raw byte arrives as
        # Latin-1) or credentials that are not UTF-8: no credentials at all.
        return None
    login, separator, password = decoded.partition(":")
    return (login, password) if separator else None


def same_secret(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header, else ``None``."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def redact_header(name: str, value: str) -> str:
    """``value`` as it may be stored or shown: a secret header keeps at most its
    auth scheme (``Basic [redacted]``); any other header is kept as is."""
    lowered = name.lower()
    if lowered not in SECRET_HEADERS:
        return value
    if lowered in _SCHEMED_HEADERS:
        # Keep the scheme only when there is one; a bare token is all secret.
        scheme, separator, _secret = value.strip().partition(" ")
        known = separator and scheme.isascii() and scheme.isalpha() and len(scheme) <= 16
        if known:
            return f"{scheme} [redacted]"
    return "[redacted]"
