"""The reports of a ``verify`` run, every one formatted from one model (``model.build``).

``--json`` writes the model itself (versioned: ``verify-report.schema.json``),
``--junit`` JUnit XML, ``--html`` one self-contained HTML page, ``--markdown``
a summary for CI job pages; the terminal shows a table. All carry the same
checks, statuses and verdict, and the report id and SHA-256 of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sms_contract.contract_tests.reports.html import render_html, write_html
from sms_contract.contract_tests.reports.junit import render_junit, write_junit
from sms_contract.contract_tests.reports.markdown import render_markdown, write_markdown
from sms_contract.contract_tests.reports.model import build, check_entry, render_json, write_json

#: Report format (the option's name) -> its writer.
WRITERS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "json": write_json,
    "junit": write_junit,
    "html": write_html,
    "markdown": write_markdown,
}

#: Report format -> the text its writer writes (the same bytes, for a download).
RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "json": render_json,
    "junit": render_junit,
    "html": render_html,
    "markdown": render_markdown,
}

__all__ = ["RENDERERS", "WRITERS", "build", "check_entry"]
