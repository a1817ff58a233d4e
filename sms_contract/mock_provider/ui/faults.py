"""The fault-injection page of the web UI: a thin client of ``/api/faults``.

It only uses the admin API's documented shape, through an in-process WSGI
call (so the API's own checks and token apply):

- ``GET /api/faults`` -> ``{"faults": [{"id": ..., ...rule}]}``
- ``POST /api/faults`` (a JSON rule) -> 201
- ``DELETE /api/faults/<id>``
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui.blueprint import blueprint
from sms_contract.mock_provider.ui.render import pretty

FAULTS_API = "/api/faults"


def _call(method: str, path: str, rule: Any = None) -> tuple[int, Any]:
    """Call the admin API in-process; return the status and the JSON answer."""
    token = provider().config.admin_token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if rule is not None:
        kwargs["json"] = rule
    answer = current_app.test_client().open(path, method=method, **kwargs)
    return answer.status_code, answer.get_json(silent=True)


@blueprint.route("/faults", methods=["GET", "POST"], endpoint="faults")
def faults_page() -> BaseResponse | str:
    """List the rules; a POST adds the rule pasted in the form."""
    error: str | None = None
    problems: list[dict[str, Any]] = []
    rule_text = request.form.get("rule", "")
    if request.method == "POST":
        try:
            rule = json.loads(rule_text)
        except ValueError as exc:
            error = f"The rule is not JSON: {exc}"
        else:
            status, answer = _call("POST", FAULTS_API, rule)
            if status in (200, 201):
                return redirect(url_for("ui.faults"))
            error, problems = _refusal(status, answer)
    status, answer = _call("GET", FAULTS_API)
    rules = answer.get("faults", []) if isinstance(answer, dict) and status == 200 else []
    if status != 200:
        error, problems = _refusal(status, answer)
    listed = [
        (str(item.get("id", "")), pretty({k: v for k, v in item.items() if k != "id"}))
        for item in rules
        if isinstance(item, dict)
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
    _call("DELETE", f"{FAULTS_API}/{quote(fault_id, safe='')}")
    return redirect(url_for("ui.faults"))


def _refusal(status: int, answer: Any) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(answer, dict):
        detail = str(answer.get("detail") or answer.get("title") or f"HTTP {status}")
        violations = [v for v in answer.get("violations") or [] if isinstance(v, dict)]
        return f"The faults API refused ({status}): {detail}", violations
    return f"The faults API answered HTTP {status}.", []
