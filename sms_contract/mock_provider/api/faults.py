"""``/api/faults``: list, add and delete fault rules (docs/faults.md)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from sms_contract.core.validation import BodyError, parse_object
from sms_contract.mock_provider.api.guard import guard_api
from sms_contract.mock_provider.api.query import QueryError, bad_query, namespace_arg
from sms_contract.mock_provider.faults.magic import MAGIC
from sms_contract.mock_provider.faults.rules import RuleError, parse_rules
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.storage.faults import DuplicateRuleId, FaultStore

blueprint = Blueprint("faults", __name__)
blueprint.before_request(guard_api)
blueprint.register_error_handler(QueryError, bad_query)


def store() -> FaultStore:
    """The fault store of the app handling the current request."""
    return provider().faults


@blueprint.get("/api/faults")
def list_faults() -> Response:
    """The fault rules in the order they are tried (``namespace`` filters)."""
    namespace = namespace_arg()
    rules = [r for r in store().rules() if namespace is None or r.namespace == namespace]
    return jsonify(faults=[rule.to_json() for rule in rules])


@blueprint.get("/api/faults/magic")
def list_magic() -> Response:
    """The built-in rules of the magic recipients."""
    return jsonify(magic=[rule.to_json() for rule in MAGIC])


@blueprint.post("/api/faults")
def add_fault() -> Response:
    """Add one rule after the others; 201 with the rule and its id."""
    faults = store()
    try:
        data = parse_object(request.get_data())
    except BodyError as error:
        return problem(
            "malformed-body", error.violation.message, violations=[error.violation.to_dict()]
        )
    try:
        (rule,) = parse_rules([data], max_seconds=faults.max_seconds)
        rule = faults.add(rule)
    except RuleError as error:
        violations = [{**v, "pointer": v["pointer"].removeprefix("/0")} for v in error.violations]
        return problem("invalid-fault-rule", violations[0]["message"], violations=violations)
    except DuplicateRuleId as error:
        return problem("fault-rule-conflict", str(error))
    response = jsonify(rule.to_json())
    response.status_code = 201
    response.headers["Location"] = f"/api/faults/{rule.id}"
    return response


@blueprint.get("/api/faults/<rule_id>")
def get_fault(rule_id: str) -> Response:
    """One rule, built-in ones included."""
    for rule in (*store().rules(), *MAGIC):
        if rule.id == rule_id:
            return jsonify(rule.to_json())
    return problem("not-found", f"no fault rule {rule_id!r}")


@blueprint.delete("/api/faults/<rule_id>")
def delete_fault(rule_id: str) -> Response:
    """Delete one rule (204); the magic rules cannot be deleted."""
    if any(rule.id == rule_id for rule in MAGIC):
        return problem("forbidden", f"{rule_id!r} is a built-in magic rule; it cannot be deleted")
    if not store().remove(rule_id):
        return problem("not-found", f"no fault rule {rule_id!r}")
    return Response(status=204)


@blueprint.delete("/api/faults")
def clear_faults() -> Response:
    """Delete every rule, or those scoped to ``namespace``."""
    return jsonify(deleted=store().clear(namespace_arg()))
