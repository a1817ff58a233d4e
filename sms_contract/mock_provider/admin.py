"""The admin API (``/api``), health, metrics and the served documents."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_file

from sms_contract import __version__
from sms_contract import schema as documents
from sms_contract.mock_provider.config import NAMESPACE_PATTERN, default_wait
from sms_contract.mock_provider.inbox import MessageFilter
from sms_contract.mock_provider.openapi import mock_openapi
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.sender.credentials import same_secret

blueprint = Blueprint("admin", __name__)

MAX_LIMIT = 1000
_STATUSES = ("accepted", "rejected")
_TYPES = ("NOTIFICATION", "MARKETING")
_SERVED = {
    "sms-send.schema.json": "application/schema+json",
    "provider.openapi.yaml": "application/yaml",
    "SPEC.md": "text/markdown; charset=utf-8",
}


class QueryError(ValueError):
    """A query parameter that cannot be used; carries the violation."""

    def __init__(self, name: str, code: str, message: str) -> None:
        super().__init__(message)
        self.violation = {"pointer": f"/query/{name}", "code": code, "message": message}


@blueprint.errorhandler(QueryError)
def _bad_query(error: QueryError) -> Response:
    return problem("bad-request", str(error), violations=[error.violation])


@blueprint.before_request
def _require_admin_token() -> Response | None:
    token = provider().config.admin_token
    if token is None or not request.path.startswith("/api/"):
        return None
    given = request.headers.get("X-Admin-Token") or _bearer(request.headers.get("Authorization"))
    if given is not None and same_secret(given, token):
        return None
    return problem(
        "unauthorized",
        "the admin API needs the admin token (Authorization: Bearer TOKEN or X-Admin-Token)",
        headers={"WWW-Authenticate": 'Bearer realm="sms-contract admin"'},
    )


def _bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# -- query parameters ---------------------------------------------------------------


def _text(name: str, *, choices: tuple[str, ...] = (), max_length: int = 200) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if choices and value not in choices:
        raise QueryError(name, "enum", f"{name} must be one of {', '.join(choices)}")
    if len(value) > max_length:
        raise QueryError(name, "max_length", f"{name} must have at most {max_length} characters")
    return value


def _namespace() -> str | None:
    value = _text("namespace")
    if value is not None and not NAMESPACE_PATTERN.fullmatch(value):
        raise QueryError(
            "namespace", "pattern", "namespace is 1 to 64 letters, digits, '_', '.' or '-'"
        )
    return value


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise QueryError(name, "type", f"{name} must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise QueryError(name, "range", f"{name} must be between {low:g} and {high:g}")
    return value


def _integer(name: str, default: int, low: int, high: int) -> int:
    value = float(_number(name, default, low, high))
    if not value.is_integer():
        raise QueryError(name, "type", f"{name} must be an integer")
    return int(value)


def _since() -> float | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        return float(raw) if raw.replace(".", "", 1).isdigit() else _iso_seconds(raw)
    except ValueError:
        raise QueryError(
            "since", "format", "since must be an ISO 8601 date-time or Unix seconds"
        ) from None


def _iso_seconds(raw: str) -> float:
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment.timestamp()


def _filter() -> MessageFilter:
    return MessageFilter(
        namespace=_namespace(),
        to=_text("to"),
        ret_id=_text("retId"),
        type=_text("type", choices=_TYPES),
        status=_text("status", choices=_STATUSES),
        since=_since(),
        limit=_integer("limit", 100, 1, MAX_LIMIT),
        offset=_integer("offset", 0, 0, 10**9),
    )


# -- routes -------------------------------------------------------------------------


@blueprint.get("/api/messages")
def list_messages() -> Response:
    """Messages matching the filters, newest first, with the total count."""
    messages, total = provider().inbox.find(_filter())
    return jsonify(total=total, messages=messages)


@blueprint.delete("/api/messages")
def clear_messages() -> Response:
    """Delete all messages, or those of one namespace (and their fault attempt counts)."""
    from sms_contract.mock_provider.fault_http import store as fault_store

    namespace = _namespace()
    deleted = provider().inbox.clear(namespace)
    fault_store().forget_attempts(namespace)
    return jsonify(deleted=deleted)


@blueprint.get("/api/messages/wait")
def wait_for_message() -> Response:
    """Answer as soon as a message with ``retId`` arrives (any worker), or 404."""
    ret_id = _text("retId")
    if not ret_id:
        raise QueryError("retId", "required", "retId is required (a non-empty string)")
    state = provider()
    timeout = _number("timeout", default_wait(state.config), 0.0, state.config.max_wait)
    message = state.inbox.wait(ret_id, _namespace(), timeout)
    if message is None:
        return problem("wait-timeout", f"no message with retId {ret_id!r} within {timeout:g} s")
    return jsonify(message)


@blueprint.get("/api/messages/<int:message_id>")
def get_message(message_id: int) -> Response:
    """One message with everything recorded about it."""
    message = provider().inbox.get(message_id)
    if message is None:
        return problem("not-found", f"no message {message_id}")
    return jsonify(message)


@blueprint.get("/api/namespaces")
def list_namespaces() -> Response:
    """The namespaces that hold messages."""
    return jsonify(namespaces=provider().inbox.namespaces())


@blueprint.get("/healthz")
def health() -> Response:
    """Liveness and readiness: the inbox answers."""
    provider().inbox.counters()
    return jsonify(status="ok", version=__version__, schemaVersion=documents.schema_version())


@blueprint.get("/metrics")
def metrics() -> Response:
    """Counters in the Prometheus text format."""
    lines: list[str] = []
    for name, help_text in (
        ("received", "Sends received (that reached validation)"),
        ("accepted", "Sends accepted, retries included"),
        ("rejected", "Sends rejected"),
        ("duplicates", "Retries of an accepted retId"),
    ):
        metric = f"sms_contract_{name}_total"
        lines += [f"# HELP {metric} {help_text}.", f"# TYPE {metric} counter"]
        lines += [
            f'{metric}{{namespace="{row["namespace"]}"}} {row[name]}'
            for row in provider().inbox.counters()
        ]
    return Response("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of this whole fake provider."""
    document: dict[str, Any] = mock_openapi(provider().config)
    return jsonify(document)


@blueprint.get("/schema/<name>")
def served_document(name: str) -> Response:
    """The shipped schema, provider OpenAPI and partner spec, as files."""
    if name not in _SERVED:
        return problem("not-found", f"no document {name!r}; try {', '.join(_SERVED)}")
    return send_file(documents.path(name), mimetype=_SERVED[name])
