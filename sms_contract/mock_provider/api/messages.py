"""``/api/messages`` and ``/api/namespaces``: what the inbox received."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from sms_contract.exceptions import QueryError
from sms_contract.mock_provider.api.guard import guard_api
from sms_contract.mock_provider.api.query import (
    bad_query,
    integer_arg,
    namespace_arg,
    number_arg,
    query_error,
    since_arg,
    text_arg,
)
from sms_contract.mock_provider.config import default_wait
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.storage.inbox import MessageFilter

blueprint = Blueprint("messages", __name__)
blueprint.before_request(guard_api)
blueprint.register_error_handler(QueryError, bad_query)

MAX_LIMIT = 1000
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
        offset=integer_arg("offset", 0, 0, 10**9),
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
