"""The admin token that guards ``/api`` when the provider has one."""

from __future__ import annotations

from flask import Response, request

from sms_contract.core.credentials import bearer_token, same_secret
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider

#: The challenge of a 401 from the admin API.
ADMIN_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sms-contract admin"'}


def given_admin_token() -> str | None:
    """The admin token the request carries (``X-Admin-Token`` or a bearer token)."""
    return request.headers.get("X-Admin-Token") or bearer_token(
        request.headers.get("Authorization")
    )


def require_admin_token() -> Response | None:
    """A ``before_request`` hook: ``None`` when allowed, else the 401 answer."""
    token = provider().config.admin_token
    if token is None or not request.path.startswith("/api/"):
        return None
    given = given_admin_token()
    if given is not None and same_secret(given, token):
        return None
    return problem(
        "unauthorized",
        "the admin API needs the admin token (Authorization: Bearer TOKEN or X-Admin-Token)",
        headers=ADMIN_CHALLENGE,
    )
