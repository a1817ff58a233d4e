"""The send URL: ``POST`` one SMS, ``GET``/``HEAD`` to test the connection.

A thin front over the send pipeline (``pipeline.py``), which lists the steps
and the status each one can answer with.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request

from sms_contract.mock_provider.api.spec import (
    JSON,
    NAMESPACE_SCHEMA,
    UNAUTHORIZED,
    component,
    json_answer,
    problem_answer,
)
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.namespaces import DEFAULT_NAMESPACE, NAMESPACE_RULE
from sms_contract.mock_provider.pipeline import handle_send
from sms_contract.mock_provider.state import provider, upstream_client


def register(app: Flask, send_path: str) -> None:
    """Add the send endpoint at ``send_path`` and ``/ns/<namespace><send_path>``."""
    methods = ["POST", "GET", "HEAD"]
    app.add_url_rule(send_path, "send", receive, methods=methods)
    app.add_url_rule(f"/ns/<namespace>{send_path}", "send_ns", receive, methods=methods)


def receive(namespace: str = DEFAULT_NAMESPACE) -> Response:
    """POST one SMS; GET or HEAD is the test connection."""
    # The request itself, not its context-local proxy: the pipeline reads it often.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    return handle_send(provider(), req, namespace, upstream_client())


# -- OpenAPI --------------------------------------------------------------------------


def openapi_paths(config: ProviderConfig) -> dict[str, Any]:
    """The send URL, plain and per namespace, with every answer the pipeline gives."""
    namespace = {
        "name": "namespace",
        "in": "path",
        "required": True,
        "schema": NAMESPACE_SCHEMA,
        "description": "Keeps the messages of one test run apart from the others",
    }
    proxy = config.upstream is not None
    return {
        config.send_path: _send_operations([], proxy),
        f"/ns/{{namespace}}{config.send_path}": _send_operations([namespace], proxy),
    }


#: Any media type, any body: what an upstream may answer.
ANY_CONTENT: dict[str, Any] = {"*/*": {"schema": {}}}


def _proxied(answers: dict[str, Any]) -> dict[str, Any]:
    """A proxy's answers: its own (as ``serve``'s, and 502/504 when the upstream
    gives none), or the upstream's answer with any status, passed on as is."""
    proxied = {
        status: {
            "description": f"{answer['description']}; or the upstream's own answer with "
            "this status, passed on as it came",
            "content": {**answer["content"], **ANY_CONTENT},
        }
        for status, answer in answers.items()
    }
    upstream_failed = problem_answer(
        "The upstream could not be reached, refused the TLS handshake, dropped the "
        "connection or answered over 1 MiB (the problem's cause names which)"
    )
    upstream_timeout = problem_answer("The upstream did not answer within the timeout")
    return {
        **proxied,
        "502": {**upstream_failed, "content": {**upstream_failed["content"], **ANY_CONTENT}},
        "504": {**upstream_timeout, "content": {**upstream_timeout["content"], **ANY_CONTENT}},
        "default": {
            "description": "The upstream's answer, passed on as it came",
            "content": ANY_CONTENT,
        },
    }


def _send_operations(parameters: list[dict[str, Any]], proxy: bool) -> dict[str, Any]:
    retry_after = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
    injected = problem_answer("An injected fault (a fault rule or a magic recipient)", retry_after)
    post_answers: dict[str, Any] = {
        "200": json_answer(component("Accepted"), "Accepted, or a retry of an accepted retId"),
        "400": problem_answer("The body is not a readable JSON object"),
        "401": UNAUTHORIZED,
        "408": problem_answer("The body stalled for longer than the read timeout"),
        "409": problem_answer("The retId was already accepted with a different body"),
        "413": problem_answer("The body is over the size limit"),
        "415": problem_answer("The Content-Type is not application/json"),
        "422": problem_answer(
            "The payload breaks the contract; every violation is listed. Beyond the "
            "schema, isUnicode and credits must match the text (SPEC.md)."
        ),
        "4XX": injected,
        "5XX": injected,
    }
    get_answers: dict[str, Any] = {
        "200": json_answer({"type": "object"}, "Test connection: the credentials are good"),
        "401": UNAUTHORIZED,
    }
    if parameters:
        bad_namespace = problem_answer(f"The namespace breaks the rule: {NAMESPACE_RULE}")
        post_answers["404"] = get_answers["404"] = bad_namespace
    if proxy:
        post_answers, get_answers = _proxied(post_answers), _proxied(get_answers)
    body = {"required": True, "content": {JSON: {"schema": component("SmsSend")}}}
    return {
        "parameters": parameters,
        "post": {
            "tags": ["send"],
            "summary": "Send one SMS",
            "requestBody": body,
            "responses": post_answers,
        },
        "get": {
            "tags": ["send"],
            "summary": "Test connection (an authenticated request without an SMS)",
            "responses": get_answers,
        },
    }
