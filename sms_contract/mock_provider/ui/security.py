"""The UI's protections: strict headers, same-origin form posts, and the admin-token
sign-in (an HMAC of the token in an HttpOnly, SameSite=Strict cookie, never the token)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from sms_contract import __version__
from sms_contract import schema as documents
from sms_contract.core.credentials import same_secret
from sms_contract.mock_provider.api.guard import ADMIN_CHALLENGE, given_admin_token
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui.blueprint import blueprint

SESSION_COOKIE = "sms_contract_ui"
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
    if request.method == "POST" and not _same_origin():
        return Response("cross-site request refused", status=403, mimetype="text/plain")
    if request.endpoint == "ui.login" or _signed_in():
        return None
    if request.path.startswith("/api/"):
        return problem(
            "unauthorized",
            "the event stream needs the admin token (sign in to the UI first)",
            headers=ADMIN_CHALLENGE,
        )
    return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))


def _same_origin() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _session_value(token: str) -> str:
    """What the session cookie holds: an HMAC of the token, never the token."""
    return hmac.new(token.encode("utf-8"), b"sms-contract ui session", hashlib.sha256).hexdigest()


def _signed_in() -> bool:
    token = provider().config.admin_token
    if token is None:
        return True
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is not None and same_secret(cookie, _session_value(token)):
        return True
    given = given_admin_token()
    return bool(given) and same_secret(str(given), token)


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
    }


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str:
    """Ask for the admin token once; keep a proof of it in a cookie."""
    token = provider().config.admin_token
    target = _local_path(request.values.get("next"))
    if token is None:
        return redirect(target)
    error = None
    if request.method == "POST":
        given = request.form.get("token", "")
        if given and same_secret(given, token):
            response = redirect(target)
            response.set_cookie(
                SESSION_COOKIE,
                _session_value(token),
                httponly=True,
                samesite="Strict",
                secure=request.is_secure,
            )
            return response
        error = "That is not the admin token."
    return render_template("login.html", next=target, error=error, active="")


@blueprint.post("/logout")
def logout() -> BaseResponse:
    """Forget the session cookie."""
    response = redirect(url_for("ui.login"))
    response.delete_cookie(SESSION_COOKIE, samesite="Strict", secure=request.is_secure)
    return response


def _local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the inbox."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("ui.index")
