"""The OpenAPI 3.1 description of the whole fake provider, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from sms_contract import __version__
from sms_contract.mock_provider.config import ProviderConfig, default_wait
from sms_contract.mock_provider.namespaces import NAMESPACE_RULE, NAMESPACE_SCHEMA_PATTERN
from sms_contract.schema import load_schema

_VIOLATION = {
    "type": "object",
    "required": ["pointer", "code", "message"],
    "properties": {
        "pointer": {"type": "string", "description": "JSON pointer to the field at fault"},
        "code": {"type": "string", "description": "The stable name of the broken rule"},
        "message": {"type": "string"},
    },
}

_PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details, with every violation listed.",
    "required": ["type", "title", "status", "detail", "violations"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "violations": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}},
        "id": {"type": "integer", "description": "The inbox entry that recorded this request"},
        "retId": {"type": ["string", "null"]},
    },
}

_ACCEPTED = {
    "type": "object",
    "required": ["id", "retId", "status", "credits"],
    "properties": {
        "id": {"type": "integer", "description": "The provider's message id (inbox entry)"},
        "retId": {"type": "string"},
        "status": {"const": "accepted"},
        "credits": {"type": "integer"},
        "duplicate": {"const": True, "description": "Present on a retry of an accepted retId"},
        "attempts": {"type": "integer", "description": "Sends of this retId so far (retries)"},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}},
    },
}

_MESSAGE = {
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
        "violations": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}},
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Violation"}},
        "headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Request headers; Authorization is redacted",
        },
        "client": {"type": ["string", "null"]},
        "durationMs": {"type": ["number", "null"]},
        "faults": {"type": "array"},
        "response": {"type": ["object", "null"], "description": "The answer that was sent"},
    },
}


def _json(schema_ref: str, description: str, headers: dict[str, Any] | None = None) -> Any:
    media = "application/problem+json" if schema_ref == "Problem" else "application/json"
    response: dict[str, Any] = {
        "description": description,
        "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _problem(description: str, headers: dict[str, Any] | None = None) -> Any:
    return _json("Problem", description, headers)


_UNAUTHORIZED = _problem(
    "Missing or wrong credentials",
    {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
)


_CROSS_SITE = _problem("A state-changing request from another site (Origin, Sec-Fetch-Site)")
#: What a write to the admin API may be refused with before its body is read.
_WRITE_REFUSALS = {
    "403": _CROSS_SITE,
    "413": _problem("The body is over the size limit"),
    "415": _problem("The Content-Type is not application/json"),
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _send_operations(tag: str, extra_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    connection_ok = {
        "description": "Test connection: the credentials are good",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    post_responses: dict[str, Any] = {
        "200": _json("Accepted", "Accepted, or a retry of an accepted retId"),
        "400": _problem("The body is not a readable JSON object"),
        "401": _UNAUTHORIZED,
        "408": _problem("The body stalled for longer than the read timeout"),
        "409": _problem("The retId was already accepted with a different body"),
        "413": _problem("The body is over the size limit"),
        "415": _problem("The Content-Type is not application/json"),
        "422": _problem("The payload breaks the contract; every violation is listed"),
    }
    get_responses: dict[str, Any] = {"200": connection_ok, "401": _UNAUTHORIZED}
    if extra_parameters:
        bad_namespace = _problem(f"The namespace breaks the rule: {NAMESPACE_RULE}")
        post_responses["404"] = get_responses["404"] = bad_namespace
    return {
        "parameters": extra_parameters,
        "post": {
            "tags": [tag],
            "summary": "Send one SMS",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SmsSend"}}
                },
            },
            "responses": post_responses,
        },
        "get": {
            "tags": [tag],
            "summary": "Test connection (an authenticated request without an SMS)",
            "responses": get_responses,
        },
    }


def _with_faults(operations: dict[str, Any]) -> dict[str, Any]:
    """The send operations, with the answers a fault rule may give (docs/faults.md)."""
    retry = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
    injected = _problem("An injected fault (a fault rule or a magic recipient)", retry)
    operations["post"]["responses"].update({"4XX": injected, "5XX": injected})
    return operations


def _fault_schemas() -> dict[str, Any]:
    """The JSON Schemas of a fault rule, for the components."""
    from sms_contract.mock_provider.faults.rules import fault_rule_schemas

    return fault_rule_schemas("#/components/schemas/{model}")


def _fault_paths(admin_security: list[dict[str, list[str]]]) -> dict[str, Any]:
    """The ``/api/faults`` routes (docs/faults.md)."""
    rule_ref = {"$ref": "#/components/schemas/FaultRule"}
    rules = {
        "type": "object",
        "required": ["faults"],
        "properties": {"faults": {"type": "array", "items": rule_ref}},
    }
    deleted = {
        "type": "object",
        "required": ["deleted"],
        "properties": {"deleted": {"type": "integer"}},
    }
    rule_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    scope = _query(
        "namespace", {"type": "string", "pattern": NAMESPACE_SCHEMA_PATTERN}, "Rules of a namespace"
    )

    def ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    def operation(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
        found = {**responses, "401": _UNAUTHORIZED}
        head = {"tags": ["faults"], "summary": summary, "security": admin_security}
        return {**head, **extra, "responses": found}

    return {
        "/api/faults": {
            "get": operation(
                "The fault rules, in the order they are tried",
                {"200": ok("The rules", rules), "400": _problem("A query parameter is invalid")},
                parameters=[scope],
            ),
            "post": operation(
                "Add a fault rule after the others",
                {
                    "201": ok("The rule with its id", rule_ref),
                    "400": _problem("The body is not a JSON object"),
                    "409": _problem("A rule with this id exists"),
                    "422": _problem("The rule is invalid; each field at fault is named"),
                    **_WRITE_REFUSALS,
                },
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": rule_ref}},
                },
            ),
            "delete": operation(
                "Delete every rule, or those scoped to a namespace",
                {
                    "200": ok("How many", deleted),
                    "400": _problem("A query parameter is invalid"),
                    "403": _CROSS_SITE,
                },
                parameters=[scope],
            ),
        },
        "/api/faults/magic": {
            "get": operation(
                "The built-in rules of the magic recipients",
                {
                    "200": ok(
                        "The rules",
                        {
                            "type": "object",
                            "required": ["magic"],
                            "properties": {"magic": {"type": "array", "items": rule_ref}},
                        },
                    )
                },
            )
        },
        "/api/faults/{id}": {
            "parameters": [rule_id],
            "get": operation(
                "One rule (magic ones included)",
                {"200": ok("The rule", rule_ref), "404": _problem("No such rule")},
            ),
            "delete": operation(
                "Delete one rule",
                {
                    "204": {"description": "Deleted"},
                    "403": _problem("A magic rule cannot be deleted, or a cross-site request"),
                    "404": _problem("No such rule"),
                },
            ),
        },
    }


def mock_openapi(config: ProviderConfig) -> dict[str, Any]:
    """The OpenAPI document for an app built from ``config``."""
    payload = load_schema()
    for key in ("$schema", "$id"):
        payload.pop(key)
    namespace = {
        "name": "namespace",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": NAMESPACE_SCHEMA_PATTERN},
        "description": "Isolates the messages of one test run from the others",
    }
    filters = [
        _query("namespace", {"type": "string", "pattern": NAMESPACE_SCHEMA_PATTERN}, "Namespace"),
        _query("to", {"type": "string"}, "Recipient, exactly"),
        _query("retId", {"type": "string"}, "retId, exactly"),
        _query("type", {"enum": ["NOTIFICATION", "MARKETING"]}, "SMS type"),
        _query("status", {"enum": ["accepted", "rejected"]}, "Verdict"),
        _query("since", {"type": "string"}, "ISO 8601 date-time with zone, or Unix seconds"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size"),
        _query("offset", {"type": "integer", "minimum": 0}, "Page start"),
    ]
    security: list[dict[str, list[str]]] = [{"basicAuth": []}]
    if config.auth == "none":
        security.append({})
    admin_security: list[dict[str, list[str]]] = [{"adminToken": []}] if config.admin_token else []
    bad_query = _problem("A query parameter is invalid")
    message_list = {
        "type": "object",
        "required": ["total", "messages"],
        "properties": {
            "total": {"type": "integer"},
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sms-contract fake SMS provider",
            "version": __version__,
            "description": "The fake provider's send endpoint, admin API and documents.",
        },
        "security": security,
        "paths": {
            config.send_path: _with_faults(_send_operations("send", [])),
            f"/ns/{{namespace}}{config.send_path}": _with_faults(
                _send_operations("send", [namespace])
            ),
            "/api/messages": {
                "get": {
                    "tags": ["admin"],
                    "summary": "List messages, newest first",
                    "security": admin_security,
                    "parameters": filters,
                    "responses": {
                        "200": {
                            "description": "The page of messages and the total",
                            "content": {"application/json": {"schema": message_list}},
                        },
                        "400": bad_query,
                        "401": _UNAUTHORIZED,
                    },
                },
                "delete": {
                    "tags": ["admin"],
                    "summary": "Clear the inbox, or one namespace",
                    "security": admin_security,
                    "parameters": [filters[0]],
                    "responses": {
                        "200": {
                            "description": "How many messages were deleted",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["deleted"],
                                        "properties": {"deleted": {"type": "integer"}},
                                    }
                                }
                            },
                        },
                        "400": bad_query,
                        "401": _UNAUTHORIZED,
                        "403": _CROSS_SITE,
                    },
                },
            },
            "/api/messages/wait": {
                "get": {
                    "tags": ["admin"],
                    "summary": "Wait for a message by retId",
                    "security": admin_security,
                    "parameters": [
                        {
                            **_query("retId", {"type": "string", "minLength": 1}, "retId"),
                            "required": True,
                        },
                        filters[0],
                        _query(
                            "timeout",
                            {"type": "number", "minimum": 0, "maximum": config.max_wait},
                            f"Seconds to wait (default {default_wait(config):g})",
                        ),
                    ],
                    "responses": {
                        "200": _json("Message", "The message, as soon as it arrived"),
                        "400": bad_query,
                        "401": _UNAUTHORIZED,
                        "404": _problem("No such message within the timeout"),
                        "503": _problem(
                            "Too many waits are open (max_waits); retry after Retry-After",
                            {"Retry-After": {"schema": {"type": "integer"}}},
                        ),
                    },
                }
            },
            "/api/messages/{id}": {
                "get": {
                    "tags": ["admin"],
                    "summary": "One message",
                    "security": admin_security,
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {
                        "200": _json("Message", "The message"),
                        "401": _UNAUTHORIZED,
                        "404": _problem("No such message"),
                    },
                }
            },
            "/api/namespaces": {
                "get": {
                    "tags": ["admin"],
                    "summary": "Namespaces holding messages",
                    "security": admin_security,
                    "responses": {
                        "200": {
                            "description": "The namespaces",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["namespaces"],
                                        "properties": {
                                            "namespaces": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "401": _UNAUTHORIZED,
                    },
                }
            },
            **_fault_paths(admin_security),
            "/healthz": {
                "get": {
                    "tags": ["operations"],
                    "summary": "Health",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Healthy",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/metrics": {
                "get": {
                    "tags": ["operations"],
                    "summary": "Prometheus metrics",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Counters",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "adminToken": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "SmsSend": payload,
                "Violation": _VIOLATION,
                "Problem": _PROBLEM,
                "Accepted": _ACCEPTED,
                "Message": _MESSAGE,
                **_fault_schemas(),
            },
        },
    }
