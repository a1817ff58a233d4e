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

from sms_contract.contract_tests.reports.html import write_html
from sms_contract.contract_tests.reports.junit import write_junit
from sms_contract.contract_tests.reports.markdown import write_markdown
from sms_contract.contract_tests.reports.model import build, write_json

#: Report format (the option's name) -> its writer.
WRITERS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "json": write_json,
    "junit": write_junit,
    "html": write_html,
    "markdown": write_markdown,
}

__all__ = ["WRITERS", "build"]
