"""The fault-injection page of the web UI: list, add and remove fault rules.

It calls the same service operations as ``/api/faults``, so a rule added here
is validated and stored exactly as the API does it.
"""

from __future__ import annotations

import contextlib
import json

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from sms_contract.core.findings import Violation
from sms_contract.exceptions import DuplicateRuleId, MagicRuleProtected, RuleError
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui.blueprint import blueprint
from sms_contract.mock_provider.ui.render import pretty


@blueprint.route("/faults", methods=["GET", "POST"], endpoint="faults")
def faults_page() -> BaseResponse | str:
    """List the rules; a POST adds the rule pasted in the form."""
    error: str | None = None
    problems: list[Violation] = []
    rule_text = request.form.get("rule", "")
    if request.method == "POST":
        try:
            provider().add_fault(json.loads(rule_text))
        except ValueError as exc:
            error, problems = _refusal(exc)
        else:
            return redirect(url_for("ui.faults"))
    listed = [
        (str(rule.id), pretty({k: v for k, v in rule.to_json().items() if k != "id"}))
        for rule in provider().fault_rules()
    ]
    return render_template(
        "faults.html",
        active="faults",
        rules=listed,
        rule_text=rule_text,
        error=error,
        problems=problems,
    )


@blueprint.post("/faults/<fault_id>/delete")
def delete_fault(fault_id: str) -> BaseResponse:
    """Remove one rule, then show the list again (which tells what is left)."""
    # The list shows user rules only: a magic id comes from a hand-made request.
    with contextlib.suppress(MagicRuleProtected):
        provider().remove_fault(fault_id)
    return redirect(url_for("ui.faults"))


def _refusal(error: ValueError) -> tuple[str, list[Violation]]:
    """What the page says about a rule it could not add."""
    if isinstance(error, RuleError):
        return f"The rule was refused (422): {error.violations[0].message}", error.violations
    if isinstance(error, DuplicateRuleId):
        return f"The rule was refused (409): {error}", []
    return f"The rule is not JSON: {error}", []
