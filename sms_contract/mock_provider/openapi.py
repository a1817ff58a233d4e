"""The OpenAPI 3.1 document of the whole fake provider, served at ``/openapi.json``.

Each resource describes its own paths beside its routes (``openapi_paths`` in
``send.py`` and ``api/*.py``); this module puts them together with the shared
components. The document describes this server as configured: the send body
under the readings in force, the admin token when there is one, its limits.
"""

from __future__ import annotations

from typing import Any

from sms_contract import __version__
from sms_contract.core.readings import payload_schema
from sms_contract.mock_provider import send
from sms_contract.mock_provider.api import faults, messages, meta, verify
from sms_contract.mock_provider.api.spec import PROBLEM, VIOLATION, component
from sms_contract.mock_provider.config import ProviderConfig

ACCEPTED = {
    "type": "object",
    "required": ["id", "retId", "status", "credits"],
    "properties": {
        "id": {"type": "integer", "description": "The provider's message id (inbox entry)"},
        "retId": {"type": "string"},
        "status": {"const": "accepted"},
        "credits": {"type": "integer"},
        "duplicate": {"const": True, "description": "Present on a retry of an accepted retId"},
        "attempts": {"type": "integer", "description": "Sends of this retId so far (retries)"},
        "warnings": {"type": "array", "items": component("Violation")},
    },
}


def send_schema(config: ProviderConfig) -> dict[str, Any]:
    """The JSON Schema of a send body as this server accepts it: the shipped schema
    under the readings in force (unknown fields, the ``to`` forms...)."""
    payload = payload_schema(config.readings)
    payload.pop("$schema", None)
    return payload


def _info(config: ProviderConfig) -> dict[str, Any]:
    if config.upstream is None:
        title = "sms-contract fake SMS provider"
        description = "The fake provider's send endpoint, admin API and documents."
    else:
        title = "sms-contract validating proxy"
        description = (
            "A proxy in front of an SMS provider: each send is checked against the "
            "contract and recorded, then forwarded; the provider's answer comes back "
            "as it came. The admin API and documents are the fake provider's."
        )
    return {"title": title, "version": __version__, "description": description}


def mock_openapi(config: ProviderConfig) -> dict[str, Any]:
    """The OpenAPI document for an app built from ``config``."""
    security: list[dict[str, list[str]]] = [{"basicAuth": []}]
    if config.auth == "none":
        security.append({})
    paths: dict[str, Any] = {}
    for module in (send, messages, faults, verify, meta):
        paths.update(module.openapi_paths(config))
    return {
        "openapi": "3.1.0",
        "info": _info(config),
        "security": security,
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic"},
                "adminToken": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "SmsSend": send_schema(config),
                "Violation": VIOLATION,
                "Problem": PROBLEM,
                "Accepted": ACCEPTED,
                "Message": messages.MESSAGE,
                "UpstreamAttempt": messages.UPSTREAM_ATTEMPT,
                **faults.openapi_schemas(config),
                **verify.openapi_schemas(config),
            },
        },
    }
