"""The report as JUnit XML, for CI dashboards, formatted from the report model.

One ``testcase`` per check, named by its id, with ``level``, ``status`` and
``title`` properties. A failed MUST check is a ``<failure type="MUST">``; a
failed SHOULD check is also a ``<failure>``, with ``type="SHOULD"``, so CI
dashboards show the advice. The exit code, not the JUnit file, says whether
the endpoint conforms (only MUST failures give exit code 1). A skipped check
is ``<skipped>``; a PASS or INFO result passes, with its details in
``system-out``. The suite's properties carry the verdict, the report id and
its SHA-256.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sms_contract.contract_tests.reports.model import check_lines

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _XML_INVALID.sub("\N{REPLACEMENT CHARACTER}", text)


def to_junit(model: dict[str, Any]) -> ET.Element:
    """The report as a JUnit XML tree (see the module docstring for the mapping)."""
    checks = model["checks"]
    suites = ET.Element("testsuites", name=model["tool"]["name"])
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=_xml(f"{model['tool']['name']} {model['endpoint']['url']}"),
        tests=str(len(checks)),
        failures=str(sum(1 for c in checks if c["status"] == "fail")),
        errors="0",
        skipped=str(sum(1 for c in checks if c["status"] == "skip")),
        time=f"{sum(c['elapsedMs'] for c in checks) / 1000:.3f}",
        timestamp=model["run"]["startedAt"],
    )
    properties = ET.SubElement(suite, "properties")
    run, verdict = model["run"], model["verdict"]
    for name, value in (
        ("url", model["endpoint"]["url"]),
        ("to", model["endpoint"]["to"]),
        ("verdict", verdict["text"]),
        ("exitCode", str(verdict["exitCode"])),
        ("sends", str(run["sends"])),
        ("maxSends", str(run["maxSends"])),
        ("runId", run["id"]),
        ("reportId", model["reportId"]),
        ("sha256", model["sha256"]),
        ("toolVersion", model["tool"]["version"]),
        ("schemaVersion", model["contract"]["schemaVersion"]),
    ):
        ET.SubElement(properties, "property", name=name, value=_xml(value))
    for check in checks:
        _testcase(suite, check)
    return suites


def _testcase(suite: ET.Element, check: dict[str, Any]) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"sms_contract.verify.{check['id'].split('.')[0]}",
        name=check["id"],
        time=f"{check['elapsedMs'] / 1000:.3f}",
    )
    case_properties = ET.SubElement(case, "properties")
    for name in ("level", "status", "title"):
        ET.SubElement(case_properties, "property", name=name, value=_xml(check[name]))
    body = _xml("\n".join([*check_lines(check), f"how to fix: {check['fix']}"]))
    summary = _xml(check["summary"])
    if check["status"] == "fail":
        level = check["level"]
        failure = ET.SubElement(case, "failure", type=level, message=f"[{level}] {summary}")
        failure.text = body
    elif check["status"] == "skip":
        ET.SubElement(case, "skipped", message=summary)
    else:
        ET.SubElement(case, "system-out").text = body


def render_junit(model: dict[str, Any]) -> str:
    """The JUnit XML report, with its XML declaration."""
    tree = ET.ElementTree(to_junit(model))
    ET.indent(tree)
    buffer = io.BytesIO()
    tree.write(buffer, encoding="utf-8", xml_declaration=True)
    return buffer.getvalue().decode("utf-8")


def write_junit(model: dict[str, Any], path: Path) -> None:
    """Write the JUnit XML report to ``path``."""
    path.write_text(render_junit(model), encoding="utf-8")
