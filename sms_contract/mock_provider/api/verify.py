"""``/api/verify/runs``: start the checker against an endpoint, follow it, get its report.

The verify page's script is a client of these routes, so a UI sign-in counts as
the admin token here (``guard_api_for_ui``). Registered unless the server runs
with ``verify_targets="off"``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from sms_contract.contract_tests.reports import RENDERERS
from sms_contract.core.findings import Violation
from sms_contract.core.validation import parse_object
from sms_contract.exceptions import (
    BodyError,
    InvalidRunInput,
    QueryError,
    TargetRefused,
    TlsFailure,
    Unreachable,
    VerifyBusy,
)
from sms_contract.mock_provider.api.guard import guard_api_for_ui
from sms_contract.mock_provider.api.query import bad_query, integer_arg
from sms_contract.mock_provider.api.spec import (
    JSON,
    admin_operation,
    component,
    json_answer,
    problem_answer,
    query,
)
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.verify_runs import MAX_CA, MAX_SECRET, MAX_SENDS, MAX_URL

blueprint = Blueprint("verify", __name__)
blueprint.before_request(guard_api_for_ui)
blueprint.register_error_handler(QueryError, bad_query)

MAX_LIMIT = 1000
MAX_OFFSET = 10**6
#: Report format in the download's name -> (the report's format, its media type).
DOWNLOADS = {
    "html": ("html", "text/html; charset=utf-8"),
    "json": ("json", "application/json"),
    "xml": ("junit", "application/xml"),
    "md": ("markdown", "text/markdown; charset=utf-8"),
}
#: The HTML report's own policy: its inline style, nothing else (no script runs).
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def run_links(run_id: str) -> dict[str, str]:
    """Where a run is shown, read and downloaded."""
    api = f"/api/verify/runs/{run_id}"
    return {
        "page": f"/verify/runs/{run_id}",
        "self": api,
        **{extension: f"{api}/report.{extension}" for extension in DOWNLOADS},
    }


def client_address() -> str:
    """The address a run is counted against (the peer: no forwarding header is trusted)."""
    return request.remote_addr or "unknown"


def refused_run(error: Exception) -> Response:
    """The answer to a run that could not start (a problem+json 4xx)."""
    if isinstance(error, InvalidRunInput):
        violation = Violation(f"/{error.field}", error.code, error.message)
        return problem("invalid-verify-run", error.message, violations=[violation])
    if isinstance(error, VerifyBusy):
        return problem("verify-busy", str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, TargetRefused):
        return problem("target-refused", str(error))
    if isinstance(error, Unreachable):
        return problem("target-unreachable", str(error))
    if isinstance(error, TlsFailure):
        return problem("target-tls", str(error))
    raise error


@blueprint.post("/api/verify/runs")
def start_run() -> Response:
    """Start a run; 202 with its id once the endpoint was reached."""
    try:
        data = parse_object(request.get_data())
    except BodyError as error:
        return problem("malformed-body", error.violation.message, violations=[error.violation])
    try:
        run_id = provider().start_verify_run(data, client_address())
    except (InvalidRunInput, VerifyBusy, Unreachable, TlsFailure) as error:
        return refused_run(error)
    response = jsonify(id=run_id, status="running", links=run_links(run_id))
    response.status_code = 202
    response.headers["Location"] = f"/api/verify/runs/{run_id}"
    return response


@blueprint.get("/api/verify/runs")
def list_runs() -> Response:
    """The runs this client may see, newest first."""
    limit = integer_arg("limit", 100, 1, MAX_LIMIT)
    offset = integer_arg("offset", 0, 0, MAX_OFFSET)
    runs, total = provider().list_verify_runs(client_address(), limit, offset)
    return jsonify(total=total, runs=[{**run, "links": run_links(run["id"])} for run in runs])


@blueprint.get("/api/verify/runs/<run_id>")
def get_run(run_id: str) -> Response:
    """One run: its status, the checks finished so far (from ``from``), the report when done."""
    run = provider().verify_run(run_id, integer_arg("from", 0, 0, MAX_OFFSET))
    if run is None:
        return problem("not-found", f"no verify run {run_id!r}")
    return jsonify({**run, "links": run_links(run_id)})


@blueprint.get("/api/verify/runs/<run_id>/report.<any(html, json, xml, md):extension>")
def get_report(run_id: str, extension: str) -> Response:
    """The report of a finished run, in one format, as a download."""
    run = provider().verify_run(run_id)
    if run is None:
        return problem("not-found", f"no verify run {run_id!r}")
    if run["report"] is None:
        return problem("report-not-ready", f"the run is {run['status']}: it has no report")
    kind, media_type = DOWNLOADS[extension]
    response = Response(RENDERERS[kind](run["report"]), content_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="verify-{run_id}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    if extension == "html":
        response.headers["Content-Security-Policy"] = REPORT_POLICY
    return response


# -- OpenAPI --------------------------------------------------------------------------

_SELECTORS = {
    "type": "array",
    "maxItems": 64,
    "items": {"type": "string", "maxLength": 200},
    "description": "Check ids or prefixes (payload, tls, auth.required); an item may list "
    "several, comma-separated",
}

RUN_REQUEST = {
    "type": "object",
    "required": ["url", "to"],
    "additionalProperties": False,
    "properties": {
        "url": {
            "type": "string",
            "maxLength": MAX_URL,
            "description": "The endpoint, https:// (http:// only to a loopback host, with "
            "allowHttp, and never with credentials); no credentials in it",
        },
        "to": {
            "type": "string",
            "maxLength": 32,
            "description": "Your number in E.164 (+33612345678): every SMS of the run goes to it",
        },
        "longTo": {
            "type": "string",
            "maxLength": 32,
            "description": "A second number of yours, 15 digits, for payload.e164-15-digits",
        },
        "login": {
            "type": "string",
            "maxLength": 256,
            "description": "The login (letters, digits and _ + . @ -)",
        },
        "password": {
            "type": "string",
            "maxLength": MAX_SECRET,
            "description": "The password, with login: used for the run, never stored or shown",
        },
        "cacert": {
            "type": "string",
            "maxLength": MAX_CA,
            "description": "The CA certificate(s) to trust for the endpoint, PEM text",
        },
        "only": _SELECTORS,
        "skip": _SELECTORS,
        "maxSends": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_SENDS,
            "description": f"Most POSTs (possible SMS) of the run (default {MAX_SENDS})",
        },
        "allowHttp": {
            "type": "boolean",
            "description": "Allow an http:// URL to a loopback host (a local test server)",
        },
    },
}

_CHECK = {
    "type": "object",
    "required": ["id", "level", "title", "status", "summary", "fix"],
    "description": "One check, as the report holds it (sms-contract schema --report)",
    "properties": {
        "id": {"type": "string"},
        "level": {"enum": ["MUST", "SHOULD", "INFO"]},
        "title": {"type": "string"},
        "status": {"enum": ["pass", "fail", "info", "skip"]},
        "summary": {"type": "string"},
        "fix": {"type": "string"},
    },
}
_LINKS = {"type": "object", "additionalProperties": {"type": "string"}}
_SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"},
    "status": {
        "enum": ["running", "done", "interrupted"],
        "description": "interrupted: the server stopped or the run failed; see reason",
    },
    "startedAt": {"type": "string", "format": "date-time"},
    "finishedAt": {"type": ["string", "null"], "format": "date-time"},
    "request": {
        "type": "object",
        "description": "The request, without the password; cacert says whether a CA was given",
    },
    "total": {"type": "integer", "description": "Checks selected"},
    "done": {"type": "integer", "description": "Checks finished so far"},
    "verdict": {
        "type": ["object", "null"],
        "description": "When done: outcome (pass, fail, unreachable), text, exitCode",
    },
    "reason": {"type": ["string", "null"], "description": "Why the run was interrupted"},
    "links": _LINKS,
}
_RUN_SUMMARY = {
    "type": "object",
    "required": ["id", "status", "startedAt", "total", "done", "links"],
    "properties": _SUMMARY_PROPERTIES,
}
RUN = {
    "type": "object",
    "required": ["id", "status", "startedAt", "total", "done", "checks", "report", "links"],
    "properties": {
        **_SUMMARY_PROPERTIES,
        "checksFrom": {"type": "integer"},
        "checks": {
            "type": "array",
            "items": _CHECK,
            "description": "The checks finished so far, from position checksFrom",
        },
        "report": {
            "type": ["object", "null"],
            "description": "When done: the report (sms-contract schema --report)",
        },
    },
}


def openapi_paths(config: ProviderConfig) -> dict[str, Any]:
    """The OpenAPI paths of this module's routes (none when the page is off)."""
    if config.verify_targets == "off":
        return {}
    mode = (
        "public addresses only (no loopback, private, link-local, multicast or reserved "
        "address), checked on every connection"
        if config.verify_targets == "public"
        else "any address"
    )
    started = {
        "type": "object",
        "required": ["id", "status", "links"],
        "properties": {"id": {"type": "string"}, "status": {"const": "running"}, "links": _LINKS},
    }
    listing = {
        "type": "object",
        "required": ["total", "runs"],
        "properties": {
            "total": {"type": "integer"},
            "runs": {"type": "array", "items": component("VerifyRunSummary")},
        },
    }
    run_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    retry = {"Retry-After": {"schema": {"type": "integer"}, "required": True}}
    paths: dict[str, Any] = {
        "/api/verify/runs": {
            "post": admin_operation(
                config,
                "verify",
                "Start a verify run against an endpoint",
                {
                    "202": json_answer(started, "Started: the endpoint was reached"),
                    "400": problem_answer("The body is not a JSON object"),
                    "422": problem_answer(
                        "The request is invalid (each field named, the messages of "
                        "sms-contract verify), the endpoint's address is refused, it cannot "
                        "be reached, or its TLS cannot be used"
                    ),
                    "429": problem_answer(
                        f"This client's run is under way, or {config.verify_max_runs} runs "
                        "are (the server's limit); retry after Retry-After",
                        retry,
                    ),
                },
                description=(
                    "Checks the request, reaches the endpoint (TCP, TLS) and answers 202, "
                    "then runs the checks in the background; follow it with "
                    f"`GET /api/verify/runs/{{id}}`. This server reaches {mode}. One run at a "
                    "time per client address. The password is used for the run only: never "
                    "stored, logged or shown."
                ),
                requestBody={
                    "required": True,
                    "content": {JSON: {"schema": component("VerifyRunRequest")}},
                },
                writes=True,
            ),
            "get": admin_operation(
                config,
                "verify",
                "The verify runs, newest first",
                {
                    "200": json_answer(listing, "A page and the total"),
                    "400": problem_answer("A query parameter is invalid"),
                },
                description=(
                    "Every run when an admin token guards the server; without one, the runs "
                    "of the requesting client address only."
                ),
                parameters=[
                    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Size"),
                    query(
                        "offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "Start"
                    ),
                ],
            ),
        },
        "/api/verify/runs/{id}": {
            "parameters": [run_id],
            "get": admin_operation(
                config,
                "verify",
                "A verify run: status, the checks finished so far, the report when done",
                {
                    "200": json_answer(component("VerifyRun"), "The run"),
                    "400": problem_answer("A query parameter is invalid"),
                    "404": problem_answer("No such run"),
                },
                parameters=[
                    query(
                        "from",
                        {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                        "List the checks from this position on (those already seen are left out)",
                    )
                ],
            ),
        },
    }
    for extension, (kind, media_type) in DOWNLOADS.items():
        paths[f"/api/verify/runs/{{id}}/report.{extension}"] = {
            "parameters": [run_id],
            "get": admin_operation(
                config,
                "verify",
                f"The report of a finished run as {kind} (the file sms-contract verify writes)",
                {
                    "200": {
                        "description": "The report, as an attachment",
                        "content": {media_type.split(";")[0]: {"schema": {"type": "string"}}},
                    },
                    "404": problem_answer("No such run"),
                    "409": problem_answer("The run is not done: no report"),
                },
            ),
        }
    return paths


def openapi_schemas(config: ProviderConfig) -> dict[str, Any]:
    """The component schemas of a verify run (none when the page is off)."""
    if config.verify_targets == "off":
        return {}
    return {"VerifyRunRequest": RUN_REQUEST, "VerifyRun": RUN, "VerifyRunSummary": _RUN_SUMMARY}
