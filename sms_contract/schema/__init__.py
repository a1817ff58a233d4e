"""The shipped contract documents: JSON Schema, OpenAPI, partner spec and examples,
and the JSON Schema of the reports ``sms-contract verify --json`` writes.

The files are package data, so an installed wheel finds them outside the repo.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

SCHEMA_FILE = "sms-send.schema.json"
OPENAPI_FILE = "provider.openapi.yaml"
SPEC_FILE = "SPEC.md"
REPORT_SCHEMA_FILE = "verify-report.schema.json"


def path(name: str) -> Path:
    """The filesystem path of a shipped document (``SCHEMA_FILE``, ``SPEC_FILE``...)."""
    return Path(str(resources.files(__name__).joinpath(name)))


def read_text(name: str) -> str:
    """The text of a shipped document."""
    return path(name).read_text(encoding="utf-8")


@cache
def _load_schema() -> str:
    return read_text(SCHEMA_FILE)


def load_schema() -> dict[str, Any]:
    """The payload JSON Schema (a fresh copy the caller may change)."""
    result: dict[str, Any] = json.loads(_load_schema())
    return result


def load_openapi() -> dict[str, Any]:
    """The provider OpenAPI document, self-contained: the ``$ref`` to the payload
    schema file is replaced by the schema itself, for tools that cannot follow it."""
    document: dict[str, Any] = yaml.safe_load(read_text(OPENAPI_FILE))
    payload = load_schema()
    for key in ("$schema", "$id"):
        payload.pop(key)
    return _inline(document, {"$ref": SCHEMA_FILE}, payload)


def _inline(node: Any, ref: dict[str, str], replacement: dict[str, Any]) -> Any:
    if node == ref:
        return replacement
    if isinstance(node, dict):
        return {key: _inline(value, ref, replacement) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, ref, replacement) for value in node]
    return node


def schema_version() -> str:
    """The version of the payload schema, e.g. ``1.0.0``."""
    return str(load_schema()["version"])


def load_report_schema() -> dict[str, Any]:
    """The JSON Schema of ``verify`` reports."""
    result: dict[str, Any] = json.loads(read_text(REPORT_SCHEMA_FILE))
    return result


def report_schema_version() -> str:
    """The version of the ``verify`` report format, e.g. ``1.0.0``."""
    return str(load_report_schema()["version"])


def examples(kind: str) -> dict[str, Any]:
    """The shipped examples, ``kind`` being ``valid`` or ``invalid``, by file stem."""
    folder = path("examples") / kind
    return {
        item.stem: json.loads(item.read_text(encoding="utf-8"))
        for item in sorted(folder.glob("*.json"))
    }
