"""The verify page (``/verify``): run the checker against an endpoint from a browser.

The page's script (``static/verify.js``) is a client of ``/api/verify/runs``: it
posts the form as JSON, then opens the run's page, which follows the run by
polling ``GET /api/verify/runs/{id}`` (one line per finished check) and reloads
once it is done to show the report and its downloads. Without a script the form
posts here and the same service operation starts the run. Each run has a stable
page, ``/verify/runs/{id}``; ``/verify/runs`` lists them. None of it exists when
the server runs with ``verify_targets="off"``. The password is never echoed.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from sms_contract.contract_tests.catalogue import Level
from sms_contract.exceptions import InvalidRunInput, TlsFailure, Unreachable, VerifyBusy
from sms_contract.mock_provider.api.verify import DOWNLOADS, client_address, run_links
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui.blueprint import blueprint
from sms_contract.mock_provider.verify_runs import MAX_SENDS

#: The form's text fields, as the API names them (the password is never sent back).
TEXT_FIELDS = ("url", "to", "longTo", "login", "cacert", "only", "skip", "maxSends")
#: Runs listed on ``/verify/runs``.
LISTED_RUNS = 100
_DOWNLOAD_LABELS = {"html": "HTML", "json": "JSON", "xml": "JUnit XML", "md": "Markdown"}
_LEVELS = [level.value for level in Level]
_STATUSES = ("pass", "fail", "info", "skip")


def _require_enabled() -> None:
    if provider().config.verify_targets == "off":
        abort(404)


def form_request(form: MultiDict[str, str]) -> dict[str, Any]:
    """The API's JSON request from the form's fields, as the page's script builds it:
    empty fields left out, ``only`` and ``skip`` split at commas and spaces."""
    data: dict[str, Any] = {}
    for name in ("url", "to", "longTo", "login"):
        value = form.get(name, "").strip()
        if value:
            data[name] = value
    for name in ("password", "cacert"):
        if form.get(name):
            data[name] = form[name]
    for name in ("only", "skip"):
        items = [item for item in re.split(r"[\s,]+", form.get(name, "")) if item]
        if items:
            data[name] = items
    sends = form.get("maxSends", "").strip()
    if sends:
        data["maxSends"] = int(sends) if sends.isdecimal() and len(sends) < 10 else sends
    if form.get("allowHttp"):
        data["allowHttp"] = True
    return data


def refusal_text(error: Exception) -> str:
    """What the page says about a run that could not start (the API's ``detail``)."""
    return error.message if isinstance(error, InvalidRunInput) else str(error)


@blueprint.route("/verify", methods=["GET", "POST"], endpoint="verify")
def verify_page() -> BaseResponse | str | tuple[str, int, dict[str, str]]:
    """The form; a POST (the page without its script) starts the run and opens its page."""
    _require_enabled()
    state = provider()
    values: dict[str, str] = {"maxSends": str(MAX_SENDS)}
    if request.method == "POST":
        values = {name: request.form.get(name, "") for name in TEXT_FIELDS}
        values["allowHttp"] = "1" if request.form.get("allowHttp") else ""
        try:
            run_id = state.start_verify_run(form_request(request.form), client_address())
        except (InvalidRunInput, VerifyBusy, Unreachable, TlsFailure) as error:
            status = 429 if isinstance(error, VerifyBusy) else 422
            headers = (
                {"Retry-After": str(error.retry_after)} if isinstance(error, VerifyBusy) else {}
            )
            page = _form(values, error=refusal_text(error))
            return page, status, headers
        return redirect(url_for("ui.verify_run", run_id=run_id), code=303)
    return _form(values)


def _form(values: dict[str, str], error: str | None = None) -> str:
    config = provider().config
    return render_template(
        "verify.html",
        active="verify",
        values=values,
        error=error,
        targets=config.verify_targets,
        max_runs=config.verify_max_runs,
        max_sends=MAX_SENDS,
    )


@blueprint.get("/verify/runs", endpoint="verify_runs")
def runs_page() -> str:
    """The runs this browser may see, newest first, each with its page."""
    _require_enabled()
    runs, total = provider().list_verify_runs(client_address(), LISTED_RUNS)
    return render_template(
        "verify_runs.html",
        active="verify",
        runs=runs,
        total=total,
        every_client=provider().config.admin_token is not None,
    )


@blueprint.get("/verify/runs/<run_id>", endpoint="verify_run")
def run_page(run_id: str) -> str | tuple[str, int]:
    """One run: live while it runs, the report with its downloads once done."""
    _require_enabled()
    run = provider().verify_run(run_id)
    if run is None:
        return render_template("verify_missing.html", run_id=run_id, active="verify"), 404
    report = run["report"]
    links = run_links(run_id)
    return render_template(
        "verify_run.html",
        active="verify",
        run=run,
        report=report,
        summary=_summary(report) if report else None,
        downloads=[(_DOWNLOAD_LABELS[extension], links[extension]) for extension in DOWNLOADS],
        api_url=links["self"],
    )


def _summary(report: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """Per level, how many checks passed, failed, were INFO or skipped."""
    counts = report["summary"]
    return [(level, [counts[level][status] for status in _STATUSES]) for level in _LEVELS]
