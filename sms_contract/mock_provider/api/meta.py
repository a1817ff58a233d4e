"""Health, metrics and the served documents (OpenAPI, schema, spec)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, send_file

from sms_contract import __version__
from sms_contract import schema as documents
from sms_contract.mock_provider.openapi import mock_openapi
from sms_contract.mock_provider.problems import problem
from sms_contract.mock_provider.state import provider

blueprint = Blueprint("meta", __name__)

_SERVED = {
    "sms-send.schema.json": "application/schema+json",
    "provider.openapi.yaml": "application/yaml",
    "SPEC.md": "text/markdown; charset=utf-8",
}


@blueprint.get("/healthz")
def health() -> Response:
    """Liveness and readiness: the inbox answers."""
    provider().counters()
    return jsonify(status="ok", version=__version__, schemaVersion=documents.schema_version())


@blueprint.get("/metrics")
def metrics() -> Response:
    """Counters in the Prometheus text format."""
    lines: list[str] = []
    for name, help_text in (
        ("received", "Sends received (that reached validation)"),
        ("accepted", "Sends accepted, retries included"),
        ("rejected", "Sends rejected"),
        ("duplicates", "Retries of an accepted retId"),
    ):
        metric = f"sms_contract_{name}_total"
        lines += [f"# HELP {metric} {help_text}.", f"# TYPE {metric} counter"]
        lines += [
            f'{metric}{{namespace="{row["namespace"]}"}} {row[name]}'
            for row in provider().counters()
        ]
    return Response("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of this whole fake provider."""
    document: dict[str, Any] = mock_openapi(provider().config)
    return jsonify(document)


@blueprint.get("/schema/<name>")
def served_document(name: str) -> Response:
    """The shipped schema, provider OpenAPI and partner spec, as files."""
    if name not in _SERVED:
        return problem("not-found", f"no document {name!r}; try {', '.join(_SERVED)}")
    return send_file(documents.path(name), mimetype=_SERVED[name])
