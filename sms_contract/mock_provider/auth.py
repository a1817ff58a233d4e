"""Who may send: the auth modes of the fake provider (SPEC.md reading 2)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from werkzeug.wrappers import Request

from sms_contract.core.credentials import parse_basic, redact_header, same_secret
from sms_contract.mock_provider.config import ProviderConfig


@dataclass(frozen=True)
class AuthResult:
    """The outcome of checking a request's credentials; never holds the password."""

    allowed: bool
    login: str | None = None
    reason: str = ""


def authenticate(config: ProviderConfig, request: Request) -> AuthResult:
    """Check the request's HTTP Basic credentials against ``config.auth``."""
    credentials = parse_basic(request.headers.get("Authorization"))
    login = credentials[0] if credentials else None
    if config.auth == "none":
        return AuthResult(True, login)
    if credentials is None:
        return AuthResult(False, None, "HTTP Basic credentials are required")
    if config.auth == "any":
        return AuthResult(True, login)
    given_login, given_password = credentials
    matched = False
    # Every pair is compared, in constant time, so timing tells nothing.
    for expected_login, expected_password in config.credentials:
        same_login = same_secret(given_login, expected_login)
        same_password = same_secret(given_password, expected_password)
        matched |= same_login and same_password
    if matched:
        return AuthResult(True, login)
    return AuthResult(False, login, "the login or the password is wrong")


def challenge(config: ProviderConfig) -> dict[str, str]:
    """The ``WWW-Authenticate`` header of a 401."""
    return {"WWW-Authenticate": f'Basic realm="{config.realm}", charset="UTF-8"'}


#: WSGI keys of the body headers, which carry no ``HTTP_`` prefix.
_BODY_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
_PREFIXED_BODY_HEADERS = frozenset("HTTP_" + key for key in _BODY_HEADERS)


def redacted_headers(request: Request) -> dict[str, str]:
    """The request headers as recorded (the names and order of werkzeug's
    ``request.headers``): credentials and cookies never kept."""
    # Read from the WSGI environ: werkzeug rebuilds every name on each pass.
    headers: dict[str, str] = {}
    for key, value in request.environ.items():
        if key.startswith("HTTP_"):
            if key in _PREFIXED_BODY_HEADERS:
                continue
            name = _header_name(key[5:])
        elif key in _BODY_HEADERS and value:
            name = _header_name(key)
        else:
            continue
        headers[name] = redact_header(name, value)
    return headers


@lru_cache(maxsize=256)
def _header_name(key: str) -> str:
    return key.replace("_", "-").title()
