"""Reading the reports of ``verify`` in tests: every JSON report is checked against the
shipped schema and its own digest before a test looks at it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from sms_contract.contract_tests.reports.model import digest
from sms_contract.schema import load_report_schema

_VALIDATOR = Draft202012Validator(
    load_report_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
)


def check_report(document: dict[str, Any]) -> dict[str, Any]:
    """``document``, after asserting it follows the report schema and matches its sha256."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _VALIDATOR.iter_errors(document)]
    assert errors == [], errors
    assert digest(document) == document["sha256"], "the report does not match its digest"
    return document


def read_report(path: Path) -> dict[str, Any]:
    """The JSON report at ``path``, checked (see ``check_report``)."""
    return check_report(json.loads(path.read_text(encoding="utf-8")))


def statuses(document: dict[str, Any]) -> dict[str, str]:
    """check id -> status."""
    return {check["id"]: check["status"] for check in document["checks"]}
