"""``/api/faults``: list, add and delete fault rules (docs/faults.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.routing import BaseConverter

from sms_contract.core.validation import parse_object
from sms_contract.exceptions import (
    BodyError,
    DuplicateRuleId,
    MagicRuleProtected,
    QueryError,
    RuleError,
)
from sms_contract.mock_provider.api.guard import guard_api
from sms_contract.mock_provider.api.query import bad_query, namespace_arg
from sms_contract.mock_provider.api.spec import (
    BAD_QUERY,
    DELETED,
    JSON,
    NAMESPACE_QUERY,
    admin_operation,
    component,
    json_answer,
    problem_answer,
)
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.faults.magic import MAGIC
from sms_contract.mock_provider.faults.rules import fault_rule_schemas
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider

blueprint = Blueprint("faults", __name__)
blueprint.before_request(guard_api)
blueprint.register_error_handler(QueryError, bad_query)


@blueprint.get("/api/faults")
def list_faults() -> Response:
    """The fault rules in the order they are tried (``namespace`` filters)."""
    rules = provider().fault_rules(namespace_arg())
    return jsonify(faults=[rule.to_json() for rule in rules])


@blueprint.get("/api/faults/magic")
def list_magic() -> Response:
    """The built-in rules of the magic recipients."""
    return jsonify(magic=[rule.to_json() for rule in MAGIC])


@blueprint.post("/api/faults")
def add_fault() -> Response:
    """Add one rule after the others; 201 with the rule and its id."""
    try:
        rule = provider().add_fault(parse_object(request.get_data()))
    except BodyError as error:
        return problem("malformed-body", error.violation.message, violations=[error.violation])
    except RuleError as error:
        return refused_rule(error)
    except DuplicateRuleId as error:
        return problem("fault-rule-conflict", str(error))
    response = jsonify(rule.to_json())
    response.status_code = 201
    response.headers["Location"] = f"/api/faults/{rule.id}"
    return response


def refused_rule(error: RuleError) -> Response:
    """The 422 answer naming every field of a refused rule."""
    return problem("invalid-fault-rule", error.violations[0].message, violations=error.violations)


@blueprint.get("/api/faults/<rule_id:rule_id>")
def get_fault(rule_id: str) -> Response:
    """One rule, built-in ones included."""
    rule = provider().fault_rule(rule_id)
    if rule is None:
        return problem("not-found", f"no fault rule {rule_id!r}")
    return jsonify(rule.to_json())


@blueprint.delete("/api/faults/<rule_id:rule_id>")
def delete_fault(rule_id: str) -> Response:
    """Delete one rule (204); the magic rules cannot be deleted."""
    try:
        removed = provider().remove_fault(rule_id)
    except MagicRuleProtected as error:
        return problem("forbidden", str(error))
    if not removed:
        return problem("not-found", f"no fault rule {rule_id!r}")
    return Response(status=204)


@blueprint.delete("/api/faults")
def clear_faults() -> Response:
    """Delete every rule, or those scoped to ``namespace``."""
    return jsonify(deleted=provider().clear_faults(namespace_arg()))


# -- OpenAPI --------------------------------------------------------------------------


def openapi_paths(config: ProviderConfig) -> dict[str, Any]:
    """The OpenAPI paths of this module's routes."""
    rule, stored = component("FaultRule"), component("StoredFaultRule")
    rules = {
        "type": "object",
        "required": ["faults"],
        "properties": {"faults": {"type": "array", "items": stored}},
    }
    magic = {
        "type": "object",
        "required": ["magic"],
        "properties": {"magic": {"type": "array", "items": stored}},
    }
    rule_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    body = {"required": True, "content": {JSON: {"schema": rule}}}
    return {
        "/api/faults": {
            "get": admin_operation(
                config,
                "faults",
                "The fault rules, in the order they are tried",
                {"200": json_answer(rules, "The rules"), "400": BAD_QUERY},
                parameters=[NAMESPACE_QUERY],
            ),
            "post": admin_operation(
                config,
                "faults",
                "Add a fault rule after the others",
                {
                    "201": json_answer(stored, "The rule with its id"),
                    "400": problem_answer("The body is not a JSON object"),
                    "409": problem_answer("A rule with this id exists"),
                    "422": problem_answer("The rule is invalid; each field at fault is named"),
                },
                requestBody=body,
                writes=True,
            ),
            "delete": admin_operation(
                config,
                "faults",
                "Delete every rule, or those scoped to a namespace",
                {"200": json_answer(DELETED, "How many"), "400": BAD_QUERY},
                parameters=[NAMESPACE_QUERY],
                writes=True,
            ),
        },
        "/api/faults/magic": {
            "get": admin_operation(
                config,
                "faults",
                "The built-in rules of the magic recipients",
                {"200": json_answer(magic, "The rules")},
            )
        },
        "/api/faults/{id}": {
            "parameters": [rule_id],
            "get": admin_operation(
                config,
                "faults",
                "One rule (magic ones included)",
                {"200": json_answer(stored, "The rule"), "404": problem_answer("No such rule")},
            ),
            "delete": admin_operation(
                config,
                "faults",
                "Delete one rule",
                {
                    "204": {"description": "Deleted"},
                    "403": problem_answer(
                        "A magic rule cannot be deleted, or a cross-site request"
                    ),
                    "404": problem_answer("No such rule"),
                },
                writes=True,
            ),
        },
    }


def openapi_schemas(config: ProviderConfig) -> dict[str, Any]:
    """The component schemas of a fault rule on this server (its time limit)."""
    return fault_rule_schemas("#/components/schemas/{model}", config.fault_max_seconds)


class RuleIdConverter(BaseConverter):
    """A rule id in a path, never ``magic`` alone (``/api/faults/magic`` lists the
    built-in rules), so each path has exactly the methods the document gives it."""

    regex = r"(?!magic(?![^/]))[^/]+"
