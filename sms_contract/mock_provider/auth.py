"""Who may send: the auth modes of the fake provider (SPEC.md reading 2)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request

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


def redacted_headers(request: Request) -> dict[str, str]:
    """The request headers as recorded: credentials and cookies never kept."""
    return {name: redact_header(name, value) for name, value in request.headers.items()}
