"""What guards the admin API, and the checks of origin and Host that the UI shares:
cross-site writes (403), the admin token (401; for the routes the UI's own script
calls, a UI sign-in counts too), a write's media type (415) and size (413); and,
on every request, a Host the server does not serve (403)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Response, request

from sms_contract.core.credentials import bearer_token, same_secret
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider

#: The challenge of a 401 from the admin API.
ADMIN_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sms-contract admin"'}
#: The cookie of a UI sign-in: a random session, never the token (ui/security.py).
SESSION_COOKIE = "sms_contract_ui"


def given_admin_token() -> str | None:
    """The admin token the request carries (``X-Admin-Token`` or a bearer token)."""
    return request.headers.get("X-Admin-Token") or bearer_token(
        request.headers.get("Authorization")
    )


#: Methods that change state.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Writes that carry a JSON body; a DELETE carries none (and no browser sends a
#: cross-site DELETE without a CORS preflight, which this server never grants).
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def same_site() -> bool:
    """Whether the request comes from this server's own pages (or from no page).

    Browsers say where a request comes from in ``Sec-Fetch-Site`` and ``Origin``;
    other clients send neither, and are not refused.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def signed_in() -> bool:
    """Whether the request may use the UI: no admin token is set, or the request has a
    UI session opened with it, or carries the token itself."""
    state = provider()
    token = state.config.admin_token
    if token is None:
        return True
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and state.sessions.valid(cookie, token):
        return True
    given = given_admin_token()
    return bool(given) and same_secret(str(given), token)


def guard_api() -> Response | None:
    """A ``before_request`` hook of the admin API: ``None`` when allowed, else the refusal."""
    return _guard(require_admin_token)


def guard_api_for_ui() -> Response | None:
    """``guard_api`` for the routes the UI's own script calls: a UI sign-in counts as
    the admin token. The cookie is SameSite=Strict, and a write must come from this
    site and be JSON, which no other site's page can send."""
    return _guard(_require_sign_in)


def _require_sign_in() -> Response | None:
    if signed_in():
        return None
    return problem(
        "unauthorized",
        "this API needs the admin token (Authorization: Bearer TOKEN or X-Admin-Token) "
        "or a UI sign-in",
        headers=ADMIN_CHALLENGE,
    )


def _guard(authorise: Callable[[], Response | None]) -> Response | None:
    if request.method in WRITE_METHODS and not same_site():
        return problem(
            "cross-site",
            "a state-changing request from another site (Origin or Sec-Fetch-Site) is refused",
        )
    refused = authorise()
    if refused is not None or request.method not in _BODY_METHODS:
        return refused
    if request.mimetype != "application/json":
        shown = request.content_type or "missing"
        return problem(
            "unsupported-media-type",
            f"a write to the admin API is application/json; Content-Type is {shown}",
        )
    limit = provider().config.max_body_bytes
    # Flask refuses a longer streamed (chunked) body with a 413 as it is read.
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        # Closed, not drained: the body is never read.
        return problem(
            "payload-too-large",
            f"the body is over the limit of {limit} bytes",
            headers={"Connection": "close"},
        )
    return None


def check_host() -> Response | None:
    """A ``before_request`` hook of the whole app: refuse a Host not on the allowlist.

    A page on another name that resolves to this machine (DNS rebinding) then
    reaches nothing.
    """
    return unknown_host(provider().config.allowed_hosts, request.host)


def unknown_host(allowed: Collection[str] | None, host: str) -> Response | None:
    """The 403 for a ``host`` not in ``allowed`` (``None``: every host is served)."""
    if allowed is None or _host_name(host) in allowed:
        return None
    return problem(
        "unknown-host",
        f"this server answers to {', '.join(allowed)}, not to the Host {host[:100]!r}",
    )


@lru_cache(maxsize=64)
def _host_name(host: str) -> str | None:
    """The name in a Host header (no port); every request asks, with few values."""
    try:
        return urlsplit("//" + host).hostname
    except ValueError:
        return None


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
