"""The UI's protections: strict headers, same-origin form posts, and the admin-token
sign-in (a random session in an HttpOnly, SameSite=Strict cookie, never the token;
signing out ends it; failed sign-ins are slowed)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from sms_contract import __version__
from sms_contract import schema as documents
from sms_contract.core.credentials import same_secret
from sms_contract.mock_provider.api.guard import (
    ADMIN_CHALLENGE,
    SESSION_COOKIE,
    same_site,
    signed_in,
)
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui.blueprint import blueprint

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@blueprint.after_app_request
def _security_headers(response: BaseResponse) -> BaseResponse:
    """UI pages and their static files: strict CSP, no sniffing, no framing."""
    if request.blueprint == "ui" or request.endpoint == "static":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.before_request
def _guard() -> BaseResponse | None:
    """Refuse cross-site form posts; ask for the admin token when one is set."""
    if request.method == "POST" and not same_site():
        return Response("cross-site request refused", status=403, mimetype="text/plain")
    if request.endpoint == "ui.login" or signed_in():
        return None
    if request.path.startswith("/api/"):
        return problem(
            "unauthorized",
            "the event stream needs the admin token (sign in to the UI first)",
            headers=ADMIN_CHALLENGE,
        )
    return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))


@blueprint.app_context_processor
def _page_context() -> dict[str, Any]:
    if request.blueprint != "ui":
        return {}
    config = provider().config
    return {
        "version": __version__,
        "schema_version": documents.schema_version(),
        "send_url": request.host_url.rstrip("/") + config.send_path,
        "send_path": config.send_path,
        "uses_token": config.admin_token is not None,
        "role": "fake SMS provider" if config.upstream is None else "validating proxy",
        "verify_enabled": config.verify_targets != "off",
    }


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int, dict[str, str]]:
    """Ask for the admin token once; keep a session in a cookie (never the token).

    After a failed sign-in the same client must wait before the next try, longer
    after each failure (``SIGN_IN_DELAYS``): an answer is 429 until then.
    """
    state = provider()
    token = state.config.admin_token
    target = _local_path(request.values.get("next"))
    if token is None:
        return redirect(target)
    client = request.remote_addr or "?"
    sign_ins = _sign_ins()
    if request.method == "POST":
        wait = sign_ins.wait(client)
        if wait > 0:
            error = f"Too many failed sign-ins: wait {wait} s before the next try."
            page = render_template("login.html", next=target, error=error, active="")
            return page, 429, {"Retry-After": str(wait)}
        given = request.form.get("token", "")
        if given and same_secret(given, token):
            sign_ins.succeeded(client)
            response = redirect(target)
            response.set_cookie(
                SESSION_COOKIE,
                state.sessions.open(token),
                httponly=True,
                samesite="Strict",
                secure=request.is_secure,
            )
            return response
        sign_ins.failed(client)
        error = "That is not the admin token."
        return render_template("login.html", next=target, error=error, active=""), 401, {}
    return render_template("login.html", next=target, error=None, active="")


@blueprint.post("/logout")
def logout() -> BaseResponse:
    """End the session: its cookie is worth nothing afterwards, even if copied."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        provider().sessions.end(cookie)
    response = redirect(url_for("ui.login"))
    response.delete_cookie(SESSION_COOKIE, samesite="Strict", secure=request.is_secure)
    return response


def _local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the inbox.

    Browsers drop tabs and line breaks from a URL and read ``\\`` as ``/``, so
    ``/\t/evil.example`` would go to another host: any control character or
    backslash refuses the target, and so does one with a scheme or a host.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(char < " " or char in "\x7f\\" for char in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("ui.index")


class _SignInThrottle:
    """Failed sign-ins per client (this process): how long until the next try."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: client -> (consecutive failures, when the next try is allowed)
        self._failures: dict[str, tuple[int, float]] = {}

    def wait(self, client: str) -> int:
        """Whole seconds the client must still wait (0: it may try now)."""
        with self._lock:
            _count, allowed_at = self._failures.get(client, (0, 0.0))
        return max(0, math.ceil(allowed_at - time.monotonic()))

    def failed(self, client: str) -> None:
        """Count a failure: the next try waits 1, 2, 4 ... up to 60 seconds."""
        with self._lock:
            if len(self._failures) >= _MAX_CLIENTS_TRACKED:
                self._failures.clear()
            count = self._failures.get(client, (0, 0.0))[0] + 1
            delay = SIGN_IN_DELAYS[min(count, len(SIGN_IN_DELAYS)) - 1]
            self._failures[client] = (count, time.monotonic() + delay)

    def succeeded(self, client: str) -> None:
        """Forget the client's failures."""
        with self._lock:
            self._failures.pop(client, None)


#: Seconds to wait after the 1st, 2nd, ... failed sign-in of a client.
SIGN_IN_DELAYS = (1, 2, 4, 8, 16, 32, 60)
_MAX_CLIENTS_TRACKED = 10_000
_SIGN_INS_EXTENSION = "sms_contract.ui.sign_ins"
_SIGN_INS_LOCK = threading.Lock()


def _sign_ins() -> _SignInThrottle:
    """The sign-in throttle of this app (made on first use)."""
    with _SIGN_INS_LOCK:
        throttle: _SignInThrottle | None = current_app.extensions.get(_SIGN_INS_EXTENSION)
        if throttle is None:
            throttle = current_app.extensions[_SIGN_INS_EXTENSION] = _SignInThrottle()
        return throttle
