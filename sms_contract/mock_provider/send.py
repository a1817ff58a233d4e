"""The send URL: ``POST`` one SMS, ``GET``/``HEAD`` to test the connection.

A thin front over the send pipeline (``pipeline.py``), which lists the steps
and the status each one can answer with. The front is WSGI middleware in front
of the Flask app rather than a Flask view: the send URL is the load a platform
test puts on the fake provider, and Flask's per-request machinery (contexts,
URL map, hooks, signals) cost more than the whole contract check. What the app
does for every request is done here too: the Host allowlist first, a 405 with
``Allow`` for another method, the 500 problem for a failure nobody foresaw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request

from sms_contract.mock_provider.answer import Answer
from sms_contract.mock_provider.api.guard import unknown_host
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
from sms_contract.mock_provider.problems import unexpected_error
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.upstream import UpstreamClient

#: A WSGI application.
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: The methods of the send URL; ``OPTIONS`` lists them.
METHODS = ("GET", "HEAD", "OPTIONS", "POST")
_ALLOW = ", ".join(METHODS)
#: Where the namespace sits in ``/ns/<namespace><send path>``.
_NS_PREFIX = "/ns/"


class SendRoute:
    """WSGI middleware: the send URL, plain and per namespace, answered by the
    pipeline; every other path passed on to ``app`` (the Flask app's ``wsgi_app``)."""

    def __init__(
        self, app: WsgiApp, state: ProviderState, upstream: UpstreamClient | None = None
    ) -> None:
        self.app = app
        self.state = state
        self.upstream = upstream
        self._path = state.config.send_path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        namespace = self.namespace_of(environ.get("PATH_INFO", ""))
        if namespace is None:
            return self.app(environ, start_response)
        req = Request(environ)
        try:
            answer = self.answer(req, namespace)
        except Exception as error:  # the app's own answer to a failure: logged, a 500
            answer = Answer.of(unexpected_error(error))
        return answer(environ, start_response)

    def namespace_of(self, path: str) -> str | None:
        """The namespace ``path`` sends to, or ``None`` when it is not the send URL.
        (The namespace is checked by the pipeline: a bad one is a 404 problem.)"""
        if path == self._path:
            return DEFAULT_NAMESPACE
        if not (path.startswith(_NS_PREFIX) and path.endswith(self._path)):
            return None
        namespace = path[len(_NS_PREFIX) : len(path) - len(self._path)]
        if not namespace or "/" in namespace:
            return None
        # WSGI gives the path's bytes as Latin-1; the URL means UTF-8.
        return namespace.encode("latin-1").decode("utf-8", "replace")

    def answer(self, req: Request, namespace: str) -> Answer:
        """The answer to a request on the send URL."""
        refused = unknown_host(self.state.config.allowed_hosts, req.host)
        if refused is not None:
            return Answer.of(refused)
        if req.method == "OPTIONS":
            return Answer("200 OK", (("Allow", _ALLOW),))
        if req.method not in METHODS:
            detail = "The method is not allowed for the requested URL."
            return Answer.problem("method-not-allowed", detail, headers={"Allow": _ALLOW})
        return handle_send(self.state, req, namespace, self.upstream)


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
