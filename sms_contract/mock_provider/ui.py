"""The web UI of the fake provider: inbox, message detail, checker, spec, faults.

Server-rendered Jinja pages (autoescaped) with one small script and one style
sheet from ``static/``; nothing is fetched from elsewhere. The inbox updates
live through server-sent events from ``/api/events``, which polls SQLite's
``PRAGMA data_version`` (cheap, and it sees commits of every gunicorn worker)
and ends each stream after ``STREAM_SECONDS`` so no worker thread is held for
long; the browser then reconnects on its own.

When the provider has an admin token, the UI asks for it once on ``/login``
and keeps an HMAC of it (never the token) in an HttpOnly, SameSite=Strict
cookie. Every form POST must come from the UI's own origin.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import markdown
from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from sms_contract import __version__
from sms_contract import schema as documents
from sms_contract.mock_provider import ui_faults
from sms_contract.mock_provider.config import NAMESPACE_PATTERN
from sms_contract.mock_provider.inbox import Inbox, MessageFilter
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui_render import (
    annotate,
    findings,
    pretty,
    safe_headers,
    summary,
    text_view,
)
from sms_contract.sender.credentials import same_secret
from sms_contract.validation import check_body

blueprint = Blueprint("ui", __name__, template_folder="templates")

#: Messages per inbox page.
PAGE_SIZE = 100
#: Longest life of one event stream; the browser reconnects after it.
STREAM_SECONDS = 15.0
#: How often a stream looks at the inbox, and sends a comment when idle.
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 5.0
#: How long the browser waits before reconnecting an ended stream.
RETRY_MILLISECONDS = 500

SESSION_COOKIE = "sms_contract_ui"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_STATUSES = ("accepted", "rejected")
_FILTER_FIELDS = ("namespace", "to", "retId", "status")

ui_faults.register(blueprint)


# -- security -------------------------------------------------------------------------


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
            headers={"WWW-Authenticate": 'Bearer realm="sms-contract admin"'},
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
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    given = request.headers.get("X-Admin-Token") or (
        bearer.strip() if scheme.lower() == "bearer" else None
    )
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


# -- the inbox --------------------------------------------------------------------------


def _filters() -> tuple[dict[str, Any], list[str]]:
    """The inbox filters of the query string (empty ones dropped) and their errors."""
    values: dict[str, Any] = {}
    errors = []
    for name in _FILTER_FIELDS:
        value = request.args.get(name, "").strip()
        if not value:
            continue
        if len(value) > 200:
            errors.append(f"{name} is longer than 200 characters; ignored")
        elif name == "namespace" and not NAMESPACE_PATTERN.fullmatch(value):
            errors.append("a namespace is 1 to 64 letters, digits, '_', '.' or '-'; ignored")
        elif name == "status" and value not in _STATUSES:
            errors.append("status is accepted or rejected; ignored")
        else:
            values[name] = value
    return values, errors


def _where(filters: dict[str, Any], offset: int = 0) -> MessageFilter:
    return MessageFilter(
        namespace=filters.get("namespace"),
        to=filters.get("to"),
        ret_id=filters.get("retId"),
        status=filters.get("status"),
        limit=PAGE_SIZE,
        offset=offset,
    )


def snapshot(inbox: Inbox, where: MessageFilter) -> dict[str, Any]:
    """What the inbox page shows for ``where``: rows, counts, namespaces."""
    messages, total = inbox.find(where)
    counts = {}
    for status in (None, *_STATUSES):
        _rows, counts[status or "all"] = inbox.find(replace(where, status=status, limit=0))
    last = where.offset + len(messages)
    showing = f"Showing {where.offset + 1}–{last} of {total}" if messages else f"0 of {total}"
    return {
        "messages": [summary(message) for message in messages],
        "total": total,
        "counts": counts,
        "namespaces": inbox.namespaces(),
        "showing": showing,
    }


def _tag(data: dict[str, Any]) -> str:
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:20]


@blueprint.get("/messages")
@blueprint.get("/")
def index() -> str:
    """The messages, newest first, filtered; live when on the first page."""
    filters, errors = _filters()
    offset = min(max(0, request.args.get("offset", 0, type=int) or 0), 10**9)
    data = snapshot(provider().inbox, _where(filters, offset))
    cleared = request.args.get("cleared", type=int)
    live = offset == 0
    tabs = []
    for key, label in (("all", "All"), ("accepted", "Accepted"), ("rejected", "Rejected")):
        args = {name: value for name, value in filters.items() if name != "status"}
        if key != "all":
            args["status"] = key
        active = filters.get("status", "all") == key
        tabs.append(
            {"key": key, "label": label, "url": url_for("ui.index", **args), "active": active}
        )
    return render_template(
        "inbox.html",
        active="inbox",
        data=data,
        filters=filters,
        tabs=tabs,
        errors=errors,
        offset=offset,
        page_size=PAGE_SIZE,
        notice=None if cleared is None else f"Deleted {cleared} message(s).",
        live=live,
        events_url=url_for("ui.events", **filters, last=_tag(data)) if live else "",
        message_base=url_for("ui.message", message_id=0)[:-1],
    )


@blueprint.post("/clear")
def clear() -> BaseResponse:
    """Delete every message, or those of the namespace posted."""
    namespace = request.form.get("namespace", "").strip() or None
    if namespace is not None and not NAMESPACE_PATTERN.fullmatch(namespace):
        return redirect(url_for("ui.index"))
    deleted = provider().inbox.clear(namespace)
    args: dict[str, Any] = {"namespace": namespace} if namespace else {}
    return redirect(url_for("ui.index", cleared=deleted, **args))


@blueprint.get("/api/events")
def events() -> Response:
    """Server-sent events: an ``inbox`` event with the first page each time it changes."""
    filters, _errors = _filters()
    inbox = provider().inbox
    where = _where(filters)
    last = request.headers.get("Last-Event-ID") or request.args.get("last")
    return Response(
        _stream(inbox, where, last),
        mimetype="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


def _stream(inbox: Inbox, where: MessageFilter, last: str | None) -> Iterator[str]:
    """Send the page when the inbox changes, for ``STREAM_SECONDS`` at most."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    watcher = sqlite3.connect(inbox.path, timeout=5.0, isolation_level=None)
    try:
        started = time.monotonic()
        quiet_since = started
        seen = None
        while True:
            version = watcher.execute("PRAGMA data_version").fetchone()[0]
            if version != seen:
                seen = version
                data = snapshot(inbox, where)
                tag = _tag(data)
                if tag != last:
                    last = tag
                    quiet_since = time.monotonic()
                    yield f"id: {tag}\nevent: inbox\ndata: {json.dumps(data)}\n\n"
            now = time.monotonic()
            if now - started >= STREAM_SECONDS:
                return
            if now - quiet_since >= KEEPALIVE_SECONDS:
                quiet_since = now
                yield ": still here\n\n"
            time.sleep(POLL_SECONDS)
    finally:
        watcher.close()


# -- one message ----------------------------------------------------------------------


@blueprint.get("/messages/<int:message_id>")
def message(message_id: int) -> tuple[str, int] | str:
    """Everything recorded about one send."""
    item = provider().inbox.get(message_id)
    if item is None:
        return render_template("missing.html", message_id=message_id, active="inbox"), 404
    found = findings(item["violations"], item["warnings"])
    payload = item["payload"]
    text = payload.get("text") if isinstance(payload, dict) else None
    return render_template(
        "message.html",
        active="inbox",
        m=item,
        s=summary(item),
        annotated=annotate(payload, found) if payload is not None else None,
        found=found,
        text=text_view(text, payload) if isinstance(text, str) else None,
        response=pretty(item["response"]) if item["response"] is not None else None,
        faults=[pretty(fault) for fault in item["faults"] or []],
        headers=safe_headers(item["headers"]),
    )


# -- the payload checker ----------------------------------------------------------------

_EXAMPLE = {
    "type": "NOTIFICATION",
    "sender": "INOCX",
    "to": "+33612345678",
    "retId": "ret-42",
    "isUnicode": False,
    "text": "Votre rendez-vous est confirmé pour le 12/03 à 10:00.",
    "credits": 1,
}


@blueprint.route("/check", methods=["GET", "POST"])
def check() -> str:
    """Paste a payload, see every violation and warning and what the text costs."""
    config = provider().config
    body = request.form.get("body") if request.method == "POST" else None
    strict = bool(request.form.get("strict")) if body is not None else config.strict_fields
    context: dict[str, Any] = {"body": body if body is not None else pretty(_EXAMPLE)}
    if body is not None:
        if len(body.encode("utf-8")) > config.max_body_bytes:
            context["too_large"] = config.max_body_bytes
        else:
            verdict = check_body(body, strict_fields=strict)
            found = findings(
                [v.to_dict() for v in verdict.violations],
                [w.to_dict() for w in verdict.warnings],
            )
            payload = _object_or_none(body)
            text = payload.get("text") if payload else None
            context.update(
                checked=True,
                valid=verdict.valid,
                found=found,
                annotated=annotate(payload, found) if payload is not None else None,
                text=text_view(text, payload) if isinstance(text, str) and text else None,
            )
    return render_template("check.html", active="check", strict=strict, **context)


def _object_or_none(body: str) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


# -- the partner spec -------------------------------------------------------------------


@blueprint.get("/spec")
def spec() -> str:
    """The partner spec (``SPEC.md``) as HTML; raw HTML in the file is escaped."""
    source = documents.path(documents.SPEC_FILE)
    html = None
    if source.is_file():
        html = _markdown_html(source.read_text(encoding="utf-8"))
    return render_template("spec.html", active="spec", html=html, name=documents.SPEC_FILE)


def _markdown_html(text: str) -> str:
    converter = markdown.Markdown(extensions=["tables", "fenced_code", "toc"])
    # The spec is a shipped file, but raw HTML in it is shown as text anyway.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter.convert(text)
