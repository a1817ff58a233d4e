"""``/api/messages`` and ``/api/namespaces``: what the inbox received."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sms_contract.exceptions import QueryError
from sms_contract.mock_provider.api.guard import guard_api
from sms_contract.mock_provider.api.query import (
    MAX_TEXT,
    UNIX_SECONDS_PATTERN,
    bad_query,
    integer_arg,
    namespace_arg,
    number_arg,
    query_error,
    since_arg,
    text_arg,
)
from sms_contract.mock_provider.api.spec import (
    BAD_QUERY,
    DELETED,
    NAMESPACE_QUERY,
    admin_operation,
    component,
    json_answer,
    problem_answer,
    query,
)
from sms_contract.mock_provider.config import ProviderConfig, default_wait
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.storage.inbox import MessageFilter

blueprint = Blueprint("messages", __name__)
blueprint.before_request(guard_api)
blueprint.register_error_handler(QueryError, bad_query)

MAX_LIMIT = 1000
MAX_OFFSET = 10**9
#: The Retry-After of a wait refused because too many are open.
WAIT_RETRY_SECONDS = 1
_STATUSES = ("accepted", "rejected")
_TYPES = ("NOTIFICATION", "MARKETING")


def _filter() -> MessageFilter:
    return MessageFilter(
        namespace=namespace_arg(),
        to=text_arg("to"),
        ret_id=text_arg("retId"),
        type=text_arg("type", choices=_TYPES),
        status=text_arg("status", choices=_STATUSES),
        since=since_arg(),
        limit=integer_arg("limit", 100, 1, MAX_LIMIT),
        offset=integer_arg("offset", 0, 0, MAX_OFFSET),
    )


@blueprint.get("/api/messages")
def list_messages() -> Response:
    """Messages matching the filters, newest first, with the total count."""
    messages, total = provider().messages(_filter())
    return jsonify(total=total, messages=messages)


@blueprint.delete("/api/messages")
def clear_messages() -> Response:
    """Delete all messages, or those of one namespace, and start the fault counts again."""
    return jsonify(deleted=provider().clear(namespace_arg()))


@blueprint.get("/api/messages/wait")
def wait_for_message() -> Response:
    """Answer as soon as a message with ``retId`` arrives (any worker), or 404;
    503 when ``max_waits`` waits are open already."""
    ret_id = text_arg("retId")
    if not ret_id:
        raise query_error("retId", "required", "retId is required (a non-empty string)")
    state = provider()
    timeout = number_arg("timeout", default_wait(state.config), 0.0, state.config.max_wait)
    namespace = namespace_arg()
    with state.waits.held() as admitted:
        if not admitted:
            return problem(
                "over-capacity",
                f"{state.waits.limit} waits are open already; retry, or poll /api/messages",
                headers={"Retry-After": str(WAIT_RETRY_SECONDS)},
            )
        message = state.wait(ret_id, namespace, timeout)
    if message is None:
        return problem("wait-timeout", f"no message with retId {ret_id!r} within {timeout:g} s")
    return jsonify(message)


@blueprint.get("/api/messages/<int:message_id>")
def get_message(message_id: int) -> Response:
    """One message with everything recorded about it."""
    message = provider().message(message_id)
    if message is None:
        return problem("not-found", f"no message {message_id}")
    return jsonify(message)


@blueprint.get("/api/namespaces")
def list_namespaces() -> Response:
    """The namespaces that hold messages."""
    return jsonify(namespaces=provider().namespaces())


# -- OpenAPI --------------------------------------------------------------------------

MESSAGE = {
    "type": "object",
    "required": ["id", "namespace", "status", "httpStatus", "receivedAt", "attempts"],
    "properties": {
        "id": {"type": "integer"},
        "namespace": {"type": "string"},
        "status": {"enum": ["accepted", "rejected"]},
        "httpStatus": {"type": "integer"},
        "receivedAt": {"type": "string", "format": "date-time"},
        "lastSeenAt": {"type": "string", "format": "date-time"},
        "retId": {"type": ["string", "null"]},
        "to": {"type": ["string", "null"]},
        "type": {"type": ["string", "null"]},
        "sender": {"type": ["string", "null"]},
        "text": {"type": ["string", "null"]},
        "login": {"type": ["string", "null"]},
        "attempts": {"type": "integer"},
        "payload": {"type": ["object", "null"]},
        "body": {"type": "string", "description": "The raw body as received (UTF-8, lossy)"},
        "violations": {"type": "array", "items": component("Violation")},
        "warnings": {"type": "array", "items": component("Violation")},
        "headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Request headers; credentials and cookies are redacted",
        },
        "client": {"type": ["string", "null"]},
        "durationMs": {"type": ["number", "null"]},
        "faults": {"type": "array"},
        "response": {"type": ["object", "null"], "description": "The answer that was sent"},
        "readings": {
            "type": ["object", "null"],
            "additionalProperties": {"type": "string"},
            "description": "The readings the send was judged under",
        },
    },
}

_TEXT = {"type": "string", "maxLength": MAX_TEXT}


def openapi_paths(config: ProviderConfig) -> dict[str, Any]:
    """The OpenAPI paths of this module's routes."""
    since = {
        "anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": UNIX_SECONDS_PATTERN},
        ]
    }
    filters = [
        NAMESPACE_QUERY,
        query("to", _TEXT, "Recipient, exactly"),
        query("retId", _TEXT, "retId, exactly"),
        query("type", {"enum": list(_TYPES)}, "SMS type"),
        query("status", {"enum": list(_STATUSES)}, "Verdict"),
        query("since", since, "Received at or after: an RFC 3339 date-time, or Unix seconds"),
        query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Page size"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "Page start"),
    ]
    listing = {
        "type": "object",
        "required": ["total", "messages"],
        "properties": {
            "total": {"type": "integer"},
            "messages": {"type": "array", "items": component("Message")},
        },
    }
    wait = default_wait(config)
    wait_parameters = [
        {**query("retId", {**_TEXT, "minLength": 1}, "The retId to wait for"), "required": True},
        NAMESPACE_QUERY,
        query(
            "timeout",
            {"type": "number", "minimum": 0, "maximum": config.max_wait},
            f"Seconds to wait (default {wait:g}, at most {config.max_wait:g})",
        ),
    ]
    namespaces = {
        "type": "object",
        "required": ["namespaces"],
        "properties": {"namespaces": {"type": "array", "items": {"type": "string"}}},
    }
    message_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/api/messages": {
            "get": admin_operation(
                config,
                "messages",
                "List messages, newest first",
                {"200": json_answer(listing, "A page and the total"), "400": BAD_QUERY},
                parameters=filters,
            ),
            "delete": admin_operation(
                config,
                "messages",
                "Clear the inbox, or one namespace, and start its fault counts again",
                {"200": json_answer(DELETED, "How many were deleted"), "400": BAD_QUERY},
                parameters=[NAMESPACE_QUERY],
                writes=True,
            ),
        },
        "/api/messages/wait": {
            "get": admin_operation(
                config,
                "messages",
                "Wait for a message by retId (a long poll)",
                {
                    "200": json_answer(component("Message"), "The message, once it arrived"),
                    "400": BAD_QUERY,
                    "404": problem_answer("No such message within the timeout"),
                    "503": problem_answer(
                        f"Too many waits are open (at most {config.max_waits} per worker); "
                        "retry after Retry-After",
                        {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
                    ),
                },
                description=(
                    "A long poll: the answer comes as soon as any worker stored a message "
                    f"with this retId, or after `timeout` seconds (default {wait:g}) with a 404."
                ),
                parameters=wait_parameters,
            )
        },
        "/api/messages/{id}": {
            "get": admin_operation(
                config,
                "messages",
                "One message",
                {
                    "200": json_answer(component("Message"), "The message"),
                    "404": problem_answer("No such message"),
                },
                parameters=[message_id],
            )
        },
        "/api/namespaces": {
            "get": admin_operation(
                config,
                "messages",
                "Namespaces holding messages",
                {"200": json_answer(namespaces, "The namespaces")},
            )
        },
    }
