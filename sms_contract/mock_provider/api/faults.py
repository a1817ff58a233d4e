"""``/api/faults``: list, add and delete fault rules (docs/faults.md)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

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
from sms_contract.mock_provider.faults.magic import MAGIC
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


@blueprint.get("/api/faults/<rule_id>")
def get_fault(rule_id: str) -> Response:
    """One rule, built-in ones included."""
    rule = provider().fault_rule(rule_id)
    if rule is None:
        return problem("not-found", f"no fault rule {rule_id!r}")
    return jsonify(rule.to_json())


@blueprint.delete("/api/faults/<rule_id>")
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
