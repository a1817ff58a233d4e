"""Building blocks of the OpenAPI document: the shared component schemas and the
shapes of answers, parameters and operations that every resource uses.

Each resource module describes its own paths with these (``openapi_paths``);
``mock_provider/openapi.py`` puts the document together.
"""

from __future__ import annotations

from typing import Any

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.namespaces import NAMESPACE_RULE, NAMESPACE_SCHEMA_PATTERN

VIOLATION = {
    "type": "object",
    "required": ["pointer", "code", "message"],
    "properties": {
        "pointer": {"type": "string", "description": "JSON pointer to the field at fault"},
        "code": {"type": "string", "description": "The stable name of the broken rule"},
        "message": {"type": "string"},
    },
}

PROBLEM = {
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

#: The ``namespace`` rule as a parameter schema.
NAMESPACE_SCHEMA = {
    "type": "string",
    "pattern": NAMESPACE_SCHEMA_PATTERN,
    "description": NAMESPACE_RULE,
}

JSON = "application/json"

#: The answer of a delete: how many were deleted.
DELETED = {
    "type": "object",
    "required": ["deleted"],
    "properties": {"deleted": {"type": "integer"}},
}


def json_answer(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON answer with ``schema``."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def component(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def problem_answer(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A problem+json answer."""
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": component("Problem")}},
    }
    if headers:
        answer["headers"] = headers
    return answer


UNAUTHORIZED = problem_answer(
    "Missing or wrong credentials",
    {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
)
BAD_QUERY = problem_answer("A query parameter is invalid; the violation names it and the rule")


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


NAMESPACE_QUERY = query("namespace", NAMESPACE_SCHEMA, "Only this namespace")


def admin_security(config: ProviderConfig) -> list[dict[str, list[str]]]:
    """The security of the admin API: the admin token when one is set."""
    return [{"adminToken": []}] if config.admin_token else []


CROSS_SITE = problem_answer("A state-changing request from another site (Origin, Sec-Fetch-Site)")
#: What a write with a body may be refused with before the body is read.
BODY_REFUSALS = {
    "413": problem_answer("The body is over the size limit"),
    "415": problem_answer("The Content-Type is not application/json"),
}


def admin_operation(
    config: ProviderConfig,
    tag: str,
    summary: str,
    responses: dict[str, Any],
    *,
    writes: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """An admin API operation: guarded by the admin token when there is one (401);
    one that ``writes`` is refused from another site (403) and, with a body, when
    the body is too large or not JSON (413, 415)."""
    found = {**responses, "401": UNAUTHORIZED} if config.admin_token else dict(responses)
    if writes:
        found.setdefault("403", CROSS_SITE)
        if "requestBody" in extra:
            found.update(BODY_REFUSALS)
    return {"tags": [tag], "summary": summary, "security": admin_security(config), **extra} | {
        "responses": found
    }
