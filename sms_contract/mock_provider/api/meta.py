"""Health, metrics and the served documents (OpenAPI, schema, spec)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, send_file

from sms_contract import __version__
from sms_contract import schema as documents
from sms_contract.mock_provider.api.spec import json_answer, problem_answer
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider

blueprint = Blueprint("meta", __name__)

#: Where the app keeps its OpenAPI document (``app.extensions``).
OPENAPI_EXTENSION = "sms_contract.openapi"

_SERVED = {
    "sms-send.schema.json": "application/schema+json",
    "provider.openapi.yaml": "application/yaml",
    "SPEC.md": "text/markdown; charset=utf-8",
}


@blueprint.get("/healthz")
def health() -> Response:
    """Liveness and readiness: the inbox answers."""
    state = provider()
    state.counters()
    return jsonify(
        status="ok",
        version=__version__,
        schemaVersion=documents.schema_version(),
        readings=state.config.readings.to_dict(),
    )


@blueprint.get("/metrics")
def metrics() -> Response:
    """Counters in the Prometheus text format."""
    lines: list[str] = []
    counters = provider().counters()
    for name, help_text in (
        ("received", "Sends received (that reached validation)"),
        ("accepted", "Sends accepted, retries included"),
        ("rejected", "Sends rejected"),
        ("duplicates", "Retries of an accepted retId"),
    ):
        metric = f"sms_contract_{name}_total"
        lines += [f"# HELP {metric} {help_text}.", f"# TYPE {metric} counter"]
        lines += [f'{metric}{{namespace="{row["namespace"]}"}} {row[name]}' for row in counters]
    return Response("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of this whole fake provider (built with the app)."""
    document: dict[str, Any] = current_app.extensions[OPENAPI_EXTENSION]
    return jsonify(document)


@blueprint.get("/schema/<name>")
def served_document(name: str) -> Response:
    """The shipped schema, provider OpenAPI and partner spec, as files."""
    if name not in _SERVED:
        return problem("not-found", f"no document {name!r}; try {', '.join(_SERVED)}")
    return send_file(documents.path(name), mimetype=_SERVED[name])


# -- OpenAPI --------------------------------------------------------------------------


def openapi_paths(_config: ProviderConfig) -> dict[str, Any]:
    """The OpenAPI paths of this module's routes."""

    def public(summary: str, answers: dict[str, Any]) -> dict[str, Any]:
        return {
            "get": {
                "tags": ["operations"],
                "summary": summary,
                "security": [],
                "responses": answers,
            }
        }

    health = {
        "type": "object",
        "required": ["status", "version", "schemaVersion", "readings"],
        "properties": {
            "status": {"const": "ok"},
            "version": {"type": "string"},
            "schemaVersion": {"type": "string"},
            "readings": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "The readings of the contract in force",
            },
        },
    }
    text = {"text/plain": {"schema": {"type": "string"}}}
    name = {"name": "name", "in": "path", "required": True, "schema": {"enum": list(_SERVED)}}
    served = {
        "200": {
            "description": "The document",
            "content": {media: {"schema": {}} for media in sorted(set(_SERVED.values()))},
        },
        "404": problem_answer("No such document"),
    }
    return {
        "/healthz": public("Health: the inbox answers", {"200": json_answer(health, "Healthy")}),
        "/metrics": public(
            "Counters in the Prometheus text format",
            {"200": {"description": "Counters", "content": text}},
        ),
        "/openapi.json": public(
            "This document", {"200": json_answer({"type": "object"}, "The OpenAPI document")}
        ),
        "/schema/{name}": {
            "parameters": [name],
            **public("The shipped JSON Schema, provider OpenAPI and partner spec", served),
        },
    }
